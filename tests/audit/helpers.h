/* Shared by the audit tests: a private temporary directory per test (made by
 * the .init fixture, removed by .fini even when the test fails), recording
 * runs, tampering with the database behind the store's back, running the
 * jhansi-audit binary, and Ed25519 keys. */
#ifndef JH_TESTS_AUDIT_HELPERS_H
#define JH_TESTS_AUDIT_HELPERS_H

#include <stdbool.h>
#include <stdint.h>

#include "audit/audit.h"

/* The test's directory and its store path, set by th_setup(). */
extern char th_dir[256];
extern char th_db[300];

void th_setup(void);
void th_teardown(void);

/* A path inside th_dir; static buffer rotating over four slots. */
const char *th_path(const char *name);

/* Opens th_db read-write (creating it); asserts success. */
struct jh_audit *th_open(void);

/* Records one complete run with `n_events` events (openat allowed, connect
 * denied, uname emulated, in turn) and returns its id. */
int64_t th_record_run(struct jh_audit *a, const char *actor, const char *prompt, int n_events,
		      int exit_status);

/* The forensics th_record_forensics_run() records. */
extern const char th_stack[], th_disasm[];

/* Records one complete run of three events: openat allowed (no forensics),
 * mount denied with th_stack and th_disasm, a filter kill with th_disasm only.
 * Returns its id. */
int64_t th_record_forensics_run(struct jh_audit *a);

/* Runs `sql` on `db` over a separate sqlite connection; returns the sqlite rc. */
int th_sql(const char *db, const char *sql);
/* First column of the first row of `sql` as an integer (-1 when none). */
int64_t th_sql_int(const char *db, const char *sql);

/* Runs the jhansi-audit binary with `args` (NULL-terminated, without argv[0]);
 * returns its exit status (128+sig if killed). Its stdout and stderr are kept
 * in *out and *err (malloc'd, may be passed NULL). */
int th_tool(char **out, char **err, const char *const *args);

/* Writes an Ed25519 key pair as PEM: private `priv`, public `pub`. */
void th_keygen(const char *priv, const char *pub);

/* Verifies the store at th_db; returns jh_audit_verify's result, report filled. */
int th_verify(const char *pubkey, struct jh_audit_verify_report *rep);

#endif
