/* Path resolution over the view, on held directory fds.
 *
 * A view path is resolved by the kernel beneath the fd of the entry that holds
 * it: the fast path is one openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) on
 * the entry's fd; any symlink or ".." takes the walk, which opens one component
 * at a time with O_PATH|O_NOFOLLOW, reads symlinks and splices them as Linux
 * does (absolute targets restart at the view's root, so /lib -> usr/lib and
 * /etc/alternatives/x -> /usr/bin/y resolve across entries), refuses procfs
 * magic links, and bounds links at 40 (ELOOP). Which entry a name falls in is
 * decided on view paths the walk itself built from real directory names; what a
 * name reaches inside an entry is decided by the kernel. No string from the
 * task is ever compared against a host path.
 */
#ifndef JH_GOFER_VFS_H
#define JH_GOFER_VFS_H

#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "gofer/view.h"

#define JH_VFS_MAX_LINKS 40

struct jh_vfs {
	const struct jh_view *view; /* finished */
	int *fds;                   /* per entry: O_PATH fd of the host object, -1 for HIDE */
	int emptyfd;                /* O_PATH fd of an empty directory (skeleton listings) */
	/* Skeleton directories handed to tasks: the root of their mirror (a
	 * directory per skeleton at its view path), or, with skel_in_task_root,
	 * the tmpfs directories of the task's own mount namespace. */
	const char *skel_root;
	bool skel_in_task_root;
	pid_t sandbox_sid;          /* session of the sandbox's tasks (/proc membership); 0: none */
	/* When set, decides /proc/<pid> membership instead (the sentry's task table). */
	bool (*owns_pid)(void *ctx, pid_t pid);
	void *owns_ctx;
	/* In a pid namespace, /proc/1 is jhansi-exec's init: a fork of
	 * jhansi-exec that never execs, whose memory and environment are the
	 * caller's. Only its stat, status and comm are shown. */
	bool proc_init_guard;
	/* Cache of the last directory mapped back into the view (cwd, dirfds). */
	dev_t cache_dev;
	ino_t cache_ino;
	char cache_host[PATH_MAX];
	char cache_view[PATH_MAX];
};

/* Who is asking: /proc/self and /proc/thread-self mean this task. */
struct jh_vfs_task {
	pid_t tid;
	pid_t tgid;
};

enum {
	JH_WALK_FOLLOW = 1u << 0, /* follow a trailing symlink */
	JH_WALK_PARENT = 1u << 1, /* stop at the parent; ret->last names the final component */
};

struct jh_walk {
	int fd;     /* O_PATH, owned by the caller: the object, or its parent (JH_WALK_PARENT) */
	int entry;  /* view entry fd lies in */
	bool slash; /* the path ended with '/': the object must be a directory */
	int last_entry;            /* JH_WALK_PARENT: entry exactly at parent/last, else -1 */
	char last[NAME_MAX + 1];   /* JH_WALK_PARENT: final component; "" "." ".." are possible */
	char view[PATH_MAX];       /* view path of fd */
};

/* Sets up resolution over `view` with the per-entry fds in `fds` (view->n of
 * them, ownership taken) and `emptyfd` (taken). */
int jh_vfs_init(struct jh_vfs *vfs, const struct jh_view *view, int *fds, int emptyfd);
void jh_vfs_done(struct jh_vfs *vfs);

/* Opens every entry's host object with O_PATH (HIDE: -1), for jh_vfs_init. A
 * missing host path gets -1 as well (the entry then does not exist).
 * *ret_fds is malloc'd. */
int jh_vfs_open_roots(const struct jh_view *view, int **ret_fds);

/* Walks absolute view path `path`. Returns 0 with *ret filled, or -errno as
 * Linux would answer (ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG, EACCES ...). */
int jh_vfs_walk(struct jh_vfs *vfs, const struct jh_vfs_task *t, const char *path, unsigned flags,
		struct jh_walk *ret);

/* The fast path: one openat2 of `path` beneath its entry, with `flags` (O_PATH
 * or a real open). Returns the fd (>= 0; *ret_entry set), -EAGAIN when the walk
 * must decide (symlinks, "..", entries, procfs), or the kernel's -errno, which
 * is then the answer. */
int jh_vfs_fast_open(struct jh_vfs *vfs, const char *path, int flags, int *ret_entry);

/* Reopens O_PATH fd `fd` with `flags` (through /proc/self/fd, the same object). */
int jh_vfs_reopen(int fd, int flags);

/* Maps a directory fd held by the sentry (a task's cwd or dirfd, opened through
 * /proc/<tid>/...) back to its view path, by identity: the host path the kernel
 * reports is only a hint, walked in the view and accepted when the walk reaches
 * the same (st_dev, st_ino). -ENOENT when the directory is not in the view. */
int jh_vfs_view_of_fd(struct jh_vfs *vfs, int fd, char *out, size_t cap);

/* Joins a view directory path and a relative path into out. -ENAMETOOLONG. */
int jh_vfs_join(const char *dir, const char *rel, char *out, size_t cap);

#endif
