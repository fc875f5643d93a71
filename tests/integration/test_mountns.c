/* The mount-namespace layer: where the host allows it (root, or a user
 * namespace of our own), the tasks' kernel sees the view as their mount tree,
 * the workspace at /workspace; where the host refuses it (the no-namespaces
 * wrapper), the run goes on with the view at host paths, and --require mountns
 * refuses to run. The expectation is decided by the test itself, by trying the
 * namespaces in a forked child, never by asking jhansi-exec. */
#include <criterion/criterion.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"

#define RUN(r, ...) cr_assert_eq(run_jx(&(r), __VA_ARGS__, NULL), 0, "spawning jhansi-exec failed")

static char *state;

static void setup(void)
{
	state = state_dir_setup();
}

static void teardown(void)
{
	rmtree(state);
	free(state);
}

TestSuite(mountns, .init = setup, .fini = teardown, .timeout = 60);

static struct run_result sh(const char *script)
{
	struct run_result r;

	cr_assert_eq(run_jx(&r, "--audit", "off", "--workspace", "mnt", "--", "/bin/sh", "-c",
			    script, NULL),
		     0);
	return r;
}

Test(mountns, the_workspace_is_at_slash_workspace_and_what_a_run_writes_the_next_reads)
{
	bool on = host_allows_unshare(CLONE_NEWNS);
	struct run_result r = sh("pwd; echo $HOME; /bin/pwd; "
				 "python3 -c 'import os; print(os.getcwd())'; echo kept > note.txt");

	cr_assert_eq(r.status, 0, "%s", r.err);
	if (on)
		cr_assert_str_eq(r.out, "/workspace\n/workspace\n/workspace\n/workspace\n");
	else
		/* without the layer the workspace is at its host path */
		cr_assert(strstr(r.out, "/workspaces/mnt\n") && !strstr(r.out, "/workspace\n"),
			  "%s", r.out);
	run_result_free(&r);

	r = sh("cat note.txt; cat $HOME/note.txt; mkdir -p d/e && cd d/e && pwd && cat ../../note.txt; "
	       "exec 3<../../note.txt; readlink /proc/self/fd/3");
	cr_assert_eq(r.status, 0, "%s", r.err);
	if (on)
		/* the file's link names it as the task does, not by its host path */
		cr_assert_str_eq(r.out, "kept\nkept\n/workspace/d/e\nkept\n/workspace/note.txt\n");
	else
		cr_assert(strstr(r.out, "kept\nkept\n") && strstr(r.out, "/workspaces/mnt/d/e\n"),
			  "%s", r.out);
	run_result_free(&r);

	/* host side: the file is in the workspace's host directory */
	{
		char p[4200];
		FILE *f;
		char buf[16] = "";

		snprintf(p, sizeof(p), "%s/workspaces/mnt/note.txt", state);
		f = fopen(p, "re");
		cr_assert_not_null(f, "%s", p);
		cr_assert_not_null(fgets(buf, sizeof(buf), f));
		fclose(f);
		cr_assert_str_eq(buf, "kept\n");
	}
}

/* What the view leaves out is absent to the tasks' kernel too: no mount for
 * /root or /home, /etc/shadow covered; the private /tmp is not the host's. */
Test(mountns, shadow_root_and_home_are_absent_and_tmp_is_private)
{
	bool on = host_allows_unshare(CLONE_NEWNS);
	char marker[256], script[8600];
	struct run_result r;
	FILE *f;

	snprintf(marker, sizeof(marker), "/tmp/jh-mountns-host-%d", (int)getpid());
	f = fopen(marker, "we");
	cr_assert_not_null(f);
	fclose(f);
	snprintf(script, sizeof(script),
		 "test -e /etc/shadow && echo SHADOW; cat /etc/shadow 2>/dev/null && echo READ; "
		 "ls /root 2>/dev/null && echo ROOT; ls /home 2>/dev/null && echo HOME; "
		 "test -e %s && echo HOSTTMP; echo mine > %s.in && cat %s.in; "
		 "cat /proc/self/mountinfo 2>/dev/null; true",
		 marker, marker, marker);
	r = sh(script);
	unlink(marker);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_null(strstr(r.out, "SHADOW"), "%s", r.out);
	cr_assert_null(strstr(r.out, "READ"), "%s", r.out);
	cr_assert_null(strstr(r.out, "ROOT\n"), "%s", r.out);
	cr_assert_null(strstr(r.out, "HOME\n"), "%s", r.out);
	cr_assert_null(strstr(r.out, "HOSTTMP"), "the host's /tmp is visible: %s", r.out);
	cr_assert(strstr(r.out, "mine\n"), "%s", r.out);
	if (on && !strstr(r.out, " - ")) {
		const char *p = getenv("JHANSI_PLATFORM");
		cr_assert(p && strcmp(p, "ptrace") == 0, "no mount table: %s", r.out);
	}
	/* (/proc/self/mountinfo is refused on the ptrace platform) */
	if (on && strstr(r.out, " - ")) {
		/* the tasks' own mount table: a tmpfs root, the workspace bound at
		 * /workspace, read-only system directories, nothing of /root or /home */
		cr_assert(strstr(r.out, " / / ro,"), "%s", r.out);
		cr_assert(strstr(r.out, " /workspace rw,nosuid,nodev"), "%s", r.out);
		cr_assert(strstr(r.out, " /usr ro,nosuid,nodev"), "%s", r.out);
		cr_assert_null(strstr(r.out, " /root "), "%s", r.out);
		cr_assert_null(strstr(r.out, " /home "), "%s", r.out);
	}
	run_result_free(&r);
	/* host side: the file was written in the run's private /tmp, not here */
	snprintf(script, sizeof(script), "%s.in", marker);
	cr_assert_neq(access(script, F_OK), 0, "%s reached the host's /tmp", script);
}

Test(mountns, explain_shows_the_mount_namespace_on_or_off)
{
	bool on = host_allows_unshare(CLONE_NEWNS);
	struct run_result r;

	RUN(r, "--explain");
	cr_assert_eq(r.status, 0, "%s", r.err);
	if (on) {
		cr_assert(strstr(r.out, "mount namespace          on:"), "%s", r.out);
		cr_assert(strstr(r.out, "/proc: "), "%s", r.out);
		cr_assert(strstr(r.out, "view (a mount namespace holds exactly these entries"), "%s",
			  r.out);
		cr_assert(strstr(r.out, "rw    /workspace -> "), "%s", r.out);
	} else {
		cr_assert(strstr(r.out, "mount namespace          off:"), "%s", r.out);
		cr_assert(strstr(r.out, "view (no mount namespace"), "%s", r.out);
	}
	run_result_free(&r);
}

Test(mountns, require_mountns_runs_where_allowed_and_is_125_where_refused)
{
	bool on = host_allows_unshare(CLONE_NEWNS);
	char db[4200];
	const char *show[] = {JA_PATH, "--db", db, "show", "1", NULL};
	struct run_result r;

	snprintf(db, sizeof(db), "%s/audit.db", state);
	RUN(r, "--audit-db", db, "--require", "mountns", "--", "true");
	if (!on) {
		cr_assert_eq(r.status, 125, "status %d: %s", r.status, r.err);
		cr_assert(strstr(r.err, "required protection layer unavailable on this host: mountns"),
			  "%s", r.err);
		run_result_free(&r);
		return;
	}
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_result_free(&r);
	/* the run's audit record names the layer */
	cr_assert_eq(run_argv(show, &r), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "mountns"), "%s", r.out);
	run_result_free(&r);
}
