/* The store: where it lives, opening, the schema and its migrations, runs left
 * open by dead writers, and loading runs and events back.
 *
 * Tables (schema version 2):
 *   runs         one row a run; start columns are fixed at begin, end columns
 *                filled by the run-end; state open|complete|incomplete; the
 *                writer_* columns identify the recording process (not chained:
 *                they only serve to tell whether it still exists)
 *   events       one row an event; seq is its chain position; stack and
 *                disasm hold a refusal's forensics (NULL when none; added by
 *                schema 2, NULL in every row written before)
 *   run_counts   per run and class: mediated and refused calls (run-end record)
 *   run_changes  per run: the workspace change set (run-end record)
 *   chain        seq, kind, run id and hash of every record, in chain order
 *   head         the newest (seq, hash), read and written by every appender
 *                inside its BEGIN IMMEDIATE transaction
 *   checkpoints  signed heads
 * The record contents are the rows of runs/events/run_counts/run_changes; the
 * verifier re-encodes them, so changing any chained column breaks the chain.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "audit/audit-internal.h"

/* ---- names ---- */

static const char *const prompt_names[] = {
    [JH_AUDIT_PROMPT_NONE] = "none",
    [JH_AUDIT_PROMPT_DIGEST] = "digest",
    [JH_AUDIT_PROMPT_FULL] = "full",
};
static const char *const change_names[] = {
    [JH_AUDIT_CHANGE_CREATED] = "created",
    [JH_AUDIT_CHANGE_CHANGED] = "changed",
    [JH_AUDIT_CHANGE_DELETED] = "deleted",
};
static const char *const state_names[] = {
    [JH_AUDIT_RUN_OPEN] = "open",
    [JH_AUDIT_RUN_COMPLETE] = "complete",
    [JH_AUDIT_RUN_INCOMPLETE] = "incomplete",
};

static int name_lookup(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; name && i < n; i++)
		if (strcmp(names[i], name) == 0)
			return (int)i;
	return -EINVAL;
}

const char *jh_audit_prompt_record_name(enum jh_audit_prompt_record p)
{
	return (unsigned)p < JH_ARRAY_SIZE(prompt_names) ? prompt_names[p] : "?";
}

int jh_audit_prompt_record_from_name(const char *name)
{
	return name_lookup(prompt_names, JH_ARRAY_SIZE(prompt_names), name);
}

const char *jh_audit_change_op_name(enum jh_audit_change_op op)
{
	return (unsigned)op < JH_ARRAY_SIZE(change_names) ? change_names[op] : "?";
}

int jh_audit_change_op_from_name(const char *name)
{
	return name_lookup(change_names, JH_ARRAY_SIZE(change_names), name);
}

const char *jh_audit_run_state_name(enum jh_audit_run_state s)
{
	return (unsigned)s < JH_ARRAY_SIZE(state_names) ? state_names[s] : "?";
}

int jh_audit_run_state_from_name(const char *name)
{
	return name_lookup(state_names, JH_ARRAY_SIZE(state_names), name);
}

/* ---- sqlite helpers ---- */

int audit_db_err(sqlite3 *db, int rc)
{
	int e;

	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_FORMAT:
	case SQLITE_ERROR: /* "no such table/column": not our schema */
	case SQLITE_MISMATCH:
		return -EBADMSG;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CANTOPEN:
		e = db ? sqlite3_system_errno(db) : 0;
		return e > 0 ? -e : -ENOENT;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_TOOBIG:
		return -E2BIG;
	case SQLITE_INTERRUPT:
		return -EINTR;
	default:
		e = db ? sqlite3_system_errno(db) : 0;
		return e > 0 ? -e : -EIO;
	}
}

int audit_db_exec(sqlite3 *db, const char *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : audit_db_err(db, rc);
}

int audit_db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret)
{
	int rc = sqlite3_prepare_v2(db, sql, -1, ret, NULL);

	return rc == SQLITE_OK ? 0 : audit_db_err(db, rc);
}

int audit_db_begin_immediate(sqlite3 *db, sqlite3 **ret)
{
	int r = audit_db_exec(db, "BEGIN IMMEDIATE");

	if (r < 0)
		return r;
	*ret = db;
	return 0;
}

int audit_db_begin_read(sqlite3 *db, sqlite3 **ret)
{
	int r;

	if (!sqlite3_get_autocommit(db)) { /* already inside one: nothing to do */
		*ret = NULL;
		return 0;
	}
	r = audit_db_exec(db, "BEGIN");
	if (r < 0)
		return r;
	*ret = db;
	return 0;
}

int audit_db_commit(sqlite3 **txn)
{
	sqlite3 *db = *txn;
	int r;

	if (!db)
		return 0;
	r = audit_db_exec(db, "COMMIT");
	if (r < 0)
		return r; /* the cleanup rolls back */
	*txn = NULL;
	return 0;
}

int audit_db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

const char *audit_db_text(sqlite3_stmt *st, int col, size_t *len)
{
	const char *s = (const char *)sqlite3_column_text(st, col);

	if (len)
		*len = s ? (size_t)sqlite3_column_bytes(st, col) : 0;
	return s;
}

/* Puts the store in WAL mode (persistent, so a no-op but for the first open).
 * Processes racing to convert a new store can get SQLITE_BUSY without the busy
 * handler being called (sqlite's deadlock avoidance), or the old mode back:
 * retry for as long as the busy timeout. */
static int set_wal(sqlite3 *db)
{
	for (int waited_ms = 0;;) {
		_cleanup_stmt_ sqlite3_stmt *st = NULL;
		const char *mode;
		int rc, r;

		r = audit_db_prepare(db, "PRAGMA journal_mode=WAL", &st);
		if (r < 0)
			return r;
		rc = sqlite3_step(st);
		mode = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
		if (mode && strcasecmp(mode, "wal") == 0)
			return 0;
		if (rc != SQLITE_ROW && (rc & 0xff) != SQLITE_BUSY)
			return audit_db_err(db, rc);
		if (waited_ms >= JH_AUDIT_BUSY_TIMEOUT_MS)
			return -EBUSY;
		int ms = JH_MIN(1 + waited_ms / 4, 50);
		nanosleep(&(struct timespec){.tv_nsec = ms * 1000000L}, NULL);
		waited_ms += ms;
	}
}

int audit_db_open_conn(const char *path, bool readonly, sqlite3 **ret)
{
	_cleanup_(jh_sqlite3_closep) sqlite3 *db = NULL;
	int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	int rc, r;

	rc = sqlite3_open_v2(path, &db, flags, NULL);
	if (rc != SQLITE_OK)
		return db ? audit_db_err(db, rc) : -ENOMEM;
	sqlite3_busy_timeout(db, JH_AUDIT_BUSY_TIMEOUT_MS);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	if (!readonly) {
		r = set_wal(db);
		if (r < 0)
			return r;
		/* NORMAL: a commit survives the process being killed; run ends
		 * switch to FULL. */
		r = audit_db_exec(db, "PRAGMA synchronous=NORMAL");
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(db);
	return 0;
}

/* ---- where the store lives ---- */

static int mkdir_p(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = strdup(path);
	struct stat st;

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return jh_negerrno();
		*s = c;
		if (!c)
			break;
	}
	if (stat(path, &st) < 0)
		return jh_negerrno();
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int jh_audit_state_dir(bool create, char **ret)
{
	_cleanup_free_ char *dir = NULL;
	const char *e;
	int r;

	if ((e = getenv("JHANSI_STATE_DIR")) && *e) {
		dir = strdup(e);
	} else if ((e = getenv("XDG_DATA_HOME")) && e[0] == '/') {
		if (asprintf(&dir, "%s/jhansi", e) < 0)
			dir = NULL;
	} else if (geteuid() == 0) {
		dir = strdup("/var/lib/jhansi");
	} else {
		const char *home = getenv("HOME");
		if (!home || home[0] != '/') {
			struct passwd *pw = getpwuid(geteuid());
			home = pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : NULL;
		}
		if (!home)
			return -ENOENT;
		if (asprintf(&dir, "%s/.local/share/jhansi", home) < 0)
			dir = NULL;
	}
	if (!dir)
		return -ENOMEM;
	if (create) {
		r = mkdir_p(dir, 0700);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(dir);
	return 0;
}

int jh_audit_default_path(bool create, char **ret)
{
	_cleanup_free_ char *dir = NULL;
	char *p;
	int r;

	r = jh_audit_state_dir(create, &dir);
	if (r < 0)
		return r;
	if (asprintf(&p, "%s/audit.db", dir) < 0)
		return -ENOMEM;
	*ret = p;
	return 0;
}

/* ---- schema ---- */

/* migrations[v] takes a store from user_version v to v + 1. */
static const char *const migrations[] = {
    /* 0 -> 1: the first schema */
    "CREATE TABLE runs ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " state TEXT NOT NULL,"
    " start_seq INTEGER NOT NULL,"
    " end_seq INTEGER,"
    " actor TEXT, user TEXT, host TEXT, uid INTEGER NOT NULL,"
    " argv BLOB NOT NULL," /* each argument followed by a NUL */
    " exe_path TEXT, exe_sha256 TEXT, cwd TEXT, env_sha256 TEXT,"
    " prompt_record TEXT NOT NULL, prompt TEXT, prompt_sha256 TEXT,"
    " policy TEXT, policy_sha256 TEXT,"
    " platform TEXT, layers TEXT, workspace TEXT,"
    " start_wall_ns INTEGER NOT NULL, start_mono_ns INTEGER NOT NULL,"
    " exit_status INTEGER, term_signal INTEGER, timed_out INTEGER, sentry_failed INTEGER,"
    " reason TEXT, end_wall_ns INTEGER, duration_ns INTEGER,"
    " n_events INTEGER, lost_events INTEGER,"
    " writer_boot TEXT, writer_pidns INTEGER, writer_pid INTEGER, writer_start INTEGER);"
    "CREATE INDEX runs_state ON runs(state);"
    "CREATE INDEX runs_start ON runs(start_wall_ns);"
    "CREATE TABLE events ("
    " seq INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, idx INTEGER NOT NULL,"
    " mono_ns INTEGER NOT NULL, tid INTEGER NOT NULL,"
    " cls TEXT, syscall TEXT, args TEXT, decision TEXT NOT NULL,"
    " result INTEGER NOT NULL, err INTEGER NOT NULL, detail TEXT);"
    "CREATE INDEX events_run ON events(run_id, idx);"
    "CREATE TABLE run_counts ("
    " run_id INTEGER NOT NULL, cls TEXT NOT NULL,"
    " mediated INTEGER NOT NULL, refused INTEGER NOT NULL,"
    " PRIMARY KEY (run_id, cls)) WITHOUT ROWID;"
    "CREATE TABLE run_changes ("
    " run_id INTEGER NOT NULL, i INTEGER NOT NULL,"
    " op TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT,"
    " PRIMARY KEY (run_id, i)) WITHOUT ROWID;"
    "CREATE TABLE chain ("
    " seq INTEGER PRIMARY KEY, kind INTEGER NOT NULL, run_id INTEGER NOT NULL,"
    " hash BLOB NOT NULL);"
    "CREATE TABLE head ("
    " id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash BLOB NOT NULL);"
    "CREATE TABLE checkpoints ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER NOT NULL, hash BLOB NOT NULL,"
    " wall_ns INTEGER NOT NULL, key_id BLOB NOT NULL, signature BLOB NOT NULL);",
    /* 1 -> 2: forensics of refused calls, chained with their event. The rows
     * written before read NULL, which the encoding turns into the same
     * version-1 records they were hashed as. */
    "ALTER TABLE events ADD COLUMN stack TEXT;"
    "ALTER TABLE events ADD COLUMN disasm TEXT;",
};
_Static_assert(JH_ARRAY_SIZE(migrations) == JH_AUDIT_SCHEMA_VERSION, "one migration a version");

static int read_versions(sqlite3 *db, int64_t *app, int64_t *ver, int64_t *ntables)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r;

	r = audit_db_prepare(db,
			     "SELECT (SELECT application_id FROM pragma_application_id),"
			     " (SELECT user_version FROM pragma_user_version),"
			     " (SELECT count(*) FROM sqlite_master)",
			     &st);
	if (r < 0)
		return r;
	r = sqlite3_step(st);
	if (r != SQLITE_ROW)
		return audit_db_err(db, r);
	*app = sqlite3_column_int64(st, 0);
	*ver = sqlite3_column_int64(st, 1);
	*ntables = sqlite3_column_int64(st, 2);
	return 0;
}

static int check_versions(int64_t app, int64_t ver, int64_t ntables, bool may_create)
{
	if (app == 0 && ver == 0 && ntables == 0)
		return may_create ? 0 : -EBADMSG; /* an empty database */
	if (app != JH_AUDIT_APP_ID)
		return -EBADMSG;
	if (ver > JH_AUDIT_SCHEMA_VERSION)
		return -EPROTONOSUPPORT;
	return 0;
}

static int migrate(sqlite3 *db)
{
	_cleanup_txn_ sqlite3 *txn = NULL;
	int64_t app, ver, ntables;
	char sql[128];
	int r;

	r = read_versions(db, &app, &ver, &ntables);
	if (r < 0)
		return r;
	r = check_versions(app, ver, ntables, true);
	if (r < 0)
		return r;
	if (app == JH_AUDIT_APP_ID && ver == JH_AUDIT_SCHEMA_VERSION)
		return 0;

	/* Again under the write lock: another process may have done it meanwhile. */
	r = audit_db_begin_immediate(db, &txn);
	if (r < 0)
		return r;
	r = read_versions(db, &app, &ver, &ntables);
	if (r < 0)
		return r;
	r = check_versions(app, ver, ntables, true);
	if (r < 0)
		return r;
	for (int64_t v = ver; v < JH_AUDIT_SCHEMA_VERSION; v++) {
		r = audit_db_exec(db, migrations[v]);
		if (r < 0)
			return r;
	}
	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; PRAGMA user_version = %d",
		 JH_AUDIT_APP_ID, JH_AUDIT_SCHEMA_VERSION);
	r = audit_db_exec(db, sql);
	if (r < 0)
		return r;
	return audit_db_commit(&txn);
}

/* A read-only open reads an older schema as it is (a copy kept as evidence
 * must not be changed to be read); one too old for that needs a read-write
 * open to migrate it first. */
static int check_schema_readonly(sqlite3 *db, int64_t *ret_ver)
{
	int64_t app, ver, ntables;
	int r;

	r = read_versions(db, &app, &ver, &ntables);
	if (r < 0)
		return r;
	r = check_versions(app, ver, ntables, false);
	if (r < 0)
		return r;
	if (ver < JH_AUDIT_SCHEMA_OLDEST_READABLE)
		return -EPROTO;
	*ret_ver = ver;
	return 0;
}

/* ---- the writer's identity ---- */

static int read_small(const char *path, char *buf, size_t len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return jh_negerrno();
	n = JH_RETRY_EINTR(read(fd, buf, len - 1));
	if (n < 0)
		return jh_negerrno();
	buf[n] = '\0';
	return (int)n;
}

/* Start time (field 22) of `pid`; -ESRCH for a zombie or dead task. */
static int proc_starttime(int64_t pid, uint64_t *ret)
{
	char path[64], buf[1024], *p;
	unsigned long long start;
	char state;
	int r;

	snprintf(path, sizeof(path), "/proc/%lld/stat", (long long)pid);
	r = read_small(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	p = strrchr(buf, ')');
	if (!p)
		return -EBADMSG;
	/* ") S ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
	 *  utime stime cutime cstime priority nice num_threads itrealvalue starttime" */
	if (sscanf(
		p + 1,
		" %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
		&state, &start) != 2)
		return -EBADMSG;
	if (state == 'Z' || state == 'X')
		return -ESRCH;
	*ret = start;
	return 0;
}

int audit_writer_id_self(struct writer_id *ret)
{
	struct writer_id w = {0};
	struct stat st;
	char buf[64];
	int r;

	r = read_small("/proc/sys/kernel/random/boot_id", buf, sizeof(buf));
	if (r < 0)
		return r;
	buf[strcspn(buf, "\n")] = '\0';
	snprintf(w.boot, sizeof(w.boot), "%.39s", buf);
	if (stat("/proc/self/ns/pid", &st) < 0)
		return jh_negerrno();
	w.pidns = st.st_ino;
	w.pid = getpid();
	r = proc_starttime(w.pid, &w.start);
	if (r < 0)
		return r;
	*ret = w;
	return 0;
}

bool audit_writer_id_gone(const struct writer_id *w)
{
	struct writer_id self;
	uint64_t start;
	int r;

	if (!w->boot[0] || w->pid <= 0 || audit_writer_id_self(&self) < 0)
		return false; /* cannot tell */
	if (strcmp(w->boot, self.boot) != 0)
		return true; /* the machine rebooted since */
	if (w->pidns != self.pidns)
		return false; /* its pids are not ours to look up */
	r = proc_starttime(w->pid, &start);
	if (r == -ENOENT || r == -ESRCH)
		return true;
	return r == 0 && start != w->start; /* the pid now belongs to another process */
}

/* ---- loading runs ---- */

void jh_audit_run_record_free(struct jh_audit_run_record *rec)
{
	if (!rec)
		return;
	char **strs[] = {&rec->actor,	    &rec->user,		 &rec->host,
			 &rec->exe_path,    &rec->exe_sha256,	 &rec->cwd,
			 &rec->env_sha256,  &rec->prompt,	 &rec->prompt_sha256,
			 &rec->policy_text, &rec->policy_sha256, &rec->platform,
			 &rec->layers,	    &rec->workspace,	 &rec->reason};
	for (size_t i = 0; i < JH_ARRAY_SIZE(strs); i++)
		free(*strs[i]);
	for (size_t i = 0; rec->argv && i < rec->argc; i++)
		free(rec->argv[i]);
	free(rec->argv);
	for (size_t i = 0; i < rec->n_counts; i++)
		free(rec->counts[i].cls);
	free(rec->counts);
	for (size_t i = 0; i < rec->n_changes; i++) {
		free((char *)rec->changes[i].path);
		free((char *)rec->changes[i].sha256_hex);
	}
	free(rec->changes);
	free(rec);
}

static int dup_col(sqlite3_stmt *st, int col, char **out)
{
	const char *s = audit_db_text(st, col, NULL);

	*out = NULL;
	if (!s)
		return 0;
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

static int parse_argv(const void *blob, size_t n, struct jh_audit_run_record *rec)
{
	const char *p = blob;
	size_t argc = 0;

	if (n > 0 && p[n - 1] != '\0')
		return -EBADMSG;
	for (size_t i = 0; i < n; i++)
		argc += p[i] == '\0';
	rec->argv = calloc(argc + 1, sizeof(char *));
	if (!rec->argv)
		return -ENOMEM;
	for (size_t off = 0; off < n; off += strlen(p + off) + 1) {
		rec->argv[rec->argc] = strdup(p + off);
		if (!rec->argv[rec->argc])
			return -ENOMEM;
		rec->argc++;
	}
	return 0;
}

static int load_counts(sqlite3 *db, struct jh_audit_run_record *rec)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r;

	r = audit_db_prepare(
	    db, "SELECT cls, mediated, refused FROM run_counts WHERE run_id = ? ORDER BY cls", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, rec->id);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct jh_audit_count *c = reallocarray(rec->counts, rec->n_counts + 1, sizeof(*c));
		if (!c)
			return -ENOMEM;
		rec->counts = c;
		c = &rec->counts[rec->n_counts++];
		*c = (struct jh_audit_count){.mediated = (uint64_t)sqlite3_column_int64(st, 1),
					     .refused = (uint64_t)sqlite3_column_int64(st, 2)};
		r = dup_col(st, 0, &c->cls);
		if (r < 0)
			return r;
	}
	return r == SQLITE_DONE ? 0 : audit_db_err(db, r);
}

static int load_changes(sqlite3 *db, struct jh_audit_run_record *rec)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r;

	r = audit_db_prepare(
	    db, "SELECT op, path, sha256 FROM run_changes WHERE run_id = ? ORDER BY i", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, rec->id);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct jh_audit_change *c =
		    reallocarray(rec->changes, rec->n_changes + 1, sizeof(*c));
		char *path, *sha;
		int op;

		if (!c)
			return -ENOMEM;
		rec->changes = c;
		op = jh_audit_change_op_from_name(audit_db_text(st, 0, NULL));
		if (op < 0)
			return -EBADMSG;
		if (dup_col(st, 1, &path) < 0)
			return -ENOMEM;
		if (dup_col(st, 2, &sha) < 0) {
			free(path);
			return -ENOMEM;
		}
		rec->changes[rec->n_changes++] =
		    (struct jh_audit_change){.op = op, .path = path, .sha256_hex = sha};
	}
	return r == SQLITE_DONE ? 0 : audit_db_err(db, r);
}

int audit_store_load_run(sqlite3 *db, int64_t id, struct jh_audit_run_record **ret)
{
	_cleanup_(jh_audit_run_record_freep) struct jh_audit_run_record *rec = NULL;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r, state, prompt;

	r = audit_db_prepare(
	    db,
	    "SELECT id, state, start_seq, end_seq, actor, user, host, uid, argv,"
	    " exe_path, exe_sha256, cwd, env_sha256, prompt_record, prompt, prompt_sha256,"
	    " policy, policy_sha256, platform, layers, workspace, start_wall_ns,"
	    " start_mono_ns, exit_status, term_signal, timed_out, sentry_failed, reason,"
	    " end_wall_ns, duration_ns, n_events, lost_events,"
	    " writer_boot, writer_pidns, writer_pid, writer_start"
	    " FROM runs WHERE id = ?",
	    &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	r = sqlite3_step(st);
	if (r == SQLITE_DONE)
		return -ENOENT;
	if (r != SQLITE_ROW)
		return audit_db_err(db, r);

	rec = calloc(1, sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	rec->id = sqlite3_column_int64(st, 0);
	state = jh_audit_run_state_from_name(audit_db_text(st, 1, NULL));
	prompt = jh_audit_prompt_record_from_name(audit_db_text(st, 13, NULL));
	if (state < 0 || prompt < 0)
		return -EBADMSG;
	rec->state = state;
	rec->prompt_record = prompt;
	rec->start_seq = sqlite3_column_int64(st, 2);
	rec->end_seq = sqlite3_column_int64(st, 3);
	rec->uid = (uint32_t)sqlite3_column_int64(st, 7);
	r = parse_argv(sqlite3_column_blob(st, 8), (size_t)sqlite3_column_bytes(st, 8), rec);
	if (r < 0)
		return r;

	struct {
		int col;
		char **to;
	} strs[] = {
	    {4, &rec->actor},	     {5, &rec->user},		{6, &rec->host},
	    {9, &rec->exe_path},     {10, &rec->exe_sha256},	{11, &rec->cwd},
	    {12, &rec->env_sha256},  {14, &rec->prompt},	{15, &rec->prompt_sha256},
	    {16, &rec->policy_text}, {17, &rec->policy_sha256}, {18, &rec->platform},
	    {19, &rec->layers},	     {20, &rec->workspace},	{27, &rec->reason},
	};
	for (size_t i = 0; i < JH_ARRAY_SIZE(strs); i++) {
		r = dup_col(st, strs[i].col, strs[i].to);
		if (r < 0)
			return r;
	}
	rec->start_wall_ns = sqlite3_column_int64(st, 21);
	rec->start_mono_ns = sqlite3_column_int64(st, 22);
	rec->exit_status =
	    sqlite3_column_type(st, 23) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 23);
	rec->term_signal = sqlite3_column_int(st, 24);
	rec->timed_out = sqlite3_column_int(st, 25) != 0;
	rec->sentry_failed = sqlite3_column_int(st, 26) != 0;
	rec->end_wall_ns = sqlite3_column_int64(st, 28);
	rec->duration_ns = sqlite3_column_int64(st, 29);
	rec->n_events = (uint64_t)sqlite3_column_int64(st, 30);
	rec->lost_events = (uint64_t)sqlite3_column_int64(st, 31);
	if (rec->state == JH_AUDIT_RUN_OPEN) {
		struct writer_id w = {
		    .pidns = (uint64_t)sqlite3_column_int64(st, 33),
		    .pid = sqlite3_column_int64(st, 34),
		    .start = (uint64_t)sqlite3_column_int64(st, 35),
		};
		const char *boot = audit_db_text(st, 32, NULL);
		snprintf(w.boot, sizeof(w.boot), "%s", boot ? boot : "");
		rec->writer_gone = audit_writer_id_gone(&w);
	}
	r = load_counts(db, rec);
	if (r < 0)
		return r;
	r = load_changes(db, rec);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(rec);
	return 0;
}

/* ---- appending a run's end ---- */

static int chain_insert(sqlite3 *db, int64_t seq, int kind, int64_t run_id,
			const uint8_t hash[JH_AUDIT_HASH_LEN])
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r;

	r = audit_db_prepare(db, "INSERT INTO chain (seq, kind, run_id, hash) VALUES (?, ?, ?, ?)",
			     &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int(st, 2, kind);
	sqlite3_bind_int64(st, 3, run_id);
	sqlite3_bind_blob(st, 4, hash, JH_AUDIT_HASH_LEN, SQLITE_STATIC);
	r = sqlite3_step(st);
	return r == SQLITE_DONE ? 0 : audit_db_err(db, r);
}

int audit_store_chain_run_record(sqlite3 *db, EVP_MD_CTX *md, int64_t id, int kind, int64_t seq,
				 const uint8_t prev[JH_AUDIT_HASH_LEN])
{
	_cleanup_(jh_audit_run_record_freep) struct jh_audit_run_record *rec = NULL;
	_cleanup_sbuffer_ msgpack_sbuffer sb;
	uint8_t hash[JH_AUDIT_HASH_LEN];
	int r;

	msgpack_sbuffer_init(&sb);
	r = audit_store_load_run(db, id, &rec);
	if (r < 0)
		return r;
	r = kind == REC_RUN_START ? audit_enc_run_start(&sb, seq, rec)
				  : audit_enc_run_end(&sb, seq, rec);
	if (r < 0)
		return r;
	r = audit_chain_hash(md, prev, sb.data, sb.size, hash);
	if (r < 0)
		return r;
	r = chain_insert(db, seq, kind, id, hash);
	if (r < 0)
		return r;
	return audit_chain_write_head(db, seq, hash);
}

int audit_store_append_run_end(sqlite3 *db, EVP_MD_CTX *md, int64_t run_id,
			       enum jh_audit_run_state state, const struct jh_audit_run_end *end,
			       uint64_t lost_events)
{
	_cleanup_stmt_ sqlite3_stmt *upd = NULL, *counts = NULL, *chg = NULL;
	uint8_t prev[JH_AUDIT_HASH_LEN];
	int64_t seq;
	int r;

	r = audit_chain_read_head(db, &seq, prev);
	if (r < 0)
		return r;
	seq++;

	r = audit_db_prepare(
	    db,
	    "UPDATE runs SET state = ?2, end_seq = ?3, exit_status = ?4, term_signal = ?5,"
	    " timed_out = ?6, sentry_failed = ?7, reason = ?8, end_wall_ns = ?9,"
	    " duration_ns = ?10, lost_events = ?11,"
	    " n_events = (SELECT count(*) FROM events WHERE run_id = ?1)"
	    " WHERE id = ?1 AND state = 'open'",
	    &upd);
	if (r < 0)
		return r;
	sqlite3_bind_int64(upd, 1, run_id);
	sqlite3_bind_text(upd, 2, jh_audit_run_state_name(state), -1, SQLITE_STATIC);
	sqlite3_bind_int64(upd, 3, seq);
	sqlite3_bind_int(upd, 4, end->exit_status);
	sqlite3_bind_int(upd, 5, end->term_signal);
	sqlite3_bind_int(upd, 6, end->timed_out);
	sqlite3_bind_int(upd, 7, end->sentry_failed);
	audit_db_bind_text(upd, 8, end->reason);
	sqlite3_bind_int64(upd, 9, end->end_wall_ns);
	sqlite3_bind_int64(upd, 10, end->duration_ns);
	sqlite3_bind_int64(upd, 11, (int64_t)lost_events);
	r = sqlite3_step(upd);
	if (r != SQLITE_DONE)
		return audit_db_err(db, r);
	if (sqlite3_changes(db) != 1)
		return -ESTALE;

	r = audit_db_prepare(db,
			     "INSERT INTO run_counts (run_id, cls, mediated, refused)"
			     " SELECT ?1, coalesce(cls, '?'),"
			     "  sum(decision IN ('passed', 'allowed', 'emulated')),"
			     "  sum(decision IN ('denied', 'killed'))"
			     " FROM events WHERE run_id = ?1 GROUP BY coalesce(cls, '?')",
			     &counts);
	if (r < 0)
		return r;
	sqlite3_bind_int64(counts, 1, run_id);
	r = sqlite3_step(counts);
	if (r != SQLITE_DONE)
		return audit_db_err(db, r);

	if (end->n_changes > 0) {
		r = audit_db_prepare(db,
				     "INSERT INTO run_changes (run_id, i, op, path, sha256)"
				     " VALUES (?, ?, ?, ?, ?)",
				     &chg);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < end->n_changes; i++) {
		const struct jh_audit_change *c = &end->changes[i];
		if (!c->path || (unsigned)c->op >= JH_ARRAY_SIZE(change_names))
			return -EINVAL;
		sqlite3_reset(chg);
		sqlite3_bind_int64(chg, 1, run_id);
		sqlite3_bind_int64(chg, 2, (int64_t)i);
		sqlite3_bind_text(chg, 3, jh_audit_change_op_name(c->op), -1, SQLITE_STATIC);
		sqlite3_bind_text(chg, 4, c->path, -1, SQLITE_STATIC);
		audit_db_bind_text(chg, 5, c->sha256_hex);
		r = sqlite3_step(chg);
		if (r != SQLITE_DONE)
			return audit_db_err(db, r);
	}
	return audit_store_chain_run_record(db, md, run_id, REC_RUN_END, seq, prev);
}

/* ---- runs left open ---- */

/* Ids of open runs whose writer is gone; *n = 0 when none. */
static int collect_stale(sqlite3 *db, int64_t **ids, size_t *n, struct writer_id **who)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r;

	*ids = NULL;
	*who = NULL;
	*n = 0;
	r = audit_db_prepare(db,
			     "SELECT id, writer_boot, writer_pidns, writer_pid, writer_start"
			     " FROM runs WHERE state = 'open' ORDER BY id",
			     &st);
	if (r < 0)
		return r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *boot = audit_db_text(st, 1, NULL);
		struct writer_id w = {
		    .pidns = (uint64_t)sqlite3_column_int64(st, 2),
		    .pid = sqlite3_column_int64(st, 3),
		    .start = (uint64_t)sqlite3_column_int64(st, 4),
		};
		snprintf(w.boot, sizeof(w.boot), "%s", boot ? boot : "");
		if (!audit_writer_id_gone(&w))
			continue;
		int64_t *ni = reallocarray(*ids, *n + 1, sizeof(**ids));
		if (ni)
			*ids = ni;
		struct writer_id *nw = reallocarray(*who, *n + 1, sizeof(**who));
		if (nw)
			*who = nw;
		if (!ni || !nw)
			return -ENOMEM;
		(*ids)[*n] = sqlite3_column_int64(st, 0);
		(*who)[*n] = w;
		(*n)++;
	}
	return r == SQLITE_DONE ? 0 : audit_db_err(db, r);
}

static int mark_stale_runs(sqlite3 *db)
{
	_cleanup_free_ int64_t *ids = NULL;
	_cleanup_free_ struct writer_id *who = NULL;
	_cleanup_txn_ sqlite3 *txn = NULL;
	_cleanup_(jh_evp_md_ctx_freep) EVP_MD_CTX *md = NULL;
	size_t n;
	int r;

	r = collect_stale(db, &ids, &n, &who); /* cheap look first, without the write lock */
	if (r < 0 || n == 0)
		return r;
	free(TAKE_PTR(ids));
	free(TAKE_PTR(who));
	md = EVP_MD_CTX_new();
	if (!md)
		return -ENOMEM;
	r = audit_db_begin_immediate(db, &txn);
	if (r < 0)
		return r;
	r = collect_stale(db, &ids, &n, &who);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		char reason[160];
		struct writer_id self;
		bool rebooted =
		    audit_writer_id_self(&self) == 0 && strcmp(self.boot, who[i].boot) != 0;

		snprintf(reason, sizeof(reason),
			 "the recording process (pid %lld) ended before the run did%s",
			 (long long)who[i].pid, rebooted ? " (the host was restarted)" : "");
		struct jh_audit_run_end end = {.exit_status = -1, .reason = reason};
		r = audit_store_append_run_end(db, md, ids[i], JH_AUDIT_RUN_INCOMPLETE, &end, 0);
		if (r < 0)
			return r;
	}
	return audit_db_commit(&txn);
}

/* ---- opening ---- */

int jh_audit_open(const char *db_path, unsigned flags, struct jh_audit **ret)
{
	_cleanup_(jh_sqlite3_closep) sqlite3 *db = NULL;
	_cleanup_free_ char *path = NULL;
	bool ro = flags & JH_AUDIT_OPEN_READONLY;
	int64_t schema = JH_AUDIT_SCHEMA_VERSION;
	struct jh_audit *a;
	struct stat st;
	int r;

	if (ro && (flags & JH_AUDIT_OPEN_CREATE))
		return -EINVAL;
	if (db_path) {
		path = strdup(db_path);
		if (!path)
			return -ENOMEM;
	} else {
		r = jh_audit_default_path(flags & JH_AUDIT_OPEN_CREATE, &path);
		if (r < 0)
			return r;
	}

	if (flags & JH_AUDIT_OPEN_CREATE) {
		_cleanup_free_ char *dir = strdup(path);
		char *slash;
		int fd;

		if (!dir)
			return -ENOMEM;
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			r = mkdir_p(dir, 0700);
			if (r < 0)
				return r;
		}
		/* Made here, 0600, so that sqlite's -wal and -shm files copy that mode. */
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
		if (fd < 0)
			return jh_negerrno();
		close(fd);
	}
	if (stat(path, &st) < 0)
		return jh_negerrno();
	if (S_ISDIR(st.st_mode))
		return -EISDIR;

	r = audit_db_open_conn(path, ro, &db);
	if (r < 0)
		return r;
	r = ro ? check_schema_readonly(db, &schema) : migrate(db);
	if (r < 0)
		return r;
	if (!ro) {
		r = mark_stale_runs(db);
		if (r < 0)
			return r;
	}

	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->db = TAKE_PTR(db);
	a->path = TAKE_PTR(path);
	a->flags = flags;
	a->schema = schema;
	*ret = a;
	return 0;
}

void jh_audit_close(struct jh_audit *a)
{
	if (!a)
		return;
	sqlite3_close(a->db);
	free(a->path);
	free(a);
}

const char *jh_audit_path(const struct jh_audit *a)
{
	return a->path;
}

/* ---- reading ---- */

int jh_audit_get_run(struct jh_audit *a, int64_t id, struct jh_audit_run_record **ret)
{
	_cleanup_txn_ sqlite3 *txn = NULL;
	int r;

	r = audit_db_begin_read(a->db, &txn);
	if (r < 0)
		return r;
	r = audit_store_load_run(a->db, id, ret);
	if (r < 0)
		return r;
	return audit_db_commit(&txn);
}

int jh_audit_foreach_run(struct jh_audit *a, int64_t since_wall_ns, int64_t limit,
			 jh_audit_run_fn fn, void *userdata)
{
	_cleanup_txn_ sqlite3 *txn = NULL;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r;

	r = audit_db_begin_read(a->db, &txn);
	if (r < 0)
		return r;
	r = audit_db_prepare(a->db,
			     "SELECT id FROM (SELECT id FROM runs WHERE start_wall_ns >= ?1"
			     " ORDER BY id DESC LIMIT ?2) ORDER BY id",
			     &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, since_wall_ns);
	sqlite3_bind_int64(st, 2, limit > 0 ? limit : -1);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		_cleanup_(jh_audit_run_record_freep) struct jh_audit_run_record *rec = NULL;

		r = audit_store_load_run(a->db, sqlite3_column_int64(st, 0), &rec);
		if (r < 0)
			return r;
		r = fn(rec, userdata);
		if (r != 0)
			return r < 0 ? r : audit_db_commit(&txn);
	}
	if (r != SQLITE_DONE)
		return audit_db_err(a->db, r);
	return audit_db_commit(&txn);
}

static bool in_list(const char *const *list, const char *s)
{
	if (!list)
		return true;
	for (; *list; list++)
		if (s && strcmp(*list, s) == 0)
			return true;
	return false;
}

static enum jh_decision decision_from_name(const char *name)
{
	for (int d = 0; d < JH_DECISION_COUNT; d++)
		if (name && strcmp(jh_decision_name(d), name) == 0)
			return d;
	return JH_DECISION_COUNT;
}

int jh_audit_foreach_event(struct jh_audit *a, int64_t run_id,
			   const struct jh_audit_event_filter *filter, jh_audit_event_fn fn,
			   void *userdata)
{
	_cleanup_txn_ sqlite3 *txn = NULL;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	char sql[320];
	int r;

	r = audit_db_begin_read(a->db, &txn);
	if (r < 0)
		return r;
	snprintf(sql, sizeof(sql),
		 "SELECT e.seq, e.run_id, e.idx, e.mono_ns, e.tid, e.cls, e.syscall, e.args,"
		 " e.decision, e.result, e.err, e.detail, %s FROM events e%s",
		 audit_sql_forensics(a->schema),
		 run_id ? " WHERE e.run_id = ? ORDER BY e.idx" : " ORDER BY e.seq");
	r = audit_db_prepare(a->db, sql, &st);
	if (r < 0)
		return r;
	if (run_id)
		sqlite3_bind_int64(st, 1, run_id);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct jh_audit_event_record rec = {
		    .seq = sqlite3_column_int64(st, 0),
		    .run_id = sqlite3_column_int64(st, 1),
		    .idx = sqlite3_column_int64(st, 2),
		    .ev =
			{
			    .mono_ns = (uint64_t)sqlite3_column_int64(st, 3),
			    .tid = sqlite3_column_int(st, 4),
			    .cls = audit_db_text(st, 5, NULL),
			    .syscall = audit_db_text(st, 6, NULL),
			    .args = audit_db_text(st, 7, NULL),
			    .result = sqlite3_column_int64(st, 9),
			    .err = sqlite3_column_int(st, 10),
			    .detail = audit_db_text(st, 11, NULL),
			    .stack = audit_db_text(st, 12, NULL),
			    .disasm = audit_db_text(st, 13, NULL),
			},
		    .decision = audit_db_text(st, 8, NULL),
		};
		rec.ev.decision = decision_from_name(rec.decision);
		if (filter && (!in_list(filter->classes, rec.ev.cls) ||
			       !in_list(filter->decisions, rec.decision)))
			continue;
		r = fn(&rec, userdata);
		if (r != 0)
			return r < 0 ? r : audit_db_commit(&txn);
	}
	if (r != SQLITE_DONE)
		return audit_db_err(a->db, r);
	return audit_db_commit(&txn);
}
