/* Verification: an untouched store verifies; every kind of tampering with the
 * database behind the store's back is found and the first broken record named
 * — by the library and by `jhansi-audit verify`. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

/* Three runs: 1 (5 events, records 1..7), 2 (6 events, 8..15), 3 (4 events, 16..21). */
static void three_runs(void)
{
	struct jh_audit *a = th_open();

	cr_assert_eq(th_record_run(a, "alice", "list the files", 5, 0), 1);
	cr_assert_eq(th_record_run(a, "bob", "fetch the page", 6, 1), 2);
	cr_assert_eq(th_record_run(a, "carol", NULL, 4, 0), 3);
	jh_audit_close(a);
}

static void sql(const char *s)
{
	cr_assert_eq(th_sql(th_db, s), 0, "sql: %s", s);
}

static void expect_broken(int64_t seq, const char *where)
{
	struct jh_audit_verify_report rep;
	int r = th_verify(NULL, &rep);

	cr_assert_eq(r, -EBADMSG, "verify returned %d (%s), want -EBADMSG", r, strerror(-r));
	cr_assert_eq(rep.bad_seq, seq, "broken at %lld, want %lld (%s: %s)", (long long)rep.bad_seq,
		     (long long)seq, rep.where, rep.reason);
	cr_assert(strstr(rep.where, where), "where '%s' does not name '%s'", rep.where, where);
	cr_assert(rep.reason[0]);
}

static void expect_tool_broken(const char *needle)
{
	char *out = NULL, *err = NULL;
	int st = th_tool(&out, &err, (const char *[]){"--db", th_db, "verify", NULL});

	cr_assert_eq(st, 1, "verify exit %d, stderr: %s", st, err);
	cr_assert(strstr(err, needle), "stderr '%s' does not name '%s'", err, needle);
	cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "not one line: %s", err);
	free(out);
	free(err);
}

Test(audit, verify_passes_on_an_untouched_store, .init = th_setup, .fini = th_teardown)
{
	struct jh_audit_verify_report rep;
	char *out = NULL;

	three_runs();
	cr_assert_eq(th_verify(NULL, &rep), 0, "%s: %s", rep.where, rep.reason);
	cr_assert_eq(rep.records, 21);
	cr_assert_eq(rep.runs, 3);
	cr_assert_eq(rep.head.seq, 21);
	cr_assert_eq(th_tool(&out, NULL, (const char *[]){"--db", th_db, "verify", NULL}), 0);
	cr_assert(strstr(out, "ok: 21 records in 3 runs, head 21 "), "%s", out);
	free(out);
}

Test(audit, verify_names_the_event_whose_field_was_changed, .init = th_setup, .fini = th_teardown)
{
	/* Each change, then its undo; the event is run 2's third (idx 2), record 11. */
	static const char *const tamper[][2] = {
	    {"UPDATE events SET args = args || ' ' WHERE seq = 11",
	     "UPDATE events SET args = substr(args, 1, length(args) - 1) WHERE seq = 11"},
	    {"UPDATE events SET decision = 'allowed' WHERE seq = 11",
	     "UPDATE events SET decision = 'emulated' WHERE seq = 11"},
	    {"UPDATE events SET result = 7 WHERE seq = 11",
	     "UPDATE events SET result = 0 WHERE seq = 11"},
	    {"UPDATE events SET tid = tid + 1 WHERE seq = 11",
	     "UPDATE events SET tid = tid - 1 WHERE seq = 11"},
	    {"UPDATE events SET mono_ns = mono_ns + 1 WHERE seq = 11",
	     "UPDATE events SET mono_ns = mono_ns - 1 WHERE seq = 11"},
	    {"UPDATE events SET detail = 'x' WHERE seq = 11",
	     "UPDATE events SET detail = NULL WHERE seq = 11"},
	    {"UPDATE events SET syscall = 'open' WHERE seq = 11",
	     "UPDATE events SET syscall = 'uname' WHERE seq = 11"},
	};
	struct jh_audit_verify_report rep;

	three_runs();
	cr_assert_eq(th_sql_int(th_db, "SELECT seq FROM events WHERE run_id = 2 AND idx = 2"), 11);
	for (size_t i = 0; i < sizeof(tamper) / sizeof(tamper[0]); i++) {
		sql(tamper[i][0]);
		expect_broken(11, "record 11 (event 2 of run 2");
		sql(tamper[i][1]);
		cr_assert_eq(th_verify(NULL, &rep), 0, "undo %zu: %s: %s", i, rep.where,
			     rep.reason);
	}
	sql("UPDATE events SET err = 1 WHERE seq = 11");
	expect_tool_broken("record 11 (event 2 of run 2, uname)");
}

Test(audit, verify_names_the_event_whose_forensics_were_changed_removed_or_added, .init = th_setup,
     .fini = th_teardown)
{
	/* Three runs (records 1..21), then run 4 with forensics: its openat is
	 * record 23, the mount refused with stack and code record 24, the
	 * filter kill with code only record 25. Each change, then its undo. */
	static const struct {
		const char *tamper;
		int64_t seq;
	} cases[] = {
	    /* a frame renamed: the stack no longer names who made the call */
	    {"UPDATE events SET stack = replace(stack, 'try_mount', 'try_mounu') WHERE seq = 24",
	     24},
	    /* the stack removed, the code kept */
	    {"UPDATE events SET stack = NULL WHERE seq = 24", 24},
	    /* both removed: the record would read as one without forensics */
	    {"UPDATE events SET stack = NULL, disasm = NULL WHERE seq = 25", 25},
	    /* the code at the site changed */
	    {"UPDATE events SET disasm = replace(disasm, 'syscall', 'nop') WHERE seq = 24", 24},
	    /* forensics added to an event that had none */
	    {"UPDATE events SET stack = '#0  0x1 main+0x0 (prog)' WHERE seq = 23", 23},
	    /* an empty stack in place of none */
	    {"UPDATE events SET stack = '' WHERE seq = 25", 25},
	};
	static const char restore[] =
	    "UPDATE events SET stack = (SELECT stack FROM scratch s WHERE s.seq = events.seq),"
	    " disasm = (SELECT disasm FROM scratch s WHERE s.seq = events.seq)"
	    " WHERE seq IN (23, 24, 25)";
	struct jh_audit_verify_report rep;
	struct jh_audit *a;

	three_runs();
	a = th_open();
	cr_assert_eq(th_record_forensics_run(a), 4);
	jh_audit_close(a);
	cr_assert_eq(th_sql_int(th_db, "SELECT seq FROM events WHERE run_id = 4 AND idx = 1"), 24);
	cr_assert_eq(th_verify(NULL, &rep), 0, "%s: %s", rep.where, rep.reason);
	/* The original texts, for the undos. */
	sql("CREATE TABLE scratch AS SELECT seq, stack, disasm FROM events WHERE seq IN (23, 24, "
	    "25)");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char where[64];

		sql(cases[i].tamper);
		snprintf(where, sizeof(where), "record %lld (event %lld of run 4",
			 (long long)cases[i].seq, (long long)cases[i].seq - 23);
		expect_broken(cases[i].seq, where);
		sql(restore);
		cr_assert_eq(th_verify(NULL, &rep), 0, "undo %zu: %s: %s", i, rep.where,
			     rep.reason);
	}
	sql("UPDATE events SET stack = replace(stack, 'main+0x20', 'main+0x24') WHERE seq = 24");
	expect_tool_broken("record 24 (event 1 of run 4, mount)");
}

Test(audit, verify_names_the_run_record_whose_field_was_changed, .init = th_setup,
     .fini = th_teardown)
{
	struct jh_audit_verify_report rep;

	three_runs();
	sql("UPDATE runs SET actor = 'mallory' WHERE id = 2");
	expect_broken(8, "record 8 (start of run 2)");
	sql("UPDATE runs SET actor = 'bob' WHERE id = 2");
	cr_assert_eq(th_verify(NULL, &rep), 0);

	sql("UPDATE runs SET exit_status = 0 WHERE id = 2");
	expect_broken(15, "record 15 (end of run 2)");
	sql("UPDATE runs SET exit_status = 1 WHERE id = 2");

	sql("UPDATE run_counts SET refused = refused - 1 WHERE run_id = 2 AND cls = 'net'");
	expect_broken(15, "record 15 (end of run 2)");
	sql("UPDATE run_counts SET refused = refused + 1 WHERE run_id = 2 AND cls = 'net'");

	sql("UPDATE runs SET policy = 'network any' WHERE id = 1");
	expect_broken(1, "record 1 (start of run 1)");
}

Test(audit, verify_names_the_gap_after_one_event_is_deleted, .init = th_setup, .fini = th_teardown)
{
	three_runs();
	sql("DELETE FROM events WHERE seq = 11; DELETE FROM chain WHERE seq = 11");
	expect_broken(12, "record 12");
	expect_tool_broken("record 12 (event 3 of run 2, openat): record 11 before it is missing");
}

Test(audit, verify_notices_an_event_row_deleted_from_under_its_chain_record, .init = th_setup,
     .fini = th_teardown)
{
	three_runs();
	sql("DELETE FROM events WHERE seq = 11");
	expect_broken(11, "record 11 (event of run 2)");
}

Test(audit, verify_names_the_gap_after_a_whole_run_is_deleted, .init = th_setup,
     .fini = th_teardown)
{
	three_runs();
	sql("DELETE FROM events WHERE run_id = 2; DELETE FROM chain WHERE run_id = 2;"
	    "DELETE FROM run_counts WHERE run_id = 2; DELETE FROM runs WHERE id = 2");
	expect_broken(16, "record 16 (start of run 3)");
	expect_tool_broken("records 8 to 15 before it are missing");
}

Test(audit, verify_names_the_first_of_two_swapped_events, .init = th_setup, .fini = th_teardown)
{
	three_runs();
	/* Whole records swapped: event rows and chain rows both. */
	sql("UPDATE events SET seq = -1 WHERE seq = 11; UPDATE events SET seq = 11 WHERE seq = 12;"
	    "UPDATE events SET seq = 12 WHERE seq = -1;"
	    "UPDATE chain SET seq = -1 WHERE seq = 11; UPDATE chain SET seq = 11 WHERE seq = 12;"
	    "UPDATE chain SET seq = 12 WHERE seq = -1");
	expect_broken(11, "record 11 (event 3 of run 2");
}

Test(audit, verify_notices_an_event_row_outside_the_chain, .init = th_setup, .fini = th_teardown)
{
	three_runs();
	sql("INSERT INTO events (seq, run_id, idx, mono_ns, tid, cls, syscall, args, decision, "
	    "result,"
	    " err) VALUES (100, 2, 99, 1, 1, 'file', 'unlink', '\"/x\"', 'allowed', 0, 0)");
	expect_broken(100, "event row 100 of run 2");
}

Test(audit, verify_with_a_key_names_the_checkpoint_after_the_newest_records_are_truncated,
     .init = th_setup, .fini = th_teardown)
{
	struct jh_audit_checkpoint cp;
	struct jh_audit_verify_report rep;
	struct jh_audit *a;
	char *err = NULL;
	int r;

	three_runs();
	th_keygen(th_path("key.pem"), th_path("pub.pem"));
	a = th_open();
	r = jh_audit_checkpoint(a, th_path("key.pem"), &cp, NULL);
	cr_assert_eq(r, 0, "checkpoint: %s", strerror(-r));
	cr_assert_eq(cp.seq, 21);
	jh_audit_close(a);
	cr_assert_eq(th_verify(th_path("pub.pem"), &rep), 0, "%s: %s", rep.where, rep.reason);
	cr_assert_eq(rep.checkpoints, 1);

	/* Drop run 3's last two events and its end; rewrite its row and the head
	 * so that everything left is consistent — only the checkpoint knows. */
	sql("DELETE FROM events WHERE seq >= 19; DELETE FROM chain WHERE seq >= 19;"
	    "DELETE FROM run_counts WHERE run_id = 3;"
	    "UPDATE runs SET state = 'open', end_seq = NULL WHERE id = 3;"
	    "UPDATE head SET seq = 18, hash = (SELECT hash FROM chain WHERE seq = 18)");
	expect_broken(21, "checkpoint 1");
	cr_assert_eq(th_verify(th_path("pub.pem"), &rep), -EBADMSG);
	cr_assert(strstr(rep.reason, "not in the chain"), "%s", rep.reason);
	cr_assert_eq(th_tool(NULL, &err,
			     (const char *[]){"--db", th_db, "verify", "--pubkey",
					      th_path("pub.pem"), NULL}),
		     1);
	cr_assert(strstr(err, "checkpoint 1: it signs record 21, which is not in the chain"), "%s",
		  err);
	free(err);
}

Test(audit, verify_names_the_run_whose_end_was_truncated_without_rewriting_its_row,
     .init = th_setup, .fini = th_teardown)
{
	three_runs();
	sql("DELETE FROM events WHERE seq >= 19; DELETE FROM chain WHERE seq >= 19;"
	    "UPDATE head SET seq = 18, hash = (SELECT hash FROM chain WHERE seq = 18)");
	expect_broken(21, "run 3");
}

Test(audit, verify_names_the_head_when_records_are_truncated_and_the_head_is_not_rewritten,
     .init = th_setup, .fini = th_teardown)
{
	three_runs();
	sql("DELETE FROM events WHERE seq >= 19; DELETE FROM chain WHERE seq >= 19");
	expect_broken(21, "head");
}

Test(audit, verify_with_a_key_fails_when_a_checkpoint_signature_is_replaced, .init = th_setup,
     .fini = th_teardown)
{
	struct jh_audit_checkpoint cp;
	struct jh_audit_verify_report rep;
	struct jh_audit *a;
	char *err = NULL;

	three_runs();
	th_keygen(th_path("key.pem"), th_path("pub.pem"));
	a = th_open();
	cr_assert_eq(jh_audit_checkpoint(a, th_path("key.pem"), &cp, NULL), 0);
	jh_audit_close(a);
	sql("UPDATE checkpoints SET signature = randomblob(64) WHERE id = 1");
	cr_assert_eq(th_verify(th_path("pub.pem"), &rep), -EBADMSG);
	cr_assert_str_eq(rep.where, "checkpoint 1");
	cr_assert(strstr(rep.reason, "signature does not verify"), "%s", rep.reason);
	cr_assert_eq(th_tool(NULL, &err,
			     (const char *[]){"--db", th_db, "verify", "--pubkey",
					      th_path("pub.pem"), NULL}),
		     1);
	cr_assert(strstr(err, "checkpoint 1: its signature does not verify"), "%s", err);
	free(err);
}

Test(audit, verify_with_a_key_refuses_a_checkpoint_signed_by_another_key, .init = th_setup,
     .fini = th_teardown)
{
	struct jh_audit_checkpoint cp;
	struct jh_audit_verify_report rep;
	struct jh_audit *a;

	three_runs();
	th_keygen(th_path("key.pem"), th_path("pub.pem"));
	th_keygen(th_path("evil.pem"), th_path("evilpub.pem"));
	a = th_open();
	cr_assert_eq(jh_audit_checkpoint(a, th_path("evil.pem"), &cp, NULL), 0);
	jh_audit_close(a);
	cr_assert_eq(th_verify(th_path("evilpub.pem"), &rep), 0);
	cr_assert_eq(th_verify(th_path("pub.pem"), &rep), -EBADMSG);
	cr_assert(strstr(rep.reason, "not the given key"), "%s", rep.reason);
}

Test(audit, a_recomputed_chain_fails_against_the_signed_checkpoint, .init = th_setup,
     .fini = th_teardown)
{
	struct jh_audit_checkpoint cp;
	struct jh_audit_verify_report rep;
	struct jh_audit *a;
	char sqlbuf[1024];

	/* The honest store, signed. */
	three_runs();
	th_keygen(th_path("key.pem"), th_path("pub.pem"));
	a = th_open();
	cr_assert_eq(jh_audit_checkpoint(a, th_path("key.pem"), &cp, NULL), 0);
	jh_audit_close(a);

	/* The attacker builds a store with the history they prefer — a chain
	 * valid in itself — and carries the signed checkpoint over. */
	snprintf(th_db, sizeof(th_db), "%s/forged.db", th_dir);
	a = th_open();
	th_record_run(a, "alice", "list the files", 5, 0);
	th_record_run(a, "bob", "something harmless", 6, 0);
	th_record_run(a, "carol", NULL, 4, 0);
	jh_audit_close(a);
	cr_assert_eq(th_verify(NULL, &rep), 0);
	snprintf(sqlbuf, sizeof(sqlbuf),
		 "ATTACH '%s/audit.db' AS honest;"
		 "INSERT INTO checkpoints SELECT * FROM honest.checkpoints; DETACH honest",
		 th_dir);
	sql(sqlbuf);
	cr_assert_eq(th_verify(th_path("pub.pem"), &rep), -EBADMSG);
	cr_assert_str_eq(rep.where, "checkpoint 1");
	cr_assert(strstr(rep.reason, "record 21 no longer has the hash it signed"), "%s",
		  rep.reason);
}

Test(audit, verify_with_a_key_fails_on_a_store_without_checkpoints, .init = th_setup,
     .fini = th_teardown)
{
	struct jh_audit_verify_report rep;

	three_runs();
	th_keygen(th_path("key.pem"), th_path("pub.pem"));
	cr_assert_eq(th_verify(th_path("pub.pem"), &rep), -EBADMSG);
	cr_assert_str_eq(rep.where, "checkpoints");
}

Test(audit, records_appended_after_a_checkpoint_still_verify, .init = th_setup, .fini = th_teardown)
{
	struct jh_audit_checkpoint cp;
	struct jh_audit_verify_report rep;
	struct jh_audit *a;

	three_runs();
	th_keygen(th_path("key.pem"), th_path("pub.pem"));
	a = th_open();
	cr_assert_eq(jh_audit_checkpoint(a, th_path("key.pem"), &cp, NULL), 0);
	th_record_run(a, "dave", "more", 3, 0);
	cr_assert_eq(jh_audit_checkpoint(a, th_path("key.pem"), &cp, NULL), 0);
	cr_assert_eq(cp.id, 2);
	cr_assert_eq(cp.seq, 26);
	jh_audit_close(a);
	cr_assert_eq(th_verify(th_path("pub.pem"), &rep), 0, "%s: %s", rep.where, rep.reason);
	cr_assert_eq(rep.checkpoints, 2);
}

Test(audit, checkpoint_refuses_to_sign_a_broken_chain, .init = th_setup, .fini = th_teardown)
{
	char *out = NULL, *err = NULL;

	three_runs();
	th_keygen(th_path("key.pem"), th_path("pub.pem"));
	sql("UPDATE events SET args = 'x' WHERE seq = 3");
	cr_assert_eq(th_tool(&out, &err,
			     (const char *[]){"--db", th_db, "checkpoint", "--key",
					      th_path("key.pem"), NULL}),
		     1);
	cr_assert(strstr(err, "refusing to sign a broken chain: broken at record 3"), "%s", err);
	cr_assert_eq(th_sql_int(th_db, "SELECT count(*) FROM checkpoints"), 0);
	free(out);
	free(err);
}
