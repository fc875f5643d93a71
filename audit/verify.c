/* Verification of the chain and signed checkpoints.
 *
 * The verifier trusts nothing stored but the rows' contents: it re-encodes
 * every record from runs/events/run_counts/run_changes, recomputes each hash
 * from the previous one, and compares with the stored hash. The first record
 * that differs is the first broken link: a changed field, a removed record or
 * run (a gap in positions), a swap. An attacker who recomputes the whole chain
 * after a change is caught by a signed checkpoint whose record then carries
 * another hash, or has disappeared. All of it runs in one read snapshot, so a
 * store being written by other processes verifies as of one instant.
 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit-internal.h"

JH_PRINTF(5, 6)
static int fail(struct jh_audit_verify_report *rep, int64_t seq, int64_t run, const char *where,
		const char *fmt, ...)
{
	va_list ap;

	rep->bad_seq = seq;
	rep->bad_run = run;
	snprintf(rep->where, sizeof(rep->where), "%s", where);
	va_start(ap, fmt);
	vsnprintf(rep->reason, sizeof(rep->reason), fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

static void describe(char *buf, size_t len, int64_t seq, int kind, int64_t run, int64_t idx,
		     const char *syscall)
{
	switch (kind) {
	case REC_EVENT:
		if (syscall)
			snprintf(buf, len, "record %lld (event %lld of run %lld, %.32s)",
				 (long long)seq, (long long)idx, (long long)run, syscall);
		else
			snprintf(buf, len, "record %lld (event of run %lld)", (long long)seq,
				 (long long)run);
		break;
	case REC_RUN_START:
		snprintf(buf, len, "record %lld (start of run %lld)", (long long)seq,
			 (long long)run);
		break;
	case REC_RUN_END:
		snprintf(buf, len, "record %lld (end of run %lld)", (long long)seq, (long long)run);
		break;
	default:
		snprintf(buf, len, "record %lld", (long long)seq);
	}
}

/* Encodes a run-start or run-end record at `seq` from the run row, or fails. */
static int encode_run_record(sqlite3 *db, msgpack_sbuffer *sb, struct jh_audit_verify_report *rep,
			     const char *where, int64_t seq, int kind, int64_t run)
{
	_cleanup_(jh_audit_run_record_freep) struct jh_audit_run_record *rec = NULL;
	int r;

	r = audit_store_load_run(db, run, &rec);
	if (r == -ENOENT)
		return fail(rep, seq, run, where, "the row of run %lld is missing", (long long)run);
	if (r == -EBADMSG)
		return fail(rep, seq, run, where, "the row of run %lld is malformed",
			    (long long)run);
	if (r < 0)
		return r;
	if (kind == REC_RUN_START) {
		if (rec->start_seq != seq)
			return fail(rep, seq, run, where,
				    "the run row puts its start at record %lld",
				    (long long)rec->start_seq);
		rep->runs++;
		return audit_enc_run_start(sb, seq, rec);
	}
	if (rec->state == JH_AUDIT_RUN_OPEN)
		return fail(rep, seq, run, where, "the run row says the run is still open");
	if (rec->end_seq != seq)
		return fail(rep, seq, run, where, "the run row puts its end at record %lld",
			    (long long)rec->end_seq);
	return audit_enc_run_end(sb, seq, rec);
}

static int walk_chain(sqlite3 *db, int64_t schema, EVP_MD_CTX *md,
		      struct jh_audit_verify_report *rep)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	_cleanup_sbuffer_ msgpack_sbuffer sb;
	uint8_t prev[JH_AUDIT_HASH_LEN] = {0}, hash[JH_AUDIT_HASH_LEN];
	int64_t expect = 1;
	char sql[400];
	int rc, r;

	msgpack_sbuffer_init(&sb);
	snprintf(sql, sizeof(sql),
		 "SELECT c.seq, c.kind, c.run_id, c.hash, e.seq IS NOT NULL, e.run_id, e.idx,"
		 " e.mono_ns, e.tid, e.cls, e.syscall, e.args, e.decision, e.result, e.err,"
		 " e.detail, %s FROM chain c LEFT JOIN events e ON e.seq = c.seq ORDER BY c.seq",
		 audit_sql_forensics(schema));
	r = audit_db_prepare(db, sql, &st);
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);
		int kind = sqlite3_column_int(st, 1);
		int64_t run = sqlite3_column_int64(st, 2);
		bool has_event = sqlite3_column_int(st, 4);
		const char *syscall = has_event ? audit_db_text(st, 10, NULL) : NULL;
		char where[128];

		describe(where, sizeof(where), seq, kind, run, sqlite3_column_int64(st, 6),
			 syscall);
		if (seq != expect) {
			if (seq < expect)
				return fail(rep, seq, run, where, "chain positions start at 1");
			if (seq == expect + 1)
				return fail(rep, seq, run, where,
					    "record %lld before it is missing", (long long)expect);
			return fail(rep, seq, run, where,
				    "records %lld to %lld before it are missing", (long long)expect,
				    (long long)seq - 1);
		}
		if (sqlite3_column_bytes(st, 3) != JH_AUDIT_HASH_LEN)
			return fail(rep, seq, run, where, "its stored hash is malformed");

		switch (kind) {
		case REC_EVENT: {
			if (!has_event)
				return fail(rep, seq, run, where, "its event row is missing");
			struct audit_enc_event ev = {
			    .run_id = sqlite3_column_int64(st, 5),
			    .idx = sqlite3_column_int64(st, 6),
			    .mono_ns = (uint64_t)sqlite3_column_int64(st, 7),
			    .tid = sqlite3_column_int(st, 8),
			    .cls = audit_db_text(st, 9, NULL),
			    .syscall = syscall,
			    .args = audit_db_text(st, 11, NULL),
			    .decision = audit_db_text(st, 12, NULL),
			    .result = sqlite3_column_int64(st, 13),
			    .err = sqlite3_column_int(st, 14),
			    .detail = audit_db_text(st, 15, NULL),
			    .stack = audit_db_text(st, 16, NULL),
			    .disasm = audit_db_text(st, 17, NULL),
			};
			if (ev.run_id != run)
				return fail(rep, seq, run, where,
					    "the chain puts it in run %lld, its row in run %lld",
					    (long long)run, (long long)ev.run_id);
			r = audit_enc_event(&sb, seq, &ev);
			break;
		}
		case REC_RUN_START:
		case REC_RUN_END:
			r = encode_run_record(db, &sb, rep, where, seq, kind, run);
			break;
		default:
			return fail(rep, seq, run, where, "unknown record kind %d", kind);
		}
		if (r < 0)
			return r;
		r = audit_chain_hash(md, prev, sb.data, sb.size, hash);
		if (r < 0)
			return r;
		if (memcmp(hash, sqlite3_column_blob(st, 3), JH_AUDIT_HASH_LEN) != 0)
			return fail(rep, seq, run, where,
				    "its content does not match its hash in the chain");
		memcpy(prev, hash, sizeof(prev));
		rep->records++;
		expect++;
	}
	if (rc != SQLITE_DONE)
		return audit_db_err(db, rc);
	rep->head.seq = expect - 1;
	memcpy(rep->head.hash, prev, sizeof(prev));
	return 0;
}

static int check_head(sqlite3 *db, struct jh_audit_verify_report *rep)
{
	uint8_t hash[JH_AUDIT_HASH_LEN];
	int64_t seq;
	int r;

	r = audit_chain_read_head(db, &seq, hash);
	if (r == -EBADMSG)
		return fail(rep, 0, 0, "head", "the head row is malformed");
	if (r < 0)
		return r;
	if (seq != rep->head.seq)
		return fail(rep, seq, 0, "head",
			    "the head names record %lld, the chain ends at record %lld",
			    (long long)seq, (long long)rep->head.seq);
	if (memcmp(hash, rep->head.hash, sizeof(hash)) != 0)
		return fail(rep, seq, 0, "head", "the head's hash differs from record %lld's",
			    (long long)seq);
	return 0;
}

/* Event rows outside the chain, and runs whose records are not in it. */
static int check_rows(sqlite3 *db, struct jh_audit_verify_report *rep)
{
	_cleanup_stmt_ sqlite3_stmt *ev = NULL, *runs = NULL;
	char where[64];
	int rc, r;

	r = audit_db_prepare(
	    db,
	    "SELECT e.seq, e.run_id FROM events e LEFT JOIN chain c ON c.seq = e.seq"
	    " WHERE c.seq IS NULL OR c.kind != 2 ORDER BY e.seq LIMIT 1",
	    &ev);
	if (r < 0)
		return r;
	rc = sqlite3_step(ev);
	if (rc == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(ev, 0), run = sqlite3_column_int64(ev, 1);
		snprintf(where, sizeof(where), "event row %lld of run %lld", (long long)seq,
			 (long long)run);
		return fail(rep, seq, run, where, "it is not in the chain");
	}
	if (rc != SQLITE_DONE)
		return audit_db_err(db, rc);

	r = audit_db_prepare(db,
			     "SELECT r.id, r.state, r.start_seq, r.end_seq,"
			     " NOT EXISTS (SELECT 1 FROM chain c WHERE c.seq = r.start_seq"
			     "  AND c.kind = 1 AND c.run_id = r.id)"
			     " FROM runs r WHERE"
			     " NOT EXISTS (SELECT 1 FROM chain c WHERE c.seq = r.start_seq"
			     "  AND c.kind = 1 AND c.run_id = r.id)"
			     " OR (r.state != 'open' AND NOT EXISTS (SELECT 1 FROM chain c"
			     "  WHERE c.seq = r.end_seq AND c.kind = 3 AND c.run_id = r.id))"
			     " ORDER BY r.id LIMIT 1",
			     &runs);
	if (r < 0)
		return r;
	rc = sqlite3_step(runs);
	if (rc == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(runs, 0);
		const char *state = audit_db_text(runs, 1, NULL);
		int64_t start = sqlite3_column_int64(runs, 2), end = sqlite3_column_int64(runs, 3);

		snprintf(where, sizeof(where), "run %lld", (long long)id);
		if (sqlite3_column_int(runs, 4))
			return fail(rep, start, id, where,
				    "its start record %lld is not in the chain", (long long)start);
		return fail(rep, end, id, where,
			    "it is marked %.16s but its end record %lld is not in the chain",
			    state ? state : "?", (long long)end);
	}
	return rc == SQLITE_DONE ? 0 : audit_db_err(db, rc);
}

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1; /* never prompt on a terminal */
}

static int load_key(const char *path, bool private, EVP_PKEY **ret)
{
	_cleanup_(jh_fclosep) FILE *f = fopen(path, "re");
	EVP_PKEY *k;

	if (!f)
		return jh_negerrno();
	k = private ? PEM_read_PrivateKey(f, NULL, no_passphrase, NULL)
		    : PEM_read_PUBKEY(f, NULL, no_passphrase, NULL);
	if (!k && !private) { /* a private key file holds the public key too */
		rewind(f);
		k = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
	}
	ERR_clear_error();
	if (!k)
		return -EKEYREJECTED;
	if (EVP_PKEY_get_base_id(k) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(k);
		return -EKEYREJECTED;
	}
	*ret = k;
	return 0;
}

static int key_id(EVP_PKEY *k, uint8_t out[JH_AUDIT_HASH_LEN])
{
	uint8_t raw[64];
	size_t len = sizeof(raw);

	if (EVP_PKEY_get_raw_public_key(k, raw, &len) != 1)
		return -EKEYREJECTED;
	return audit_sha256_bytes(raw, len, out);
}

static int check_checkpoints(sqlite3 *db, EVP_PKEY *pub, struct jh_audit_verify_report *rep)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL, *rec = NULL;
	_cleanup_sbuffer_ msgpack_sbuffer sb;
	uint8_t pub_id[JH_AUDIT_HASH_LEN];
	int rc, r;

	msgpack_sbuffer_init(&sb);
	if (pub) {
		r = key_id(pub, pub_id);
		if (r < 0)
			return r;
	}
	r = audit_db_prepare(
	    db, "SELECT id, seq, hash, wall_ns, key_id, signature FROM checkpoints ORDER BY id",
	    &st);
	if (r < 0)
		return r;
	r = audit_db_prepare(db, "SELECT hash FROM chain WHERE seq = ?", &rec);
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0), seq = sqlite3_column_int64(st, 1);
		const void *hash = sqlite3_column_blob(st, 2), *kid = sqlite3_column_blob(st, 4);
		const void *sig = sqlite3_column_blob(st, 5);
		size_t sig_len = (size_t)sqlite3_column_bytes(st, 5);
		char where[64];

		snprintf(where, sizeof(where), "checkpoint %lld", (long long)id);
		if (sqlite3_column_bytes(st, 2) != JH_AUDIT_HASH_LEN ||
		    sqlite3_column_bytes(st, 4) != JH_AUDIT_HASH_LEN)
			return fail(rep, seq, 0, where, "its row is malformed");
		sqlite3_reset(rec);
		sqlite3_bind_int64(rec, 1, seq);
		rc = sqlite3_step(rec);
		if (rc == SQLITE_DONE)
			return fail(rep, seq, 0, where,
				    "it signs record %lld, which is not in the chain (the chain "
				    "ends at record %lld)",
				    (long long)seq, (long long)rep->head.seq);
		if (rc != SQLITE_ROW)
			return audit_db_err(db, rc);
		if (sqlite3_column_bytes(rec, 0) != JH_AUDIT_HASH_LEN ||
		    memcmp(sqlite3_column_blob(rec, 0), hash, JH_AUDIT_HASH_LEN) != 0)
			return fail(rep, seq, 0, where,
				    "record %lld no longer has the hash it signed: the chain was "
				    "rewritten up to there",
				    (long long)seq);
		if (pub) {
			_cleanup_(jh_evp_md_ctx_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
			char want[JH_AUDIT_HEX_LEN], got[JH_AUDIT_HEX_LEN];

			if (memcmp(kid, pub_id, JH_AUDIT_HASH_LEN) != 0) {
				jh_audit_hex(kid, JH_AUDIT_HASH_LEN, got);
				jh_audit_hex(pub_id, JH_AUDIT_HASH_LEN, want);
				return fail(rep, seq, 0, where,
					    "it names key %.16s, not the given key %.16s", got,
					    want);
			}
			r = audit_enc_checkpoint_msg(&sb, seq, hash, sqlite3_column_int64(st, 3),
						     kid);
			if (r < 0)
				return r;
			if (!md)
				return -ENOMEM;
			if (EVP_DigestVerifyInit(md, NULL, NULL, NULL, pub) != 1)
				return -EIO;
			r = EVP_DigestVerify(md, sig, sig_len, (const uint8_t *)sb.data, sb.size);
			ERR_clear_error();
			if (r != 1)
				return fail(rep, seq, 0, where, "its signature does not verify");
		}
		rep->checkpoints++;
	}
	if (rc != SQLITE_DONE)
		return audit_db_err(db, rc);
	if (pub && rep->checkpoints == 0)
		return fail(rep, 0, 0, "checkpoints", "the store has none: nothing is signed");
	return 0;
}

/* The checks of jh_audit_verify(), inside the caller's snapshot. */
static int verify_in_snapshot(sqlite3 *db, int64_t schema, EVP_PKEY *pub,
			      struct jh_audit_verify_report *rep)
{
	_cleanup_(jh_evp_md_ctx_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
	int r;

	if (!md)
		return -ENOMEM;
	r = walk_chain(db, schema, md, rep);
	if (r < 0)
		return r;
	r = check_head(db, rep);
	if (r < 0)
		return r;
	r = check_rows(db, rep);
	if (r < 0)
		return r;
	return check_checkpoints(db, pub, rep);
}

int jh_audit_verify(struct jh_audit *a, const char *pubkey_path,
		    struct jh_audit_verify_report *report)
{
	_cleanup_(jh_evp_pkey_freep) EVP_PKEY *pub = NULL;
	_cleanup_txn_ sqlite3 *txn = NULL;
	int r;

	memset(report, 0, sizeof(*report));
	if (pubkey_path) {
		r = load_key(pubkey_path, false, &pub);
		if (r < 0)
			return r;
	}
	r = audit_db_begin_read(a->db, &txn);
	if (r < 0)
		return r;
	r = verify_in_snapshot(a->db, a->schema, pub, report);
	if (r < 0)
		return r;
	return audit_db_commit(&txn);
}

int jh_audit_checkpoint(struct jh_audit *a, const char *key_path, struct jh_audit_checkpoint *ret,
			struct jh_audit_verify_report *report)
{
	_cleanup_(jh_evp_pkey_freep) EVP_PKEY *key = NULL;
	_cleanup_(jh_evp_md_ctx_freep) EVP_MD_CTX *md = NULL;
	_cleanup_sbuffer_ msgpack_sbuffer sb;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	struct jh_audit_verify_report local;
	struct jh_audit_checkpoint cp = {0};
	uint8_t sig[128];
	size_t sig_len = sizeof(sig);
	int r, rc;

	msgpack_sbuffer_init(&sb);
	if (!report)
		report = &local;
	memset(report, 0, sizeof(*report));
	if (a->flags & JH_AUDIT_OPEN_READONLY)
		return -EROFS;
	r = load_key(key_path, true, &key);
	if (r < 0)
		return r;
	r = key_id(key, cp.key_id);
	if (r < 0)
		return r;

	/* Only a head that verifies is signed; records appended after the
	 * snapshot are left for the next checkpoint. */
	r = jh_audit_verify(a, NULL, report);
	if (r < 0)
		return r;
	if (report->head.seq == 0)
		return -ENODATA;
	cp.seq = report->head.seq;
	memcpy(cp.hash, report->head.hash, sizeof(cp.hash));
	cp.wall_ns = audit_now_ns(CLOCK_REALTIME);

	r = audit_enc_checkpoint_msg(&sb, cp.seq, cp.hash, cp.wall_ns, cp.key_id);
	if (r < 0)
		return r;
	md = EVP_MD_CTX_new();
	if (!md)
		return -ENOMEM;
	if (EVP_DigestSignInit(md, NULL, NULL, NULL, key) != 1 ||
	    EVP_DigestSign(md, sig, &sig_len, (const uint8_t *)sb.data, sb.size) != 1) {
		ERR_clear_error();
		return -EIO;
	}

	r = audit_db_prepare(a->db,
			     "INSERT INTO checkpoints (seq, hash, wall_ns, key_id, signature)"
			     " VALUES (?, ?, ?, ?, ?)",
			     &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, cp.seq);
	sqlite3_bind_blob(st, 2, cp.hash, sizeof(cp.hash), SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, cp.wall_ns);
	sqlite3_bind_blob(st, 4, cp.key_id, sizeof(cp.key_id), SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, sig, (int)sig_len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		return audit_db_err(a->db, rc);
	cp.id = sqlite3_last_insert_rowid(a->db);
	*ret = cp;
	return 0;
}
