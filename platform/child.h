/* Set-up of the first task, shared by the backends (internal to platform/). */
#ifndef JH_PLATFORM_CHILD_H
#define JH_PLATFORM_CHILD_H

#include <stddef.h>
#include <sys/types.h>

#include "platform/platform.h"

/* Runs in a freshly forked first task, before its filter: default signal
 * dispositions and an empty mask; a new session (no controlling terminal, so
 * TIOCSTI cannot reach the caller's); the namespace backstops the host allows;
 * every fd above 2 closed but keep[] (sorted in place); rlimits; the working
 * directory (before the id change: a 0700 state directory above a workspace
 * need not be searchable by the uid the tasks drop to); the ids dropped; the
 * parent-death signal (after the id change, which clears it) with a check that
 * `parent` is still there; NO_NEW_PRIVS; the Landlock ruleset. Returns 0 with the layers entered in
 * *ret_layers, or -errno. Async-signal-safe: no allocation. */
int jh_child_prepare(const struct jh_spawn_spec *spec, pid_t parent, int *keep, size_t nkeep,
		     unsigned *ret_layers);

/* The fd of a cgroup.procs (open for writing) the first task writes itself
 * into before anything else in jh_child_prepare(); -1: none. Set by
 * platform/limits.c before the sandbox is spawned. */
void jh_child_set_cgroup(int procs_fd);

struct sock_fprog;

/* The backend's code for the first task, run in the forked child: never returns. */
typedef void (*jh_child_main_fn)(const struct jh_spawn_spec *spec, const struct sock_fprog *prog,
				 pid_t parent, int sync_w, int ack_r, int err_w);

/* The supervisor's side of a forked first task: three close-on-exec pipes.
 * The child reports its set-up on sync (jh_child_report), waits for a byte on
 * ack, and writes its exec errno on err if the exec fails. */
struct jh_child {
	pid_t pid;
	int sync_r, ack_w, err_r;
};

/* Makes the supervisor a child subreaper (orphans of the tree come back to
 * it), opens the pipes and forks `fn` as the first task. On success fills
 * *ret (the caller owns its fds); on failure nothing is left open. */
int jh_child_fork(jh_child_main_fn fn, const struct jh_spawn_spec *spec,
		  const struct sock_fprog *prog, struct jh_child *ret);

/* Reads the child's report: {value, layers entered} once set up, or {-errno}
 * when the set-up failed. Returns value (>= 0) with *ret_layers, the child's
 * -errno, -ECHILD if it died without a word, -EPROTO on a short report. */
int jh_child_report(int sync_r, unsigned *ret_layers);

#endif
