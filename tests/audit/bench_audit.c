/* Microbenchmark, not a test: what emit() costs the sandbox per event, and
 * how many events a second the writer commits.
 *
 *   bench_audit [EVENTS [THREADS [PACE_NS]]]   (default 200000 events, 1 thread, 0)
 *
 * emit cost: time spent inside emit(), median, 99th percentile and mean, from
 * THREADS threads at once. With PACE_NS each thread emits one event every
 * PACE_NS (a mediated syscall costs 10 us or more, so 10000 is the rate of a
 * busy sentry thread); without, as fast as it can, which measures the writer's
 * limit and includes the waits for a full queue. committed: events divided by
 * the time from the first emit to jh_audit_run_end() returning (durable).
 * The store is made in a fresh mkdtemp directory under $TMPDIR (or /tmp). */
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"

static int64_t now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct worker {
	struct jh_sink sink;
	long n;
	int64_t pace;
	int64_t *took; /* time inside each emit() */
};

static void *work(void *arg)
{
	struct worker *w = arg;
	char args[128];

	int64_t next = now();

	for (long i = 0; i < w->n; i++) {
		if (w->pace) {
			next += w->pace;
			while (now() < next)
				;
		}
		snprintf(args, sizeof(args),
			 "AT_FDCWD, \"/usr/lib/python3.11/%ld.py\", O_RDONLY|O_CLOEXEC", i);
		struct jh_event ev = {.mono_ns = (uint64_t)now(),
				      .tid = 77,
				      .cls = "file",
				      .syscall = "openat",
				      .args = args,
				      .decision = JH_DECISION_ALLOWED,
				      .result = 3};
		int64_t t0 = now();
		jh_sink_emit(&w->sink, &ev);
		w->took[i] = now() - t0;
	}
	return NULL;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

int main(int argc, char **argv)
{
	long events = argc > 1 ? atol(argv[1]) : 200000;
	int threads = argc > 2 ? atoi(argv[2]) : 1;
	int64_t pace = argc > 3 ? atoll(argv[3]) : 0;
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char dir[512], db[600];
	struct jh_audit *a = NULL;
	struct jh_audit_run *run = NULL;
	struct jh_audit_run_info info = {.actor = "bench", .workspace = "bench"};
	struct worker w[64] = {0};
	pthread_t th[64];
	int64_t t0, t_emitted, t_end, sum = 0, *all;
	int r;

	if (threads < 1 || threads > 64 || events < threads)
		return 2;
	events = events / threads * threads;
	all = calloc((size_t)events, sizeof(*all));
	if (!all)
		return 2;
	snprintf(dir, sizeof(dir), "%s/jh-audit-bench-XXXXXX", tmp);
	if (!mkdtemp(dir))
		return 2;
	snprintf(db, sizeof(db), "%s/audit.db", dir);
	/* A first run makes the store, as jhansi-exec's first run would. */
	r = jh_audit_open(db, JH_AUDIT_OPEN_CREATE, &a);
	if (r == 0 && jh_audit_run_begin(a, &info, &run) == 0)
		r = jh_audit_run_end(run, NULL);
	jh_audit_close(a);
	a = NULL;
	int64_t t_open = now();
	r = r < 0 ? r : jh_audit_open(db, JH_AUDIT_OPEN_CREATE, &a);
	int64_t t_begin = now();
	if (r < 0 || jh_audit_run_begin(a, &info, &run) < 0) {
		fprintf(stderr, "bench: cannot open a store in %s\n", dir);
		return 2;
	}
	t0 = now();
	printf("start-up: open %.2f ms, run_begin %.2f ms\n", (double)(t_begin - t_open) / 1e6,
	       (double)(t0 - t_begin) / 1e6);
	for (int i = 0; i < threads; i++) {
		w[i].n = events / threads;
		w[i].pace = pace;
		w[i].took = all + i * w[i].n;
		jh_audit_run_sink(run, &w[i].sink);
		pthread_create(&th[i], NULL, work, &w[i]);
	}
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	t_emitted = now();
	r = jh_audit_run_end(run, NULL);
	t_end = now();
	jh_audit_close(a);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (r < 0) {
		fprintf(stderr, "bench: run_end: %s\n", strerror(-r));
		return 1;
	}
	for (long i = 0; i < events; i++)
		sum += all[i];
	qsort(all, (size_t)events, sizeof(*all), cmp64);
	printf("events %ld, threads %d, %s\n", events, threads,
	       pace ? "paced" : "as fast as possible");
	if (pace)
		printf("pace: one event every %lld ns a thread\n", (long long)pace);
	printf("emit: median %lld ns, p99 %lld ns, mean %.0f ns, max %.1f us\n",
	       (long long)all[events / 2], (long long)all[events * 99 / 100],
	       (double)sum / (double)events, (double)all[events - 1] / 1e3);
	printf("run_end (flush the queue, end record, fsync): %.2f ms\n",
	       (double)(t_end - t_emitted) / 1e6);
	printf("emitting took %.3f s; committed and durable after %.3f s: %.0f events/s\n",
	       (double)(t_emitted - t0) / 1e9, (double)(t_end - t0) / 1e9,
	       (double)events / ((double)(t_end - t0) / 1e9));
	free(all);
	return 0;
}
