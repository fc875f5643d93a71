/* Namespace backstops for the first task, each tried on its own, each falling
 * back silently when the host refuses it (Ubuntu's AppArmor userns
 * restriction, Docker's default seccomp profile, sysctls). The sentry is the
 * boundary; these are second locks behind it. */
#ifndef JH_PLATFORM_LAYERS_H
#define JH_PLATFORM_LAYERS_H

#include <stdbool.h>
#include <stddef.h>
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
	JH_LAYER_MOUNTNS = 1u << 7,       /* mount namespace holding the view (mountns.h) */
};

#define JH_LAYERS_NS_ALL (JH_LAYER_USERNS | JH_LAYER_IPCNS | JH_LAYER_UTSNS | JH_LAYER_CGROUPNS)
#define JH_LAYERS_LANDLOCK (JH_LAYER_LANDLOCK_SCOPE | JH_LAYER_LANDLOCK_NET)

/* "userns", "ipcns", "utsns", "cgroupns", "landlock-scope", "landlock-net",
 * "mountns". */
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


/* Builds, in the supervisor, a Landlock ruleset for the JH_LAYER_LANDLOCK_*
 * layers in `want` that the kernel supports; returns its fd (close-on-exec)
 * and the layers it covers in *ret_layers, or -errno (-EOPNOTSUPP when none
 * is supported). The first task enforces it with jh_landlock_enforce() after
 * NO_NEW_PRIVS. */
int jh_landlock_ruleset(unsigned want, unsigned *ret_layers);

#endif
