/* The gofer: the authority over the sandbox's view of files.
 *
 * A separate process, started before the sandbox. It opens the host object of
 * every entry of the view and hands the sentry O_PATH fds for them (read-only
 * lookups are then resolved by the sentry beneath those fds, in one hop), and it
 * performs every operation that creates, changes or removes something in a
 * read-write entry: so the quota and the per-run change set live in one place.
 *
 * The sentry resolves a path to (parent directory fd, final name) with the view
 * walk and sends that; the gofer checks that the entry is read-write in its own
 * table and that the directory really lies beneath that entry's root (walking
 * ".." by identity), then acts on the name with O_NOFOLLOW/AT_SYMLINK_NOFOLLOW,
 * so a name swapped for a symlink after the sentry's walk fails (ELOOP)
 * instead of leading out. Requests and replies are msgpack frames on a
 * SOCK_SEQPACKET socketpair; fds travel with SCM_RIGHTS.
 *
 * A gofer that dies or stalls makes every later call fail with EIO
 * (jh_gofer_dead() tells), and the run is reported as failed.
 */
#ifndef JH_GOFER_GOFER_H
#define JH_GOFER_GOFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gofer/view.h"

/* Operations (the protocol's op numbers; stable). */
enum jh_gofer_op {
	JH_GOFER_OPEN = 1,   /* dir, name, a=flags, b=mode → fd */
	JH_GOFER_MKDIR,      /* dir, name, a=mode */
	JH_GOFER_MKNOD,      /* dir, name, a=mode (S_IFREG or S_IFIFO only) */
	JH_GOFER_UNLINK,     /* dir, name, a=AT_REMOVEDIR or 0 */
	JH_GOFER_RENAME,     /* dir, name → dir2, name2, a=RENAME_* flags */
	JH_GOFER_LINK,       /* dir, name → dir2, name2 */
	JH_GOFER_SYMLINK,    /* blob=target; dir, name */
	JH_GOFER_CHMOD,      /* dir, name, a=mode */
	JH_GOFER_CHOWN,      /* dir, name, a=uid, b=gid, c=AT_SYMLINK_NOFOLLOW or 0 */
	JH_GOFER_TRUNCATE,   /* dir, name, a=length */
	JH_GOFER_UTIMENS,    /* dir, name, blob=struct timespec[2] or empty, c=nofollow */
	JH_GOFER_SETXATTR,   /* dir, name, name2=attr, blob=value, a=flags, c=nofollow */
	JH_GOFER_REMOVEXATTR, /* dir, name, name2=attr, c=nofollow */
	JH_GOFER_FINISH,     /* → blob: the change set (msgpack) */
	JH_GOFER_OP_MAX,
};

/* A request as the protocol carries it. Strings are NUL-terminated copies. */
struct jh_gofer_req {
	uint32_t op;
	int32_t entry, entry2;
	char name[256];
	char name2[4096];
	int64_t a, b, c;
	uint8_t blob[65536 + 64];
	uint32_t bloblen;
};

#define JH_GOFER_MAX_FRAME (sizeof(((struct jh_gofer_req *)0)->blob) + 8192)

/* msgpack encoding of requests and replies; pure, unit-tested. decode returns
 * -EBADMSG on anything malformed or oversized (never crashes). */
int jh_gofer_req_encode(const struct jh_gofer_req *q, void *buf, size_t cap);
int jh_gofer_req_decode(const void *buf, size_t len, struct jh_gofer_req *ret);
int jh_gofer_rep_encode(int32_t err, int64_t value, const void *blob, size_t bloblen, void *buf,
			size_t cap);
/* *ret_blob points into buf. */
int jh_gofer_rep_decode(const void *buf, size_t len, int32_t *ret_err, int64_t *ret_value,
			const void **ret_blob, size_t *ret_bloblen);

/* One entry of a run's change set (mirrors struct jh_audit_change). */
enum jh_change_op { JH_CHANGE_CREATED = 0, JH_CHANGE_CHANGED, JH_CHANGE_DELETED };

struct jh_change {
	enum jh_change_op op;
	char *path;   /* relative to the workspace, as stored (may hold any byte but NUL) */
	char sha256_hex[65]; /* "" when deleted */
};

struct jh_changes {
	struct jh_change *v;
	size_t n;
};
void jh_changes_free(struct jh_changes *c);
const char *jh_change_op_name(enum jh_change_op op);

struct jh_gofer_config {
	const struct jh_view *view; /* finished */
	const char *workspace;      /* host path of the workspace (a RW entry), or NULL */
	uint64_t quota_bytes;       /* 0: none */
	const char *emptydir;       /* host path of an empty directory (skeleton listings) */
	bool as_ids;                /* started as root: serve as uid/gid (no groups), so files
				     * belong to the sandbox's uid and its permissions apply */
	uid_t uid;
	gid_t gid;
};

struct jh_gofer;

/* --disk-quota reports: the gofer writes one uint64_t — the workspace's
 * usage in bytes, this bit set while it is at or past the quota — on `fd`
 * each time the workspace becomes full or stops being full (and once at the
 * start if it already is). Usage counts writes through fds the sandbox holds:
 * the gofer keeps an O_PATH fd of every workspace file it opened for writing
 * and sums their growth every few milliseconds. The supervisor lowers the
 * tasks' RLIMIT_FSIZE on it (platform/limits.h, JH_LIMITS_QUOTA_FULL is the
 * same bit). Set before jh_gofer_start(); the gofer keeps its own copy of fd
 * (it should be non-blocking: a word that does not fit is dropped). -1: none. */
#define JH_GOFER_QUOTA_FULL (1ull << 63)
void jh_gofer_set_quota_notify(int fd);

/* Starts the gofer (a grandchild: never our child, so the platform's teardown
 * of the task tree does not touch it) and receives the entry fds. *ret_fds is
 * malloc'd, one per view entry (-1 where none); *ret_emptyfd an empty dir. */
int jh_gofer_start(const struct jh_gofer_config *cfg, struct jh_gofer **ret, int **ret_fds,
		   int *ret_emptyfd);

/* Sends a request with up to two directory fds (-1: none) and waits for the
 * reply. Returns the reply's value (>= 0) or -errno; *ret_fd gets a received fd
 * (or -1) when ret_fd is not NULL. -EIO when the gofer is dead or stalled. */
int64_t jh_gofer_call(struct jh_gofer *g, const struct jh_gofer_req *q, int fd1, int fd2,
		      int *ret_fd);

/* True once the gofer died or broke the protocol. */
bool jh_gofer_dead(const struct jh_gofer *g);

/* Asks for the run's change set, then stops the gofer and frees g. */
int jh_gofer_finish(struct jh_gofer *g, struct jh_changes *ret);
/* Stops without a change set. */
void jh_gofer_stop(struct jh_gofer *g);

/* Runs the gofer's service loop on `sock` (used by jh_gofer_start's child; also
 * by tests). Never returns. */
void jh_gofer_main(const struct jh_gofer_config *cfg, int sock) __attribute__((noreturn));

/* --- Workspaces --- */

/* The state directory: $JHANSI_STATE_DIR, else $XDG_DATA_HOME/jhansi, else
 * ~/.local/share/jhansi, /var/lib/jhansi for root. Malloc'd. */
int jh_state_dir(char **ret);
/* Valid names: 1-64 of [A-Za-z0-9._-], not starting with '.'. */
bool jh_workspace_name_valid(const char *name);
/* Creates (if needed) and returns the canonical host path of workspace `name`. */
int jh_workspace_open(const char *name, char **ret_path);
/* Lists workspace names (malloc'd array of malloc'd strings). */
int jh_workspace_list(char ***ret, size_t *ret_n);
/* Removes workspace `name` and everything in it (without following symlinks). */
int jh_workspace_remove(const char *name);
/* Creates a private per-run directory under the state dir (for /tmp). */
int jh_run_tmpdir(char **ret_path);
/* Removes a tree beneath dirfd `parent` without following symlinks. */
int jh_rmtree_at(int parent, const char *name);

/* Parses "10M", "1G", "500k", "4096" into bytes. */
int jh_parse_size(const char *s, uint64_t *ret);

#endif
