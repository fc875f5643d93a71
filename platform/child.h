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

#endif
