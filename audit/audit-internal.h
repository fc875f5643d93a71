/* Shared inside audit/ only: the store handle, sqlite and msgpack helpers, the
 * canonical encodings and the chain step. Never included from outside audit/. */
#ifndef JH_AUDIT_AUDIT_INTERNAL_H
#define JH_AUDIT_AUDIT_INTERNAL_H

#include <msgpack.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "audit/audit.h"
#include "base/macro.h"

#define JH_AUDIT_APP_ID 0x4a484155 /* PRAGMA application_id: "JHAU" */
#define JH_AUDIT_BUSY_TIMEOUT_MS 30000
/* The first element of every encoded record: 1 for every record but an event
 * that carries forensics, which is 2 (see audit/encode.c). */
#define JH_AUDIT_ENC_VERSION 1
#define JH_AUDIT_ENC_VERSION_FORENSICS 2

/* Kinds of chain records (chain.kind and the encoding's second element). */
enum {
	REC_RUN_START = 1,
	REC_EVENT = 2,
	REC_RUN_END = 3,
};

struct jh_audit {
	sqlite3 *db;
	char *path;
	unsigned flags;
	int64_t schema; /* the store's user_version: older than current only read-only */
};

/* The select list for an event row's forensics, on events aliased `e`: a
 * version-1 store (read-only) has no such columns and reads them as absent. */
static inline const char *audit_sql_forensics(int64_t schema)
{
	return schema >= 2 ? "e.stack, e.disasm" : "NULL, NULL";
}

JH_DEFINE_TRIVIAL_CLEANUP(sqlite3_stmt *, sqlite3_finalize, jh_sqlite3_finalizep)
JH_DEFINE_TRIVIAL_CLEANUP(sqlite3 *, sqlite3_close, jh_sqlite3_closep)
JH_DEFINE_TRIVIAL_CLEANUP(EVP_MD_CTX *, EVP_MD_CTX_free, jh_evp_md_ctx_freep)
JH_DEFINE_TRIVIAL_CLEANUP(EVP_PKEY *, EVP_PKEY_free, jh_evp_pkey_freep)
JH_DEFINE_TRIVIAL_CLEANUP(FILE *, fclose, jh_fclosep)
#define _cleanup_stmt_ _cleanup_(jh_sqlite3_finalizep)

static inline void jh_sbuffer_destroyp(msgpack_sbuffer *sb)
{
	msgpack_sbuffer_destroy(sb);
}
#define _cleanup_sbuffer_ _cleanup_(jh_sbuffer_destroyp)

/* A write transaction that rolls back at scope exit unless committed
 * (audit_db_commit() takes the pointer). Declare it before the statements it uses,
 * so that they are finalized first. */
static inline void jh_txn_rollbackp(sqlite3 **db)
{
	if (*db)
		sqlite3_exec(*db, "ROLLBACK", NULL, NULL, NULL);
}
#define _cleanup_txn_ _cleanup_(jh_txn_rollbackp)

/* ---- sqlite helpers (store.c) ---- */

/* -errno for a sqlite result code (extended or primary). */
int audit_db_err(sqlite3 *db, int rc);
int audit_db_exec(sqlite3 *db, const char *sql);
int audit_db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret);
/* BEGIN IMMEDIATE / BEGIN; on success *ret = db for a _cleanup_txn_ variable. */
int audit_db_begin_immediate(sqlite3 *db, sqlite3 **ret);
int audit_db_begin_read(sqlite3 *db, sqlite3 **ret);
int audit_db_commit(sqlite3 **txn);
int audit_db_bind_text(sqlite3_stmt *st, int i, const char *s);
/* Column text or NULL for SQL NULL (length in *len if non-NULL). */
const char *audit_db_text(sqlite3_stmt *st, int col, size_t *len);

/* Opens a connection with the store's pragmas (WAL, busy timeout ...). */
int audit_db_open_conn(const char *path, bool readonly, sqlite3 **ret);

/* ---- chain (encode.c) ---- */

/* SHA-256(prev || enc[0..len)) into out. ctx is reused. -ENOMEM/-EIO. */
int audit_chain_hash(EVP_MD_CTX *ctx, const uint8_t prev[JH_AUDIT_HASH_LEN], const void *enc,
		     size_t len, uint8_t out[JH_AUDIT_HASH_LEN]);
/* SHA-256 of a buffer. -EIO/-ENOMEM. */
int audit_sha256_bytes(const void *data, size_t len, uint8_t out[JH_AUDIT_HASH_LEN]);
/* The head row inside the caller's transaction: seq 0 and zeros when empty. */
int audit_chain_read_head(sqlite3 *db, int64_t *seq, uint8_t hash[JH_AUDIT_HASH_LEN]);
int audit_chain_write_head(sqlite3 *db, int64_t seq, const uint8_t hash[JH_AUDIT_HASH_LEN]);
/* The newest chain record (not the head row): seq 0 when empty. */
int audit_chain_last(sqlite3 *db, struct jh_audit_head *ret);

/* The fields of one event as encoded, whether they come from the queue or a row. */
struct audit_enc_event {
	int64_t run_id, idx;
	uint64_t mono_ns;
	int32_t tid;
	const char *cls, *syscall, *args, *decision, *detail;
	int64_t result;
	int32_t err;
	const char *stack, *disasm; /* forensics, NULL when none */
};

/* Canonical encodings into `sb` (cleared first). Pure. */
int audit_enc_event(msgpack_sbuffer *sb, int64_t seq, const struct audit_enc_event *e);
int audit_enc_run_start(msgpack_sbuffer *sb, int64_t seq, const struct jh_audit_run_record *r);
int audit_enc_run_end(msgpack_sbuffer *sb, int64_t seq, const struct jh_audit_run_record *r);
int audit_enc_checkpoint_msg(msgpack_sbuffer *sb, int64_t seq,
			     const uint8_t hash[JH_AUDIT_HASH_LEN], int64_t wall_ns,
			     const uint8_t key_id[JH_AUDIT_HASH_LEN]);

/* ---- runs (store.c) ---- */

int audit_store_load_run(sqlite3 *db, int64_t id, struct jh_audit_run_record **ret);
/* Encodes run `id`'s record of `kind` (start or end) at `seq` from what the
 * store now holds, chains it after `prev`, writes the chain row and the head.
 * Inside the caller's write transaction. */
int audit_store_chain_run_record(sqlite3 *db, EVP_MD_CTX *md, int64_t id, int kind, int64_t seq,
				 const uint8_t prev[JH_AUDIT_HASH_LEN]);
/* Appends run `run_id`'s end inside the caller's write transaction: counts,
 * changes, the row's end columns, the run-end record. -ESTALE if the run is
 * not open. */
int audit_store_append_run_end(sqlite3 *db, EVP_MD_CTX *md, int64_t run_id,
			       enum jh_audit_run_state state, const struct jh_audit_run_end *end,
			       uint64_t lost_events);

/* Who writes a run, to tell later whether that process still exists. */
struct writer_id {
	char boot[40];	/* /proc/sys/kernel/random/boot_id */
	uint64_t pidns; /* inode of /proc/self/ns/pid */
	int64_t pid;
	uint64_t start; /* start time of pid, in clock ticks since boot */
};
int audit_writer_id_self(struct writer_id *ret);
/* True only when sure the writer is gone: another boot, or same boot and pid
 * namespace and no such process (or another one with that pid). */
bool audit_writer_id_gone(const struct writer_id *w);

int64_t audit_now_ns(int clock);

#endif
