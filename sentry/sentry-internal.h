/* Inside the sentry: one intercepted call being handled, and the handler table. */
#ifndef JH_SENTRY_INTERNAL_H
#define JH_SENTRY_INTERNAL_H

#include <limits.h>
#include <linux/sched.h>

#include "sentry/sentry.h"

struct jh_sentry;

/* clone(2) flags that create namespaces (CLONE_NEWTIME is an exit-signal bit
 * in clone's flags, and only valid for clone3/unshare). */
#define JH_NS_CLONE_FLAGS                                                                          \
	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |             \
	 CLONE_NEWPID | CLONE_NEWNET)

/* Strings copied out of the task for one call, at most this many bytes each. */
#define JH_CALL_STR_CAP PATH_MAX

struct jh_call {
	struct jh_sentry *s;
	struct jh_platform *p;
	const struct jh_platform_ops *ops;
	const struct jh_syscall *sc;
	const struct jh_syscall_info *info; /* NULL for an unknown number */

	/* Outcome, set by the handler. */
	enum jh_decision decision;
	int64_t result;
	int err;         /* errno answered, 0 for success */
	int inject_fd;   /* >= 0: install this fd in the task and answer with its number */
	bool inject_cloexec;
	bool cont;       /* let the original call run (decisions on registers only) */
	const char *detail;
	const char *stack;  /* forensics of a refusal, or NULL */
	const char *disasm;

	/* Copies of string arguments, for deciding and for the event. */
	const char *strs[JH_SYSCALL_MAX_ARGS];
	char strbuf[4][JH_CALL_STR_CAP];
	unsigned nstrbuf;
};

typedef void (*jh_handler_fn)(struct jh_call *c);

struct jh_handler_entry {
	const char *name;
	jh_handler_fn fn;
};

/* Handler registries, one per class file. Each ends with {NULL, NULL}. */
extern const struct jh_handler_entry jh_ident_handlers[];
extern const struct jh_handler_entry jh_proc_handlers[];
extern const struct jh_handler_entry jh_fd_handlers[];
extern const struct jh_handler_entry jh_fs_handlers[];  /* sentry/fs.c: path syscalls */
extern const struct jh_handler_entry jh_net_handlers[]; /* sentry/net.c: sockets */
extern const struct jh_handler_entry jh_pid_handlers[]; /* sentry/pids.c: other processes */

/* The configured hostname. */
const char *jh_sentry_hostname(const struct jh_sentry *s);

/* Sandbox membership without a pid namespace: a task is the sandbox's when its
 * session is one the sandbox made (the first task's, or one a task made with
 * setsid(), recorded by the setsid handler). Host processes, jhansi-exec and
 * its helpers are in other sessions. */
#define JH_MAX_SESSIONS 1024
bool jh_sentry_owns_pid(const struct jh_sentry *s, pid_t pid);
/* The tasks live in a pid namespace of their own (JH_LAYER_PIDNS): the pids
 * in their calls' arguments are numbers in it, which holds the sandbox's tasks
 * and nothing else; host pids (notifications, ptrace stops, the sessions
 * above) stay the sentry's own bookkeeping. */
bool jh_sentry_pidns(const struct jh_sentry *s);
bool jh_sentry_owns_session(const struct jh_sentry *s, pid_t sid);
int jh_sentry_add_session(struct jh_sentry *s, pid_t sid);

/* Copies string argument `i` of the call into a call-owned buffer (at most four
 * per call) and returns its length, or -EFAULT / -ENAMETOOLONG / -ESRCH. The
 * copy is kept in c->strs[i] for the event. */
int jh_call_read_string(struct jh_call *c, unsigned i);

/* Outcomes. */
void jh_call_deny(struct jh_call *c, int err, const char *detail);
void jh_call_emulated(struct jh_call *c, int64_t result, int err);
void jh_call_continue(struct jh_call *c, const char *detail);

/* Generic handlers used by the dispatcher itself. */
void jh_handle_deny(struct jh_call *c);
void jh_handle_unknown(struct jh_call *c);
void jh_handle_unimplemented(struct jh_call *c);

#endif
