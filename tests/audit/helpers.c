/* Test helpers for the audit store (see helpers.h). */
#include "helpers.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

char th_dir[256];
char th_db[300];

void th_setup(void)
{
	snprintf(th_dir, sizeof(th_dir), "/tmp/jh-audit-test-XXXXXX");
	cr_assert_not_null(mkdtemp(th_dir));
	snprintf(th_db, sizeof(th_db), "%s/audit.db", th_dir);
	/* Nothing a test does may land in the real state directory. */
	setenv("JHANSI_STATE_DIR", th_dir, 1);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

void th_teardown(void)
{
	if (th_dir[0])
		nftw(th_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *th_path(const char *name)
{
	static char buf[4][400];
	static int slot;
	char *p = buf[slot++ % 4];

	snprintf(p, 400, "%s/%s", th_dir, name);
	return p;
}

struct jh_audit *th_open(void)
{
	struct jh_audit *a = NULL;
	int r = jh_audit_open(th_db, JH_AUDIT_OPEN_CREATE, &a);

	cr_assert_eq(r, 0, "open %s: %s", th_db, strerror(-r));
	return a;
}

int64_t th_record_run(struct jh_audit *a, const char *actor, const char *prompt, int n_events,
		      int exit_status)
{
	const char *argv[] = {"python3", "agent script.py", "--flag", NULL};
	struct jh_audit_run_info info = {
	    .actor = actor,
	    .user = "tester",
	    .host = "testhost",
	    .uid = 1000,
	    .argv = argv,
	    .exe_path = "/usr/bin/python3",
	    .exe_sha256_hex = "ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01",
	    .cwd = "/work/ws",
	    .env_digest_hex = "cd02cd02cd02cd02cd02cd02cd02cd02cd02cd02cd02cd02cd02cd02cd02cd02",
	    .prompt = prompt,
	    .prompt_record = JH_AUDIT_PROMPT_FULL,
	    .policy_text = "version 1\nnetwork none\n",
	    .platform = "unotify",
	    .layers = "seccomp,landlock",
	    .workspace = "default",
	};
	struct jh_audit_run *run = NULL;
	struct jh_sink sink;
	int64_t id;
	int r;

	r = jh_audit_run_begin(a, &info, &run);
	cr_assert_eq(r, 0, "run_begin: %s", strerror(-r));
	id = jh_audit_run_id(run);
	jh_audit_run_sink(run, &sink);
	for (int i = 0; i < n_events; i++) {
		struct jh_event ev = {.mono_ns = (uint64_t)i * 1000 + 1, .tid = 4242};
		switch (i % 3) {
		case 0:
			ev = (struct jh_event){.mono_ns = ev.mono_ns,
					       .tid = ev.tid,
					       .cls = "file",
					       .syscall = "openat",
					       .args =
						   "AT_FDCWD, \"/etc/passwd\", O_RDONLY|O_CLOEXEC",
					       .decision = JH_DECISION_ALLOWED,
					       .result = 3};
			break;
		case 1:
			ev = (struct jh_event){.mono_ns = ev.mono_ns,
					       .tid = ev.tid,
					       .cls = "net",
					       .syscall = "connect",
					       .args =
						   "3, {sa_family=AF_INET, sin_port=htons(80), "
						   "sin_addr=inet_addr(\"169.254.169.254\")}, 16",
					       .decision = JH_DECISION_DENIED,
					       .result = -1,
					       .err = 13,
					       .detail = "metadata endpoint"};
			break;
		default:
			ev = (struct jh_event){.mono_ns = ev.mono_ns,
					       .tid = ev.tid,
					       .cls = "ident",
					       .syscall = "uname",
					       .args = "0x7ffd0000",
					       .decision = JH_DECISION_EMULATED,
					       .result = 0};
		}
		jh_sink_emit(&sink, &ev);
	}
	r = jh_audit_run_end(run, &(struct jh_audit_run_end){.exit_status = exit_status});
	cr_assert_eq(r, 0, "run_end: %s", strerror(-r));
	return id;
}

const char th_stack[] = "#0  0x0000555555555136 try_mount+0x16 (prog)\n"
			"#1  0x0000555555555180 main+0x20 (prog)\n"
			"#2  0x00007ffff7dd924a __libc_start_call_main+0x7a (libc.so.6)";
const char th_disasm[] = "site 0x555555555134: /usr/local/bin/prog+0x1134 (r-xp)\n"
			 "   0x55555555512f: mov eax, 0xa5\n"
			 "=> 0x555555555134: syscall \n"
			 "   0x555555555136: ret ";

int64_t th_record_forensics_run(struct jh_audit *a)
{
	const char *argv[] = {"prog", "inline", NULL};
	struct jh_audit_run_info info = {.actor = "forensic", .argv = argv, .platform = "ptrace"};
	struct jh_audit_run *run = NULL;
	struct jh_sink sink;
	int64_t id;
	int r;

	r = jh_audit_run_begin(a, &info, &run);
	cr_assert_eq(r, 0, "run_begin: %s", strerror(-r));
	id = jh_audit_run_id(run);
	jh_audit_run_sink(run, &sink);
	jh_sink_emit(&sink, &(struct jh_event){.mono_ns = 1000,
					       .tid = 77,
					       .cls = "file",
					       .syscall = "openat",
					       .args = "AT_FDCWD, \"/etc/hosts\", O_RDONLY",
					       .decision = JH_DECISION_ALLOWED,
					       .result = 3});
	jh_sink_emit(&sink, &(struct jh_event){.mono_ns = 2000,
					       .tid = 77,
					       .cls = "system",
					       .syscall = "mount",
					       .args = "\"none\", \"/mnt\", \"tmpfs\", 0, NULL",
					       .decision = JH_DECISION_DENIED,
					       .result = -1,
					       .err = 1,
					       .detail = "refused by policy",
					       .stack = th_stack,
					       .disasm = th_disasm});
	jh_sink_emit(&sink, &(struct jh_event){.mono_ns = 3000,
					       .tid = 78,
					       .cls = "system",
					       .syscall = "(filtered)",
					       .args = "nr 20, 0x0, 0x0, 0x0",
					       .decision = JH_DECISION_KILLED,
					       .disasm = th_disasm});
	r = jh_audit_run_end(run, &(struct jh_audit_run_end){.exit_status = 0});
	cr_assert_eq(r, 0, "run_end: %s", strerror(-r));
	return id;
}

int th_sql(const char *db, const char *sql)
{
	sqlite3 *h = NULL;
	int rc = sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(h, 10000);
		rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
	}
	sqlite3_close(h);
	return rc;
}

int64_t th_sql_int(const char *db, const char *sql)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return strdup("");
	FILE *m = open_memstream(&buf, &len);
	int c;
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(m);
	fclose(f);
	return buf;
}

int th_tool(char **out, char **err, const char *const *args)
{
	const char *argv[32] = {JH_AUDIT_TOOL};
	const char *o = th_path("tool.out"), *e = th_path("tool.err");
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st, n = 1;

	for (; args[n - 1] && n < 31; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, o, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, e, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_eq(posix_spawn(&pid, JH_AUDIT_TOOL, &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	if (out)
		*out = slurp(o);
	if (err)
		*err = slurp(e);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void th_keygen(const char *priv, const char *pub)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	FILE *f;

	cr_assert_not_null(k);
	f = fopen(priv, "we");
	cr_assert_not_null(f);
	cr_assert(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL));
	fclose(f);
	f = fopen(pub, "we");
	cr_assert_not_null(f);
	cr_assert(PEM_write_PUBKEY(f, k));
	fclose(f);
	EVP_PKEY_free(k);
}

int th_verify(const char *pubkey, struct jh_audit_verify_report *rep)
{
	struct jh_audit *a = NULL;
	int r = jh_audit_open(th_db, JH_AUDIT_OPEN_READONLY, &a);

	cr_assert_eq(r, 0, "open read-only: %s", strerror(-r));
	r = jh_audit_verify(a, pubkey, rep);
	jh_audit_close(a);
	return r;
}
