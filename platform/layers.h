/* Namespace backstops for the first task, each tried on its own, each falling
 * back silently when the host refuses it (Ubuntu's AppArmor userns
 * restriction, Docker's default seccomp profile, sysctls). The sentry is the
 * boundary; these are second locks behind it. */
#ifndef JH_PLATFORM_LAYERS_H
#define JH_PLATFORM_LAYERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/landlock.h"

enum jh_layer {
	JH_LAYER_USERNS = 1u << 0,   /* user namespace (only when not root: maps the caller's ids) */
	JH_LAYER_IPCNS = 1u << 1,    /* SysV IPC and POSIX message queues of our own */
	JH_LAYER_UTSNS = 1u << 2,    /* hostname of our own (also in /proc/sys/kernel/hostname) */
	JH_LAYER_CGROUPNS = 1u << 3, /* /proc/self/cgroup rooted at our cgroup */
	/* Landlock (kernel-enforced, ABI-version aware), restricting what the tasks
	 * do themselves; what the sentry performs for them is outside their domain: */
	JH_LAYER_LANDLOCK_SCOPE = 1u << 4, /* ABI 6: no signal to, no abstract unix
					    * socket of, a process outside the sandbox */
	JH_LAYER_LANDLOCK_NET = 1u << 5,   /* ABI 4: no TCP bind or connect of their own
					    * (the sentry performs the allowed ones) */
	JH_LAYER_LANDLOCK_FS = 1u << 6,    /* ABI 1: the view's filesystem policy, for what
					    * the tasks open and execute themselves */
	JH_LAYER_MOUNTNS = 1u << 7,       /* mount namespace holding the view (mountns.h) */
	JH_LAYER_NETNS = 1u << 8,         /* network namespace with only its own loopback
					   * (netns.h): entered only when the network
					   * policy grants no destination */
	JH_LAYER_PIDNS = 1u << 9,         /* pid namespace: a minimal init of ours as pid 1,
					   * the command as pid 2, a procfs of its own in the
					   * mount namespace (child.h); needs JH_LAYER_MOUNTNS */
};

#define JH_LAYERS_NS_ALL (JH_LAYER_USERNS | JH_LAYER_IPCNS | JH_LAYER_UTSNS | JH_LAYER_CGROUPNS)
#define JH_LAYERS_LANDLOCK                                                                  \
	(JH_LAYER_LANDLOCK_SCOPE | JH_LAYER_LANDLOCK_NET | JH_LAYER_LANDLOCK_FS)

/* "userns", "ipcns", "utsns", "cgroupns", "landlock-scope", "landlock-net",
 * "landlock-fs", "mountns", "netns", "pidns". */
const char *jh_layer_name(enum jh_layer l);
/* Parses a comma list of layer names ("userns,ipcns"); -EINVAL naming nothing. */
int jh_layers_parse(const char *list, unsigned *ret);
/* Writes "userns,ipcns" for `mask` into buf (always NUL-terminated). */
void jh_layers_format(unsigned mask, char *buf, size_t len);

/* In the first task, before ids are dropped and the filter installed: enters
 * the namespaces in `want` that the host allows and returns the mask of those
 * entered. Not root: a user namespace first, mapping the caller's uid/gid to
 * themselves (setgroups denied), which the others need. Root: no user
 * namespace (the ids are dropped afterwards). With a UTS namespace, the
 * hostname is set to `hostname`. Async-signal-safe: no allocation. */
unsigned jh_layers_enter(unsigned want, const char *hostname);

/* Which layers this host lets an unprivileged process (or root, when run as
 * root) create: namespaces tried in a forked child, Landlock asked for its ABI. */
unsigned jh_layers_probe(void);


/* The filesystem layer's rights by kind of view entry (masked by what the
 * kernel's ABI handles). Read-only: read, list and execute (the kernel opens
 * an ELF interpreter with the task's rights). Devices: read, write, truncate
 * and ioctl what exists, never execute or create. /proc: read and list (an
 * exec through /proc/<pid>/exe is checked at its target). Read-write: all. */
#define JH_LL_ACCESS_RO JH_LL_FS_READ
#define JH_LL_ACCESS_DEV                                                                    \
	(JH_LL_FS_READ_FILE | JH_LL_FS_READ_DIR | JH_LL_FS_WRITE_FILE | JH_LL_FS_TRUNCATE |  \
	 JH_LL_FS_IOCTL_DEV)
#define JH_LL_ACCESS_PROC (JH_LL_FS_READ_FILE | JH_LL_FS_READ_DIR)
#define JH_LL_ACCESS_RW UINT64_MAX

/* One host path of the filesystem layer: the rights allowed beneath it, or 0
 * for a path cut out of what contains it (a hidden entry, a skeleton). */
struct jh_ll_path {
	const char *host; /* absolute, normalised (no "//", ".", "..", trailing "/") */
	uint64_t access;  /* JH_LL_ACCESS_* or JH_LL_FS_* bits */
};

/* What became of the filesystem paths. Landlock only allows (a rule grants
 * beneath a directory, rules add up), so a path with fewer rights beneath an
 * allowed one (a hidden /etc/shadow in /etc) is a hole: when the containing
 * entry gives no right to create (its children are fixed for the run), the
 * entry's rule is replaced by rules on each of its other children, down to
 * the hole; children the host adds during the run get nothing. Beneath an
 * entry that may create (read-write), the hole is left to the sentry alone. */
struct jh_ll_fs_report {
	unsigned rules;      /* rules added */
	unsigned cut;        /* holes cut out by allowing their siblings one by one */
	unsigned unenforced; /* holes beneath a writable entry: the sentry's alone */
	unsigned skipped;    /* paths missing on the host, or unreadable directories
			      * on the way to a hole (nothing allowed there) */
};

/* Builds, in the supervisor, a Landlock ruleset for the JH_LAYER_LANDLOCK_*
 * layers in `want` that the kernel supports; returns its fd (close-on-exec)
 * and the layers it covers in *ret_layers, or -errno (-EOPNOTSUPP when none
 * is supported). The filesystem layer handles every right the ABI knows and
 * allows `fs` (n entries; see struct jh_ll_fs_report for holes); `report`
 * may be NULL. The first task enforces the ruleset with jh_landlock_enforce()
 * after NO_NEW_PRIVS. */
int jh_landlock_ruleset(unsigned want, const struct jh_ll_path *fs, size_t n,
			unsigned *ret_layers, struct jh_ll_fs_report *report);

#endif
