/* The audit store: who ran what, when, with which prompt, under which policy,
 * and every mediated syscall, in one hash chain.
 *
 * The store is a sqlite3 database (WAL) at $STATE_DIR/audit.db. Everything in
 * it that matters is a *record* in one chain that runs across all runs: a
 * run-start record, one record per event, a run-end record. Each record has a
 * canonical encoding (msgpack, fixed field order, no floats; the layouts are
 * listed in audit/encode.c) and its hash is SHA-256(previous hash ||
 * encoding); the first record's previous hash is 32 zero bytes. An event
 * record covers the forensics of a refused call too (the task's stack and the
 * code at the call site), so they cannot be changed or removed unnoticed.
 * Removing, changing, reordering or inserting a record, or removing a whole
 * run, breaks the chain at that record. Signed checkpoints (Ed25519) pin the
 * head, so that an attacker who can rewrite the database but not the
 * key cannot recompute a chain that verifies up to a checkpoint.
 *
 * Writing: jh_audit_run_begin() writes the run row (state "open") and its
 * run-start record; the first event starts a writer thread (so that the
 * process is still single-threaded until then, e.g. when it forks). Events handed to the run's
 * sink are copied into a bounded in-memory queue; the writer commits them in
 * batches, one transaction a batch, taking the chain head inside a
 * BEGIN IMMEDIATE transaction, so several processes can write one store and
 * keep one valid chain. jh_audit_run_end() flushes the queue and appends the
 * run-end record; when it returns, the run and all its events are on disk
 * (fsync'd). A process killed mid-run loses at most its last uncommitted batch;
 * the chain stays valid and the next read-write open marks the run
 * "incomplete" with a chained run-end record.
 *
 * Use, as jhansi-exec does (--audit off: skip all of it, use no sink):
 *
 *	_cleanup_(jh_audit_closep) struct jh_audit *store = NULL;
 *	struct jh_audit_run *run;
 *	struct jh_sink sink;
 *	r = jh_audit_open(NULL, JH_AUDIT_OPEN_CREATE, &store);
 *	r = jh_audit_run_begin(store, &(struct jh_audit_run_info){ .actor = ..., }, &run);
 *	jh_audit_run_sink(run, &sink);          ... the sentry emits into it ...
 *	r = jh_audit_run_end(run, &(struct jh_audit_run_end){ .exit_status = 0 });
 *
 * Errors are -errno. The ones with a meaning of their own:
 *   -ENOENT            no store at the path (and JH_AUDIT_OPEN_CREATE not given)
 *   -EBADMSG           the file is not a jhansi audit store, or is corrupt
 *   -EPROTONOSUPPORT   the store's schema is newer than this build knows
 *   -EPROTO            a read-only open of a schema older than
 *                      JH_AUDIT_SCHEMA_OLDEST_READABLE (it needs migrating)
 *   -EROFS             a write on a store opened JH_AUDIT_OPEN_READONLY
 *   -EBUSY             the store stayed locked past the busy timeout (30 s)
 * Nothing here logs: callers decide what to print.
 *
 * Threads: a struct jh_audit is used by one thread at a time. A run's sink may
 * be called from any number of threads at once. Do not use a run in a child
 * after fork(); the store's fds are close-on-exec.
 *
 * Files: jh_audit_open() and jh_audit_run_begin() open the store's files;
 * from then on until jh_audit_run_end() the writer only does I/O, locking
 * (fcntl) and mmap on fds already open, so both belong before the sentry
 * installs its own seccomp filter. jh_audit_close() of the last connection
 * checkpoints the WAL and may unlink it.
 */
#ifndef JH_AUDIT_AUDIT_H
#define JH_AUDIT_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "audit/event.h"
#include "base/macro.h"

#define JH_AUDIT_SCHEMA_VERSION 2 /* PRAGMA user_version of a current store */
#define JH_AUDIT_HASH_LEN 32	  /* SHA-256 */
#define JH_AUDIT_HEX_LEN 65	  /* 64 hex digits and a NUL */

/* The oldest schema a read-only open reads as it is (a read-write open
 * migrates it first); version 1 stores hold no forensics. */
#define JH_AUDIT_SCHEMA_OLDEST_READABLE 1
/* Bytes kept of an event's stack and of its disassembly each, the NUL not
 * counted: a longer one is cut after its last whole line that fits, and a
 * line "..." is appended. */
#define JH_AUDIT_FORENSICS_MAX 8192

struct jh_audit;     /* an open store */
struct jh_audit_run; /* one run being recorded */

/* ---- where the store lives ------------------------------------------------ */

/* The state directory: $JHANSI_STATE_DIR, else $XDG_DATA_HOME/jhansi, else
 * /var/lib/jhansi for root, else $HOME/.local/share/jhansi (HOME from the
 * password database when unset). Relative XDG_DATA_HOME is ignored, as the XDG
 * spec says. With `create`, missing directories are made with mode 0700.
 * `*ret` is malloc'd. -ENOENT when no home directory can be found. */
int jh_audit_state_dir(bool create, char **ret);

/* The default store path, <state dir>/audit.db; `create` as above. */
int jh_audit_default_path(bool create, char **ret);

/* ---- opening --------------------------------------------------------------- */

enum {
	/* Create the store if missing: its directory (0700) and file (0600). */
	JH_AUDIT_OPEN_CREATE = 1 << 0,
	/* Never write: no schema migration, stale runs left as they are. For
	 * reading, verifying and exporting, also of a copy kept as evidence;
	 * an older schema (down to JH_AUDIT_SCHEMA_OLDEST_READABLE) is read as
	 * it is, with what it lacks read as absent. */
	JH_AUDIT_OPEN_READONLY = 1 << 1,
};

/* Opens the store at `db_path` (NULL: jh_audit_default_path()). A read-write
 * open creates the schema or migrates it to JH_AUDIT_SCHEMA_VERSION (a
 * migration adds tables and columns, never rewrites a record, so the chain
 * verifies as before), and marks
 * runs left "open" by a writer process that no longer exists as "incomplete"
 * (appending their run-end records). Errors as listed above. */
int jh_audit_open(const char *db_path, unsigned flags, struct jh_audit **ret);
void jh_audit_close(struct jh_audit *a);
JH_DEFINE_TRIVIAL_CLEANUP(struct jh_audit *, jh_audit_close, jh_audit_closep)

/* The path the store was opened at; owned by `a`. */
const char *jh_audit_path(const struct jh_audit *a);

/* ---- recording a run -------------------------------------------------------- */

enum jh_audit_prompt_record {
	JH_AUDIT_PROMPT_NONE = 0, /* no trace of the prompt */
	JH_AUDIT_PROMPT_DIGEST,	  /* its SHA-256 only */
	JH_AUDIT_PROMPT_FULL,	  /* its text and its SHA-256 */
};
/* "none", "digest", "full"; from_name returns the enum or -EINVAL. */
const char *jh_audit_prompt_record_name(enum jh_audit_prompt_record p);
int jh_audit_prompt_record_from_name(const char *name);

/* What is known when a run starts. Every string may be NULL (recorded as
 * absent) and is copied; nothing is kept after jh_audit_run_begin() returns. */
struct jh_audit_run_info {
	const char *actor; /* --actor ID: who asked for the run (agent, user, ticket) */
	const char *user;  /* user name of `uid` */
	const char *host;  /* host name */
	uint32_t uid;
	const char *const *argv;    /* NULL-terminated; NULL: no arguments */
	const char *exe_path;	    /* resolved executable */
	const char *exe_sha256_hex; /* its content hash (jh_audit_file_sha256_hex) */
	const char *cwd;
	const char *env_digest_hex; /* jh_audit_env_digest_hex() of the sandbox's environment */
	const char *prompt;	    /* the prompt, kept as prompt_record says */
	int prompt_record;	    /* enum jh_audit_prompt_record */
	const char *policy_text;    /* canonical policy text; the store hashes it */
	const char *platform;	    /* "unotify", "ptrace" */
	const char *layers;	    /* protection layers in force: "seccomp,landlock,userns" */
	const char *workspace;	    /* workspace name */
	int64_t start_wall_ns;	    /* CLOCK_REALTIME; 0: now */
	int64_t start_mono_ns;	    /* CLOCK_MONOTONIC, the base of event times; 0: now */
};

/* Starts recording a run: writes the run row and its run-start record (one
 * committed transaction); the writer thread starts with the first event. The run has its own
 * database connection, so one store may record several runs at once.
 * -EROFS if `a` was opened read-only. */
int jh_audit_run_begin(struct jh_audit *a, const struct jh_audit_run_info *info,
		       struct jh_audit_run **ret);

/* Fills `*ret` with the run's sink. Its emit() copies the event into the
 * run's queue and returns; it never waits on disk, only (briefly) on the
 * writer when the queue is full (16384 events or 8 MiB of text), so nothing is
 * lost. Strings longer than 16 KiB are cut, ending in "..."; an event's stack
 * and disassembly are cut at JH_AUDIT_FORENSICS_MAX, and kept as absent (NULL)
 * when empty. emit() is
 * thread-safe; it must not be called once jh_audit_run_end() has started. */
void jh_audit_run_sink(struct jh_audit_run *r, struct jh_sink *ret);

/* The run's id in the store (> 0). */
int64_t jh_audit_run_id(const struct jh_audit_run *r);

/* One entry of a run's workspace change set. */
enum jh_audit_change_op {
	JH_AUDIT_CHANGE_CREATED = 0,
	JH_AUDIT_CHANGE_CHANGED,
	JH_AUDIT_CHANGE_DELETED,
};
/* "created", "changed", "deleted"; from_name returns the enum or -EINVAL. */
const char *jh_audit_change_op_name(enum jh_audit_change_op op);
int jh_audit_change_op_from_name(const char *name);

struct jh_audit_change {
	enum jh_audit_change_op op;
	const char *path;	/* relative to the workspace */
	const char *sha256_hex; /* content after the run; NULL when deleted */
};

/* How a run ended. The per-class counts of mediated and refused calls are
 * derived by the store from the run's events. */
struct jh_audit_run_end {
	int exit_status;     /* exit status when the program exited, else -1 */
	int term_signal;     /* signal that killed it, else 0 */
	bool timed_out;	     /* killed for exceeding its time limit */
	bool sentry_failed;  /* the sentry failed; the program's end is not its own */
	const char *reason;  /* free text on failures, or NULL */
	int64_t end_wall_ns; /* CLOCK_REALTIME; 0: now */
	int64_t duration_ns; /* CLOCK_MONOTONIC duration; 0: now - start_mono_ns */
	const struct jh_audit_change *changes; /* workspace change set, may be NULL */
	size_t n_changes;
};

/* Ends the run: stops the writer after it committed every queued event, then
 * appends the run-end record and fsyncs, so all of the run is durable on
 * return. Always frees `r`. Returns 0, or the first error the writer or the
 * end hit (-ESTALE: another process marked the run incomplete meanwhile).
 * Events emitted after a write error are counted in the record as lost. */
int jh_audit_run_end(struct jh_audit_run *r, const struct jh_audit_run_end *end);

/* ---- reading ------------------------------------------------------------------ */

enum jh_audit_run_state {
	JH_AUDIT_RUN_OPEN = 0,	 /* being written, or its writer died and no open has noticed */
	JH_AUDIT_RUN_COMPLETE,	 /* ended by jh_audit_run_end() */
	JH_AUDIT_RUN_INCOMPLETE, /* its writer died; ended by a later open */
};
/* "open", "complete", "incomplete"; from_name returns the enum or -EINVAL. */
const char *jh_audit_run_state_name(enum jh_audit_run_state s);
int jh_audit_run_state_from_name(const char *name);

struct jh_audit_count {
	char *cls;	   /* syscall class */
	uint64_t mediated; /* allowed, emulated (and passed, in full-trace mode) */
	uint64_t refused;  /* denied or killed */
};

/* A run as stored. Every pointer is owned by the record; strings may be NULL. */
struct jh_audit_run_record {
	int64_t id;
	enum jh_audit_run_state state;
	bool writer_gone;  /* state is OPEN but its writer process no longer exists */
	int64_t start_seq; /* chain position of the run-start record */
	int64_t end_seq;   /* chain position of the run-end record, 0 while open */

	char *actor, *user, *host;
	uint32_t uid;
	char **argv; /* NULL-terminated */
	size_t argc;
	char *exe_path, *exe_sha256, *cwd, *env_sha256;
	enum jh_audit_prompt_record prompt_record;
	char *prompt;	     /* text, only with JH_AUDIT_PROMPT_FULL */
	char *prompt_sha256; /* with FULL and DIGEST */
	char *policy_text, *policy_sha256;
	char *platform, *layers, *workspace;
	int64_t start_wall_ns, start_mono_ns;

	/* Valid once state is not OPEN. */
	int exit_status, term_signal;
	bool timed_out, sentry_failed;
	char *reason;
	int64_t end_wall_ns, duration_ns;
	uint64_t n_events;    /* events committed */
	uint64_t lost_events; /* events emitted but never committed (after a write error) */
	struct jh_audit_count *counts; /* sorted by class */
	size_t n_counts;
	struct jh_audit_change *changes; /* strings owned by the record */
	size_t n_changes;
};

/* Loads run `id`; -ENOENT when there is none. */
int jh_audit_get_run(struct jh_audit *a, int64_t id, struct jh_audit_run_record **ret);
void jh_audit_run_record_free(struct jh_audit_run_record *rec);
JH_DEFINE_TRIVIAL_CLEANUP(struct jh_audit_run_record *, jh_audit_run_record_free,
			  jh_audit_run_record_freep)

/* Callbacks return 0 to go on, > 0 to stop (the foreach returns 0), or a
 * -errno to stop and have the foreach return it. The record lives for the call. */
typedef int (*jh_audit_run_fn)(const struct jh_audit_run_record *rec, void *userdata);

/* Calls `fn` for each run that started at or after `since_wall_ns`, oldest
 * first; with `limit` > 0 only the newest `limit` of them. */
int jh_audit_foreach_run(struct jh_audit *a, int64_t since_wall_ns, int64_t limit,
			 jh_audit_run_fn fn, void *userdata);

struct jh_audit_event_record {
	int64_t seq; /* chain position */
	int64_t run_id;
	int64_t idx;	    /* 0, 1, ... within the run, in emit order */
	struct jh_event ev; /* strings live for the callback; stack and disasm
			     * are NULL when the event has none */
	const char
	    *decision; /* as stored: "denied" ...; ev.decision is JH_DECISION_COUNT if unknown */
};
typedef int (*jh_audit_event_fn)(const struct jh_audit_event_record *rec, void *userdata);

/* Selects events: NULL-terminated lists of class names and decision names;
 * a NULL list matches everything. */
struct jh_audit_event_filter {
	const char *const *classes;
	const char *const *decisions;
};

/* Calls `fn` for each event of run `run_id` (0: of every run) in chain order
 * that passes `filter` (NULL: all). */
int jh_audit_foreach_event(struct jh_audit *a, int64_t run_id,
			   const struct jh_audit_event_filter *filter, jh_audit_event_fn fn,
			   void *userdata);

/* ---- the chain --------------------------------------------------------------- */

struct jh_audit_head {
	int64_t seq;			 /* position of the newest record; 0 for an empty chain */
	uint8_t hash[JH_AUDIT_HASH_LEN]; /* its hash; zeros for an empty chain */
};
/* The newest record of the chain. */
int jh_audit_head(struct jh_audit *a, struct jh_audit_head *ret);

struct jh_audit_checkpoint {
	int64_t id;
	int64_t seq; /* the head it signs */
	uint8_t hash[JH_AUDIT_HASH_LEN];
	int64_t wall_ns;		   /* when it was signed */
	uint8_t key_id[JH_AUDIT_HASH_LEN]; /* SHA-256 of the raw Ed25519 public key */
};

struct jh_audit_verify_report;

/* Verifies the chain (as jh_audit_verify() without a key: a checkpoint must
 * not bless a broken chain), then signs the head it verified with the Ed25519
 * private key in PEM file `key_path` (EVP_DigestSign, no digest) and stores
 * the signature. The signed message is the msgpack array
 * ["jhansi-audit checkpoint", 1, seq, hash, wall_ns, key_id].
 * -EBADMSG when the chain is broken (`report`, if non-NULL, says where);
 * -ENODATA for an empty chain; -EKEYREJECTED when the file holds no Ed25519
 * private key; -errno of opening the file. */
int jh_audit_checkpoint(struct jh_audit *a, const char *key_path, struct jh_audit_checkpoint *ret,
			struct jh_audit_verify_report *report);

/* What verification found. Cleared by jh_audit_verify(), then filled in;
 * `where` is non-empty exactly when a break was found. */
struct jh_audit_verify_report {
	uint64_t records;     /* chain records checked */
	uint64_t runs;	      /* runs found */
	uint64_t checkpoints; /* checkpoints checked (their signatures too with a key) */
	struct jh_audit_head head;
	/* When broken: the first break found, in chain order; then the head,
	 * rows outside the chain, runs, checkpoints. */
	int64_t bad_seq;  /* the record, or 0 when the break is not one record */
	int64_t bad_run;  /* its run, or 0 */
	char where[128];  /* "record 57 (event 3 of run 2)", "checkpoint 1", "run 4" */
	char reason[256]; /* "its content does not match its chained hash" */
};

/* Recomputes the whole chain from the stored rows, in one read snapshot, and
 * checks the head, that every event and run row is in the chain, and every
 * checkpoint: that the record it signs is there with the signed hash and, with
 * `pubkey_path` (a PEM public key, or private key), that its signature is
 * valid under that key. With a key, a store without checkpoints fails.
 * Returns 0 when intact, -EBADMSG when broken (`report->where` says where;
 * when it is empty, sqlite found the file itself corrupt), other -errno when
 * the store or key could not be read (-EKEYREJECTED: not an Ed25519 key). */
int jh_audit_verify(struct jh_audit *a, const char *pubkey_path,
		    struct jh_audit_verify_report *report);

/* ---- export -------------------------------------------------------------------- */

/* Writes runs that started at or after `since_wall_ns`, each followed by its
 * events, as JSON lines: {"type":"run",...} and {"type":"event",...}, with
 * chain positions and hashes, times as RFC 3339 UTC and as nanoseconds, an
 * event's wall time derived from its run's start, and its forensics as
 * "stack" and "disasm" (text, one frame or instruction a line; null when
 * none). Bytes that are not UTF-8
 * are written as the text \xNN. -EIO when writing to `out` failed. */
int jh_audit_export_jsonl(struct jh_audit *a, int64_t since_wall_ns, FILE *out);

/* ---- helpers ------------------------------------------------------------------- */

/* Lowercase hex of `n` bytes into `out` (2n+1 bytes). */
void jh_audit_hex(const uint8_t *bytes, size_t n, char *out);
/* SHA-256 of a buffer, as hex. */
void jh_audit_sha256_hex(const void *data, size_t len, char out[JH_AUDIT_HEX_LEN]);
/* SHA-256 of a file's content, as hex; -errno. */
int jh_audit_file_sha256_hex(const char *path, char out[JH_AUDIT_HEX_LEN]);
/* Digest of an environment: SHA-256 over its NAME=VALUE entries sorted
 * bytewise, each followed by a NUL. Pass the environment the sandbox sees
 * (secrets there are placeholders), never the real secret values. */
void jh_audit_env_digest_hex(const char *const *envp, char out[JH_AUDIT_HEX_LEN]);

#endif
