/* The micro-benchmark operations shared by jh-bench-loop (run natively or
 * under a sandbox) and jh-bench-floor (run under a minimal seccomp-notify
 * supervisor), so both time exactly the same loop body.
 *
 * These programs are standalone probes: they use libc only, so that they run
 * unchanged under every peer sandbox (bubblewrap, PRoot, gVisor). */
#ifndef JH_BENCH_OPS_H
#define JH_BENCH_OPS_H

#include <stdbool.h>
#include <stdint.h>

enum bench_op {
	BENCH_OP_GETPPID, /* a passed call */
	BENCH_OP_OPEN,    /* open + close of BENCH_PATH */
	BENCH_OP_STAT,    /* stat of BENCH_PATH */
	BENCH_OP_UNAME,   /* jhansi-exec emulates it: a lookup answered with a value */
	BENCH_OP_CONNECT, /* socket + connect + accept + close to a loopback listener */
	BENCH_OP_SETNS,   /* setns(-1, CLONE_NEWUSER): refused through the sentry */
	BENCH_OP_COUNT,
};

#define BENCH_PATH "/etc/passwd"

/* Returns the op named `name`, or -1. */
int bench_op_parse(const char *name);
const char *bench_op_name(enum bench_op op);

/* The native syscall number one iteration of `op` is built around (what the
 * floor probe intercepts), or -1 for BENCH_OP_CONNECT. */
long bench_op_syscall(enum bench_op op);

/* Runs `op` after a short warm-up until `max_ops` iterations are done or
 * `budget_ns` has elapsed (checked every few iterations), whichever comes
 * first. On success stores the mean cost per iteration and the iteration
 * count and returns 0; returns -errno when an iteration fails in a way the op
 * does not expect (setns is expected to fail). */
int bench_op_measure(enum bench_op op, uint64_t max_ops, uint64_t budget_ns, double *ret_ns_per_op,
		     uint64_t *ret_ops);

/* Parses "OP [MAX_OPS [BUDGET_MS]]" style numeric arguments; false on garbage. */
bool bench_parse_u64(const char *s, uint64_t *ret);

#endif
