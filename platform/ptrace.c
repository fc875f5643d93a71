/* The `ptrace` backend: seccomp trace stops serviced by a tracer thread.
 *
 * For hosts where seccomp user notification is missing or itself filtered.
 * The filter is the same as unotify's, with SECCOMP_RET_TRACE as the
 * interception action: passed calls run natively, intercepted ones stop the
 * task in a PTRACE_EVENT_SECCOMP stop. In full-trace mode every task is also
 * resumed with PTRACE_SYSCALL, so every call produces entry and exit stops
 * and is delivered, once finished, as a JH_SC_TRACED record.
 *
 * ptrace requests and the waits for a tracee must come from its tracer thread.
 * The platform interface has one thread calling next()/read()/answer() (the
 * sentry's dispatcher) and another calling supervise(); neither can be the
 * tracer for the whole run, so spawn() starts an internal tracer thread that
 * forks and seizes the first task and owns every ptrace request and wait. It
 * hands intercepted calls to next() through a queue (a condition variable) and
 * receives answers through a ready list and an eventfd. Reading and writing
 * task memory is done by the dispatcher itself with process_vm_readv/writev,
 * under the lock the tracer holds while it reaps: a task cannot be reaped (and
 * its tid reused) while its memory is being read, and "still valid" means
 * the task is still in the stop of that call.
 *
 * Answering: at the seccomp stop, orig_rax = -1 makes the kernel skip the call
 * and rax is what the task sees returned (the seccomp selftests rely on this
 * since Linux 4.8). Fd injection has no ptrace equivalent of ADDFD: answer_fd()
 * answers ENOSYS for now.
 *
 * Nothing outlives the run: the first task gets PR_SET_PDEATHSIG(SIGKILL),
 * every tracee has PTRACE_O_EXITKILL, we are a child subreaper, and the tracer
 * thread exits only once every task is reaped. Group-stops are kept with
 * PTRACE_LISTEN, signals are re-injected, tasks killed while stopped are
 * dropped with their pending call (read/answer then give -ESRCH).
 *
 * x86_64 only for now: register layout in regs_to_syscall()/set_return(). */
#include "platform/platform.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "platform/child.h"
#include "base/macro.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

#define BPF_MAX_INSNS 4096
/* Finished-call records queued for the dispatcher before the tracer waits:
 * full-trace mode slows the sandbox to the sentry's pace, never grows memory. */
#define TRACE_QUEUE_MAX 4096

enum answer_kind { ANSWER_NONE, ANSWER_VALUE, ANSWER_CONTINUE };

struct task {
	pid_t tid;
	bool started;     /* its attach stop was seen (the first task has none) */
	bool in_call;     /* full trace: between syscall-entry and -exit stops */
	bool intercepted; /* full trace: the call in progress went to the sentry */
	bool listening;   /* in a group-stop, held with PTRACE_LISTEN */
	uint64_t pending; /* serial of the intercepted call it is stopped in; 0: none */
#if defined(__x86_64__)
	struct user_regs_struct regs; /* at the pending stop */
#endif
	struct jh_syscall entry; /* full trace: the call in progress */
	enum answer_kind answer;
	int64_t answer_val;
	struct task *next_ready;
};

struct jh_platform {
	pthread_mutex_t lock;
	pthread_cond_t avail; /* queue not empty, woken, or done */
	pthread_cond_t space; /* queue drained, or spawn done */

	/* Set up by spawn(), read by the tracer. */
	const struct jh_spawn_spec *spec;
	void *insns;
	size_t ninsns;
	bool trace;
	unsigned layers; /* JH_LAYER_* entered by the first task */
	int64_t timeout_ms;
	pid_t keep[8];
	size_t nkeep;

	pthread_t tracer;
	bool tracer_started;
	int evfd;   /* dispatcher/supervisor → tracer: answers ready, teardown asked */
	int donefd; /* tracer → supervisor: every task is gone */
	int errpipe;

	/* Under lock. */
	bool spawn_done;
	int spawn_result;
	pid_t pid;
	struct task **tasks;
	size_t ntasks, tasks_cap;
	struct task *ready;
	struct jh_syscall *q; /* ring */
	size_t qcap, qhead, qlen, ntraced;
	uint64_t serial;
	bool woken;
	bool teardown_req;
	bool done;
	bool tearing;
	struct jh_exit ex;
	bool reaped;
};

static int ptrace_probe(const char **ret_reason)
{
#if !defined(__x86_64__)
	*ret_reason = "the ptrace backend supports x86_64 only";
	return -EOPNOTSUPP;
#else
	uint32_t action = SECCOMP_RET_TRACE;

	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) < 0) {
		*ret_reason = "seccomp is unavailable";
		return jh_negerrno();
	}
	*ret_reason = NULL;
	return 0;
#endif
}

static int ptrace_create(struct jh_platform **ret)
{
	struct jh_platform *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->avail, NULL);
	pthread_cond_init(&p->space, NULL);
	p->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	p->donefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	p->errpipe = -1;
	if (p->evfd < 0 || p->donefd < 0) {
		int r = jh_negerrno();
		jh_closep(&p->evfd);
		jh_closep(&p->donefd);
		free(p);
		return r;
	}
	*ret = p;
	return 0;
}

static void poke(int fd)
{
	uint64_t one = 1;
	(void)!write(fd, &one, sizeof(one));
}

/* --- The task table (under lock). Linear: a sandbox has few live tasks. --- */

static struct task *find_task(struct jh_platform *p, pid_t tid)
{
	for (size_t i = 0; i < p->ntasks; i++)
		if (p->tasks[i]->tid == tid)
			return p->tasks[i];
	return NULL;
}

static struct task *add_task(struct jh_platform *p, pid_t tid, bool started)
{
	struct task *t;

	if (p->ntasks == p->tasks_cap) {
		size_t cap = p->tasks_cap ? p->tasks_cap * 2 : 16;
		struct task **n = realloc(p->tasks, cap * sizeof(*n));
		if (!n)
			return NULL;
		p->tasks = n;
		p->tasks_cap = cap;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->tid = tid;
	t->started = started;
	p->tasks[p->ntasks++] = t;
	return t;
}

static void remove_task(struct jh_platform *p, struct task *t)
{
	for (struct task **r = &p->ready; *r; r = &(*r)->next_ready)
		if (*r == t) {
			*r = t->next_ready;
			break;
		}
	for (size_t i = 0; i < p->ntasks; i++)
		if (p->tasks[i] == t) {
			p->tasks[i] = p->tasks[--p->ntasks];
			break;
		}
	free(t);
}

static bool is_kept(const struct jh_platform *p, pid_t pid)
{
	for (size_t i = 0; i < p->nkeep; i++)
		if (p->keep[i] == pid)
			return true;
	return false;
}

/* --- The queue to next() (under lock). --- */

static int queue_push(struct jh_platform *p, const struct jh_syscall *sc)
{
	if (sc->kind == JH_SC_TRACED) {
		/* Back-pressure: the sandbox waits for the sentry. */
		while (p->ntraced >= TRACE_QUEUE_MAX && !p->tearing && !p->teardown_req)
			pthread_cond_wait(&p->space, &p->lock);
		if (p->tearing || p->teardown_req)
			return 0;
	}
	if (p->qlen == p->qcap) {
		size_t cap = p->qcap ? p->qcap * 2 : 64;
		struct jh_syscall *n = malloc(cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		for (size_t i = 0; i < p->qlen; i++)
			n[i] = p->q[(p->qhead + i) % p->qcap];
		free(p->q);
		p->q = n;
		p->qcap = cap;
		p->qhead = 0;
	}
	p->q[(p->qhead + p->qlen) % p->qcap] = *sc;
	p->qlen++;
	if (sc->kind == JH_SC_TRACED)
		p->ntraced++;
	pthread_cond_signal(&p->avail);
	return 0;
}

/* --- The tracer thread. --- */

static void resume(struct jh_platform *p, struct task *t, int sig)
{
	ptrace(p->trace ? PTRACE_SYSCALL : PTRACE_CONT, t->tid, 0, (void *)(uintptr_t)sig);
}

static void regs_to_syscall(const struct task *t, struct jh_syscall *sc)
{
#if defined(__x86_64__)
	const struct user_regs_struct *r = &t->regs;

	sc->nr = (int)r->orig_rax;
	sc->args[0] = r->rdi;
	sc->args[1] = r->rsi;
	sc->args[2] = r->rdx;
	sc->args[3] = r->r10;
	sc->args[4] = r->r8;
	sc->args[5] = r->r9;
	sc->ip = r->rip;
#endif
	sc->tid = t->tid;
	sc->arch = jh_abi_native_arch();
	sc->audit_arch = jh_abi_audit_arch(sc->arch);
}

static int get_regs(struct task *t)
{
#if defined(__x86_64__)
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &t->regs) < 0)
		return jh_negerrno();
	return 0;
#else
	return -EOPNOTSUPP;
#endif
}

static void on_seccomp_stop(struct jh_platform *p, struct task *t)
{
	struct jh_syscall sc = {0};

	if (get_regs(t) < 0)
		return; /* killed meanwhile: its exit follows */
	regs_to_syscall(t, &sc);
	sc.id = ++p->serial;
	sc.kind = JH_SC_INTERCEPTED;
	t->pending = sc.id;
	t->intercepted = true;
	if (queue_push(p, &sc) < 0) {
		/* Cannot deliver it: refuse rather than let it run. */
		t->pending = 0;
#if defined(__x86_64__)
		t->regs.orig_rax = (unsigned long long)-1;
		t->regs.rax = (unsigned long long)-ENOMEM;
		ptrace(PTRACE_SETREGS, t->tid, 0, &t->regs);
#endif
		resume(p, t, 0);
	}
}

static bool is_exit_call(int nr)
{
#if defined(__x86_64__)
	return nr == SYS_exit || nr == SYS_exit_group;
#else
	return false;
#endif
}

/* Full trace: hands the finished call to next(), the task held in its stop
 * so that the sentry can still read the strings it names. Returns false if
 * it could not be queued (the caller resumes the task). */
static bool deliver_traced(struct jh_platform *p, struct task *t)
{
	t->entry.id = ++p->serial;
	t->pending = t->entry.id;
	if (queue_push(p, &t->entry) < 0 || p->tearing || p->teardown_req) {
		t->pending = 0;
		return false;
	}
	return true;
}

/* Full trace: a syscall-entry or -exit stop. */
static void on_syscall_stop(struct jh_platform *p, struct task *t)
{
	struct __ptrace_syscall_info info;

	memset(&info, 0, sizeof(info));
	if (ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, sizeof(info), &info) <= 0) {
		resume(p, t, 0);
		return;
	}
	if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
		memset(&t->entry, 0, sizeof(t->entry));
		t->entry.tid = t->tid;
		t->entry.arch = jh_abi_native_arch();
		t->entry.audit_arch = info.arch;
		t->entry.nr = (int)info.entry.nr;
		for (int i = 0; i < JH_SYSCALL_MAX_ARGS; i++)
			t->entry.args[i] = info.entry.args[i];
		t->entry.ip = info.instruction_pointer;
		t->entry.kind = JH_SC_TRACED;
		t->in_call = true;
		t->intercepted = false;
		if (is_exit_call(t->entry.nr)) {
			/* No exit stop follows: record it now. */
			t->in_call = false;
			if (deliver_traced(p, t))
				return;
		}
	} else if (info.op == PTRACE_SYSCALL_INFO_EXIT) {
		bool record = t->in_call && !t->intercepted;

		t->in_call = false;
		t->intercepted = false;
		if (record) {
			t->entry.traced_ret = info.exit.rval;
			if (deliver_traced(p, t))
				return;
		}
	}
	resume(p, t, 0);
}

static void note_exit(struct jh_platform *p, pid_t pid, int st)
{
	struct task *t = find_task(p, pid);

	if (t)
		remove_task(p, t);
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS && !p->ex.filter_killed) {
		p->ex.filter_killed = true;
		p->ex.filter_killed_tid = pid;
	}
	if (pid == p->pid && !p->reaped) {
		p->reaped = true;
		p->ex.wait_status = st;
		p->teardown_req = true;
	}
}

static bool is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static void handle_status(struct jh_platform *p, pid_t tid, int st)
{
	struct task *t;
	unsigned event;
	int sig;

	if (WIFEXITED(st) || WIFSIGNALED(st)) {
		note_exit(p, tid, st);
		return;
	}
	if (!WIFSTOPPED(st))
		return;
	t = find_task(p, tid);
	if (!t) {
		/* A new task whose creator's clone event is not reported yet. */
		t = add_task(p, tid, false);
		if (!t) {
			kill(tid, SIGKILL);
			return;
		}
	}
	if (p->tearing)
		return; /* SIGKILLed: it leaves any stop on its own */
	sig = WSTOPSIG(st);
	event = (unsigned)st >> 16;
	t->listening = false;
	if (!t->started) {
		t->started = true;
		if (event == PTRACE_EVENT_STOP) {
			resume(p, t, 0);
			return;
		}
	}
	switch (event) {
	case PTRACE_EVENT_SECCOMP:
		on_seccomp_stop(p, t);
		return;
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
	case PTRACE_EVENT_CLONE: {
		unsigned long child = 0;
		if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &child) == 0 && child > 0 &&
		    !find_task(p, (pid_t)child) && !add_task(p, (pid_t)child, false))
			kill((pid_t)child, SIGKILL);
		resume(p, t, 0);
		return;
	}
	case PTRACE_EVENT_EXEC: {
		unsigned long former = 0;
		/* A non-leader thread that execs takes over the leader's tid; the
		 * old leader is gone without an exit report. */
		if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &former) == 0 && (pid_t)former != tid) {
			struct task *f = find_task(p, (pid_t)former);
			if (f) {
				remove_task(p, t);
				f->tid = tid;
				t = f;
			}
		}
		resume(p, t, 0);
		return;
	}
	case PTRACE_EVENT_STOP:
		if (is_stop_signal(sig)) {
			/* Group-stop: stay stopped until SIGCONT, still reporting. */
			if (ptrace(PTRACE_LISTEN, tid, 0, 0) == 0) {
				t->listening = true;
				return;
			}
		}
		resume(p, t, 0);
		return;
	case 0:
		if (sig == (SIGTRAP | 0x80)) {
			on_syscall_stop(p, t);
			return;
		}
		/* Signal-delivery stop: deliver it. */
		resume(p, t, sig);
		return;
	default:
		resume(p, t, 0);
		return;
	}
}

/* Fills pids[] with our children (every thread's) but the kept ones. */
static size_t list_children(const struct jh_platform *p, pid_t *pids, size_t cap)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	size_t n = 0;

	while (d && (de = readdir(d))) {
		char path[300];
		char buf[4096];
		ssize_t len;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/children", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		for (char *s = buf, *end; *s && n < cap; s = end) {
			long child = strtol(s, &end, 10);
			if (end == s)
				break;
			if (child > 0 && !is_kept(p, (pid_t)child))
				pids[n++] = (pid_t)child;
		}
	}
	if (d)
		closedir(d);
	return n;
}

/* One pending wait status without blocking: > 0 with *st, 0 for none, -errno.
 * Kept helpers (our own, untraced children) are never reaped: their owner
 * waits for them. */
static pid_t wait_one(struct jh_platform *p, int *st)
{
	siginfo_t si = {0};
	pid_t r;

	if (p->nkeep == 0) {
		r = waitpid(-1, st, WNOHANG | __WALL);
		return r < 0 ? jh_negerrno() : r;
	}
	if (waitid(P_ALL, 0, &si, WEXITED | WSTOPPED | WNOHANG | WNOWAIT | __WALL) < 0)
		return jh_negerrno();
	if (si.si_pid == 0)
		return 0;
	if (!is_kept(p, si.si_pid)) {
		r = waitpid(si.si_pid, st, WNOHANG | __WALL);
		return r < 0 ? jh_negerrno() : r;
	}
	/* A kept helper's status hides the others from P_ALL: ask each by tid. */
	for (size_t i = 0; i < p->ntasks; i++) {
		r = waitpid(p->tasks[i]->tid, st, WNOHANG | __WALL);
		if (r > 0)
			return r;
	}
	{
		pid_t pids[512];
		size_t n = list_children(p, pids, JH_ARRAY_SIZE(pids));
		for (size_t i = 0; i < n; i++) {
			r = waitpid(pids[i], st, WNOHANG | __WALL);
			if (r > 0)
				return r;
		}
	}
	return 0;
}

static void kill_all(struct jh_platform *p)
{
	pid_t pids[512];
	size_t n;

	if (p->pid > 0)
		kill(-p->pid, SIGKILL);
	for (size_t i = 0; i < p->ntasks;) {
		/* An entry whose task vanished unreported must not hold the teardown. */
		if (kill(p->tasks[i]->tid, SIGKILL) < 0 && errno == ESRCH)
			remove_task(p, p->tasks[i]);
		else
			i++;
	}
	n = list_children(p, pids, JH_ARRAY_SIZE(pids));
	for (size_t i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
}

static void apply_answers(struct jh_platform *p)
{
	while (p->ready) {
		struct task *t = p->ready;

		p->ready = t->next_ready;
		t->next_ready = NULL;
		if (t->answer == ANSWER_VALUE) {
#if defined(__x86_64__)
			t->regs.orig_rax = (unsigned long long)-1; /* skip the call */
			t->regs.rax = (unsigned long long)t->answer_val;
			ptrace(PTRACE_SETREGS, t->tid, 0, &t->regs);
#endif
		}
		t->answer = ANSWER_NONE;
		resume(p, t, 0);
	}
}

/* Runs in the forked child; never returns. Only async-signal-safe calls. */
JH_NORETURN static void child_main(const struct jh_spawn_spec *spec, const struct sock_fprog *prog,
				   pid_t parent, int sync_w, int ack_r, int err_w)
{
	int keep[3] = {sync_w, ack_r, err_w};
	unsigned layers = 0;
	int e, r;
	char c;

	r = jh_child_prepare(spec, parent, keep, JH_ARRAY_SIZE(keep), &layers);
	if (r < 0) {
		errno = -r;
		goto fail;
	}
	/* Report the set-up ({0, layers entered}), then wait until the tracer
	 * has seized us: RET_TRACE without a tracer would fail intercepted calls
	 * with ENOSYS. */
	{
		int msg[2] = {0, (int)layers};
		if (JH_RETRY_EINTR(write(sync_w, msg, sizeof(msg))) != sizeof(msg))
			_exit(125);
	}
	if (JH_RETRY_EINTR(read(ack_r, &c, 1)) != 1)
		_exit(125);
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog) < 0) {
		e = errno;
		(void)!write(err_w, &e, sizeof(e));
		_exit(125);
	}
	/* From here on every syscall goes through the filter. */
	close(sync_w);
	close(ack_r);
	execve(spec->path, spec->argv, spec->envp);
	e = errno;
	(void)!write(err_w, &e, sizeof(e));
	_exit(127);
fail:
	e = -errno;
	(void)!write(sync_w, &e, sizeof(e));
	_exit(125);
}

/* In the tracer thread: forks and seizes the first task. */
static int start_child(struct jh_platform *p)
{
	_cleanup_close_ int sync_r = -1, sync_w = -1, ack_r = -1, ack_w = -1, err_r = -1, err_w = -1;
	struct sock_fprog prog = {.len = (unsigned short)p->ninsns, .filter = p->insns};
	int fds[2], child_r = 0, msg[2] = {-1, 0};
	ssize_t n;
	pid_t parent = getpid(), pid;
	const long opts = PTRACE_O_TRACESECCOMP | PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK |
			  PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC |
			  PTRACE_O_EXITKILL;

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
		child_main(p->spec, &prog, parent, sync_w, ack_r, err_w);
	pthread_mutex_lock(&p->lock);
	p->pid = pid;
	pthread_mutex_unlock(&p->lock);
	jh_closep(&sync_w);
	jh_closep(&ack_r);
	jh_closep(&err_w);

	if (ptrace(PTRACE_SEIZE, pid, 0, (void *)opts) < 0) {
		int r = jh_negerrno();
		kill(pid, SIGKILL);
		return r;
	}
	/* {0, layers entered}, or {-errno} when setting up failed */
	n = JH_RETRY_EINTR(read(sync_r, msg, sizeof(msg)));
	if (n != sizeof(int) && n != sizeof(msg))
		return -ECHILD; /* died before it was set up */
	child_r = msg[0];
	if (child_r < 0)
		return child_r;
	if (n != sizeof(msg))
		return -EPROTO;
	p->layers = (unsigned)msg[1];
	pthread_mutex_lock(&p->lock);
	if (!add_task(p, pid, true)) {
		pthread_mutex_unlock(&p->lock);
		return -ENOMEM;
	}
	pthread_mutex_unlock(&p->lock);
	if (JH_RETRY_EINTR(write(ack_w, "x", 1)) != 1)
		return jh_negerrno();
	p->errpipe = TAKE_FD(err_r);
	return 0;
}

static void *tracer_main(void *arg)
{
	struct jh_platform *p = arg;
	_cleanup_close_ int sfd = -1;
	sigset_t all, chld;
	int r;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	r = sfd < 0 ? jh_negerrno() : start_child(p);

	pthread_mutex_lock(&p->lock);
	p->spawn_done = true;
	p->spawn_result = r;
	if (r < 0) {
		p->teardown_req = true;
		p->reaped = p->pid <= 0;
	}
	pthread_cond_broadcast(&p->space);
	pthread_mutex_unlock(&p->lock);

	for (;;) {
		struct pollfd pfd[2] = {{.fd = sfd, .events = POLLIN}, {.fd = p->evfd, .events = POLLIN}};
		bool finished = false;

		pthread_mutex_lock(&p->lock);
		apply_answers(p);
		for (;;) {
			int st;
			pid_t w;

			if (p->teardown_req && !p->tearing) {
				p->tearing = true;
				/* Release a dispatcher-bound wait, drop what is queued. */
				pthread_cond_broadcast(&p->space);
				kill_all(p);
			}
			w = wait_one(p, &st);
			if (w > 0) {
				handle_status(p, w, st);
				continue;
			}
			if (w == -ECHILD) {
				finished = true; /* nothing left to wait for */
			} else if (w == 0 && p->tearing && p->ntasks == 0) {
				pid_t pids[8];
				finished = list_children(p, pids, JH_ARRAY_SIZE(pids)) == 0;
			}
			break;
		}
		if (finished) {
			p->done = true;
			pthread_cond_broadcast(&p->avail);
			pthread_mutex_unlock(&p->lock);
			break;
		}
		if (p->tearing)
			kill_all(p); /* new children may have appeared meanwhile */
		pthread_mutex_unlock(&p->lock);

		/* The timeout only guards against a SIGCHLD lost to a thread of the
		 * caller that left it unblocked. */
		if (poll(pfd, 2, p->tearing ? 10 : 200) > 0) {
			struct signalfd_siginfo si;
			uint64_t v;
			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				;
			(void)!read(p->evfd, &v, sizeof(v));
		}
	}
	poke(p->donefd);
	return NULL;
}

static int ptrace_spawn(struct jh_platform *p, const struct jh_spawn_spec *spec, pid_t *ret_pid)
{
	int r;

	if (p->tracer_started)
		return -EBUSY;
	if (spec->nkeep_pids > JH_ARRAY_SIZE(p->keep))
		return -E2BIG;
	memcpy(p->keep, spec->keep_pids, spec->nkeep_pids * sizeof(pid_t));
	p->nkeep = spec->nkeep_pids;
	p->timeout_ms = spec->timeout_ms;
	p->trace = spec->full_trace;
	r = jh_filter_compile_ex(spec->filter, JH_INTERCEPT_TRACE, &p->insns, &p->ninsns);
	if (r < 0)
		return r;
	if (p->ninsns == 0 || p->ninsns > BPF_MAX_INSNS)
		return -E2BIG;
	p->spec = spec;
	r = -pthread_create(&p->tracer, NULL, tracer_main, p);
	if (r < 0)
		return r;
	p->tracer_started = true;

	pthread_mutex_lock(&p->lock);
	while (!p->spawn_done)
		pthread_cond_wait(&p->space, &p->lock);
	r = p->spawn_result;
	pthread_mutex_unlock(&p->lock);
	p->spec = NULL;
	if (r < 0)
		return r;
	*ret_pid = p->pid;
	return 0;
}

static int ptrace_next(struct jh_platform *p, struct jh_syscall *ret)
{
	int r;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		if (p->woken) {
			p->woken = false;
			r = -EINTR;
			break;
		}
		if (p->qlen > 0) {
			*ret = p->q[p->qhead];
			p->qhead = (p->qhead + 1) % p->qcap;
			p->qlen--;
			if (ret->kind == JH_SC_TRACED && p->ntraced-- == TRACE_QUEUE_MAX)
				pthread_cond_signal(&p->space);
			r = 0;
			break;
		}
		if (p->done || (p->spawn_done && p->spawn_result < 0)) {
			r = -ESHUTDOWN;
			break;
		}
		pthread_cond_wait(&p->avail, &p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

static void ptrace_wake(struct jh_platform *p)
{
	pthread_mutex_lock(&p->lock);
	p->woken = true;
	pthread_cond_broadcast(&p->avail);
	pthread_mutex_unlock(&p->lock);
}

/* Under lock: the task still in the stop of `sc`, or NULL. */
static struct task *pending_task(struct jh_platform *p, const struct jh_syscall *sc)
{
	struct task *t;

	t = find_task(p, sc->tid);
	return t && t->pending == sc->id ? t : NULL;
}

static int ptrace_read(struct jh_platform *p, const struct jh_syscall *sc, void *dst,
		       uint64_t addr, size_t len)
{
	struct iovec local = {.iov_base = dst, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};
	ssize_t n = 0;
	int r = 0;

	pthread_mutex_lock(&p->lock);
	if (!pending_task(p, sc))
		r = -ESRCH;
	else if (len > 0 && addr + len < addr)
		r = -EFAULT;
	else if (len > 0) {
		n = process_vm_readv(sc->tid, &local, 1, &remote, 1, 0);
		if (n < 0)
			r = errno == ESRCH ? -ESRCH : -EFAULT;
		else if ((size_t)n != len)
			r = -EFAULT;
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

/* Page by page, as the kernel's strncpy_from_user: a string ending just before
 * an unmapped page is read whole, one running into it gives EFAULT. */
static int ptrace_read_string(struct jh_platform *p, const struct jh_syscall *sc, char *dst,
			      size_t cap, uint64_t addr)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t got = 0;
	int r = -ENAMETOOLONG;

	if (cap == 0)
		return -ENAMETOOLONG;
	pthread_mutex_lock(&p->lock);
	if (!pending_task(p, sc)) {
		pthread_mutex_unlock(&p->lock);
		return -ESRCH;
	}
	while (got < cap) {
		uint64_t at = addr + got;
		size_t chunk = page - (size_t)(at & (page - 1));
		struct iovec local, remote;
		ssize_t n;
		char *nul;

		if (at < addr) {
			r = -EFAULT;
			break;
		}
		chunk = JH_MIN(chunk, cap - got);
		local.iov_base = dst + got;
		local.iov_len = chunk;
		remote.iov_base = (void *)(uintptr_t)at;
		remote.iov_len = chunk;
		n = process_vm_readv(sc->tid, &local, 1, &remote, 1, 0);
		if (n <= 0) {
			r = n < 0 && errno == ESRCH ? -ESRCH : -EFAULT;
			break;
		}
		nul = memchr(dst + got, '\0', (size_t)n);
		if (nul) {
			r = (int)(nul - dst);
			break;
		}
		got += (size_t)n;
	}
	pthread_mutex_unlock(&p->lock);
	if (r == -ENAMETOOLONG)
		dst[cap - 1] = '\0';
	return r;
}

static int ptrace_write(struct jh_platform *p, const struct jh_syscall *sc, uint64_t addr,
			const void *src, size_t len)
{
	struct iovec local = {.iov_base = (void *)src, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};
	ssize_t n;
	int r = 0;

	pthread_mutex_lock(&p->lock);
	if (!pending_task(p, sc))
		r = -ESRCH;
	else if (len > 0 && addr + len < addr)
		r = -EFAULT;
	else if (len > 0) {
		n = process_vm_writev(sc->tid, &local, 1, &remote, 1, 0);
		if (n < 0)
			r = errno == ESRCH ? -ESRCH : -EFAULT;
		else if ((size_t)n != len)
			r = -EFAULT;
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

static int post_answer(struct jh_platform *p, const struct jh_syscall *sc, enum answer_kind kind,
		       int64_t val)
{
	struct task *t;

	pthread_mutex_lock(&p->lock);
	t = pending_task(p, sc);
	if (!t) {
		pthread_mutex_unlock(&p->lock);
		return -ESRCH;
	}
	t->pending = 0;
	t->answer = kind;
	t->answer_val = val;
	t->next_ready = p->ready;
	p->ready = t;
	pthread_mutex_unlock(&p->lock);
	poke(p->evfd);
	return 0;
}

static int ptrace_answer(struct jh_platform *p, const struct jh_syscall *sc, int64_t value, int err)
{
	return post_answer(p, sc, ANSWER_VALUE, err ? -(int64_t)err : value);
}

static int ptrace_answer_continue(struct jh_platform *p, const struct jh_syscall *sc)
{
	return post_answer(p, sc, ANSWER_CONTINUE, 0);
}

/* No ADDFD under ptrace. Injecting would mean making the task run a recvmsg on
 * a socket it does not have; until that is built the call fails cleanly. */
static int ptrace_answer_fd(struct jh_platform *p, const struct jh_syscall *sc, int fd,
			    bool cloexec)
{
	int r = post_answer(p, sc, ANSWER_VALUE, -ENOSYS);

	return r < 0 ? r : -ENOSYS;
}

static int ptrace_regs(struct jh_platform *p, const struct jh_syscall *sc, struct jh_task_regs *ret)
{
	struct task *t;
	int r = 0;

	pthread_mutex_lock(&p->lock);
	t = pending_task(p, sc);
	if (!t)
		r = -ESRCH;
	else {
#if defined(__x86_64__)
		const struct user_regs_struct *g = &t->regs;
		const unsigned long long v[JH_TASK_REGS_MAX] = {
			g->rax, g->rdx, g->rcx, g->rbx, g->rsi, g->rdi, g->rbp, g->rsp, g->r8,
			g->r9,	g->r10, g->r11, g->r12, g->r13, g->r14, g->r15, g->rip,
		};
		for (int i = 0; i < JH_TASK_REGS_MAX; i++)
			ret->r[i] = v[i];
		ret->known = (1u << JH_TASK_REGS_MAX) - 1;
#else
		r = -EOPNOTSUPP;
#endif
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

static void request_teardown(struct jh_platform *p)
{
	pthread_mutex_lock(&p->lock);
	p->teardown_req = true;
	pthread_cond_broadcast(&p->space);
	pthread_mutex_unlock(&p->lock);
	poke(p->evfd);
}

static int ptrace_supervise(struct jh_platform *p, const sigset_t *forward, struct jh_exit *ret)
{
	_cleanup_close_ int sfd = -1, tfd = -1;
	bool timed_out = false;
	int e = 0;

	if (!p->tracer_started)
		return -ECHILD;
	sfd = signalfd(-1, forward, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return jh_negerrno();
	if (p->timeout_ms > 0) {
		struct itimerspec its = {
			.it_value = {.tv_sec = p->timeout_ms / 1000,
				     .tv_nsec = (p->timeout_ms % 1000) * 1000000},
		};
		tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
		if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0)
			return jh_negerrno();
	}
	for (;;) {
		struct pollfd pfd[3] = {{.fd = p->donefd, .events = POLLIN},
					{.fd = sfd, .events = POLLIN},
					{.fd = tfd, .events = POLLIN}};
		struct signalfd_siginfo si;

		if (poll(pfd, tfd >= 0 ? 3 : 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			request_teardown(p);
			break;
		}
		if (pfd[0].revents & POLLIN)
			break;
		if (tfd >= 0 && (pfd[2].revents & POLLIN)) {
			timed_out = true;
			request_teardown(p);
			jh_closep(&tfd);
			continue;
		}
		while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
			/* Forward to the sandbox's process group (it is a session leader). */
			if (kill(-p->pid, (int)si.ssi_signo) < 0)
				kill(p->pid, (int)si.ssi_signo);
		}
	}
	pthread_join(p->tracer, NULL);
	p->tracer_started = false;

	*ret = p->ex;
	ret->timed_out = timed_out;
	if (p->errpipe >= 0 && JH_RETRY_EINTR(read(p->errpipe, &e, sizeof(e))) == sizeof(e))
		ret->exec_errno = e;
	ret->layers = p->layers;
	return 0;
}

static void ptrace_destroy(struct jh_platform *p)
{
	if (!p)
		return;
	if (p->tracer_started) {
		request_teardown(p);
		pthread_join(p->tracer, NULL);
	}
	for (size_t i = 0; i < p->ntasks; i++)
		free(p->tasks[i]);
	free(p->tasks);
	free(p->q);
	free(p->insns);
	jh_closep(&p->evfd);
	jh_closep(&p->donefd);
	jh_closep(&p->errpipe);
	pthread_cond_destroy(&p->avail);
	pthread_cond_destroy(&p->space);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static unsigned ptrace_features(struct jh_platform *p)
{
	return 0;
}

const struct jh_platform_ops jh_platform_ptrace = {
	.name = "ptrace",
	.probe = ptrace_probe,
	.create = ptrace_create,
	.destroy = ptrace_destroy,
	.spawn = ptrace_spawn,
	.next = ptrace_next,
	.wake = ptrace_wake,
	.read = ptrace_read,
	.read_string = ptrace_read_string,
	.write = ptrace_write,
	.answer = ptrace_answer,
	.answer_continue = ptrace_answer_continue,
	.answer_fd = ptrace_answer_fd,
	.supervise = ptrace_supervise,
	.features = ptrace_features,
	.regs = ptrace_regs,
};
