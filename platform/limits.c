/* --memory and --pids for the sandboxed task tree (see limits.h): a per-run
 * cgroup v2 where the host delegates one to us, and otherwise a watchdog
 * thread that sums the tree's resident memory from /proc and kills the tree
 * when the sum passes the limit.
 *
 * Why a watchdog and not RLIMIT_AS alone: RLIMIT_AS bounds the address space
 * of each task, not memory. A malloc past it simply fails, so the sentry
 * never learns that a limit was hit (the record says nothing); programs that
 * reserve far more than they touch (Go, the JVM, V8, sanitizers) break; and N
 * tasks may each take the whole limit. The watchdog counts what the tree
 * actually holds, all tasks together, and ends the run with a reason.
 *
 * What it counts: RssAnon + RssShmem of each process (/proc/PID/status):
 * memory that cannot be dropped under pressure. File pages (libc, the
 * program's text) are left out: they are shared with the host's page cache,
 * reclaimable, and counting them once per process would make 100 small
 * processes look like 100 copies of libc. Shared anonymous memory mapped by
 * several processes is counted once per process (on the safe side). Not
 * counted: tmpfs or memfd pages nobody maps, pipe and socket buffers, page
 * tables, kernel memory — a cgroup counts those; the watchdog cannot.
 *
 * Who it counts: the supervisor's descendants outside its own session. The
 * first task starts a session of its own and every sandbox task stays in a
 * session the sandbox made (setsid can only make new ones); the supervisor's
 * helpers (forensics, probes) stay in the supervisor's session, and the gofer
 * is not a descendant at all. Orphans come back to the supervisor (it is a
 * child subreaper), so the walk from the supervisor's children reaches every
 * task.
 *
 * --disk-quota: the gofer sees the workspace's usage grow (it holds every
 * workspace file it opened for writing and sums their growth on a short
 * timer, gofer/gofer.c) but cannot reach the tasks: it is not their relative,
 * its seccomp filter forbids signals to others, and it does not know their
 * pids. The supervisor's thread does: the gofer writes the usage on a pipe
 * made here before it starts, and while the workspace is full the thread
 * sets RLIMIT_FSIZE of every task the walk finds to 0 (prlimit), so the
 * kernel fails every write to a regular file with EFBIG at once, in whichever
 * task and through whichever fd; forks inherit it. Then it walks again (a task
 * may have forked between the walk and its prlimit) until a walk finds
 * nothing to change. While full it walks every period, for tasks that
 * started since and for tasks that raised their soft limit again (setrlimit
 * is not mediated: a task may raise its soft limit up to its hard one). Where
 * the supervisor may raise a hard limit back (CAP_SYS_RESOURCE, probed once
 * in a child) it lowers the hard limit to 0 too, and nothing can raise it;
 * elsewhere only the soft one, and the walk puts it back. When the gofer
 * reports usage below the quota again (files deleted or truncated) the
 * limits go back to the quota. Why 0 and not "the file's size": the kernel's
 * check is by offset (a write at or past RLIMIT_FSIZE fails, one across it is
 * cut short), one number per process for every file; any value above 0
 * would let each open file grow to it. So while the workspace is full,
 * overwrites fail too, and so do writes to /tmp files — as on a full disk.
 *
 * The watchdog thread allocates nothing and takes no lock (open, read,
 * getdents64, prlimit, close and poll only), so a fork by the supervisor
 * while it runs inherits no held lock from it. */
#include "platform/limits.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/macro.h"
#include "platform/child.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

/* Processes one walk can hold; a larger tree is still killed (the kill
 * repeats its walk), but its memory beyond this many is not summed. */
#define MAX_TASKS 8192
#define DEFAULT_PERIOD_MS 10
/* A walk costing more than 1/WALK_SHARE of the time between walks stretches
 * the period: the watchdog stays under ~20% of one core however large the
 * tree. */
#define WALK_SHARE 4
#define KILL_ROUNDS 64

/* --- Small helpers, allocation-free --- */

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* dst = a + b + c, truncated to cap: no snprintf in the watchdog. */
static void cat3(char *dst, size_t cap, const char *a, const char *b, const char *c)
{
	size_t len = 0;

	for (const char *parts[] = {a, b, c}, **p = parts; p < parts + 3; p++)
		for (const char *s = *p; *s && len + 1 < cap; s++)
			dst[len++] = *s;
	dst[len] = '\0';
}

/* Decimal spelling of n >= 0 into num[16]. */
static const char *fmt_pid(char num[16], long n)
{
	size_t k = 15;

	num[k] = '\0';
	do {
		num[--k] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0 && k > 0);
	return num + k;
}

/* Reads up to cap-1 bytes of `path`, NUL-terminated. Length or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	size_t len = 0;

	if (fd < 0)
		return -errno;
	while (len + 1 < cap) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = JH_RETRY_EINTR(write(fd, text, strlen(text)));
	if (n < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	close(fd);
	return (size_t)n == strlen(text) ? 0 : -EIO;
}

/* The number after "key:" at the start of a line of `text`, or `dflt`. */
static uint64_t field_u64(const char *text, const char *key, uint64_t dflt)
{
	size_t klen = strlen(key);

	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (strncmp(l, key, klen) != 0 || l[klen] != ':')
			continue;
		l += klen + 1;
		while (*l == ' ' || *l == '\t')
			l++;
		if (*l < '0' || *l > '9')
			return dflt;
		{
			uint64_t v = 0;
			while (*l >= '0' && *l <= '9' && v < UINT64_MAX / 10)
				v = v * 10 + (uint64_t)(*l++ - '0');
			return v;
		}
	}
	return dflt;
}

/* --- The walk --- */

struct proc_info {
	char name[16]; /* comm */
	char state;
	pid_t ppid, sid;
	uint64_t threads, bytes;
};

struct walk {
	pid_t self, self_sid;
	/* Recognising jhansi-exec's own forks (is_ours()), from jh_limits_start() */
	bool forks_known;
	char self_name[16];
	dev_t self_dev;
	ino_t self_ino;
	char self_auxv[1024];
	size_t self_auxv_len;
	size_t n;
	bool truncated;
	pid_t pid[MAX_TASKS];
	pid_t parent[MAX_TASKS];
	uint32_t threads[MAX_TASKS];
	uint64_t bytes, tasks;
};

static int read_proc(pid_t pid, struct proc_info *ret)
{
	char path[64], buf[4096], num[16];
	const char *st;

	cat3(path, sizeof(path), "/proc/", fmt_pid(num, pid), "/status");
	if (read_small(path, buf, sizeof(buf)) < 0)
		return -ESRCH;
	{
		/* "Name:\t<comm>\n" opens the file */
		const char *n = strncmp(buf, "Name:\t", 6) == 0 ? buf + 6 : "";
		size_t len = strcspn(n, "\n");
		len = JH_MIN(len, sizeof(ret->name) - 1);
		memcpy(ret->name, n, len);
		ret->name[len] = '\0';
	}
	st = strstr(buf, "\nState:");
	ret->state = st ? st[strspn(st + 7, " \t") + 7] : '?';
	ret->ppid = (pid_t)field_u64(buf, "PPid", 0);
	/* NSsid: the first value is in the pid namespace of this /proc, ours */
	ret->sid = (pid_t)field_u64(buf, "NSsid", 0);
	ret->threads = field_u64(buf, "Threads", 1);
	ret->bytes = (field_u64(buf, "RssAnon", 0) + field_u64(buf, "RssShmem", 0)) * 1024;
	return 0;
}

/* jhansi-exec's own processes below it, not the sandbox's: the first task
 * until it execs the command, a pid namespace's init, and init's fork of the
 * command until that execs. They are forks of jhansi-exec that have not
 * exec'd: the same executable and the very auxiliary vector (the kernel's
 * copy from jhansi-exec's own exec, which a fork inherits and a new exec of
 * the same file replaces: its stack and load addresses are randomised).
 * Without ASLR a sandbox task that execs jhansi-exec's executable could pass
 * for one (RLIMIT_AS still holds it). */
static bool is_ours(const struct walk *w, pid_t pid, const struct proc_info *pi)
{
	char path[64], num[16], auxv[sizeof(w->self_auxv)];
	const char *ps;
	struct stat st;
	ssize_t n;
	int fd;

	if (!w->forks_known || strcmp(pi->name, w->self_name) != 0)
		return false;
	ps = fmt_pid(num, pid);
	cat3(path, sizeof(path), "/proc/", ps, "/exe");
	if (stat(path, &st) < 0 || st.st_dev != w->self_dev || st.st_ino != w->self_ino)
		return false;
	cat3(path, sizeof(path), "/proc/", ps, "/auxv");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, auxv, sizeof(auxv));
	close(fd);
	return n > 0 && (size_t)n == w->self_auxv_len && memcmp(auxv, w->self_auxv, (size_t)n) == 0;
}

static void add_child(struct walk *w, pid_t pid, pid_t parent)
{
	struct proc_info pi;

	if (pid <= 0)
		return;
	if (w->n >= MAX_TASKS) {
		w->truncated = true;
		return;
	}
	if (read_proc(pid, &pi) < 0 || pi.state == 'Z' || pi.state == 'X')
		return;
	/* the supervisor's helpers share its session; sandbox tasks never do */
	if (pi.sid == w->self_sid || pi.sid <= 0)
		return;
	w->pid[w->n] = pid;
	w->parent[w->n] = parent;
	w->threads[w->n] = (uint32_t)JH_MIN(pi.threads, UINT32_MAX);
	if (!is_ours(w, pid, &pi)) {
		w->bytes += pi.bytes;
		w->tasks += pi.threads;
	}
	w->n++;
}

/* Adds the pids listed in a /proc/.../children file, read in chunks (a
 * thread with thousands of children has a long list). */
static void scan_children(struct walk *w, const char *path, pid_t parent)
{
	char buf[2048];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	long cur = -1;

	if (fd < 0)
		return;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] >= '0' && buf[i] <= '9') {
				if (cur < 0)
					cur = 0;
				if (cur < 100000000)
					cur = cur * 10 + (buf[i] - '0');
			} else if (cur >= 0) {
				add_child(w, (pid_t)cur, parent);
				cur = -1;
			}
		}
	}
	if (cur >= 0)
		add_child(w, (pid_t)cur, parent);
	close(fd);
}

struct dirent64_raw {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* Children of every thread of process `pidstr` ("self" for the supervisor). */
static void scan_process(struct walk *w, const char *pidstr, pid_t pid, uint32_t threads)
{
	char dir[64], path[128], buf[2048];
	int fd;

	cat3(dir, sizeof(dir), "/proc/", pidstr, "/task/");
	if (threads == 1) {
		/* the common case: one thread, whose tid is the pid */
		cat3(path, sizeof(path), dir, pidstr, "/children");
		scan_children(w, path, pid);
		return;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (long off = 0; off < n;) {
			const struct dirent64_raw *de = (const struct dirent64_raw *)(buf + off);

			off += de->d_reclen;
			if (de->d_name[0] < '0' || de->d_name[0] > '9')
				continue;
			cat3(path, sizeof(path), dir, de->d_name, "/children");
			scan_children(w, path, pid);
		}
	}
	close(fd);
}

static void walk_tree(struct walk *w)
{
	w->self = getpid();
	w->self_sid = getsid(0);
	w->n = 0;
	w->truncated = false;
	w->bytes = w->tasks = 0;
	/* the supervisor has several threads; any may have forked */
	scan_process(w, "self", w->self, 0);
	for (size_t i = 0; i < w->n; i++) {
		char num[16];
		scan_process(w, fmt_pid(num, w->pid[i]), w->pid[i], w->threads[i]);
	}
}

/* SIGKILL to `pid` if it is still the task found under `parent`: pinned by a
 * pidfd first, then checked, so a pid reused by a host process meanwhile is
 * never signalled (the pidfd of a task that died signals nothing). */
static void kill_one(const struct walk *w, pid_t pid, pid_t parent)
{
	struct proc_info pi;
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (fd < 0)
		return;
	if (read_proc(pid, &pi) == 0 && pi.ppid == parent && pi.sid != w->self_sid && pi.sid > 0)
		(void)syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
	close(fd);
}

/* Kills every task of the walk, then walks again (children of killed tasks
 * come back to us as orphans; a task may have forked meanwhile) until no live
 * task is found. The platform's teardown reaps them and catches stragglers. */
static void kill_tree(struct walk *w)
{
	for (int round = 0; round < KILL_ROUNDS && w->n; round++) {
		struct timespec pause = {.tv_nsec = 1000000};

		for (size_t i = 0; i < w->n; i++)
			kill_one(w, w->pid[i], w->parent[i]);
		if (round)
			nanosleep(&pause, NULL); /* dying tasks still show until they exit */
		walk_tree(w);
	}
}

/* RLIMIT_FSIZE of one task of the walk to `full` ? 0 : the quota, if it is
 * not already there. Pinned by a pidfd and checked like kill_one(); what is
 * left is a pid reused between the check and prlimit, which takes a wrap of
 * the whole pid space in between. Returns 1 if it changed the limit. */
static int set_fsize(const struct walk *w, pid_t pid, pid_t parent, bool full, bool hard_too,
		     uint64_t quota)
{
	struct proc_info pi;
	struct rlimit old, nw;
	int fd = (int)syscall(SYS_pidfd_open, pid, 0), r = 0;

	if (fd < 0)
		return 0;
	if (read_proc(pid, &pi) < 0 || pi.ppid != parent || pi.sid == w->self_sid || pi.sid <= 0 ||
	    prlimit(pid, RLIMIT_FSIZE, NULL, &old) < 0)
		goto out;
	if (full) {
		if (old.rlim_cur == 0 && (!hard_too || old.rlim_max == 0))
			goto out;
		nw = (struct rlimit){0, hard_too ? 0 : old.rlim_max};
	} else {
		/* only what we lowered: a task that chose a smaller limit keeps it */
		if (old.rlim_cur != 0)
			goto out;
		nw.rlim_max = hard_too ? quota : old.rlim_max;
		nw.rlim_cur = JH_MIN((uint64_t)nw.rlim_max, quota);
		if (nw.rlim_cur == 0)
			goto out;
	}
	r = prlimit(pid, RLIMIT_FSIZE, &nw, NULL) == 0 ? 1 : 0;
out:
	close(fd);
	return r;
}

/* Every task's RLIMIT_FSIZE to 0 (full) or back to the quota, walking again
 * until a walk changes nothing: a task forked after its parent was seen but
 * before its parent's prlimit kept the old limit. Returns how many prlimit
 * calls changed a limit. */
static uint64_t enforce_fsize(struct walk *w, bool full, bool hard_too, uint64_t quota)
{
	uint64_t total = 0;

	for (int round = 0; round < KILL_ROUNDS; round++) {
		uint64_t changed = 0;

		walk_tree(w);
		for (size_t i = 0; i < w->n; i++)
			changed += (uint64_t)set_fsize(w, w->pid[i], w->parent[i], full, hard_too,
						       quota);
		total += changed;
		if (!changed)
			break;
	}
	return total;
}

size_t jh_limits_sample(uint64_t *ret_bytes, uint64_t *ret_tasks)
{
	_cleanup_free_ struct walk *w = calloc(1, sizeof(*w)); /* no own forks known */

	if (!w)
		return 0;
	walk_tree(w);
	if (ret_bytes)
		*ret_bytes = w->bytes;
	if (ret_tasks)
		*ret_tasks = w->tasks;
	return w->n;
}

/* --- cgroup v2 detection (pure but for reading files under root) --- */

int jh_cgroup_parse_self(const char *text, char *path, size_t cap)
{
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		const char *end;
		size_t len;

		if (strncmp(l, "0::", 3) != 0)
			continue;
		l += 3;
		end = strchr(l, '\n');
		len = end ? (size_t)(end - l) : strlen(l);
		/* outside our cgroup namespace the kernel shows "/../.." */
		if (len == 0 || l[0] != '/' || memmem(l, len, "/..", 3) || memmem(l, len, "//", 2))
			return -EINVAL;
		if (len + 1 > cap)
			return -ENAMETOOLONG;
		memcpy(path, l, len);
		path[len] = '\0';
		return 0;
	}
	return -ENOENT;
}

int jh_cgroup_has_word(const char *list, const char *word)
{
	size_t wl = strlen(word);

	for (const char *p = list; p && *p;) {
		size_t n;

		p += strspn(p, " \t\n");
		n = strcspn(p, " \t\n");
		if (n == wl && strncmp(p, word, n) == 0)
			return 1;
		p += n;
	}
	return 0;
}

uint64_t jh_cgroup_events_get(const char *text, const char *key)
{
	size_t klen = strlen(key);

	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (strncmp(l, key, klen) == 0 && l[klen] == ' ')
			return strtoull(l + klen + 1, NULL, 10);
	return 0;
}

/* true if cgroup.procs text lists no pid but `self` */
static bool procs_only(const char *text, pid_t self, bool *ret_empty)
{
	bool any = false;

	for (const char *p = text; *p;) {
		char *end;
		long v = strtol(p, &end, 10);

		if (end == p) {
			p++;
			continue;
		}
		any = true;
		if (v != self)
			return false;
		p = end;
	}
	*ret_empty = !any;
	return true;
}

int jh_cgroup_probe(const char *root, const char *self_cgroup, pid_t self,
		    struct jh_cgroup_probe *ret)
{
	char buf[4096], rel[PATH_MAX], path[PATH_MAX + 64], procs[8192];
	bool empty = false;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!root)
		root = JH_CGROUP_ROOT;
	snprintf(path, sizeof(path), "%s/cgroup.controllers", root);
	if (access(path, F_OK) < 0) {
		snprintf(ret->why, sizeof(ret->why),
			 "no unified (v2) hierarchy at %s (cgroup v1 or none)", root);
		return 0;
	}
	if (!self_cgroup) {
		if (read_small("/proc/self/cgroup", buf, sizeof(buf)) < 0) {
			snprintf(ret->why, sizeof(ret->why), "/proc/self/cgroup unreadable");
			return 0;
		}
		self_cgroup = buf;
	}
	r = jh_cgroup_parse_self(self_cgroup, rel, sizeof(rel));
	if (r < 0) {
		snprintf(ret->why, sizeof(ret->why), "%s",
			 r == -ENOENT ? "this process is in no v2 cgroup (hybrid host)"
				      : "our v2 cgroup lies outside this cgroup namespace");
		return 0;
	}
	if (strlen(root) + strlen(rel) + 1 > sizeof(ret->own)) {
		snprintf(ret->why, sizeof(ret->why), "cgroup path too long");
		return 0;
	}
	strcpy(ret->own, root); /* lengths checked above */
	if (strcmp(rel, "/") != 0)
		strcat(ret->own, rel);

	snprintf(path, sizeof(path), "%s/cgroup.controllers", ret->own);
	if (read_small(path, buf, sizeof(buf)) < 0) {
		snprintf(ret->why, sizeof(ret->why), "our cgroup %s is not visible under %s", rel,
			 root);
		return 0;
	}
	if (!jh_cgroup_has_word(buf, "memory") || !jh_cgroup_has_word(buf, "pids")) {
		snprintf(ret->why, sizeof(ret->why),
			 "memory and pids controllers not delegated to %s (has: %.*s)", rel,
			 (int)strcspn(buf, "\n"), buf[0] ? buf : "none");
		return 0;
	}
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", ret->own);
	if (access(ret->own, W_OK | X_OK) < 0 || access(path, W_OK) < 0) {
		snprintf(ret->why, sizeof(ret->why), "%s is not delegated to uid %u (not writable)",
			 rel, (unsigned)geteuid());
		return 0;
	}
	if (read_small(path, buf, sizeof(buf)) < 0)
		buf[0] = '\0';
	if (jh_cgroup_has_word(buf, "memory") && jh_cgroup_has_word(buf, "pids")) {
		ret->plan = JH_CGROUP_DIRECT;
		snprintf(ret->why, sizeof(ret->why), "delegated: %s, memory and pids enabled", rel);
		return 0;
	}
	/* Enabling controllers needs a cgroup without processes of its own. */
	snprintf(path, sizeof(path), "%s/cgroup.procs", ret->own);
	if (access(path, W_OK) < 0 || read_small(path, procs, sizeof(procs)) < 0) {
		snprintf(ret->why, sizeof(ret->why), "%s/cgroup.procs is not writable", rel);
		return 0;
	}
	if (!procs_only(procs, self, &empty)) {
		snprintf(ret->why, sizeof(ret->why),
			 "delegated: %s, but it holds other processes, so memory and pids cannot "
			 "be enabled below it",
			 rel);
		return 0;
	}
	ret->plan = empty ? JH_CGROUP_ENABLE : JH_CGROUP_LEAF;
	snprintf(ret->why, sizeof(ret->why), "delegated: %s%s", rel,
		 empty ? "" : " (the supervisor moves into a leaf to enable memory and pids)");
	return 0;
}

/* --- A run --- */

struct jh_limits {
	struct jh_limits_config cfg;
	enum jh_limits_mech mech;
	char describe[512];
	/* cgroup v2 */
	char own[PATH_MAX];
	char leaf[PATH_MAX + 32]; /* our leaf, when we moved into one; "" otherwise */
	char run[PATH_MAX + 32];  /* the run's cgroup */
	bool enabled;             /* we enabled the controllers */
	int procs_fd;
	/* watchdog */
	pthread_t thread;
	bool started;
	int stop_fd;
	atomic_bool killed;
	_Atomic uint64_t seen, peak, pids_peak;
	atomic_bool pids_reached;
	/* --disk-quota */
	int quota_rfd, quota_wfd; /* the gofer writes usage words, the thread reads */
	bool hard_too;            /* we may raise a hard RLIMIT_FSIZE back */
	bool full;                /* the thread's: the last word read said full */
	atomic_bool disk_full;
	_Atomic uint64_t disk_peak, fsize_lowered;
	struct walk w; /* the thread's */
};

void jh_limits_format_size(uint64_t bytes, char *buf, size_t cap)
{
	static const char units[] = "KMGT";
	int u = -1;

	while (u < 3 && bytes && bytes % 1024 == 0) {
		bytes /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, cap, "%llu", (unsigned long long)bytes);
	else
		snprintf(buf, cap, "%llu%c", (unsigned long long)bytes, units[u]);
}

static void cgroup_teardown(struct jh_limits *l)
{
	jh_child_set_cgroup(-1);
	jh_closep(&l->procs_fd);
	if (l->run[0]) {
		/* every task is reaped by now; the kernel may need a moment to
		 * see the cgroup empty */
		for (int i = 0; i < 200 && rmdir(l->run) < 0 && errno == EBUSY; i++) {
			struct timespec ts = {.tv_nsec = 1000000};
			nanosleep(&ts, NULL);
		}
		l->run[0] = '\0';
	}
	if (l->leaf[0]) {
		char path[PATH_MAX + 32];

		/* Back to where we came from, best effort: another run may have
		 * enabled controllers meanwhile, which forbids processes there. */
		snprintf(path, sizeof(path), "%s/cgroup.procs", l->own);
		if (write_text(path, "0") == 0)
			(void)rmdir(l->leaf);
		l->leaf[0] = '\0';
	}
}

static int write_limit(const char *dir, const char *file, uint64_t v)
{
	char path[PATH_MAX + 64], num[32];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	return write_text(path, num);
}

/* The run's cgroup: own/jhansi-run-PID with memory.max, memory.swap.max 0,
 * memory.oom.group 1 (an OOM kill takes the whole sandbox, as the watchdog
 * does) and pids.max; the first task enters it through the fd of its
 * cgroup.procs before exec. */
static int cgroup_setup(struct jh_limits *l, const struct jh_cgroup_probe *pr)
{
	char path[PATH_MAX + 64];
	int r;

	snprintf(l->own, sizeof(l->own), "%s", pr->own);
	if (pr->plan == JH_CGROUP_LEAF) {
		snprintf(l->leaf, sizeof(l->leaf), "%s/jhansi-sentry-%d", pr->own, (int)getpid());
		if (mkdir(l->leaf, 0755) < 0) {
			r = -errno;
			l->leaf[0] = '\0';
			return r;
		}
		snprintf(path, sizeof(path), "%s/cgroup.procs", l->leaf);
		r = write_text(path, "0");
		if (r < 0) {
			(void)rmdir(l->leaf);
			l->leaf[0] = '\0';
			return r;
		}
	}
	if (pr->plan != JH_CGROUP_DIRECT) {
		snprintf(path, sizeof(path), "%s/cgroup.subtree_control", pr->own);
		r = write_text(path, "+memory +pids");
		if (r < 0)
			return r;
		l->enabled = true;
	}
	snprintf(l->run, sizeof(l->run), "%s/jhansi-run-%d", pr->own, (int)getpid());
	if (mkdir(l->run, 0755) < 0) {
		r = -errno;
		l->run[0] = '\0';
		return r;
	}
	if (l->cfg.memory) {
		r = write_limit(l->run, "memory.max", l->cfg.memory);
		if (r < 0)
			return r;
		(void)write_limit(l->run, "memory.swap.max", 0); /* absent without swap accounting */
		(void)write_limit(l->run, "memory.oom.group", 1); /* absent before Linux 4.19 */
	}
	if (l->cfg.pids) {
		r = write_limit(l->run, "pids.max", l->cfg.pids);
		if (r < 0)
			return r;
	}
	snprintf(path, sizeof(path), "%s/cgroup.procs", l->run);
	l->procs_fd = open(path, O_WRONLY | O_CLOEXEC);
	if (l->procs_fd < 0)
		return -errno;
	jh_child_set_cgroup(l->procs_fd);
	return 0;
}

/* Whether this process may raise a hard RLIMIT_FSIZE it lowered
 * (CAP_SYS_RESOURCE in the initial user namespace, which prlimit checks for
 * raising a hard limit): tried in a child, so ours stays as it is. */
static bool can_raise_hard_fsize(void)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return false;
	if (pid == 0) {
		struct rlimit rl;

		if (getrlimit(RLIMIT_FSIZE, &rl) < 0 || rl.rlim_max == 0)
			_exit(1);
		rl.rlim_max -= 1;
		rl.rlim_cur = JH_MIN(rl.rlim_cur, rl.rlim_max);
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(1);
		rl.rlim_max += 1;
		_exit(setrlimit(RLIMIT_FSIZE, &rl) == 0 ? 0 : 1);
	}
	if (JH_RETRY_EINTR(waitpid(pid, &st, 0)) != pid)
		return false;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int jh_limits_new(const struct jh_limits_config *cfg, struct jh_limits **ret)
{
	_cleanup_free_ struct jh_limits *l = calloc(1, sizeof(*l));
	struct jh_cgroup_probe pr;
	char mem[32], backstop[32];

	if (!l)
		return -ENOMEM;
	l->cfg = *cfg;
	l->procs_fd = l->stop_fd = l->quota_rfd = l->quota_wfd = -1;
	if (!l->cfg.period_ms)
		l->cfg.period_ms = DEFAULT_PERIOD_MS;
	if (cfg->disk_quota) {
		int p[2];

		/* non-blocking both ways: a gofer never waits on a stalled
		 * supervisor (its words are levels, a lost one is superseded) */
		if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
			return -errno;
		l->quota_rfd = p[0];
		l->quota_wfd = p[1];
		l->hard_too = can_raise_hard_fsize();
	}
	if (!cfg->memory && !cfg->pids) {
		l->mech = JH_LIMITS_NONE;
		snprintf(l->describe, sizeof(l->describe), "none asked");
		*ret = TAKE_PTR(l);
		return 0;
	}
	if (cfg->no_cgroup)
		snprintf(pr.why, sizeof(pr.why), "not used (asked)"), pr.plan = JH_CGROUP_UNUSABLE;
	else
		jh_cgroup_probe(cfg->cgroup_root, cfg->self_cgroup, getpid(), &pr);
	if (pr.plan != JH_CGROUP_UNUSABLE) {
		int r = cgroup_setup(l, &pr);
		if (r == 0) {
			l->mech = JH_LIMITS_CGROUP2;
			snprintf(l->describe, sizeof(l->describe),
				 "cgroup v2 (%.200s): memory.max, pids.max in %.256s", pr.why, l->run);
			*ret = TAKE_PTR(l);
			return 0;
		}
		cgroup_teardown(l);
		snprintf(pr.why, sizeof(pr.why), "creating the run's cgroup under %.200s failed: %s",
			 pr.own, strerror(-r));
	}
	l->mech = JH_LIMITS_WATCHDOG;
	jh_limits_format_size(cfg->memory, mem, sizeof(mem));
	{
		struct jh_rlimit rl[2];
		size_t n = jh_limits_rlimits(l, rl, 2);
		backstop[0] = '\0';
		for (size_t i = 0; i < n; i++)
			if (rl[i].resource == RLIMIT_AS)
				jh_limits_format_size(rl[i].cur, backstop, sizeof(backstop));
	}
	snprintf(l->describe, sizeof(l->describe),
		 "cgroup v2: %s -> %s%s%s%s%s%s", pr.why,
		 cfg->memory ? "--memory: RSS watchdog every " : "",
		 cfg->memory ? (l->cfg.period_ms == DEFAULT_PERIOD_MS ? "10 ms" : "few ms") : "",
		 cfg->memory ? ", RLIMIT_AS backstop " : "", cfg->memory ? backstop : "",
		 cfg->memory && cfg->pids ? "; " : "", cfg->pids ? "--pids: RLIMIT_NPROC" : "");
	(void)mem;
	*ret = TAKE_PTR(l);
	return 0;
}

/* The watchdog's backstop. The watchdog samples: between two samples a task
 * can grow past --memory, and if the supervisor is stopped or starved nothing
 * samples at all. RLIMIT_AS holds regardless of the supervisor, so it stays —
 * but coarse, at max(8 x SIZE, SIZE + 4 GiB) per task: it counts address
 * space, not memory, and a limit near SIZE would fail the large untouched
 * reservations of ordinary runtimes, and would turn a program that allocates
 * too much into a malloc failure the supervisor never hears about instead of
 * a kill with a reason. */
static uint64_t as_backstop(uint64_t memory)
{
	uint64_t a = memory > UINT64_MAX / 8 ? UINT64_MAX : memory * 8;
	uint64_t b = memory > UINT64_MAX - (4ull << 30) ? UINT64_MAX : memory + (4ull << 30);

	return JH_MAX(a, b);
}

size_t jh_limits_rlimits(const struct jh_limits *l, struct jh_rlimit *out, size_t cap)
{
	size_t n = 0;

	if (l->mech != JH_LIMITS_WATCHDOG)
		return 0; /* the cgroup's limits are exact and cover the whole tree */
	if (l->cfg.memory && n < cap) {
		uint64_t as = as_backstop(l->cfg.memory);
		out[n++] = (struct jh_rlimit){RLIMIT_AS, as, as};
	}
	/* RLIMIT_NPROC counts every task of the uid, the sandbox's among them */
	if (l->cfg.pids && n < cap)
		out[n++] = (struct jh_rlimit){RLIMIT_NPROC, l->cfg.pids, l->cfg.pids};
	return n;
}

enum jh_limits_mech jh_limits_mechanism(const struct jh_limits *l)
{
	return l->mech;
}

const char *jh_limits_describe(const struct jh_limits *l)
{
	return l->describe;
}

/* Reads every word the gofer wrote; the last one is the state. Returns true
 * when the state changed. */
static bool read_quota(struct jh_limits *l)
{
	uint64_t words[64];
	bool was = l->full;
	ssize_t n;

	while ((n = read(l->quota_rfd, words, sizeof(words))) > 0) {
		size_t k = (size_t)n / sizeof(words[0]);

		/* each word is written whole (8 bytes < PIPE_BUF) */
		for (size_t i = 0; i < k; i++) {
			uint64_t usage = words[i] & ~JH_LIMITS_QUOTA_FULL;

			if (usage > atomic_load(&l->disk_peak))
				atomic_store(&l->disk_peak, usage);
		}
		if (k)
			l->full = (words[k - 1] & JH_LIMITS_QUOTA_FULL) != 0;
	}
	if (n == 0) /* the gofer is gone: nothing will report usage again */
		jh_closep(&l->quota_rfd);
	if (l->full)
		atomic_store(&l->disk_full, true);
	return l->full != was;
}

static void *watch_main(void *arg)
{
	struct jh_limits *l = arg;
	struct walk *w = &l->w;
	bool memory = l->mech == JH_LIMITS_WATCHDOG;

	/* prlimit on another process needs its real, effective and saved ids
	 * to be our real ones, or CAP_SYS_RESOURCE (which containers drop).
	 * Started as root, the tasks run as the sandbox's uid: this thread,
	 * and only it (the raw calls change one thread's credentials, where
	 * libc's would change every thread's), takes that uid and gid as its
	 * real ids. Its effective ids stay 0, so it keeps the capabilities it
	 * had (CAP_KILL for the watchdog's kills). */
	if (l->quota_rfd >= 0 && l->cfg.as_ids &&
	    (syscall(SYS_setresgid, l->cfg.gid, -1, -1) < 0 ||
	     syscall(SYS_setresuid, l->cfg.uid, -1, -1) < 0))
		jh_closep(&l->quota_rfd); /* cannot enforce: the gofer's refusals stay */

	for (;;) {
		struct pollfd pfd[2] = {{.fd = l->stop_fd, .events = POLLIN},
					{.fd = l->quota_rfd, .events = POLLIN}};
		int64_t t0 = mono_ns(), spent;
		int wait_ms;

		/* The quota first: lowering the limit is what stops a write. While
		 * full, every period, for new tasks and raised soft limits. */
		if (l->quota_rfd >= 0 && (read_quota(l) || l->full)) {
			uint64_t n = enforce_fsize(w, l->full, l->hard_too, l->cfg.disk_quota);

			if (l->full)
				atomic_fetch_add(&l->fsize_lowered, n);
		}
		if (!memory)
			goto wait;
		walk_tree(w);
		if (w->bytes > atomic_load(&l->peak))
			atomic_store(&l->peak, w->bytes);
		if (w->tasks > atomic_load(&l->pids_peak))
			atomic_store(&l->pids_peak, w->tasks);
		if (l->cfg.pids && w->tasks >= l->cfg.pids)
			atomic_store(&l->pids_reached, true);
		if (l->cfg.memory && w->bytes > l->cfg.memory) {
			if (!atomic_load(&l->killed))
				atomic_store(&l->seen, w->bytes);
			atomic_store(&l->killed, true);
			kill_tree(w);
		}
wait:
		spent = mono_ns() - t0;
		wait_ms = (int)JH_MAX((int64_t)l->cfg.period_ms, spent * WALK_SHARE / 1000000);
		if (!memory && !(l->full && l->quota_rfd >= 0))
			wait_ms = -1; /* nothing to sample: only a word from the gofer wakes us */
		if (JH_RETRY_EINTR(poll(pfd, l->quota_rfd >= 0 ? 2 : 1, wait_ms)) > 0 &&
		    (pfd[0].revents & POLLIN))
			break;
	}
	return NULL;
}

int jh_limits_quota_fd(const struct jh_limits *l)
{
	return l ? l->quota_wfd : -1;
}

int jh_limits_start(struct jh_limits *l)
{
	struct proc_info me;
	struct stat self;
	int r, fd;

	fd = l->cfg.own_forks ? open("/proc/self/auxv", O_RDONLY | O_CLOEXEC) : -1;
	if (fd >= 0 && stat("/proc/self/exe", &self) == 0 && read_proc(getpid(), &me) == 0) {
		ssize_t n = read(fd, l->w.self_auxv, sizeof(l->w.self_auxv));
		if (n > 0 && (size_t)n < sizeof(l->w.self_auxv)) {
			l->w.self_auxv_len = (size_t)n;
			l->w.self_dev = self.st_dev;
			l->w.self_ino = self.st_ino;
			memcpy(l->w.self_name, me.name, sizeof(me.name));
			l->w.forks_known = true;
		}
	}
	if (fd >= 0)
		close(fd);
	if ((l->mech != JH_LIMITS_WATCHDOG && l->quota_rfd < 0) || l->started)
		return 0;
	l->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (l->stop_fd < 0)
		return -errno;
	r = pthread_create(&l->thread, NULL, watch_main, l);
	if (r) {
		jh_closep(&l->stop_fd);
		return -r;
	}
	l->started = true;
	return 0;
}

static void read_cgroup_events(struct jh_limits *l, struct jh_limits_report *rep)
{
	char path[PATH_MAX + 64], buf[1024];

	snprintf(path, sizeof(path), "%s/memory.events", l->run);
	if (l->cfg.memory && read_small(path, buf, sizeof(buf)) >= 0)
		rep->memory_exceeded = jh_cgroup_events_get(buf, "oom_kill") > 0 ||
				       jh_cgroup_events_get(buf, "oom_group_kill") > 0;
	snprintf(path, sizeof(path), "%s/memory.peak", l->run); /* Linux 5.19+ */
	if (l->cfg.memory && read_small(path, buf, sizeof(buf)) >= 0)
		rep->memory_seen = strtoull(buf, NULL, 10);
	snprintf(path, sizeof(path), "%s/pids.events", l->run);
	if (l->cfg.pids && read_small(path, buf, sizeof(buf)) >= 0)
		rep->pids_reached = jh_cgroup_events_get(buf, "max") > 0;
}

void jh_limits_finish(struct jh_limits *l, struct jh_limits_report *ret)
{
	struct jh_limits_report rep = {0};
	char lim[32], seen[32];

	if (l->started) {
		uint64_t one = 1;
		(void)!write(l->stop_fd, &one, sizeof(one));
		pthread_join(l->thread, NULL);
		l->started = false;
		rep.disk_full = atomic_load(&l->disk_full);
		rep.disk_peak = atomic_load(&l->disk_peak);
		rep.fsize_lowered = atomic_load(&l->fsize_lowered);
	}
	if (l->mech == JH_LIMITS_WATCHDOG) {
		rep.memory_exceeded = atomic_load(&l->killed);
		rep.memory_seen = atomic_load(&l->seen);
		rep.memory_peak = atomic_load(&l->peak);
		rep.pids_reached = atomic_load(&l->pids_reached);
		rep.pids_peak = atomic_load(&l->pids_peak);
	} else if (l->mech == JH_LIMITS_CGROUP2) {
		read_cgroup_events(l, &rep);
		cgroup_teardown(l);
	}
	jh_limits_format_size(l->cfg.memory, lim, sizeof(lim));
	if (rep.memory_exceeded) {
		if (rep.memory_seen)
			snprintf(seen, sizeof(seen), "%llu MiB",
				 (unsigned long long)((rep.memory_seen + (1 << 20) - 1) >> 20));
		snprintf(rep.reason, sizeof(rep.reason),
			 "memory limit %s exceeded%s%s%s; the sandbox was killed", lim,
			 rep.memory_seen ? ": " : "", rep.memory_seen ? seen : "",
			 !rep.memory_seen		 ? ""
			 : l->mech == JH_LIMITS_CGROUP2 ? " at peak (cgroup v2)"
							 : " resident (watchdog)");
	} else if (rep.pids_reached) {
		if (l->mech == JH_LIMITS_CGROUP2)
			snprintf(rep.reason, sizeof(rep.reason),
				 "pids limit %llu reached: forks beyond it failed with EAGAIN "
				 "(cgroup v2 pids.events)",
				 (unsigned long long)l->cfg.pids);
		else
			snprintf(rep.reason, sizeof(rep.reason),
				 "pids limit %llu reached (%llu tasks seen at once): forks beyond it "
				 "fail with EAGAIN",
				 (unsigned long long)l->cfg.pids, (unsigned long long)rep.pids_peak);
	} else if (rep.disk_full) {
		jh_limits_format_size(l->cfg.disk_quota, lim, sizeof(lim));
		snprintf(rep.reason, sizeof(rep.reason),
			 "disk quota %s reached (%llu KiB in use): writes to files failed with "
			 "EFBIG while it was",
			 lim, (unsigned long long)((rep.disk_peak + 1023) >> 10));
	}
	*ret = rep;
}

void jh_limits_free(struct jh_limits *l)
{
	if (!l)
		return;
	if (l->started) {
		struct jh_limits_report rep;
		jh_limits_finish(l, &rep);
	}
	if (l->mech == JH_LIMITS_CGROUP2)
		cgroup_teardown(l);
	jh_closep(&l->stop_fd);
	jh_closep(&l->quota_rfd);
	jh_closep(&l->quota_wfd);
	free(l);
}
