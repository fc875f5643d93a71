/* Namespace and Landlock backstops (see layers.h). The child enters what the host allows
 * and reports the mask to the supervisor, which records it in the run's audit
 * record and lets --require turn a missing layer into an error. */
#include "platform/layers.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/openat2.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/landlock.h"
#include "base/macro.h"
#include "platform/child.h"
#include "platform/mountns.h"
#include "platform/netns.h"

static const struct {
	enum jh_layer layer;
	const char *name;
} names[] = {
	{JH_LAYER_USERNS, "userns"},
	{JH_LAYER_IPCNS, "ipcns"},
	{JH_LAYER_UTSNS, "utsns"},
	{JH_LAYER_CGROUPNS, "cgroupns"},
	{JH_LAYER_LANDLOCK_SCOPE, "landlock-scope"},
	{JH_LAYER_LANDLOCK_NET, "landlock-net"},
	{JH_LAYER_LANDLOCK_FS, "landlock-fs"},
	{JH_LAYER_MOUNTNS, "mountns"},
	{JH_LAYER_NETNS, "netns"},
	{JH_LAYER_PIDNS, "pidns"},
};

const char *jh_layer_name(enum jh_layer l)
{
	for (size_t i = 0; i < JH_ARRAY_SIZE(names); i++)
		if (names[i].layer == l)
			return names[i].name;
	return "?";
}

int jh_layers_parse(const char *list, unsigned *ret)
{
	unsigned mask = 0;
	const char *p = list;

	if (!list || !*list)
		return -EINVAL;
	for (;;) {
		const char *end = strchrnul(p, ',');
		size_t n = (size_t)(end - p);
		bool found = false;

		for (size_t i = 0; i < JH_ARRAY_SIZE(names); i++)
			if (strlen(names[i].name) == n && strncmp(p, names[i].name, n) == 0) {
				mask |= names[i].layer;
				found = true;
			}
		if (!found)
			return -EINVAL;
		if (!*end)
			break;
		p = end + 1;
	}
	*ret = mask;
	return 0;
}

void jh_layers_format(unsigned mask, char *buf, size_t len)
{
	size_t off = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < JH_ARRAY_SIZE(names); i++) {
		int n;
		if (!(mask & names[i].layer))
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? "," : "", names[i].name);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
}

/* Writes a short string to a /proc file; async-signal-safe. */
static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* Formats "<id> <id> 1\n" without stdio's locale machinery. */
static void id_map_line(char *buf, unsigned id)
{
	char digits[16];
	int n = 0;
	char *p = buf;

	do {
		digits[n++] = (char)('0' + id % 10);
		id /= 10;
	} while (id);
	for (int r = 0; r < 2; r++) {
		for (int i = n - 1; i >= 0; i--)
			*p++ = digits[i];
		*p++ = ' ';
	}
	*p++ = '1';
	*p++ = '\n';
	*p = '\0';
}

unsigned jh_layers_enter(unsigned want, const char *hostname)
{
	unsigned got = 0;

	if ((want & JH_LAYER_USERNS) && geteuid() != 0) {
		uid_t uid = geteuid();
		gid_t gid = getegid();
		char line[48];

		if (unshare(CLONE_NEWUSER) == 0) {
			id_map_line(line, uid);
			if (write_file("/proc/self/setgroups", "deny") == 0 &&
			    write_file("/proc/self/uid_map", line) == 0) {
				id_map_line(line, gid);
				if (write_file("/proc/self/gid_map", line) == 0)
					got |= JH_LAYER_USERNS;
			}
			if (!(got & JH_LAYER_USERNS))
				return got; /* a half-made user namespace: take nothing more */
		}
	}
	/* Without a user namespace only root may make the others. */
	if (!(got & JH_LAYER_USERNS) && geteuid() != 0)
		return got;
	if ((want & JH_LAYER_IPCNS) && unshare(CLONE_NEWIPC) == 0)
		got |= JH_LAYER_IPCNS;
	if ((want & JH_LAYER_UTSNS) && unshare(CLONE_NEWUTS) == 0) {
		got |= JH_LAYER_UTSNS;
		if (hostname)
			(void)!sethostname(hostname, strlen(hostname));
		(void)!setdomainname("(none)", 6);
	}
	if ((want & JH_LAYER_CGROUPNS) && unshare(CLONE_NEWCGROUP) == 0)
		got |= JH_LAYER_CGROUPNS;
	return got;
}

/* The filesystem layer (see struct jh_ll_fs_report). Bounds: the rules a
 * cut may add, and how deep it may go; beyond them nothing more is allowed. */
#define LL_MAX_RULES 8192
#define LL_MAX_DEPTH 32

struct fs_build {
	int rs;
	uint64_t handled;
	const struct jh_ll_path *p;
	size_t n;
	uint8_t *mark; /* per path: MARK_CUT, MARK_UNENFORCED (counted once each) */
	struct jh_ll_fs_report rep;
};
#define MARK_CUT 1u
#define MARK_UNENFORCED 2u

/* Whether `path` lies strictly beneath the directory `dir` (component-wise). */
static bool beneath(const char *path, const char *dir)
{
	size_t l = strlen(dir);

	if (l == 1)
		return path[0] == '/' && path[1] != '\0';
	return strncmp(path, dir, l) == 0 && path[l] == '/';
}

/* Whether entry `h` is a hole in entry `a`: beneath it, lacking a right it has. */
static bool is_hole(const struct fs_build *b, size_t a, size_t h)
{
	return h != a && beneath(b->p[h].host, b->p[a].host) &&
	       (b->p[a].access & ~b->p[h].access & b->handled) != 0;
}

/* Opens a host path of an entry, following symlinks (/bin -> usr/bin) but no
 * magic link: /dev/stdin -> /proc/self/fd/0 would name the supervisor's own
 * fd (the /proc entry covers the tasks' own). */
static int open_entry(const char *path, int flags)
{
	struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC),
			       .resolve = RESOLVE_NO_MAGICLINKS};
	long fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));

	if (fd < 0 && errno == ENOSYS) /* before Linux 5.6 */
		fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? jh_negerrno() : (int)fd;
}

/* Allows `access` beneath what `fd` (O_PATH) refers to: a directory gets
 * every right asked, a file only the file rights, a symlink nothing (the
 * kernel checks the object a walk ends at, never the link). */
static int allow_fd(struct fs_build *b, int fd, uint64_t access)
{
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0)
		return jh_negerrno();
	if (S_ISLNK(st.st_mode))
		return 0;
	if (!S_ISDIR(st.st_mode))
		access &= JH_LL_FS_FILE;
	access &= b->handled;
	if (!access)
		return 0;
	if (b->rep.rules >= LL_MAX_RULES)
		return -E2BIG;
	r = jh_landlock_allow_beneath(b->rs, fd, access);
	if (r == -EBADFD) { /* a pipe, socket or internal object: no path to rule */
		b->rep.skipped++;
		return 0;
	}
	if (r < 0)
		return r;
	b->rep.rules++;
	return 0;
}

/* Allows entry `a`'s rights on every child of the directory `dirfd` (host
 * path `path`) but its holes, descending into directories that lead to one.
 * The directory itself may be listed, as the entry allows: a listing right
 * reaches everything beneath, so the names (never the contents) inside a
 * hidden directory stay listable; the ptrace platform's checked listing of
 * the real directory shows the hidden names anyway. A directory on the way
 * that cannot be read gets nothing (deny side). */
static int cut(struct fs_build *b, size_t a, int dirfd, const char *path, unsigned depth)
{
	DIR *d;
	struct dirent *de;
	int r;

	if (depth > LL_MAX_DEPTH) {
		close(dirfd);
		return -ELOOP;
	}
	r = allow_fd(b, dirfd, b->p[a].access & JH_LL_FS_READ_DIR);
	if (r < 0) {
		close(dirfd);
		return r;
	}
	d = fdopendir(dirfd);
	if (!d) {
		r = jh_negerrno();
		close(dirfd);
		return r;
	}
	while (r >= 0 && (errno = 0, de = readdir(d))) {
		char child[PATH_MAX];
		bool exact = false, leads = false;
		int n;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		n = snprintf(child, sizeof(child), "%s/%s", strcmp(path, "/") ? path : "",
			     de->d_name);
		if (n < 0 || (size_t)n >= sizeof(child)) {
			b->rep.skipped++;
			continue;
		}
		for (size_t h = 0; h < b->n; h++) {
			if (!is_hole(b, a, h))
				continue;
			if (!strcmp(b->p[h].host, child)) {
				exact = true;
				b->mark[h] |= MARK_CUT;
			} else if (beneath(b->p[h].host, child))
				leads = true;
		}
		if (exact)
			continue;
		if (leads) {
			/* Only a real directory leads there: through a symlink the
			 * hole's name reaches something outside this entry. */
			int sub = openat(dirfd, de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				b->rep.skipped++;
				continue;
			}
			r = cut(b, a, sub, child, depth + 1);
			if (r == -EACCES || r == -ELOOP) {
				b->rep.skipped++;
				r = 0;
			}
			continue;
		}
		{
			_cleanup_close_ int fd =
				openat(dirfd, de->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) { /* gone meanwhile */
				b->rep.skipped++;
				continue;
			}
			r = allow_fd(b, fd, b->p[a].access);
		}
	}
	if (r >= 0 && errno)
		r = jh_negerrno();
	closedir(d);
	return r;
}

/* Adds the rules of entry `a`: one on its path, or, with holes beneath it,
 * one on each child around them (see struct jh_ll_fs_report). */
static int allow_entry(struct fs_build *b, size_t a)
{
	uint64_t creates = JH_LL_FS_MAKE_CHAR | JH_LL_FS_MAKE_DIR | JH_LL_FS_MAKE_REG |
			   JH_LL_FS_MAKE_SOCK | JH_LL_FS_MAKE_FIFO | JH_LL_FS_MAKE_BLOCK |
			   JH_LL_FS_MAKE_SYM;
	size_t holes = 0;
	int fd, r;

	if (!(b->p[a].access & b->handled))
		return 0;
	for (size_t h = 0; h < b->n; h++)
		holes += is_hole(b, a, h);
	if (holes && (b->p[a].access & b->handled & creates)) {
		for (size_t h = 0; h < b->n; h++)
			if (is_hole(b, a, h))
				b->mark[h] |= MARK_UNENFORCED;
		holes = 0;
	}
	if (!holes) {
		/* An entry may be a symlink to its directory (/bin -> usr/bin). */
		_cleanup_close_ int pfd = open_entry(b->p[a].host, O_PATH);
		if (pfd < 0) {
			b->rep.skipped++;
			return 0;
		}
		return allow_fd(b, pfd, b->p[a].access);
	}
	fd = open_entry(b->p[a].host, O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		b->rep.skipped++;
		return 0;
	}
	r = cut(b, a, fd, b->p[a].host, 0);
	if (r == -EACCES || r == -ELOOP) {
		b->rep.skipped++;
		r = 0;
	}
	return r;
}

int jh_landlock_ruleset(unsigned want, const struct jh_ll_path *fs, size_t n,
			unsigned *ret_layers, struct jh_ll_fs_report *report)
{
	int abi = jh_landlock_abi();
	uint64_t net = 0, scoped = 0;
	struct fs_build b = {.rs = -1, .p = fs, .n = n};
	unsigned got = 0;

	if ((want & JH_LAYER_LANDLOCK_NET) && abi >= 4) {
		/* handled, with no rule allowing any port: refused */
		net = JH_LL_NET_BIND_TCP | JH_LL_NET_CONNECT_TCP;
		got |= JH_LAYER_LANDLOCK_NET;
	}
	if ((want & JH_LAYER_LANDLOCK_SCOPE) && abi >= 6) {
		scoped = JH_LL_SCOPE_ABSTRACT_UNIX_SOCKET | JH_LL_SCOPE_SIGNAL;
		got |= JH_LAYER_LANDLOCK_SCOPE;
	}
	if ((want & JH_LAYER_LANDLOCK_FS) && abi >= 1) {
		b.handled = jh_landlock_fs_rights(abi);
		got |= JH_LAYER_LANDLOCK_FS;
	}
	if (!got)
		return -EOPNOTSUPP;
	b.mark = calloc(n + 1, 1);
	if (!b.mark)
		return -ENOMEM;
	b.rs = jh_landlock_create(b.handled, net, scoped);
	for (size_t i = 0; b.rs >= 0 && b.handled && i < n; i++) {
		int r = allow_entry(&b, i);
		if (r < 0) {
			close(b.rs);
			b.rs = r;
		}
	}
	for (size_t i = 0; i < n; i++) {
		b.rep.cut += !!(b.mark[i] & MARK_CUT);
		b.rep.unenforced += !!(b.mark[i] & MARK_UNENFORCED);
	}
	free(b.mark);
	if (b.rs < 0)
		return b.rs;
	*ret_layers = got;
	if (report)
		*report = b.rep;
	return b.rs;
}

unsigned jh_layers_probe(void)
{
	int fds[2];
	unsigned got = 0;
	pid_t pid;
	int st;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return 0;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return 0;
	}
	if (pid == 0) {
		unsigned m = jh_layers_enter(JH_LAYERS_NS_ALL, NULL);
		if (jh_mountns_try()) {
			m |= JH_LAYER_MOUNTNS;
			/* After the mount namespace, which the pid namespace's
			 * procfs needs (and before the network one, whose
			 * failure changes nothing here). */
			if (jh_pidns_try())
				m |= JH_LAYER_PIDNS;
		}
		if (jh_netns_enter() == 0)
			m |= JH_LAYER_NETNS;
		(void)!write(fds[1], &m, sizeof(m));
		_exit(0);
	}
	close(fds[1]);
	if (JH_RETRY_EINTR(read(fds[0], &got, sizeof(got))) != sizeof(got))
		got = 0;
	close(fds[0]);
	JH_RETRY_EINTR(waitpid(pid, &st, 0));
	if (jh_landlock_abi() >= 4)
		got |= JH_LAYER_LANDLOCK_NET;
	if (jh_landlock_abi() >= 6)
		got |= JH_LAYER_LANDLOCK_SCOPE;
	if (jh_landlock_abi() >= 1)
		got |= JH_LAYER_LANDLOCK_FS;
	return got;
}
