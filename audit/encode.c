/* The canonical encodings of chain records and the chain step.
 *
 * A record is a msgpack array whose fields come in a fixed order: format
 * version, kind, chain position, run id, then the kind's fields. Integers are
 * packed by msgpack-c in their shortest form (a function of the value), absent
 * strings are nil, there are no maps and no floats: one record has exactly one
 * encoding. A record's hash is SHA-256(previous hash || encoding). The writer
 * and the verifier both encode through these functions, from the same struct
 * the store loads, so what is written is what is checked.
 *
 * The layouts (tests/audit/encoding_spec.py implements them again):
 *   run start  [1, 1, seq, run, actor, user, host, uid, [argv...], exe_path,
 *               exe_sha256, cwd, env_sha256, prompt_record, prompt,
 *               prompt_sha256, policy, policy_sha256, platform, layers,
 *               workspace, start_wall_ns, start_mono_ns]
 *   event      [1, 2, seq, run, idx, mono_ns, tid, class, syscall, args,
 *               decision, result, err, detail]
 *   event with forensics (store schema 2 on)
 *              [2, 2, seq, run, idx, mono_ns, tid, class, syscall, args,
 *               decision, result, err, detail, stack, disasm]
 *   run end    [1, 3, seq, run, state, exit_status, term_signal, timed_out,
 *               sentry_failed, reason, end_wall_ns, duration_ns, n_events,
 *               lost_events, [[class, mediated, refused]...],
 *               [[op, path, sha256]...]]
 * An event has forensics when its stack or its disassembly is present (either
 * may then be nil). The format version follows from the record's content, so
 * every record written before forensics existed keeps its encoding and hash:
 * a store of schema 1 verifies unchanged after its migration, and removing an
 * event's forensics (or adding some) changes its encoding and breaks the chain.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit-internal.h"

static const EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *sha256(void)
{
	pthread_once(&sha256_once, sha256_fetch);
	return sha256_md;
}

int64_t audit_now_ns(int clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void jh_audit_hex(const uint8_t *bytes, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * n] = '\0';
}

static int digest_init(EVP_MD_CTX *ctx)
{
	const EVP_MD *md = sha256();

	if (!md || EVP_DigestInit_ex(ctx, md, NULL) != 1)
		return -EIO;
	return 0;
}

int audit_sha256_bytes(const void *data, size_t len, uint8_t out[JH_AUDIT_HASH_LEN])
{
	_cleanup_(jh_evp_md_ctx_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx)
		return -ENOMEM;
	if (digest_init(ctx) < 0 || EVP_DigestUpdate(ctx, data, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, NULL) != 1)
		return -EIO;
	return 0;
}

void jh_audit_sha256_hex(const void *data, size_t len, char out[JH_AUDIT_HEX_LEN])
{
	uint8_t h[JH_AUDIT_HASH_LEN] = {0};

	if (audit_sha256_bytes(data, len, h) < 0)
		memset(h, 0, sizeof(h));
	jh_audit_hex(h, sizeof(h), out);
}

int jh_audit_file_sha256_hex(const char *path, char out[JH_AUDIT_HEX_LEN])
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_(jh_evp_md_ctx_freep) EVP_MD_CTX *ctx = NULL;
	uint8_t h[JH_AUDIT_HASH_LEN];
	char buf[65536];
	ssize_t n;

	if (fd < 0)
		return jh_negerrno();
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	if (digest_init(ctx) < 0)
		return -EIO;
	while ((n = JH_RETRY_EINTR(read(fd, buf, sizeof(buf)))) > 0)
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
			return -EIO;
	if (n < 0)
		return jh_negerrno();
	if (EVP_DigestFinal_ex(ctx, h, NULL) != 1)
		return -EIO;
	jh_audit_hex(h, sizeof(h), out);
	return 0;
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void jh_audit_env_digest_hex(const char *const *envp, char out[JH_AUDIT_HEX_LEN])
{
	_cleanup_(jh_evp_md_ctx_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	_cleanup_free_ const char **sorted = NULL;
	uint8_t h[JH_AUDIT_HASH_LEN] = {0};
	size_t n = 0;

	while (envp && envp[n])
		n++;
	sorted = calloc(n + 1, sizeof(*sorted));
	if (!ctx || !sorted || digest_init(ctx) < 0) {
		jh_audit_hex(h, sizeof(h), out);
		return;
	}
	if (n)
		memcpy(sorted, envp, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_strp);
	for (size_t i = 0; i < n; i++)
		EVP_DigestUpdate(ctx, sorted[i], strlen(sorted[i]) + 1);
	EVP_DigestFinal_ex(ctx, h, NULL);
	jh_audit_hex(h, sizeof(h), out);
}

int audit_chain_hash(EVP_MD_CTX *ctx, const uint8_t prev[JH_AUDIT_HASH_LEN], const void *enc,
		     size_t len, uint8_t out[JH_AUDIT_HASH_LEN])
{
	if (digest_init(ctx) < 0 || EVP_DigestUpdate(ctx, prev, JH_AUDIT_HASH_LEN) != 1 ||
	    EVP_DigestUpdate(ctx, enc, len) != 1 || EVP_DigestFinal_ex(ctx, out, NULL) != 1)
		return -EIO;
	return 0;
}

/* ---- msgpack ---- */

static int pack_str(msgpack_packer *pk, const char *s)
{
	size_t n;

	if (!s)
		return msgpack_pack_nil(pk);
	n = strlen(s);
	if (msgpack_pack_str(pk, n) < 0)
		return -1;
	return msgpack_pack_str_body(pk, s, n);
}

static int pack_bool(msgpack_packer *pk, bool b)
{
	return b ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
}

static int pack_bin(msgpack_packer *pk, const uint8_t *b, size_t n)
{
	if (msgpack_pack_bin(pk, n) < 0)
		return -1;
	return msgpack_pack_bin_body(pk, b, n);
}

/* Every pack call below returns 0 or -1 (out of memory); they are OR-ed. */
static int pack_header(msgpack_packer *pk, size_t nfields, int version, int kind, int64_t seq,
		       int64_t run_id)
{
	return msgpack_pack_array(pk, nfields) | msgpack_pack_int(pk, version) |
	       msgpack_pack_int(pk, kind) | msgpack_pack_int64(pk, seq) |
	       msgpack_pack_int64(pk, run_id);
}

int audit_enc_event(msgpack_sbuffer *sb, int64_t seq, const struct audit_enc_event *e)
{
	bool forensics = e->stack || e->disasm;
	msgpack_packer pk;
	int r;

	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	r = pack_header(&pk, forensics ? 16 : 14,
			forensics ? JH_AUDIT_ENC_VERSION_FORENSICS : JH_AUDIT_ENC_VERSION,
			REC_EVENT, seq, e->run_id);
	r |= msgpack_pack_int64(&pk, e->idx);
	r |= msgpack_pack_uint64(&pk, e->mono_ns);
	r |= msgpack_pack_int32(&pk, e->tid);
	r |= pack_str(&pk, e->cls);
	r |= pack_str(&pk, e->syscall);
	r |= pack_str(&pk, e->args);
	r |= pack_str(&pk, e->decision);
	r |= msgpack_pack_int64(&pk, e->result);
	r |= msgpack_pack_int32(&pk, e->err);
	r |= pack_str(&pk, e->detail);
	if (forensics) {
		r |= pack_str(&pk, e->stack);
		r |= pack_str(&pk, e->disasm);
	}
	return r ? -ENOMEM : 0;
}

int audit_enc_run_start(msgpack_sbuffer *sb, int64_t seq, const struct jh_audit_run_record *rr)
{
	msgpack_packer pk;
	int r;

	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	r = pack_header(&pk, 23, JH_AUDIT_ENC_VERSION, REC_RUN_START, seq, rr->id);
	r |= pack_str(&pk, rr->actor);
	r |= pack_str(&pk, rr->user);
	r |= pack_str(&pk, rr->host);
	r |= msgpack_pack_uint32(&pk, rr->uid);
	r |= msgpack_pack_array(&pk, rr->argc);
	for (size_t i = 0; i < rr->argc; i++)
		r |= pack_str(&pk, rr->argv[i]);
	r |= pack_str(&pk, rr->exe_path);
	r |= pack_str(&pk, rr->exe_sha256);
	r |= pack_str(&pk, rr->cwd);
	r |= pack_str(&pk, rr->env_sha256);
	r |= pack_str(&pk, jh_audit_prompt_record_name(rr->prompt_record));
	r |= pack_str(&pk, rr->prompt);
	r |= pack_str(&pk, rr->prompt_sha256);
	r |= pack_str(&pk, rr->policy_text);
	r |= pack_str(&pk, rr->policy_sha256);
	r |= pack_str(&pk, rr->platform);
	r |= pack_str(&pk, rr->layers);
	r |= pack_str(&pk, rr->workspace);
	r |= msgpack_pack_int64(&pk, rr->start_wall_ns);
	r |= msgpack_pack_int64(&pk, rr->start_mono_ns);
	return r ? -ENOMEM : 0;
}

int audit_enc_run_end(msgpack_sbuffer *sb, int64_t seq, const struct jh_audit_run_record *rr)
{
	msgpack_packer pk;
	int r;

	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	r = pack_header(&pk, 16, JH_AUDIT_ENC_VERSION, REC_RUN_END, seq, rr->id);
	r |= pack_str(&pk, jh_audit_run_state_name(rr->state));
	r |= msgpack_pack_int(&pk, rr->exit_status);
	r |= msgpack_pack_int(&pk, rr->term_signal);
	r |= pack_bool(&pk, rr->timed_out);
	r |= pack_bool(&pk, rr->sentry_failed);
	r |= pack_str(&pk, rr->reason);
	r |= msgpack_pack_int64(&pk, rr->end_wall_ns);
	r |= msgpack_pack_int64(&pk, rr->duration_ns);
	r |= msgpack_pack_uint64(&pk, rr->n_events);
	r |= msgpack_pack_uint64(&pk, rr->lost_events);
	r |= msgpack_pack_array(&pk, rr->n_counts);
	for (size_t i = 0; i < rr->n_counts; i++) {
		r |= msgpack_pack_array(&pk, 3);
		r |= pack_str(&pk, rr->counts[i].cls);
		r |= msgpack_pack_uint64(&pk, rr->counts[i].mediated);
		r |= msgpack_pack_uint64(&pk, rr->counts[i].refused);
	}
	r |= msgpack_pack_array(&pk, rr->n_changes);
	for (size_t i = 0; i < rr->n_changes; i++) {
		r |= msgpack_pack_array(&pk, 3);
		r |= pack_str(&pk, jh_audit_change_op_name(rr->changes[i].op));
		r |= pack_str(&pk, rr->changes[i].path);
		r |= pack_str(&pk, rr->changes[i].sha256_hex);
	}
	return r ? -ENOMEM : 0;
}

int audit_enc_checkpoint_msg(msgpack_sbuffer *sb, int64_t seq,
			     const uint8_t hash[JH_AUDIT_HASH_LEN], int64_t wall_ns,
			     const uint8_t key_id[JH_AUDIT_HASH_LEN])
{
	msgpack_packer pk;
	int r;

	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	r = msgpack_pack_array(&pk, 6);
	r |= pack_str(&pk, "jhansi-audit checkpoint");
	r |= msgpack_pack_int(&pk, 1);
	r |= msgpack_pack_int64(&pk, seq);
	r |= pack_bin(&pk, hash, JH_AUDIT_HASH_LEN);
	r |= msgpack_pack_int64(&pk, wall_ns);
	r |= pack_bin(&pk, key_id, JH_AUDIT_HASH_LEN);
	return r ? -ENOMEM : 0;
}

/* ---- head ---- */

int audit_chain_read_head(sqlite3 *db, int64_t *seq, uint8_t hash[JH_AUDIT_HASH_LEN])
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r;

	r = audit_db_prepare(db, "SELECT seq, hash FROM head WHERE id = 1", &st);
	if (r < 0)
		return r;
	r = sqlite3_step(st);
	if (r == SQLITE_DONE) {
		*seq = 0;
		memset(hash, 0, JH_AUDIT_HASH_LEN);
		return 0;
	}
	if (r != SQLITE_ROW)
		return audit_db_err(db, r);
	if (sqlite3_column_bytes(st, 1) != JH_AUDIT_HASH_LEN)
		return -EBADMSG;
	*seq = sqlite3_column_int64(st, 0);
	memcpy(hash, sqlite3_column_blob(st, 1), JH_AUDIT_HASH_LEN);
	return 0;
}

int audit_chain_write_head(sqlite3 *db, int64_t seq, const uint8_t hash[JH_AUDIT_HASH_LEN])
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r;

	r = audit_db_prepare(db, "INSERT OR REPLACE INTO head (id, seq, hash) VALUES (1, ?, ?)",
			     &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_blob(st, 2, hash, JH_AUDIT_HASH_LEN, SQLITE_STATIC);
	r = sqlite3_step(st);
	return r == SQLITE_DONE ? 0 : audit_db_err(db, r);
}

int audit_chain_last(sqlite3 *db, struct jh_audit_head *ret)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	struct jh_audit_head h = {0};
	int r;

	r = audit_db_prepare(db, "SELECT seq, hash FROM chain ORDER BY seq DESC LIMIT 1", &st);
	if (r < 0)
		return r;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		h.seq = sqlite3_column_int64(st, 0);
		if (sqlite3_column_bytes(st, 1) == JH_AUDIT_HASH_LEN)
			memcpy(h.hash, sqlite3_column_blob(st, 1), JH_AUDIT_HASH_LEN);
	} else if (r != SQLITE_DONE) {
		return audit_db_err(db, r);
	}
	*ret = h;
	return 0;
}

int jh_audit_head(struct jh_audit *a, struct jh_audit_head *ret)
{
	return audit_chain_last(a->db, ret);
}
