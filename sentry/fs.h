/* The sentry's side of the file system: the view, the gofer, the workspace.
 *
 * jh_fs_setup() builds the view (defaults, the workspace, a private /tmp, the
 * directory of the command, then --ro/--rw/--hide and the policy file), starts
 * the gofer and receives the entries' fds; the path handlers in fs.c resolve
 * against it. One run per process: the handlers find the context set up last.
 */
#ifndef JH_SENTRY_FS_H
#define JH_SENTRY_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gofer/gofer.h"

struct jh_fs_adjust {
	enum jh_mount_kind kind; /* JH_MOUNT_RO, _RW or _HIDE */
	const char *path;        /* as the user gave it */
};

struct jh_fs_config {
	const char *workspace;  /* host path of the workspace (jh_workspace_open), or NULL */
	const char *policy;     /* JSON policy file with "ro"/"rw"/"hide", or NULL */
	const struct jh_fs_adjust *adjust; /* --ro/--rw/--hide, in order */
	size_t nadjust;
	uint64_t quota_bytes;   /* 0: none */
	bool as_ids;            /* tasks run as uid/gid (started as root): the gofer too */
	bool mountns;           /* the tasks see the view as a mount namespace: the
				 * workspace at /workspace (jh_view_defaults_mountns) */
	uid_t uid;
	gid_t gid;
};

struct jh_fs;

/* Sets up the view and starts the gofer. `command` (the resolved executable)
 * gets its directory added read-only so it can be executed. Errors on user
 * input (a bad --rw path, a policy file) are logged once and return -EINVAL. */
int jh_fs_setup(const struct jh_fs_config *cfg, const char *command, struct jh_fs **ret);
struct jh_mountns_plan;
/* The view as a mount-namespace plan for the first task (platform/mountns.h),
 * valid until jh_fs_free(); NULL unless cfg->mountns. */
const struct jh_mountns_plan *jh_fs_mount_plan(const struct jh_fs *fs);
/* The host path of the private /tmp (for TMPDIR). */
const char *jh_fs_tmpdir(const struct jh_fs *fs);
/* The view (finished), for the Landlock filesystem layer (fs-landlock.h). */
const struct jh_view *jh_fs_view(const struct jh_fs *fs);
/* The sandbox's session (for /proc/<pid> membership). */
void jh_fs_set_sandbox(struct jh_fs *fs, pid_t sid);
/* The tasks live in a pid namespace whose procfs is mounted over the view's
 * /proc in their mount namespace (platform/child.h): /proc names are resolved
 * in it, reached through `first`'s root; /proc/self is the task's number
 * there. Call once the first task has reported. Returns 0 or -errno. */
int jh_fs_set_pidns(struct jh_fs *fs, pid_t first);
/* True when the gofer died or stalled during the run. */
bool jh_fs_failed(const struct jh_fs *fs);
/* The running sandbox's --disk-quota in bytes, 0 for none. */
uint64_t jh_fs_quota(void);
/* Collects the change set, stops the gofer. */
int jh_fs_finish(struct jh_fs *fs, struct jh_changes *ret);
/* Stops everything, removes the private /tmp, frees. */
void jh_fs_free(struct jh_fs *fs);

/* The exec hook (see handle_exec_common in fs.c): called for every
 * intercepted call before it is handled. Returns false when `tid` is the
 * first task of a process whose exec was checked and that now runs another
 * executable than the one checked (the path was swapped in between): the
 * caller then kills the process. *why says what was found. */
bool jh_fs_exec_verify(pid_t tid, char *why, size_t len);

/* Prints the view (for --explain). */
void jh_fs_explain(const struct jh_fs_config *cfg, const char *command);

#endif
