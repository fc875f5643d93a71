/* Events and the sink they flow into.
 *
 * Every emulated or denied syscall becomes one jh_event, handed to a sink. The
 * sentry produces them; the audit store, the --log-events printer and tests
 * consume them. A sink's emit() must not block on disk I/O and must copy what
 * it keeps: the event's strings belong to the caller and die after the call.
 * emit() may be called from several threads at once.
 */
#ifndef JH_AUDIT_EVENT_H
#define JH_AUDIT_EVENT_H

#include <stdint.h>

enum jh_decision {
	JH_DECISION_PASSED = 0, /* passed through natively; seen only in full-trace mode */
	JH_DECISION_ALLOWED,    /* checked by the sentry, then performed */
	JH_DECISION_EMULATED,   /* answered by the sentry's own emulation */
	JH_DECISION_DENIED,     /* refused with an errno */
	JH_DECISION_KILLED,     /* the task was killed (foreign ABI, exec mismatch ...) */
	JH_DECISION_COUNT,
};

struct jh_event {
	uint64_t mono_ns;    /* CLOCK_MONOTONIC at the decision */
	int32_t tid;         /* host tid of the calling task */
	const char *cls;     /* syscall class name: "file", "ident" ... */
	const char *syscall; /* syscall name: "openat" */
	const char *args;    /* decoded arguments: `AT_FDCWD, "/etc/passwd", O_RDONLY` */
	enum jh_decision decision;
	int64_t result; /* value returned when err == 0 */
	int32_t err;    /* errno returned to the task, 0 on success */
	const char *detail; /* why: the rule or reason, or NULL */
	/* Forensics of a denied or killed call, or NULL (see platform/forensics.h):
	 * the task's stack, one frame per line ("#1 0x... try_mount+0x14 (prog)"),
	 * and the code around the syscall site, one instruction per line, the
	 * syscall marked "=>", after a "site ..." line naming its mapping. */
	const char *stack;
	const char *disasm;
};

struct jh_sink_ops {
	/* Records one event. Never blocks on disk; copies what it keeps. */
	void (*emit)(void *ctx, const struct jh_event *ev);
};

struct jh_sink {
	const struct jh_sink_ops *ops;
	void *ctx;
};

static inline void jh_sink_emit(const struct jh_sink *sink, const struct jh_event *ev)
{
	if (sink && sink->ops)
		sink->ops->emit(sink->ctx, ev);
}

/* "passed", "allowed", "emulated", "denied", "killed". */
const char *jh_decision_name(enum jh_decision d);

/* A sink that prints each event as one line on `fd`:
 *   jhansi: [1234] denied mount("none", "/mnt", ...) = -1 EPERM (Operation not permitted)
 * `*ret` is filled in; no allocation; the fd must outlive the sink. */
void jh_sink_stderr_init(struct jh_sink *ret, int *fd_ctx);

/* A sink that forwards to up to four sinks in order. */
struct jh_sink_tee {
	struct jh_sink to[4];
	unsigned n;
};
void jh_sink_tee_init(struct jh_sink *ret, struct jh_sink_tee *tee);

#endif
