/* Path resolution over the view (see vfs.h for the model).
 *
 * The walk keeps three things: the O_PATH fd of the directory it is in, the
 * entry that fd lies in, and the view path of that directory, built from the
 * names it walked (never from a name it was merely given: symlink targets are
 * spliced into what is left to walk, not into the view path). A component whose
 * view path is an entry switches to that entry's fd; ".." goes up the view
 * path and reopens it from its entry without following symlinks, so ".." at
 * the root of the workspace reaches the view's parent, never the host's.
 *
 * /proc: "self" and "thread-self" are the asking task's, numeric names are
 * visible only for tasks in the sandbox's session, a short list of global files
 * is visible, and symlinks below /proc/<pid> (exe, cwd, root, fd/N, ns/...) are
 * magic links: following them is refused with ELOOP, as RESOLVE_NO_MAGICLINKS
 * does. readlink of them is answered by the caller, a string grants nothing. */
#include "gofer/vfs.h"

#include <ctype.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/macro.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

/* Global /proc files a program may read: no host process is named by them. */
static const char *const proc_globals[] = {
	"cpuinfo", "meminfo", "stat", "uptime", "version", "loadavg", "filesystems", "mounts",
};

static int sys_openat2(int dirfd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how = {.flags = (uint64_t)(unsigned)flags, .resolve = resolve};

	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		how.mode = 0600;
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

int jh_vfs_open_roots(const struct jh_view *view, int **ret_fds)
{
	int *fds = malloc(sizeof(int) * (view->n ? view->n : 1));

	if (!fds)
		return -ENOMEM;
	for (size_t i = 0; i < view->n; i++) {
		const struct jh_mount *m = &view->m[i];

		fds[i] = -1;
		if (m->kind == JH_MOUNT_HIDE)
			continue;
		fds[i] = open(m->host, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fds[i] >= 0 && m->kind != JH_MOUNT_DEV) {
			struct stat st;
			/* Only device entries may be files; any entry may be a symlink
			 * (merged /usr: /bin -> usr/bin), which the walk follows in the view. */
			if (fstat(fds[i], &st) < 0 || !(S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode)))
				jh_closep(&fds[i]);
		}
	}
	*ret_fds = fds;
	return 0;
}

int jh_vfs_init(struct jh_vfs *vfs, const struct jh_view *view, int *fds, int emptyfd)
{
	if (!view->finished)
		return -EINVAL;
	*vfs = (struct jh_vfs){.view = view, .fds = fds, .emptyfd = emptyfd};
	return 0;
}

void jh_vfs_done(struct jh_vfs *vfs)
{
	if (vfs->fds)
		for (size_t i = 0; i < vfs->view->n; i++)
			jh_closep(&vfs->fds[i]);
	free(vfs->fds);
	jh_closep(&vfs->emptyfd);
	vfs->fds = NULL;
}

int jh_vfs_join(const char *dir, const char *rel, char *out, size_t cap)
{
	int n;

	if (rel[0] == '/')
		n = snprintf(out, cap, "%s", rel);
	else if (strcmp(dir, "/") == 0)
		n = snprintf(out, cap, "/%s", rel);
	else
		n = snprintf(out, cap, "%s/%s", dir, rel);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : n;
}

int jh_vfs_reopen(int fd, int flags)
{
	char p[64];
	int r;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	r = open(p, flags | O_CLOEXEC);
	return r < 0 ? jh_negerrno() : r;
}

static bool has_dotdot(const char *s)
{
	while (*s) {
		const char *e = strchrnul(s, '/');
		if (e - s == 2 && s[0] == '.' && s[1] == '.')
			return true;
		s = *e ? e + 1 : e;
	}
	return false;
}

int jh_vfs_fast_open(struct jh_vfs *vfs, const char *path, int flags, int *ret_entry)
{
	const char *rest;
	int e = jh_view_longest(vfs->view, path, &rest), fd;
	enum jh_mount_kind k;

	if (e < 0)
		return -ENOENT;
	k = vfs->view->m[e].kind;
	if ((k != JH_MOUNT_RO && k != JH_MOUNT_RW && k != JH_MOUNT_DEV) || !*rest ||
	    vfs->fds[e] < 0 || has_dotdot(rest))
		return -EAGAIN;
	fd = sys_openat2(vfs->fds[e], rest, flags | O_CLOEXEC,
			 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	if (fd < 0) {
		int err = errno;
		/* ELOOP: a symlink on the way (or O_NOFOLLOW on one: the walk tells);
		 * EXDEV: cannot happen without "..", but never guess; EAGAIN: the
		 * kernel's own "try again" for RESOLVE_CACHED and friends; ENOTDIR:
		 * the entry itself may be a symlink. */
		if (err == ELOOP || err == EXDEV || err == EAGAIN || err == ENOSYS ||
		    err == ENOTDIR)
			return -EAGAIN;
		return -err;
	}
	*ret_entry = e;
	return fd;
}

/* Is `pid` a task of the sandbox? Its session must be the sandbox's. A task
 * that made its own session is not shown: conservative. */
static bool proc_member(const struct jh_vfs *vfs, const char *name)
{
	char p[NAME_MAX + 32], buf[512];
	const char *rp;
	long sid;
	int fd, i;
	ssize_t n;

	if (vfs->owns_pid)
		return vfs->owns_pid(vfs->owns_ctx, (pid_t)strtol(name, NULL, 10));
	if (vfs->sandbox_sid <= 0)
		return false;
	snprintf(p, sizeof(p), "/proc/%s/stat", name);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	rp = strrchr(buf, ')');
	if (!rp)
		return false;
	/* ") S ppid pgrp session" */
	rp++;
	for (i = 0; i < 3 && rp; i++)
		rp = strchr(rp + 1, ' ');
	if (!rp)
		return false;
	sid = strtol(rp + 1, NULL, 10);
	return sid == vfs->sandbox_sid;
}

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

struct walker {
	struct jh_vfs *vfs;
	int cur;     /* O_PATH fd of the current directory */
	bool owned;  /* cur is ours to close (not an entry root) */
	int entry;
	char view[PATH_MAX];
	size_t vlen;
};

static void set_cur(struct walker *w, int fd, bool owned)
{
	if (w->owned)
		jh_closep(&w->cur);
	w->cur = fd;
	w->owned = owned;
}

static int go_root(struct walker *w)
{
	int e = jh_view_find(w->vfs->view, "/", 1);

	if (e < 0)
		return -ENOENT;
	set_cur(w, w->vfs->fds[e] >= 0 ? w->vfs->fds[e] : w->vfs->emptyfd, false);
	w->entry = e;
	strcpy(w->view, "/");
	w->vlen = 1;
	return 0;
}

/* Reopens the directory at view path w->view (canonical: made of names the
 * walk found to be directories) after a "..". */
static int reopen_view(struct walker *w)
{
	const char *rest;
	int e = jh_view_longest(w->vfs->view, w->view, &rest), fd;
	const struct jh_mount *m;

	if (e < 0)
		return -ENOENT;
	m = &w->vfs->view->m[e];
	if (!*rest) {
		if (w->vfs->fds[e] < 0 && m->kind != JH_MOUNT_SKEL)
			return -ENOENT;
		set_cur(w, w->vfs->fds[e] >= 0 ? w->vfs->fds[e] : w->vfs->emptyfd, false);
		w->entry = e;
		return 0;
	}
	if (m->kind == JH_MOUNT_SKEL || m->kind == JH_MOUNT_HIDE || w->vfs->fds[e] < 0)
		return -ENOENT;
	fd = sys_openat2(w->vfs->fds[e], rest, O_PATH | O_DIRECTORY | O_CLOEXEC,
			 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	if (fd < 0)
		return jh_negerrno();
	set_cur(w, fd, true);
	w->entry = e;
	return 0;
}

static void view_up(struct walker *w)
{
	char *slash = strrchr(w->view, '/');

	if (!slash || slash == w->view) {
		strcpy(w->view, "/");
		w->vlen = 1;
		return;
	}
	*slash = '\0';
	w->vlen = (size_t)(slash - w->view);
}

static int view_down(struct walker *w, const char *c, size_t len, char *out)
{
	size_t base = w->vlen == 1 ? 0 : w->vlen;

	if (base + 1 + len + 1 > PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(out, w->view, base);
	out[base] = '/';
	memcpy(out + base + 1, c, len);
	out[base + 1 + len] = '\0';
	return (int)(base + 1 + len);
}

/* Replaces the pending path with `target` + "/" + `rest` (in pend, size cap). */
static int path_splice(char *pend, size_t cap, const char *target, size_t tlen, const char *rest)
{
	char tmp[PATH_MAX * 2];
	int n;

	if (tlen == 0)
		return -ENOENT; /* an empty symlink resolves to nothing */
	n = snprintf(tmp, sizeof(tmp), "%.*s%s%s", (int)tlen, target, *rest ? "/" : "", rest);
	if (n < 0 || (size_t)n >= cap || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(pend, tmp, (size_t)n + 1);
	return 0;
}

int jh_vfs_walk(struct jh_vfs *vfs, const struct jh_vfs_task *t, const char *path, unsigned flags,
		struct jh_walk *ret)
{
	struct walker w = {.vfs = vfs, .cur = -1};
	char pend[PATH_MAX * 2];
	const char *p;
	unsigned links = 0;
	int r;

	if (!path[0])
		return -ENOENT;
	if (strlen(path) >= PATH_MAX)
		return -ENAMETOOLONG;
	if (path[0] != '/')
		return -EINVAL;
	strcpy(pend, path);
	r = go_root(&w);
	if (r < 0)
		return r;
	p = pend;

	for (;;) {
		const char *c, *after;
		size_t len;
		bool last, slash;
		char nview[PATH_MAX];
		char subst[64];
		int nvlen, e, nfd;
		struct stat st;
		const struct jh_mount *cm = &vfs->view->m[w.entry];

		while (*p == '/')
			p++;
		if (!*p) {
			/* No component left: the object is the current directory. */
			if (flags & JH_WALK_PARENT) {
				ret->last[0] = '\0';
				ret->last_entry = -1;
			}
			ret->slash = true;
			break;
		}
		c = p;
		after = strchrnul(c, '/');
		len = (size_t)(after - c);
		if (len > NAME_MAX) {
			r = -ENAMETOOLONG;
			goto fail;
		}
		p = after;
		while (*p == '/')
			p++;
		last = !*p;
		slash = last && after[0] == '/';

		if ((flags & JH_WALK_PARENT) && last &&
		    ((len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))) {
			memcpy(ret->last, c, len);
			ret->last[len] = '\0';
			ret->last_entry = -1;
			ret->slash = slash;
			break;
		}
		if (len == 1 && c[0] == '.')
			continue;
		if (len == 2 && c[0] == '.' && c[1] == '.') {
			if (w.vlen > 1) {
				view_up(&w);
				r = reopen_view(&w);
				if (r < 0)
					goto fail;
			}
			continue;
		}

		/* /proc's own names. */
		if (cm->kind == JH_MOUNT_PROC && strcmp(w.view, cm->path) == 0) {
			bool self = len == 4 && memcmp(c, "self", 4) == 0;
			bool tself = len == 11 && memcmp(c, "thread-self", 11) == 0;
			/* /proc/net and /proc/mounts are links to self/…: the
			 * asking task's, not the sentry's */
			bool selfish = (len == 3 && memcmp(c, "net", 3) == 0) ||
				       (len == 6 && memcmp(c, "mounts", 6) == 0);
			if ((self || tself || selfish) && last && !(flags & JH_WALK_FOLLOW)) {
				/* lstat/readlink: the link itself */
				;
			} else if (self || tself || selfish) {
				int n = self    ? snprintf(subst, sizeof(subst), "%d", (int)t->tgid)
					: tself ? snprintf(subst, sizeof(subst), "%d/task/%d",
							   (int)t->tgid, (int)t->tid)
						: snprintf(subst, sizeof(subst), "%d/%.*s", (int)t->tgid,
							   (int)len, c);
				if (++links > JH_VFS_MAX_LINKS) {
					r = -ELOOP;
					goto fail;
				}
				r = path_splice(pend, sizeof(pend), subst, (size_t)n, p);
				if (r < 0)
					goto fail;
				p = pend;
				continue;
			} else if (all_digits(c, len)) {
				char name[NAME_MAX + 1];
				memcpy(name, c, len);
				name[len] = '\0';
				if (!proc_member(vfs, name)) {
					r = -ENOENT;
					goto fail;
				}
			} else {
				bool ok = false;
				for (size_t i = 0; i < JH_ARRAY_SIZE(proc_globals); i++)
					if (strlen(proc_globals[i]) == len &&
					    memcmp(proc_globals[i], c, len) == 0)
						ok = true;
				if (!ok) {
					r = -ENOENT;
					goto fail;
				}
			}
		}

		/* Inside /proc/1 (jhansi-exec's init, see vfs.h): its state, not
		 * its memory, environment, command line or links. */
		if (cm->kind == JH_MOUNT_PROC && vfs->proc_init_guard &&
		    strncmp(w.view, cm->path, strlen(cm->path)) == 0 &&
		    strcmp(w.view + strlen(cm->path), "/1") == 0 &&
		    !((len == 4 && memcmp(c, "stat", 4) == 0) ||
		      (len == 6 && memcmp(c, "status", 6) == 0) ||
		      (len == 4 && memcmp(c, "comm", 4) == 0))) {
			r = -ENOENT;
			goto fail;
		}

		nvlen = view_down(&w, c, len, nview);
		if (nvlen < 0) {
			r = nvlen;
			goto fail;
		}
		e = jh_view_find(vfs->view, nview, (size_t)nvlen);

		if ((flags & JH_WALK_PARENT) && last && !(flags & JH_WALK_FOLLOW)) {
			memcpy(ret->last, c, len);
			ret->last[len] = '\0';
			ret->last_entry = e;
			ret->slash = slash;
			break;
		}

		if (e >= 0) {
			const struct jh_mount *m = &vfs->view->m[e];
			if (m->kind == JH_MOUNT_HIDE ||
			    (vfs->fds[e] < 0 && m->kind != JH_MOUNT_SKEL)) {
				if ((flags & JH_WALK_PARENT) && last) {
					memcpy(ret->last, c, len);
					ret->last[len] = '\0';
					ret->last_entry = e;
					ret->slash = slash;
					break;
				}
				r = -ENOENT;
				goto fail;
			}
			nfd = vfs->fds[e] >= 0 ? vfs->fds[e] : vfs->emptyfd;
		} else {
			if (cm->kind == JH_MOUNT_SKEL) {
				/* Nothing but entries lives in a skeleton directory. */
				if ((flags & JH_WALK_PARENT) && last) {
					memcpy(ret->last, c, len);
					ret->last[len] = '\0';
					ret->last_entry = -1;
					ret->slash = slash;
					break;
				}
				r = -ENOENT;
				goto fail;
			}
			{
				char name[NAME_MAX + 1];
				memcpy(name, c, len);
				name[len] = '\0';
				nfd = openat(w.cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
				if (nfd < 0) {
					r = jh_negerrno();
					if (r == -ENOENT && (flags & JH_WALK_PARENT) && last) {
						memcpy(ret->last, c, len);
						ret->last[len] = '\0';
						ret->last_entry = -1;
						ret->slash = slash;
						break;
					}
					goto fail;
				}
			}
		}
		if (fstat(nfd, &st) < 0) {
			r = jh_negerrno();
			if (e < 0)
				close(nfd);
			goto fail;
		}
		if (S_ISLNK(st.st_mode) && (!last || (flags & JH_WALK_FOLLOW))) {
			char target[PATH_MAX];
			ssize_t n;

			/* Below /proc/<pid>: a magic link, whose target is no path. */
			if (cm->kind == JH_MOUNT_PROC && strcmp(w.view, cm->path) != 0) {
				if (e < 0)
					close(nfd);
				r = -ELOOP;
				goto fail;
			}
			n = readlinkat(nfd, "", target, sizeof(target));
			if (e < 0)
				close(nfd);
			if (n < 0) {
				r = jh_negerrno();
				goto fail;
			}
			if ((size_t)n >= sizeof(target)) {
				r = -ENAMETOOLONG;
				goto fail;
			}
			if (++links > JH_VFS_MAX_LINKS) {
				r = -ELOOP;
				goto fail;
			}
			r = path_splice(pend, sizeof(pend), target, (size_t)n,
				   slash ? "." : p);
			if (r < 0)
				goto fail;
			p = pend;
			if (target[0] == '/') {
				r = go_root(&w);
				if (r < 0)
					goto fail;
			}
			continue;
		}
		if ((flags & JH_WALK_PARENT) && last) {
			/* FOLLOW: the final name exists and is not a symlink. */
			if (e < 0)
				close(nfd);
			memcpy(ret->last, c, len);
			ret->last[len] = '\0';
			ret->last_entry = e;
			ret->slash = slash;
			break;
		}
		if (!last && !S_ISDIR(st.st_mode)) {
			if (e < 0)
				close(nfd);
			r = -ENOTDIR;
			goto fail;
		}
		if (slash && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) {
			if (e < 0)
				close(nfd);
			r = -ENOTDIR;
			goto fail;
		}
		set_cur(&w, nfd, e < 0);
		if (e >= 0)
			w.entry = e;
		memcpy(w.view, nview, (size_t)nvlen + 1);
		w.vlen = (size_t)nvlen;
		if (last) {
			ret->slash = slash;
			break;
		}
	}

	/* Hand out an fd the caller owns. */
	if (!w.owned) {
		int d = fcntl(w.cur, F_DUPFD_CLOEXEC, 3);
		if (d < 0)
			return jh_negerrno();
		w.cur = d;
		w.owned = true;
	}
	ret->fd = w.cur;
	ret->entry = w.entry;
	memcpy(ret->view, w.view, w.vlen + 1);
	if (!(flags & JH_WALK_PARENT))
		ret->last_entry = -1;
	return 0;
fail:
	set_cur(&w, -1, false);
	return r;
}

int jh_vfs_view_of_fd(struct jh_vfs *vfs, int fd, char *out, size_t cap)
{
	char p[64], host[PATH_MAX];
	struct stat st, st2;
	struct jh_walk w;
	struct jh_vfs_task none = {0};
	ssize_t n;
	int r;

	if (fstat(fd, &st) < 0)
		return jh_negerrno();
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	n = readlink(p, host, sizeof(host) - 1);
	if (n < 0)
		return jh_negerrno();
	host[n] = '\0';
	if (host[0] != '/')
		return -ENOENT; /* "pipe:[...]", deleted, another mount namespace */
	if (st.st_dev == vfs->cache_dev && st.st_ino == vfs->cache_ino &&
	    strcmp(host, vfs->cache_host) == 0) {
		if (strlen(vfs->cache_view) >= cap)
			return -ENAMETOOLONG;
		strcpy(out, vfs->cache_view);
		return 0;
	}
	/* A skeleton directory from the mirror: its view path is the rest of
	 * the name, which must be a skeleton entry. */
	if (vfs->skel_root && !strncmp(host, vfs->skel_root, strlen(vfs->skel_root)) &&
	    (host[strlen(vfs->skel_root)] == '/' || !host[strlen(vfs->skel_root)])) {
		const char *vp = host[strlen(vfs->skel_root)] ? host + strlen(vfs->skel_root) : "/";
		int e = jh_view_find(vfs->view, vp, strlen(vp));

		if (e < 0 || vfs->view->m[e].kind != JH_MOUNT_SKEL || strlen(vp) >= cap)
			return -ENOENT;
		strcpy(out, vp);
		return 0;
	}
	/* Identity entries: the view path is the host path. The walk decides whether
	 * that name reaches this very directory. */
	r = jh_vfs_walk(vfs, &none, host, 0, &w);
	if (r < 0)
		return -ENOENT;
	r = fstat(w.fd, &st2);
	close(w.fd);
	if (r == 0 && w.entry >= 0 && vfs->view->m[w.entry].kind == JH_MOUNT_SKEL &&
	    !strcmp(vfs->view->m[w.entry].path, w.view)) {
		/* A skeleton as the task reaches it: the tmpfs directory at that
		 * path in its mount namespace (built from the view), or, without
		 * one, the host directory at the same path (skeletons are
		 * ancestors of identity entries). */
		struct statfs sf;
		struct stat hst;
		bool same = vfs->skel_in_task_root
				    ? fstatfs(fd, &sf) == 0 && sf.f_type == TMPFS_MAGIC
				    : stat(w.view, &hst) == 0 && hst.st_dev == st.st_dev &&
					      hst.st_ino == st.st_ino;
		if (!same || strlen(w.view) >= cap)
			return -ENOENT;
		strcpy(out, w.view);
		return 0;
	}
	if (r < 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino)
		return -ENOENT;
	if (strlen(w.view) >= cap)
		return -ENAMETOOLONG;
	strcpy(out, w.view);
	vfs->cache_dev = st.st_dev;
	vfs->cache_ino = st.st_ino;
	snprintf(vfs->cache_host, sizeof(vfs->cache_host), "%s", host);
	snprintf(vfs->cache_view, sizeof(vfs->cache_view), "%s", w.view);
	return 0;
}
