/* The `unotify` backend: seccomp user notification.
 *
 * spawn() forks the first task, which sets NO_NEW_PRIVS, installs the filter
 * with SECCOMP_FILTER_FLAG_NEW_LISTENER and tells the supervisor the listener's
 * fd number over a pipe; the supervisor takes the listener with pidfd_getfd(2)
 * (so the child needs nothing but read/write/close/execve between installing
 * the filter and exec, all passed), then lets it close its copy and exec. The
 * sandbox thus starts with fds 0-2 and nothing else: a leaked listener would be
 * a full bypass. In a pid namespace (JH_LAYER_PIDNS) all of this happens in
 * the namespace's init, which the first task forks and reports (child.h):
 * the listener is taken from init's fd table, and init forks the command
 * instead of exec'ing it.
 *
 * Answers go back with SECCOMP_IOCTL_NOTIF_SEND; fds are installed with
 * SECCOMP_IOCTL_NOTIF_ADDFD and SECCOMP_ADDFD_FLAG_SEND, atomically with the
 * answer, so a restarted call never sees a half-done injection. Every read of
 * task memory is followed by SECCOMP_IOCTL_NOTIF_ID_VALID: a task that died and
 * whose pid was reused must not have a stranger's memory decided on.
 *
 * The supervisor is a child subreaper: orphans of the sandbox are reparented to
 * it, reaped, and killed when the first task exits, so nothing runs on once the
 * run is over. The first task also gets PR_SET_PDEATHSIG(SIGKILL). */
#include "platform/platform.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <dirent.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <grp.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "platform/child.h"
#include "platform/common.h"
#include "platform/layers.h"
#include "base/macro.h"

/* Linux 6.6; Debian 12's headers lack them. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
#ifndef SECCOMP_ADDFD_FLAG_SEND
#define SECCOMP_ADDFD_FLAG_SEND (1UL << 1)
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

#define BPF_MAX_INSNS 4096

struct jh_platform {
	int listener;
	pid_t pid;
	int pidfd;
	int errpipe; /* read end; the child writes its exec errno here */
	unsigned features;
	size_t notif_size; /* kernel's struct seccomp_notif size (>= ours) */
	void *notif;       /* receive buffer, owned by the next() thread */
	_Atomic bool waiter_set;
	pthread_t waiter;
	bool spawned;
	bool reaped;
	unsigned layers; /* JH_LAYER_* entered by the first task */
	int64_t timeout_ms;
	pid_t keep[8]; /* our own helpers: the teardown leaves them alone */
	size_t nkeep;
	int wake_sig;
};

static int unotify_probe(const char **ret_reason)
{
	uint32_t action = SECCOMP_RET_USER_NOTIF;

	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) < 0) {
		*ret_reason = errno == EINVAL ? "kernel lacks SECCOMP_RET_USER_NOTIF"
					      : "seccomp is unavailable";
		return jh_negerrno();
	}
	*ret_reason = NULL;
	return 0;
}

static int unotify_create(struct jh_platform **ret)
{
	struct seccomp_notif_sizes sizes = {0};
	struct jh_platform *p;
	int r;

	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
		return jh_negerrno();
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->notif_size = JH_MAX((size_t)sizes.seccomp_notif, sizeof(struct seccomp_notif));
	p->notif = calloc(1, p->notif_size);
	if (!p->notif) {
		free(p);
		return -ENOMEM;
	}
	p->listener = p->pidfd = p->errpipe = -1;
	r = jh_wake_signal_install(); /* interrupts the blocking RECV ioctl */
	if (r < 0) {
		free(p->notif);
		free(p);
		return r;
	}
	p->wake_sig = r;
	*ret = p;
	return 0;
}

static bool is_kept(const struct jh_platform *p, pid_t pid)
{
	for (size_t i = 0; i < p->nkeep; i++)
		if (p->keep[i] == pid)
			return true;
	return false;
}

static void note_exit(struct jh_platform *p, struct jh_exit *ex, pid_t pid, int st)
{
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS && !ex->filter_killed) {
		ex->filter_killed = true;
		ex->filter_killed_tid = pid;
	}
	if (pid == p->pid && !p->reaped) {
		p->reaped = true;
		ex->wait_status = st;
	}
}

/* Kills the sandbox's process group and every child of ours but the kept
 * helpers, and reaps them, until none is left. Orphans of the tree reparent
 * to us (we are a subreaper), so repeating reaches every descendant. */
static void kill_and_reap_all(struct jh_platform *p, struct jh_exit *ex)
{
	for (;;) {
		pid_t pids[512];
		size_t n;
		int st;

		if (p->pid > 0 && !p->reaped)
			kill(-p->pid, SIGKILL);
		n = jh_list_children(p->keep, p->nkeep, pids, JH_ARRAY_SIZE(pids));
		if (n == 0)
			break;
		for (size_t i = 0; i < n; i++)
			kill(pids[i], SIGKILL);
		for (size_t i = 0; i < n; i++) {
			pid_t r = JH_RETRY_EINTR(waitpid(pids[i], &st, __WALL));
			if (r > 0)
				note_exit(p, ex, r, st);
		}
	}
}

static void unotify_destroy(struct jh_platform *p)
{
	if (!p)
		return;
	if (p->spawned && !p->reaped) {
		struct jh_exit ex = {0};
		kill_and_reap_all(p, &ex);
	}
	jh_closep(&p->listener);
	jh_closep(&p->pidfd);
	jh_closep(&p->errpipe);
	free(p->notif);
	free(p);
}

static ssize_t write_all(int fd, const void *buf, size_t len)
{
	return JH_RETRY_EINTR(write(fd, buf, len));
}

/* Runs in the forked child; never returns. Only async-signal-safe calls. */
JH_NORETURN static void child_main(const struct jh_spawn_spec *spec, const struct sock_fprog *prog,
				   pid_t parent, int sync_w, int ack_r, int err_w)
{
	int keep[3] = {sync_w, ack_r, err_w};
	int listener, r;
	unsigned layers = 0;
	pid_t init = 0;
	char c;

	/* In a pid namespace this goes on in init (see child.h). */
	r = jh_child_prepare(spec, parent, keep, JH_ARRAY_SIZE(keep), &layers, &init);
	if (r < 0) {
		errno = -r;
		goto fail;
	}
	listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
				SECCOMP_FILTER_FLAG_NEW_LISTENER, prog);
	if (listener < 0)
		goto fail;
	/* From here on every syscall goes through the filter. */
	{
		int msg[JH_CHILD_REPORT_INTS] = {listener, (int)layers, (int)init};
		if (write_all(sync_w, msg, sizeof(msg)) != sizeof(msg))
			_exit(125);
	}
	if (JH_RETRY_EINTR(read(ack_r, &c, 1)) != 1)
		_exit(125);
	close(listener);
	close(sync_w);
	close(ack_r);
	jh_child_exec(spec, init, err_w);
fail:
	jh_child_fail(sync_w);
}

static int unotify_spawn(struct jh_platform *p, const struct jh_spawn_spec *spec, pid_t *ret_pid)
{
	_cleanup_free_ void *insns = NULL;
	_cleanup_close_ int sync_r = -1, ack_w = -1, err_r = -1;
	struct sock_fprog prog;
	struct jh_child ch;
	pid_t holder = 0;
	int child_fd, r;
	size_t ninsns = 0;
	uint64_t flags = SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP;

	if (p->spawned)
		return -EBUSY;
	if (spec->nkeep_pids > JH_ARRAY_SIZE(p->keep))
		return -E2BIG;
	if (spec->nkeep_pids)
		memcpy(p->keep, spec->keep_pids, spec->nkeep_pids * sizeof(pid_t));
	p->nkeep = spec->nkeep_pids;
	p->timeout_ms = spec->timeout_ms;
	r = jh_filter_compile(spec->filter, &insns, &ninsns);
	if (r < 0)
		return r;
	if (ninsns == 0 || ninsns > BPF_MAX_INSNS)
		return -E2BIG;
	prog.len = (unsigned short)ninsns;
	prog.filter = insns;

	r = jh_child_fork(child_main, spec, &prog, &ch);
	if (r < 0)
		return r;
	sync_r = ch.sync_r, ack_w = ch.ack_w, err_r = ch.err_r;
	p->pid = ch.pid;
	p->spawned = true;

	p->pidfd = (int)syscall(SYS_pidfd_open, ch.pid, 0);
	if (p->pidfd < 0)
		return jh_negerrno();
	/* the child reports the number of its listener fd, and which task holds
	 * it: in a pid namespace, init */
	child_fd = jh_child_report(sync_r, ch.pid, &p->layers, &holder);
	if (child_fd < 0)
		return child_fd;
	if (holder == ch.pid)
		p->listener = (int)syscall(SYS_pidfd_getfd, p->pidfd, child_fd, 0);
	else {
		_cleanup_close_ int hfd = (int)syscall(SYS_pidfd_open, holder, 0);

		if (hfd < 0)
			return jh_negerrno();
		p->listener = (int)syscall(SYS_pidfd_getfd, hfd, child_fd, 0);
	}
	if (p->listener < 0)
		return jh_negerrno();
	p->features = JH_FEAT_ADDFD;
	/* The flags travel by value, not through a pointer. Older kernels: EINVAL. */
	if (ioctl(p->listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags) == 0)
		p->features |= JH_FEAT_SYNC_WAKEUP;
	if (write_all(ack_w, "x", 1) != 1)
		return jh_negerrno();
	p->errpipe = TAKE_FD(err_r);
	*ret_pid = ch.pid;
	return 0;
}

static int unotify_next(struct jh_platform *p, struct jh_syscall *ret)
{
	struct seccomp_notif *req = p->notif;

	if (!atomic_load_explicit(&p->waiter_set, memory_order_acquire)) {
		p->waiter = pthread_self();
		atomic_store_explicit(&p->waiter_set, true, memory_order_release);
	}
	for (;;) {
		memset(req, 0, p->notif_size);
		if (ioctl(p->listener, SECCOMP_IOCTL_NOTIF_RECV, req) == 0)
			break;
		if (errno == EINTR)
			return -EINTR;
		if (errno != ENOENT)
			return jh_negerrno();
		/* ENOENT: a notification was withdrawn (its task got a fatal signal),
		 * or no task uses the filter any more, in which case the kernel keeps
		 * answering ENOENT at once. The listener then polls POLLHUP. */
		{
			struct pollfd pfd = {.fd = p->listener, .events = POLLIN};
			int r = poll(&pfd, 1, -1);

			if (r < 0 && errno == EINTR)
				return -EINTR;
			if (r < 0)
				return jh_negerrno();
			if ((pfd.revents & POLLHUP) && !(pfd.revents & POLLIN))
				return -ESHUTDOWN;
		}
	}
	ret->id = req->id;
	ret->tid = (pid_t)req->pid;
	ret->audit_arch = req->data.arch;
	{
		int arch = jh_abi_arch_from_audit(req->data.arch);
		/* Foreign architectures are killed by the filter; should one arrive,
		 * JH_ARCH_COUNT makes the sentry refuse it. */
		ret->arch = arch < 0 ? JH_ARCH_COUNT : (enum jh_arch)arch;
	}
	ret->nr = req->data.nr;
	ret->ip = req->data.instruction_pointer;
	ret->kind = JH_SC_INTERCEPTED;
	for (int i = 0; i < JH_SYSCALL_MAX_ARGS; i++)
		ret->args[i] = req->data.args[i];
	return 0;
}

static void unotify_wake(struct jh_platform *p)
{
	if (atomic_load_explicit(&p->waiter_set, memory_order_acquire))
		pthread_kill(p->waiter, p->wake_sig);
}

static int id_valid(struct jh_platform *p, const struct jh_syscall *sc)
{
	uint64_t id = sc->id;

	if (ioctl(p->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0)
		return -ESRCH;
	return 0;
}

static int unotify_read(struct jh_platform *p, const struct jh_syscall *sc, void *dst,
			uint64_t addr, size_t len)
{
	int r = jh_vm_read(sc->tid, dst, addr, len);

	/* After the read: the task may have died and its pid been reused. */
	if (id_valid(p, sc) < 0)
		return -ESRCH;
	return r;
}

static int unotify_read_string(struct jh_platform *p, const struct jh_syscall *sc, char *dst,
			       size_t cap, uint64_t addr)
{
	int r = jh_vm_read_string(sc->tid, dst, cap, addr);

	if (id_valid(p, sc) < 0)
		return -ESRCH;
	return r;
}

static int unotify_write(struct jh_platform *p, const struct jh_syscall *sc, uint64_t addr,
			 const void *src, size_t len)
{
	/* Check first: never write into a process that replaced a dead task. */
	if (id_valid(p, sc) < 0)
		return -ESRCH;
	return jh_vm_write(sc->tid, addr, src, len);
}

static int send_resp(struct jh_platform *p, uint64_t id, int64_t val, int err, uint32_t flags)
{
	struct seccomp_notif_resp resp = {
		.id = id,
		.val = val,
		.error = err ? -err : 0,
		.flags = flags,
	};

	if (ioctl(p->listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0)
		return errno == ENOENT ? -ESRCH : jh_negerrno();
	return 0;
}

static int unotify_answer(struct jh_platform *p, const struct jh_syscall *sc, int64_t value,
			  int err)
{
	return send_resp(p, sc->id, err ? -1 : value, err, 0);
}

static int unotify_answer_continue(struct jh_platform *p, const struct jh_syscall *sc)
{
	return send_resp(p, sc->id, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
}

static int unotify_answer_fd(struct jh_platform *p, const struct jh_syscall *sc, int fd,
			     bool cloexec)
{
	struct seccomp_notif_addfd addfd = {
		.id = sc->id,
		.flags = SECCOMP_ADDFD_FLAG_SEND,
		.srcfd = (uint32_t)fd,
		.newfd = 0,
		.newfd_flags = cloexec ? O_CLOEXEC : 0,
	};
	int r = ioctl(p->listener, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);

	if (r < 0)
		return errno == ENOENT ? -ESRCH : jh_negerrno();
	return r;
}

/* Reaps the tree's exited tasks without blocking. Kept helpers are not
 * reaped here: their owner waits for them. */
static void reap_some(struct jh_platform *p, struct jh_exit *ex)
{
	for (;;) {
		siginfo_t si = {0};
		int st;
		pid_t r;

		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) < 0 || si.si_pid == 0)
			return;
		if (is_kept(p, si.si_pid)) {
			/* cannot skip it with waitid(P_ALL): reap the others by pid */
			pid_t pids[512];
			size_t n = jh_list_children(p->keep, p->nkeep, pids, JH_ARRAY_SIZE(pids));
			bool any = false;
			for (size_t i = 0; i < n; i++) {
				r = waitpid(pids[i], &st, WNOHANG | __WALL);
				if (r > 0) {
					note_exit(p, ex, r, st);
					any = true;
				}
			}
			if (!any)
				return;
			continue;
		}
		r = waitpid(si.si_pid, &st, WNOHANG | __WALL);
		if (r <= 0)
			return;
		note_exit(p, ex, r, st);
	}
}

static int unotify_supervise(struct jh_platform *p, const sigset_t *forward, struct jh_exit *ret)
{
	_cleanup_close_ int sfd = -1, tfd = -1;
	struct jh_exit ex = {0};
	sigset_t set;
	int e = 0;

	if (!p->spawned)
		return -ECHILD;
	set = *forward;
	sigaddset(&set, SIGCHLD);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		return jh_negerrno();

	if (p->timeout_ms > 0) {
		tfd = jh_timeout_fd(p->timeout_ms);
		if (tfd < 0)
			return tfd;
	}

	reap_some(p, &ex);
	while (!p->reaped) {
		struct signalfd_siginfo si;
		struct pollfd pfd[2] = {{.fd = sfd, .events = POLLIN}, {.fd = tfd, .events = POLLIN}};
		ssize_t n;

		if (poll(pfd, tfd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (tfd >= 0 && (pfd[1].revents & POLLIN)) {
			ex.timed_out = true;
			break;
		}
		n = read(sfd, &si, sizeof(si));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n != sizeof(si))
			break;
		if (si.ssi_signo == SIGCHLD) {
			reap_some(p, &ex);
			continue;
		}
		/* Forward to the sandbox's process group (it is a session leader). */
		if (kill(-p->pid, (int)si.ssi_signo) < 0)
			kill(p->pid, (int)si.ssi_signo);
	}
	kill_and_reap_all(p, &ex);

	if (p->errpipe >= 0 && JH_RETRY_EINTR(read(p->errpipe, &e, sizeof(e))) == sizeof(e))
		ex.exec_errno = e;
	ex.layers = p->layers;
	*ret = ex;
	return 0;
}

static unsigned unotify_features(struct jh_platform *p)
{
	return p->features;
}

const struct jh_platform_ops jh_platform_unotify = {
	.name = "unotify",
	.probe = unotify_probe,
	.create = unotify_create,
	.destroy = unotify_destroy,
	.spawn = unotify_spawn,
	.next = unotify_next,
	.wake = unotify_wake,
	.read = unotify_read,
	.read_string = unotify_read_string,
	.write = unotify_write,
	.answer = unotify_answer,
	.answer_continue = unotify_answer_continue,
	.answer_fd = unotify_answer_fd,
	.supervise = unotify_supervise,
	.features = unotify_features,
};

const struct jh_platform_ops *jh_platform_by_name(const char *name)
{
	if (!name || strcmp(name, "unotify") == 0)
		return &jh_platform_unotify;
	if (strcmp(name, "ptrace") == 0)
		return &jh_platform_ptrace;
	return NULL;
}
