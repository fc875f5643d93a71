/* Resource limits of the sandboxed task tree: --memory, --pids, and the
 * enforcing half of --disk-quota.
 *
 * Two mechanisms, chosen per run by jh_limits_new():
 *
 *   cgroup v2   where this process sits in a delegated, writable cgroup v2
 *               subtree with the memory and pids controllers: a per-run child
 *               cgroup with memory.max (and memory.oom.group) and pids.max; the
 *               first task enters it before exec (platform/child.c), so does
 *               everything it starts. The kernel enforces; memory.events and
 *               pids.events say afterwards whether a limit was hit.
 *   watchdog    everywhere else (cgroup v1 hosts, undelegated trees): a thread
 *               of the supervisor sums the resident anonymous and shared memory
 *               of every sandboxed task from /proc every few milliseconds and
 *               kills the whole tree when the sum passes --memory; --pids is
 *               RLIMIT_NPROC, and the watchdog notes when the count reached it.
 *
 *
 * --disk-quota: every task starts with RLIMIT_FSIZE = quota (no file grows
 * past it). The gofer tracks the workspace's usage, writes through open fds
 * included, and reports it on a pipe (jh_limits_quota_fd()); while it says
 * the workspace is full, the same thread lowers RLIMIT_FSIZE of every task of
 * the walk to 0 — each write to a regular file then fails in the kernel with
 * EFBIG — and raises it back to the quota when usage is below it again.
 *
 * The cgroup root and the text of /proc/self/cgroup are parameters, so the
 * detection can be tested on fake trees. */
#ifndef JH_PLATFORM_LIMITS_H
#define JH_PLATFORM_LIMITS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "platform/platform.h"

#define JH_CGROUP_ROOT "/sys/fs/cgroup"

/* --- Detection (no side effects) --- */

enum jh_cgroup_plan {
	JH_CGROUP_UNUSABLE = 0,
	JH_CGROUP_DIRECT, /* memory and pids already enabled below our cgroup */
	JH_CGROUP_ENABLE, /* enable them in our cgroup's subtree_control (it holds no process) */
	JH_CGROUP_LEAF,   /* we are the only process of our cgroup: move into a leaf child
			   * first (no internal processes), then enable */
};

struct jh_cgroup_probe {
	enum jh_cgroup_plan plan;
	char own[PATH_MAX]; /* directory of our cgroup (root + path) */
	char why[320];      /* for --explain: why usable or not */
};

/* The cgroup v2 path ("/a/b") of the "0::" line of `text` (the contents of
 * /proc/self/cgroup) into path[cap]. -ENOENT without such a line (a v1-only
 * host), -EINVAL for a path that is not absolute or climbs with "..",
 * -ENAMETOOLONG. */
int jh_cgroup_parse_self(const char *text, char *path, size_t cap);

/* 1 if the space-separated list `list` holds `word`, else 0. */
int jh_cgroup_has_word(const char *list, const char *word);

/* Decides whether a per-run cgroup can be made under `root` (NULL: the
 * default) for process `self`, whose /proc/self/cgroup contents are
 * `self_cgroup` (NULL: read it). Always fills *ret (plan and why); returns 0. */
int jh_cgroup_probe(const char *root, const char *self_cgroup, pid_t self,
		    struct jh_cgroup_probe *ret);

/* Counters of memory.events / pids.events text: the value of `key` ("max",
 * "oom_kill"), or 0 when absent. */
uint64_t jh_cgroup_events_get(const char *text, const char *key);

/* --- A run's limits --- */

struct jh_limits_config {
	uint64_t memory;         /* bytes; 0: no memory limit */
	uint64_t pids;           /* tasks; 0: no pids limit */
	const char *cgroup_root; /* NULL: JH_CGROUP_ROOT */
	const char *self_cgroup; /* NULL: /proc/self/cgroup; tests give fake contents */
	bool no_cgroup;          /* use the watchdog even where cgroup v2 is delegated */
	unsigned period_ms;      /* watchdog sampling period; 0: the default (10 ms) */
	uint64_t disk_quota;     /* bytes; 0: none. RLIMIT_FSIZE is lowered while the
				  * gofer reports the workspace full */
	bool as_ids;             /* the tasks run as uid/gid (we were started as root):
				  * the thread takes them as its real ids, as prlimit
				  * on another's task wants without CAP_SYS_RESOURCE */
	uid_t uid;
	gid_t gid;
	bool own_forks;          /* our forks that never exec'd (the first task until it
				  * execs, init) are ours, not the sandbox's: not counted */
};

/* The messages on the quota pipe: one uint64_t each, the workspace's usage in
 * bytes, with this bit set while it is at or past the quota. The gofer writes
 * them (gofer/gofer.h, JH_GOFER_QUOTA_FULL is the same bit); only the last
 * one read counts. */
#define JH_LIMITS_QUOTA_FULL (1ull << 63)

enum jh_limits_mech {
	JH_LIMITS_NONE = 0, /* nothing asked */
	JH_LIMITS_CGROUP2,
	JH_LIMITS_WATCHDOG,
};

struct jh_limits_report {
	bool memory_exceeded;  /* the sandbox was killed for --memory */
	uint64_t memory_seen;  /* bytes: the sum that crossed the limit (watchdog) or the
				* cgroup's peak where the kernel reports it; 0 unknown */
	uint64_t memory_peak;  /* largest sum the watchdog saw (0 with cgroups) */
	bool pids_reached;     /* a fork failed, or the count was seen at the limit */
	bool disk_full;        /* the workspace was reported full at least once */
	uint64_t disk_peak;    /* largest usage the gofer reported, bytes (0: none) */
	uint64_t fsize_lowered; /* prlimit calls that lowered a task's RLIMIT_FSIZE
				 * (more than the tasks when one raised it again) */
	uint64_t pids_peak;    /* most tasks seen at once (watchdog), 0 unknown */
	char reason[256];      /* one line for stderr and the audit record; "" if no
				* limit was hit */
};

struct jh_limits;

/* Chooses the mechanism (and, for cgroup v2, creates the run's cgroup and
 * arranges for the first task to enter it). Never fails for an unusable
 * cgroup: it falls back to the watchdog and says why in jh_limits_describe().
 * -errno only for allocation failures. */
int jh_limits_new(const struct jh_limits_config *cfg, struct jh_limits **ret);
/* The rlimits the first task must get for this mechanism (the watchdog's
 * backstops), into out[cap]; returns how many. */
size_t jh_limits_rlimits(const struct jh_limits *l, struct jh_rlimit *out, size_t cap);
enum jh_limits_mech jh_limits_mechanism(const struct jh_limits *l);
/* One line: the mechanism and why it was chosen (static or owned by l). */
const char *jh_limits_describe(const struct jh_limits *l);
/* With --disk-quota: the write end of the quota pipe (O_NONBLOCK, O_CLOEXEC,
 * owned by l), for the gofer to report on (jh_gofer_set_quota_notify()); -1
 * without. */
int jh_limits_quota_fd(const struct jh_limits *l);
/* Starts the watchdog thread (with the cgroup: only for --disk-quota). Call
 * once the gofer and the first task are forked (jh_sentry_config.spawned):
 * a process forked while another thread holds a lock (ASan's allocator)
 * inherits it held. With cfg.own_forks, jhansi-exec's own forks below it (the
 * first task until it execs, a pid namespace's init) are not counted. */
int jh_limits_start(struct jh_limits *l);
/* After the run (every task reaped): stops the watchdog or reads the
 * cgroup's events, and removes the cgroup. Fills *ret. */
void jh_limits_finish(struct jh_limits *l, struct jh_limits_report *ret);
void jh_limits_free(struct jh_limits *l);

/* "256M", "2G", "1536K" or bytes: the shortest exact spelling of `bytes`. */
void jh_limits_format_size(uint64_t bytes, char *buf, size_t cap);

/* The watchdog's view of the sandbox at one instant, for tests: the
 * supervisor's descendants outside its own session (the sandbox runs in
 * sessions of its own; the supervisor's helpers stay in its session).
 * Returns the number of live processes; *ret_bytes the sum of their
 * RssAnon + RssShmem, *ret_tasks the sum of their threads. */
size_t jh_limits_sample(uint64_t *ret_bytes, uint64_t *ret_tasks);

#endif
