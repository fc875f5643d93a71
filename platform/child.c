/* The first task's set-up between fork and filter, the same for every backend
 * (see child.h). Only async-signal-safe calls: the supervisor may have threads
 * (the audit writer) whose locks a forked child must not touch. */
#include "platform/child.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/macro.h"
#include "platform/layers.h"
#include "platform/mountns.h"
#include "platform/netns.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

/* Closes every fd >= 3 except those in keep[] (sorted ascending). */
static void close_all_except(const int *keep, size_t n)
{
	unsigned from = 3;

	for (size_t i = 0; i < n; i++) {
		if ((unsigned)keep[i] < from)
			continue;
		if ((unsigned)keep[i] > from)
			syscall(SYS_close_range, from, (unsigned)keep[i] - 1, 0);
		from = (unsigned)keep[i] + 1;
	}
	syscall(SYS_close_range, from, ~0U, 0);
}

int jh_child_fork(jh_child_main_fn fn, const struct jh_spawn_spec *spec,
		  const struct sock_fprog *prog, struct jh_child *ret)
{
	_cleanup_close_ int sync_r = -1, sync_w = -1, ack_r = -1, ack_w = -1, err_r = -1, err_w = -1;
	pid_t parent = getpid(), pid;
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) < 0)
		return jh_negerrno();
	sync_r = fds[0], sync_w = fds[1];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return jh_negerrno();
	ack_r = fds[0], ack_w = fds[1];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return jh_negerrno();
	err_r = fds[0], err_w = fds[1];
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return jh_negerrno();

	pid = fork();
	if (pid < 0)
		return jh_negerrno();
	if (pid == 0)
		fn(spec, prog, parent, sync_w, ack_r, err_w);
	*ret = (struct jh_child){
		.pid = pid,
		.sync_r = TAKE_FD(sync_r),
		.ack_w = TAKE_FD(ack_w),
		.err_r = TAKE_FD(err_r),
	};
	return 0;
}

int jh_child_report(int sync_r, unsigned *ret_layers)
{
	int msg[2] = {-1, 0};
	ssize_t n = JH_RETRY_EINTR(read(sync_r, msg, sizeof(msg)));

	if (n != sizeof(int) && n != sizeof(msg))
		return -ECHILD; /* died before it was set up */
	if (msg[0] < 0)
		return msg[0]; /* the child's -errno */
	if (n != sizeof(msg))
		return -EPROTO;
	*ret_layers = (unsigned)msg[1];
	return msg[0];
}

/* Set by platform/limits.c for a run with its own cgroup v2; -1 otherwise. */
static int child_cgroup_fd = -1;

void jh_child_set_cgroup(int procs_fd)
{
	child_cgroup_fd = procs_fd;
}

int jh_child_prepare(const struct jh_spawn_spec *spec, pid_t parent, int *keep, size_t nkeep,
		     unsigned *ret_layers)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	int kept[8];
	size_t nkept = 0;
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* Into the run's cgroup first: before a cgroup namespace hides it and
	 * before the ids change ("0" moves the writer). Fail closed: a limit
	 * asked for must hold. */
	if (child_cgroup_fd >= 0 && write(child_cgroup_fd, "0", 1) != 1)
		return jh_negerrno();
	if (setsid() < 0)
		return jh_negerrno();
	/* Backstops first: a user namespace needs the caller's ids, before any drop. */
	*ret_layers = jh_layers_enter(spec->layers, spec->hostname);
	/* The network namespace, when asked for, is not a silent fallback: the
	 * sentry's policy treats 127.0.0.1 as the sandbox's own loopback, which
	 * holds only inside it. Inside the user namespace (its owner may make
	 * one), before the mounts (a fresh /proc or /sys would show it). */
	if (spec->layers & JH_LAYER_NETNS) {
		int r = jh_netns_enter();

		if (r < 0)
			return r;
		*ret_layers |= JH_LAYER_NETNS;
	}
	/* The view as a mount namespace: inside the user namespace (its mounts
	 * need it when not root), before the cwd, which is a path in it. */
	if (spec->mountns) {
		enum jh_mountns_proc proc;
		int r = jh_mountns_enter(spec->mountns, &proc);

		if (r < 0)
			return r;
		*ret_layers |= JH_LAYER_MOUNTNS;
	}

	/* the backend's pipes and the Landlock ruleset survive; insertion sort:
	 * at most a handful of fds */
	if (nkeep > JH_ARRAY_SIZE(kept) - 1)
		return -E2BIG;
	for (size_t i = 0; i < nkeep; i++)
		kept[nkept++] = keep[i];
	if (spec->landlock)
		kept[nkept++] = spec->landlock_fd;
	for (size_t i = 1; i < nkept; i++)
		for (size_t j = i; j > 0 && kept[j] < kept[j - 1]; j--) {
			int x = kept[j];
			kept[j] = kept[j - 1];
			kept[j - 1] = x;
		}
	close_all_except(kept, nkept);

	for (size_t i = 0; i < spec->nrlimits; i++) {
		struct rlimit rl = {.rlim_cur = spec->rlimits[i].cur, .rlim_max = spec->rlimits[i].max};
		if (setrlimit(spec->rlimits[i].resource, &rl) < 0)
			return jh_negerrno();
		/* Past a file size limit a write fails with EFBIG instead of the
		 * task dying of SIGXFSZ (the disposition survives exec). */
		if (spec->rlimits[i].resource == RLIMIT_FSIZE)
			sigaction(SIGXFSZ, &(struct sigaction){.sa_handler = SIG_IGN}, NULL);
	}
	if (spec->cwd && chdir(spec->cwd) < 0)
		return jh_negerrno();
	if (spec->drop_ids) {
		if (setgroups(0, NULL) < 0 || setresgid(spec->gid, spec->gid, spec->gid) < 0 ||
		    setresuid(spec->uid, spec->uid, spec->uid) < 0)
			return jh_negerrno();
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return jh_negerrno();
	if (getppid() != parent)
		return -ESRCH;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return jh_negerrno();
	/* After NO_NEW_PRIVS, which Landlock requires of an unprivileged caller. */
	if (spec->landlock) {
		int r = jh_landlock_enforce(spec->landlock_fd);
		close(spec->landlock_fd);
		if (r < 0)
			return r;
	}
	return 0;
}
