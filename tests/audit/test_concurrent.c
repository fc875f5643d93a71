/* Several writers and dying writers: forked processes writing one store lose
 * nothing and keep one chain; a writer killed mid-run leaves a store that
 * verifies, and the next read-write open marks its run incomplete; a writer
 * that falls behind makes emit() wait instead of dropping events. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#define WRITERS 8
#define THREADS 2
#define EVENTS_PER_THREAD 1500

struct emitter {
	struct jh_sink sink;
	int writer, thread, count, pause_every;
};

static void *emit_thread(void *arg)
{
	struct emitter *e = arg;
	char args[96];

	for (int i = 0; i < e->count; i++) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		snprintf(args, sizeof(args), "writer %d thread %d event %d", e->writer, e->thread,
			 i);
		struct jh_event ev = {
		    .mono_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec,
		    .tid = 1000 * e->writer + e->thread,
		    .cls = i % 2 ? "file" : "net",
		    .syscall = i % 2 ? "openat" : "connect",
		    .args = args,
		    .decision = i % 5 ? JH_DECISION_ALLOWED : JH_DECISION_DENIED,
		    .result = i % 5 ? 3 : -1,
		    .err = i % 5 ? 0 : EPERM,
		};
		jh_sink_emit(&e->sink, &ev);
		if (e->pause_every && i % e->pause_every == 0)
			usleep(300); /* so that the writers' runs overlap in time */
	}
	return NULL;
}

/* Shared by the writer processes: all wait here with their runs begun. */
static pthread_barrier_t *all_begun;

/* A child's whole life: wait for the start signal, record one run. */
static int writer_child(int w, int start_fd)
{
	char actor[32], c;
	struct jh_audit *a = NULL;
	struct jh_audit_run *run = NULL;
	struct emitter em[THREADS];
	pthread_t th[THREADS];
	const char *argv[] = {"worker", NULL};

	if (read(start_fd, &c, 1) < 0)
		return 10;
	snprintf(actor, sizeof(actor), "writer-%d", w);
	int r = jh_audit_open(th_db, JH_AUDIT_OPEN_CREATE, &a);
	if (r < 0) {
		fprintf(stderr, "writer %d: open: %s\n", w, strerror(-r));
		return 11;
	}
	struct jh_audit_run_info info = {.actor = actor, .argv = argv, .workspace = "default"};
	if (jh_audit_run_begin(a, &info, &run) < 0)
		return 12;
	pthread_barrier_wait(all_begun); /* so that all the runs are open at once */
	for (int t = 0; t < THREADS; t++) {
		em[t] = (struct emitter){
		    .writer = w, .thread = t, .count = EVENTS_PER_THREAD, .pause_every = 10};
		jh_audit_run_sink(run, &em[t].sink);
		pthread_create(&th[t], NULL, emit_thread, &em[t]);
	}
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	if (jh_audit_run_end(run, &(struct jh_audit_run_end){.exit_status = w}) < 0)
		return 13;
	jh_audit_close(a);
	return 0;
}

struct order_check {
	int next[WRITERS][THREADS];
	int64_t run_writer;
	int bad;
};

static int check_order(const struct jh_audit_event_record *rec, void *userdata)
{
	struct order_check *c = userdata;
	int w, t, i;

	if (sscanf(rec->ev.args, "writer %d thread %d event %d", &w, &t, &i) != 3 || w < 0 ||
	    w >= WRITERS || t < 0 || t >= THREADS || w != c->run_writer || i != c->next[w][t]) {
		c->bad++;
		return 0;
	}
	c->next[w][t]++;
	return 0;
}

Test(audit, eight_concurrent_writers_lose_nothing_and_keep_one_chain, .init = th_setup,
     .fini = th_teardown, .timeout = 120)
{
	struct jh_audit_verify_report rep;
	struct jh_audit *a;
	pid_t pids[WRITERS];
	int go[2];

	pthread_barrierattr_t ba;

	all_begun = mmap(NULL, sizeof(*all_begun), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(all_begun, MAP_FAILED);
	pthread_barrierattr_init(&ba);
	pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED);
	cr_assert_eq(pthread_barrier_init(all_begun, &ba, WRITERS), 0);

	/* No store yet: the writers race to create it too. */
	cr_assert_eq(pipe(go), 0);
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		cr_assert_geq(pids[w], 0);
		if (pids[w] == 0) {
			close(go[1]);
			_exit(writer_child(w, go[0]));
		}
	}
	close(go[0]);
	close(go[1]); /* everyone starts now */
	for (int w = 0; w < WRITERS; w++) {
		int st;
		cr_assert_eq(waitpid(pids[w], &st, 0), pids[w]);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer %d: status 0x%x", w, st);
	}

	cr_assert_eq(th_verify(NULL, &rep), 0, "%s: %s", rep.where, rep.reason);
	cr_assert_eq(rep.runs, WRITERS);
	cr_assert_eq(rep.records, (uint64_t)WRITERS * (2 + THREADS * EVENTS_PER_THREAD));
	/* The runs really were written at once: every run began before any ended,
	 * and their events interleave in the chain. */
	cr_assert_eq(th_sql_int(th_db, "SELECT max(start_seq) < min(end_seq) FROM runs"), 1);
	int64_t switches = th_sql_int(th_db, "SELECT count(*) FROM chain a JOIN chain b"
					     " ON b.seq = a.seq + 1 WHERE a.run_id != b.run_id");
	cr_assert_geq(switches, 2 * (WRITERS - 1), "%lld switches", (long long)switches);

	cr_assert_eq(jh_audit_open(th_db, JH_AUDIT_OPEN_READONLY, &a), 0);
	for (int64_t id = 1; id <= WRITERS; id++) {
		struct jh_audit_run_record *rec = NULL;
		struct order_check oc = {0};
		int w;

		cr_assert_eq(jh_audit_get_run(a, id, &rec), 0);
		cr_assert_eq(rec->state, JH_AUDIT_RUN_COMPLETE);
		cr_assert_eq(rec->n_events, THREADS * EVENTS_PER_THREAD);
		cr_assert_eq(rec->lost_events, 0);
		cr_assert_eq(sscanf(rec->actor, "writer-%d", &w), 1);
		cr_assert_eq(rec->exit_status, w);
		oc.run_writer = w;
		/* Every event of every thread, each thread's in the order emitted. */
		cr_assert_eq(jh_audit_foreach_event(a, id, NULL, check_order, &oc), 0);
		cr_assert_eq(oc.bad, 0, "run %lld: %d events out of place", (long long)id, oc.bad);
		for (int t = 0; t < THREADS; t++)
			cr_assert_eq(oc.next[w][t], EVENTS_PER_THREAD);
		jh_audit_run_record_free(rec);
	}
	jh_audit_close(a);
}

/* Child: starts a run and emits until killed. */
static void endless_writer(void)
{
	struct jh_audit *a = NULL;
	struct jh_audit_run *run = NULL;
	struct jh_sink sink;
	const char *argv[] = {"endless", NULL};

	if (jh_audit_open(th_db, JH_AUDIT_OPEN_CREATE, &a) < 0)
		_exit(11);
	struct jh_audit_run_info info = {.actor = "doomed", .argv = argv};
	if (jh_audit_run_begin(a, &info, &run) < 0)
		_exit(12);
	jh_audit_run_sink(run, &sink);
	for (uint64_t i = 0;; i++) {
		struct jh_event ev = {.mono_ns = i,
				      .tid = 1,
				      .cls = "file",
				      .syscall = "stat",
				      .args = "\"/tmp\"",
				      .decision = JH_DECISION_ALLOWED};
		jh_sink_emit(&sink, &ev);
		if (i % 64 == 0)
			usleep(1000);
	}
}

Test(audit, a_writer_killed_mid_run_leaves_a_store_that_verifies_and_is_marked_incomplete_on_reopen,
     .init = th_setup, .fini = th_teardown, .timeout = 60)
{
	struct jh_audit_verify_report rep;
	struct jh_audit_run_record *rec = NULL;
	struct jh_audit *a = th_open();
	char *out = NULL;
	int64_t committed;
	pid_t pid;
	int st;

	th_record_run(a, "before", "p", 4, 0); /* records 1..6 */
	jh_audit_close(a);

	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		endless_writer();
	for (int i = 0; i < 1000; i++) {
		if (th_sql_int(th_db, "SELECT count(*) FROM events WHERE run_id = 2") >= 500)
			break;
		usleep(10000);
	}
	cr_assert_eq(kill(pid, SIGKILL), 0);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

	/* As the writer left it: the committed batches verify, the run is open. */
	committed = th_sql_int(th_db, "SELECT count(*) FROM events WHERE run_id = 2");
	cr_assert_geq(committed, 500);
	cr_assert_eq(th_verify(NULL, &rep), 0, "%s: %s", rep.where, rep.reason);
	cr_assert_eq(rep.records, 6 + 1 + (uint64_t)committed);
	cr_assert_eq(jh_audit_open(th_db, JH_AUDIT_OPEN_READONLY, &a), 0);
	cr_assert_eq(jh_audit_get_run(a, 2, &rec), 0);
	cr_assert_eq(rec->state, JH_AUDIT_RUN_OPEN);
	cr_assert(rec->writer_gone);
	jh_audit_run_record_free(rec);
	jh_audit_close(a);
	cr_assert_eq(th_tool(&out, NULL, (const char *[]){"--db", th_db, "runs", NULL}), 0);
	cr_assert(strstr(out, "abandoned"), "%s", out);
	free(out);

	/* The next read-write open ends it, chained. */
	a = th_open();
	cr_assert_eq(jh_audit_get_run(a, 2, &rec), 0);
	cr_assert_eq(rec->state, JH_AUDIT_RUN_INCOMPLETE);
	cr_assert_eq(rec->n_events, (uint64_t)committed);
	cr_assert_eq(rec->exit_status, -1);
	cr_assert(rec->reason && strstr(rec->reason, "ended before the run did"), "%s",
		  rec->reason);
	cr_assert_eq(rec->end_seq, 6 + 1 + committed + 1);
	cr_assert_eq(rec->n_counts, 1);
	cr_assert_eq(rec->counts[0].mediated, (uint64_t)committed);
	jh_audit_run_record_free(rec);
	jh_audit_close(a);
	cr_assert_eq(th_verify(NULL, &rep), 0, "%s: %s", rep.where, rep.reason);
	cr_assert_eq(rep.records, 6 + 1 + (uint64_t)committed + 1);

	/* Once only. */
	a = th_open();
	jh_audit_close(a);
	cr_assert_eq(th_verify(NULL, &rep), 0);
	cr_assert_eq(rep.records, 6 + 1 + (uint64_t)committed + 1);
	cr_assert_eq(th_tool(&out, NULL, (const char *[]){"--db", th_db, "runs", NULL}), 0);
	cr_assert(strstr(out, "incomplete"), "%s", out);
	free(out);
}

Test(audit, a_run_whose_writer_is_alive_in_another_process_stays_open, .init = th_setup,
     .fini = th_teardown, .timeout = 60)
{
	struct jh_audit_run_record *rec = NULL;
	struct jh_audit_verify_report rep;
	struct jh_audit *a = th_open();
	int go[2], ready[2], st;
	char c = 0;
	pid_t pid;

	jh_audit_close(a);
	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(ready), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct jh_audit_run *run = NULL;
		struct jh_audit_run_info info = {.actor = "alive"};
		if (jh_audit_open(th_db, 0, &a) < 0 || jh_audit_run_begin(a, &info, &run) < 0)
			_exit(1);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(jh_audit_run_end(run, &(struct jh_audit_run_end){.exit_status = 0}) == 0 ? 0
											       : 3);
	}
	cr_assert_eq(read(ready[0], &c, 1), 1);
	a = th_open(); /* would mark the run if it thought the writer dead */
	cr_assert_eq(jh_audit_get_run(a, 1, &rec), 0);
	cr_assert_eq(rec->state, JH_AUDIT_RUN_OPEN);
	cr_assert_not(rec->writer_gone);
	jh_audit_run_record_free(rec);
	jh_audit_close(a);
	cr_assert_eq(write(go[1], "g", 1), 1);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
	a = th_open();
	cr_assert_eq(jh_audit_get_run(a, 1, &rec), 0);
	cr_assert_eq(rec->state, JH_AUDIT_RUN_COMPLETE);
	jh_audit_run_record_free(rec);
	jh_audit_close(a);
	cr_assert_eq(th_verify(NULL, &rep), 0);
}

static void *release_lock_later(void *arg)
{
	sqlite3 *db = arg;

	usleep(700000);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return NULL;
}

Test(audit, emit_waits_rather_than_drops_when_the_writer_falls_behind, .init = th_setup,
     .fini = th_teardown, .timeout = 120)
{
	enum { N = 100000 };
	struct jh_audit *a = th_open();
	struct jh_audit_run *run = NULL;
	struct jh_audit_run_record *rec = NULL;
	struct jh_audit_run_info info = {.actor = "flood"};
	struct jh_audit_verify_report rep;
	struct jh_sink sink;
	struct emitter em[4];
	pthread_t th[4], rel;
	sqlite3 *locker = NULL;

	cr_assert_eq(jh_audit_run_begin(a, &info, &run), 0);
	jh_audit_run_sink(run, &sink);
	/* Another connection holds the write lock: the writer is stuck, the
	 * queue fills up, emitters must wait until the lock goes. */
	cr_assert_eq(sqlite3_open(th_db, &locker), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(locker, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	pthread_create(&rel, NULL, release_lock_later, locker);
	for (int t = 0; t < 4; t++) {
		em[t] = (struct emitter){.sink = sink, .writer = 0, .thread = t, .count = N / 4};
		pthread_create(&th[t], NULL, emit_thread, &em[t]);
	}
	for (int t = 0; t < 4; t++)
		pthread_join(th[t], NULL);
	pthread_join(rel, NULL);
	sqlite3_close(locker);
	cr_assert_eq(jh_audit_run_end(run, NULL), 0);
	cr_assert_eq(jh_audit_get_run(a, 1, &rec), 0);
	cr_assert_eq(rec->n_events, N);
	cr_assert_eq(rec->lost_events, 0);
	jh_audit_run_record_free(rec);
	jh_audit_close(a);
	cr_assert_eq(th_verify(NULL, &rep), 0, "%s: %s", rep.where, rep.reason);
	cr_assert_eq(rep.records, N + 2);
}
