/* The sentry's run loop and dispatch.
 *
 * jh_sentry_run() builds the handler table (syscall number → handler, from the
 * abi fates and the handler names in abi/syscalls.tsv), spawns the command
 * through the platform, and runs two threads: the dispatcher, which loops on
 * next() → handler → answer → event, and the caller's thread, which supervises
 * the task tree (exits, orphans, forwarded signals). When the first task has
 * exited and every other task has been killed and reaped, the dispatcher is
 * woken and joined.
 *
 * Nothing is allocated per call: a call's strings live in a jh_call on the
 * dispatcher's stack. */
#include "sentry/sentry-internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/macro.h"
#include "sentry/fs.h"
#include "sentry/harden.h"
#include "sentry/fs-landlock.h"
#include "platform/layers.h"
#include "platform/forensics.h"
#include "sentry/net.h"

/* Refusals per run that get a stack and disassembly (each costs a fork). */
#define JH_FORENSICS_PER_RUN 32

struct jh_sentry {
	const struct jh_platform_ops *ops;
	struct jh_platform *p;
	const char *hostname;
	struct jh_sink sink;
	enum jh_arch arch;
	int max_nr;
	jh_handler_fn *table; /* [max_nr + 1] */
	pid_t first_pid;
	bool as_ids; /* the tasks run as uid/gid: so do the sentry's file lookups */
	uid_t uid;
	gid_t gid;
	/* Sessions of the sandbox: the first task's (it is a session leader) and
	 * each one a task made with setsid(). Without a pid namespace, "is this
	 * pid ours" is "is its session one of these". Touched by the dispatcher
	 * thread only. */
	pid_t sessions[JH_MAX_SESSIONS];
	size_t nsessions;
	bool pidns; /* the tasks live in a pid namespace of their own */
	atomic_bool stopping;
	unsigned forensics_done; /* refusals given forensics so far */
	bool killed_reported;    /* a KILLED event was emitted with its forensics */
	int error;
	struct jh_net *net; /* network runtime: policy, DNS answerer */
	struct jh_sentry_stats stats;
};

struct jh_net *jh_sentry_net(const struct jh_sentry *s)
{
	return s->net;
}

const char *jh_sentry_hostname(const struct jh_sentry *s)
{
	return s->hostname;
}

bool jh_sentry_owns_session(const struct jh_sentry *s, pid_t sid)
{
	if (sid <= 0)
		return false;
	for (size_t i = 0; i < s->nsessions; i++)
		if (s->sessions[i] == sid)
			return true;
	return false;
}

bool jh_sentry_pidns(const struct jh_sentry *s)
{
	return s->pidns;
}

bool jh_sentry_owns_pid(const struct jh_sentry *s, pid_t pid)
{
	if (pid <= 0)
		return false;
	return jh_sentry_owns_session(s, getsid(pid));
}

int jh_sentry_add_session(struct jh_sentry *s, pid_t sid)
{
	if (jh_sentry_owns_session(s, sid))
		return 0;
	if (s->nsessions >= JH_ARRAY_SIZE(s->sessions))
		return -ENOSPC;
	s->sessions[s->nsessions++] = sid;
	return 0;
}

void jh_sentry_forwarded_signals(sigset_t *ret)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
				   SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU};

	sigemptyset(ret);
	for (size_t i = 0; i < JH_ARRAY_SIZE(sigs); i++)
		sigaddset(ret, sigs[i]);
}

int jh_sentry_block_signals(void)
{
	sigset_t set;
	int r;

	jh_sentry_forwarded_signals(&set);
	sigaddset(&set, SIGCHLD);
	r = pthread_sigmask(SIG_BLOCK, &set, NULL);
	return r ? -r : 0;
}

static jh_handler_fn find_handler(const char *name)
{
	static const struct jh_handler_entry *const registries[] = {
		jh_ident_handlers,
		jh_proc_handlers,
		jh_fd_handlers,
		jh_fs_handlers,
		jh_net_handlers,
		jh_pid_handlers,
	};

	for (size_t r = 0; r < JH_ARRAY_SIZE(registries); r++)
		for (const struct jh_handler_entry *e = registries[r]; e->name; e++)
			if (strcmp(e->name, name) == 0)
				return e->fn;
	return NULL;
}

static int build_table(struct jh_sentry *s)
{
	s->max_nr = jh_abi_syscall_max_nr(s->arch);
	if (s->max_nr < 0)
		return -EINVAL;
	s->table = calloc((size_t)s->max_nr + 1, sizeof(*s->table));
	if (!s->table)
		return -ENOMEM;
	for (size_t i = 0; i < jh_abi_syscall_count(s->arch); i++) {
		const struct jh_syscall_info *info = jh_abi_syscall_at(s->arch, i);
		jh_handler_fn fn = NULL;

		if (info->nr < 0 || info->nr > s->max_nr)
			continue;
		switch (info->fate) {
		case JH_FATE_EMULATE:
			fn = info->handler ? find_handler(info->handler) : NULL;
			if (!fn)
				fn = jh_handle_unimplemented;
			break;
		case JH_FATE_DENY:
			fn = jh_handle_deny;
			break;
		default:
			/* Passed calls never reach us; if one does (an argument
			 * fast path that did not match), refuse rather than guess. */
			fn = jh_handle_unimplemented;
			break;
		}
		s->table[info->nr] = fn;
	}
	return 0;
}

/* --- Outcomes --- */

void jh_call_deny(struct jh_call *c, int err, const char *detail)
{
	c->decision = JH_DECISION_DENIED;
	c->err = err;
	c->result = -1;
	c->detail = detail;
}

void jh_call_emulated(struct jh_call *c, int64_t result, int err)
{
	c->decision = JH_DECISION_EMULATED;
	c->result = err ? -1 : result;
	c->err = err;
}

void jh_call_continue(struct jh_call *c, const char *detail)
{
	c->decision = JH_DECISION_ALLOWED;
	c->cont = true;
	c->detail = detail;
}

int jh_call_read_string(struct jh_call *c, unsigned i)
{
	char *buf;
	int r;

	if (i >= JH_SYSCALL_MAX_ARGS)
		return -EINVAL;
	if (c->strs[i])
		return (int)strlen(c->strs[i]);
	if (c->nstrbuf >= JH_ARRAY_SIZE(c->strbuf))
		return -ENOBUFS;
	if (c->sc->args[i] == 0)
		return -EFAULT;
	buf = c->strbuf[c->nstrbuf];
	r = c->ops->read_string(c->p, c->sc, buf, JH_CALL_STR_CAP, c->sc->args[i]);
	if (r < 0)
		return r;
	c->nstrbuf++;
	c->strs[i] = buf;
	return r;
}

/* --- Generic handlers --- */

void jh_handle_deny(struct jh_call *c)
{
	/* Copy string arguments for the record only (paths of mount, ...): a
	 * refusal does not depend on them, so racing them changes nothing. */
	for (unsigned i = 0; i < c->info->nargs; i++)
		if (jh_abi_arg_is_string(c->info, i))
			(void)jh_call_read_string(c, i);
	jh_call_deny(c, c->info->deny_errno ? c->info->deny_errno : EPERM, "refused by policy");
}

void jh_handle_unknown(struct jh_call *c)
{
	jh_call_deny(c, ENOSYS, "unknown syscall number");
}

void jh_handle_unimplemented(struct jh_call *c)
{
	jh_call_deny(c, ENOSYS, "handler not implemented");
}

/* --- Dispatch --- */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void emit_event(struct jh_sentry *s, struct jh_call *c)
{
	char args[1024];
	char unknown[32];
	struct jh_event ev = {
		.mono_ns = mono_ns(),
		.tid = c->sc->tid,
		.decision = c->decision,
		.result = c->result,
		.err = c->err,
		.detail = c->detail,
		.stack = c->stack,
		.disasm = c->disasm,
	};

	if (c->info) {
		jh_abi_format_args(args, sizeof(args), c->info, c->sc->args, c->strs);
		ev.cls = jh_abi_class_name(c->info->cls);
		ev.syscall = c->info->name;
	} else {
		snprintf(args, sizeof(args), "0x%llx, 0x%llx, 0x%llx, 0x%llx, 0x%llx, 0x%llx",
			 (unsigned long long)c->sc->args[0], (unsigned long long)c->sc->args[1],
			 (unsigned long long)c->sc->args[2], (unsigned long long)c->sc->args[3],
			 (unsigned long long)c->sc->args[4], (unsigned long long)c->sc->args[5]);
		snprintf(unknown, sizeof(unknown), "syscall_%d", c->sc->nr);
		ev.cls = jh_abi_class_name(JH_CLASS_UNKNOWN);
		ev.syscall = unknown;
	}
	ev.args = args;
	jh_sink_emit(&s->sink, &ev);
}

/* Forensics of a refusal: which code in the task made the call. Taken while
 * the task is still held in its stop, bounded per call (platform/forensics.h)
 * and per run, so that a task refused in a loop cannot slow the sentry. */
static void collect_forensics(struct jh_sentry *s, struct jh_call *c)
{
#ifdef JH_HAVE_FORENSICS
	static __thread char stack[4096], disasm[4096];
	struct jh_task_regs regs = {0};

	if (s->forensics_done >= JH_FORENSICS_PER_RUN)
		return;
	s->forensics_done++;
	if (s->ops->regs && s->ops->regs(s->p, c->sc, &regs) < 0)
		return; /* no longer pending */
	jh_forensics_collect(c->sc->tid, c->sc->ip, &regs, stack, sizeof(stack), disasm,
			     sizeof(disasm));
	/* Keep it only if the call is still pending: a task killed meanwhile may
	 * have had its tid reused by a process whose memory this is not. */
	if (s->ops->read(s->p, c->sc, NULL, 0, 0) < 0)
		return;
	c->stack = stack;
	c->disasm = disasm;
#else
	(void)s;
	(void)c;
#endif
}

/* A call being handled, with its abi entry (NULL for an unknown number or a
 * foreign architecture). Only the fields before the string buffers are
 * cleared: nothing is allocated or zeroed wholesale per call. */
static void call_init(struct jh_call *c, struct jh_sentry *s, const struct jh_syscall *sc)
{
	memset(c, 0, offsetof(struct jh_call, strbuf));
	c->s = s;
	c->p = s->p;
	c->ops = s->ops;
	c->sc = sc;
	c->inject_fd = -1;
	c->nstrbuf = 0; /* after the buffers: not cleared above */
	if (sc->arch == s->arch && sc->nr >= 0 && sc->nr <= s->max_nr)
		c->info = jh_abi_syscall_by_nr(s->arch, sc->nr);
}

static void handle_one(struct jh_sentry *s, const struct jh_syscall *sc)
{
	char why[256];
	struct jh_call c;
	jh_handler_fn fn = NULL;
	int r;

	call_init(&c, s, sc);
	if (c.info)
		fn = s->table[sc->nr];
	if (!c.info || !fn)
		fn = jh_handle_unknown;
	if (!jh_fs_exec_verify(sc->tid, why, sizeof(why))) {
		/* exec hook: the process runs another file than the one checked */
		kill(sc->tid, SIGKILL);
		c.decision = JH_DECISION_KILLED;
		c.err = EPERM;
		c.result = -1;
		c.detail = why;
		s->ops->answer(s->p, sc, -1, EPERM);
		s->stats.count[c.info ? c.info->cls : JH_CLASS_UNKNOWN][c.decision]++;
		emit_event(s, &c);
		return;
	}
	fn(&c);
	if (c.decision == JH_DECISION_DENIED)
		collect_forensics(s, &c);

	if (c.cont)
		r = s->ops->answer_continue(s->p, sc);
	else if (c.inject_fd >= 0) {
		r = s->ops->answer_fd(s->p, sc, c.inject_fd, c.inject_cloexec);
		if (r >= 0)
			c.result = r;
		else if (r != -ESRCH) {
			/* Not installed (the task is at its fd limit): the call is
			 * still waiting (unotify) — it fails with the reason. */
			c.result = -1;
			c.err = -r;
			(void)s->ops->answer(s->p, sc, -1, -r);
			r = 0;
		}
		jh_closep(&c.inject_fd);
	} else
		r = s->ops->answer(s->p, sc, c.result, c.err);
	if (r < 0 && r != -ESRCH)
		jh_debug("answering %s of task %d failed: %s", c.info ? c.info->name : "syscall",
			 (int)sc->tid, strerror(-r));

	s->stats.count[c.info ? c.info->cls : JH_CLASS_UNKNOWN][c.decision]++;
	emit_event(s, &c);
}

/* Full trace: a call that ran natively and has finished. Recorded with its
 * strings (the task is held until released), then let go. */
static void handle_traced(struct jh_sentry *s, const struct jh_syscall *sc)
{
	struct jh_call c;

	call_init(&c, s, sc);
	c.decision = JH_DECISION_PASSED;
	if (sc->traced_ret < 0 && sc->traced_ret >= -4095) {
		c.result = -1;
		c.err = (int)-sc->traced_ret;
	} else
		c.result = sc->traced_ret;
	/* After a successful exec the old pointers mean nothing in the new image. */
	if (c.info && !(sc->traced_ret == 0 && strncmp(c.info->name, "execve", 6) == 0))
		for (unsigned i = 0; i < c.info->nargs; i++)
			if (jh_abi_arg_is_string(c.info, i))
				(void)jh_call_read_string(&c, i);
	s->stats.count[c.info ? c.info->cls : JH_CLASS_UNKNOWN][c.decision]++;
	emit_event(s, &c);
	(void)s->ops->answer_continue(s->p, sc);
}

/* ptrace: a task the filter is killing (foreign syscall ABI), held at its
 * exit. Recorded with the code that made the call, then let die. */
static void handle_killed(struct jh_sentry *s, const struct jh_syscall *sc)
{
	struct jh_call c;
	char args[200];

	call_init(&c, s, sc);
	c.decision = JH_DECISION_KILLED;
	collect_forensics(s, &c);
	snprintf(args, sizeof(args), "nr %d, 0x%llx, 0x%llx, 0x%llx", sc->nr,
		 (unsigned long long)sc->args[0], (unsigned long long)sc->args[1],
		 (unsigned long long)sc->args[2]);
	{
		struct jh_event ev = {
			.mono_ns = mono_ns(),
			.tid = sc->tid,
			.cls = jh_abi_class_name(JH_CLASS_SYSTEM),
			.syscall = "(filtered)",
			.args = args,
			.decision = JH_DECISION_KILLED,
			.detail = "task killed by the filter: foreign syscall ABI (i386 int 0x80, "
				  "x32); registers as the kernel left them",
			.stack = c.stack,
			.disasm = c.disasm,
		};
		s->stats.count[JH_CLASS_SYSTEM][JH_DECISION_KILLED]++;
		jh_sink_emit(&s->sink, &ev);
	}
	s->killed_reported = true;
	(void)s->ops->answer_continue(s->p, sc);
}

/* ptrace: a process has just exec'd, held before its first instruction. The
 * exec hook's check at the one point the task cannot race: the image now
 * running must be the file that was checked when execve was intercepted. */
static void handle_exec_event(struct jh_sentry *s, const struct jh_syscall *sc)
{
	char why[256];
	struct jh_call c;

	if (jh_fs_exec_verify(sc->tid, why, sizeof(why))) {
		(void)s->ops->answer_continue(s->p, sc);
		return;
	}
	call_init(&c, s, sc);
	kill(sc->tid, SIGKILL);
	c.decision = JH_DECISION_KILLED;
	c.err = EPERM;
	c.result = -1;
	c.detail = why;
	s->stats.count[c.info ? c.info->cls : JH_CLASS_UNKNOWN][c.decision]++;
	emit_event(s, &c);
	(void)s->ops->answer_continue(s->p, sc);
}

static void *dispatch_main(void *arg)
{
	struct jh_sentry *s = arg;

	/* Started as root for tasks that run as uid/gid: every file the sentry
	 * opens, stats or connects to on their behalf is looked up with their
	 * filesystem credentials, so the kernel applies their permissions
	 * (search rights on every directory, ACLs) and not root's. The fsuid,
	 * fsgid and groups are per thread in Linux; the raw syscalls change this
	 * thread only (glibc's wrappers would change every thread). Ptrace and
	 * process_vm_* checks use the real ids, which stay root's. */
	if (s->as_ids) {
		if (syscall(SYS_setgroups, 0, NULL) < 0 || syscall(SYS_setfsgid, s->gid) < 0 ||
		    syscall(SYS_setfsuid, s->uid) < 0) {
			s->error = jh_negerrno();
			jh_error("sentry: taking the sandbox's file credentials failed");
			kill(-s->first_pid, SIGKILL);
			return NULL;
		}
	}

	for (;;) {
		struct jh_syscall sc;
		int r = s->ops->next(s->p, &sc);

		if (r == -EINTR) {
			if (atomic_load(&s->stopping))
				break;
			continue;
		}
		if (r == -ESHUTDOWN)
			break; /* no task uses the filter any more */
		if (r < 0) {
			if (atomic_load(&s->stopping))
				break;
			/* The listener broke: the sandbox must not run on unsupervised. */
			s->error = r;
			jh_error("sentry: receiving syscalls failed: %s; stopping the sandbox",
				 strerror(-r));
			kill(-s->first_pid, SIGKILL);
			kill(s->first_pid, SIGKILL);
			break;
		}
		if (sc.kind == JH_SC_TRACED)
			handle_traced(s, &sc);
		else if (sc.kind == JH_SC_KILLED)
			handle_killed(s, &sc);
		else if (sc.kind == JH_SC_EXEC)
			handle_exec_event(s, &sc);
		else
			handle_one(s, &sc);
	}
	return NULL;
}

static void stop_dispatcher(struct jh_sentry *s, pthread_t th)
{
	atomic_store(&s->stopping, true);
	for (;;) {
		struct timespec ts;

		s->ops->wake(s->p);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if (pthread_timedjoin_np(th, NULL, &ts) == 0)
			return;
	}
}

int jh_sentry_run(const struct jh_sentry_config *cfg, const struct jh_sentry_command *cmd,
		  struct jh_run_result *ret)
{
	struct jh_sentry s = {0};
	struct jh_filter_spec spec = {0};
	struct jh_spawn_spec sp;
	struct jh_exit ex = {0};
	sigset_t forward;
	pthread_t th;
	pid_t pid;
	int ll_fd = -1;
	unsigned ll_layers = 0;
	struct jh_fs *fs = NULL;
	struct jh_changes changes = {0};
	int r;

	s.ops = cfg->platform ? cfg->platform : &jh_platform_unotify;
	s.as_ids = cfg->drop_ids;
	s.uid = cfg->uid;
	s.gid = cfg->gid;
	s.hostname = cfg->hostname ? cfg->hostname : JH_DEFAULT_HOSTNAME;
	s.sink = cfg->sink;
	s.arch = jh_abi_native_arch();
	if (cfg->trace && s.ops != &jh_platform_ptrace)
		return -EOPNOTSUPP; /* only ptrace sees the calls that pass */

	r = build_table(&s);
	if (r < 0)
		goto out;
	/* The gofer starts before the sandbox and outlives its teardown. It is
	 * forked first, while this process has one thread (the network runtime
	 * starts one): a child of a multi-threaded process inherits the locks
	 * the other threads held. */
	r = jh_fs_setup(cfg->fs, cmd->path, &fs);
	if (r < 0)
		goto out;
	r = jh_net_new(cfg->net, &s.sink, cfg->fs ? cfg->fs->workspace : NULL, &s.net);
	if (r < 0)
		goto out;
	r = jh_sentry_filter_spec(&spec);
	if (r < 0)
		goto out;
	r = s.ops->create(&s.p);
	if (r < 0)
		goto out;
	/* Landlock: what the tasks may do themselves (the sentry is outside),
	 * the filesystem part mirroring the view. */
	if (cfg->layers & JH_LAYERS_LANDLOCK) {
		r = jh_view_landlock_ruleset(jh_fs_view(fs), cfg->layers & JH_LAYERS_LANDLOCK,
					     &ll_layers, NULL);
		if (r >= 0)
			ll_fd = r;
		else if (r != -EOPNOTSUPP)
			goto out;
	}

	sp = (struct jh_spawn_spec){
		.path = cmd->path,
		.argv = cmd->argv,
		.envp = cmd->envp,
		.filter = &spec,
		.cwd = cmd->cwd,
		.rlimits = cfg->rlimits,
		.nrlimits = cfg->nrlimits,
		.drop_ids = cfg->drop_ids,
		.uid = cfg->uid,
		.gid = cfg->gid,
		.timeout_ms = cfg->timeout_ms,
		.layers = cfg->layers,
		.hostname = s.hostname,
		.landlock = ll_fd >= 0,
		.landlock_fd = ll_fd,
		.full_trace = cfg->trace,
		.exec_events = true, /* the exec hook: handle_exec_event() */
		.mountns = jh_fs_mount_plan(fs),
	};
	r = s.ops->spawn(s.p, &sp, &pid);
	jh_closep(&ll_fd);
	if (r < 0)
		goto out;
	s.first_pid = pid;
	jh_fs_set_sandbox(fs, pid);
	/* Entered or the spawn failed (platform/child.c): the tasks' pids and
	 * /proc are the namespace's from here on. */
	if (cfg->layers & JH_LAYER_PIDNS) {
		s.pidns = true;
		r = fs ? jh_fs_set_pidns(fs, pid) : -EINVAL;
		if (r < 0) {
			jh_error("sentry: cannot reach the pid namespace's /proc: %s", strerror(-r));
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			goto out;
		}
	}
	s.sessions[s.nsessions++] = pid; /* the first task is a session leader */

	if (cfg->spawned) {
		r = cfg->spawned(cfg->spawned_ctx);
		if (r < 0) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			goto out;
		}
	}
	/* Set-up is over: from here on the sentry runs nothing, mounts nothing,
	 * makes no namespace (harden.h). */
	r = jh_sentry_harden();
	if (r < 0) {
		jh_error("sentry: installing its own seccomp filter failed: %s", strerror(-r));
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		goto out;
	}
	r = -pthread_create(&th, NULL, dispatch_main, &s);
	if (r < 0) {
		kill(-pid, SIGKILL);
		goto out;
	}
	jh_sentry_forwarded_signals(&forward);
	r = s.ops->supervise(s.p, &forward, &ex);
	stop_dispatcher(&s, th);
	if (r < 0)
		goto out;
	if (jh_fs_failed(fs) && !s.error)
		s.error = -EIO; /* the gofer died: file calls failed, the run did too */
	if (jh_fs_finish(fs, &changes) < 0 && !s.error)
		s.error = -EIO;

	ex.layers |= ll_layers; /* the first task would not have run without them */
	if (ex.filter_killed && !s.killed_reported) {
		struct jh_event ev = {
			.mono_ns = mono_ns(),
			.tid = ex.filter_killed_tid,
			.cls = jh_abi_class_name(JH_CLASS_SYSTEM),
			.syscall = "(filtered)",
			.args = "",
			.decision = JH_DECISION_KILLED,
			.detail = "task died of SIGSYS: the filter kills foreign syscall ABIs "
				  "(i386 int 0x80, x32)",
		};
		s.stats.count[JH_CLASS_SYSTEM][JH_DECISION_KILLED]++;
		jh_sink_emit(&s.sink, &ev);
	}
	*ret = (struct jh_run_result){
		.exit = ex,
		.features = s.ops->features(s.p),
		.sentry_error = s.error,
		.stats = s.stats,
		.changes = changes,
	};
	r = 0;
out:
	jh_fs_free(fs);
	jh_closep(&ll_fd);
	if (s.p)
		s.ops->destroy(s.p);
	jh_net_free(s.net);
	jh_sentry_filter_spec_free(&spec);
	free(s.table);
	return r;
}
