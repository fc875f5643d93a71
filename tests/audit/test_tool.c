/* jhansi-audit, the binary: run with posix_spawn, its output and exit status
 * checked as a user or a script would see them. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

#define TOOL(...) ((const char *[]){"--db", th_db, __VA_ARGS__, NULL})

static bool one_line(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && s[n - 1] == '\n' && strchr(s, '\n') == s + n - 1;
}

Test(audit, a_run_with_a_prompt_appears_in_runs_and_show_prints_its_record_and_events,
     .init = th_setup, .fini = th_teardown)
{
	struct jh_audit *a = th_open();
	struct jh_audit_run_record *rec = NULL;
	char *out = NULL, *err = NULL;

	th_record_run(a, "agent-7", "Summarise the quarterly report", 6, 3);
	cr_assert_eq(jh_audit_get_run(a, 1, &rec), 0);
	jh_audit_close(a);

	cr_assert_eq(th_tool(&out, &err, TOOL("runs")), 0, "%s", err);
	cr_assert(strstr(out, "ID     START (UTC)"), "%s", out);
	char *line = strstr(out, "\n1 ");
	cr_assert_not_null(line, "%s", out);
	cr_assert(strstr(line, "agent-7"), "%s", out);
	cr_assert(strstr(line, "default"), "%s", out);
	cr_assert(strstr(line, " 3 "), "exit status: %s", out);
	cr_assert(strstr(line, "python3 \"agent script.py\" --flag\n"), "%s", out);
	free(out);
	free(err);

	cr_assert_eq(th_tool(&out, &err, TOOL("show", "1")), 0, "%s", err);
	cr_assert(strstr(out, "run 1 (complete)"), "%s", out);
	cr_assert(strstr(out, "Summarise the quarterly report"), "prompt: %s", out);
	cr_assert(strstr(out, rec->prompt_sha256), "%s", out);
	cr_assert(strstr(out, rec->policy_sha256), "policy hash: %s", out);
	cr_assert(strstr(out, "command     python3 \"agent script.py\" --flag"), "%s", out);
	cr_assert(strstr(out, "exit        status 3"), "%s", out);
	cr_assert(strstr(out, "file 2 mediated, 0 refused; ident 2 mediated, 0 refused; net 0 "
			      "mediated, 2 refused"),
		  "%s", out);
	cr_assert(strstr(out, "allowed  openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY|O_CLOEXEC) = 3"),
		  "%s", out);
	cr_assert(strstr(out, "denied   connect(3, {sa_family=AF_INET, sin_port=htons(80), "
			      "sin_addr=inet_addr(\"169.254.169.254\")}, 16) = -1 EACCES"),
		  "%s", out);
	cr_assert(strstr(out, "# metadata endpoint"), "%s", out);
	cr_assert(strstr(out, "emulated uname(0x7ffd0000) = 0"), "%s", out);
	cr_assert_str_eq(err, "");
	jh_audit_run_record_free(rec);
	free(out);
	free(err);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

Test(audit, show_filters_events_by_class_and_decision, .init = th_setup, .fini = th_teardown)
{
	struct jh_audit *a = th_open();
	char *out = NULL, *err = NULL;

	th_record_run(a, "x", "p", 9, 0);
	jh_audit_close(a);
	cr_assert_eq(th_tool(&out, NULL, TOOL("show", "1", "--class", "net")), 0);
	cr_assert_eq(count(out, "connect("), 3, "%s", out);
	cr_assert_eq(count(out, "openat("), 0, "%s", out);
	free(out);
	cr_assert_eq(th_tool(&out, NULL, TOOL("show", "--decision", "emulated,allowed", "1")), 0);
	cr_assert_eq(count(out, "uname("), 3, "%s", out);
	cr_assert_eq(count(out, "openat("), 3, "%s", out);
	cr_assert_eq(count(out, "connect("), 0, "%s", out);
	free(out);
	cr_assert_eq(
	    th_tool(&out, NULL, TOOL("show", "1", "--class", "net", "--decision", "allowed")), 0);
	cr_assert(strstr(out, "events (filtered):\n  none\n"), "%s", out);
	free(out);
	cr_assert_eq(th_tool(NULL, &err, TOOL("show", "1", "--decision", "maybe")), 2);
	cr_assert(one_line(err) && strstr(err, "unknown decision 'maybe'"), "%s", err);
	free(err);
	cr_assert_eq(th_tool(NULL, &err, TOOL("show", "7")), 2);
	cr_assert(one_line(err) && strstr(err, "no run 7 in"), "%s", err);
	free(err);
}

Test(audit, help_names_every_command_and_option, .init = th_setup, .fini = th_teardown)
{
	static const char *const words[] = {"runs",
					    "show RUN",
					    "--class",
					    "--decision",
					    "verify",
					    "--pubkey",
					    "export",
					    "--format jsonl",
					    "--since",
					    "head",
					    "checkpoint --key",
					    "--db PATH",
					    "JHANSI_STATE_DIR",
					    "Exit status"};
	char *out = NULL;

	cr_assert_eq(th_tool(&out, NULL, (const char *[]){"--help", NULL}), 0);
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		cr_assert(strstr(out, words[i]), "--help lacks '%s'", words[i]);
	free(out);
	cr_assert_eq(th_tool(&out, NULL, (const char *[]){"verify", "--help", NULL}), 0);
	cr_assert(strstr(out, "Usage: jhansi-audit"));
	free(out);
}

Test(audit, usage_and_store_errors_are_one_line_and_exit_2, .init = th_setup, .fini = th_teardown)
{
	static const char *const cases[][8] = {
	    {"frobnicate", NULL},
	    {NULL},
	    {"show", NULL},
	    {"show", "abc", NULL},
	    {"runs", "--pubkey", "x", NULL},
	    {"export", "--format", "csv", NULL},
	    {"export", "--since", "yesterday-ish", NULL},
	    {"runs", "--limit", "0", NULL},
	    {"checkpoint", NULL},
	    {"runs", "extra", NULL},
	};
	struct jh_audit *a = th_open();
	char *err = NULL;

	th_record_run(a, "x", "p", 1, 0);
	jh_audit_close(a);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *args[12] = {"--db", th_db};
		for (int j = 0; cases[i][j]; j++)
			args[2 + j] = cases[i][j];
		cr_assert_eq(th_tool(NULL, &err, args), 2, "case %zu", i);
		cr_assert(one_line(err), "case %zu: '%s'", i, err);
		cr_assert(strncmp(err, "jhansi-audit: ", 14) == 0, "%s", err);
		free(err);
	}

	/* A missing store. */
	cr_assert_eq(
	    th_tool(NULL, &err, (const char *[]){"--db", th_path("none.db"), "runs", NULL}), 2);
	cr_assert(one_line(err) && strstr(err, "no audit store at"), "%s", err);
	cr_assert_eq(access(th_path("none.db"), F_OK), -1, "reading must not create a store");
	free(err);
	/* Not a store. */
	FILE *f = fopen(th_path("junk.db"), "we");
	fputs("SQLite format 2? no: just some text that is long enough to be a header.....", f);
	fclose(f);
	cr_assert_eq(
	    th_tool(NULL, &err, (const char *[]){"--db", th_path("junk.db"), "verify", NULL}), 2);
	cr_assert(one_line(err) && strstr(err, "is not a jhansi audit store, or it is corrupt"),
		  "%s", err);
	free(err);
	/* A store whose tables were damaged. */
	cr_assert_eq(th_sql(th_db, "DROP TABLE chain"), 0);
	cr_assert_eq(th_tool(NULL, &err, TOOL("verify")), 2);
	cr_assert(one_line(err) && strstr(err, "is not a jhansi audit store, or it is corrupt"),
		  "%s", err);
	free(err);
	/* $JHANSI_STATE_DIR selects the store when --db is not given. */
	setenv("JHANSI_STATE_DIR", th_path("elsewhere"), 1);
	cr_assert_eq(th_tool(NULL, &err, (const char *[]){"head", NULL}), 2);
	cr_assert(strstr(err, "elsewhere/audit.db"), "%s", err);
	free(err);
}

Test(audit, head_prints_the_newest_record_and_jhansi_state_dir_selects_the_store, .init = th_setup,
     .fini = th_teardown)
{
	struct jh_audit *a = th_open();
	struct jh_audit_head h;
	char hex[JH_AUDIT_HEX_LEN], want[100], *out = NULL;

	th_record_run(a, "x", "p", 4, 0);
	cr_assert_eq(jh_audit_head(a, &h), 0);
	jh_audit_close(a);
	jh_audit_hex(h.hash, sizeof(h.hash), hex);
	snprintf(want, sizeof(want), "6 %s\n", hex);
	cr_assert_eq(th_tool(&out, NULL, (const char *[]){"head", NULL}),
		     0); /* th_setup set the dir */
	cr_assert_str_eq(out, want);
	free(out);
}

Test(audit, export_jsonl_writes_objects_a_siem_can_parse_and_since_filters_runs, .init = th_setup,
     .fini = th_teardown)
{
	struct jh_audit *a = th_open();
	char *out = NULL, *err = NULL, since[32];
	int lines = 0;

	th_record_run(a, "old", "p", 2, 0);
	jh_audit_close(a);
	cr_assert_eq(th_sql(th_db, "UPDATE runs SET start_wall_ns = 1000000000000000000"),
		     0); /* 2001 */
	a = th_open();
	th_record_run(a, "new", "p", 3, 1);
	jh_audit_close(a);

	cr_assert_eq(th_tool(&out, &err, TOOL("export", "--format", "jsonl")), 0, "%s", err);
	for (char *p = out, *nl; (nl = strchr(p, '\n')); p = nl + 1, lines++) {
		json_error_t je;
		json_t *o = json_loadb(p, (size_t)(nl - p), 0, &je);
		cr_assert_not_null(o, "line %d: %s", lines, je.text);
		cr_assert(json_is_string(json_object_get(o, "type")));
		cr_assert(json_is_integer(json_object_get(o, "seq")));
		json_decref(o);
	}
	cr_assert_eq(lines, 1 + 2 + 1 + 3);
	free(out);

	cr_assert_eq(th_tool(&out, NULL, TOOL("export", "--since", "2020-01-01")), 0);
	cr_assert_eq(count(out, "\"type\":\"run\""), 1, "%s", out);
	cr_assert(strstr(out, "\"actor\":\"new\""), "%s", out);
	free(out);
	cr_assert_eq(th_tool(&out, NULL, TOOL("export", "--since", "-1h")), 0);
	cr_assert_eq(count(out, "\"type\":\"run\""), 1, "%s", out);
	free(out);
	snprintf(since, sizeof(since), "@%d", 999999999);
	cr_assert_eq(th_tool(&out, NULL, TOOL("export", "--since", since)), 0);
	cr_assert_eq(count(out, "\"type\":\"run\""), 2, "%s", out);
	free(out);
	cr_assert_eq(th_tool(&out, NULL, TOOL("runs", "--since", "2020-01-01T00:00:00Z")), 0);
	cr_assert_eq(count(out, "\n"), 2, "%s", out);
	free(out);
	cr_assert_eq(th_tool(&out, NULL, TOOL("runs", "--limit", "1")), 0);
	cr_assert(strstr(out, "\n2 ") && !strstr(out, "\n1 "), "%s", out);
	free(out);
	free(err);
}

Test(audit, checkpoint_signs_the_head_and_verify_checks_it_with_the_public_key, .init = th_setup,
     .fini = th_teardown)
{
	struct jh_audit *a = th_open();
	char *out = NULL, *err = NULL;

	th_record_run(a, "x", "p", 2, 0);
	jh_audit_close(a);
	th_keygen(th_path("key.pem"), th_path("pub.pem"));

	cr_assert_eq(th_tool(&out, &err, TOOL("checkpoint", "--key", th_path("key.pem"))), 0, "%s",
		     err);
	cr_assert(strstr(out, "checkpoint 1: record 4 "), "%s", out);
	free(out);
	free(err);
	cr_assert_eq(th_tool(&out, &err, TOOL("verify", "--pubkey", th_path("pub.pem"))), 0, "%s",
		     err);
	cr_assert(strstr(out, "ok: 4 records in 1 runs"), "%s", out);
	cr_assert(strstr(out, "ok: 1 checkpoint signed by the given key"), "%s", out);
	free(out);
	free(err);
	cr_assert_eq(th_tool(&out, NULL, TOOL("verify")), 0);
	cr_assert(strstr(out, "signatures not checked"), "%s", out);
	free(out);

	/* Keys that cannot be used. */
	cr_assert_eq(th_tool(NULL, &err, TOOL("verify", "--pubkey", th_path("nokey.pem"))), 2);
	cr_assert(one_line(err) && strstr(err, "cannot read key"), "%s", err);
	free(err);
	cr_assert_eq(th_tool(NULL, &err, TOOL("verify", "--pubkey", th_db)), 2);
	cr_assert(one_line(err) && strstr(err, "holds no Ed25519 public key"), "%s", err);
	free(err);
	cr_assert_eq(th_tool(NULL, &err, TOOL("checkpoint", "--key", th_path("pub.pem"))), 2);
	cr_assert(one_line(err) && strstr(err, "holds no Ed25519 private key"), "%s", err);
	free(err);
	cr_assert_eq(th_tool(NULL, &err,
			     (const char *[]){"--db", th_path("e.db"), "checkpoint", "--key",
					      th_path("key.pem"), NULL}),
		     2);
	cr_assert(one_line(err) && strstr(err, "no audit store"), "%s", err);
	free(err);
}
