/* platform/limits: the cgroup v2 detection on fake trees (this host and CI
 * have cgroup v1 only, so the cgroup path itself cannot run here), the
 * parsers, and the watchdog against real processes this test forks. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "platform/limits.h"

/* --- parsers --- */

Test(cgroup_parse, the_v2_line_is_found_among_v1_lines)
{
	char path[256];

	cr_assert_eq(jh_cgroup_parse_self("12:pids:/x\n1:name=systemd:/a\n0::/user.slice/app.scope\n",
					  path, sizeof(path)),
		     0);
	cr_assert_str_eq(path, "/user.slice/app.scope");
	cr_assert_eq(jh_cgroup_parse_self("0::/", path, sizeof(path)), 0);
	cr_assert_str_eq(path, "/");
}

Test(cgroup_parse, a_v1_only_host_has_no_v2_line)
{
	char path[256];

	cr_assert_eq(jh_cgroup_parse_self("9:name=systemd:/\n8:pids:/\n4:memory:/\n", path,
					  sizeof(path)),
		     -ENOENT);
	cr_assert_eq(jh_cgroup_parse_self("", path, sizeof(path)), -ENOENT);
}

Test(cgroup_parse, paths_outside_the_namespace_or_too_long_are_refused)
{
	char path[8];

	cr_assert_eq(jh_cgroup_parse_self("0::/../../elsewhere\n", path, sizeof(path)), -EINVAL);
	cr_assert_eq(jh_cgroup_parse_self("0::relative\n", path, sizeof(path)), -EINVAL);
	cr_assert_eq(jh_cgroup_parse_self("0::\n", path, sizeof(path)), -EINVAL);
	cr_assert_eq(jh_cgroup_parse_self("0::/a/much/longer/path\n", path, sizeof(path)),
		     -ENAMETOOLONG);
}

Test(cgroup_parse, controller_lists_and_event_counters)
{
	const char *events = "low 0\nhigh 0\nmax 17\noom 2\noom_kill 1\noom_group_kill 0\n";

	cr_assert(jh_cgroup_has_word("cpuset cpu io memory hugetlb pids rdma\n", "pids"));
	cr_assert(jh_cgroup_has_word("memory", "memory"));
	cr_assert_not(jh_cgroup_has_word("cpu io memoryx", "memory"));
	cr_assert_not(jh_cgroup_has_word("", "pids"));
	cr_assert_eq(jh_cgroup_events_get(events, "oom_kill"), 1);
	cr_assert_eq(jh_cgroup_events_get(events, "oom"), 2);
	cr_assert_eq(jh_cgroup_events_get(events, "max"), 17);
	cr_assert_eq(jh_cgroup_events_get(events, "oom_group_kill"), 0);
	cr_assert_eq(jh_cgroup_events_get("max 3\n", "oom_kill"), 0);
}

Test(limits_format, sizes_are_spelled_as_given)
{
	char b[32];

	jh_limits_format_size(256ull << 20, b, sizeof(b));
	cr_assert_str_eq(b, "256M");
	jh_limits_format_size(2ull << 30, b, sizeof(b));
	cr_assert_str_eq(b, "2G");
	jh_limits_format_size(1536ull << 10, b, sizeof(b));
	cr_assert_str_eq(b, "1536K");
	jh_limits_format_size(1000, b, sizeof(b));
	cr_assert_str_eq(b, "1000");
}

/* --- detection on fake trees --- */

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	cr_assert(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

static void dir(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	cr_assert_eq(mkdir(path, 0755), 0, "%s: %s", path, strerror(errno));
}

static void make_root(void)
{
	snprintf(root, sizeof(root), "/tmp/jh-cgroup-test-XXXXXX");
	cr_assert(mkdtemp(root));
}

static void remove_root(void)
{
	char cmd[128];

	if (strncmp(root, "/tmp/jh-cgroup-test-", 20) != 0)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	(void)!system(cmd);
}

/* A unified hierarchy at root with our cgroup /user/app holding `controllers`,
 * `subtree` enabled below it and `procs` as its processes. */
static void fake_tree(const char *controllers, const char *subtree, const char *procs)
{
	make_root();
	put("cgroup.controllers", "cpuset cpu io memory pids\n");
	dir("user");
	put("user/cgroup.controllers", "cpuset cpu io memory pids\n");
	dir("user/app");
	put("user/app/cgroup.controllers", controllers);
	put("user/app/cgroup.subtree_control", subtree);
	put("user/app/cgroup.procs", procs);
}

Test(cgroup_probe, a_v1_host_falls_back_and_says_why, .fini = remove_root)
{
	struct jh_cgroup_probe pr;

	make_root();
	dir("memory"); /* as a v1 host: one directory per controller, no cgroup.controllers */
	dir("pids");
	jh_cgroup_probe(root, "4:memory:/\n3:pids:/\n", 1234, &pr);
	cr_assert_eq(pr.plan, JH_CGROUP_UNUSABLE);
	cr_assert(strstr(pr.why, "no unified (v2) hierarchy"), "%s", pr.why);
}

Test(cgroup_probe, a_hybrid_host_without_our_v2_membership_falls_back, .fini = remove_root)
{
	struct jh_cgroup_probe pr;

	make_root();
	put("cgroup.controllers", "");
	jh_cgroup_probe(root, "1:name=systemd:/user\n4:memory:/\n", 1234, &pr);
	cr_assert_eq(pr.plan, JH_CGROUP_UNUSABLE);
	cr_assert(strstr(pr.why, "hybrid"), "%s", pr.why);
}

Test(cgroup_probe, controllers_not_delegated_fall_back, .fini = remove_root)
{
	struct jh_cgroup_probe pr;

	fake_tree("cpu io\n", "", "");
	jh_cgroup_probe(root, "0::/user/app\n", 1234, &pr);
	cr_assert_eq(pr.plan, JH_CGROUP_UNUSABLE);
	cr_assert(strstr(pr.why, "not delegated to /user/app"), "%s", pr.why);
	cr_assert(strstr(pr.why, "cpu io"), "%s", pr.why);
}

Test(cgroup_probe, our_cgroup_missing_from_the_tree_falls_back, .fini = remove_root)
{
	struct jh_cgroup_probe pr;

	fake_tree("memory pids\n", "", "");
	jh_cgroup_probe(root, "0::/user/other\n", 1234, &pr);
	cr_assert_eq(pr.plan, JH_CGROUP_UNUSABLE);
	cr_assert(strstr(pr.why, "not visible"), "%s", pr.why);
}

Test(cgroup_probe, enabled_controllers_are_used_directly, .fini = remove_root)
{
	struct jh_cgroup_probe pr;
	char want[128];

	fake_tree("cpu memory pids\n", "memory pids\n", "1234\n77\n");
	jh_cgroup_probe(root, "0::/user/app\n", 1234, &pr);
	cr_assert_eq(pr.plan, JH_CGROUP_DIRECT, "%s", pr.why);
	snprintf(want, sizeof(want), "%s/user/app", root);
	cr_assert_str_eq(pr.own, want);
}

Test(cgroup_probe, an_empty_cgroup_gets_the_controllers_enabled, .fini = remove_root)
{
	struct jh_cgroup_probe pr;

	fake_tree("memory pids\n", "cpu\n", "");
	jh_cgroup_probe(root, "0::/user/app\n", 1234, &pr);
	cr_assert_eq(pr.plan, JH_CGROUP_ENABLE, "%s", pr.why);
}

Test(cgroup_probe, alone_in_our_cgroup_we_move_into_a_leaf, .fini = remove_root)
{
	struct jh_cgroup_probe pr;

	fake_tree("memory pids\n", "", "1234\n");
	jh_cgroup_probe(root, "0::/user/app\n", 1234, &pr);
	cr_assert_eq(pr.plan, JH_CGROUP_LEAF, "%s", pr.why);
	cr_assert(strstr(pr.why, "leaf"), "%s", pr.why);
}

Test(cgroup_probe, other_processes_in_our_cgroup_fall_back, .fini = remove_root)
{
	struct jh_cgroup_probe pr;

	fake_tree("memory pids\n", "", "1234\n5678\n");
	jh_cgroup_probe(root, "0::/user/app\n", 1234, &pr);
	cr_assert_eq(pr.plan, JH_CGROUP_UNUSABLE);
	cr_assert(strstr(pr.why, "other processes"), "%s", pr.why);
}

Test(cgroup_probe, the_namespace_root_is_our_cgroup, .fini = remove_root)
{
	struct jh_cgroup_probe pr;

	make_root();
	put("cgroup.controllers", "memory pids\n");
	put("cgroup.subtree_control", "memory pids\n");
	put("cgroup.procs", "1\n");
	jh_cgroup_probe(root, "0::/\n", 1, &pr);
	cr_assert_eq(pr.plan, JH_CGROUP_DIRECT, "%s", pr.why);
	cr_assert_str_eq(pr.own, root);
}

/* The set-up's writes on a fake tree: plain files stand in for the control
 * files, so creating the run's cgroup stops where the kernel would have
 * populated the new directory (memory.max is missing). The fallback is the
 * watchdog, which says why, and nothing is left behind. */
Test(cgroup_setup, a_failed_setup_falls_back_to_the_watchdog_and_cleans_up, .fini = remove_root)
{
	struct jh_limits *l;
	char path[512], buf[64] = "";
	struct stat stbuf;
	FILE *f;

	fake_tree("memory pids\n", "cpu\n", "");
	cr_assert_eq(jh_limits_new(&(struct jh_limits_config){.memory = 64ull << 20,
							      .pids = 10,
							      .cgroup_root = root,
							      .self_cgroup = "0::/user/app\n"},
				   &l),
		     0);
	cr_assert_eq(jh_limits_mechanism(l), JH_LIMITS_WATCHDOG);
	cr_assert(strstr(jh_limits_describe(l), "creating the run's cgroup under") &&
			  strstr(jh_limits_describe(l), "RSS watchdog"),
		  "%s", jh_limits_describe(l));
	/* it enabled the controllers below our cgroup (plan "enable") */
	snprintf(path, sizeof(path), "%s/user/app/cgroup.subtree_control", root);
	f = fopen(path, "r");
	cr_assert(f);
	cr_assert(fgets(buf, sizeof(buf), f));
	fclose(f);
	cr_assert_str_eq(buf, "+memory +pids");
	/* and removed the run's directory */
	snprintf(path, sizeof(path), "%s/user/app/jhansi-run-%d", root, (int)getpid());
	cr_assert_neq(stat(path, &stbuf), 0, "%s left behind", path);
	jh_limits_free(l);
}

Test(cgroup_setup, a_failed_move_into_the_leaf_removes_the_leaf, .fini = remove_root)
{
	struct jh_limits *l;
	char path[512], procs[32];
	struct stat stbuf;

	snprintf(procs, sizeof(procs), "%d\n", (int)getpid());
	fake_tree("memory pids\n", "", procs);
	cr_assert_eq(jh_limits_new(&(struct jh_limits_config){.memory = 64ull << 20,
							      .cgroup_root = root,
							      .self_cgroup = "0::/user/app\n"},
				   &l),
		     0);
	cr_assert_eq(jh_limits_mechanism(l), JH_LIMITS_WATCHDOG, "%s", jh_limits_describe(l));
	snprintf(path, sizeof(path), "%s/user/app/jhansi-sentry-%d", root, (int)getpid());
	cr_assert_neq(stat(path, &stbuf), 0, "%s left behind", path);
	jh_limits_free(l);
}

/* Write access is the delegation: root passes every access() check, so this
 * case runs in the unprivileged variant. */
Test(cgroup_probe, an_unwritable_cgroup_is_not_delegated, .fini = remove_root)
{
	struct jh_cgroup_probe pr;
	char path[512];

	if (geteuid() == 0)
		cr_skip_test("root may write anything; runs as the unprivileged variant");
	fake_tree("memory pids\n", "memory pids\n", "");
	snprintf(path, sizeof(path), "%s/user/app/cgroup.subtree_control", root);
	cr_assert_eq(chmod(path, 0444), 0);
	jh_cgroup_probe(root, "0::/user/app\n", 1234, &pr);
	cr_assert_eq(pr.plan, JH_CGROUP_UNUSABLE);
	cr_assert(strstr(pr.why, "not writable"), "%s", pr.why);
}

/* On this host the real probe finds no delegated v2 tree (cgroup v1), and a
 * run's limits then use the watchdog with its backstops. */
Test(limits, without_a_delegated_cgroup_the_watchdog_and_backstops_are_used)
{
	struct jh_limits *l;
	struct jh_rlimit rl[4];
	size_t n;

	cr_assert_eq(jh_limits_new(&(struct jh_limits_config){.memory = 256ull << 20,
							      .pids = 100,
							      .no_cgroup = true},
				   &l),
		     0);
	cr_assert_eq(jh_limits_mechanism(l), JH_LIMITS_WATCHDOG);
	cr_assert(strstr(jh_limits_describe(l), "RSS watchdog"), "%s", jh_limits_describe(l));
	n = jh_limits_rlimits(l, rl, 4);
	cr_assert_eq(n, 2);
	cr_assert_eq(rl[0].resource, RLIMIT_AS);
	cr_assert_eq(rl[0].cur, (256ull << 20) + (4ull << 30)); /* max(8x, +4G) */
	cr_assert_eq(rl[1].resource, RLIMIT_NPROC);
	cr_assert_eq(rl[1].cur, 100);
	jh_limits_free(l);

	cr_assert_eq(jh_limits_new(&(struct jh_limits_config){0}, &l), 0);
	cr_assert_eq(jh_limits_mechanism(l), JH_LIMITS_NONE);
	cr_assert_eq(jh_limits_rlimits(l, rl, 4), 0);
	jh_limits_free(l);
}

/* --- the watchdog, on processes this test forks --- */

/* Forks a task that (in a session of its own when `own_session`) holds `mib`
 * MiB resident, and `child_mib` more in a child of its own when non-zero;
 * returns once both hold it, with its pid in *ret and the child's in *ret_gc. */
static void spawn_holder(bool own_session, size_t mib, size_t child_mib, pid_t *ret,
			 pid_t *ret_gc)
{
	int fds[2];
	pid_t pid, got;

	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		volatile char *p;
		pid_t me;

		close(fds[0]);
		if (own_session && setsid() < 0)
			_exit(1);
		if (child_mib && fork() == 0)
			mib = child_mib; /* the grandchild holds its share */
		p = malloc(mib << 20);
		for (size_t i = 0; p && i < mib << 20; i += 4096)
			p[i] = 1;
		me = getpid();
		(void)!write(fds[1], &me, sizeof(me)); /* atomic: below PIPE_BUF */
		pause();
		_exit(0);
	}
	close(fds[1]);
	if (ret_gc)
		*ret_gc = 0;
	for (int i = 0; i < (child_mib ? 2 : 1); i++) {
		cr_assert_eq(read(fds[0], &got, sizeof(got)), (ssize_t)sizeof(got));
		if (got != pid && ret_gc)
			*ret_gc = got;
	}
	close(fds[0]);
	*ret = pid;
}

Test(watchdog, tasks_in_other_sessions_are_counted_helpers_are_not, .timeout = 60)
{
	pid_t sandbox, helper;
	uint64_t bytes = 0, tasks = 0;
	size_t n;
	int st;

	spawn_holder(true, 64, 0, &sandbox, NULL);
	spawn_holder(false, 64, 0, &helper, NULL); /* our session: a supervisor's helper */
	n = jh_limits_sample(&bytes, &tasks);
	kill(sandbox, SIGKILL);
	kill(helper, SIGKILL);
	waitpid(sandbox, &st, 0);
	waitpid(helper, &st, 0);
	cr_assert_eq(n, 1, "%zu processes counted", n);
	cr_assert_eq(tasks, 1);
	cr_assert_geq(bytes, 64ull << 20, "%llu bytes", (unsigned long long)bytes);
	cr_assert_lt(bytes, 100ull << 20, "%llu bytes", (unsigned long long)bytes);
}

/* Two tasks of 32 MiB, each under 48M, together over it: both are killed,
 * the child too (it comes back to us when its parent dies: we are a
 * subreaper, as the supervisor is), and the report says why. */
Test(watchdog, a_tree_past_the_limit_is_killed_whole_with_a_reason, .timeout = 60)
{
	struct jh_limits *l;
	struct jh_limits_report rep;
	pid_t holder, gc;
	int st;

	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	cr_assert_eq(jh_limits_new(&(struct jh_limits_config){.memory = 48ull << 20,
							      .no_cgroup = true},
				   &l),
		     0);
	spawn_holder(true, 32, 32, &holder, &gc);
	cr_assert_gt(gc, 0);
	cr_assert_eq(jh_limits_start(l), 0);
	cr_assert_eq(waitpid(holder, &st, 0), holder);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status 0x%x", st);
	cr_assert_eq(waitpid(gc, &st, 0), gc);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status 0x%x", st);
	jh_limits_finish(l, &rep);
	jh_limits_free(l);
	cr_assert(rep.memory_exceeded);
	cr_assert_geq(rep.memory_seen, 48ull << 20);
	cr_assert(strstr(rep.reason, "memory limit 48M exceeded") &&
		      strstr(rep.reason, "the sandbox was killed"),
		  "%s", rep.reason);
}
