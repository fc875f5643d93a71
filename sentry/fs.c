/* File-class handlers: every path-taking syscall, serviced against the view.
 *
 * A path is copied out of the task once, made absolute in the view (a relative
 * path starts at the task's cwd or dirfd, opened by the sentry through
 * /proc/<tid>/cwd or /proc/<tid>/fd/N and mapped back into the view by
 * identity, see jh_vfs_view_of_fd), then resolved by the kernel beneath the
 * entries' fds (gofer/vfs.c). What the task gets is the result of the sentry's
 * own operation: an fd injected with ADDFD, a struct written back, a value. It
 * never gets "continue" after a decision on its memory, with two exceptions
 * that cannot be performed for a task, execve and chdir: those are checked
 * (the target resolves in the view to the object the host path names) and
 * continued. The residual race (the path rewritten between check and kernel)
 * is documented at handle_exec; a cwd outside the view grants nothing, since
 * relative paths are mapped by identity.
 *
 * Read-only lookups are answered here in one hop. Whatever creates, changes or
 * removes goes to the gofer as (parent directory fd, final name).
 *
 * Differences from Linux, each deliberate: O_TMPFILE is EOPNOTSUPP (libc falls
 * back); openat2 with resolve flags is ENOSYS (libc falls back to openat);
 * FIFOs are opened non-blocking then switched back, so opening one never waits
 * for the other end (a writer without a reader gets ENXIO); following procfs
 * magic links (/proc/self/fd/N, /dev/fd/N, /proc/<pid>/cwd ...) is ELOOP, while
 * readlink of them works; /dev/tty is ENXIO (the sandbox has no controlling
 * terminal); chdir into an entry not at its host path (/tmp) is EACCES. */
#include "sentry/fs.h"
#include "sentry/sentry-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

#include "base/log.h"
#include "base/macro.h"
#include "gofer/vfs.h"
#include "platform/mountns.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef AT_EACCESS
#define AT_EACCESS 0x200
#endif

struct jh_fs {
	struct jh_view view;
	struct jh_vfs vfs;
	struct jh_gofer *g;
	char *tmpdir;
	char *emptydir;
	char *skeldir; /* skeleton listings without a mount namespace (build_skel_mirror) */
	int skelfd;
	bool vfs_ready;
	/* The tasks see the view as a mount namespace: names they give the
	 * kernel (exec, chdir) resolve from their own root, not ours. */
	bool mountns;
	uint64_t quota; /* --disk-quota bytes, 0: none */
	/* The tasks live in a pid namespace of their own (platform/child.h),
	 * with its procfs mounted over the view's /proc: pids in /proc names
	 * are the namespace's, resolved in that procfs (jh_fs_set_pidns). */
	bool pidns;
	struct jh_mountns_entry *plan_v;
	struct jh_mountns_plan plan;
	/* Started as root, the sentry opens files with root's rights on behalf
	 * of tasks that run as uid/gid: reads are checked against those. */
	bool as_ids;
	uid_t uid;
	gid_t gid;
	/* Execs checked and continued, to verify at the new image's first
	 * intercepted call (dispatcher thread only). */
	struct pending_exec {
		pid_t tgid;
		dev_t dev[2]; /* what was checked, and a script's interpreter */
		ino_t ino[2];
		dev_t old_dev; /* the executable before the exec */
		ino_t old_ino;
		unsigned calls; /* calls seen with the old executable */
	} execs[64];
	size_t nexecs;
};

/* One run per process (see fs.h). */
static struct jh_fs *cur_fs;

/* ================= setup ================= */

static int build_view(const struct jh_fs_config *cfg, const char *command, const char *tmpdir,
		      struct jh_view *v)
{
	char err[512];
	int r = cfg && cfg->mountns ? jh_view_defaults_mountns(v, cfg->workspace, tmpdir)
				    : jh_view_defaults(v, cfg ? cfg->workspace : NULL, tmpdir);

	if (r < 0)
		return r;
	if (command) {
		char canon[PATH_MAX];
		if (realpath(command, canon)) {
			char *slash = strrchr(canon, '/');
			if (slash && slash != canon) {
				const char *rest;
				*slash = '\0';
				/* Only when the view does not reach it already. */
				int e = jh_view_longest(v, canon, &rest);
				if (e < 0 || v->m[e].kind == JH_MOUNT_HIDE ||
				    v->m[e].kind == JH_MOUNT_SKEL ||
				    strcmp(v->m[e].path, v->m[e].host) != 0)
					(void)jh_view_set(v, canon, NULL, JH_MOUNT_RO);
			}
		}
	}
	if (cfg && cfg->policy) {
		r = jh_view_load_policy(v, cfg->policy, err, sizeof(err));
		if (r < 0)
			return jh_log_errno(-EINVAL, "invalid policy: %s", err);
	}
	for (size_t i = 0; cfg && i < cfg->nadjust; i++) {
		const struct jh_fs_adjust *a = &cfg->adjust[i];
		char canon[PATH_MAX];
		const char *p = a->path;

		if (a->kind != JH_MOUNT_HIDE) {
			if (!realpath(a->path, canon))
				return jh_log_errno(-EINVAL, "invalid --%s '%s': %s",
						    jh_mount_kind_name(a->kind), a->path,
						    strerror(errno));
			p = canon;
		}
		if (jh_view_set(v, p, NULL, a->kind) < 0)
			return jh_log_errno(-EINVAL, "invalid --%s '%s': an absolute path is needed",
					    jh_mount_kind_name(a->kind), a->path);
	}
	return jh_view_finish(v);
}

void jh_fs_explain(const struct jh_fs_config *cfg, const char *command)
{
	struct jh_view v = {0};

	/* an absolute placeholder: the view also holds the directory at its
	 * host path when there is no mount namespace */
	if (build_view(cfg, command, "/<state>/run/tmp-XXXXXX", &v) < 0) {
		jh_view_free(&v);
		return;
	}
	if (cfg && cfg->mountns)
		printf("view (a mount namespace holds exactly these entries; the workspace is at "
		       "%s):\n",
		       JH_VIEW_WORKSPACE);
	else
		printf("view (no mount namespace: entries appear at their host paths, /tmp is "
		       "private):\n");
	for (size_t i = 0; i < v.n; i++) {
		if (v.m[i].kind == JH_MOUNT_SKEL)
			continue;
		if (strcmp(v.m[i].path, v.m[i].host) == 0)
			printf("  %-5s %s\n", jh_mount_kind_name(v.m[i].kind), v.m[i].path);
		else
			printf("  %-5s %s -> %s\n", jh_mount_kind_name(v.m[i].kind), v.m[i].path,
			       v.m[i].host);
	}
	printf("  everything else does not exist (ENOENT)\n");
	jh_view_free(&v);
}

/* The finished view as the first task's mount plan (entries sorted by path,
 * parents first). The stage is the empty directory: nothing a bind needs lies
 * beneath it, and the tmpfs put over it in the task's private namespace
 * leaves the sentry's empty directory as it is. */
static int build_plan(struct jh_fs *fs)
{
	static const enum jh_mountns_kind kinds[JH_MOUNT_KIND_COUNT] = {
		[JH_MOUNT_RO] = JH_MNTNS_RO,	 [JH_MOUNT_RW] = JH_MNTNS_RW,
		[JH_MOUNT_HIDE] = JH_MNTNS_HIDE, [JH_MOUNT_DEV] = JH_MNTNS_DEV,
		[JH_MOUNT_PROC] = JH_MNTNS_PROC, [JH_MOUNT_SKEL] = JH_MNTNS_SKEL,
	};

	fs->plan_v = calloc(fs->view.n ? fs->view.n : 1, sizeof(*fs->plan_v));
	if (!fs->plan_v)
		return -ENOMEM;
	for (size_t i = 0; i < fs->view.n; i++)
		fs->plan_v[i] = (struct jh_mountns_entry){
			.path = fs->view.m[i].path,
			.host = fs->view.m[i].host,
			.kind = kinds[fs->view.m[i].kind],
		};
	fs->plan = (struct jh_mountns_plan){.v = fs->plan_v, .n = fs->view.n, .stage = fs->emptydir};
	fs->mountns = true;
	return 0;
}

/* Skeleton directories ("/", "/dev" …: ancestors of entries that no entry
 * covers) list what the view has beneath them. With a mount namespace the
 * task's own tmpfs root holds exactly those mount points; without one,
 * `skeldir` mirrors them: for each skeleton a directory at its view path
 * whose children are placeholders named after the entries beneath it — a
 * directory, an empty file, or a symlink with the host's target (/bin ->
 * usr/bin). Placeholders are never looked up by name (a lookup beneath a
 * skeleton goes through the view's entries); only a skeleton directory itself
 * is handed to the task, to list it or fchdir() to it. */
/* mkdir -p of `rel` ("./a/b") beneath `dfd`, mode 0555. */
static int mkdir_p_at(int dfd, const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s", rel);
	for (char *q = strchr(p + 2, '/');; q = strchr(q + 1, '/')) {
		if (q)
			*q = '\0';
		if (mkdirat(dfd, p, 0555) < 0 && errno != EEXIST)
			return jh_negerrno();
		if (!q)
			return 0;
		*q = '/';
	}
}

static int build_skel_mirror(struct jh_fs *fs)
{
	const struct jh_view *v = &fs->view;

	if (asprintf(&fs->skeldir, "%s.skel", fs->tmpdir) < 0)
		return -ENOMEM;
	if (mkdir(fs->skeldir, 0555) < 0)
		return jh_negerrno();
	fs->skelfd = open(fs->skeldir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fs->skelfd < 0)
		return jh_negerrno();
	/* Entries are sorted with parents first. */
	for (size_t i = 0; i < v->n; i++) {
		const struct jh_mount *m = &v->m[i];
		const char *slash = strrchr(m->path, '/');
		char parent[PATH_MAX], rel[PATH_MAX], target[PATH_MAX];
		struct stat st;
		int pe, fd;
		ssize_t n;

		if (m->kind == JH_MOUNT_HIDE || !strcmp(m->path, "/") || !slash)
			continue;
		snprintf(rel, sizeof(rel), ".%s", m->path);
		if (m->kind == JH_MOUNT_SKEL) {
			int r = mkdir_p_at(fs->skelfd, rel);
			if (r < 0)
				return r;
			continue;
		}
		snprintf(parent, sizeof(parent), "%.*s", slash == m->path ? 1 : (int)(slash - m->path),
			 m->path);
		pe = jh_view_find(v, parent, strlen(parent));
		if (pe < 0 || v->m[pe].kind != JH_MOUNT_SKEL)
			continue; /* its parent is not listed from the mirror */
		if (lstat(m->host, &st) < 0)
			continue; /* listed where it exists (a missing /libx32 is not) */
		if (S_ISDIR(st.st_mode)) {
			if (mkdirat(fs->skelfd, rel, 0555) < 0 && errno != EEXIST)
				return jh_negerrno();
		} else if (S_ISLNK(st.st_mode)) {
			n = readlink(m->host, target, sizeof(target) - 1);
			if (n < 0)
				continue;
			target[n] = '\0';
			if (symlinkat(target, fs->skelfd, rel) < 0 && errno != EEXIST)
				return jh_negerrno();
		} else {
			fd = openat(fs->skelfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
			if (fd < 0 && errno != EEXIST)
				return jh_negerrno();
			if (fd >= 0)
				close(fd);
		}
	}
	return 0;
}

int jh_fs_setup(const struct jh_fs_config *cfg, const char *command, struct jh_fs **ret)
{
	struct jh_fs *fs = calloc(1, sizeof(*fs));
	struct jh_gofer_config gc;
	int *fds = NULL, emptyfd = -1;
	int r;

	if (!fs)
		return -ENOMEM;
	fs->skelfd = -1;
	r = jh_run_tmpdir(&fs->tmpdir);
	if (r < 0) {
		jh_error("cannot create the run's private directory: %s", strerror(-r));
		goto fail;
	}
	if (asprintf(&fs->emptydir, "%s.empty", fs->tmpdir) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	/* Readable by all: skeleton directories are listed through it with the
	 * sandbox's file credentials (uid 65534 when started as root). */
	if (mkdir(fs->emptydir, 0555) < 0) {
		r = jh_negerrno();
		goto fail;
	}
	r = build_view(cfg, command, fs->tmpdir, &fs->view);
	if (r < 0)
		goto fail;
	if (cfg && cfg->mountns) {
		r = build_plan(fs);
		if (r < 0)
			goto fail;
	} else {
		r = build_skel_mirror(fs);
		if (r < 0) {
			jh_error("cannot build the view's skeleton directories: %s", strerror(-r));
			goto fail;
		}
	}
	gc = (struct jh_gofer_config){
		.view = &fs->view,
		.workspace = cfg ? cfg->workspace : NULL,
		.quota_bytes = cfg ? cfg->quota_bytes : 0,
		.emptydir = fs->emptydir,
		.as_ids = cfg && cfg->as_ids,
		.uid = cfg ? cfg->uid : 0,
		.gid = cfg ? cfg->gid : 0,
	};
	fs->as_ids = gc.as_ids;
	fs->uid = gc.uid;
	fs->gid = gc.gid;
	if (gc.as_ids) {
		/* The workspace and the private /tmp belong to the sandbox's uid. */
		if ((gc.workspace && chown(gc.workspace, gc.uid, gc.gid) < 0) ||
		    chown(fs->tmpdir, gc.uid, gc.gid) < 0) {
			r = jh_negerrno();
			jh_error("cannot hand the workspace to uid %u: %s", (unsigned)gc.uid,
				 strerror(-r));
			goto fail;
		}
	}
	r = jh_gofer_start(&gc, &fs->g, &fds, &emptyfd);
	if (r < 0) {
		jh_error("cannot start the gofer: %s", strerror(-r));
		goto fail;
	}
	r = jh_vfs_init(&fs->vfs, &fs->view, fds, emptyfd);
	if (r < 0)
		goto fail;
	fs->vfs_ready = true;
	fs->vfs.skel_root = fs->skeldir;
	fs->vfs.skel_in_task_root = fs->mountns;
	fs->quota = cfg ? cfg->quota_bytes : 0;
	cur_fs = fs;
	*ret = fs;
	return 0;
fail:
	jh_fs_free(fs);
	return r;
}

const struct jh_mountns_plan *jh_fs_mount_plan(const struct jh_fs *fs)
{
	return fs && fs->mountns ? &fs->plan : NULL;
}

const char *jh_fs_tmpdir(const struct jh_fs *fs)
{
	return fs->tmpdir;
}

const struct jh_view *jh_fs_view(const struct jh_fs *fs)
{
	return &fs->view;
}

void jh_fs_set_sandbox(struct jh_fs *fs, pid_t sid)
{
	fs->vfs.sandbox_sid = sid;
}

uint64_t jh_fs_quota(void)
{
	return cur_fs ? cur_fs->quota : 0;
}

int jh_fs_set_pidns(struct jh_fs *fs, pid_t first)
{
	if (!fs->vfs_ready || !fs->mountns)
		return -EINVAL;
	/* The /proc entries' fds become the namespace's procfs, reached through
	 * the first task's root (it shares init's mount namespace; init mounted
	 * it before reporting). Every /proc name the sentry resolves for a task
	 * then means what it means to the task's kernel, and the objects it
	 * hands over are the ones the task's own opens reach (same device and
	 * inode: the identity checks of cwds, dirfds and execs hold). */
	for (size_t i = 0; i < fs->view.n; i++) {
		char p[PATH_MAX];
		int fd;

		if (fs->view.m[i].kind != JH_MOUNT_PROC)
			continue;
		if (snprintf(p, sizeof(p), "/proc/%d/root%s", (int)first, fs->view.m[i].path) >=
		    (int)sizeof(p))
			return -ENAMETOOLONG;
		fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return jh_negerrno();
		if (fs->vfs.fds[i] >= 0)
			close(fs->vfs.fds[i]);
		fs->vfs.fds[i] = fd;
	}
	fs->vfs.cache_dev = 0;
	fs->vfs.cache_ino = 0;
	fs->vfs.proc_init_guard = true;
	fs->pidns = true;
	return 0;
}

bool jh_fs_failed(const struct jh_fs *fs)
{
	return fs && jh_gofer_dead(fs->g);
}

int jh_fs_finish(struct jh_fs *fs, struct jh_changes *ret)
{
	struct jh_gofer *g = fs->g;

	fs->g = NULL;
	if (!g)
		return -EIO;
	return jh_gofer_finish(g, ret);
}

void jh_fs_free(struct jh_fs *fs)
{
	if (!fs)
		return;
	if (cur_fs == fs)
		cur_fs = NULL;
	jh_gofer_stop(fs->g);
	if (fs->vfs_ready)
		jh_vfs_done(&fs->vfs);
	jh_view_free(&fs->view);
	if (fs->tmpdir)
		(void)jh_rmtree_at(AT_FDCWD, fs->tmpdir);
	if (fs->emptydir)
		(void)rmdir(fs->emptydir);
	if (fs->skeldir)
		(void)jh_rmtree_at(AT_FDCWD, fs->skeldir);
	jh_closep(&fs->skelfd);
	free(fs->tmpdir);
	free(fs->emptydir);
	free(fs->skeldir);
	free(fs->plan_v);
	free(fs);
}

/* ================= helpers ================= */

/* /proc/<pid> membership. In the pid namespace the name is looked up in the
 * namespace's own procfs, which holds the sandbox's tasks and nothing else
 * (the sentry, the gofer and the host are not in it): every number there is
 * ours. */
static bool owns_pid(void *ctx, pid_t pid)
{
	if (cur_fs && cur_fs->pidns)
		return pid > 0;
	return jh_sentry_owns_pid(ctx, pid);
}

/* The last number of a "NStgid:\t<host>\t<ns>" line: the id in the task's
 * own pid namespace. */
static pid_t ns_id(const char *line)
{
	const char *end = strchrnul(line, '\n');
	const char *last = NULL;

	for (const char *q = line; q < end; q++)
		if (*q == '\t' || *q == ' ')
			last = q + 1;
	return last && last < end ? (pid_t)strtol(last, NULL, 10) : 0;
}

static struct jh_vfs_task task_of(const struct jh_call *c)
{
	char p[64], buf[512];
	struct jh_vfs_task t = {.tid = c->sc->tid, .tgid = c->sc->tid};
	int fd;
	ssize_t n;

	cur_fs->vfs.owns_pid = owns_pid;
	cur_fs->vfs.owns_ctx = c->s;
	/* The thread group leader, for /proc/self: Tgid in /proc/<tid>/status. */
	snprintf(p, sizeof(p), "/proc/%d/status", (int)c->sc->tid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			char *s;
			buf[n] = '\0';
			s = strstr(buf, "\nTgid:");
			if (s)
				t.tgid = (pid_t)strtol(s + 6, NULL, 10);
			/* In the pid namespace /proc/self is the task's own
			 * number there: /proc/2, not its host pid. */
			if (cur_fs->pidns) {
				char *a = strstr(buf, "\nNStgid:"), *b = strstr(buf, "\nNSpid:");
				pid_t tg = a ? ns_id(a + 1) : 0, ti = b ? ns_id(b + 1) : 0;

				if (tg > 0 && ti > 0) {
					t.tgid = tg;
					t.tid = ti;
				}
			}
		}
	}
	return t;
}

/* Opens the task's cwd (dirfd AT_FDCWD) or its fd `dirfd` with O_PATH. */
static int task_dirfd(const struct jh_call *c, int dirfd)
{
	char p[64];
	int fd;

	if (dirfd == AT_FDCWD)
		snprintf(p, sizeof(p), "/proc/%d/cwd", (int)c->sc->tid);
	else if (dirfd < 0)
		return -EBADF;
	else
		snprintf(p, sizeof(p), "/proc/%d/fd/%d", (int)c->sc->tid, dirfd);
	fd = open(p, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -EBADF : jh_negerrno();
	return fd;
}

/* Opens an absolute name the way the task's kernel will resolve it: from the
 * task's root when it lives in the view's mount namespace (/workspace exists
 * there, not here), else from ours. -1 with errno on failure, as open(). */
static int task_open_abs(const struct jh_call *c, const char *path, int flags)
{
	struct open_how how = {.flags = (uint64_t)flags, .resolve = RESOLVE_IN_ROOT};
	_cleanup_close_ int root = -1;
	char p[64];

	if (!cur_fs || !cur_fs->mountns)
		return open(path, flags);
	snprintf(p, sizeof(p), "/proc/%d/root", (int)c->sc->tid);
	root = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -1;
	return (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
}

/* In the view's mount namespace, a directory handed to the task is reopened
 * through the task's root at the same view path, and kept only if it is the
 * same directory: a task that fchdir()s to it then has a cwd inside its own
 * namespace, which getcwd() can name and task_dir_view() can map (a
 * directory on the host's mounts would be "(unreachable)" to it, and its host
 * path is no view path). */
static void in_task_ns(const struct jh_call *c, const char *path, int *fd)
{
	struct stat a, b;
	int fl, nfd;

	if (*fd < 0 || !cur_fs->mountns || fstat(*fd, &a) < 0 || !S_ISDIR(a.st_mode))
		return;
	fl = fcntl(*fd, F_GETFL);
	if (fl < 0)
		return;
	nfd = task_open_abs(c, path,
			    (fl & (O_ACCMODE | O_PATH | O_NONBLOCK)) | O_DIRECTORY | O_CLOEXEC);
	if (nfd >= 0 && fstat(nfd, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
		close(*fd);
		*fd = nfd;
	} else if (nfd >= 0)
		close(nfd);
}

/* The view path of a task's directory fd (or cwd). */
static int task_dir_view(struct jh_call *c, int dirfd, char *out)
{
	_cleanup_close_ int fd = task_dirfd(c, dirfd);
	struct stat st;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return jh_negerrno();
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return jh_vfs_view_of_fd(&cur_fs->vfs, fd, out, PATH_MAX);
}

/* Copies path argument `pi` and makes it absolute in the view, relative to
 * dirfd argument `di` (-1: the cwd). An empty path is -ENOENT unless
 * `empty_ok`, when *ret_empty is set and out is left alone. */
static int get_path(struct jh_call *c, int di, int pi, bool empty_ok, bool *ret_empty, char *out)
{
	char base[PATH_MAX];
	const char *s;
	int r;

	if (!cur_fs)
		return -EIO;
	if (ret_empty)
		*ret_empty = false;
	r = jh_call_read_string(c, (unsigned)pi);
	if (r < 0)
		return r == -ESRCH ? -ESRCH : r;
	s = c->strs[pi];
	if (!*s) {
		if (!empty_ok)
			return -ENOENT;
		*ret_empty = true;
		return 0;
	}
	if (s[0] == '/') {
		memcpy(out, s, (size_t)r + 1);
		return 0;
	}
	r = task_dir_view(c, di < 0 ? AT_FDCWD : (int)c->sc->args[di], base);
	if (r < 0)
		return r;
	return jh_vfs_join(base, s, out, PATH_MAX) < 0 ? -ENAMETOOLONG : 0;
}

static enum jh_mount_kind kind_of(int entry)
{
	return cur_fs->view.m[entry].kind;
}

/* Resolves to the object (O_PATH), fast path first. */
static int resolve(struct jh_call *c, const char *path, bool follow, int *ret_entry, bool *ret_skel)
{
	struct jh_vfs_task t;
	struct jh_walk w;
	int fd, entry = -1, r;

	*ret_skel = false;
	fd = jh_vfs_fast_open(&cur_fs->vfs, path, O_PATH | (follow ? 0 : O_NOFOLLOW), &entry);
	if (fd >= 0) {
		*ret_entry = entry;
		return fd;
	}
	if (fd != -EAGAIN)
		return fd;
	t = task_of(c);
	r = jh_vfs_walk(&cur_fs->vfs, &t, path, follow ? JH_WALK_FOLLOW : 0, &w);
	if (r < 0)
		return r;
	*ret_entry = w.entry;
	*ret_skel = kind_of(w.entry) == JH_MOUNT_SKEL && w.fd >= 0;
	return w.fd;
}

static void answer(struct jh_call *c, int64_t r)
{
	if (r == -ESRCH)
		jh_call_emulated(c, -1, ESRCH); /* the task is gone; nobody reads this */
	else if (r < 0)
		jh_call_emulated(c, -1, (int)-r);
	else
		jh_call_emulated(c, r, 0);
}

static void answer_fd(struct jh_call *c, int fd, bool cloexec)
{
	if (fd < 0) {
		answer(c, fd);
		return;
	}
	c->decision = JH_DECISION_EMULATED;
	c->inject_fd = fd;
	c->inject_cloexec = cloexec;
}

/* Walks to the parent of the final name. */
static int walk_parent(struct jh_call *c, const char *path, bool follow, struct jh_walk *w)
{
	struct jh_vfs_task t = task_of(c);

	return jh_vfs_walk(&cur_fs->vfs, &t, path,
			   JH_WALK_PARENT | (follow ? JH_WALK_FOLLOW : 0), w);
}

/* Does parent/last exist (without following)? */
static bool exists_at(const struct jh_walk *w)
{
	struct stat st;

	if (w->last_entry >= 0)
		return true;
	if (!w->last[0])
		return true;
	return fstatat(w->fd, w->last, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Errno for a change refused in a non-writable part of the view. */
static int refuse_change(const struct jh_walk *w, bool creates)
{
	if (kind_of(w->entry) == JH_MOUNT_SKEL && w->last_entry < 0 && w->last[0] &&
	    strcmp(w->last, ".") && strcmp(w->last, ".."))
		return creates ? -EROFS : -ENOENT;
	if (!creates && !exists_at(w))
		return -ENOENT;
	return -EROFS;
}

static void req_init(struct jh_gofer_req *q, uint32_t op, const struct jh_walk *w)
{
	q->op = op;
	q->entry = w->entry;
	q->entry2 = -1;
	snprintf(q->name, sizeof(q->name), "%s", w->last);
	q->name2[0] = '\0';
	q->a = q->b = q->c = 0;
	q->bloblen = 0;
}

static int64_t gofer_call(const struct jh_gofer_req *q, int fd1, int fd2, int *ret_fd)
{
	int64_t r = jh_gofer_call(cur_fs->g, q, fd1, fd2, ret_fd);

	if (r == -EIO && jh_gofer_dead(cur_fs->g))
		jh_error("the gofer died or stalled: file changes fail with EIO");
	return r;
}

/* The request buffer is large (xattr values): one, owned by the dispatcher. */
static struct jh_gofer_req *req_buf(void)
{
	static __thread struct jh_gofer_req q;
	return &q;
}

/* ================= open ================= */

#define OPEN_PASSED_FLAGS                                                                          \
	(O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND | O_NONBLOCK | O_DIRECTORY |            \
	 O_NOFOLLOW | O_SYNC | O_DSYNC | O_NOATIME | O_LARGEFILE | O_CLOEXEC | O_PATH | O_NOCTTY | \
	 O_ASYNC | O_DIRECT)

/* Could the sandbox's uid/gid (no supplementary groups) read this object, as
 * the kernel would decide from its mode bits? (ACLs are not consulted: a file
 * readable only through an ACL entry is refused, never the reverse.) */
static bool sandbox_may_read(const struct stat *st)
{
	if (st->st_uid == cur_fs->uid)
		return st->st_mode & S_IRUSR;
	if (st->st_gid == cur_fs->gid)
		return st->st_mode & S_IRGRP;
	return st->st_mode & S_IROTH;
}

static int finish_read_fd(int fd, int flags)
{
	if (fd >= 0 && cur_fs->as_ids && !(flags & O_PATH)) {
		/* the sentry opened it as root: apply the task's rights */
		struct stat st;

		if (fstat(fd, &st) < 0 || !sandbox_may_read(&st)) {
			close(fd);
			return -EACCES;
		}
	}
	if (fd >= 0 && !(flags & O_NONBLOCK) && !(flags & O_PATH))
		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

/* A skeleton directory for the task (see build_skel_mirror): the task's own
 * in its mount namespace, else the mirror's. */
static int open_skel(const struct jh_call *c, int entry, int mode)
{
	const char *vp = cur_fs->view.m[entry].path;
	char rel[PATH_MAX];
	int fd;

	if (cur_fs->mountns)
		fd = task_open_abs(c, vp, mode | O_DIRECTORY | O_CLOEXEC);
	else if (cur_fs->skelfd >= 0) {
		snprintf(rel, sizeof(rel), ".%s", strcmp(vp, "/") ? vp : "");
		fd = openat(cur_fs->skelfd, rel, mode | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	} else
		return jh_vfs_reopen(cur_fs->vfs.emptyfd, mode | O_DIRECTORY);
	return fd < 0 ? jh_negerrno() : fd;
}

static int open_read(struct jh_call *c, const char *path, int flags)
{
	int rflags = (flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_NOCTTY | O_CLOEXEC;
	bool skel;
	int entry, fd;

	if (!(flags & O_PATH))
		rflags |= O_NONBLOCK;
	else
		rflags &= O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC;
	fd = jh_vfs_fast_open(&cur_fs->vfs, path, rflags, &entry);
	if (fd != -EAGAIN)
		return finish_read_fd(fd, flags);

	{
		_cleanup_close_ int o = resolve(c, path, !(flags & O_NOFOLLOW), &entry, &skel);
		struct stat st;

		if (o < 0)
			return o;
		if (fstat(o, &st) < 0)
			return jh_negerrno();
		if (kind_of(entry) == JH_MOUNT_DEV && S_ISCHR(st.st_mode) &&
		    major(st.st_rdev) == 5 && minor(st.st_rdev) == 0)
			return -ENXIO; /* /dev/tty: the sandbox has no controlling terminal */
		if ((flags & O_DIRECTORY) && !S_ISDIR(st.st_mode))
			return -ENOTDIR;
		if (skel)
			return open_skel(c, entry, flags & O_PATH ? O_PATH : O_RDONLY);
		if (flags & O_PATH)
			return TAKE_FD(o);
		if (S_ISLNK(st.st_mode))
			return -ELOOP;
		return finish_read_fd(jh_vfs_reopen(o, rflags), flags);
	}
}

static int open_write(struct jh_call *c, const char *path, int flags, mode_t mode)
{
	struct jh_walk w;
	bool follow = !(flags & O_NOFOLLOW) && !((flags & O_CREAT) && (flags & O_EXCL));
	struct jh_gofer_req *q;
	int r, fd = -1;

	if ((flags & O_CREAT) && (flags & O_DIRECTORY))
		return -EINVAL;
	r = walk_parent(c, path, follow, &w);
	if (r < 0)
		return r;
	{
		_cleanup_close_ int pfd = w.fd;
		enum jh_mount_kind k = kind_of(w.entry);

		if (!w.last[0] || !strcmp(w.last, ".") || !strcmp(w.last, ".."))
			return -EISDIR;
		if (w.slash && (flags & O_CREAT))
			return -EISDIR;
		if (w.last_entry >= 0) {
			enum jh_mount_kind lk = kind_of(w.last_entry);
			int efd = cur_fs->vfs.fds[w.last_entry];
			struct stat st;

			if (lk == JH_MOUNT_HIDE || efd < 0)
				return (flags & O_CREAT) ? -EROFS : -ENOENT;
			if ((flags & O_CREAT) && (flags & O_EXCL))
				return -EEXIST;
			if (fstat(efd, &st) < 0)
				return jh_negerrno();
			if (S_ISDIR(st.st_mode))
				return -EISDIR;
			if (lk != JH_MOUNT_DEV)
				return -EROFS;
			if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 5 && minor(st.st_rdev) == 0)
				return -ENXIO;
			if (!S_ISCHR(st.st_mode))
				return -EROFS;
			return finish_read_fd(jh_vfs_reopen(efd, (flags & (O_ACCMODE | O_APPEND)) |
									 O_NOCTTY | O_NONBLOCK),
					      flags);
		}
		if (k == JH_MOUNT_DEV) {
			/* An existing device below a device entry (/dev/pts/N). */
			struct stat st;
			int dfd = openat(pfd, w.last,
					 (flags & (O_ACCMODE | O_APPEND)) | O_NOFOLLOW | O_NOCTTY |
						 O_NONBLOCK | O_CLOEXEC);
			if (dfd < 0)
				return errno == ENOENT && (flags & O_CREAT) ? -EROFS : jh_negerrno();
			if (fstat(dfd, &st) < 0 || !S_ISCHR(st.st_mode)) {
				close(dfd);
				return -EROFS;
			}
			return finish_read_fd(dfd, flags);
		}
		if (k != JH_MOUNT_RW)
			return refuse_change(&w, (flags & O_CREAT) != 0);
		q = req_buf();
		req_init(q, JH_GOFER_OPEN, &w);
		q->a = flags & ~(O_PATH | O_NOCTTY | O_ASYNC | O_DIRECT);
		q->a &= ~O_CLOEXEC;
		q->b = mode & 0777;
		r = (int)gofer_call(q, pfd, -1, &fd);
		if (r < 0)
			return r;
		if (w.slash && fd >= 0) {
			struct stat st;
			if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode)) {
				close(fd);
				return -ENOTDIR;
			}
		}
		return fd >= 0 ? fd : -EIO;
	}
}

static void do_open(struct jh_call *c, int di, int pi, int flags, mode_t mode)
{
	char path[PATH_MAX];
	int r, fd;

	if (!(c->ops->features(c->p) & JH_FEAT_ADDFD)) {
		/* Both platforms install fds on x86_64; a backend that cannot must
		 * not fall back to letting the kernel re-read the task's string. */
		jh_call_deny(c, ENOSYS, "the platform cannot install fds in the task");
		return;
	}
	r = get_path(c, di, pi, false, NULL, path);
	if (r < 0) {
		answer(c, r);
		return;
	}
	if ((flags & __O_TMPFILE) == __O_TMPFILE) {
		jh_call_deny(c, EOPNOTSUPP, "O_TMPFILE is not supported");
		return;
	}
	flags &= OPEN_PASSED_FLAGS;
	if ((flags & O_ACCMODE) == O_ACCMODE && !(flags & O_PATH)) {
		answer(c, -EINVAL);
		return;
	}
	if (!(flags & O_PATH) &&
	    ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC))))
		fd = open_write(c, path, flags, mode);
	else
		fd = open_read(c, path, flags);
	in_task_ns(c, path, &fd);
	answer_fd(c, fd, (flags & O_CLOEXEC) != 0);
}

static void handle_open(struct jh_call *c)
{
	do_open(c, -1, 0, (int)c->sc->args[1], (mode_t)c->sc->args[2]);
}

static void handle_creat(struct jh_call *c)
{
	do_open(c, -1, 0, O_CREAT | O_WRONLY | O_TRUNC, (mode_t)c->sc->args[1]);
}

static void handle_openat(struct jh_call *c)
{
	do_open(c, 0, 1, (int)c->sc->args[2], (mode_t)c->sc->args[3]);
}

static void handle_openat2(struct jh_call *c)
{
	struct open_how how;
	int r;

	if (c->sc->args[3] < sizeof(how)) {
		answer(c, -EINVAL);
		return;
	}
	r = c->ops->read(c->p, c->sc, &how, c->sc->args[2], sizeof(how));
	if (r < 0) {
		answer(c, r);
		return;
	}
	if (how.resolve || how.flags > 0xffffffffull || (how.mode & ~07777ull)) {
		/* RESOLVE_* scopes the task's own dirfd: not emulated; libc falls back. */
		jh_call_deny(c, how.resolve ? ENOSYS : EINVAL, "openat2 resolve flags");
		return;
	}
	do_open(c, 0, 1, (int)how.flags, (mode_t)how.mode);
}

/* ================= stat family ================= */

/* Opens what a stat-like call names: the path, or with AT_EMPTY_PATH and ""
 * the dirfd itself (fstat through newfstatat, as glibc does). */
static int stat_target(struct jh_call *c, int di, int pi, int atflags, bool *ret_skel)
{
	char path[PATH_MAX];
	bool empty;
	int entry, r;

	*ret_skel = false;
	r = get_path(c, di, pi, (atflags & AT_EMPTY_PATH) != 0, &empty, path);
	if (r < 0)
		return r;
	if (empty)
		return task_dirfd(c, di < 0 ? AT_FDCWD : (int)c->sc->args[di]);
	return resolve(c, path, !(atflags & AT_SYMLINK_NOFOLLOW), &entry, ret_skel);
}

static void do_stat(struct jh_call *c, int di, int pi, uint64_t buf, int atflags)
{
	bool skel;
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	if (atflags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT)) {
		answer(c, -EINVAL);
		return;
	}
	fd = stat_target(c, di, pi, atflags, &skel);
	if (fd < 0) {
		answer(c, fd);
		return;
	}
	if (fstatat(fd, "", &st, AT_EMPTY_PATH) < 0) {
		answer(c, jh_negerrno());
		return;
	}
	r = c->ops->write(c->p, c->sc, buf, &st, sizeof(st));
	answer(c, r < 0 ? r : 0);
}

static void handle_stat(struct jh_call *c)
{
	do_stat(c, -1, 0, c->sc->args[1], 0);
}

static void handle_lstat(struct jh_call *c)
{
	do_stat(c, -1, 0, c->sc->args[1], AT_SYMLINK_NOFOLLOW);
}

static void handle_newfstatat(struct jh_call *c)
{
	do_stat(c, 0, 1, c->sc->args[2], (int)c->sc->args[3]);
}

static void handle_statx(struct jh_call *c)
{
	int atflags = (int)c->sc->args[2];
	bool skel;
	_cleanup_close_ int fd = -1;
	struct statx stx;
	int r;

	if (atflags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT |
			AT_STATX_SYNC_TYPE)) {
		answer(c, -EINVAL);
		return;
	}
	fd = stat_target(c, 0, 1, atflags, &skel);
	if (fd < 0) {
		answer(c, fd);
		return;
	}
	if (statx(fd, "", AT_EMPTY_PATH | (atflags & AT_STATX_SYNC_TYPE),
		  (unsigned)c->sc->args[3], &stx) < 0) {
		answer(c, jh_negerrno());
		return;
	}
	r = c->ops->write(c->p, c->sc, c->sc->args[4], &stx, sizeof(stx));
	answer(c, r < 0 ? r : 0);
}

static void handle_statfs(struct jh_call *c)
{
	bool skel;
	_cleanup_close_ int fd = stat_target(c, -1, 0, 0, &skel);
	struct statfs sf;
	int r;

	if (fd < 0) {
		answer(c, fd);
		return;
	}
	if (fstatfs(fd, &sf) < 0) {
		answer(c, jh_negerrno());
		return;
	}
	r = c->ops->write(c->p, c->sc, c->sc->args[1], &sf, sizeof(sf));
	answer(c, r < 0 ? r : 0);
}

/* ================= access, readlink ================= */

static void do_access(struct jh_call *c, int di, int pi, int mode, int atflags)
{
	bool skel;
	_cleanup_close_ int fd = -1;
	int entry;
	char path[PATH_MAX];
	bool empty;
	int r;

	if ((mode & ~(R_OK | W_OK | X_OK)) ||
	    (atflags & ~(AT_SYMLINK_NOFOLLOW | AT_EACCESS | AT_EMPTY_PATH))) {
		answer(c, -EINVAL);
		return;
	}
	r = get_path(c, di, pi, (atflags & AT_EMPTY_PATH) != 0, &empty, path);
	if (r < 0) {
		answer(c, r);
		return;
	}
	if (empty) {
		fd = task_dirfd(c, di < 0 ? AT_FDCWD : (int)c->sc->args[di]);
		entry = -1;
	} else
		fd = resolve(c, path, !(atflags & AT_SYMLINK_NOFOLLOW), &entry, &skel);
	if (fd < 0) {
		answer(c, fd);
		return;
	}
	if ((mode & W_OK) && entry >= 0 && kind_of(entry) != JH_MOUNT_RW &&
	    kind_of(entry) != JH_MOUNT_DEV) {
		answer(c, -EROFS);
		return;
	}
	r = faccessat(fd, "", mode, AT_EMPTY_PATH | (atflags & AT_EACCESS));
	answer(c, r < 0 ? jh_negerrno() : 0);
}

static void handle_access(struct jh_call *c)
{
	do_access(c, -1, 0, (int)c->sc->args[1], 0);
}

static void handle_faccessat(struct jh_call *c)
{
	do_access(c, 0, 1, (int)c->sc->args[2], 0);
}

static void handle_faccessat2(struct jh_call *c)
{
	do_access(c, 0, 1, (int)c->sc->args[2], (int)c->sc->args[3]);
}

static void do_readlink(struct jh_call *c, int di, int pi, uint64_t buf, int64_t size)
{
	char path[PATH_MAX], target[PATH_MAX];
	struct jh_vfs_task t;
	struct jh_walk w;
	ssize_t n;
	int r;

	if (size <= 0) {
		answer(c, -EINVAL);
		return;
	}
	r = get_path(c, di, pi, false, NULL, path);
	if (r < 0) {
		answer(c, r);
		return;
	}
	t = task_of(c);
	r = jh_vfs_walk(&cur_fs->vfs, &t, path, 0, &w);
	if (r < 0) {
		answer(c, r);
		return;
	}
	/* /proc/self and /proc/thread-self name the asking task, not the sentry. */
	if (kind_of(w.entry) == JH_MOUNT_PROC && strcmp(w.view, "/proc/self") == 0)
		n = snprintf(target, sizeof(target), "%d", (int)t.tgid);
	else if (kind_of(w.entry) == JH_MOUNT_PROC && strcmp(w.view, "/proc/thread-self") == 0)
		n = snprintf(target, sizeof(target), "%d/task/%d", (int)t.tgid, (int)t.tid);
	else
		n = readlinkat(w.fd, "", target, sizeof(target));
	if (n < 0)
		r = errno == ENOENT ? -EINVAL : jh_negerrno();
	/* In the mount namespace a file the sentry opened reads back as its host
	 * path (/proc/<pid>/fd/N): named as the task sees it (/workspace/...). */
	if (n > 0 && n < (ssize_t)sizeof(target) && cur_fs->mountns &&
	    kind_of(w.entry) == JH_MOUNT_PROC && target[0] == '/') {
		char mapped[PATH_MAX];

		target[n] = '\0';
		if (jh_view_host_to_view(&cur_fs->view, target, mapped, sizeof(mapped)) == 0) {
			n = (ssize_t)strlen(mapped);
			memcpy(target, mapped, (size_t)n);
		}
	}
	close(w.fd);
	if (n < 0) {
		answer(c, r);
		return;
	}
	n = JH_MIN(n, (ssize_t)JH_MIN(size, (int64_t)sizeof(target)));
	r = c->ops->write(c->p, c->sc, buf, target, (size_t)n);
	answer(c, r < 0 ? r : n);
}

static void handle_readlink(struct jh_call *c)
{
	do_readlink(c, -1, 0, c->sc->args[1], (int64_t)c->sc->args[2]);
}

static void handle_readlinkat(struct jh_call *c)
{
	do_readlink(c, 0, 1, c->sc->args[2], (int64_t)(int)c->sc->args[3]);
}

/* ================= changes ================= */

/* Resolves path argument (di, pi) to parent + name for a change. */
static int change_target(struct jh_call *c, int di, int pi, bool follow, struct jh_walk *w)
{
	char path[PATH_MAX];
	int r = get_path(c, di, pi, false, NULL, path);

	if (r < 0)
		return r;
	return walk_parent(c, path, follow, w);
}

/* Parent + name for a call that creates a new name (mkdir, mknod, symlink):
 * the name must be a plain one in a read-write part of the view. 0 with *w
 * (its fd the caller's), or -errno for the call (w->fd closed). */
static int create_target(struct jh_call *c, int di, int pi, struct jh_walk *w)
{
	int r = change_target(c, di, pi, false, w);

	if (r < 0)
		return r;
	if (!w->last[0] || !strcmp(w->last, ".") || !strcmp(w->last, "..") || w->last_entry >= 0)
		r = -EEXIST;
	else if (kind_of(w->entry) != JH_MOUNT_RW)
		r = exists_at(w) ? -EEXIST : -EROFS;
	if (r < 0)
		jh_closep(&w->fd);
	return r;
}

static void do_mkdir(struct jh_call *c, int di, int pi, mode_t mode)
{
	struct jh_walk w;
	int r = create_target(c, di, pi, &w);

	if (r < 0) {
		answer(c, r);
		return;
	}
	{
		_cleanup_close_ int pfd = w.fd;
		struct jh_gofer_req *q = req_buf();
		req_init(q, JH_GOFER_MKDIR, &w);
		q->a = mode & 01777;
		answer(c, gofer_call(q, pfd, -1, NULL));
	}
}

static void handle_mkdir(struct jh_call *c)
{
	do_mkdir(c, -1, 0, (mode_t)c->sc->args[1]);
}

static void handle_mkdirat(struct jh_call *c)
{
	do_mkdir(c, 0, 1, (mode_t)c->sc->args[2]);
}

static void do_mknod(struct jh_call *c, int di, int pi, mode_t mode)
{
	struct jh_walk w;
	mode_t type = mode & S_IFMT;
	int r;

	if (type != 0 && type != S_IFREG && type != S_IFIFO) {
		jh_call_deny(c, EPERM, "only regular files and fifos can be made");
		return;
	}
	r = create_target(c, di, pi, &w);
	if (r < 0) {
		answer(c, r);
		return;
	}
	{
		_cleanup_close_ int pfd = w.fd;
		struct jh_gofer_req *q = req_buf();
		req_init(q, JH_GOFER_MKNOD, &w);
		q->a = mode;
		answer(c, gofer_call(q, pfd, -1, NULL));
	}
}

static void handle_mknod(struct jh_call *c)
{
	do_mknod(c, -1, 0, (mode_t)c->sc->args[1]);
}

static void handle_mknodat(struct jh_call *c)
{
	do_mknod(c, 0, 1, (mode_t)c->sc->args[2]);
}

static void do_unlink(struct jh_call *c, int di, int pi, int atflags)
{
	struct jh_walk w;
	int r;

	if (atflags & ~AT_REMOVEDIR) {
		answer(c, -EINVAL);
		return;
	}
	r = change_target(c, di, pi, false, &w);
	if (r < 0) {
		answer(c, r);
		return;
	}
	{
		_cleanup_close_ int pfd = w.fd;
		if (!w.last[0] || !strcmp(w.last, ".")) {
			answer(c, (atflags & AT_REMOVEDIR) ? -EINVAL : -EISDIR);
			return;
		}
		if (!strcmp(w.last, "..")) {
			answer(c, (atflags & AT_REMOVEDIR) ? -ENOTEMPTY : -EISDIR);
			return;
		}
		if (w.last_entry >= 0 && kind_of(w.last_entry) != JH_MOUNT_HIDE) {
			answer(c, -EBUSY);
			return;
		}
		if (kind_of(w.entry) != JH_MOUNT_RW) {
			answer(c, refuse_change(&w, false));
			return;
		}
		struct jh_gofer_req *q = req_buf();
		req_init(q, JH_GOFER_UNLINK, &w);
		q->a = atflags & AT_REMOVEDIR;
		answer(c, gofer_call(q, pfd, -1, NULL));
	}
}

static void handle_unlink(struct jh_call *c)
{
	do_unlink(c, -1, 0, 0);
}

static void handle_rmdir(struct jh_call *c)
{
	do_unlink(c, -1, 0, AT_REMOVEDIR);
}

static void handle_unlinkat(struct jh_call *c)
{
	do_unlink(c, 0, 1, (int)c->sc->args[2]);
}

/* rename and link: two names. */
static void do_two(struct jh_call *c, uint32_t op, int d1, int p1, int d2, int p2, unsigned flags,
		   bool follow_old)
{
	struct jh_walk a, b;
	int r;

	r = change_target(c, d1, p1, follow_old, &a);
	if (r < 0) {
		answer(c, r);
		return;
	}
	{
		_cleanup_close_ int afd = a.fd;
		r = change_target(c, d2, p2, false, &b);
		if (r < 0) {
			answer(c, r);
			return;
		}
		_cleanup_close_ int bfd = b.fd;
		bool bad_a = !a.last[0] || !strcmp(a.last, ".") || !strcmp(a.last, "..");
		bool bad_b = !b.last[0] || !strcmp(b.last, ".") || !strcmp(b.last, "..");

		if (bad_a || bad_b) {
			answer(c, op == JH_GOFER_LINK ? (bad_b ? -EEXIST : -EPERM) : -EBUSY);
			return;
		}
		if (a.last_entry >= 0 || b.last_entry >= 0) {
			answer(c, op == JH_GOFER_LINK && b.last_entry >= 0 ? -EEXIST : -EBUSY);
			return;
		}
		if (!exists_at(&a)) {
			answer(c, -ENOENT);
			return;
		}
		if (kind_of(a.entry) != JH_MOUNT_RW || kind_of(b.entry) != JH_MOUNT_RW) {
			answer(c, a.entry == b.entry ? -EROFS : -EXDEV);
			return;
		}
		if (a.entry != b.entry) {
			answer(c, -EXDEV);
			return;
		}
		struct jh_gofer_req *q = req_buf();
		req_init(q, op, &a);
		q->entry2 = b.entry;
		snprintf(q->name2, sizeof(q->name2), "%s", b.last);
		q->a = flags;
		answer(c, gofer_call(q, afd, bfd, NULL));
	}
}

static void handle_rename(struct jh_call *c)
{
	do_two(c, JH_GOFER_RENAME, -1, 0, -1, 1, 0, false);
}

static void handle_renameat(struct jh_call *c)
{
	do_two(c, JH_GOFER_RENAME, 0, 1, 2, 3, 0, false);
}

static void handle_renameat2(struct jh_call *c)
{
	unsigned flags = (unsigned)c->sc->args[4];

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
		answer(c, -EINVAL); /* RENAME_WHITEOUT: overlayfs' own */
		return;
	}
	do_two(c, JH_GOFER_RENAME, 0, 1, 2, 3, flags, false);
}

static void handle_link(struct jh_call *c)
{
	do_two(c, JH_GOFER_LINK, -1, 0, -1, 1, 0, false);
}

static void handle_linkat(struct jh_call *c)
{
	int flags = (int)c->sc->args[4];

	if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) {
		answer(c, -EINVAL);
		return;
	}
	if (flags & AT_EMPTY_PATH) {
		/* Linking an open fd (O_TMPFILE's way): not emulated. */
		jh_call_deny(c, ENOENT, "linkat AT_EMPTY_PATH is not supported");
		return;
	}
	do_two(c, JH_GOFER_LINK, 0, 1, 2, 3, 0, (flags & AT_SYMLINK_FOLLOW) != 0);
}

static void do_symlink(struct jh_call *c, int ti, int di, int pi)
{
	struct jh_walk w;
	int r = jh_call_read_string(c, (unsigned)ti);

	if (r < 0) {
		answer(c, r);
		return;
	}
	r = create_target(c, di, pi, &w);
	if (r < 0) {
		answer(c, r);
		return;
	}
	{
		_cleanup_close_ int pfd = w.fd;
		struct jh_gofer_req *q = req_buf();
		req_init(q, JH_GOFER_SYMLINK, &w);
		q->bloblen = (uint32_t)strlen(c->strs[ti]);
		memcpy(q->blob, c->strs[ti], q->bloblen);
		answer(c, gofer_call(q, pfd, -1, NULL));
	}
}

static void handle_symlink(struct jh_call *c)
{
	do_symlink(c, 0, -1, 1);
}

static void handle_symlinkat(struct jh_call *c)
{
	do_symlink(c, 0, 1, 2);
}

/* chmod, chown, truncate, utimes, xattrs: change an existing object. */
static void do_attr(struct jh_call *c, struct jh_gofer_req *q, int di, int pi, bool follow)
{
	struct jh_walk w;
	uint32_t op = q->op;
	int r = change_target(c, di, pi, follow, &w);

	if (r < 0) {
		answer(c, r);
		return;
	}
	{
		_cleanup_close_ int pfd = w.fd;
		if (op != JH_GOFER_TRUNCATE && w.last_entry >= 0 &&
		    kind_of(w.last_entry) == JH_MOUNT_RW && cur_fs->vfs.fds[w.last_entry] >= 0) {
			/* A read-write entry's own root (the workspace): the gofer
			 * changes it as "." of itself. */
			jh_closep(&pfd);
			pfd = fcntl(cur_fs->vfs.fds[w.last_entry], F_DUPFD_CLOEXEC, 3);
			if (pfd < 0) {
				answer(c, -EIO);
				return;
			}
			q->entry = w.last_entry;
			snprintf(q->name, sizeof(q->name), ".");
			answer(c, gofer_call(q, pfd, -1, NULL));
			return;
		}
		if (op != JH_GOFER_TRUNCATE && (!w.last[0] || !strcmp(w.last, ".")) &&
		    w.last_entry < 0 && kind_of(w.entry) == JH_MOUNT_RW) {
			/* "dir/." or "dir/": the directory the walk stopped in */
			q->entry = w.entry;
			snprintf(q->name, sizeof(q->name), ".");
			answer(c, gofer_call(q, pfd, -1, NULL));
			return;
		}
		if (!w.last[0] || !strcmp(w.last, ".") || !strcmp(w.last, "..") ||
		    w.last_entry >= 0) {
			/* The object is a directory or an entry's root: not ours to change. */
			if (w.last_entry >= 0 && kind_of(w.last_entry) == JH_MOUNT_HIDE)
				answer(c, -ENOENT);
			else
				answer(c, op == JH_GOFER_TRUNCATE ? -EISDIR : -EROFS);
			return;
		}
		if (kind_of(w.entry) != JH_MOUNT_RW) {
			answer(c, refuse_change(&w, false));
			return;
		}
		q->entry = w.entry;
		snprintf(q->name, sizeof(q->name), "%s", w.last);
		if (!exists_at(&w)) {
			answer(c, -ENOENT);
			return;
		}
		answer(c, gofer_call(q, pfd, -1, NULL));
	}
}

static struct jh_gofer_req *attr_req(uint32_t op)
{
	struct jh_gofer_req *q = req_buf();

	q->op = op;
	q->entry = q->entry2 = -1;
	q->name[0] = q->name2[0] = '\0';
	q->a = q->b = q->c = 0;
	q->bloblen = 0;
	return q;
}

static void handle_chmod(struct jh_call *c)
{
	struct jh_gofer_req *q = attr_req(JH_GOFER_CHMOD);

	q->a = (mode_t)c->sc->args[1] & 07777;
	do_attr(c, q, -1, 0, true);
}

static void handle_fchmodat(struct jh_call *c)
{
	struct jh_gofer_req *q = attr_req(JH_GOFER_CHMOD);

	q->a = (mode_t)c->sc->args[2] & 07777;
	do_attr(c, q, 0, 1, true);
}

static void handle_fchmodat2(struct jh_call *c)
{
	int flags = (int)c->sc->args[3];
	struct jh_gofer_req *q;

	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) {
		answer(c, -EINVAL);
		return;
	}
	if (flags & AT_EMPTY_PATH) {
		jh_call_deny(c, EOPNOTSUPP, "fchmodat2 AT_EMPTY_PATH: use fchmod");
		return;
	}
	q = attr_req(JH_GOFER_CHMOD);
	q->a = (mode_t)c->sc->args[2] & 07777;
	q->c = (flags & AT_SYMLINK_NOFOLLOW) != 0;
	do_attr(c, q, 0, 1, !(flags & AT_SYMLINK_NOFOLLOW));
}

static void chown_common(struct jh_call *c, int di, int pi, uint64_t uid, uint64_t gid, int flags)
{
	struct jh_gofer_req *q;

	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) {
		answer(c, -EINVAL);
		return;
	}
	if (flags & AT_EMPTY_PATH) {
		jh_call_deny(c, EOPNOTSUPP, "fchownat AT_EMPTY_PATH: use fchown");
		return;
	}
	q = attr_req(JH_GOFER_CHOWN);
	q->a = (int64_t)(uint32_t)uid;
	q->b = (int64_t)(uint32_t)gid;
	q->c = (flags & AT_SYMLINK_NOFOLLOW) != 0;
	do_attr(c, q, di, pi, !(flags & AT_SYMLINK_NOFOLLOW));
}

static void handle_chown(struct jh_call *c)
{
	chown_common(c, -1, 0, c->sc->args[1], c->sc->args[2], 0);
}

static void handle_lchown(struct jh_call *c)
{
	chown_common(c, -1, 0, c->sc->args[1], c->sc->args[2], AT_SYMLINK_NOFOLLOW);
}

static void handle_fchownat(struct jh_call *c)
{
	chown_common(c, 0, 1, c->sc->args[2], c->sc->args[3], (int)c->sc->args[4]);
}

static void handle_truncate(struct jh_call *c)
{
	struct jh_gofer_req *q;

	if ((int64_t)c->sc->args[1] < 0) {
		answer(c, -EINVAL);
		return;
	}
	q = attr_req(JH_GOFER_TRUNCATE);
	q->a = (int64_t)c->sc->args[1];
	do_attr(c, q, -1, 0, true);
}

/* Reads the times argument into timespec[2]; kind 0: timespec[2], 1: timeval[2],
 * 2: struct utimbuf. Returns 1 when there were times, 0 for NULL (now). */
static int read_times(struct jh_call *c, uint64_t addr, int kind, struct timespec ts[2])
{
	int r;

	if (!addr)
		return 0;
	if (kind == 0) {
		r = c->ops->read(c->p, c->sc, ts, addr, sizeof(struct timespec) * 2);
	} else if (kind == 1) {
		struct timeval tv[2];
		r = c->ops->read(c->p, c->sc, tv, addr, sizeof(tv));
		for (int i = 0; r == 0 && i < 2; i++) {
			if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000)
				return -EINVAL;
			ts[i].tv_sec = tv[i].tv_sec;
			ts[i].tv_nsec = tv[i].tv_usec * 1000;
		}
	} else {
		struct utimbuf ub;
		r = c->ops->read(c->p, c->sc, &ub, addr, sizeof(ub));
		ts[0] = (struct timespec){.tv_sec = ub.actime};
		ts[1] = (struct timespec){.tv_sec = ub.modtime};
	}
	return r < 0 ? r : 1;
}

static void do_utimes(struct jh_call *c, int di, int pi, uint64_t addr, int kind, int flags)
{
	struct jh_gofer_req *q;
	struct timespec ts[2];
	int r;

	if (flags & ~AT_SYMLINK_NOFOLLOW) {
		answer(c, -EINVAL);
		return;
	}
	r = read_times(c, addr, kind, ts);
	if (r < 0) {
		answer(c, r);
		return;
	}
	q = attr_req(JH_GOFER_UTIMENS);
	if (r == 1) {
		memcpy(q->blob, ts, sizeof(ts));
		q->bloblen = sizeof(ts);
	}
	q->c = (flags & AT_SYMLINK_NOFOLLOW) != 0;
	do_attr(c, q, di, pi, !(flags & AT_SYMLINK_NOFOLLOW));
}

static void handle_utime(struct jh_call *c)
{
	do_utimes(c, -1, 0, c->sc->args[1], 2, 0);
}

static void handle_utimes(struct jh_call *c)
{
	do_utimes(c, -1, 0, c->sc->args[1], 1, 0);
}

static void handle_futimesat(struct jh_call *c)
{
	if (!c->sc->args[1]) {
		jh_call_continue(c, "on the fd itself"); /* decided on the register: NULL */
		return;
	}
	do_utimes(c, 0, 1, c->sc->args[2], 1, 0);
}

static void handle_utimensat(struct jh_call *c)
{
	/* futimens(fd) is utimensat(fd, NULL, ...): the fd is the task's own. */
	if (!c->sc->args[1]) {
		jh_call_continue(c, "on the fd itself");
		return;
	}
	do_utimes(c, 0, 1, c->sc->args[2], 0, (int)c->sc->args[3]);
}

/* ================= xattrs ================= */

#define XATTR_VALUE_MAX 65536

static void do_getxattr(struct jh_call *c, bool follow, bool list)
{
	char path[PATH_MAX], p[64];
	static __thread char val[XATTR_VALUE_MAX];
	uint64_t buf = list ? c->sc->args[1] : c->sc->args[2];
	size_t size = (size_t)(list ? c->sc->args[2] : c->sc->args[3]);
	bool skel;
	int entry, r;
	ssize_t n;
	_cleanup_close_ int fd = -1;
	struct stat st;

	r = get_path(c, -1, 0, false, NULL, path);
	if (r >= 0 && !list)
		r = jh_call_read_string(c, 1);
	if (r < 0) {
		answer(c, r);
		return;
	}
	fd = resolve(c, path, follow, &entry, &skel);
	if (fd < 0) {
		answer(c, fd);
		return;
	}
	if (fstat(fd, &st) < 0 || S_ISLNK(st.st_mode)) {
		/* Symlinks carry no user xattrs; others we do not read through. */
		answer(c, list ? 0 : -ENODATA);
		return;
	}
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	size = JH_MIN(size, sizeof(val));
	n = list ? listxattr(p, size ? val : NULL, size)
		 : getxattr(p, c->strs[1], size ? val : NULL, size);
	if (n < 0) {
		answer(c, jh_negerrno());
		return;
	}
	if (size && n > 0) {
		r = c->ops->write(c->p, c->sc, buf, val, (size_t)n);
		if (r < 0) {
			answer(c, r);
			return;
		}
	}
	answer(c, n);
}

static void handle_getxattr(struct jh_call *c)
{
	do_getxattr(c, true, false);
}

static void handle_lgetxattr(struct jh_call *c)
{
	do_getxattr(c, false, false);
}

static void handle_listxattr(struct jh_call *c)
{
	do_getxattr(c, true, true);
}

static void handle_llistxattr(struct jh_call *c)
{
	do_getxattr(c, false, true);
}

static void do_setxattr(struct jh_call *c, bool follow, bool remove)
{
	struct jh_gofer_req *q;
	int r = jh_call_read_string(c, 1);

	if (r < 0) {
		answer(c, r);
		return;
	}
	q = attr_req(remove ? JH_GOFER_REMOVEXATTR : JH_GOFER_SETXATTR);
	snprintf(q->name2, sizeof(q->name2), "%s", c->strs[1]);
	if (!remove) {
		size_t size = (size_t)c->sc->args[3];
		if (size > XATTR_VALUE_MAX) {
			answer(c, -E2BIG);
			return;
		}
		if (size) {
			r = c->ops->read(c->p, c->sc, q->blob, c->sc->args[2], size);
			if (r < 0) {
				answer(c, r);
				return;
			}
		}
		q->bloblen = (uint32_t)size;
		q->a = (int64_t)(int)c->sc->args[4];
	}
	q->c = !follow;
	do_attr(c, q, -1, 0, follow);
}

static void handle_setxattr(struct jh_call *c)
{
	do_setxattr(c, true, false);
}

static void handle_lsetxattr(struct jh_call *c)
{
	do_setxattr(c, false, false);
}

static void handle_removexattr(struct jh_call *c)
{
	do_setxattr(c, true, true);
}

static void handle_lremovexattr(struct jh_call *c)
{
	do_setxattr(c, false, true);
}

/* ================= exec, chdir ================= */

/* Checks that `path` resolves in the view to the object the kernel will reach
 * with the same string (entries at their host paths). Returns 0 and *st of the
 * object, or -errno. */
static int check_host_identity(struct jh_call *c, int di, int pi, bool want_dir, struct stat *st)
{
	char path[PATH_MAX];
	_cleanup_close_ int fd = -1, hfd = -1;
	struct stat hst;
	bool skel;
	int entry, r;

	r = get_path(c, di, pi, false, NULL, path);
	if (r < 0)
		return r;
	fd = resolve(c, path, true, &entry, &skel);
	if (fd < 0)
		return fd;
	if (fstat(fd, st) < 0)
		return jh_negerrno();
	if (want_dir && !S_ISDIR(st->st_mode))
		return -ENOTDIR;
	if (!want_dir && S_ISDIR(st->st_mode))
		return -EACCES;
	if (skel && !want_dir)
		return -ENOENT;
	if (skel && cur_fs->mountns)
		return 0; /* the task's root is the view: its skeletons are its own */
	if (skel) {
		/* Without a mount namespace a skeleton is at its host path (an
		 * ancestor of identity entries): chdir there grants nothing, as
		 * the task's relative names are mapped back into the view. */
		close(fd);
		fd = open(cur_fs->view.m[entry].path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, st) < 0)
			return -EACCES;
	}
	/* The kernel will resolve the task's string relative to the task's cwd or
	 * dirfd: open that same string the same way, through the task's own cwd. */
	if (c->strs[pi][0] == '/')
		hfd = task_open_abs(c, c->strs[pi], O_PATH | O_CLOEXEC);
	else {
		_cleanup_close_ int dfd = task_dirfd(c, di < 0 ? AT_FDCWD : (int)c->sc->args[di]);
		hfd = dfd < 0 ? -1 : openat(dfd, c->strs[pi], O_PATH | O_CLOEXEC);
	}
	if (hfd < 0 || fstat(hfd, &hst) < 0 || hst.st_dev != st->st_dev || hst.st_ino != st->st_ino)
		return -EACCES; /* the view maps this name elsewhere (/tmp) */
	return 0;
}

/* execve/execveat cannot be performed for the task. The target is resolved in
 * the view and must be the very file the host path names; then the call is
 * continued and the kernel re-reads the path. A thread rewriting the path (or
 * swapping a symlink) in between makes the kernel exec another file the task's
 * uid can execute on the host. The exec hook closes most of that window:
 * note_exec() records what was checked (and a script's interpreter), and
 * jh_fs_exec_verify() compares /proc/<pid>/exe at the process's next
 * intercepted call, killing it on a mismatch. What remains: the new image may
 * compute and use passed calls (write to inherited fds, fork) before its first
 * intercepted call — a dynamically linked program makes one in ld.so before
 * main, a static one need not. Under ptrace, PTRACE_EVENT_EXEC would allow the
 * check at the exec itself; not used yet. */
static pid_t tgid_of(pid_t tid)
{
	char path[64], line[128];
	pid_t tgid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	fclose(f);
	return tgid;
}

/* Records a checked exec, to be verified by jh_fs_exec_verify(): the file the
 * view resolved to (and, for a "#!" script, its interpreter as the host names
 * it), and the executable the process runs now. */
static void note_exec(struct jh_call *c, int di, int pi, const struct stat *st)
{
	struct pending_exec *e;
	char path[64], line[256];
	struct stat old, interp;
	pid_t tgid = tgid_of(c->sc->tid);
	int fd;

	if (!cur_fs || tgid <= 0)
		return;
	for (size_t i = 0; i < cur_fs->nexecs; i++)
		if (cur_fs->execs[i].tgid == tgid)
			cur_fs->execs[i] = cur_fs->execs[--cur_fs->nexecs];
	if (cur_fs->nexecs == JH_ARRAY_SIZE(cur_fs->execs))
		cur_fs->nexecs--; /* forget the oldest-placed one rather than fail */
	e = &cur_fs->execs[cur_fs->nexecs];
	*e = (struct pending_exec){.tgid = tgid, .dev = {st->st_dev, st->st_dev},
				   .ino = {st->st_ino, st->st_ino}};
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)c->sc->tid);
	if (stat(path, &old) == 0) {
		e->old_dev = old.st_dev;
		e->old_ino = old.st_ino;
	}
	/* A script runs its interpreter: that is what /proc/<pid>/exe will name.
	 * Read its first line through the task's own view of the name. */
	if (c->strs[pi][0] == '/')
		fd = task_open_abs(c, c->strs[pi], O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	else {
		_cleanup_close_ int dfd = task_dirfd(c, di < 0 ? AT_FDCWD : (int)c->sc->args[di]);
		fd = dfd < 0 ? -1 : openat(dfd, c->strs[pi], O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	}
	if (fd >= 0) {
		ssize_t n = read(fd, line, sizeof(line) - 1);
		close(fd);
		if (n > 2 && line[0] == '#' && line[1] == '!') {
			char *p = line + 2, *end;
			line[n] = '\0';
			while (*p == ' ' || *p == '\t')
				p++;
			end = p + strcspn(p, " \t\n");
			*end = '\0';
			if (*p == '/') {
				_cleanup_close_ int ifd = task_open_abs(c, p, O_PATH | O_CLOEXEC);
				if (ifd >= 0 && fstat(ifd, &interp) == 0) {
					e->dev[1] = interp.st_dev;
					e->ino[1] = interp.st_ino;
				}
			}
		}
	}
	cur_fs->nexecs++;
}

bool jh_fs_exec_verify(pid_t tid, char *why, size_t len)
{
	char path[64];
	struct stat st;

	if (!cur_fs || cur_fs->nexecs == 0)
		return true;
	for (size_t i = 0; i < cur_fs->nexecs; i++) {
		struct pending_exec *e = &cur_fs->execs[i];

		if (e->tgid != tid)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/exe", (int)tid);
		if (stat(path, &st) < 0)
			return true; /* gone */
		if ((st.st_dev == e->dev[0] && st.st_ino == e->ino[0]) ||
		    (st.st_dev == e->dev[1] && st.st_ino == e->ino[1])) {
			cur_fs->execs[i] = cur_fs->execs[--cur_fs->nexecs];
			return true; /* the new image is the one checked */
		}
		if (st.st_dev == e->old_dev && st.st_ino == e->old_ino) {
			/* not exec'd (yet, or it failed): stop watching after a while */
			if (++e->calls > 256)
				cur_fs->execs[i] = cur_fs->execs[--cur_fs->nexecs];
			return true;
		}
		snprintf(why, len, "exec: the running executable (dev %llu, ino %llu) is not the "
				   "one checked (ino %llu): the path was swapped after the check",
			 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
			 (unsigned long long)e->ino[0]);
		cur_fs->execs[i] = cur_fs->execs[--cur_fs->nexecs];
		return false;
	}
	return true;
}

static void handle_exec_common(struct jh_call *c, int di, int pi, int flags)
{
	struct stat st;
	int r;

	if (di >= 0 && (flags & AT_EMPTY_PATH) && c->sc->args[pi]) {
		char tmp;
		/* fexecve: the fd is the task's own, but the path still has to be "". */
		r = c->ops->read(c->p, c->sc, &tmp, c->sc->args[pi], 1);
		if (r == 0 && tmp == '\0') {
			jh_call_continue(c, "exec of an fd the task holds");
			return;
		}
	}
	r = check_host_identity(c, di, pi, false, &st);
	if (r < 0) {
		answer(c, r);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		answer(c, -EACCES);
		return;
	}
	note_exec(c, di, pi, &st);
	jh_call_continue(c, "checked in the view; verified at the new image's first call");
}

static void handle_execve(struct jh_call *c)
{
	handle_exec_common(c, -1, 0, 0);
}

static void handle_execveat(struct jh_call *c)
{
	handle_exec_common(c, 0, 1, (int)c->sc->args[4]);
}

/* chdir cannot be performed for the task either; a cwd outside the view is
 * harmless (relative paths are mapped by identity and miss). */
static void handle_chdir(struct jh_call *c)
{
	struct stat st;
	int r = check_host_identity(c, -1, 0, true, &st);

	if (r < 0) {
		answer(c, r);
		return;
	}
	jh_call_continue(c, "checked in the view");
}

static void handle_fchdir(struct jh_call *c)
{
	/* Every fd the task holds came through the sentry or was inherited. */
	jh_call_continue(c, NULL);
}

/* ================= inotify ================= */

static void handle_inotify_add_watch(struct jh_call *c)
{
	char path[PATH_MAX], p[64];
	uint32_t mask = (uint32_t)c->sc->args[2];
	_cleanup_close_ int fd = -1, pidfd = -1, ifd = -1;
	bool skel;
	int entry, r;

	r = get_path(c, -1, 1, false, NULL, path);
	if (r < 0) {
		answer(c, r);
		return;
	}
	fd = resolve(c, path, !(mask & IN_DONT_FOLLOW), &entry, &skel);
	if (fd < 0) {
		answer(c, fd);
		return;
	}
	pidfd = (int)syscall(SYS_pidfd_open, c->sc->tid, 0);
	if (pidfd >= 0)
		ifd = (int)syscall(SYS_pidfd_getfd, pidfd, (int)c->sc->args[0], 0);
	if (ifd < 0) {
		answer(c, -EBADF);
		return;
	}
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	r = inotify_add_watch(ifd, p, mask & ~IN_DONT_FOLLOW);
	answer(c, r < 0 ? jh_negerrno() : r);
}

const struct jh_handler_entry jh_fs_handlers[] = {
	{"open", handle_open},
	{"creat", handle_creat},
	{"openat", handle_openat},
	{"openat2", handle_openat2},
	{"stat", handle_stat},
	{"lstat", handle_lstat},
	{"newfstatat", handle_newfstatat},
	{"statx", handle_statx},
	{"statfs", handle_statfs},
	{"access", handle_access},
	{"faccessat", handle_faccessat},
	{"faccessat2", handle_faccessat2},
	{"readlink", handle_readlink},
	{"readlinkat", handle_readlinkat},
	{"mkdir", handle_mkdir},
	{"mkdirat", handle_mkdirat},
	{"mknod", handle_mknod},
	{"mknodat", handle_mknodat},
	{"unlink", handle_unlink},
	{"unlinkat", handle_unlinkat},
	{"rmdir", handle_rmdir},
	{"rename", handle_rename},
	{"renameat", handle_renameat},
	{"renameat2", handle_renameat2},
	{"link", handle_link},
	{"linkat", handle_linkat},
	{"symlink", handle_symlink},
	{"symlinkat", handle_symlinkat},
	{"chmod", handle_chmod},
	{"fchmodat", handle_fchmodat},
	{"fchmodat2", handle_fchmodat2},
	{"chown", handle_chown},
	{"lchown", handle_lchown},
	{"fchownat", handle_fchownat},
	{"truncate", handle_truncate},
	{"utime", handle_utime},
	{"utimes", handle_utimes},
	{"futimesat", handle_futimesat},
	{"utimensat", handle_utimensat},
	{"getxattr", handle_getxattr},
	{"lgetxattr", handle_lgetxattr},
	{"listxattr", handle_listxattr},
	{"llistxattr", handle_llistxattr},
	{"setxattr", handle_setxattr},
	{"lsetxattr", handle_lsetxattr},
	{"removexattr", handle_removexattr},
	{"lremovexattr", handle_lremovexattr},
	{"execve", handle_execve},
	{"execveat", handle_execveat},
	{"chdir", handle_chdir},
	{"fchdir", handle_fchdir},
	{"inotify_add_watch", handle_inotify_add_watch},
	{NULL, NULL},
};
