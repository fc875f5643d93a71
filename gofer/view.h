/* The view: the sandbox's mount table. One definition, used by the sentry (to
 * resolve read-only lookups), the gofer (to know what it may change) and later
 * the namespace backstop.
 *
 * An entry maps a view path (what the task names) to a host path, with a kind.
 * Without a mount namespace most entries are identity mappings (view path ==
 * host path); the private /tmp is the exception. With one, the workspace is
 * mapped to /workspace as well (jh_view_defaults_mountns). Whatever no entry covers does
 * not exist (ENOENT). Ancestors of entries that no entry covers are skeleton
 * directories: they can be walked through towards an entry, and list as empty.
 *
 * Pure: building and querying the table does no I/O except jh_view_defaults()
 * (which lists /etc/ssh for host keys) and jh_view_load_policy() (reads a file).
 */
#ifndef JH_GOFER_VIEW_H
#define JH_GOFER_VIEW_H

#include <stdbool.h>
#include <stddef.h>

enum jh_mount_kind {
	JH_MOUNT_RO,   /* read-only: writes fail with EROFS */
	JH_MOUNT_RW,   /* read-write, changes performed by the gofer */
	JH_MOUNT_HIDE, /* does not exist: ENOENT */
	JH_MOUNT_DEV,  /* device nodes: opened read-write by the sentry, never created */
	JH_MOUNT_PROC, /* procfs: the sandbox's own tasks only, magic links refused */
	JH_MOUNT_SKEL, /* ancestor of entries: walkable, lists empty, read-only */
	JH_MOUNT_KIND_COUNT,
};

struct jh_mount {
	char *path; /* view path, normalised, absolute ("/" or no trailing slash) */
	char *host; /* host path */
	enum jh_mount_kind kind;
};

struct jh_view {
	struct jh_mount *m;
	size_t n, cap;
	bool finished;
};

/* "ro", "rw", "hide", "dev", "proc", "skel". */
const char *jh_mount_kind_name(enum jh_mount_kind k);

/* Normalises an absolute path lexically: collapses "//" and "/./", strips a
 * trailing "/". "..", relative paths and overlong paths are -EINVAL. */
int jh_view_normalize(const char *in, char *out, size_t cap);

/* Adds an entry, or replaces the one at the same view path. `host` NULL:
 * identity. -EINVAL on a bad path, -ENOMEM. Invalidates jh_view_finish(). */
int jh_view_set(struct jh_view *v, const char *path, const char *host, enum jh_mount_kind kind);

/* The default view: system directories read-only minus secrets, the workspace
 * read-write, `tmpdir` (a private per-run directory) read-write at /tmp and at
 * its own host path, a minimal /dev, /proc, /sys/devices/system/cpu. */
int jh_view_defaults(struct jh_view *v, const char *workspace, const char *tmpdir);

/* Where the workspace appears when the view is also a mount namespace. */
#define JH_VIEW_WORKSPACE "/workspace"

/* jh_view_defaults() for a sandbox whose tasks also see the view as a mount
 * namespace (platform/mountns.h): the workspace at JH_VIEW_WORKSPACE instead
 * of its host path, and the private tmp directory only at /tmp. The kernel
 * then resolves the names the sentry resolves to the same objects. */
int jh_view_defaults_mountns(struct jh_view *v, const char *workspace, const char *tmpdir);

/* Loads a policy file (JSON: {"ro": [paths], "rw": [paths], "hide": [paths]})
 * into `v`. On a parse error, writes "file:line: reason" to err and returns
 * -EINVAL. ro/rw paths must exist (they are made canonical). */
int jh_view_load_policy(struct jh_view *v, const char *file, char *err, size_t errlen);

/* Adds skeleton entries for uncovered ancestors, turns HIDE entries with
 * entries beneath them into skeletons, and sorts. Call once after the last set. */
int jh_view_finish(struct jh_view *v);

/* The entry at exactly `path` (len bytes, normalised), or -1. */
int jh_view_find(const struct jh_view *v, const char *path, size_t len);
/* The entry whose path is the longest component-wise prefix of `path`, or -1;
 * *ret_rest points into `path` after the prefix and its slash ("" for exact). */
int jh_view_longest(const struct jh_view *v, const char *path, const char **ret_rest);

/* The view path under which host path `host` appears through an entry mapped
 * elsewhere (the workspace at /workspace, the private tmp at /tmp): the
 * read-only or read-write entry whose host path is the longest component-wise
 * prefix of `host`, among those whose view path differs from it. -ENOENT when
 * no such entry holds it, -ENAMETOOLONG. A name for display (readlink of
 * procfs links), never a decision: lexical, like every query here. */
int jh_view_host_to_view(const struct jh_view *v, const char *host, char *out, size_t cap);

void jh_view_free(struct jh_view *v);

#endif
