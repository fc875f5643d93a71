/* The store: where it lives, opening and migrating, what a run record holds,
 * events as stored, export, and the canonical encoding staying put. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

static void write_file(const char *path, const char *content)
{
	FILE *f = fopen(path, "we");

	cr_assert_not_null(f);
	fputs(content, f);
	fclose(f);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0, "stat %s", path);
	return st.st_mode & 07777;
}

Test(audit, state_dir_is_jhansi_state_dir_else_xdg_data_home_else_home, .init = th_setup,
     .fini = th_teardown)
{
	char *dir = NULL, *db = NULL;

	setenv("JHANSI_STATE_DIR", th_path("state/deep"), 1);
	cr_assert_eq(jh_audit_state_dir(true, &dir), 0);
	cr_assert_str_eq(dir, th_path("state/deep"));
	cr_assert_eq(mode_of(dir), 0700);
	free(dir);
	cr_assert_eq(jh_audit_default_path(false, &db), 0);
	cr_assert_str_eq(db, th_path("state/deep/audit.db"));
	free(db);

	unsetenv("JHANSI_STATE_DIR");
	setenv("XDG_DATA_HOME", th_path("xdg"), 1);
	cr_assert_eq(jh_audit_state_dir(true, &dir), 0);
	cr_assert_str_eq(dir, th_path("xdg/jhansi"));
	cr_assert_eq(mode_of(dir), 0700);
	free(dir);

	setenv("XDG_DATA_HOME", "relative/ignored", 1);
	setenv("HOME", th_path("home"), 1);
	cr_assert_eq(jh_audit_state_dir(false, &dir), 0);
	if (geteuid() == 0)
		cr_assert_str_eq(dir, "/var/lib/jhansi");
	else
		cr_assert_str_eq(dir, th_path("home/.local/share/jhansi"));
	free(dir);
}

Test(audit, a_new_store_is_private_and_has_the_current_schema_version, .init = th_setup,
     .fini = th_teardown)
{
	struct jh_audit *a = NULL;

	cr_assert_eq(jh_audit_open(th_path("sub/dir/audit.db"), JH_AUDIT_OPEN_CREATE, &a), 0);
	jh_audit_close(a);
	cr_assert_eq(mode_of(th_path("sub/dir")), 0700);
	cr_assert_eq(mode_of(th_path("sub/dir/audit.db")), 0600);
	cr_assert_eq(th_sql_int(th_path("sub/dir/audit.db"), "PRAGMA user_version"),
		     JH_AUDIT_SCHEMA_VERSION);
	cr_assert_eq(th_sql_int(th_path("sub/dir/audit.db"), "PRAGMA application_id"), 0x4a484155);
	cr_assert_eq(th_sql_int(th_path("sub/dir/audit.db"),
				"SELECT count(*) FROM pragma_journal_mode"
				" WHERE journal_mode = 'wal'"),
		     1);
	/* The default path, from the state directory. */
	cr_assert_eq(jh_audit_open(NULL, JH_AUDIT_OPEN_CREATE, &a), 0);
	cr_assert_str_eq(jh_audit_path(a), th_db);
	jh_audit_close(a);
}

Test(audit, a_store_with_a_newer_schema_is_refused, .init = th_setup, .fini = th_teardown)
{
	struct jh_audit *a = th_open();

	jh_audit_close(a);
	cr_assert_eq(th_sql(th_db, "PRAGMA user_version = 99"), 0);
	cr_assert_eq(jh_audit_open(th_db, 0, &a), -EPROTONOSUPPORT);
	cr_assert_eq(jh_audit_open(th_db, JH_AUDIT_OPEN_READONLY, &a), -EPROTONOSUPPORT);
}

Test(audit, an_older_schema_is_migrated_by_a_read_write_open_only, .init = th_setup,
     .fini = th_teardown)
{
	struct jh_audit *a = NULL;

	/* What a version-0 store is: a database stamped as ours, no tables yet. */
	write_file(th_db, "");
	cr_assert_eq(th_sql(th_db, "PRAGMA application_id = 1246249301"), 0);
	cr_assert_eq(jh_audit_open(th_db, JH_AUDIT_OPEN_READONLY, &a), -EPROTO);
	cr_assert_eq(jh_audit_open(th_db, 0, &a), 0);
	jh_audit_close(a);
	cr_assert_eq(th_sql_int(th_db, "PRAGMA user_version"), JH_AUDIT_SCHEMA_VERSION);
	cr_assert_eq(jh_audit_open(th_db, JH_AUDIT_OPEN_READONLY, &a), 0);
	jh_audit_close(a);
}

Test(audit, missing_foreign_and_corrupt_files_are_told_apart, .init = th_setup, .fini = th_teardown)
{
	struct jh_audit *a = NULL;

	cr_assert_eq(jh_audit_open(th_path("nope.db"), 0, &a), -ENOENT);
	cr_assert_eq(jh_audit_open(th_path("nope.db"), JH_AUDIT_OPEN_READONLY, &a), -ENOENT);
	cr_assert_eq(access(th_path("nope.db"), F_OK), -1, "a failed open must not create");

	write_file(th_path("garbage.db"), "this is not a database, not even close; it is text\n"
					  "padding padding padding padding padding padding\n");
	cr_assert_eq(jh_audit_open(th_path("garbage.db"), 0, &a), -EBADMSG);
	cr_assert_eq(jh_audit_open(th_path("garbage.db"), JH_AUDIT_OPEN_READONLY, &a), -EBADMSG);

	/* An empty file is a new store when asked to create, else not a store. */
	write_file(th_path("empty.db"), "");
	cr_assert_eq(jh_audit_open(th_path("empty.db"), JH_AUDIT_OPEN_READONLY, &a), -EBADMSG);
	cr_assert_eq(jh_audit_open(th_path("empty.db"), JH_AUDIT_OPEN_CREATE, &a), 0);
	jh_audit_close(a);

	/* Somebody else's database is left alone. */
	write_file(th_path("foreign.db"), "");
	cr_assert_eq(th_sql(th_path("foreign.db"), "CREATE TABLE t (x)"), 0);
	cr_assert_eq(jh_audit_open(th_path("foreign.db"), JH_AUDIT_OPEN_CREATE, &a), -EBADMSG);
	cr_assert_eq(jh_audit_open(th_path("foreign.db"), JH_AUDIT_OPEN_READONLY, &a), -EBADMSG);
	cr_assert_eq(th_sql_int(th_path("foreign.db"), "SELECT count(*) FROM sqlite_master"), 1);
	cr_assert_eq(jh_audit_open(th_dir, 0, &a), -EISDIR);
}

static int count_runs(const struct jh_audit_run_record *rec, void *userdata)
{
	(*(int *)userdata)++;
	return 0;
}

struct events_seen {
	int n;
	char lines[16][256];
};

static int collect_event(const struct jh_audit_event_record *rec, void *userdata)
{
	struct events_seen *s = userdata;

	if (s->n < 16)
		snprintf(s->lines[s->n], sizeof(s->lines[0]), "%lld %s %s(%s) %lld %d %s",
			 (long long)rec->idx, rec->decision, rec->ev.syscall, rec->ev.args,
			 (long long)rec->ev.result, rec->ev.err,
			 rec->ev.detail ? rec->ev.detail : "-");
	s->n++;
	return 0;
}

Test(audit, a_run_record_holds_who_what_when_prompt_policy_and_how_it_ended, .init = th_setup,
     .fini = th_teardown)
{
	struct jh_audit *a = th_open();
	struct jh_audit_run_record *rec = NULL;
	struct events_seen seen = {0};
	char sha[JH_AUDIT_HEX_LEN];
	int n = 0;

	cr_assert_eq(th_record_run(a, "agent-7", "Summarise the quarterly report", 6, 3), 1);
	cr_assert_eq(jh_audit_get_run(a, 1, &rec), 0);
	cr_assert_eq(rec->state, JH_AUDIT_RUN_COMPLETE);
	cr_assert_str_eq(rec->actor, "agent-7");
	cr_assert_str_eq(rec->user, "tester");
	cr_assert_str_eq(rec->host, "testhost");
	cr_assert_eq(rec->uid, 1000);
	cr_assert_eq(rec->argc, 3);
	cr_assert_str_eq(rec->argv[1], "agent script.py");
	cr_assert_null(rec->argv[3]);
	cr_assert_str_eq(rec->exe_path, "/usr/bin/python3");
	cr_assert_str_eq(rec->cwd, "/work/ws");
	cr_assert_eq(rec->prompt_record, JH_AUDIT_PROMPT_FULL);
	cr_assert_str_eq(rec->prompt, "Summarise the quarterly report");
	jh_audit_sha256_hex("Summarise the quarterly report", 30, sha);
	cr_assert_str_eq(rec->prompt_sha256, sha);
	cr_assert_str_eq(rec->policy_text, "version 1\nnetwork none\n");
	jh_audit_sha256_hex("version 1\nnetwork none\n", 23, sha);
	cr_assert_str_eq(rec->policy_sha256, sha);
	cr_assert_str_eq(rec->platform, "unotify");
	cr_assert_str_eq(rec->layers, "seccomp,landlock");
	cr_assert_str_eq(rec->workspace, "default");
	cr_assert_gt(rec->start_wall_ns, 1600000000LL * 1000000000);
	cr_assert_geq(rec->end_wall_ns, rec->start_wall_ns);
	cr_assert_gt(rec->duration_ns, 0);
	cr_assert_eq(rec->exit_status, 3);
	cr_assert_eq(rec->n_events, 6);
	cr_assert_eq(rec->start_seq, 1);
	cr_assert_eq(rec->end_seq, 8);
	/* Counts per class, sorted: file 2 allowed, ident 2 emulated, net 2 denied. */
	cr_assert_eq(rec->n_counts, 3);
	cr_assert_str_eq(rec->counts[0].cls, "file");
	cr_assert_eq(rec->counts[0].mediated, 2);
	cr_assert_eq(rec->counts[0].refused, 0);
	cr_assert_str_eq(rec->counts[1].cls, "ident");
	cr_assert_eq(rec->counts[1].mediated, 2);
	cr_assert_str_eq(rec->counts[2].cls, "net");
	cr_assert_eq(rec->counts[2].mediated, 0);
	cr_assert_eq(rec->counts[2].refused, 2);
	cr_assert_eq(rec->n_changes, 0);
	jh_audit_run_record_free(rec);

	cr_assert_eq(jh_audit_foreach_run(a, 0, 0, count_runs, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(jh_audit_foreach_event(a, 1, NULL, collect_event, &seen), 0);
	cr_assert_eq(seen.n, 6);
	cr_assert_str_eq(seen.lines[0],
			 "0 allowed openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY|O_CLOEXEC) 3 0 -");
	cr_assert_str_eq(seen.lines[1],
			 "1 denied connect(3, {sa_family=AF_INET, sin_port=htons(80), "
			 "sin_addr=inet_addr(\"169.254.169.254\")}, 16) -1 13 metadata endpoint");
	cr_assert_str_eq(seen.lines[2], "2 emulated uname(0x7ffd0000) 0 0 -");

	seen.n = 0;
	cr_assert_eq(jh_audit_foreach_event(a, 1,
					    &(struct jh_audit_event_filter){
						.decisions = (const char *const[]){"denied", NULL}},
					    collect_event, &seen),
		     0);
	cr_assert_eq(seen.n, 2);
	jh_audit_close(a);
}

Test(audit, prompt_digest_keeps_only_its_hash_and_none_keeps_nothing, .init = th_setup,
     .fini = th_teardown)
{
	struct jh_audit *a = th_open();
	struct jh_audit_run_record *rec = NULL;
	char sha[JH_AUDIT_HEX_LEN];

	for (int mode = JH_AUDIT_PROMPT_NONE; mode <= JH_AUDIT_PROMPT_FULL; mode++) {
		struct jh_audit_run_info info = {.prompt = "secret plans", .prompt_record = mode};
		struct jh_audit_run *run = NULL;
		cr_assert_eq(jh_audit_run_begin(a, &info, &run), 0);
		cr_assert_eq(jh_audit_run_end(run, NULL), 0);
	}
	jh_audit_sha256_hex("secret plans", 12, sha);
	cr_assert_eq(jh_audit_get_run(a, 1, &rec), 0);
	cr_assert_eq(rec->prompt_record, JH_AUDIT_PROMPT_NONE);
	cr_assert_null(rec->prompt);
	cr_assert_null(rec->prompt_sha256);
	jh_audit_run_record_free(rec);
	cr_assert_eq(jh_audit_get_run(a, 2, &rec), 0);
	cr_assert_eq(rec->prompt_record, JH_AUDIT_PROMPT_DIGEST);
	cr_assert_null(rec->prompt);
	cr_assert_str_eq(rec->prompt_sha256, sha);
	jh_audit_run_record_free(rec);
	cr_assert_eq(jh_audit_get_run(a, 3, &rec), 0);
	cr_assert_eq(rec->prompt_record, JH_AUDIT_PROMPT_FULL);
	cr_assert_str_eq(rec->prompt, "secret plans");
	jh_audit_run_record_free(rec);
	jh_audit_close(a);
	/* Not a byte of the digest-only prompt anywhere in the database. */
	cr_assert_eq(th_sql_int(th_db, "SELECT count(*) FROM runs WHERE id < 3 AND"
				       " (prompt IS NOT NULL OR policy LIKE '%secret%')"),
		     0);
	cr_assert_eq(jh_audit_prompt_record_from_name("digest"), JH_AUDIT_PROMPT_DIGEST);
	cr_assert_eq(jh_audit_prompt_record_from_name("some"), -EINVAL);
}

Test(audit, how_a_run_ended_and_its_change_set_are_kept, .init = th_setup, .fini = th_teardown)
{
	struct jh_audit *a = th_open();
	struct jh_audit_run *run = NULL;
	struct jh_audit_run_record *rec = NULL;
	struct jh_audit_verify_report rep;
	struct jh_audit_run_info info = {.actor = "x"};
	struct jh_audit_change changes[] = {
	    {JH_AUDIT_CHANGE_CREATED, "out/report.md", "aa"},
	    {JH_AUDIT_CHANGE_CHANGED, "notes.txt", "bb"},
	    {JH_AUDIT_CHANGE_DELETED, "tmp.bin", NULL},
	};

	cr_assert_eq(jh_audit_run_begin(a, &info, &run), 0);
	cr_assert_eq(jh_audit_run_end(run,
				      &(struct jh_audit_run_end){
					  .exit_status = -1,
					  .term_signal = 9,
					  .timed_out = true,
					  .reason = "time limit of 30 s",
					  .end_wall_ns = 2000000000000000000,
					  .duration_ns = 30000000000,
					  .changes = changes,
					  .n_changes = 3,
				      }),
		     0);
	cr_assert_eq(jh_audit_get_run(a, 1, &rec), 0);
	cr_assert_eq(rec->term_signal, 9);
	cr_assert(rec->timed_out);
	cr_assert_not(rec->sentry_failed);
	cr_assert_str_eq(rec->reason, "time limit of 30 s");
	cr_assert_eq(rec->end_wall_ns, 2000000000000000000);
	cr_assert_eq(rec->duration_ns, 30000000000);
	cr_assert_eq(rec->n_changes, 3);
	cr_assert_eq(rec->changes[2].op, JH_AUDIT_CHANGE_DELETED);
	cr_assert_str_eq(rec->changes[0].path, "out/report.md");
	cr_assert_null(rec->changes[2].sha256_hex);
	jh_audit_run_record_free(rec);
	jh_audit_close(a);
	cr_assert_eq(th_verify(NULL, &rep), 0);
	/* The change set is chained with the run's end. */
	cr_assert_eq(th_sql(th_db, "UPDATE run_changes SET sha256 = 'cc' WHERE i = 1"), 0);
	cr_assert_eq(th_verify(NULL, &rep), -EBADMSG);
	cr_assert_str_eq(rep.where, "record 2 (end of run 1)");
}

Test(audit, long_strings_are_cut_and_a_read_only_store_takes_no_runs, .init = th_setup,
     .fini = th_teardown)
{
	struct jh_audit *a = th_open();
	struct jh_audit_run *run = NULL;
	struct jh_audit_run_info info = {.actor = "x"};
	struct events_seen seen = {0};
	struct jh_audit_checkpoint cp;
	struct jh_sink sink;
	char *big = malloc(100000);

	memset(big, 'p', 99999);
	big[99999] = '\0';
	cr_assert_eq(jh_audit_run_begin(a, &info, &run), 0);
	jh_audit_run_sink(run, &sink);
	jh_sink_emit(&sink, &(struct jh_event){.cls = "file",
					       .syscall = "openat",
					       .args = big,
					       .decision = JH_DECISION_DENIED,
					       .err = ENAMETOOLONG});
	free(big);
	cr_assert_eq(jh_audit_run_end(run, NULL), 0);
	jh_audit_close(a);
	cr_assert_eq(th_sql_int(th_db, "SELECT length(args) FROM events"), 16384);
	cr_assert_eq(th_sql_int(th_db, "SELECT substr(args, -3) = '...' FROM events"), 1);

	cr_assert_eq(jh_audit_open(th_db, JH_AUDIT_OPEN_READONLY, &a), 0);
	cr_assert_eq(jh_audit_run_begin(a, &info, &run), -EROFS);
	cr_assert_eq(jh_audit_checkpoint(a, "/nonexistent", &cp, NULL), -EROFS);
	cr_assert_eq(jh_audit_foreach_event(a, 0, NULL, collect_event, &seen), 0);
	cr_assert_eq(seen.n, 1);
	jh_audit_close(a);
}

Test(audit, digests_of_files_and_environments, .init = th_setup, .fini = th_teardown)
{
	char hex[JH_AUDIT_HEX_LEN], hex2[JH_AUDIT_HEX_LEN];
	const char *env1[] = {"B=2", "A=1", NULL}, *env2[] = {"A=1", "B=2", NULL};
	const char *env3[] = {"A=1", "B=3", NULL};

	write_file(th_path("f"), "abc");
	cr_assert_eq(jh_audit_file_sha256_hex(th_path("f"), hex), 0);
	cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	cr_assert_eq(jh_audit_file_sha256_hex(th_path("none"), hex), -ENOENT);
	jh_audit_env_digest_hex(env1, hex);
	jh_audit_env_digest_hex(env2, hex2);
	cr_assert_str_eq(hex, hex2, "order does not matter");
	jh_audit_env_digest_hex(env3, hex2);
	cr_assert_str_neq(hex, hex2);
}

/* The run the golden-encoding tests record (tests/audit/encoding_spec.py
 * computes the same heads). */
static struct jh_audit_run_info golden_run_info(void)
{
	static const char *argv[] = {"sh", "-c", "echo hi", NULL};

	return (struct jh_audit_run_info){
	    .actor = "golden",
	    .user = "u",
	    .host = "h",
	    .uid = 7,
	    .argv = argv,
	    .exe_path = "/bin/sh",
	    .exe_sha256_hex = "00",
	    .cwd = "/",
	    .env_digest_hex = "11",
	    .prompt = "say hi",
	    .prompt_record = JH_AUDIT_PROMPT_FULL,
	    .policy_text = "p",
	    .platform = "unotify",
	    .layers = "seccomp",
	    .workspace = "w",
	    .start_wall_ns = 1700000000000000000,
	    .start_mono_ns = 5000,
	};
}

/* A store written with fixed times and contents has a fixed head: the
 * canonical encoding must never drift, or old stores stop verifying. */
Test(audit, the_canonical_encoding_does_not_drift, .init = th_setup, .fini = th_teardown)
{
	struct jh_audit *a = th_open();
	struct jh_audit_run *run = NULL;
	struct jh_audit_head head;
	struct jh_sink sink;
	char hex[JH_AUDIT_HEX_LEN];
	struct jh_audit_run_info info = golden_run_info();

	cr_assert_eq(jh_audit_run_begin(a, &info, &run), 0);
	jh_audit_run_sink(run, &sink);
	jh_sink_emit(&sink, &(struct jh_event){.mono_ns = 6000,
					       .tid = 9,
					       .cls = "file",
					       .syscall = "openat",
					       .args = "AT_FDCWD, \"/x\", O_RDONLY",
					       .decision = JH_DECISION_DENIED,
					       .result = -1,
					       .err = 2,
					       .detail = "rule 3"});
	cr_assert_eq(
	    jh_audit_run_end(run, &(struct jh_audit_run_end){.exit_status = 0,
							     .end_wall_ns = 1700000001000000000,
							     .duration_ns = 1000000000}),
	    0);
	cr_assert_eq(jh_audit_head(a, &head), 0);
	jh_audit_close(a);
	cr_assert_eq(head.seq, 3);
	jh_audit_hex(head.hash, sizeof(head.hash), hex);
	cr_assert_str_eq(hex, GOLDEN_HEAD, "the encoding changed: head is %s", hex);
}

/* The same for an event with forensics (format version 2, encoding_spec.py
 * again): one event without, one with stack and disassembly, one with only
 * the disassembly. The one above must still hold: records without forensics
 * keep the encoding they had before forensics were recorded. */
Test(audit, the_forensics_encoding_does_not_drift, .init = th_setup, .fini = th_teardown)
{
	static const char stack[] =
	    "#0  0x0000000000401136 try_mount+0x16 (prog)\n#1  0x0000000000401180 main+0x20 (prog)";
	static const char code[] = "site 0x401134: /bin/prog+0x1134 (r-xp)\n   0x40112f: mov eax, "
				   "0xa5\n=> 0x401134: syscall \n   0x401136: ret ";
	struct jh_audit *a = th_open();
	struct jh_audit_run *run = NULL;
	struct jh_audit_head head;
	struct jh_sink sink;
	char hex[JH_AUDIT_HEX_LEN];
	struct jh_audit_run_info info = golden_run_info();

	cr_assert_eq(jh_audit_run_begin(a, &info, &run), 0);
	jh_audit_run_sink(run, &sink);
	jh_sink_emit(&sink, &(struct jh_event){.mono_ns = 6000,
					       .tid = 9,
					       .cls = "file",
					       .syscall = "openat",
					       .args = "AT_FDCWD, \"/x\", O_RDONLY",
					       .decision = JH_DECISION_DENIED,
					       .result = -1,
					       .err = 2,
					       .detail = "rule 3"});
	jh_sink_emit(&sink, &(struct jh_event){.mono_ns = 7000,
					       .tid = 9,
					       .cls = "system",
					       .syscall = "mount",
					       .args = "\"none\", \"/mnt\", \"tmpfs\", 0, NULL",
					       .decision = JH_DECISION_DENIED,
					       .result = -1,
					       .err = 1,
					       .detail = "refused by policy",
					       .stack = stack,
					       .disasm = code});
	jh_sink_emit(&sink,
		     &(struct jh_event){
			 .mono_ns = 8000,
			 .tid = 9,
			 .cls = "system",
			 .syscall = "(filtered)",
			 .args = "nr 20, 0x0, 0x0, 0x0",
			 .decision = JH_DECISION_KILLED,
			 .disasm = "site 0x7f0000001000: [anonymous rwx] (not file-backed code)"});
	cr_assert_eq(
	    jh_audit_run_end(run, &(struct jh_audit_run_end){.exit_status = 0,
							     .end_wall_ns = 1700000001000000000,
							     .duration_ns = 1000000000}),
	    0);
	cr_assert_eq(jh_audit_head(a, &head), 0);
	jh_audit_close(a);
	cr_assert_eq(head.seq, 5);
	jh_audit_hex(head.hash, sizeof(head.hash), hex);
	cr_assert_str_eq(hex, GOLDEN_HEAD_FORENSICS, "the encoding changed: head is %s", hex);
	/* The version of each event record, as encoded, is in the stored row's
	 * shape: the plain event has no forensics columns set. */
	cr_assert_eq(th_sql_int(th_db, "SELECT count(*) FROM events WHERE stack IS NULL AND disasm"
				       " IS NULL"),
		     1);
}

static int parse_lines(const char *text, json_t **lines, int max)
{
	int n = 0;

	for (const char *p = text; *p && n < max;) {
		const char *nl = strchr(p, '\n');
		json_error_t err;
		cr_assert_not_null(nl, "line not terminated");
		lines[n] = json_loadb(p, (size_t)(nl - p), 0, &err);
		cr_assert_not_null(lines[n], "line %d: %s", n, err.text);
		n++;
		p = nl + 1;
	}
	return n;
}

Test(audit, export_writes_one_json_object_a_line, .init = th_setup, .fini = th_teardown)
{
	struct jh_audit *a = th_open();
	struct jh_audit_run *run = NULL;
	const char *argv[] = {"cat", "caf\xc3\xa9", "bad\xff", NULL};
	struct jh_audit_run_info info = {
	    .actor = "exp", .argv = argv, .prompt = "p", .prompt_record = JH_AUDIT_PROMPT_DIGEST};
	json_t *lines[16];
	char *text = NULL;
	size_t len = 0;
	FILE *m;
	int n;

	th_record_run(a, "first", "one", 3, 0);
	cr_assert_eq(jh_audit_run_begin(a, &info, &run), 0);
	cr_assert_eq(jh_audit_run_end(run, NULL), 0);

	m = open_memstream(&text, &len);
	cr_assert_eq(jh_audit_export_jsonl(a, 0, m), 0);
	fclose(m);
	n = parse_lines(text, lines, 16);
	cr_assert_eq(n, 5, "%s", text);
	cr_assert_str_eq(json_string_value(json_object_get(lines[0], "type")), "run");
	cr_assert_eq(json_integer_value(json_object_get(lines[0], "run")), 1);
	cr_assert_str_eq(json_string_value(json_object_get(lines[0], "actor")), "first");
	cr_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(lines[0], "prompt"), "text")), "one");
	cr_assert_eq(json_integer_value(json_object_get(lines[0], "exit_status")), 0);
	cr_assert_eq(json_integer_value(json_object_get(
			 json_object_get(json_object_get(lines[0], "calls"), "net"), "refused")),
		     1);
	cr_assert_eq(strlen(json_string_value(json_object_get(lines[0], "hash"))), 64);
	cr_assert_str_eq(json_string_value(json_object_get(lines[2], "type")), "event");
	cr_assert_str_eq(json_string_value(json_object_get(lines[2], "syscall")), "connect");
	cr_assert_str_eq(json_string_value(json_object_get(lines[2], "decision")), "denied");
	cr_assert_eq(json_integer_value(json_object_get(lines[2], "err")), 13);
	cr_assert(json_is_null(json_object_get(lines[2], "result")));
	cr_assert_str_eq(json_string_value(json_object_get(lines[2], "actor")), "first");
	cr_assert_str_eq(json_string_value(json_object_get(lines[4], "actor")), "exp");
	cr_assert(json_is_null(json_object_get(json_object_get(lines[4], "prompt"), "text")));
	json_t *av = json_object_get(lines[4], "argv");
	cr_assert_str_eq(json_string_value(json_array_get(av, 1)), "caf\xc3\xa9");
	cr_assert_str_eq(json_string_value(json_array_get(av, 2)), "bad\\xff");
	for (int i = 0; i < n; i++)
		json_decref(lines[i]);
	free(text);

	/* --since: only runs that started then or later. */
	text = NULL;
	m = open_memstream(&text, &len);
	cr_assert_eq(jh_audit_export_jsonl(a, INT64_MAX, m), 0);
	fclose(m);
	cr_assert_str_eq(text, "");
	free(text);
	jh_audit_close(a);
}
