/* The `ptrace` backend: seccomp trace stops, serviced by the dispatcher.
 *
 * For hosts where seccomp user notification is missing or itself filtered.
 * The filter is the same as unotify's, with SECCOMP_RET_TRACE as the
 * interception action: passed calls run natively, intercepted ones stop the
 * task in a PTRACE_EVENT_SECCOMP stop. In full-trace mode every task is also
 * resumed with PTRACE_SYSCALL, so every call produces entry and exit stops
 * and is delivered, once finished, as a JH_SC_TRACED record.
 *
 * ptrace requests and the waits for a tracee must come from its tracer
 * thread. The thread that calls next() — the sentry's dispatcher, which also
 * reads memory and answers — is made the tracer: spawn() (in the supervising
 * thread) forks the first task, which sets itself up and waits on a pipe; the
 * first next() seizes it, lets it install its filter and exec, and from then
 * on next() is a loop on waitpid(__WALL) that handles fork/clone/exec events,
 * signals and group-stops itself and returns at each seccomp stop. answer()
 * rewrites the registers and resumes the task directly. No thread hand-off
 * stands between a stop and its answer. supervise() only forwards signals,
 * runs the timeout, and waits for next() to report that every task is gone;
 * should the dispatcher stop early, it reaps what is left itself.
 *
 * Answering: at the seccomp stop, orig_rax = -1 makes the kernel skip the call
 * and rax is what the task sees returned (the seccomp selftests rely on this
 * since Linux 4.8). ptrace has no ADDFD: answer_fd() makes the task receive
 * the fd itself over a socketpair, with calls injected in place of the
 * intercepted one (inject_fd()). Task memory is read with process_vm_readv; "still
 * valid" means the task is still in the stop of that call — it cannot leave
 * it but by dying, and its tid cannot be reused before this thread reaps it.
 *
 * Nothing outlives the run: the first task gets PR_SET_PDEATHSIG(SIGKILL),
 * every tracee has PTRACE_O_EXITKILL, we are a child subreaper, and next()
 * reports the end only once every task is reaped. Group-stops are kept with
 * PTRACE_LISTEN, signals are re-injected, tasks killed while stopped are
 * dropped with their pending call (read/answer then give -ESRCH). A task's
 * own seccomp filter may also return RET_TRACE: its stops are taken for
 * interceptions like ours (the data is never trusted), so the worst it gets
 * is the sentry's refusal of a call that would have passed.
 *
 * x86_64 only for now: register layout in regs_to_syscall()/answering. */
#include "platform/platform.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <stddef.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "platform/child.h"
#include "platform/common.h"
#include "base/macro.h"

#define BPF_MAX_INSNS 4096
/* After the first task has exited, how long supervise() waits for next() to
 * finish the teardown before it reaps the rest itself. */
#define DISPATCHER_GRACE_MS 2000

struct task {
	pid_t tid;
	bool started;     /* its attach stop was seen (the first task has none) */
	bool in_call;     /* full trace: between syscall-entry and -exit stops */
	bool intercepted; /* full trace: the call in progress went to the sentry */
	uint64_t pending; /* serial of the call it is stopped in for the sentry; 0: none */
#if defined(__x86_64__)
	struct user_regs_struct regs; /* at the pending stop */
#endif
	struct jh_syscall entry; /* full trace: the call in progress */
};

struct jh_platform {
	/* Set by spawn(). */
	void *insns;
	size_t ninsns;
	bool trace;
	bool exec_events; /* deliver JH_SC_EXEC records */
	int64_t timeout_ms;
	pid_t keep[8];
	size_t nkeep;
	unsigned layers; /* JH_LAYER_* entered by the first task */
	bool spawned;
	pid_t pid;
	int pidfd;   /* of the first task */
	pid_t holder; /* the task seized first: the first task, or in a pid
		       * namespace its init (the first task is then never traced:
		       * it runs nothing of the sandbox's, it only waits) */
	int ack_w;   /* the first task waits on it until it is seized */
	int errpipe; /* the first task's exec errno */
	int donefd;  /* next() → supervise(): every task is gone */
	/* Fd installation channel (inject_fd_fast): a socketpair whose task end
	 * sits at chan_num in the tasks' fd tables; chan_copy is our duplicate of
	 * that end, to recognise it (kcmp) and drain it. */
	int chan_ours, chan_copy, chan_num;
	rlim_t nofile; /* the first task's soft RLIMIT_NOFILE */

	/* The dispatcher thread, which is the tracer. */
	pthread_t waiter;
	atomic_bool waiter_set;
	bool tracing;
	bool tearing;
	bool reaped;
	struct task **tasks;
	size_t ntasks, tasks_cap;
	uint64_t serial;
	struct jh_exit ex;

	/* Shared. */
	atomic_bool woken;
	atomic_bool teardown_req;
	atomic_bool done;
	int wake_sig;
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
	p->pidfd = p->ack_w = p->errpipe = -1;
	p->chan_ours = p->chan_copy = p->chan_num = -1;
	p->donefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	/* interrupts the blocking waitpid() of next() */
	p->wake_sig = p->donefd < 0 ? -1 : jh_wake_signal_install();
	if (p->wake_sig < 0) {
		int r = p->donefd < 0 ? jh_negerrno() : p->wake_sig;
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

/* --- The task table (dispatcher thread). Linear: a sandbox has few live tasks. --- */

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


/* --- The tracer: waits, events, stops (dispatcher thread). --- */

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

/* A seccomp stop: the call goes to the sentry. */
static bool on_seccomp_stop(struct jh_platform *p, struct task *t, struct jh_syscall *ret)
{
	if (get_regs(t) < 0)
		return false; /* killed meanwhile: its exit follows */
	memset(ret, 0, sizeof(*ret));
	regs_to_syscall(t, ret);
	ret->id = ++p->serial;
	ret->kind = JH_SC_INTERCEPTED;
	t->pending = ret->id;
	t->intercepted = true;
	return true;
}

static bool is_exit_call(int nr)
{
#if defined(__x86_64__)
	return nr == SYS_exit || nr == SYS_exit_group;
#else
	return false;
#endif
}

/* Full trace: hands the finished call to the sentry, the task held in its
 * stop so that the sentry can still read the strings it names. */
static bool deliver_traced(struct jh_platform *p, struct task *t, struct jh_syscall *ret)
{
	t->entry.id = ++p->serial;
	t->pending = t->entry.id;
	*ret = t->entry;
	return true;
}

/* Full trace: a syscall-entry or -exit stop. True if *ret holds a record. */
static bool on_syscall_stop(struct jh_platform *p, struct task *t, struct jh_syscall *ret)
{
	struct __ptrace_syscall_info info;

	memset(&info, 0, sizeof(info));
	if (ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, sizeof(info), &info) <= 0) {
		resume(p, t, 0);
		return false;
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
			return deliver_traced(p, t, ret);
		}
	} else if (info.op == PTRACE_SYSCALL_INFO_EXIT) {
		bool record = t->in_call && !t->intercepted;

		t->in_call = false;
		t->intercepted = false;
		if (record) {
			t->entry.traced_ret = info.exit.rval;
			return deliver_traced(p, t, ret);
		}
	}
	resume(p, t, 0);
	return false;
}

/* A task about to exit. One the filter is killing for a foreign syscall ABI
 * (SIGSYS) is held here, registers and memory intact, so that the sentry can
 * record which code made the call. Every other exit goes on at once. */
static bool on_exit_stop(struct jh_platform *p, struct task *t, struct jh_syscall *ret)
{
	unsigned long status = 0;

	if (ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &status) == 0 && WIFSIGNALED((int)status) &&
	    WTERMSIG((int)status) == SIGSYS && !p->tearing && get_regs(t) == 0) {
		memset(ret, 0, sizeof(*ret));
		regs_to_syscall(t, ret);
		ret->id = ++p->serial;
		ret->kind = JH_SC_KILLED;
		t->pending = ret->id;
		return true;
	}
	ptrace(PTRACE_CONT, t->tid, 0, 0);
	return false;
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
		atomic_store(&p->teardown_req, true);
	}
}

static bool is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* Handles one wait status. True if *ret holds a call for the sentry. */
static bool handle_status(struct jh_platform *p, pid_t tid, int st, struct jh_syscall *ret)
{
	struct task *t;
	unsigned event;
	int sig;

	if (WIFEXITED(st) || WIFSIGNALED(st)) {
		note_exit(p, tid, st);
		return false;
	}
	if (!WIFSTOPPED(st))
		return false;
	t = find_task(p, tid);
	if (!t) {
		/* A new task whose creator's clone event is not reported yet. */
		t = add_task(p, tid, false);
		if (!t) {
			kill(tid, SIGKILL);
			return false;
		}
	}
	if (p->tearing) {
		/* SIGKILLed: most stops end on their own, but not the exit stop
		 * (PTRACE_O_TRACEEXIT), which waits for us whatever the signal. */
		ptrace(PTRACE_CONT, tid, 0, 0);
		return false;
	}
	sig = WSTOPSIG(st);
	event = (unsigned)st >> 16;
	if (!t->started) {
		t->started = true;
		if (event == PTRACE_EVENT_STOP) {
			resume(p, t, 0);
			return false;
		}
	}
	switch (event) {
	case PTRACE_EVENT_SECCOMP:
		return on_seccomp_stop(p, t, ret);
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
	case PTRACE_EVENT_CLONE: {
		unsigned long child = 0;
		if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &child) == 0 && child > 0 &&
		    !find_task(p, (pid_t)child) && !add_task(p, (pid_t)child, false))
			kill((pid_t)child, SIGKILL);
		resume(p, t, 0);
		return false;
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
		/* Held for the sentry's exec hook (JH_SC_EXEC). */
		if (!p->exec_events) {
			resume(p, t, 0);
			return false;
		}
		if (get_regs(t) < 0)
			return false;
		memset(ret, 0, sizeof(*ret));
		regs_to_syscall(t, ret);
		ret->id = ++p->serial;
		ret->kind = JH_SC_EXEC;
		t->pending = ret->id;
		return true;
	}
	case PTRACE_EVENT_EXIT:
		return on_exit_stop(p, t, ret);
	case PTRACE_EVENT_STOP:
		/* Group-stop: stay stopped until SIGCONT, still reporting. After
		 * SIGCONT the kernel reports the trap with SIGTRAP: resume then. */
		if (is_stop_signal(sig) && ptrace(PTRACE_LISTEN, tid, 0, 0) == 0)
			return false;
		resume(p, t, 0);
		return false;
	case 0:
		if (sig == (SIGTRAP | 0x80))
			return on_syscall_stop(p, t, ret);
		/* Signal-delivery stop: deliver it. But not SIGSTOP to a pid
		 * namespace's init (only sandbox tasks can send it one): an
		 * untraced init ignores it as the kernel's rules for pid 1 say,
		 * a traced one would stop, and with it the reaping of the run. */
		if (sig == SIGSTOP && t->tid == p->holder && p->holder != p->pid)
			sig = 0;
		resume(p, t, sig);
		return false;
	default:
		resume(p, t, 0);
		return false;
	}
}

/* One wait status: > 0 with *st; 0 for none yet (non-blocking mode); -EINTR
 * when woken; -ECHILD when nothing is left. Blocks unless `nohang`. Kept
 * helpers (our own, untraced children) are never reaped: their owner waits
 * for them, so when one is pending the tasks are asked one by one. */
static pid_t wait_one(struct jh_platform *p, int *st, bool nohang)
{
	siginfo_t si = {0};
	int flags = __WALL | (nohang ? WNOHANG : 0);
	pid_t r;

	if (p->nkeep == 0) {
		r = waitpid(-1, st, flags);
		return r < 0 ? jh_negerrno() : r;
	}
	if (waitid(P_ALL, 0, &si, WEXITED | WSTOPPED | WNOWAIT | flags) < 0)
		return jh_negerrno();
	if (si.si_pid == 0)
		return 0;
	if (!is_kept(p, si.si_pid)) {
		r = waitpid(si.si_pid, st, WNOHANG | __WALL);
		return r < 0 ? jh_negerrno() : r;
	}
	for (size_t i = 0; i < p->ntasks; i++) {
		r = waitpid(p->tasks[i]->tid, st, WNOHANG | __WALL);
		if (r > 0)
			return r;
	}
	{
		pid_t pids[512];
		size_t n = jh_list_children(p->keep, p->nkeep, pids, JH_ARRAY_SIZE(pids));
		for (size_t i = 0; i < n; i++) {
			r = waitpid(pids[i], st, WNOHANG | __WALL);
			if (r > 0)
				return r;
		}
	}
	if (!nohang)
		usleep(1000); /* only a kept helper's exit is pending: poll */
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
	n = jh_list_children(p->keep, p->nkeep, pids, JH_ARRAY_SIZE(pids));
	for (size_t i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
}

/* The first next(): become the tracer of the first task and let it go. */
static int begin_tracing(struct jh_platform *p)
{
	const long opts = PTRACE_O_TRACESECCOMP | PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK |
			  PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC |
			  PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL;

	p->waiter = pthread_self();
	atomic_store(&p->waiter_set, true);
	p->tracing = true;
	if (ptrace(PTRACE_SEIZE, p->holder, 0, (void *)opts) < 0 || !add_task(p, p->holder, true) ||
	    JH_RETRY_EINTR(write(p->ack_w, "x", 1)) != 1) {
		int r = errno ? jh_negerrno() : -ENOMEM;
		jh_error("ptrace: cannot trace the first task: %s", strerror(-r));
		atomic_store(&p->teardown_req, true);
		jh_closep(&p->ack_w);
		return r;
	}
	jh_closep(&p->ack_w);
	return 0;
}

static int finish(struct jh_platform *p)
{
	atomic_store(&p->done, true);
	poke(p->donefd);
	return -ESHUTDOWN;
}

static int ptrace_next(struct jh_platform *p, struct jh_syscall *ret)
{
	if (!p->spawned)
		return -ECHILD;
	if (!p->tracing)
		(void)begin_tracing(p); /* on failure the teardown below ends the run */
	for (;;) {
		int st = 0;
		pid_t w;

		if (atomic_exchange(&p->woken, false))
			return -EINTR;
		if (atomic_load(&p->done))
			return -ESHUTDOWN;
		if (atomic_load(&p->teardown_req) && !p->tearing) {
			p->tearing = true;
			kill_all(p);
		}
		w = wait_one(p, &st, p->tearing);
		if (w == -EINTR)
			continue;
		if (w == -ECHILD)
			return finish(p); /* nothing left to wait for */
		if (w > 0) {
			if (handle_status(p, w, st, ret))
				return 0;
			continue;
		}
		if (p->tearing) {
			pid_t pids[8];

			kill_all(p);
			if (p->ntasks == 0 && jh_list_children(p->keep, p->nkeep, pids, JH_ARRAY_SIZE(pids)) == 0)
				return finish(p);
			usleep(1000); /* kept helpers keep waitpid from saying ECHILD */
		}
	}
}

static void ptrace_wake(struct jh_platform *p)
{
	atomic_store(&p->woken, true);
	if (atomic_load(&p->waiter_set))
		pthread_kill(p->waiter, p->wake_sig);
}

/* The task still in the stop of `sc`, or NULL. Dispatcher thread only. */
static struct task *pending_task(struct jh_platform *p, const struct jh_syscall *sc)
{
	struct task *t = find_task(p, sc->tid);

	return t && sc->id && t->pending == sc->id ? t : NULL;
}

static int ptrace_read(struct jh_platform *p, const struct jh_syscall *sc, void *dst,
		       uint64_t addr, size_t len)
{
	/* Valid while the task is held in this call's stop. */
	if (!pending_task(p, sc))
		return -ESRCH;
	return jh_vm_read(sc->tid, dst, addr, len);
}

static int ptrace_read_string(struct jh_platform *p, const struct jh_syscall *sc, char *dst,
			      size_t cap, uint64_t addr)
{
	if (cap == 0)
		return -ENAMETOOLONG;
	if (!pending_task(p, sc))
		return -ESRCH;
	return jh_vm_read_string(sc->tid, dst, cap, addr);
}

static int ptrace_write(struct jh_platform *p, const struct jh_syscall *sc, uint64_t addr,
			const void *src, size_t len)
{
	if (!pending_task(p, sc))
		return -ESRCH;
	return jh_vm_write(sc->tid, addr, src, len);
}

/* Lets the task leave its stop; with `set`, the call is skipped and returns
 * `val` (a value, or -errno). */
static int release(struct jh_platform *p, const struct jh_syscall *sc, bool set, int64_t val)
{
	struct task *t = pending_task(p, sc);

	if (!t)
		return -ESRCH;
	t->pending = 0;
	if (set) {
#if defined(__x86_64__)
		t->regs.orig_rax = (unsigned long long)-1; /* skip the call */
		t->regs.rax = (unsigned long long)val;
		if (ptrace(PTRACE_SETREGS, t->tid, 0, &t->regs) < 0)
			return errno == ESRCH ? -ESRCH : jh_negerrno();
#endif
	}
	if (ptrace(p->trace ? PTRACE_SYSCALL : PTRACE_CONT, t->tid, 0, 0) < 0)
		return errno == ESRCH ? -ESRCH : jh_negerrno();
	return 0;
}

static int ptrace_answer(struct jh_platform *p, const struct jh_syscall *sc, int64_t value, int err)
{
	if (sc->kind != JH_SC_INTERCEPTED)
		return -EINVAL;
	return release(p, sc, true, err ? -(int64_t)err : value);
}

static int ptrace_answer_continue(struct jh_platform *p, const struct jh_syscall *sc)
{
	return release(p, sc, false, 0);
}

/* --- Fd injection (x86_64): the task receives the fd itself. ---
 *
 * ptrace has no ADDFD. The task is made to run, in place of the intercepted
 * call, a short sequence of calls of its own: socketpair(); we take one end
 * with pidfd_getfd() and send the fd over it; close() of that end; recvmsg()
 * on the other, which installs the fd at the lowest free number (as the open
 * would have); close() of the other end. Then the intercepted call returns the
 * new number. Each call after the first re-executes the task's own `syscall`
 * instruction (rip - 2) from its syscall-exit stop.
 *
 * Nothing the task can change during the sequence is trusted: the fd numbers
 * it reports in memory are verified (the received number must name our very
 * file: kcmp), a racing thread can only break its own process's call (then
 * the call fails, or — when the sequence itself was subverted, e.g. the
 * instruction at rip - 2 replaced — the process is killed), and the number of
 * stops is bounded. Signals that arrive meanwhile are held back and sent
 * again afterwards. Scratch memory is the task's stack below its red zone,
 * which no live frame uses while it is stopped in a call. */

#if defined(__x86_64__)

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
#ifndef KCMP_FILE
#define KCMP_FILE 0
#endif

#define INJECT_MAX_STOPS 64

struct inject {
	struct jh_platform *p;
	struct task *t;
	struct user_regs_struct base; /* at the intercepted call */
	bool first;		      /* still in the seccomp stop of the intercepted call */
	int sigs[8];		      /* signals held back */
	size_t nsigs;
};

/* Runs one call in the task. 0 with *ret_rv its result; -ESRCH if the task
 * died; -EPROTO if it did not make the call as set up. */
static int inject_call(struct inject *in, long nr, uint64_t a0, uint64_t a1, uint64_t a2,
		       uint64_t a3, int64_t *ret_rv)
{
	struct user_regs_struct r = in->base;
	pid_t tid = in->t->tid;
	bool entered = in->first;

	r.orig_rax = (unsigned long long)nr;
	r.rax = (unsigned long long)nr;
	r.rdi = a0, r.rsi = a1, r.rdx = a2, r.r10 = a3, r.r8 = 0, r.r9 = 0;
	if (!in->first)
		r.rip = in->base.rip - 2; /* the `syscall` instruction, again */
	in->first = false;
	if (ptrace(PTRACE_SETREGS, tid, 0, &r) < 0 || ptrace(PTRACE_SYSCALL, tid, 0, 0) < 0)
		return errno == ESRCH ? -ESRCH : -EPROTO;
	for (int stops = 0; stops < INJECT_MAX_STOPS; stops++) {
		struct __ptrace_syscall_info info;
		int st = 0, sig;
		unsigned event;
		pid_t w = waitpid(tid, &st, __WALL);

		if (w < 0) {
			if (errno != EINTR)
				return -ESRCH;
			if (atomic_load(&in->p->teardown_req))
				kill(tid, SIGKILL); /* its exit is reported next */
			stops--;
			continue;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			note_exit(in->p, tid, st);
			return -ESRCH;
		}
		if (!WIFSTOPPED(st))
			continue;
		sig = WSTOPSIG(st);
		event = (unsigned)st >> 16;
		if (event == PTRACE_EVENT_EXIT) {
			ptrace(PTRACE_CONT, tid, 0, 0); /* dying: the exit follows */
			continue;
		}
		if (event == PTRACE_EVENT_SECCOMP || event == PTRACE_EVENT_STOP) {
			ptrace(PTRACE_SYSCALL, tid, 0, 0);
			continue;
		}
		if (event != 0)
			return -EPROTO;
		if (sig != (SIGTRAP | 0x80)) {
			/* signal-delivery stop: hold the signal back */
			size_t i;
			for (i = 0; i < in->nsigs && in->sigs[i] != sig; i++)
				;
			if (i == in->nsigs && in->nsigs < JH_ARRAY_SIZE(in->sigs))
				in->sigs[in->nsigs++] = sig;
			ptrace(PTRACE_SYSCALL, tid, 0, 0);
			continue;
		}
		memset(&info, 0, sizeof(info));
		if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof(info), &info) <= 0)
			return -EPROTO;
		if (info.op == PTRACE_SYSCALL_INFO_ENTRY && !entered &&
		    info.entry.nr == (unsigned long long)nr) {
			entered = true;
			ptrace(PTRACE_SYSCALL, tid, 0, 0);
			continue;
		}
		if (info.op == PTRACE_SYSCALL_INFO_EXIT && entered) {
			*ret_rv = info.exit.rval;
			return 0;
		}
		return -EPROTO;
	}
	return -EPROTO;
}

/* Is the task's fd `n` our file `fd`? */
static bool same_file(pid_t tid, int pidfd, int n, int fd)
{
	long r = syscall(SYS_kcmp, getpid(), tid, KCMP_FILE, fd, n);
	struct stat a, b;
	int g, own = -1;

	if (r >= 0)
		return r == 0;
	/* no kcmp (CONFIG_KCMP off): the same inode will do */
	if (pidfd < 0)
		pidfd = own = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
	g = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, n, 0);
	if (own >= 0)
		close(own);
	if (g < 0)
		return false;
	r = fstat(g, &a) == 0 && fstat(fd, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	close(g);
	return r;
}

/* Sends `fd` with one byte over `sock`. */
static int send_fd(int sock, int fd)
{
	char byte = 'F';
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *cm;

	memset(&u, 0, sizeof(u));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) == 1 ? 0 : jh_negerrno();
}

/* The task's scratch area below its red zone. */
struct scratch {
	int sv[2];
	int pad[2];
	struct msghdr msg;
	struct iovec iov;
	char data[8];
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
};

/* The task runs recvmsg(sock, ...) on a msghdr built in its scratch area at
 * `at`. 0 with *ret_rv its result and *ret_n the fd number it reports having
 * received (-1: none; a number the task's memory says, to be verified), or
 * -EFAULT (the scratch area is not writable) and inject_call()'s errors. */
static int inject_recvmsg(struct inject *in, int sock, uint64_t at, bool cloexec, int64_t *ret_rv,
			  int *ret_n)
{
	pid_t tid = in->t->tid;
	struct scratch m;
	int r;

	memset(&m, 0, sizeof(m));
	m.iov = (struct iovec){.iov_base = (void *)(uintptr_t)(at + offsetof(struct scratch, data)),
			       .iov_len = sizeof(m.data)};
	m.msg.msg_iov = (void *)(uintptr_t)(at + offsetof(struct scratch, iov));
	m.msg.msg_iovlen = 1;
	m.msg.msg_control = (void *)(uintptr_t)(at + offsetof(struct scratch, cm));
	m.msg.msg_controllen = sizeof(m.cm.buf);
	if (jh_vm_write(tid, at + offsetof(struct scratch, msg), &m.msg,
			sizeof(m) - offsetof(struct scratch, msg)) < 0)
		return -EFAULT;
	r = inject_call(in, SYS_recvmsg, (uint64_t)sock, at + offsetof(struct scratch, msg),
			MSG_DONTWAIT | (cloexec ? MSG_CMSG_CLOEXEC : 0), 0, ret_rv);
	if (r < 0)
		return r;
	*ret_n = -1;
	if (*ret_rv == 1 &&
	    jh_vm_read(tid, &m.cm, at + offsetof(struct scratch, cm), sizeof(m.cm)) == 0 &&
	    m.cm.h.cmsg_level == SOL_SOCKET && m.cm.h.cmsg_type == SCM_RIGHTS &&
	    m.cm.h.cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(ret_n, CMSG_DATA(&m.cm.h), sizeof(int));
	return 0;
}

/* Installs `fd` in the task. The number installed (>= 0), a -errno for the
 * call to return, -ESRCH if the task died, or -EPROTO if it subverted the
 * sequence. Leaves the task in a syscall-exit stop unless it died. */
static int inject_fd(struct inject *in, int fd, bool cloexec)
{
	_cleanup_close_ int pidfd = -1, sock = -1;
	pid_t tid = in->t->tid;
	const uint64_t at = (in->base.rsp - 128 - sizeof(struct scratch)) & ~(uint64_t)15;
	struct scratch s;
	int64_t rv;
	int r, n, type = 0;
	socklen_t tl = sizeof(type);

	r = inject_call(in, SYS_socketpair, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
			at + offsetof(struct scratch, sv), &rv);
	if (r < 0)
		return r;
	if (rv < 0)
		return (int)rv; /* EMFILE, EFAULT: the open fails with it */
	if (jh_vm_read(tid, s.sv, at + offsetof(struct scratch, sv), sizeof(s.sv)) < 0)
		return -EPROTO;
	pidfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
	if (pidfd < 0)
		return errno == ESRCH ? -ESRCH : -EPROTO;
	sock = (int)syscall(SYS_pidfd_getfd, pidfd, s.sv[0], 0);
	if (sock < 0 || getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 ||
	    type != SOCK_SEQPACKET)
		return -EPROTO;
	r = send_fd(sock, fd);
	jh_closep(&sock);
	if (r < 0)
		return -EPROTO;
	r = inject_call(in, SYS_close, (uint64_t)s.sv[0], 0, 0, 0, &rv);
	if (r < 0)
		return r;

	r = inject_recvmsg(in, s.sv[1], at, cloexec, &rv, &n);
	if (r < 0)
		return r;
	r = inject_call(in, SYS_close, (uint64_t)s.sv[1], 0, 0, 0, &rv);
	if (r < 0)
		return r;
	if (n < 0)
		return -EMFILE; /* no fd received: the task is at its limit */
	if (!same_file(tid, pidfd, n, fd))
		return -EPROTO;
	return n;
}

/* --- The fast path: one injected call per fd. ---
 *
 * The four calls above cost eight stops. Instead, once per fd table (per
 * process image: the channel is close-on-exec), the task end of one
 * socketpair is installed at a fixed high number, chan_num (the first
 * task's soft RLIMIT_NOFILE - 1), if it is free there; an fd is
 * then sent over the sentry's end and the task runs a single recvmsg() on
 * chan_num, which installs it at the lowest free number. Every task that
 * inherits the channel (fork, threads) shares it: one message is in flight at
 * a time (the dispatcher is the only sender and waits for the receive), and
 * stale ones are drained first. Before each use, kcmp() checks that the
 * task's chan_num is our socket; a task that closed it, put something else
 * there, or lowered its fd limit below it gets the channel again or the slow
 * path. The cost is one fd the task can see at chan_num. A task that reads
 * from the channel itself only receives what the sandbox may have anyway
 * (every fd sent is the sandbox's), and makes its own opens fail. */

static void drain(int sock)
{
	for (int i = 0; i < 64; i++) {
		char byte;
		int fds[4];
		struct iovec iov = {.iov_base = &byte, .iov_len = 1};
		union {
			struct cmsghdr h;
			char buf[CMSG_SPACE(sizeof(fds))];
		} u;
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
				     .msg_controllen = sizeof(u.buf)};
		struct cmsghdr *cm;

		if (recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) < 0)
			return;
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
				size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
				memcpy(fds, CMSG_DATA(cm), JH_MIN(n, JH_ARRAY_SIZE(fds)) * sizeof(int));
				for (size_t k = 0; k < JH_MIN(n, JH_ARRAY_SIZE(fds)); k++)
					close(fds[k]);
			}
	}
}

static bool chan_present(struct jh_platform *p, pid_t tid)
{
	return p->chan_copy >= 0 && p->chan_num >= 0 && same_file(tid, -1, p->chan_num, p->chan_copy);
}

/* Installs the channel's task end at chan_num in the task: 0, -EAGAIN when
 * it cannot be had there (use the slow path), or inject_fd()'s errors. */
static int chan_install(struct inject *in)
{
	struct jh_platform *p = in->p;
	pid_t tid = in->t->tid;
	int64_t rv;
	int r, n;

	if (p->chan_ours < 0) {
		int sv[2];
		if (p->nofile < 64 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
			return -EAGAIN;
		p->chan_ours = sv[0];
		p->chan_copy = sv[1];
		p->chan_num = (int)JH_MIN(p->nofile - 1, (rlim_t)INT_MAX);
	}
	{
		/* chan_num must be free in the task: never replace one of its fds */
		int pidfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
		int g = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, p->chan_num, 0);
		bool busy = pidfd < 0 || g >= 0 || errno != EBADF;
		if (g >= 0)
			close(g);
		if (pidfd >= 0)
			close(pidfd);
		if (busy)
			return -EAGAIN;
	}
	n = inject_fd(in, p->chan_copy, true);
	if (n < 0)
		return n == -ESRCH || n == -EPROTO ? n : -EAGAIN;
	r = inject_call(in, SYS_dup3, (uint64_t)n, (uint64_t)p->chan_num, O_CLOEXEC, 0, &rv);
	if (r < 0)
		return r;
	{
		int64_t rv2;
		r = inject_call(in, SYS_close, (uint64_t)n, 0, 0, 0, &rv2);
		if (r < 0)
			return r;
	}
	return rv == p->chan_num ? 0 : -EAGAIN;
}

/* One recvmsg on the channel. The number installed, a -errno for the call,
 * -EAGAIN (use the slow path), -ESRCH or -EPROTO. */
static int inject_fd_fast(struct inject *in, int fd, bool cloexec)
{
	struct jh_platform *p = in->p;
	pid_t tid = in->t->tid;
	const uint64_t at = (in->base.rsp - 128 - sizeof(struct scratch)) & ~(uint64_t)15;
	int64_t rv;
	int r, n = -1;

	drain(p->chan_copy);
	drain(p->chan_ours);
	if (send_fd(p->chan_ours, fd) < 0)
		return -EAGAIN;
	r = inject_recvmsg(in, p->chan_num, at, cloexec, &rv, &n);
	if (r == -EFAULT) {
		drain(p->chan_copy);
		return -EAGAIN; /* no scratch area: the slow path says so */
	}
	if (r < 0)
		return r;
	if (rv != 1) {
		drain(p->chan_copy);
		return -EAGAIN; /* taken by someone else, or the channel is gone */
	}
	if (n < 0)
		return -EMFILE; /* received without the fd: the task is at its limit */
	if (!same_file(tid, -1, n, fd))
		return -EPROTO;
	return n;
}

static int ptrace_answer_fd(struct jh_platform *p, const struct jh_syscall *sc, int fd,
			    bool cloexec)
{
	struct task *t = pending_task(p, sc);
	struct inject in;
	int r = -EAGAIN;

	if (!t)
		return -ESRCH;
	t->pending = 0;
	in = (struct inject){.p = p, .t = t, .base = t->regs, .first = true};
	if (chan_present(p, t->tid) || (r = chan_install(&in)) == 0)
		r = inject_fd_fast(&in, fd, cloexec);
	if (r == -EAGAIN)
		r = inject_fd(&in, fd, cloexec);
	if (r == -ESRCH)
		return r;
	if (r == -EPROTO) {
		jh_warn("ptrace: task %d interfered with the installation of an fd; killed",
			(int)t->tid);
		kill(t->tid, SIGKILL);
		return -ESRCH;
	}
	/* Back to the intercepted call, which returns the fd or the error. */
	in.base.orig_rax = (unsigned long long)-1;
	in.base.rax = (unsigned long long)(int64_t)r;
	if (ptrace(PTRACE_SETREGS, t->tid, 0, &in.base) < 0 ||
	    ptrace(p->trace ? PTRACE_SYSCALL : PTRACE_CONT, t->tid, 0, 0) < 0)
		return -ESRCH;
	for (size_t i = 0; i < in.nsigs; i++)
		syscall(SYS_tkill, t->tid, in.sigs[i]);
	return r;
}

#else

static int ptrace_answer_fd(struct jh_platform *p, const struct jh_syscall *sc, int fd,
			    bool cloexec)
{
	int r = release(p, sc, true, -ENOSYS);

	return r < 0 ? r : -ENOSYS;
}

#endif

static int ptrace_regs(struct jh_platform *p, const struct jh_syscall *sc, struct jh_task_regs *ret)
{
	struct task *t = pending_task(p, sc);

	if (!t || sc->kind == JH_SC_TRACED)
		return -ESRCH;
#if defined(__x86_64__)
	{
		const struct user_regs_struct *g = &t->regs;
		const unsigned long long v[JH_TASK_REGS_MAX] = {
			g->rax, g->rdx, g->rcx, g->rbx, g->rsi, g->rdi, g->rbp, g->rsp, g->r8,
			g->r9,	g->r10, g->r11, g->r12, g->r13, g->r14, g->r15, g->rip,
		};
		for (int i = 0; i < JH_TASK_REGS_MAX; i++)
			ret->r[i] = v[i];
		ret->known = (1u << JH_TASK_REGS_MAX) - 1;
	}
	return 0;
#else
	return -EOPNOTSUPP;
#endif
}

/* Runs in the forked child; never returns. Only async-signal-safe calls. */
JH_NORETURN static void child_main(const struct jh_spawn_spec *spec, const struct sock_fprog *prog,
				   pid_t parent, int sync_w, int ack_r, int err_w)
{
	int keep[3] = {sync_w, ack_r, err_w};
	unsigned layers = 0;
	pid_t init = 0;
	int e, r;
	char c;

	/* In a pid namespace this goes on in init, which the tracer seizes
	 * (see child.h); its fork of the command is traced from the start. */
	r = jh_child_prepare(spec, parent, keep, JH_ARRAY_SIZE(keep), &layers, &init);
	if (r < 0) {
		errno = -r;
		goto fail;
	}
	/* Report the set-up ({0, layers entered}), then wait until the tracer
	 * has seized us: RET_TRACE without a tracer would fail intercepted calls
	 * with ENOSYS. */
	{
		int msg[JH_CHILD_REPORT_INTS] = {0, (int)layers, (int)init};
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
	jh_child_exec(spec, init, err_w);
fail:
	jh_child_fail(sync_w);
}

static int ptrace_spawn(struct jh_platform *p, const struct jh_spawn_spec *spec, pid_t *ret_pid)
{
	_cleanup_close_ int sync_r = -1, ack_w = -1, err_r = -1;
	struct sock_fprog prog;
	struct jh_child ch;
	int r;

	if (p->spawned)
		return -EBUSY;
	if (spec->nkeep_pids > JH_ARRAY_SIZE(p->keep))
		return -E2BIG;
	if (spec->nkeep_pids)
		memcpy(p->keep, spec->keep_pids, spec->nkeep_pids * sizeof(pid_t));
	p->nkeep = spec->nkeep_pids;
	p->timeout_ms = spec->timeout_ms;
	p->trace = spec->full_trace;
	{
		struct rlimit rl = {0};
		(void)getrlimit(RLIMIT_NOFILE, &rl); /* what the first task inherits */
		p->nofile = rl.rlim_cur;
		for (size_t i = 0; i < spec->nrlimits; i++)
			if (spec->rlimits[i].resource == RLIMIT_NOFILE)
				p->nofile = spec->rlimits[i].cur;
	}
	p->exec_events = spec->exec_events;
	r = jh_filter_compile_ex(spec->filter, JH_INTERCEPT_TRACE, &p->insns, &p->ninsns);
	if (r < 0)
		return r;
	if (p->ninsns == 0 || p->ninsns > BPF_MAX_INSNS)
		return -E2BIG;
	prog = (struct sock_fprog){.len = (unsigned short)p->ninsns, .filter = p->insns};

	r = jh_child_fork(child_main, spec, &prog, &ch);
	if (r < 0)
		return r;
	sync_r = ch.sync_r, ack_w = ch.ack_w, err_r = ch.err_r;
	p->pid = ch.pid;
	p->spawned = true;
	p->pidfd = pidfd_open(ch.pid, 0);
	if (p->pidfd < 0)
		return jh_negerrno();
	r = jh_child_report(sync_r, ch.pid, &p->layers, &p->holder);
	if (r < 0)
		return r;
	/* It now waits on ack_r: the first next() seizes it and writes ack_w. */
	p->ack_w = TAKE_FD(ack_w);
	p->errpipe = TAKE_FD(err_r);
	*ret_pid = ch.pid;
	return 0;
}

/* Kills and reaps what is left, from this thread: for when the dispatcher
 * stopped calling next() (it then no longer traces anything: its tracees were
 * killed by PTRACE_O_EXITKILL or are detached, and can be waited for here). */
static void reap_all_here(struct jh_platform *p)
{
	for (int rounds = 0; rounds < 10000; rounds++) {
		pid_t pids[512];
		size_t n;
		int st;

		if (!p->reaped)
			kill(-p->pid, SIGKILL);
		n = jh_list_children(p->keep, p->nkeep, pids, JH_ARRAY_SIZE(pids));
		if (n == 0)
			break;
		for (size_t i = 0; i < n; i++)
			kill(pids[i], SIGKILL);
		for (size_t i = 0; i < n; i++) {
			pid_t r = waitpid(pids[i], &st, __WALL | WNOHANG);
			if (r > 0 && r == p->pid && !p->reaped) {
				p->reaped = true;
				p->ex.wait_status = st;
			}
		}
		usleep(1000);
	}
}

static int ptrace_supervise(struct jh_platform *p, const sigset_t *forward, struct jh_exit *ret)
{
	_cleanup_close_ int sfd = -1, tfd = -1;
	bool timed_out = false;
	int64_t grace_until = -1;
	int e = 0;

	if (!p->spawned)
		return -ECHILD;
	sfd = signalfd(-1, forward, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return jh_negerrno();
	if (p->timeout_ms > 0) {
		tfd = jh_timeout_fd(p->timeout_ms);
		if (tfd < 0)
			return tfd;
	}
	for (;;) {
		struct pollfd pfd[4] = {{.fd = p->donefd, .events = POLLIN},
					{.fd = sfd, .events = POLLIN},
					{.fd = p->pidfd, .events = POLLIN},
					{.fd = tfd, .events = POLLIN}};
		struct signalfd_siginfo si;
		struct timespec now;
		int64_t now_ms, timeout = -1;

		clock_gettime(CLOCK_MONOTONIC, &now);
		now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
		if (grace_until >= 0) {
			if (now_ms >= grace_until) {
				/* The dispatcher is not finishing: do it here. */
				atomic_store(&p->teardown_req, true);
				reap_all_here(p);
				break;
			}
			timeout = grace_until - now_ms;
		}
		if (poll(pfd, tfd >= 0 ? 4 : 3, (int)timeout) < 0) {
			if (errno == EINTR)
				continue;
			atomic_store(&p->teardown_req, true);
			reap_all_here(p);
			break;
		}
		if (pfd[0].revents & POLLIN)
			break;
		if ((pfd[2].revents & POLLIN) && grace_until < 0) {
			/* The first task has exited: next() tears down now. */
			grace_until = now_ms + DISPATCHER_GRACE_MS;
			jh_closep(&p->pidfd);
		}
		if (tfd >= 0 && (pfd[3].revents & POLLIN)) {
			timed_out = true;
			atomic_store(&p->teardown_req, true);
			if (atomic_load(&p->waiter_set))
				pthread_kill(p->waiter, p->wake_sig);
			jh_closep(&tfd);
			if (grace_until < 0)
				grace_until = now_ms + DISPATCHER_GRACE_MS;
			continue;
		}
		while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
			/* Forward to the sandbox's process group (it is a session leader). */
			if (kill(-p->pid, (int)si.ssi_signo) < 0)
				kill(p->pid, (int)si.ssi_signo);
		}
	}
	atomic_thread_fence(memory_order_seq_cst);
	*ret = p->ex;
	ret->timed_out = timed_out;
	ret->layers = p->layers;
	if (p->errpipe >= 0 && JH_RETRY_EINTR(read(p->errpipe, &e, sizeof(e))) == sizeof(e))
		ret->exec_errno = e;
	return 0;
}

static void ptrace_destroy(struct jh_platform *p)
{
	if (!p)
		return;
	if (p->spawned && !atomic_load(&p->done)) {
		/* next() is no longer called: never-seized or orphaned tasks. */
		jh_closep(&p->ack_w);
		reap_all_here(p);
	}
	for (size_t i = 0; i < p->ntasks; i++)
		free(p->tasks[i]);
	free(p->tasks);
	free(p->insns);
	jh_closep(&p->pidfd);
	jh_closep(&p->ack_w);
	jh_closep(&p->errpipe);
	jh_closep(&p->donefd);
	jh_closep(&p->chan_ours);
	jh_closep(&p->chan_copy);
	free(p);
}

static unsigned ptrace_features(struct jh_platform *p)
{
#if defined(__x86_64__)
	return JH_FEAT_ADDFD; /* by injected calls: see inject_fd() */
#else
	return 0;
#endif
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
