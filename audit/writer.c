/* Recording a run: the run-start record, the event queue and its writer
 * thread, the run-end record.
 *
 * emit() copies an event into the batch being filled (fixed-size entries plus
 * a text arena, both reused, so a warmed-up run allocates nothing per event)
 * under one mutex and returns. The writer thread swaps the filled batch for
 * the empty one and commits it in one BEGIN IMMEDIATE transaction: it reads
 * the chain head there, hashes each event after it, writes events, chain rows
 * and the new head. Two batches bound the memory; when both are full, emit()
 * waits for the writer instead of dropping. If the writer fails for good, the
 * run keeps going and the events are counted as lost in its end record.
 *
 * Batches are committed with synchronous=NORMAL (a commit survives the process
 * being killed, not the machine losing power); the run-end commit is made with
 * synchronous=FULL, which syncs the WAL and with it every earlier batch.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit-internal.h"

#define QUEUE_MAX_EVENTS 16384u	  /* per batch; two batches */
#define QUEUE_MAX_TEXT (8u << 20) /* bytes of strings per batch */
#define STR_MAX 16384u		  /* longer strings are cut, ending in "..." */
#define BATCH_MIN 512u		  /* the writer waits up to BATCH_DELAY_NS for this many */
#define BATCH_DELAY_NS 5000000
#define WRITE_TRIES 3

enum { S_CLS, S_SYSCALL, S_ARGS, S_DETAIL, S_STACK, S_DISASM, S_N };
#define NO_STR UINT32_MAX

struct qev {
	uint64_t mono_ns;
	int64_t result;
	int32_t tid;
	int32_t err;
	int32_t decision;
	uint32_t str[S_N]; /* offsets into the batch's text, NO_STR for NULL */
};

struct batch {
	struct qev *ev;
	size_t n, cap;
	char *text;
	size_t len, text_cap;
};

struct jh_audit_run {
	sqlite3 *db; /* the run's own connection: the writer's, then run_end's */
	EVP_MD_CTX *md;
	msgpack_sbuffer sb;
	sqlite3_stmt *ins_event, *ins_chain, *get_state;
	int64_t id;
	int64_t start_mono_ns;
	int64_t next_idx; /* idx of the next event to commit */

	pthread_mutex_t lock;
	pthread_cond_t work;  /* the writer waits: events queued, or stop */
	pthread_cond_t space; /* emitters wait: room in the batch being filled */
	struct batch b[2];
	struct batch *fill; /* the batch emit() appends to */
	bool stop;
	bool failed; /* the writer gave up: further events are counted as lost */
	int err;     /* the first write error */
	uint64_t lost;
	pthread_t thread;
	bool thread_started;
	bool sync_init;
};

static void run_free(struct jh_audit_run *r)
{
	if (!r)
		return;
	sqlite3_finalize(r->ins_event);
	sqlite3_finalize(r->ins_chain);
	sqlite3_finalize(r->get_state);
	sqlite3_close(r->db);
	EVP_MD_CTX_free(r->md);
	msgpack_sbuffer_destroy(&r->sb);
	for (size_t i = 0; i < 2; i++) {
		free(r->b[i].ev);
		free(r->b[i].text);
	}
	if (r->sync_init) {
		pthread_mutex_destroy(&r->lock);
		pthread_cond_destroy(&r->work);
		pthread_cond_destroy(&r->space);
	}
	free(r);
}
JH_DEFINE_TRIVIAL_CLEANUP(struct jh_audit_run *, run_free, run_freep)

int64_t jh_audit_run_id(const struct jh_audit_run *r)
{
	return r->id;
}

/* ---- emit ---- */

static int batch_reserve(struct batch *b, size_t text)
{
	if (b->n == b->cap) {
		size_t cap = JH_MIN(JH_MAX(b->cap * 2, (size_t)256), (size_t)QUEUE_MAX_EVENTS);
		struct qev *ev = reallocarray(b->ev, cap, sizeof(*ev));
		if (!ev)
			return -ENOMEM;
		b->ev = ev;
		b->cap = cap;
	}
	if (b->len + text > b->text_cap) {
		size_t cap = JH_MAX(JH_MAX(b->text_cap * 2, (size_t)65536), b->len + text);
		char *t = realloc(b->text, cap);
		if (!t)
			return -ENOMEM;
		b->text = t;
		b->text_cap = cap;
	}
	return 0;
}

static void *writer_main(void *arg);

/* Starts the writer thread; called with r->lock held, on the first event. The
 * thread starts then, not in jh_audit_run_begin(), so that what the caller
 * does between the two (jhansi-exec forks its gofer and the sandbox) happens
 * while the process has a single thread: a child forked from a multi-threaded
 * process inherits whatever locks the other threads held (libc resets its
 * own, not every library's; ASan's allocator deadlocked here). */
static int start_writer(struct jh_audit_run *r)
{
	sigset_t all, old;
	int e;

	/* The writer takes no signals: they are the sentry's to handle. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = -pthread_create(&r->thread, NULL, writer_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e < 0)
		return e;
	r->thread_started = true;
	return 0;
}

/* Bytes kept of a stack or disassembly `s`: all of it up to
 * JH_AUDIT_FORENSICS_MAX; else (*cut) the lines that fit before a line "...".
 * The store's own bound, whatever the sentry bounds them to: each event's
 * forensics are part of its chained record and of every read of it. */
static size_t forensics_keep(const char *s, bool *cut)
{
	size_t n = strnlen(s, JH_AUDIT_FORENSICS_MAX + 1);
	const char *nl;

	*cut = n > JH_AUDIT_FORENSICS_MAX;
	if (!*cut)
		return n;
	n = JH_AUDIT_FORENSICS_MAX - 4; /* room for "\n..." */
	nl = memrchr(s, '\n', n);
	return nl ? (size_t)(nl - s) : n;
}

static void run_emit(void *ctx, const struct jh_event *ev)
{
	struct jh_audit_run *r = ctx;
	const char *s[S_N] = {ev->cls, ev->syscall, ev->args, ev->detail, ev->stack, ev->disasm};
	size_t len[S_N], need = 0;
	bool cut[S_N];
	struct batch *b;
	struct qev *q;

	for (int i = 0; i < S_N; i++) {
		len[i] = 0;
		cut[i] = false;
		if (i >= S_STACK && s[i] && !*s[i])
			s[i] = NULL; /* empty forensics say nothing: stored as none */
		if (!s[i])
			continue;
		if (i >= S_STACK) {
			len[i] = forensics_keep(s[i], &cut[i]);
			need += cut[i] ? 4 : 0;
		} else {
			len[i] = strnlen(s[i], STR_MAX);
			cut[i] = len[i] == STR_MAX && s[i][STR_MAX] != '\0';
		}
		need += len[i] + 1;
	}

	pthread_mutex_lock(&r->lock);
	if (!r->thread_started && !r->failed && start_writer(r) < 0)
		r->failed = true; /* counted as lost, like a write error */
	for (;;) {
		b = r->fill;
		if (r->failed)
			goto lost;
		if (b->n < QUEUE_MAX_EVENTS && b->len + need <= QUEUE_MAX_TEXT)
			break;
		pthread_cond_wait(&r->space, &r->lock);
	}
	if (batch_reserve(b, need) < 0)
		goto lost;
	q = &b->ev[b->n++];
	*q = (struct qev){.mono_ns = ev->mono_ns,
			  .result = ev->result,
			  .tid = ev->tid,
			  .err = ev->err,
			  .decision = (int32_t)ev->decision};
	for (int i = 0; i < S_N; i++) {
		char *to = b->text + b->len;
		if (!s[i]) {
			q->str[i] = NO_STR;
			continue;
		}
		q->str[i] = (uint32_t)b->len;
		memcpy(to, s[i], len[i]);
		if (cut[i] && i < S_STACK) {
			memcpy(to + len[i] - 3, "...", 3);
		} else if (cut[i]) {
			memcpy(to + len[i], "\n...", 4);
			len[i] += 4;
		}
		to[len[i]] = '\0';
		b->len += len[i] + 1;
	}
	if (b->n == 1 || b->n == BATCH_MIN)
		pthread_cond_signal(&r->work);
	pthread_mutex_unlock(&r->lock);
	return;
lost:
	r->lost++;
	pthread_mutex_unlock(&r->lock);
}

static const struct jh_sink_ops run_sink_ops = {.emit = run_emit};

void jh_audit_run_sink(struct jh_audit_run *r, struct jh_sink *ret)
{
	ret->ops = &run_sink_ops;
	ret->ctx = r;
}

/* ---- the writer ---- */

static const char *qstr(const struct batch *b, uint32_t off)
{
	return off == NO_STR ? NULL : b->text + off;
}

static int step_done(sqlite3 *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : audit_db_err(db, rc);
}

static int write_batch(struct jh_audit_run *r, const struct batch *b)
{
	_cleanup_txn_ sqlite3 *txn = NULL;
	uint8_t prev[JH_AUDIT_HASH_LEN], hash[JH_AUDIT_HASH_LEN];
	const char *state;
	int64_t seq;
	int rc, e;

	e = audit_db_begin_immediate(r->db, &txn);
	if (e < 0)
		return e;
	e = audit_chain_read_head(r->db, &seq, prev);
	if (e < 0)
		return e;

	sqlite3_reset(r->get_state);
	sqlite3_bind_int64(r->get_state, 1, r->id);
	rc = sqlite3_step(r->get_state);
	state = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(r->get_state, 0) : NULL;
	if (state && strcmp(state, "open") == 0)
		e = 0;
	else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		e = -ESTALE; /* ended by someone else, who thought us dead */
	else
		e = audit_db_err(r->db, rc);
	sqlite3_reset(r->get_state);
	if (e < 0)
		return e;

	for (size_t i = 0; i < b->n; i++) {
		const struct qev *q = &b->ev[i];
		struct audit_enc_event ev = {
		    .run_id = r->id,
		    .idx = r->next_idx + (int64_t)i,
		    .mono_ns = q->mono_ns,
		    .tid = q->tid,
		    .cls = qstr(b, q->str[S_CLS]),
		    .syscall = qstr(b, q->str[S_SYSCALL]),
		    .args = qstr(b, q->str[S_ARGS]),
		    .decision = jh_decision_name(q->decision),
		    .detail = qstr(b, q->str[S_DETAIL]),
		    .result = q->result,
		    .err = q->err,
		    .stack = qstr(b, q->str[S_STACK]),
		    .disasm = qstr(b, q->str[S_DISASM]),
		};
		sqlite3_stmt *st = r->ins_event;

		seq++;
		e = audit_enc_event(&r->sb, seq, &ev);
		if (e < 0)
			return e;
		e = audit_chain_hash(r->md, prev, r->sb.data, r->sb.size, hash);
		if (e < 0)
			return e;
		sqlite3_bind_int64(st, 1, seq);
		sqlite3_bind_int64(st, 2, ev.run_id);
		sqlite3_bind_int64(st, 3, ev.idx);
		sqlite3_bind_int64(st, 4, (int64_t)ev.mono_ns);
		sqlite3_bind_int(st, 5, ev.tid);
		audit_db_bind_text(st, 6, ev.cls);
		audit_db_bind_text(st, 7, ev.syscall);
		audit_db_bind_text(st, 8, ev.args);
		audit_db_bind_text(st, 9, ev.decision);
		sqlite3_bind_int64(st, 10, ev.result);
		sqlite3_bind_int(st, 11, ev.err);
		audit_db_bind_text(st, 12, ev.detail);
		audit_db_bind_text(st, 13, ev.stack);
		audit_db_bind_text(st, 14, ev.disasm);
		e = step_done(r->db, st);
		if (e < 0)
			return e;
		st = r->ins_chain;
		sqlite3_bind_int64(st, 1, seq);
		sqlite3_bind_int(st, 2, REC_EVENT);
		sqlite3_bind_int64(st, 3, r->id);
		sqlite3_bind_blob(st, 4, hash, JH_AUDIT_HASH_LEN, SQLITE_STATIC);
		e = step_done(r->db, st);
		if (e < 0)
			return e;
		memcpy(prev, hash, sizeof(prev));
	}
	e = audit_chain_write_head(r->db, seq, prev);
	if (e < 0)
		return e;
	e = audit_db_commit(&txn);
	if (e < 0)
		return e;
	r->next_idx += (int64_t)b->n;
	return 0;
}

static void *writer_main(void *arg)
{
	struct jh_audit_run *r = arg;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		struct batch *b;
		int e = 0;

		while (r->fill->n == 0 && !r->stop)
			pthread_cond_wait(&r->work, &r->lock);
		if (r->fill->n == 0)
			break; /* stopped, and nothing left */
		if (!r->stop && r->fill->n < BATCH_MIN) {
			/* A little patience makes batches, and so transactions, fewer. */
			struct timespec dl;
			clock_gettime(CLOCK_MONOTONIC, &dl);
			dl.tv_nsec += BATCH_DELAY_NS;
			if (dl.tv_nsec >= 1000000000) {
				dl.tv_sec++;
				dl.tv_nsec -= 1000000000;
			}
			while (!r->stop && r->fill->n < BATCH_MIN)
				if (pthread_cond_timedwait(&r->work, &r->lock, &dl) == ETIMEDOUT)
					break;
		}
		b = r->fill;
		r->fill = b == &r->b[0] ? &r->b[1] : &r->b[0];
		pthread_cond_broadcast(&r->space);
		pthread_mutex_unlock(&r->lock);

		for (int t = 0; t < WRITE_TRIES; t++) {
			e = write_batch(r, b);
			if (e != -EBUSY)
				break;
		}

		pthread_mutex_lock(&r->lock);
		if (e < 0) {
			if (!r->err)
				r->err = e;
			r->failed = true;
			r->lost += b->n + r->fill->n;
			r->fill->n = 0;
			r->fill->len = 0;
			pthread_cond_broadcast(&r->space);
		}
		b->n = 0;
		b->len = 0;
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* ---- begin and end ---- */

static int run_init_sync(struct jh_audit_run *r)
{
	pthread_condattr_t ca;

	if (pthread_condattr_init(&ca) != 0)
		return -ENOMEM;
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->work, &ca);
	pthread_cond_init(&r->space, NULL);
	pthread_condattr_destroy(&ca);
	r->sync_init = true;
	return 0;
}

static int argv_blob(const char *const *argv, char **ret, size_t *len)
{
	size_t n = 0;
	char *p;

	for (size_t i = 0; argv && argv[i]; i++)
		n += strlen(argv[i]) + 1;
	p = malloc(n + 1);
	if (!p)
		return -ENOMEM;
	*ret = p;
	*len = n;
	for (size_t i = 0; argv && argv[i]; i++)
		p = stpcpy(p, argv[i]) + 1;
	return 0;
}

static int write_run_start(struct jh_audit_run *r, const struct jh_audit_run_info *info)
{
	_cleanup_txn_ sqlite3 *txn = NULL;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	_cleanup_free_ char *argv = NULL;
	char prompt_sha[JH_AUDIT_HEX_LEN], policy_sha[JH_AUDIT_HEX_LEN];
	enum jh_audit_prompt_record pr = info->prompt ? info->prompt_record : JH_AUDIT_PROMPT_NONE;
	uint8_t prev[JH_AUDIT_HASH_LEN];
	struct writer_id w;
	bool have_w;
	size_t argv_len;
	int64_t seq, wall;
	int e, rc;

	e = argv_blob(info->argv, &argv, &argv_len);
	if (e < 0)
		return e;
	if (info->prompt)
		jh_audit_sha256_hex(info->prompt, strlen(info->prompt), prompt_sha);
	if (info->policy_text)
		jh_audit_sha256_hex(info->policy_text, strlen(info->policy_text), policy_sha);
	have_w = audit_writer_id_self(&w) == 0; /* without it the run is never marked stale */
	wall = info->start_wall_ns ? info->start_wall_ns : audit_now_ns(CLOCK_REALTIME);
	r->start_mono_ns =
	    info->start_mono_ns ? info->start_mono_ns : audit_now_ns(CLOCK_MONOTONIC);

	e = audit_db_prepare(
	    r->db,
	    "INSERT INTO runs (state, start_seq, actor, user, host, uid, argv, exe_path,"
	    " exe_sha256, cwd, env_sha256, prompt_record, prompt, prompt_sha256, policy,"
	    " policy_sha256, platform, layers, workspace, start_wall_ns, start_mono_ns,"
	    " writer_boot, writer_pidns, writer_pid, writer_start)"
	    " VALUES ('open', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
	    " ?, ?, ?, ?)",
	    &st);
	if (e < 0)
		return e;
	e = audit_db_begin_immediate(r->db, &txn);
	if (e < 0)
		return e;
	e = audit_chain_read_head(r->db, &seq, prev);
	if (e < 0)
		return e;
	seq++;
	sqlite3_bind_int64(st, 1, seq);
	audit_db_bind_text(st, 2, info->actor);
	audit_db_bind_text(st, 3, info->user);
	audit_db_bind_text(st, 4, info->host);
	sqlite3_bind_int64(st, 5, info->uid);
	sqlite3_bind_blob(st, 6, argv, (int)argv_len, SQLITE_STATIC);
	audit_db_bind_text(st, 7, info->exe_path);
	audit_db_bind_text(st, 8, info->exe_sha256_hex);
	audit_db_bind_text(st, 9, info->cwd);
	audit_db_bind_text(st, 10, info->env_digest_hex);
	sqlite3_bind_text(st, 11, jh_audit_prompt_record_name(pr), -1, SQLITE_STATIC);
	audit_db_bind_text(st, 12, pr == JH_AUDIT_PROMPT_FULL ? info->prompt : NULL);
	audit_db_bind_text(st, 13, pr != JH_AUDIT_PROMPT_NONE ? prompt_sha : NULL);
	audit_db_bind_text(st, 14, info->policy_text);
	audit_db_bind_text(st, 15, info->policy_text ? policy_sha : NULL);
	audit_db_bind_text(st, 16, info->platform);
	audit_db_bind_text(st, 17, info->layers);
	audit_db_bind_text(st, 18, info->workspace);
	sqlite3_bind_int64(st, 19, wall);
	sqlite3_bind_int64(st, 20, r->start_mono_ns);
	if (have_w) {
		sqlite3_bind_text(st, 21, w.boot, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 22, (int64_t)w.pidns);
		sqlite3_bind_int64(st, 23, w.pid);
		sqlite3_bind_int64(st, 24, (int64_t)w.start);
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		return audit_db_err(r->db, rc);
	r->id = sqlite3_last_insert_rowid(r->db);
	e = audit_store_chain_run_record(r->db, r->md, r->id, REC_RUN_START, seq, prev);
	if (e < 0)
		return e;
	return audit_db_commit(&txn);
}

int jh_audit_run_begin(struct jh_audit *a, const struct jh_audit_run_info *info,
		       struct jh_audit_run **ret)
{
	_cleanup_(run_freep) struct jh_audit_run *r = NULL;
	int e;

	if (!info || (unsigned)info->prompt_record > JH_AUDIT_PROMPT_FULL)
		return -EINVAL;
	if (a->flags & JH_AUDIT_OPEN_READONLY)
		return -EROFS;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	msgpack_sbuffer_init(&r->sb);
	e = run_init_sync(r);
	if (e < 0)
		return e;
	r->fill = &r->b[0];
	for (size_t i = 0; i < 2; i++) {
		e = batch_reserve(&r->b[i], 0);
		if (e < 0)
			return e;
	}
	r->md = EVP_MD_CTX_new();
	if (!r->md)
		return -ENOMEM;
	e = audit_db_open_conn(a->path, false, &r->db);
	if (e < 0)
		return e;
	e = audit_db_prepare(
	    r->db,
	    "INSERT INTO events (seq, run_id, idx, mono_ns, tid, cls, syscall, args,"
	    " decision, result, err, detail, stack, disasm)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    &r->ins_event);
	if (e < 0)
		return e;
	e = audit_db_prepare(r->db,
			     "INSERT INTO chain (seq, kind, run_id, hash) VALUES (?, ?, ?, ?)",
			     &r->ins_chain);
	if (e < 0)
		return e;
	e = audit_db_prepare(r->db, "SELECT state FROM runs WHERE id = ?", &r->get_state);
	if (e < 0)
		return e;
	e = write_run_start(r, info);
	if (e < 0)
		return e;

	/* The writer thread starts with the first event (start_writer). */
	*ret = TAKE_PTR(r);
	return 0;
}

int jh_audit_run_end(struct jh_audit_run *run, const struct jh_audit_run_end *end)
{
	_cleanup_(run_freep) struct jh_audit_run *r = run;
	_cleanup_txn_ sqlite3 *txn = NULL;
	struct jh_audit_run_end e = {.exit_status = -1};
	int res;

	if (!r)
		return -EINVAL;
	if (r->thread_started) {
		pthread_mutex_lock(&r->lock);
		r->stop = true;
		pthread_cond_signal(&r->work);
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->thread, NULL);
		r->thread_started = false;
	}
	if (end)
		e = *end;
	if (!e.end_wall_ns)
		e.end_wall_ns = audit_now_ns(CLOCK_REALTIME);
	if (!e.duration_ns)
		e.duration_ns = audit_now_ns(CLOCK_MONOTONIC) - r->start_mono_ns;

	/* FULL: this commit syncs the WAL, and with it all the run's batches. */
	res = audit_db_exec(r->db, "PRAGMA synchronous=FULL");
	if (res >= 0)
		res = audit_db_begin_immediate(r->db, &txn);
	if (res >= 0)
		res = audit_store_append_run_end(r->db, r->md, r->id, JH_AUDIT_RUN_COMPLETE, &e,
						 r->lost);
	if (res >= 0)
		res = audit_db_commit(&txn);
	return r->err < 0 ? r->err : res;
}
