/* Forensics in the audit chain: a refused call's stack and disassembly are
 * stored with its event, bounded, read back, exported and shown; a store of
 * schema 1 (before forensics) is read as it is and migrated with its chain
 * intact. Tampering with them is in test_verify.c. */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

struct seen {
	int n;
	char *stack[8], *disasm[8];
	char syscall[8][32];
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int collect(const struct jh_audit_event_record *rec, void *userdata)
{
	struct seen *s = userdata;

	if (s->n < 8) {
		s->stack[s->n] = dup_or_null(rec->ev.stack);
		s->disasm[s->n] = dup_or_null(rec->ev.disasm);
		snprintf(s->syscall[s->n], sizeof(s->syscall[0]), "%s",
			 rec->ev.syscall ? rec->ev.syscall : "?");
	}
	s->n++;
	return 0;
}

static void seen_free(struct seen *s)
{
	for (int i = 0; i < 8; i++) {
		free(s->stack[i]);
		free(s->disasm[i]);
	}
}

static void read_events(struct jh_audit *a, int64_t run, struct seen *s)
{
	memset(s, 0, sizeof(*s));
	cr_assert_eq(jh_audit_foreach_event(a, run, NULL, collect, s), 0);
}

Test(audit, a_refusals_stack_and_code_are_stored_with_its_event_and_read_back, .init = th_setup,
     .fini = th_teardown)
{
	struct jh_audit *a = th_open();
	struct jh_audit_verify_report rep;
	struct seen s;
	int64_t id = th_record_forensics_run(a);

	read_events(a, id, &s);
	cr_assert_eq(s.n, 3);
	cr_assert_null(s.stack[0]);
	cr_assert_null(s.disasm[0]);
	cr_assert_str_eq(s.stack[1], th_stack);
	cr_assert_str_eq(s.disasm[1], th_disasm);
	cr_assert_null(s.stack[2]);
	cr_assert_str_eq(s.disasm[2], th_disasm);
	seen_free(&s);
	jh_audit_close(a);
	cr_assert_eq(th_verify(NULL, &rep), 0, "%s: %s", rep.where, rep.reason);
	cr_assert_eq(rep.records, 5);
}

/* `n` lines "frame NNNN ....", each 40 bytes with its newline, the last
 * without one. */
static char *many_lines(int n)
{
	char *s = malloc((size_t)n * 40 + 1), *p = s;

	cr_assert_not_null(s);
	for (int i = 0; i < n; i++) {
		p += sprintf(p, "frame %04d ", i % 10000);
		memset(p, '.', 28);
		p += 28;
		*p++ = '\n';
	}
	p[-1] = '\0';
	return s;
}

Test(audit, forensics_are_cut_at_their_cap_after_the_last_whole_line, .init = th_setup,
     .fini = th_teardown)
{
	struct jh_audit *a = th_open();
	struct jh_audit_run *run = NULL;
	struct jh_audit_run_info info = {.actor = "cap"};
	struct jh_audit_verify_report rep;
	struct jh_sink sink;
	struct seen s;
	char *stack = many_lines(2000); /* 80 KB, as a sentry without its own bound might send */
	char *flat = malloc(100001);	/* one line, no newline to cut at */
	char *fits = many_lines(204);	/* 8159 bytes: kept whole */
	size_t kept;

	cr_assert_eq(strlen(fits), 204 * 40 - 1);
	cr_assert_lt(strlen(fits), JH_AUDIT_FORENSICS_MAX);
	memset(flat, 'x', 100000);
	flat[100000] = '\0';
	cr_assert_eq(jh_audit_run_begin(a, &info, &run), 0);
	jh_audit_run_sink(run, &sink);
	jh_sink_emit(&sink, &(struct jh_event){.cls = "system",
					       .syscall = "mount",
					       .decision = JH_DECISION_DENIED,
					       .err = EPERM,
					       .stack = stack,
					       .disasm = flat});
	jh_sink_emit(&sink, &(struct jh_event){.cls = "system",
					       .syscall = "mount",
					       .decision = JH_DECISION_DENIED,
					       .err = EPERM,
					       .stack = "",
					       .disasm = fits});
	cr_assert_eq(jh_audit_run_end(run, NULL), 0);

	read_events(a, 0, &s);
	cr_assert_eq(s.n, 2);
	/* Whole lines, then a line "...", within the cap. */
	cr_assert_leq(strlen(s.stack[0]), JH_AUDIT_FORENSICS_MAX);
	cr_assert_gt(strlen(s.stack[0]), JH_AUDIT_FORENSICS_MAX - 50);
	kept = strlen(s.stack[0]) - 4;
	cr_assert_str_eq(s.stack[0] + kept, "\n...");
	cr_assert_eq(memcmp(s.stack[0], stack, kept), 0);
	cr_assert_eq(stack[kept], '\n', "cut inside a line");
	/* Without a line to end at: cut at the cap. */
	cr_assert_eq(strlen(s.disasm[0]), JH_AUDIT_FORENSICS_MAX);
	cr_assert_str_eq(s.disasm[0] + JH_AUDIT_FORENSICS_MAX - 4, "\n...");
	/* An empty stack says nothing and is stored as none; what fits is kept. */
	cr_assert_null(s.stack[1]);
	cr_assert_str_eq(s.disasm[1], fits);
	seen_free(&s);
	free(stack);
	free(flat);
	free(fits);
	jh_audit_close(a);
	cr_assert_eq(th_verify(NULL, &rep), 0, "%s: %s", rep.where, rep.reason);
}

/* Schema version 1 as it was (before forensics), and the golden store of
 * test_store.c's the_canonical_encoding_does_not_drift written into it by
 * hand, with the hashes a version-1 writer computed (encoding_spec.py). */
static const char v1_schema[] =
    "CREATE TABLE runs ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " state TEXT NOT NULL,"
    " start_seq INTEGER NOT NULL,"
    " end_seq INTEGER,"
    " actor TEXT, user TEXT, host TEXT, uid INTEGER NOT NULL,"
    " argv BLOB NOT NULL,"
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
    " wall_ns INTEGER NOT NULL, key_id BLOB NOT NULL, signature BLOB NOT NULL);";

static const char v1_golden_rows[] =
    "INSERT INTO runs VALUES (1, 'complete', 1, 3, 'golden', 'u', 'h', 7,"
    " X'7368002d63006563686f20686900', '/bin/sh', '00', '/', '11', 'full', 'say hi',"
    " '53eae7058490affdf5ca03d9cc9f08b34b7f408f21f6f8a5e397068709243ede', 'p',"
    " '148de9c5a7a44d19e56cd9ae1a554bf67847afb0c58f6e12fa29ac7ddfca9940', 'unotify',"
    " 'seccomp', 'w', 1700000000000000000, 5000, 0, 0, 0, 0, NULL, 1700000001000000000,"
    " 1000000000, 1, 0, NULL, NULL, NULL, NULL);"
    "INSERT INTO events VALUES (2, 1, 0, 6000, 9, 'file', 'openat',"
    " 'AT_FDCWD, \"/x\", O_RDONLY', 'denied', -1, 2, 'rule 3');"
    "INSERT INTO run_counts VALUES (1, 'file', 0, 1);"
    "INSERT INTO chain VALUES"
    " (1, 1, 1, X'd9d0319d52fa81881a08218c27230cd5e2060d324b1618389231d837c8ed9c19'),"
    " (2, 2, 1, X'd0bdca56497924f080317cbbaf5ddac4460a68f22a6931d7e903f971cac11700'),"
    " (3, 3, 1, X'd9c873c0a0d1995c97ed32cb59f50f4ac9463510a31eb188b14262d82c7a302c');"
    "INSERT INTO head VALUES"
    " (1, 3, X'd9c873c0a0d1995c97ed32cb59f50f4ac9463510a31eb188b14262d82c7a302c');"
    "PRAGMA application_id = 1246249301;"
    "PRAGMA user_version = 1;";

static void make_v1_store(void)
{
	FILE *f = fopen(th_db, "we");

	cr_assert_not_null(f);
	fclose(f);
	cr_assert_eq(th_sql(th_db, "PRAGMA journal_mode = WAL"), 0);
	cr_assert_eq(th_sql(th_db, v1_schema), 0);
	cr_assert_eq(th_sql(th_db, v1_golden_rows), 0);
}

static char *export_text(struct jh_audit *a)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	cr_assert_not_null(m);
	cr_assert_eq(jh_audit_export_jsonl(a, 0, m), 0);
	fclose(m);
	return text;
}

Test(audit, a_version_1_store_is_read_as_it_is_and_migrated_with_its_chain_intact, .init = th_setup,
     .fini = th_teardown)
{
	struct jh_audit_verify_report rep;
	struct jh_audit_head head;
	struct jh_audit *a = NULL;
	char *out = NULL, *text;
	struct seen s;

	make_v1_store();

	/* Read-only: read as it is, nothing written, no forensics. */
	cr_assert_eq(jh_audit_open(th_db, JH_AUDIT_OPEN_READONLY, &a), 0);
	cr_assert_eq(jh_audit_verify(a, NULL, &rep), 0, "%s: %s", rep.where, rep.reason);
	cr_assert_eq(rep.records, 3);
	read_events(a, 1, &s);
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.syscall[0], "openat");
	cr_assert_null(s.stack[0]);
	cr_assert_null(s.disasm[0]);
	seen_free(&s);
	text = export_text(a);
	cr_assert(strstr(text, "\"syscall\":\"openat\""), "%s", text);
	cr_assert(strstr(text, "\"stack\":null") && strstr(text, "\"disasm\":null"), "%s", text);
	free(text);
	jh_audit_close(a);
	cr_assert_eq(th_tool(&out, NULL, (const char *[]){"--db", th_db, "show", "1", NULL}), 0);
	cr_assert(strstr(out, "denied   openat(AT_FDCWD, \"/x\", O_RDONLY) = -1 ENOENT"), "%s",
		  out);
	free(out);
	cr_assert_eq(th_tool(NULL, NULL, (const char *[]){"--db", th_db, "verify", NULL}), 0);
	cr_assert_eq(th_sql_int(th_db, "PRAGMA user_version"), 1);
	cr_assert_eq(th_sql_int(th_db, "SELECT count(*) FROM pragma_table_info('events')"
				       " WHERE name = 'stack'"),
		     0, "a read-only open changed the schema");

	/* Read-write: migrated to the current schema; the old records keep
	 * their hashes, and new ones with forensics chain after them. */
	a = th_open();
	cr_assert_eq(th_sql_int(th_db, "PRAGMA user_version"), JH_AUDIT_SCHEMA_VERSION);
	cr_assert_eq(th_sql_int(th_db, "SELECT count(*) FROM pragma_table_info('events')"
				       " WHERE name IN ('stack', 'disasm')"),
		     2);
	cr_assert_eq(jh_audit_verify(a, NULL, &rep), 0, "%s: %s", rep.where, rep.reason);
	cr_assert_eq(jh_audit_head(a, &head), 0);
	cr_assert_eq(head.seq, 3);
	cr_assert_eq(th_record_forensics_run(a), 2);
	read_events(a, 2, &s);
	cr_assert_str_eq(s.stack[1], th_stack);
	seen_free(&s);
	jh_audit_close(a);
	cr_assert_eq(th_verify(NULL, &rep), 0, "%s: %s", rep.where, rep.reason);
	cr_assert_eq(rep.records, 8);

	/* Forensics slipped into an old event break its record. */
	cr_assert_eq(
	    th_sql(th_db, "UPDATE events SET stack = '#0  0x1 innocent+0x0' WHERE seq = 2"), 0);
	cr_assert_eq(th_verify(NULL, &rep), -EBADMSG);
	cr_assert_eq(rep.bad_seq, 2, "%s: %s", rep.where, rep.reason);
}

Test(audit, show_prints_a_refusals_stack_and_code_indented_under_it, .init = th_setup,
     .fini = th_teardown)
{
	struct jh_audit *a = th_open();
	struct jh_audit_run *run = NULL;
	struct jh_audit_run_info info = {.actor = "esc"};
	struct jh_sink sink;
	char *out = NULL, *line;
	static const char stack_lines[] =
	    "                     stack  #0  0x0000555555555136 try_mount+0x16 (prog)\n"
	    "                            #1  0x0000555555555180 main+0x20 (prog)\n"
	    "                            #2  0x00007ffff7dd924a __libc_start_call_main+0x7a "
	    "(libc.so.6)\n";

	th_record_forensics_run(a);
	cr_assert_eq(jh_audit_run_begin(a, &info, &run), 0);
	jh_audit_run_sink(run, &sink);
	jh_sink_emit(&sink, &(struct jh_event){.cls = "system",
					       .syscall = "mount",
					       .decision = JH_DECISION_DENIED,
					       .err = EPERM,
					       .stack = "#0  0x1 evil\x1b[2J\tname+0x0 (prog)",
					       .disasm = "=> 0x1: syscall"});
	cr_assert_eq(jh_audit_run_end(run, NULL), 0);
	jh_audit_close(a);

	cr_assert_eq(th_tool(&out, NULL, (const char *[]){"--db", th_db, "show", "1", NULL}), 0);
	/* The event line, then the stack a frame a line and the code, indented. */
	line = strstr(out, "denied   mount(");
	cr_assert(line, "%s", out);
	line = strchr(line, '\n') + 1;
	cr_assert(!strncmp(line, stack_lines, strlen(stack_lines)), "%s", out);
	cr_assert(strstr(out, "                     code   site 0x555555555134: "
			      "/usr/local/bin/prog+0x1134 (r-xp)\n"
			      "                               0x55555555512f: mov eax, 0xa5\n"
			      "                            => 0x555555555134: syscall \n"),
		  "%s", out);
	/* A kill with code only: no stack block. */
	line = strstr(out, "killed   (filtered)(");
	cr_assert(line, "%s", out);
	line = strchr(line, '\n') + 1;
	cr_assert(!strncmp(line, "                     code   site ", 33), "%s", out);
	/* The allowed openat has none: the next line is the next event. */
	line = strstr(out, "allowed  openat(");
	cr_assert(line, "%s", out);
	line = strchr(line, '\n') + 1;
	cr_assert(strstr(line, "denied   mount(") < strchr(line, '\n'), "%s", out);
	free(out);

	/* --no-forensics: one line an event. */
	cr_assert_eq(th_tool(&out, NULL,
			     (const char *[]){"--db", th_db, "show", "1", "--no-forensics", NULL}),
		     0);
	cr_assert_null(strstr(out, "try_mount"), "%s", out);
	cr_assert_null(strstr(out, "syscall \n"), "%s", out);
	free(out);

	/* What the task chose (a symbol name) cannot drive the terminal. */
	cr_assert_eq(th_tool(&out, NULL, (const char *[]){"--db", th_db, "show", "2", NULL}), 0);
	cr_assert(strstr(out, "stack  #0  0x1 evil\\x1b[2J\\x09name+0x0 (prog)\n"), "%s", out);
	cr_assert_null(strchr(out, '\x1b'));
	free(out);

	cr_assert_eq(th_tool(&out, NULL, (const char *[]){"--help", NULL}), 0);
	cr_assert(strstr(out, "--no-forensics"), "%s", out);
	free(out);
}

Test(audit, export_carries_stack_and_disasm, .init = th_setup, .fini = th_teardown)
{
	struct jh_audit *a = th_open();
	json_t *lines[8];
	char *text;
	int n = 0;

	th_record_forensics_run(a);
	text = export_text(a);
	for (char *p = text; *p && n < 8; n++) {
		char *nl = strchr(p, '\n');
		json_error_t err;

		cr_assert_not_null(nl);
		lines[n] = json_loadb(p, (size_t)(nl - p), 0, &err);
		cr_assert_not_null(lines[n], "%s", err.text);
		p = nl + 1;
	}
	cr_assert_eq(n, 4, "%s", text);
	cr_assert(json_is_null(json_object_get(lines[1], "stack")));
	cr_assert(json_is_null(json_object_get(lines[1], "disasm")));
	cr_assert_str_eq(json_string_value(json_object_get(lines[2], "stack")), th_stack);
	cr_assert_str_eq(json_string_value(json_object_get(lines[2], "disasm")), th_disasm);
	cr_assert(json_is_null(json_object_get(lines[3], "stack")));
	cr_assert_str_eq(json_string_value(json_object_get(lines[3], "disasm")), th_disasm);
	for (int i = 0; i < n; i++)
		json_decref(lines[i]);
	free(text);
	jh_audit_close(a);
}
