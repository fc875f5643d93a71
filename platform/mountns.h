/* The mount-namespace backstop: the first task's kernel sees the same view the
 * sentry and the gofer serve (one definition, gofer/view.h), built as a
 * private mount namespace whose root is a tmpfs holding bind mounts of exactly
 * the view's entries at their view paths. The sentry stays the boundary (it
 * resolves every path the task names against the view); this layer makes what
 * the kernel resolves natively — exec, chdir, the cwd, the ptrace platform's
 * checked opens — land on the same objects, and keeps the rest of the host out
 * of reach should the sentry ever be bypassed.
 *
 * The plan is flat data (platform/ does not depend on gofer/): the sentry
 * translates the view into it. */
#ifndef JH_PLATFORM_MOUNTNS_H
#define JH_PLATFORM_MOUNTNS_H

#include <stdbool.h>
#include <stddef.h>

enum jh_mountns_kind {
	JH_MNTNS_RO,   /* bind, read-only, nosuid, nodev */
	JH_MNTNS_RW,   /* bind, nosuid, nodev */
	JH_MNTNS_DEV,  /* a device node, symlink or directory (pts) of /dev: bind, nosuid, noexec */
	JH_MNTNS_PROC, /* the host's /proc read-only, else a fresh procfs (see mountns.c) */
	JH_MNTNS_HIDE, /* not mounted; masked with an empty object when under a bind */
	JH_MNTNS_SKEL, /* a directory of the tmpfs root, leading to entries */
};

struct jh_mountns_entry {
	const char *path; /* view path: absolute, normalised */
	const char *host; /* host path (bind source) */
	enum jh_mountns_kind kind;
};

struct jh_mountns_plan {
	const struct jh_mountns_entry *v; /* parents before children (sorted by path) */
	size_t n;
	const char *stage; /* an empty host directory: the new root's tmpfs is mounted
			    * there in the private namespace before pivot_root */
};

/* How /proc came out (jh_mountns_enter, jh_mountns_probe). */
enum jh_mountns_proc {
	JH_MNTNS_PROC_FRESH = 1, /* a procfs of our own (the bind was refused) */
	JH_MNTNS_PROC_BOUND,     /* the host's /proc, read-only */
	JH_MNTNS_PROC_NONE,      /* neither: /proc is served by the sentry alone */
};

/* In the first task, after the user namespace (when not root) and before ids
 * are dropped: a new mount namespace, propagation private, the plan's tmpfs
 * root with its binds, pivot_root into it (the host's root detached). The cwd
 * is "/" afterwards. Returns 0 with the /proc outcome in *ret_proc, or -errno
 * (the namespace may be half built: the caller must not go on to run the
 * command). Async-signal-safe: no allocation. */
int jh_mountns_enter(const struct jh_mountns_plan *plan, enum jh_mountns_proc *ret_proc);

/* In a forked child that has entered what jh_layers_enter() allows: can a
 * private mount namespace with a tmpfs be made here? (Changes the calling
 * process's namespace: only for throwaway children.) */
bool jh_mountns_try(void);

/* Forks a child that enters the user namespace when not root and tries the
 * mount namespace and a fresh procfs in it. Returns true when the mount
 * namespace works, with the /proc outcome in *ret_proc (for --explain). */
bool jh_mountns_probe(enum jh_mountns_proc *ret_proc);

const char *jh_mountns_proc_describe(enum jh_mountns_proc p);

#endif
