/* The platform interface: how syscalls of the sandboxed task tree are
 * intercepted, read and answered. The sentry is written against this
 * interface only, and does not know which backend it runs on.
 *
 * Backends: `unotify` (seccomp user notification; fds injected with ADDFD) and
 * `ptrace` (seccomp trace stops; register access; also a full-trace mode). Both deliver the same
 * `struct jh_syscall` and accept the same answers. A backend instance serves one
 * sandboxed task tree: spawn() once, then one thread loops on next()/answer
 * while another runs supervise() until the tree is gone.
 */
#ifndef JH_PLATFORM_PLATFORM_H
#define JH_PLATFORM_PLATFORM_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "abi/abi.h"

/* One intercepted syscall, as seen by any backend. Arguments are a copy taken
 * by the kernel at interception: deciding on them is race-free; deciding on
 * the memory they point to is not (see the TOCTOU rule). */
enum jh_syscall_kind {
	JH_SC_INTERCEPTED = 0, /* waiting for an answer */
	JH_SC_TRACED,          /* full-trace record of a call that ran natively: finished
				* (traced_ret holds its result); the task waits, its memory
				* readable, until released with answer_continue() */
	JH_SC_KILLED,          /* ptrace: a task the filter is killing (SIGSYS: foreign
				* ABI), held at its exit with its registers and memory
				* for forensics; nr/args/ip as at the call; release it
				* with answer_continue() */
	JH_SC_EXEC,            /* ptrace: a process has just exec'd (PTRACE_EVENT_EXEC),
				* held before its first instruction; nr/args as left by
				* the execve; release it with answer_continue() */
};

struct jh_syscall {
	uint64_t id; /* backend cookie (notification id / stop serial) */
	pid_t tid;   /* calling thread, host tid */
	enum jh_arch arch;
	uint32_t audit_arch; /* raw AUDIT_ARCH_* value */
	int nr;
	uint64_t args[JH_SYSCALL_MAX_ARGS];
	uint64_t ip; /* instruction pointer after the syscall instruction */
	enum jh_syscall_kind kind;
	int64_t traced_ret; /* JH_SC_TRACED: the value returned (-errno on failure) */
};

/* Registers of a task stopped in an intercepted call, for stack unwinding.
 * Indexed by DWARF register number (x86_64: 0 rax ... 7 rsp, 8-15 r8-r15,
 * 16 rip); bit i of `known` says whether r[i] is valid. */
#define JH_TASK_REGS_MAX 17
struct jh_task_regs {
	uint64_t r[JH_TASK_REGS_MAX];
	uint32_t known;
};

/* --- The filter: what is passed, intercepted, or refused in-kernel. --- */

enum jh_filter_action {
	JH_FILTER_ALLOW,     /* runs natively */
	JH_FILTER_INTERCEPT, /* reaches the sentry through next() */
	JH_FILTER_ERRNO,     /* refused in the kernel with `err` (not seen by the sentry) */
};

struct jh_filter_rule {
	int nr; /* native syscall number */
	enum jh_filter_action action;
	int err;     /* for JH_FILTER_ERRNO */
	int arg;     /* -1: unconditional; else the rule applies when */
	uint64_t mask; /* (args[arg] & mask) == value */
	uint64_t value;
};

/* Several rules for one syscall with the same action are ORed. Whatever matches
 * no rule is intercepted; a foreign architecture (i386 int 0x80, x32) kills the
 * process. `hot` lists syscall numbers to test first (most frequent first). */
struct jh_filter_spec {
	const struct jh_filter_rule *rules;
	size_t nrules;
	const int *hot;
	size_t nhot;
};

/* Compiles `spec` into a classic BPF program for the native architecture (with
 * libseccomp). `*ret_prog` is malloc'd (struct sock_filter array), `*ret_len`
 * its instruction count. -errno on failure (-EINVAL naming no rule: invalid spec). */
int jh_filter_compile(const struct jh_filter_spec *spec, void **ret_prog, size_t *ret_len);

/* How intercepted calls reach the supervisor. */
enum jh_filter_intercept {
	JH_INTERCEPT_NOTIFY, /* SECCOMP_RET_USER_NOTIF (unotify backend) */
	JH_INTERCEPT_TRACE,  /* SECCOMP_RET_TRACE: a seccomp stop of the tracer (ptrace backend) */
};

/* jh_filter_compile() with the interception action chosen. */
int jh_filter_compile_ex(const struct jh_filter_spec *spec, enum jh_filter_intercept how,
			 void **ret_prog, size_t *ret_len);

/* Filters compiled at build time. libseccomp takes about 2 ms to compile the
 * sandbox's filter, most of jhansi-exec's start-up budget; the build compiles
 * the default specs once (tools/gen-filter.c) and jhansi-exec registers them.
 * jh_filter_compile_ex() then returns a copy of the prebuilt program whose
 * key matches the spec, and compiles with libseccomp otherwise. */
struct jh_prebuilt_filter {
	uint64_t key; /* jh_filter_spec_key() of the spec it was compiled from */
	const void *insns;
	size_t len; /* instructions */
};

/* A 64-bit digest (FNV-1a) of everything in `spec` and `how` that shapes the
 * program. The spec is built by jhansi-exec, never by the sandbox. */
uint64_t jh_filter_spec_key(const struct jh_filter_spec *spec, enum jh_filter_intercept how);
/* Registers `n` prebuilt programs (static storage); NULL, 0 unregisters. */
void jh_filter_register_prebuilt(const struct jh_prebuilt_filter *list, size_t n);
/* jh_filter_compile_ex(), always with libseccomp (for the build-time generator). */
int jh_filter_compile_fresh(const struct jh_filter_spec *spec, enum jh_filter_intercept how,
			    void **ret_prog, size_t *ret_len);

/* --- Spawning and supervising. --- */

struct jh_rlimit {
	int resource; /* RLIMIT_* */
	uint64_t cur, max;
};

struct jh_mountns_plan;

struct jh_spawn_spec {
	const char *path;   /* executable to run: already resolved, absolute or relative to cwd */
	char *const *argv;  /* argv[0] is what the program sees */
	char *const *envp;
	const struct jh_filter_spec *filter;
	const char *cwd;    /* working directory of the first task; NULL: inherited */
	const struct jh_rlimit *rlimits; /* applied in the first task before exec */
	size_t nrlimits;
	bool drop_ids;      /* switch to uid/gid (no supplementary groups) before exec */
	uid_t uid;
	gid_t gid;
	int64_t timeout_ms; /* > 0: supervise() kills the tree after this long */
	const pid_t *keep_pids; /* our own helpers (gofer ...): never killed by the teardown */
	size_t nkeep_pids;
	bool full_trace;    /* ptrace only: every call of every task is also delivered by
			     * next() as a JH_SC_TRACED record once finished */
	bool exec_events;   /* ptrace only: each exec is delivered by next() as a JH_SC_EXEC
			     * record, the process held before its first instruction */
	unsigned layers;      /* JH_LAYER_* namespaces to enter where the host allows;
			       * JH_LAYER_NETNS and JH_LAYER_PIDNS must be entered
			       * (failing to is a set-up error: the network policy
			       * and the sentry's pid handling count on them);
			       * JH_LAYER_PIDNS needs `mountns` */
	const char *hostname; /* set in a new UTS namespace */
	bool landlock;        /* enforce the Landlock ruleset `landlock_fd` (layers.h) */
	int landlock_fd;
	/* Non-NULL: enter a mount namespace holding this plan (mountns.h), after the
	 * user namespace; failing to is a set-up error. cwd is then a path in it. */
	const struct jh_mountns_plan *mountns;
};

struct jh_exit {
	int wait_status;     /* of the first task, as from waitpid() */
	bool timed_out;      /* the timeout expired and the tree was killed */
	int exec_errno;      /* != 0: the first task could not exec (nothing ran) */
	unsigned layers;     /* JH_LAYER_* namespaces the first task entered */
	bool filter_killed;  /* some task died of SIGSYS: killed by the filter */
	pid_t filter_killed_tid;
};

enum jh_platform_feature {
	JH_FEAT_SYNC_WAKEUP = 1u << 0, /* SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP active */
	JH_FEAT_ADDFD = 1u << 1,       /* fds can be injected atomically with the answer */
};

struct jh_platform;

struct jh_platform_ops {
	const char *name;
	/* Probes the host; 0 if the backend can run here, else -errno with a reason. */
	int (*probe)(const char **ret_reason);
	/* Creates an instance. */
	int (*create)(struct jh_platform **ret);
	/* Frees the instance; kills and reaps whatever it still supervises. */
	void (*destroy)(struct jh_platform *p);
	/* Starts spec->path under interception in a new session, fds 0-2 inherited and
	 * nothing else. Returns once interception is in place; exec failures are
	 * reported later by supervise(). Call once, from the thread that will call
	 * supervise(), with SIGCHLD and the forwarded signals blocked. */
	int (*spawn)(struct jh_platform *p, const struct jh_spawn_spec *spec, pid_t *ret_pid);
	/* Waits for the next intercepted syscall. 0 with *ret filled; -EINTR after
	 * wake(); -ESHUTDOWN when interception is over; other -errno on failure. */
	int (*next)(struct jh_platform *p, struct jh_syscall *ret);
	/* Interrupts a next() blocked in another thread (it returns -EINTR). */
	void (*wake)(struct jh_platform *p);
	/* Copies `len` bytes of the task's memory at `addr`. -EFAULT if any byte is
	 * unreadable; -ESRCH if the call is no longer pending (task gone, pid reused). */
	int (*read)(struct jh_platform *p, const struct jh_syscall *sc, void *dst, uint64_t addr,
		    size_t len);
	/* Copies the NUL-terminated string at `addr` into dst (capacity `cap`,
	 * including the NUL). Returns its length; -ENAMETOOLONG if no NUL within
	 * cap bytes; -EFAULT if unreadable before the NUL; -ESRCH as read(). */
	int (*read_string)(struct jh_platform *p, const struct jh_syscall *sc, char *dst, size_t cap,
			   uint64_t addr);
	/* Writes `len` bytes into the task at `addr`; -EFAULT, -ESRCH. */
	int (*write)(struct jh_platform *p, const struct jh_syscall *sc, uint64_t addr,
		     const void *src, size_t len);
	/* Answers the call: it returns `value`, or fails with `err` when err != 0. */
	int (*answer)(struct jh_platform *p, const struct jh_syscall *sc, int64_t value, int err);
	/* Lets the original call run in the kernel. Only for decisions taken on the
	 * register arguments, never on task memory (TOCTOU rule). */
	int (*answer_continue)(struct jh_platform *p, const struct jh_syscall *sc);
	/* Installs a copy of `fd` in the task and answers with its number, atomically.
	 * Returns the task's fd number or -errno. */
	int (*answer_fd)(struct jh_platform *p, const struct jh_syscall *sc, int fd, bool cloexec);
	/* Runs until the first task exits: reaps orphans (subreaper), forwards the
	 * signals in `forward` to the sandbox, then kills and reaps every task
	 * left. Fills *ret. */
	int (*supervise)(struct jh_platform *p, const sigset_t *forward, struct jh_exit *ret);
	/* JH_FEAT_* flags active on this instance (valid after spawn). */
	unsigned (*features)(struct jh_platform *p);
	/* Optional (may be NULL): the registers of the task stopped in `sc`, as far
	 * as the backend knows them; -ESRCH if the call is no longer pending. */
	int (*regs)(struct jh_platform *p, const struct jh_syscall *sc, struct jh_task_regs *ret);
};

extern const struct jh_platform_ops jh_platform_unotify;
/* ptrace: syscall stops (SECCOMP_RET_TRACE), no listener needed. Fds cannot be
 * injected yet: answer_fd() answers the call with ENOSYS and returns -ENOSYS. */
extern const struct jh_platform_ops jh_platform_ptrace;

/* Backend by name ("unotify", "ptrace"), or NULL. */
const struct jh_platform_ops *jh_platform_by_name(const char *name);

/* The backend `auto` picks: unotify when a child of ours can create a seccomp
 * listener, else ptrace. *ret_reason (static) says why, for --explain. */
const struct jh_platform_ops *jh_platform_auto(const char **ret_reason);

#endif
