/* The first task's set-up between fork and filter, the same for every backend
 * (see child.h). Only async-signal-safe calls: the supervisor may have threads
 * (the audit writer) whose locks a forked child must not touch. */
#include "platform/child.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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

int jh_child_report(int sync_r, pid_t first, unsigned *ret_layers, pid_t *ret_holder)
{
	int msg[JH_CHILD_REPORT_INTS] = {-1, 0, 0};
	ssize_t n = JH_RETRY_EINTR(read(sync_r, msg, sizeof(msg)));

	if (n != sizeof(int) && n != sizeof(msg))
		return -ECHILD; /* died before it was set up */
	if (msg[0] < 0)
		return msg[0]; /* the child's -errno */
	if (n != sizeof(msg) || msg[2] < 0)
		return -EPROTO;
	*ret_layers = (unsigned)msg[1];
	*ret_holder = msg[2] > 0 ? (pid_t)msg[2] : first;
	return msg[0];
}

/* Set by platform/limits.c for a run with its own cgroup v2; -1 otherwise. */
static int child_cgroup_fd = -1;

void jh_child_set_cgroup(int procs_fd)
{
	child_cgroup_fd = procs_fd;
}

/* The pid namespace (JH_LAYER_PIDNS). The platforms keep treating the
 * process they forked, the first task, as the run (its exit ends it, its
 * status is the command's), but a process never moves into a pid namespace
 * it unshares: only its children are born there. So the first task forks
 * init, pid 1, and waits. Init mounts the namespace's procfs (the kernel ties
 * a procfs to the pid namespace of the task that mounts it, and only a task
 * not yet under the filter may mount), takes the filter, and forks the
 * command as pid 2 (pid 1 would ignore every signal it has no handler for).
 *
 * The first task stays in the host's pid namespace, outside the filter: it
 * runs none of the sandbox's code, the sandbox cannot name it (it is not in
 * the namespace) nor reach its memory, and all it does after the fork is
 * wait. It blocks every signal (the supervisor forwards signals to its
 * process group, which init, not it, passes on), drops its ids and keeps no
 * fd but the status pipe. */

/* In init: the write end of the pipe that passes the command's raw wait
 * status to the first task; -1 outside init. */
static int init_status_fd = -1;

/* Mounts the pid namespace's procfs over the view's /proc (found in the
 * plan), read-only as the host's bind beneath it, in init. Inside a user
 * namespace the kernel allows it because a procfs is already fully visible
 * in the mount namespace (the host's, bound by jh_mountns_enter()). */
static int mount_own_proc(const struct jh_mountns_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++) {
		if (plan->v[i].kind != JH_MNTNS_PROC)
			continue;
		if (mount("proc", plan->v[i].path, "proc",
			  MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL) < 0)
			return jh_negerrno();
	}
	return 0;
}

/* The first task's end: waits for init and leaves as the command did. A
 * command killed by a signal is killed by it here too (the supervisor's
 * status, the audit record's signal, SIGSYS for the filter's kills), an exit
 * is passed on as it is. Init killed from outside (SIGKILL: the timeout, the
 * teardown): the same signal. */
JH_NORETURN static void first_task_wait(const struct jh_spawn_spec *spec, pid_t parent, pid_t init,
					int status_r)
{
	sigset_t all;
	int st = 0, raw = 0, sig = 0;
	pid_t r;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	close_all_except(&status_r, 1);
	/* Nor the caller's terminal or pipes: a reader of the command's output
	 * sees its end when the command's side closes. */
	close(0);
	close(1);
	close(2);
	if (spec->drop_ids &&
	    (setgroups(0, NULL) < 0 || setresgid(spec->gid, spec->gid, spec->gid) < 0 ||
	     setresuid(spec->uid, spec->uid, spec->uid) < 0))
		_exit(125); /* init then dies of its parent-death signal */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(125);
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	do
		r = waitpid(init, &st, 0);
	while (r < 0 && errno == EINTR);
	if (r != init)
		_exit(125);
	if (WIFSIGNALED(st))
		sig = WTERMSIG(st);
	else if (JH_RETRY_EINTR(read(status_r, &raw, sizeof(raw))) == sizeof(raw) &&
		 WIFSIGNALED(raw))
		sig = WTERMSIG(raw);
	if (sig) {
		sigset_t one;

		sigaction(sig, &(struct sigaction){.sa_handler = SIG_DFL}, NULL);
		sigemptyset(&one);
		sigaddset(&one, sig);
		kill(getpid(), sig);
		sigprocmask(SIG_UNBLOCK, &one, NULL);
		_exit(128 + sig); /* a signal whose default is to be ignored */
	}
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 125);
}

/* In the first task: the pid namespace and init. Returns in init (0, its
 * host pid in *ret_init) or -errno in the first task when it could not be
 * made; the first task does not return otherwise. */
static int enter_pidns(const struct jh_spawn_spec *spec, pid_t parent, pid_t *ret_init)
{
	int idp[2], stp[2], r;
	pid_t pid;

	if (unshare(CLONE_NEWPID) < 0)
		return jh_negerrno();
	if (pipe2(idp, O_CLOEXEC) < 0)
		return jh_negerrno();
	if (pipe2(stp, O_CLOEXEC) < 0) {
		r = jh_negerrno();
		close(idp[0]);
		close(idp[1]);
		return r;
	}
	pid = fork();
	if (pid < 0) {
		r = jh_negerrno();
		close(idp[0]);
		close(idp[1]);
		close(stp[0]);
		close(stp[1]);
		return r;
	}
	if (pid > 0) {
		/* init learns its host pid (for the report) from us */
		(void)!write(idp[1], &pid, sizeof(pid));
		first_task_wait(spec, parent, pid, stp[0]);
	}
	close(idp[1]);
	close(stp[0]);
	if (JH_RETRY_EINTR(read(idp[0], &pid, sizeof(pid))) != sizeof(pid))
		pid = -1;
	close(idp[0]);
	if (pid <= 0) {
		close(stp[1]);
		return -EPROTO;
	}
	init_status_fd = stp[1];
	r = mount_own_proc(spec->mountns);
	if (r < 0)
		return r;
	*ret_init = pid;
	return 0;
}

bool jh_pidns_try(void)
{
	pid_t pid;
	int st;

	if (unshare(CLONE_NEWPID) < 0)
		return false;
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0)
		_exit(mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY,
			    NULL) == 0
			      ? 0
			      : 1);
	return JH_RETRY_EINTR(waitpid(pid, &st, 0)) == pid && WIFEXITED(st) &&
	       WEXITSTATUS(st) == 0;
}

void jh_child_run_init(const struct jh_spawn_spec *spec, int err_w)
{
	sigset_t all, none;
	pid_t cmd;

	sigfillset(&all);
	sigemptyset(&none);
	/* Every signal waits for sigwaitinfo(): init has no handler to run. */
	sigprocmask(SIG_SETMASK, &all, NULL);
	cmd = fork();
	if (cmd < 0)
		_exit(125);
	if (cmd == 0) {
		int e;

		/* Its own process group: what init forwards reaches the command
		 * and what it started, once (the supervisor's signals to the
		 * first task's group reach init, not the command as well). */
		(void)setpgid(0, 0);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
			_exit(125);
		if (init_status_fd >= 0)
			close(init_status_fd);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(spec->path, spec->argv, spec->envp);
		e = errno;
		(void)!write(err_w, &e, sizeof(e));
		_exit(127);
	}
	(void)setpgid(cmd, cmd); /* either side may win the race */
	close(err_w);
	close(0);
	close(1);
	close(2);
	for (;;) {
		siginfo_t si;
		int st, sig;
		pid_t r;

		/* Orphans of the namespace are ours to reap. */
		while ((r = waitpid(-1, &st, WNOHANG | __WALL)) > 0) {
			if (r != cmd)
				continue;
			if (init_status_fd >= 0)
				(void)!write(init_status_fd, &st, sizeof(st));
			_exit(WIFEXITED(st) ? WEXITSTATUS(st)
					    : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 125);
		}
		if (r < 0 && errno == ECHILD)
			_exit(125); /* the command went unreported: cannot happen */
		sig = sigwaitinfo(&all, &si);
		if (sig <= 0 || sig == SIGCHLD)
			continue;
		/* Only what comes from outside the namespace (jhansi-exec's
		 * forwarding: no sender number here) or from the kernel is passed
		 * on; a sandbox task signalling pid 1 reaches an init with no
		 * handler, which ignores it, as Linux's pid 1 would. */
		if (si.si_code == SI_USER || si.si_code == SI_QUEUE || si.si_code == SI_TKILL) {
			if (si.si_pid != 0)
				continue;
		}
		if (kill(-cmd, sig) < 0)
			(void)kill(cmd, sig);
	}
}

int jh_child_prepare(const struct jh_spawn_spec *spec, pid_t parent, int *keep, size_t nkeep,
		     unsigned *ret_layers, pid_t *ret_init)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	bool init = false;
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
	/* The pid namespace last (a fresh user namespace would not own it
	 * otherwise), with the mount namespace its procfs goes into. Past here
	 * this is init; the first task waits in enter_pidns(). */
	*ret_init = 0;
	if (spec->layers & JH_LAYER_PIDNS) {
		int r;

		if (!spec->mountns)
			return -EINVAL;
		r = enter_pidns(spec, parent, ret_init);
		if (r < 0)
			return r;
		*ret_layers |= JH_LAYER_PIDNS;
		init = true;
	}

	/* the backend's pipes and the Landlock ruleset survive; insertion sort:
	 * at most a handful of fds */
	if (nkeep > JH_ARRAY_SIZE(kept) - 2)
		return -E2BIG;
	for (size_t i = 0; i < nkeep; i++)
		kept[nkept++] = keep[i];
	if (spec->landlock)
		kept[nkept++] = spec->landlock_fd;
	if (init_status_fd >= 0)
		kept[nkept++] = init_status_fd;
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
	/* Init's parent is outside its namespace (getppid() says 0); should the
	 * first task be gone already, init is the subreaper's, which kills it. */
	if (!init && getppid() != parent)
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

void jh_child_exec(const struct jh_spawn_spec *spec, bool init, int err_w)
{
	int e;

	if (init)
		jh_child_run_init(spec, err_w);
	execve(spec->path, spec->argv, spec->envp);
	e = errno;
	(void)!JH_RETRY_EINTR(write(err_w, &e, sizeof(e)));
	_exit(127);
}

void jh_child_fail(int sync_w)
{
	int e = -errno;

	(void)!JH_RETRY_EINTR(write(sync_w, &e, sizeof(e)));
	_exit(125);
}
