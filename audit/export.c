/* Export of the store as JSON lines for a SIEM, built with jansson.
 *
 * One object a line: a run ({"type":"run"}) and then each of its events
 * ({"type":"event"}) in order. Every object carries its chain position and
 * hash, so a consumer can later ask `jhansi-audit verify` about a record it
 * holds. Events carry a wall time derived from their run's start (wall and
 * monotonic clocks taken together at run start), and the run's actor, host and
 * workspace, so each line stands on its own; a refusal's forensics ride along
 * as "stack" and "disasm", multi-line text as stored (null when none). JSON
 * strings must be UTF-8: other bytes are written as the four characters \xNN.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abi/abi.h"
#include "audit/audit-internal.h"

JH_DEFINE_TRIVIAL_CLEANUP(json_t *, json_decref, jh_json_decrefp)

/* Length of the valid UTF-8 sequence at s, or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0], cp, min;
	size_t len;

	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		len = 2, min = 0x80, cp = c & 0x1f;
	else if ((c & 0xf0) == 0xe0)
		len = 3, min = 0x800, cp = c & 0x0f;
	else if ((c & 0xf8) == 0xf0)
		len = 4, min = 0x10000, cp = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static json_t *jstr(const char *s)
{
	_cleanup_free_ char *esc = NULL;
	const unsigned char *u = (const unsigned char *)s;
	size_t n, o = 0;
	json_t *j;

	if (!s)
		return json_null();
	n = strlen(s);
	j = json_stringn(s, n);
	if (j)
		return j;
	esc = malloc(4 * n + 1);
	if (!esc)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq(u + i, n - i);
		if (k) {
			memcpy(esc + o, s + i, k);
			o += k;
			i += k;
		} else {
			o += (size_t)sprintf(esc + o, "\\x%02x", u[i]);
			i++;
		}
	}
	return json_stringn(esc, o);
}

static json_t *jtime(int64_t ns)
{
	char buf[48];
	struct tm tm;
	time_t t;
	size_t n;

	if (ns <= 0)
		return json_null();
	t = (time_t)(ns / 1000000000);
	if (!gmtime_r(&t, &tm))
		return json_null();
	n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof(buf) - n, ".%09lldZ", (long long)(ns % 1000000000));
	return json_string(buf);
}

static json_t *jhash(const void *blob, int len)
{
	char hex[JH_AUDIT_HEX_LEN];

	if (!blob || len != JH_AUDIT_HASH_LEN)
		return json_null();
	jh_audit_hex(blob, JH_AUDIT_HASH_LEN, hex);
	return json_string(hex);
}

/* Sets o[k] = v, taking v; remembers a failure in *bad. */
static void put(json_t *o, const char *k, json_t *v, bool *bad)
{
	if (!v || json_object_set_new(o, k, v) < 0)
		*bad = true;
}

struct export_ctx {
	sqlite3 *db;
	FILE *out;
	sqlite3_stmt *hash, *events;
};

static int emit_line(FILE *out, json_t *o)
{
	if (json_dumpf(o, out, JSON_COMPACT) < 0 || fputc('\n', out) == EOF)
		return -EIO;
	return 0;
}

static json_t *chain_hash_of(struct export_ctx *x, int64_t seq)
{
	json_t *j;

	sqlite3_reset(x->hash);
	sqlite3_bind_int64(x->hash, 1, seq);
	if (sqlite3_step(x->hash) != SQLITE_ROW)
		return json_null();
	j = jhash(sqlite3_column_blob(x->hash, 0), sqlite3_column_bytes(x->hash, 0));
	sqlite3_reset(x->hash);
	return j;
}

static json_t *run_object(struct export_ctx *x, const struct jh_audit_run_record *r)
{
	json_t *o = json_object(), *argv = json_array(), *exe = json_object(),
	       *prompt = json_object(), *policy = json_object();
	bool bad = !o || !argv || !exe || !prompt || !policy;

	for (size_t i = 0; argv && i < r->argc; i++)
		if (json_array_append_new(argv, jstr(r->argv[i])) < 0)
			bad = true;
	if (o) {
		put(o, "type", json_string("run"), &bad);
		put(o, "run", json_integer(r->id), &bad);
		put(o, "seq", json_integer(r->start_seq), &bad);
		put(o, "hash", chain_hash_of(x, r->start_seq), &bad);
		put(o, "state", json_string(jh_audit_run_state_name(r->state)), &bad);
		if (r->state == JH_AUDIT_RUN_OPEN)
			put(o, "writer_gone", json_boolean(r->writer_gone), &bad);
		put(o, "actor", jstr(r->actor), &bad);
		put(o, "user", jstr(r->user), &bad);
		put(o, "uid", json_integer(r->uid), &bad);
		put(o, "host", jstr(r->host), &bad);
		put(o, "argv", argv, &bad);
		put(exe, "path", jstr(r->exe_path), &bad);
		put(exe, "sha256", jstr(r->exe_sha256), &bad);
		put(o, "exe", exe, &bad);
		put(o, "cwd", jstr(r->cwd), &bad);
		put(o, "env_sha256", jstr(r->env_sha256), &bad);
		put(prompt, "record", json_string(jh_audit_prompt_record_name(r->prompt_record)),
		    &bad);
		put(prompt, "text", jstr(r->prompt), &bad);
		put(prompt, "sha256", jstr(r->prompt_sha256), &bad);
		put(o, "prompt", prompt, &bad);
		put(policy, "sha256", jstr(r->policy_sha256), &bad);
		put(policy, "text", jstr(r->policy_text), &bad);
		put(o, "policy", policy, &bad);
		put(o, "platform", jstr(r->platform), &bad);
		put(o, "layers", jstr(r->layers), &bad);
		put(o, "workspace", jstr(r->workspace), &bad);
		put(o, "start", jtime(r->start_wall_ns), &bad);
		put(o, "start_ns", json_integer(r->start_wall_ns), &bad);
	} else {
		json_decref(argv);
		json_decref(exe);
		json_decref(prompt);
		json_decref(policy);
	}
	if (o && r->state != JH_AUDIT_RUN_OPEN) {
		json_t *calls = json_object(), *changes = json_array();
		const char *sig = r->term_signal ? jh_abi_signal_name(r->term_signal) : NULL;

		put(o, "end_seq", json_integer(r->end_seq), &bad);
		put(o, "end_hash", chain_hash_of(x, r->end_seq), &bad);
		put(o, "end", jtime(r->end_wall_ns), &bad);
		put(o, "end_ns", r->end_wall_ns ? json_integer(r->end_wall_ns) : json_null(), &bad);
		put(o, "duration_ns", json_integer(r->duration_ns), &bad);
		put(o, "exit_status",
		    r->exit_status >= 0 ? json_integer(r->exit_status) : json_null(), &bad);
		put(o, "signal", r->term_signal ? json_integer(r->term_signal) : json_null(), &bad);
		put(o, "signal_name", sig ? json_string(sig) : json_null(), &bad);
		put(o, "timed_out", json_boolean(r->timed_out), &bad);
		put(o, "sentry_failed", json_boolean(r->sentry_failed), &bad);
		put(o, "reason", jstr(r->reason), &bad);
		put(o, "events", json_integer((json_int_t)r->n_events), &bad);
		put(o, "lost_events", json_integer((json_int_t)r->lost_events), &bad);
		for (size_t i = 0; calls && i < r->n_counts; i++) {
			json_t *c = json_object();
			if (c) {
				put(c, "mediated", json_integer((json_int_t)r->counts[i].mediated),
				    &bad);
				put(c, "refused", json_integer((json_int_t)r->counts[i].refused),
				    &bad);
			}
			put(calls, r->counts[i].cls, c, &bad);
		}
		for (size_t i = 0; changes && i < r->n_changes; i++) {
			json_t *c = json_object();
			if (c) {
				put(c, "op", json_string(jh_audit_change_op_name(r->changes[i].op)),
				    &bad);
				put(c, "path", jstr(r->changes[i].path), &bad);
				put(c, "sha256", jstr(r->changes[i].sha256_hex), &bad);
			}
			if (!c || json_array_append_new(changes, c) < 0)
				bad = true;
		}
		put(o, "calls", calls, &bad);
		put(o, "changes", changes, &bad);
	}
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int export_events(struct export_ctx *x, const struct jh_audit_run_record *r)
{
	sqlite3_stmt *st = x->events;
	int rc, e = 0;

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, r->id);
	while (e == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		_cleanup_(jh_json_decrefp) json_t *o = json_object();
		int64_t mono = sqlite3_column_int64(st, 2);
		int err = sqlite3_column_int(st, 9);
		const char *ename = err ? jh_abi_errno_name(err) : NULL;
		int64_t wall = r->start_wall_ns + (mono - r->start_mono_ns);
		bool bad = !o;

		if (o) {
			put(o, "type", json_string("event"), &bad);
			put(o, "run", json_integer(r->id), &bad);
			put(o, "seq", json_integer(sqlite3_column_int64(st, 0)), &bad);
			put(o, "hash",
			    jhash(sqlite3_column_blob(st, 11), sqlite3_column_bytes(st, 11)), &bad);
			put(o, "idx", json_integer(sqlite3_column_int64(st, 1)), &bad);
			put(o, "time", jtime(wall), &bad);
			put(o, "time_ns", json_integer(wall), &bad);
			put(o, "mono_ns", json_integer(mono), &bad);
			put(o, "tid", json_integer(sqlite3_column_int(st, 3)), &bad);
			put(o, "class", jstr(audit_db_text(st, 4, NULL)), &bad);
			put(o, "syscall", jstr(audit_db_text(st, 5, NULL)), &bad);
			put(o, "args", jstr(audit_db_text(st, 6, NULL)), &bad);
			put(o, "decision", jstr(audit_db_text(st, 7, NULL)), &bad);
			put(o, "result",
			    err ? json_null() : json_integer(sqlite3_column_int64(st, 8)), &bad);
			put(o, "errno", ename ? json_string(ename) : json_null(), &bad);
			put(o, "err", json_integer(err), &bad);
			put(o, "detail", jstr(audit_db_text(st, 10, NULL)), &bad);
			put(o, "stack", jstr(audit_db_text(st, 12, NULL)), &bad);
			put(o, "disasm", jstr(audit_db_text(st, 13, NULL)), &bad);
			put(o, "actor", jstr(r->actor), &bad);
			put(o, "host", jstr(r->host), &bad);
			put(o, "workspace", jstr(r->workspace), &bad);
		}
		e = bad ? -ENOMEM : emit_line(x->out, o);
	}
	sqlite3_reset(st);
	if (e < 0)
		return e;
	return rc == SQLITE_DONE ? 0 : audit_db_err(x->db, rc);
}

static int export_run(const struct jh_audit_run_record *r, void *userdata)
{
	struct export_ctx *x = userdata;
	_cleanup_(jh_json_decrefp) json_t *o = run_object(x, r);
	int e;

	if (!o)
		return -ENOMEM;
	e = emit_line(x->out, o);
	if (e < 0)
		return e;
	return export_events(x, r);
}

int jh_audit_export_jsonl(struct jh_audit *a, int64_t since_wall_ns, FILE *out)
{
	_cleanup_txn_ sqlite3 *txn = NULL;
	_cleanup_stmt_ sqlite3_stmt *hash = NULL, *events = NULL;
	struct export_ctx x = {.db = a->db, .out = out};
	char sql[400];
	int r;

	r = audit_db_begin_read(a->db, &txn);
	if (r < 0)
		return r;
	r = audit_db_prepare(a->db, "SELECT hash FROM chain WHERE seq = ?", &hash);
	if (r < 0)
		return r;
	snprintf(sql, sizeof(sql),
		 "SELECT e.seq, e.idx, e.mono_ns, e.tid, e.cls, e.syscall, e.args, e.decision,"
		 " e.result, e.err, e.detail, c.hash, %s FROM events e"
		 " LEFT JOIN chain c ON c.seq = e.seq WHERE e.run_id = ? ORDER BY e.idx",
		 audit_sql_forensics(a->schema));
	r = audit_db_prepare(a->db, sql, &events);
	if (r < 0)
		return r;
	x.hash = hash;
	x.events = events;
	r = jh_audit_foreach_run(a, since_wall_ns, 0, export_run, &x);
	if (r < 0)
		return r;
	if (fflush(out) == EOF || ferror(out))
		return -EIO;
	return audit_db_commit(&txn);
}
