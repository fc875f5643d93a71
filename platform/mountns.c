/* The mount-namespace builder (see mountns.h), run by the first task between
 * fork and filter. Everything here is async-signal-safe: the supervisor may
 * have threads whose locks a forked child must not touch, so paths are joined
 * in stack buffers and nothing is allocated.
 *
 * The tree is built under `stage` (an empty host directory, so no bind
 * source is shadowed by the tmpfs mounted on it), entry by entry in path
 * order, each bind restricted right after it is made (recursively, so the
 * host's submounts carried by MS_REC are restricted too; nested entries made
 * later get their own flags). Binds are recursive because inside a user
 * namespace a non-recursive bind of a directory with locked submounts is
 * refused (EINVAL). Mount points are created only on the tmpfs root or in a
 * read-write entry (the private /tmp): never in a read-only host directory. */
#include "platform/mountns.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/macro.h"
#include "platform/layers.h"

/* Names on the tmpfs root of the empty objects that mask hidden entries
 * beneath binds; removed before the root is made read-only. */
#define MASK_DIR "/.jh-mask-dir"
#define MASK_FILE "/.jh-mask-file"

static int join(char *out, size_t cap, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la + lb + 1 > cap)
		return -ENAMETOOLONG;
	memcpy(out, a, la);
	memcpy(out + la, b, lb + 1);
	return 0;
}

/* The entry whose path is the longest proper prefix of entry i's, or -1 (the
 * tmpfs root). */
static int parent_of(const struct jh_mountns_plan *p, size_t i)
{
	const char *path = p->v[i].path;
	size_t len = strlen(path), best_len = 0;
	int best = -1;

	for (size_t j = 0; j < p->n; j++) {
		size_t l = strlen(p->v[j].path);

		if (j == i || l <= 1 || l >= len || l <= best_len)
			continue;
		if (strncmp(path, p->v[j].path, l) == 0 && path[l] == '/') {
			best = (int)j;
			best_len = l;
		}
	}
	return best;
}

/* Whether mount points may be created beneath entry `parent`: on the tmpfs
 * root and its skeleton directories, and in read-write entries. A hidden
 * entry is not mounted, so what lies under it is on the tmpfs too. */
static bool may_create_under(const struct jh_mountns_plan *p, int parent)
{
	if (parent < 0)
		return true;
	switch (p->v[parent].kind) {
	case JH_MNTNS_RW:
	case JH_MNTNS_HIDE:
		return true;
	case JH_MNTNS_SKEL:
		return may_create_under(p, parent_of(p, (size_t)parent));
	default:
		return false;
	}
}

/* Creates the directories of `t` from byte `from` on (mkdir -p). */
static int mkdir_p(char *t, size_t from)
{
	size_t len = strlen(t);

	for (size_t i = from + 1; i <= len; i++) {
		if (t[i] != '/' && t[i] != '\0')
			continue;
		t[i] = '\0';
		int r = mkdir(t, 0755);
		int e = errno;
		t[i] = i == len ? '\0' : '/';
		if (r < 0 && e != EEXIST)
			return -e;
	}
	return 0;
}

/* Makes `t` a mount point for a directory (dir) or a file. An existing one
 * must be of that type and not a symlink (mount would follow it). */
static int mount_point(char *t, size_t from, bool dir, bool create)
{
	struct stat st;
	int fd;

	if (lstat(t, &st) == 0) {
		if (S_ISLNK(st.st_mode))
			return -ELOOP;
		if (dir != !!S_ISDIR(st.st_mode))
			return dir ? -ENOTDIR : -EISDIR;
		return 0;
	}
	if (errno != ENOENT)
		return jh_negerrno();
	if (!create)
		return -ENOENT;
	if (dir)
		return mkdir_p(t, from);
	{
		char *slash = strrchr(t, '/');
		int r;

		*slash = '\0';
		r = mkdir_p(t, from);
		*slash = '/';
		if (r < 0)
			return r;
	}
	fd = open(t, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0444);
	if (fd < 0)
		return jh_negerrno();
	close(fd);
	return 0;
}

/* Adds mount flags to the mount at `t` (and, recursive, those beneath it).
 * Only ever adds: flags a user namespace locked stay as they are. */
static int restrict_mount(const char *t, uint64_t attrs, bool recursive)
{
	struct mount_attr a = {.attr_set = attrs};
	unsigned long flags = MS_BIND | MS_REMOUNT;
	struct statvfs sv;

	if (syscall(SYS_mount_setattr, AT_FDCWD, t, recursive ? AT_RECURSIVE : 0, &a, sizeof(a)) ==
	    0)
		return 0;
	if (errno != ENOSYS)
		return jh_negerrno();
	/* Before Linux 5.12: the top mount only, keeping the flags it has. */
	if (statvfs(t, &sv) < 0)
		return jh_negerrno();
	if (attrs & MOUNT_ATTR_RDONLY)
		flags |= MS_RDONLY;
	if (attrs & MOUNT_ATTR_NOSUID)
		flags |= MS_NOSUID;
	if (attrs & MOUNT_ATTR_NODEV)
		flags |= MS_NODEV;
	if (attrs & MOUNT_ATTR_NOEXEC)
		flags |= MS_NOEXEC;
	flags |= (sv.f_flag & ST_RDONLY ? MS_RDONLY : 0) | (sv.f_flag & ST_NOSUID ? MS_NOSUID : 0) |
		 (sv.f_flag & ST_NODEV ? MS_NODEV : 0) | (sv.f_flag & ST_NOEXEC ? MS_NOEXEC : 0) |
		 (sv.f_flag & ST_NOATIME ? MS_NOATIME : 0) |
		 (sv.f_flag & ST_NODIRATIME ? MS_NODIRATIME : 0) |
		 (sv.f_flag & ST_RELATIME ? MS_RELATIME : 0);
	return mount(NULL, t, NULL, flags, NULL) < 0 ? jh_negerrno() : 0;
}

static int bind(const char *src, const char *t, bool dir, uint64_t attrs)
{
	if (mount(src, t, NULL, MS_BIND | (dir ? MS_REC : 0), NULL) < 0)
		return jh_negerrno();
	return restrict_mount(t, attrs, dir);
}

/* A symlink entry at its own host path: the same link on the tmpfs. */
static int copy_symlink(const char *host, const char *t)
{
	char target[PATH_MAX];
	ssize_t n = readlink(host, target, sizeof(target) - 1);

	if (n < 0)
		return jh_negerrno();
	target[n] = '\0';
	if (symlink(target, t) < 0 && errno != EEXIST)
		return jh_negerrno();
	return 0;
}

/* The host's /proc, read-only, rather than a procfs of our own: without a pid
 * namespace both show the same tasks, and the sentry resolves /proc names in
 * its own /proc, whose objects must be the ones the task's kernel reaches (a
 * second procfs instance has other device numbers). A fresh procfs only where
 * the bind is refused. With a pid namespace, its init mounts the namespace's
 * procfs over this one (platform/child.c; the kernel lets a user namespace
 * mount a procfs only where one is fully visible already, which this bind
 * is), and the sentry resolves /proc names in that one (jh_fs_set_pidns). */
static enum jh_mountns_proc mount_proc(const char *t)
{
	if (mount("/proc", t, NULL, MS_BIND | MS_REC, NULL) == 0) {
		if (restrict_mount(t, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
					      MOUNT_ATTR_NOEXEC,
				   true) == 0)
			return JH_MNTNS_PROC_BOUND;
		(void)umount2(t, MNT_DETACH);
	}
	/* In a user namespace procfs needs a pid namespace of our own. */
	if (mount("proc", t, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0)
		return JH_MNTNS_PROC_FRESH;
	return JH_MNTNS_PROC_NONE;
}

static int place(const struct jh_mountns_plan *p, size_t i, enum jh_mountns_proc *proc)
{
	const struct jh_mountns_entry *e = &p->v[i];
	size_t from = strlen(p->stage);
	int parent = parent_of(p, i);
	bool create = may_create_under(p, parent);
	bool identity = strcmp(e->path, e->host) == 0;
	char t[PATH_MAX], mask[PATH_MAX];
	struct stat st;
	int r;

	if (strcmp(e->path, "/") == 0)
		return 0;
	r = join(t, sizeof(t), p->stage, e->path);
	if (r < 0)
		return r;
	if (parent >= 0)
		from += strlen(p->v[parent].path);
	switch (e->kind) {
	case JH_MNTNS_SKEL:
		if (!create)
			return 0; /* a passage inside a bind: there already */
		return mount_point(t, from, true, true);
	case JH_MNTNS_PROC:
		r = mount_point(t, from, true, create);
		if (r < 0)
			return r;
		*proc = mount_proc(t);
		return 0;
	case JH_MNTNS_HIDE:
		/* Not mounted; beneath a bind, covered with an empty object. */
		if (create || lstat(t, &st) < 0 || S_ISLNK(st.st_mode))
			return 0;
		r = join(mask, sizeof(mask), p->stage, S_ISDIR(st.st_mode) ? MASK_DIR : MASK_FILE);
		if (r < 0)
			return r;
		if (mount(mask, t, NULL, MS_BIND, NULL) < 0)
			return jh_negerrno();
		return restrict_mount(t,
				      MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
					      MOUNT_ATTR_NOEXEC,
				      false);
	case JH_MNTNS_RO:
	case JH_MNTNS_RW:
	case JH_MNTNS_DEV:
		break;
	}
	/* The view says a missing host path does not exist: nothing to mount. */
	if ((identity ? lstat(e->host, &st) : stat(e->host, &st)) < 0)
		return 0;
	if (S_ISLNK(st.st_mode)) {
		char *slash = strrchr(t, '/');

		if (!create)
			return 0; /* the same link, inside the bind of its parent */
		*slash = '\0';
		r = mkdir_p(t, from);
		*slash = '/';
		if (r < 0)
			return r;
		return copy_symlink(e->host, t);
	}
	r = mount_point(t, from, S_ISDIR(st.st_mode), create);
	if (r < 0)
		return r;
	switch (e->kind) {
	case JH_MNTNS_RO:
		return bind(e->host, t, S_ISDIR(st.st_mode),
			    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	case JH_MNTNS_RW:
		return bind(e->host, t, S_ISDIR(st.st_mode), MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	default: /* JH_MNTNS_DEV */
		return bind(e->host, t, S_ISDIR(st.st_mode), MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
	}
}

int jh_mountns_enter(const struct jh_mountns_plan *plan, enum jh_mountns_proc *ret_proc)
{
	enum jh_mountns_proc proc = JH_MNTNS_PROC_NONE;
	char t[PATH_MAX];
	int fd, r;

	if (!plan || !plan->stage || plan->stage[0] != '/')
		return -EINVAL;
	if (unshare(CLONE_NEWNS) < 0)
		return jh_negerrno();
	/* Nothing done here may reach the host's namespace, nor the host's
	 * later mounts this one. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return jh_negerrno();
	if (mount("jhansi", plan->stage, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") < 0)
		return jh_negerrno();

	/* The masks for hidden entries beneath binds: an empty directory and an
	 * empty file nobody may open. */
	if ((r = join(t, sizeof(t), plan->stage, MASK_DIR)) < 0)
		return r;
	if (mkdir(t, 0) < 0)
		return jh_negerrno();
	if ((r = join(t, sizeof(t), plan->stage, MASK_FILE)) < 0)
		return r;
	fd = open(t, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return jh_negerrno();
	close(fd);

	for (size_t i = 0; i < plan->n; i++)
		if ((r = place(plan, i, &proc)) < 0)
			return r;

	/* The masks stay alive as long as they are mounted; their names go. */
	(void)join(t, sizeof(t), plan->stage, MASK_FILE);
	if (unlink(t) < 0)
		return jh_negerrno();
	(void)join(t, sizeof(t), plan->stage, MASK_DIR);
	if (rmdir(t) < 0)
		return jh_negerrno();
	r = restrict_mount(plan->stage, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
			   false);
	if (r < 0)
		return r;

	/* pivot_root(".", "."): the old root ends up on top of the new one, and
	 * is detached from it at once (no directory for it is needed). */
	if (chdir(plan->stage) < 0)
		return jh_negerrno();
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return jh_negerrno();
	if (umount2(".", MNT_DETACH) < 0)
		return jh_negerrno();
	if (chdir("/") < 0)
		return jh_negerrno();
	if (ret_proc)
		*ret_proc = proc;
	return 0;
}

bool jh_mountns_try(void)
{
	const char *target = access("/tmp", F_OK) == 0 ? "/tmp" : "/";

	return unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
	       mount("jhansi", target, "tmpfs", MS_NOSUID | MS_NODEV, "size=4k") == 0;
}

bool jh_mountns_probe(enum jh_mountns_proc *ret_proc)
{
	int fds[2], msg = 0;
	pid_t pid;
	int st;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return false;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return false;
	}
	if (pid == 0) {
		int m = 0;

		(void)jh_layers_enter(JH_LAYER_USERNS, NULL);
		if (jh_mountns_try()) {
			/* stacked on the host's /proc, in this throwaway namespace;
			 * the same order as mount_proc() */
			if (mount("/proc", "/proc", NULL, MS_BIND | MS_REC, NULL) == 0)
				m = JH_MNTNS_PROC_BOUND;
			else if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
				       NULL) == 0)
				m = JH_MNTNS_PROC_FRESH;
			else
				m = JH_MNTNS_PROC_NONE;
		}
		(void)!write(fds[1], &m, sizeof(m));
		_exit(0);
	}
	close(fds[1]);
	if (JH_RETRY_EINTR(read(fds[0], &msg, sizeof(msg))) != sizeof(msg))
		msg = 0;
	close(fds[0]);
	JH_RETRY_EINTR(waitpid(pid, &st, 0));
	if (msg && ret_proc)
		*ret_proc = (enum jh_mountns_proc)msg;
	return msg != 0;
}

const char *jh_mountns_proc_describe(enum jh_mountns_proc p)
{
	switch (p) {
	case JH_MNTNS_PROC_FRESH:
		return "a procfs of its own (the host's could not be bound)";
	case JH_MNTNS_PROC_BOUND:
		return "the host's, read-only (no pid namespace\n"
		       "                           yet: the same tasks; the sentry serves\n"
		       "                           only the sandbox's)";
	default:
		return "not mounted (the sentry serves /proc)";
	}
}
