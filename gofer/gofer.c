/* The gofer process (server side) and the sentry's client of it.
 *
 * Server: started as a grandchild of jhansi-exec, it keeps only its socket and
 * stderr, opens the host object of every view entry with O_PATH and sends the
 * fds to the sentry, snapshots the workspace (for the change set and the
 * quota), confines itself (no_new_privs, not dumpable, Landlock, a seccomp
 * allowlist: file operations, its socket, memory — no network, exec, ptrace,
 * namespaces or mounts), then serves one
 * request at a time. Every request names a directory fd (received with the
 * request), the entry the sentry found it in, and a final name; the gofer
 * checks the entry is read-write and the directory lies beneath the entry's
 * root (by identity, walking ".."), then acts with O_NOFOLLOW semantics. It
 * opens with O_NONBLOCK|O_NOCTTY, so a FIFO, a tty or a lease never blocks it.
 * A malformed request gets an error reply; EOF on the socket ends it.
 *
 * Quota: usage is the workspace's allocated bytes (st_blocks), rescanned at
 * most every 200 ms when a request would add to it, plus the growth of the
 * files the sandbox holds open for writing: the gofer keeps an O_PATH fd of
 * every workspace file it opened for writing (O_PATH: no writer reference, so
 * no ETXTBSY for the sandbox and no held-open FIFO) and fstats them every
 * TICK_MS while any is held. Past the quota, creating, opening for writing,
 * growing by truncate, mkdir, symlink and link fail with EDQUOT; and the
 * gofer tells the supervisor (a pipe set up before confinement,
 * jh_gofer_set_quota_notify()), which lowers every task's RLIMIT_FSIZE to 0:
 * writes through fds already open then fail with EFBIG in the kernel, each
 * one, without anything already written being touched. When deletions or
 * truncations bring usage below the quota, it says so and the limits come
 * back. Why here and not in the supervisor's walk: only the gofer knows which
 * open files are workspace files (the supervisor would have to readlink every
 * fd of every task every period); here a tick is one fstat per held file.
 * The overshoot is what the tasks write between two ticks plus the
 * supervisor's reaction (README: measured). */
#include "gofer/gofer.h"
#include "gofer/vfs.h"
#include "gofer/workspace-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <poll.h>
#include <seccomp.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <grp.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "base/landlock.h"
#include "base/log.h"
#include "base/macro.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

#define MAX_ROOT_FDS 250
#define CALL_TIMEOUT_MS 30000
/* --disk-quota: files held for their growth (the oldest is let go past
 * this: its later growth is seen at the next rescan, which letting go
 * schedules); the period of their fstats (stretched so that a tick costs
 * at most a quarter of it); rescans of the whole workspace at most this
 * often, or ten times their cost. */
#define MAX_TRACKED 1024
#define TICK_MS 10
#define TICK_SHARE 4
#define RESCAN_NS 200000000ull

/* --- fd passing --- */

static int send_frame(int sock, const void *buf, size_t len, const int *fds, size_t nfds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * MAX_ROOT_FDS)];
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (nfds > MAX_ROOT_FDS)
		return -EINVAL;
	if (nfds) {
		struct cmsghdr *cm;
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	n = JH_RETRY_EINTR(sendmsg(sock, &mh, MSG_NOSIGNAL));
	if (n < 0)
		return jh_negerrno();
	return (size_t)n == len ? 0 : -EIO;
}

/* Receives one frame; fds beyond `maxfds` (or any when maxfds is 0) are closed.
 * Returns the frame length, 0 on EOF. */
static ssize_t recv_frame(int sock, void *buf, size_t cap, int *fds, size_t maxfds, size_t *ret_nfds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * MAX_ROOT_FDS)];
	struct iovec iov = {.iov_base = buf, .iov_len = cap};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf)};
	ssize_t n = JH_RETRY_EINTR(recvmsg(sock, &mh, MSG_CMSG_CLOEXEC));
	size_t got = 0;

	if (n < 0)
		return jh_negerrno();
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int *in = (int *)CMSG_DATA(cm);
		for (size_t i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, in + i, sizeof(int));
			if (got < maxfds)
				fds[got++] = fd;
			else
				close(fd);
		}
	}
	if (ret_nfds)
		*ret_nfds = got;
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		for (size_t i = 0; i < got; i++)
			close(fds[i]);
		if (ret_nfds)
			*ret_nfds = 0;
		return -EMSGSIZE;
	}
	return n;
}

/* ================= server ================= */

/* A workspace file the sandbox opened for writing. */
struct tracked {
	int fd; /* O_PATH */
	dev_t dev;
	ino_t ino;
	blkcnt_t base; /* st_blocks at the last rescan, or when it was opened */
};

struct server {
	const struct jh_gofer_config *cfg;
	int sock;
	int *fds;
	int wsfd;
	int ws_entry; /* the view entry whose root is the workspace, -1 */
	struct jh_snap before;
	uint64_t usage; /* at the last rescan */
	uint64_t last_scan_ns, scan_cost_ns, next_tick_ns;
	/* --disk-quota's view of writes through open fds */
	int notify; /* to the supervisor, -1 */
	struct tracked tr[MAX_TRACKED];
	size_t ntr;
	bool full, told; /* told: the supervisor heard of the current state */
	bool stale;      /* rescan at the next tick: space may have been freed, or a
			  * file was let go */
	uint8_t frame[JH_GOFER_MAX_FRAME];
	uint8_t out[JH_GOFER_MAX_FRAME];
	struct jh_gofer_req req;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int quota_notify_fd = -1;

void jh_gofer_set_quota_notify(int fd)
{
	quota_notify_fd = fd;
}

static void untrack(struct server *sv, size_t i)
{
	close(sv->tr[i].fd);
	sv->tr[i] = sv->tr[--sv->ntr];
}

/* Growth of the held files since their base, in bytes (negative after
 * truncations). A file whose last link is gone is let go: the scan will not
 * count it any more (its space is the sandbox's until it closes it: see the
 * README), and our O_PATH fd must not keep that space allocated. */
static int64_t tracked_growth(struct server *sv)
{
	int64_t sum = 0;

	for (size_t i = 0; i < sv->ntr;) {
		struct stat st;

		if (fstat(sv->tr[i].fd, &st) < 0 || st.st_nlink == 0) {
			untrack(sv, i);
			sv->stale = true;
			continue;
		}
		sum += ((int64_t)st.st_blocks - (int64_t)sv->tr[i].base) * 512;
		i++;
	}
	return sum;
}

static void rescan(struct server *sv)
{
	struct jh_snap s;
	uint64_t t0 = now_ns();

	if (jh_snap_take(sv->wsfd, &s) == 0) {
		sv->usage = s.usage;
		jh_snap_free(&s);
	}
	/* what the scan saw is the held files' new base */
	for (size_t i = 0; i < sv->ntr;) {
		struct stat st;

		if (fstat(sv->tr[i].fd, &st) < 0 || st.st_nlink == 0) {
			untrack(sv, i);
			continue;
		}
		sv->tr[i].base = st.st_blocks;
		i++;
	}
	sv->last_scan_ns = now_ns();
	sv->scan_cost_ns = sv->last_scan_ns - t0;
	sv->stale = false;
}

/* Recomputes usage (scan + growth), and tells the supervisor when the
 * workspace became full or stopped being full. */
static void quota_update(struct server *sv)
{
	int64_t est = (int64_t)sv->usage + tracked_growth(sv);
	bool full = est >= 0 && (uint64_t)est >= sv->cfg->quota_bytes;

	if (full != sv->full)
		sv->told = false;
	sv->full = full;
	if (!sv->told && sv->notify >= 0) {
		uint64_t word = (uint64_t)JH_MAX(est, 0) & ~JH_GOFER_QUOTA_FULL;

		if (full)
			word |= JH_GOFER_QUOTA_FULL;
		/* a level, not an event: if the pipe is full, the next change says it */
		sv->told = JH_RETRY_EINTR(write(sv->notify, &word, sizeof(word))) ==
			   (ssize_t)sizeof(word);
		if (!sv->told && errno == EPIPE)
			jh_closep(&sv->notify);
	}
}

static bool quota_on(const struct server *sv)
{
	return sv->cfg->quota_bytes && sv->wsfd >= 0;
}

static bool over_quota(struct server *sv)
{
	if (!quota_on(sv))
		return false;
	if (now_ns() - sv->last_scan_ns > RESCAN_NS)
		rescan(sv);
	quota_update(sv);
	return sv->full;
}

/* Holds `fd`, just opened for writing, for its growth. */
static void track(struct server *sv, int fd, const struct stat *st)
{
	char p[64];
	int h;

	for (size_t i = 0; i < sv->ntr; i++)
		if (sv->tr[i].dev == st->st_dev && sv->tr[i].ino == st->st_ino)
			return; /* held already: its growth must count once */
	/* an O_PATH fd of the same file: reopened through procfs (the file,
	 * not a name that may have changed since) */
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	h = open(p, O_PATH | O_CLOEXEC);
	if (h < 0)
		return; /* its growth shows at the next rescan */
	if (sv->ntr == MAX_TRACKED) {
		untrack(sv, 0); /* not the newest; growth since the scan: a rescan */
		sv->stale = true;
	}
	sv->tr[sv->ntr++] = (struct tracked){.fd = h, .dev = st->st_dev, .ino = st->st_ino,
					      .base = st->st_blocks};
}

/* The timer: every TICK_MS while files are held or a rescan is due. */
static int tick_timeout(const struct server *sv)
{
	uint64_t now = now_ns();

	if (!quota_on(sv) || (!sv->ntr && !sv->stale && sv->told))
		return -1;
	return sv->next_tick_ns > now ? (int)((sv->next_tick_ns - now) / 1000000 + 1) : 0;
}

static void tick(struct server *sv)
{
	uint64_t t0 = now_ns();

	if (sv->stale && t0 - sv->last_scan_ns > JH_MAX(RESCAN_NS, 10 * sv->scan_cost_ns))
		rescan(sv);
	quota_update(sv);
	sv->next_tick_ns = now_ns() + JH_MAX(TICK_MS * 1000000ull,
					     (now_ns() - t0) * TICK_SHARE);
}

/* Is `dir` the root of read-write entry `entry` or beneath it? */
static int check_beneath(struct server *sv, int dir, int entry)
{
	const struct jh_view *v = sv->cfg->view;
	struct stat root, st;
	int cur, r = -EXDEV;

	if (entry < 0 || (size_t)entry >= v->n || sv->fds[entry] < 0)
		return -EXDEV;
	if (v->m[entry].kind != JH_MOUNT_RW)
		return -EROFS;
	if (dir < 0 || fstat(sv->fds[entry], &root) < 0)
		return -EBADF;
	cur = fcntl(dir, F_DUPFD_CLOEXEC, 3);
	if (cur < 0)
		return -EBADF;
	for (int depth = 0; depth < 4096; depth++) {
		struct stat up;
		int p;

		if (fstat(cur, &st) < 0 || !S_ISDIR(st.st_mode)) {
			r = -ENOTDIR;
			break;
		}
		if (st.st_dev == root.st_dev && st.st_ino == root.st_ino) {
			r = 0;
			break;
		}
		p = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (p < 0 || fstat(p, &up) < 0) {
			if (p >= 0)
				close(p);
			break;
		}
		close(cur);
		cur = p;
		if (up.st_dev == st.st_dev && up.st_ino == st.st_ino)
			break; /* the host's root: not beneath */
	}
	close(cur);
	return r;
}

static bool name_ok(const char *n)
{
	return n[0] && !strchr(n, '/') && strcmp(n, ".") != 0 && strcmp(n, "..") != 0;
}

/* Opens the final object without following it; refuses a symlink when the
 * caller resolved a follow (it was swapped in after the sentry's walk). */
static int open_final(int dir, const char *name, bool nofollow, struct stat *st)
{
	int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return jh_negerrno();
	if (fstat(fd, st) < 0) {
		close(fd);
		return jh_negerrno();
	}
	if (S_ISLNK(st->st_mode) && !nofollow) {
		close(fd);
		return -ELOOP;
	}
	return fd;
}

#define OPEN_ALLOWED                                                                               \
	(O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND | O_NONBLOCK | O_DIRECTORY |            \
	 O_NOFOLLOW | O_SYNC | O_DSYNC | O_NOATIME | O_LARGEFILE | O_CLOEXEC)

static int64_t serve(struct server *sv, const struct jh_gofer_req *q, int d1, int d2, int *ret_fd)
{
	bool nofollow = q->c != 0;
	struct stat st;
	int r, fd;

	if (q->op == JH_GOFER_FINISH)
		return -EINVAL; /* handled by the loop */
	r = check_beneath(sv, d1, q->entry);
	if (r < 0)
		return r;
	/* "." names the directory itself, for the calls that change an existing
	 * object: a directory named "dir/." or an entry's own root (tar restores
	 * the mode and times of "./"). */
	if (!name_ok(q->name) &&
	    !(strcmp(q->name, ".") == 0 &&
	      (q->op == JH_GOFER_CHMOD || q->op == JH_GOFER_CHOWN || q->op == JH_GOFER_UTIMENS ||
	       q->op == JH_GOFER_SETXATTR || q->op == JH_GOFER_REMOVEXATTR)))
		return -EINVAL;

	switch (q->op) {
	case JH_GOFER_OPEN: {
		int flags = (int)q->a;
		if (flags & ~OPEN_ALLOWED)
			return -EINVAL;
		if (((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC))) &&
		    over_quota(sv))
			return -EDQUOT;
		fd = openat(d1, q->name, flags | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC,
			    (mode_t)(q->b & 0777));
		if (fd < 0)
			return jh_negerrno();
		if (fstat(fd, &st) < 0 ||
		    !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISFIFO(st.st_mode))) {
			close(fd);
			return -ENXIO;
		}
		if (!(flags & O_NONBLOCK))
			(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		if (quota_on(sv) && q->entry == sv->ws_entry && S_ISREG(st.st_mode) &&
		    (flags & O_ACCMODE) != O_RDONLY)
			track(sv, fd, &st);
		*ret_fd = fd;
		return 0;
	}
	case JH_GOFER_MKDIR:
		if (over_quota(sv))
			return -EDQUOT;
		return mkdirat(d1, q->name, (mode_t)(q->a & 01777)) < 0 ? jh_negerrno() : 0;
	case JH_GOFER_MKNOD: {
		mode_t type = (mode_t)q->a & S_IFMT;
		if (type != 0 && type != S_IFREG && type != S_IFIFO)
			return -EPERM;
		if (over_quota(sv))
			return -EDQUOT;
		return mknodat(d1, q->name, (type ? type : S_IFREG) | ((mode_t)q->a & 0777), 0) < 0
			       ? jh_negerrno()
			       : 0;
	}
	case JH_GOFER_UNLINK:
		sv->stale |= sv->full; /* space freed: the limits may come back */
		return unlinkat(d1, q->name, q->a & AT_REMOVEDIR) < 0 ? jh_negerrno() : 0;
	case JH_GOFER_RENAME:
	case JH_GOFER_LINK:
		if (q->entry2 != q->entry)
			return -EXDEV;
		r = check_beneath(sv, d2, q->entry2);
		if (r < 0)
			return r;
		if (!name_ok(q->name2))
			return -EINVAL;
		if (q->op == JH_GOFER_LINK) {
			if (over_quota(sv))
				return -EDQUOT;
			return linkat(d1, q->name, d2, q->name2, 0) < 0 ? jh_negerrno() : 0;
		}
		if (q->a & ~(int64_t)(RENAME_NOREPLACE | RENAME_EXCHANGE))
			return -EINVAL;
		sv->stale |= sv->full; /* a file renamed over is freed */
		return renameat2(d1, q->name, d2, q->name2, (unsigned)q->a) < 0 ? jh_negerrno() : 0;
	case JH_GOFER_SYMLINK: {
		char target[PATH_MAX];
		if (q->bloblen == 0 || q->bloblen >= sizeof(target) ||
		    memchr(q->blob, '\0', q->bloblen))
			return q->bloblen == 0 ? -ENOENT : -ENAMETOOLONG;
		memcpy(target, q->blob, q->bloblen);
		target[q->bloblen] = '\0';
		if (over_quota(sv))
			return -EDQUOT;
		return symlinkat(target, d1, q->name) < 0 ? jh_negerrno() : 0;
	}
	case JH_GOFER_CHMOD: {
		_cleanup_close_ int f = open_final(d1, q->name, false, &st);
		/* No setuid/setgid bits in a workspace that host tools read later. */
		mode_t mode = (mode_t)q->a & 01777;
		if (f < 0)
			return f;
		if (syscall(SYS_fchmodat2, f, "", mode, AT_EMPTY_PATH) == 0)
			return 0;
		if (errno != ENOSYS && errno != EINVAL)
			return jh_negerrno();
		{
			char p[64];
			snprintf(p, sizeof(p), "/proc/self/fd/%d", f);
			return chmod(p, mode) < 0 ? jh_negerrno() : 0;
		}
	}
	case JH_GOFER_CHOWN: {
		_cleanup_close_ int f = open_final(d1, q->name, nofollow, &st);
		if (f < 0)
			return f;
		return fchownat(f, "", (uid_t)q->a, (gid_t)q->b, AT_EMPTY_PATH) < 0 ? jh_negerrno()
										   : 0;
	}
	case JH_GOFER_TRUNCATE: {
		_cleanup_close_ int f = openat(d1, q->name,
					       O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (f < 0)
			return jh_negerrno();
		if (fstat(f, &st) < 0)
			return jh_negerrno();
		if (!S_ISREG(st.st_mode))
			return -EINVAL;
		if (q->a > st.st_size && over_quota(sv))
			return -EDQUOT;
		sv->stale |= sv->full;
		return ftruncate(f, q->a) < 0 ? jh_negerrno() : 0;
	}
	case JH_GOFER_UTIMENS: {
		_cleanup_close_ int f = open_final(d1, q->name, nofollow, &st);
		struct timespec ts[2];
		if (f < 0)
			return f;
		if (q->bloblen && q->bloblen != sizeof(ts))
			return -EINVAL;
		if (q->bloblen)
			memcpy(ts, q->blob, sizeof(ts));
		return utimensat(f, "", q->bloblen ? ts : NULL, AT_EMPTY_PATH) < 0 ? jh_negerrno()
										 : 0;
	}
	case JH_GOFER_SETXATTR:
	case JH_GOFER_REMOVEXATTR: {
		_cleanup_close_ int f = open_final(d1, q->name, nofollow, &st);
		char p[64];
		/* Only user.*: trusted.* and security.* would be read by host tools. */
		if (f < 0)
			return f;
		if (strncmp(q->name2, "user.", 5) != 0 || S_ISLNK(st.st_mode))
			return -EPERM;
		snprintf(p, sizeof(p), "/proc/self/fd/%d", f);
		if (q->op == JH_GOFER_REMOVEXATTR)
			return removexattr(p, q->name2) < 0 ? jh_negerrno() : 0;
		if (over_quota(sv))
			return -EDQUOT;
		return setxattr(p, q->name2, q->blob, q->bloblen, (int)q->a) < 0 ? jh_negerrno() : 0;
	}
	default:
		return -EOPNOTSUPP;
	}
}

static void reply(struct server *sv, int64_t v, int fd, const void *blob, size_t bloblen)
{
	int n = jh_gofer_rep_encode(v < 0 ? (int32_t)-v : 0, v < 0 ? -1 : v, blob, bloblen, sv->out,
				    sizeof(sv->out));

	if (n < 0)
		n = jh_gofer_rep_encode(EIO, -1, NULL, 0, sv->out, sizeof(sv->out));
	if (send_frame(sv->sock, sv->out, (size_t)n, &fd, fd >= 0 ? 1 : 0) < 0)
		_exit(0); /* the sentry is gone */
}

static void finish(struct server *sv)
{
	struct jh_snap after = {0};
	struct jh_changes ch = {0};

	if (sv->wsfd >= 0 && jh_snap_take(sv->wsfd, &after) == 0)
		(void)jh_snap_diff(sv->wsfd, &sv->before, &after, &ch);
	for (size_t i = 0; i < ch.n; i++) {
		char blob[64 + PATH_MAX];
		size_t pl = strlen(ch.v[i].path);
		memset(blob, '0', 64);
		memcpy(blob, ch.v[i].sha256_hex, strlen(ch.v[i].sha256_hex));
		memcpy(blob + 64, ch.v[i].path, pl);
		reply(sv, ch.v[i].op, -1, blob, 64 + pl);
	}
	reply(sv, -ENODATA, -1, NULL, 0); /* end of the change set */
	jh_changes_free(&ch);
	jh_snap_free(&after);
}

/* Landlock, where the kernel has it: the gofer may change things beneath the
 * view's read-write entries only, read beneath the others, reach no TCP port,
 * and signal or reach no process outside its domain. A second, kernel-kept
 * copy of the rules it already applies (it checks an entry is read-write
 * before every change). Best effort: a kernel without Landlock keeps the
 * seccomp filter and those checks. */
static void confine_landlock(const struct jh_gofer_config *cfg, const int *fds)
{
	int abi = jh_landlock_abi();
	uint64_t fs = jh_landlock_fs_rights(abi);
	int rs;

	if (abi < 1)
		return;
	rs = jh_landlock_create(fs, abi >= 4 ? JH_LL_NET_BIND_TCP | JH_LL_NET_CONNECT_TCP : 0,
				abi >= 6 ? JH_LL_SCOPE_ABSTRACT_UNIX_SOCKET | JH_LL_SCOPE_SIGNAL : 0);
	if (rs < 0) {
		jh_warn("gofer: creating its Landlock ruleset failed: %s", strerror(-rs));
		return;
	}
	for (size_t i = 0; i < cfg->view->n; i++) {
		enum jh_mount_kind k = cfg->view->m[i].kind;
		struct stat st;
		uint64_t rights;

		if (fds[i] < 0 || k == JH_MOUNT_HIDE || fstat(fds[i], &st) < 0)
			continue;
		rights = k == JH_MOUNT_RW ? fs : JH_LL_FS_READ;
		if (!S_ISDIR(st.st_mode)) /* a file entry: only file rights apply */
			rights &= JH_LL_FS_EXECUTE | JH_LL_FS_READ_FILE | JH_LL_FS_WRITE_FILE |
				  JH_LL_FS_TRUNCATE;
		(void)jh_landlock_allow_beneath(rs, fds[i], rights);
	}
	if (jh_landlock_enforce(rs) < 0)
		jh_warn("gofer: enforcing its Landlock ruleset failed");
	close(rs);
}

/* The gofer's own seccomp filter: an allowlist of what serving the protocol
 * takes — file operations relative to held directory fds (and through
 * /proc/self/fd for the ones that have no *at form), its socket, memory,
 * signals, time, exit. Everything else fails with EPERM: no new processes or
 * programs, no network, no mounts, no ptrace, no signals to others. */
static void confine(void)
{
	static const char *const allow[] = {
		/* files, on held fds */
		"openat", "openat2", "open", "close", "close_range", "read", "pread64", "readv",
		"write", "pwrite64", "writev", "lseek", "fstat", "newfstatat", "stat", "lstat",
		"statx", "statfs", "fstatfs", "getdents64", "fcntl", "dup", "dup3", "mkdirat",
		"mknodat", "unlinkat", "renameat2", "renameat", "linkat", "symlinkat", "readlinkat",
		"readlink", "fchmod", "fchmodat", "fchmodat2", "chmod", "fchown", "fchownat",
		"lchown", "ftruncate", "truncate", "fallocate", "utimensat", "faccessat",
		"faccessat2", "access", "setxattr", "lsetxattr", "fsetxattr", "getxattr",
		"lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr", "removexattr",
		"lremovexattr", "fremovexattr", "fsync", "fdatasync", "umask", "getcwd",
		/* its socket to the sentry */
		"sendmsg", "recvmsg", "sendto", "recvfrom", "poll", "ppoll",
		/* memory, threads of libc, signals, time, identity, exit */
		"brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "futex", "set_robust_list",
		"rseq", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack",
		"restart_syscall", "clock_gettime", "clock_nanosleep", "nanosleep", "gettimeofday",
		"getrandom", "getpid", "gettid", "getuid", "geteuid", "getgid", "getegid",
		"getppid", "sched_yield", "sched_getaffinity", "prlimit64", "getrlimit", "uname",
		"exit", "exit_group", "wait4", "waitid",
	};
	scmp_filter_ctx ctx;

	(void)prctl(PR_SET_DUMPABLE, 0);
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!ctx)
		return;
	for (size_t i = 0; i < JH_ARRAY_SIZE(allow); i++) {
		int nr = seccomp_syscall_resolve_name(allow[i]);
		if (nr != __NR_SCMP_ERROR)
			(void)seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	if (seccomp_load(ctx) < 0)
		jh_warn("gofer: installing its seccomp filter failed");
	seccomp_release(ctx);
}

void jh_gofer_main(const struct jh_gofer_config *cfg, int sock)
{
	static struct server sv;
	int *fds = NULL, hdr[MAX_ROOT_FDS + 1];
	int keep[2] = {JH_MIN(sock, 2), JH_MAX(sock, 2)};
	size_t n;
	int emptyfd, notify = -1;

	(void)keep;
	/* Nothing but the socket, stderr and the quota pipe: that one moves
	 * right above the socket first. */
	if (quota_notify_fd >= 0 && cfg->quota_bytes) {
		notify = quota_notify_fd == sock + 1
				 ? sock + 1
				 : dup3(quota_notify_fd, sock + 1, O_CLOEXEC);
		if (notify < 0)
			notify = -1;
	}
	if (sock > 3)
		syscall(SYS_close_range, 3, (unsigned)sock - 1, 0);
	syscall(SYS_close_range, (unsigned)sock + (notify >= 0 ? 2 : 1), ~0U, 0);

	sv.cfg = cfg;
	sv.sock = sock;
	sv.wsfd = -1;
	sv.ws_entry = -1;
	sv.notify = notify;
	if (jh_vfs_open_roots(cfg->view, &fds) < 0 || cfg->view->n + 1 > MAX_ROOT_FDS)
		_exit(1);
	sv.fds = fds;
	emptyfd = open(cfg->emptydir ? cfg->emptydir : "/nonexistent",
		       O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	n = 0;
	for (size_t i = 0; i < cfg->view->n; i++)
		hdr[n++] = fds[i];
	hdr[n++] = emptyfd;
	{
		/* Closed slots travel as a mask: SCM_RIGHTS carries only open fds. */
		uint8_t mask[MAX_ROOT_FDS + 1];
		int sendfds[MAX_ROOT_FDS + 1];
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			mask[i] = hdr[i] >= 0;
			if (hdr[i] >= 0)
				sendfds[k++] = hdr[i];
		}
		int len = jh_gofer_rep_encode(0, (int64_t)n, mask, n, sv.out, sizeof(sv.out));
		if (len < 0 || send_frame(sock, sv.out, (size_t)len, sendfds, k) < 0)
			_exit(1);
	}
	jh_closep(&emptyfd);
	if (cfg->workspace) {
		sv.wsfd = open(cfg->workspace, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (sv.wsfd >= 0 && jh_snap_take(sv.wsfd, &sv.before) == 0) {
			sv.usage = sv.before.usage;
			sv.last_scan_ns = now_ns();
		}
		/* which entry is the workspace: files opened through it are held
		 * for their growth */
		for (size_t i = 0; sv.wsfd >= 0 && i < cfg->view->n; i++) {
			struct stat a, b;

			if (fds[i] >= 0 && cfg->view->m[i].kind == JH_MOUNT_RW &&
			    fstat(fds[i], &a) == 0 && fstat(sv.wsfd, &b) == 0 &&
			    a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
				sv.ws_entry = (int)i;
				break;
			}
		}
	}
	/* the supervisor hears at once if the workspace is full already */
	sv.told = !(quota_on(&sv) && sv.usage >= cfg->quota_bytes);
	sv.full = !sv.told;
	if (cfg->as_ids && (setgroups(0, NULL) < 0 || setresgid(cfg->gid, cfg->gid, cfg->gid) < 0 ||
			    setresuid(cfg->uid, cfg->uid, cfg->uid) < 0))
		_exit(1);
	confine();
	confine_landlock(cfg, fds);

	for (;;) {
		int rfds[2] = {-1, -1}, outfd = -1;
		size_t nf = 0;
		struct pollfd pfd = {.fd = sock, .events = POLLIN};
		ssize_t len;
		int64_t v;
		int timeout = tick_timeout(&sv);

		/* --disk-quota: the timer runs between requests, and between two
		 * requests that follow each other closely too */
		if (timeout == 0 || (timeout > 0 && JH_RETRY_EINTR(poll(&pfd, 1, timeout)) == 0)) {
			tick(&sv);
			continue;
		}
		len = recv_frame(sock, sv.frame, sizeof(sv.frame), rfds, 2, &nf);
		if (len == 0)
			_exit(0);
		if (len < 0) {
			if (len == -EMSGSIZE) {
				reply(&sv, -EMSGSIZE, -1, NULL, 0);
				continue;
			}
			_exit(0);
		}
		if (jh_gofer_req_decode(sv.frame, (size_t)len, &sv.req) < 0) {
			v = -EBADMSG;
		} else if (sv.req.op == JH_GOFER_FINISH) {
			for (size_t i = 0; i < nf; i++)
				close(rfds[i]);
			finish(&sv);
			continue;
		} else {
			v = serve(&sv, &sv.req, rfds[0], rfds[1], &outfd);
		}
		for (size_t i = 0; i < nf; i++)
			close(rfds[i]);
		reply(&sv, v, outfd, NULL, 0);
		jh_closep(&outfd);
	}
}

/* ================= client ================= */

struct jh_gofer {
	int sock;
	bool dead;
	uint8_t buf[JH_GOFER_MAX_FRAME];
};

bool jh_gofer_dead(const struct jh_gofer *g)
{
	return !g || g->dead;
}

int jh_gofer_start(const struct jh_gofer_config *cfg, struct jh_gofer **ret, int **ret_fds,
		   int *ret_emptyfd)
{
	_cleanup_free_ struct jh_gofer *g = NULL;
	int sv[2], fds[MAX_ROOT_FDS + 1];
	_cleanup_free_ int *out = NULL;
	size_t nf = 0, n = cfg->view->n;
	pid_t pid;
	int st;
	ssize_t len;
	int32_t err;
	int64_t val;
	const void *blob;
	size_t bloblen;

	if (n + 1 > MAX_ROOT_FDS)
		return -E2BIG;
	g = calloc(1, sizeof(*g));
	out = calloc(n, sizeof(int));
	if (!g || !out)
		return -ENOMEM;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return jh_negerrno();
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return jh_negerrno();
	}
	if (pid == 0) {
		sigset_t none;
		close(sv[0]);
		/* A grandchild: reparented away from us, so that the platform's
		 * teardown of the task tree never kills it before the change set. */
		if (fork() != 0)
			_exit(0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_IGN);
		setsid();
		jh_gofer_main(cfg, sv[1]);
	}
	close(sv[1]);
	g->sock = sv[0];
	(void)JH_RETRY_EINTR(waitpid(pid, &st, 0));

	len = recv_frame(g->sock, g->buf, sizeof(g->buf), fds, MAX_ROOT_FDS + 1, &nf);
	if (len <= 0 || jh_gofer_rep_decode(g->buf, (size_t)len, &err, &val, &blob, &bloblen) < 0 ||
	    err || (size_t)val != n + 1 || bloblen != n + 1) {
		for (size_t i = 0; i < nf; i++)
			close(fds[i]);
		close(g->sock);
		return -EIO;
	}
	{
		const uint8_t *mask = blob;
		size_t k = 0, want = 0;
		for (size_t i = 0; i <= n; i++)
			want += mask[i] ? 1 : 0;
		if (want != nf) {
			for (size_t i = 0; i < nf; i++)
				close(fds[i]);
			close(g->sock);
			return -EIO;
		}
		for (size_t i = 0; i < n; i++)
			out[i] = mask[i] ? fds[k++] : -1;
		*ret_emptyfd = mask[n] ? fds[k++] : -1;
	}
	*ret_fds = TAKE_PTR(out);
	*ret = TAKE_PTR(g);
	return 0;
}

static int wait_readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r = JH_RETRY_EINTR(poll(&p, 1, CALL_TIMEOUT_MS));

	return r == 1 ? 0 : -EIO;
}

int64_t jh_gofer_call(struct jh_gofer *g, const struct jh_gofer_req *q, int fd1, int fd2,
		      int *ret_fd)
{
	int fds[2], n, rfd = -1;
	size_t nf = 0, k = 0;
	ssize_t len;
	int32_t err;
	int64_t val;
	const void *blob;
	size_t bloblen;

	if (ret_fd)
		*ret_fd = -1;
	if (!g || g->dead)
		return -EIO;
	n = jh_gofer_req_encode(q, g->buf, sizeof(g->buf));
	if (n < 0)
		return n;
	if (fd1 >= 0)
		fds[k++] = fd1;
	if (fd2 >= 0)
		fds[k++] = fd2;
	if (send_frame(g->sock, g->buf, (size_t)n, fds, k) < 0 || wait_readable(g->sock) < 0) {
		g->dead = true;
		return -EIO;
	}
	len = recv_frame(g->sock, g->buf, sizeof(g->buf), &rfd, 1, &nf);
	if (len <= 0 || jh_gofer_rep_decode(g->buf, (size_t)len, &err, &val, &blob, &bloblen) < 0) {
		if (nf)
			close(rfd);
		g->dead = true;
		return -EIO;
	}
	if (err) {
		if (nf)
			close(rfd);
		return -err;
	}
	if (ret_fd)
		*ret_fd = nf ? rfd : -1;
	else if (nf)
		close(rfd);
	return val;
}

int jh_gofer_finish(struct jh_gofer *g, struct jh_changes *ret)
{
	struct jh_gofer_req *q;
	struct jh_changes c = {0};
	int r = 0;

	if (!g)
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q) {
		jh_gofer_stop(g);
		return -ENOMEM;
	}
	q->op = JH_GOFER_FINISH;
	q->entry = q->entry2 = -1;
	if (g->dead || send_frame(g->sock, g->buf, (size_t)jh_gofer_req_encode(q, g->buf, sizeof(g->buf)), NULL, 0) < 0)
		r = -EIO;
	free(q);
	while (r == 0) {
		ssize_t len;
		int32_t err;
		int64_t val;
		const void *blob;
		size_t bloblen;
		struct jh_change *v;

		if (wait_readable(g->sock) < 0) {
			r = -EIO;
			break;
		}
		len = recv_frame(g->sock, g->buf, sizeof(g->buf), NULL, 0, NULL);
		if (len <= 0 || jh_gofer_rep_decode(g->buf, (size_t)len, &err, &val, &blob, &bloblen) < 0) {
			r = -EIO;
			break;
		}
		if (err == ENODATA)
			break;
		if (err || val < 0 || val > JH_CHANGE_DELETED || bloblen < 64 || bloblen > 64 + PATH_MAX) {
			r = -EIO;
			break;
		}
		v = realloc(c.v, (c.n + 1) * sizeof(*v));
		if (!v) {
			r = -ENOMEM;
			break;
		}
		c.v = v;
		v[c.n].op = (enum jh_change_op)val;
		v[c.n].path = strndup((const char *)blob + 64, bloblen - 64);
		if (!v[c.n].path) {
			r = -ENOMEM;
			break;
		}
		memcpy(v[c.n].sha256_hex, blob, 64);
		v[c.n].sha256_hex[64] = '\0';
		if (val == JH_CHANGE_DELETED)
			v[c.n].sha256_hex[0] = '\0';
		c.n++;
	}
	jh_gofer_stop(g);
	if (r < 0) {
		jh_changes_free(&c);
		return r;
	}
	*ret = c;
	return 0;
}

void jh_gofer_stop(struct jh_gofer *g)
{
	if (!g)
		return;
	/* EOF on its socket ends the gofer. */
	jh_closep(&g->sock);
	free(g);
}
