/* Set-up of the first task, shared by the backends (internal to platform/). */
#ifndef JH_PLATFORM_CHILD_H
#define JH_PLATFORM_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/macro.h"
#include "platform/platform.h"

/* Runs in a freshly forked first task, before its filter: default signal
 * dispositions and an empty mask; a new session (no controlling terminal, so
 * TIOCSTI cannot reach the caller's); the namespace backstops the host allows;
 * every fd above 2 closed but keep[] (sorted in place); rlimits; the working
 * directory (before the id change: a 0700 state directory above a workspace
 * need not be searchable by the uid the tasks drop to); the ids dropped; the
 * parent-death signal (after the id change, which clears it) with a check that
 * `parent` is still there; NO_NEW_PRIVS; the Landlock ruleset. Returns 0 with the layers entered in
 * *ret_layers, or -errno. Async-signal-safe: no allocation.
 *
 * With JH_LAYER_PIDNS in spec->layers (and a mount namespace), the first task
 * unshares a pid namespace after the others and forks; the fork is pid 1 of
 * the namespace (the run's init), which mounts a procfs of the namespace's own
 * over the view's /proc, goes on with the set-up above and returns, with its
 * host pid in *ret_init: the caller then installs the filter in it (a task
 * under the filter could not mount), reports (with that pid: the listener
 * lives there, the tracer seizes it) and calls jh_child_run_init() instead of
 * exec. The first task itself never returns: it drops its ids, closes every
 * fd, waits for init and ends as the command did (see child.c). Without the
 * pid namespace *ret_init is 0. */
int jh_child_prepare(const struct jh_spawn_spec *spec, pid_t parent, int *keep, size_t nkeep,
		     unsigned *ret_layers, pid_t *ret_init);

/* In init (pid 1), once its filter is installed: forks the command as pid 2
 * (its own process group, parent-death signal, signal mask emptied) and execs
 * spec->path there (an exec failure's errno goes to err_w, exit 127); init
 * then reaps every orphan, forwards every signal it gets but SIGCHLD to the
 * command's process group, and exits when the command does, with its status
 * as a shell reports it (128 + signal), the raw status passed to the first
 * task. Its exit ends the namespace: the kernel kills what is left in it. */
JH_NORETURN void jh_child_run_init(const struct jh_spawn_spec *spec, int err_w);

/* The end of a platform's child: the command (pid 1 runs init instead),
 * reporting exec's errno on err_w (exit 127). Never returns. */
JH_NORETURN void jh_child_exec(const struct jh_spawn_spec *spec, bool init, int err_w);
/* A set-up failure (-errno in errno's place) reported on sync_w: exit 125. */
JH_NORETURN void jh_child_fail(int sync_w);

/* In a throwaway child that entered jh_layers_enter() and jh_mountns_try():
 * can a pid namespace be made, with a procfs of its own mounted by its pid 1?
 * (Changes the calling process's namespaces: only for probe children.) */
bool jh_pidns_try(void);

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

/* Reads the child's report: {value, layers entered, init's host pid or 0}
 * once set up, or {-errno} when the set-up failed. Returns value (>= 0) with
 * *ret_layers and *ret_holder (the task that holds the filter and its
 * listener: init's host pid in a pid namespace, else the first task's), the
 * child's -errno, -ECHILD if it died without a word, -EPROTO on a short
 * report. */
int jh_child_report(int sync_r, pid_t first, unsigned *ret_layers, pid_t *ret_holder);

/* The report's size: {value, layers, init's host pid}. */
#define JH_CHILD_REPORT_INTS 3

#endif
