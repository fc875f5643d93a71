/* The view and workspaces from inside the sandbox: persistence across runs,
 * isolation of workspaces, and escapes that must fail (symlinks, hardlinks,
 * "..", procfs magic links, writes to read-only parts), each checked on the
 * host side too. Every run uses a state directory of the test's own. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"

static char *state;

static void setup(void)
{
	state = make_tmpdir(); /* 01777: nobody can create its workspaces here */
	setenv("JHANSI_STATE_DIR", state, 1);
}

static void teardown(void)
{
	rmtree(state);
	free(state);
}

TestSuite(fs, .init = setup, .fini = teardown, .timeout = 60);

/* Runs `sh -c script` in workspace `ws`; returns the result. */
static struct run_result sh(const char *ws, const char *script)
{
	struct run_result r;
	cr_assert_eq(run_jx(&r, "--audit", "off", "--workspace", ws, "--", "/bin/sh", "-c", script,
			    NULL),
		     0);
	return r;
}

Test(fs, a_second_run_reads_what_the_first_wrote)
{
	struct run_result r = sh("one", "echo persisted > note.txt && mkdir -p d/e && echo x > d/e/f");
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_result_free(&r);
	r = sh("one", "cat note.txt d/e/f && pwd && echo $HOME");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "persisted\nx\n"), "%s", r.out);
	/* at its host path, or at /workspace in the mount namespace (test_mountns.c) */
	cr_assert(strstr(r.out, "/workspaces/one\n") || strstr(r.out, "\n/workspace\n/workspace\n"),
		  "cwd and HOME are the workspace: %s", r.out);
	run_result_free(&r);
}

Test(fs, two_workspaces_do_not_see_each_other)
{
	char script[8192];
	struct run_result r = sh("alpha", "echo secret-a > a.txt");
	run_result_free(&r);
	snprintf(script, sizeof(script),
		 "cat %s/workspaces/alpha/a.txt; ln -s %s/workspaces/alpha/a.txt l; cat l; "
		 "ln %s/workspaces/alpha/a.txt h; cat ../alpha/a.txt; echo done",
		 state, state, state);
	r = sh("beta", script);
	cr_assert_eq(r.status, 0);
	cr_assert_str_eq(r.out, "done\n", "beta saw alpha: %s", r.out);
	cr_assert_null(strstr(r.out, "secret-a"));
	run_result_free(&r);
}

Test(fs, symlinks_hardlinks_and_dotdot_to_etc_shadow_fail)
{
	struct stat before, after;
	struct run_result r;
	bool have = stat("/etc/shadow", &before) == 0;

	r = sh("esc", "ln -s /etc/shadow s; cat s; ln /etc/shadow h; cat h; "
		      "cat ../../../../../../../etc/shadow; cat /etc/shadow; cat /etc/gshadow; "
		      "ls /etc/sudoers.d; echo done");
	cr_assert_str_eq(r.out, "done\n", "something was read: %s", r.out);
	run_result_free(&r);
	if (have) {
		cr_assert_eq(stat("/etc/shadow", &after), 0);
		cr_assert_eq(after.st_nlink, before.st_nlink, "a hardlink to /etc/shadow was made");
	}
}

Test(fs, proc_magic_links_lead_nowhere_but_readlink_works)
{
	struct run_result r = sh("proc", "cat /proc/self/root/etc/hostname; "
					 "ls /proc/self/cwd/; cat /proc/self/fd/0 </dev/null; "
					 "cat /proc/1/environ; ls /proc/1; "
					 "readlink /proc/self/exe; echo done");
	cr_assert(strstr(r.out, "/usr/bin/readlink\ndone\n") ||
		      strstr(r.out, "/bin/readlink\ndone\n"),
		  "%s", r.out);
	run_result_free(&r);
}

Test(fs, read_only_parts_refuse_writes_with_erofs)
{
	struct run_result r = sh("ro", "echo x > /usr/jhansi-test 2>&1; touch /etc/passwd; "
				       "mkdir /usr/x; rm /bin/sh; chmod 777 /usr/bin/env; "
				       "echo done");
	cr_assert(strstr(r.err, "Read-only file system"), "%s", r.err);
	cr_assert_str_eq(r.out, "done\n");
	cr_assert_neq(access("/usr/jhansi-test", F_OK), 0);
	cr_assert_eq(access("/bin/sh", X_OK), 0);
	run_result_free(&r);
}

Test(fs, outside_the_view_does_not_exist)
{
	struct run_result r = sh("hidden", "ls /root /home /run /var/run 2>&1 | grep -c 'No such' ; "
					   "ls /tmp | wc -l");
	cr_assert_str_eq(r.out, "4\n0\n", "%s", r.out);
	run_result_free(&r);
}

Test(fs, list_and_remove_workspaces)
{
	struct run_result r = sh("keep", "true");
	run_result_free(&r);
	r = sh("gone", "echo x > f");
	run_result_free(&r);
	cr_assert_eq(run_jx(&r, "--list-workspaces", NULL), 0);
	cr_assert_str_eq(r.out, "gone\nkeep\n");
	run_result_free(&r);
	cr_assert_eq(run_jx(&r, "--remove-workspace", "gone", NULL), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_result_free(&r);
	cr_assert_eq(run_jx(&r, "--list-workspaces", NULL), 0);
	cr_assert_str_eq(r.out, "keep\n");
	run_result_free(&r);
}

Test(fs, the_change_set_names_created_changed_and_deleted_files)
{
	struct run_result r = sh("cs", "echo a > keep; echo b > del; echo c > chg");
	run_result_free(&r);
	cr_assert_eq(run_jx(&r, "--audit", "off", "--log-events", "--workspace", "cs", "--",
			    "/bin/sh", "-c", "rm del; echo more >> chg; printf hello > new", NULL),
		     0);
	cr_assert(strstr(r.err, "[workspace] deleted del\n"), "%s", r.err);
	cr_assert(strstr(r.err, "[workspace] changed chg sha256:"), "%s", r.err);
	/* sha256("hello") */
	cr_assert(strstr(r.err, "[workspace] created new sha256:"
				"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
		  "%s", r.err);
	cr_assert_null(strstr(r.err, "] changed keep"));
	run_result_free(&r);
}

Test(fs, writes_past_the_disk_quota_fail_and_corrupt_nothing)
{
	struct run_result r;
	cr_assert_eq(run_jx(&r, "--audit", "off", "--workspace", "q", "--disk-quota", "64K", "--",
			    "/bin/sh", "-c",
			    "echo kept > kept; head -c 200000 /dev/zero > big; sleep 0.3; "
			    "echo more > more && echo wrote-more; cat kept",
			    NULL),
		     0);
	cr_assert(strstr(r.err, "quota") || strstr(r.err, "Disk quota"), "%s", r.err);
	cr_assert_null(strstr(r.out, "wrote-more"), "%s", r.out);
	cr_assert(strstr(r.out, "kept\n"), "%s", r.out);
	/* the write through the open fd stopped at the quota (EFBIG), on the host too */
	cr_assert(strstr(r.err, "File too large"), "%s", r.err);
	{
		char p[4200];
		struct stat st;
		snprintf(p, sizeof(p), "%s/workspaces/q/big", state);
		cr_assert_eq(stat(p, &st), 0);
		cr_assert_leq(st.st_size, 64 * 1024, "big grew to %lld", (long long)st.st_size);
	}
	run_result_free(&r);
}

/* --disk-quota against writes through fds opened before the quota was
 * reached: quota-writer opens 8 files below the quota, then writes 16 KiB to
 * each in turn, 1 ms apart (at most 16 MB/s, so the overshoot allowed does
 * not depend on the machine), until a write to every file failed. Without
 * the lowered RLIMIT_FSIZE each file would stop only at the quota itself
 * (8 x 2 MiB); with it, all stop once the workspace holds 2 MiB, plus what
 * was written before the gofer's next tick (10 ms) and the supervisor's
 * prlimit: QUOTA_SLACK allows 4 MiB, a quarter of a second at that rate. */
#define QUOTA (2u << 20)
#define QUOTA_SLACK (4u << 20)

static unsigned long long workspace_usage(const char *ws, int nfiles, int *ret_intact)
{
	unsigned long long sum = 0;

	*ret_intact = 0;
	for (int i = 0; i < nfiles; i++) {
		char p[4200], head[16], got[16] = {0};
		struct stat st;
		FILE *f;

		snprintf(p, sizeof(p), "%s/workspaces/%s/f%d", state, ws, i);
		if (stat(p, &st) < 0)
			continue;
		sum += (unsigned long long)st.st_blocks * 512;
		snprintf(head, sizeof(head), "header-%02d\n", i);
		f = fopen(p, "r");
		if (f && fread(got, 1, strlen(head), f) == strlen(head) && !memcmp(got, head, strlen(head)))
			(*ret_intact)++;
		if (f)
			fclose(f);
	}
	return sum;
}

Test(fs, files_held_open_for_writing_stop_near_the_disk_quota_and_keep_their_data)
{
	struct run_result r;
	unsigned long long written = 0, usage;
	const char *at;
	int intact;

	cr_assert_eq(run_jx(&r, "--audit", "off", "--workspace", "held", "--disk-quota", "2M", "--",
			    PROGS_DIR "/quota-writer", "8", "16384", "1000", NULL),
		     0);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	at = strstr(r.out, "failed EFBIG after ");
	cr_assert(at, "every file's writes must fail with EFBIG: %s", r.out);
	written = strtoull(at + strlen("failed EFBIG after "), NULL, 10);
	cr_assert(strstr(r.out, "headers intact\n"), "%s", r.out);
	cr_assert(strstr(r.err, "disk quota 2M reached"), "%s", r.err);
	/* on the host: within the bound, far from the 16 MiB of 8 files at the
	 * quota each, and every file's first bytes as written */
	usage = workspace_usage("held", 8, &intact);
	cr_assert_leq(usage, QUOTA + QUOTA_SLACK, "workspace at %llu bytes (wrote %llu)", usage,
		      written);
	cr_assert_geq(usage, QUOTA - 8 * 16384, "stopped early at %llu", usage);
	cr_assert_eq(intact, 8, "headers damaged on the host");
	run_result_free(&r);
	/* the next run starts with the workspace full: writes through a file it
	 * opens are refused at once (EDQUOT), nothing grows */
	cr_assert_eq(run_jx(&r, "--audit", "off", "--workspace", "held", "--disk-quota", "2M", "--",
			    "/bin/sh", "-c", "echo x >> f1 || echo refused", NULL),
		     0);
	cr_assert(strstr(r.out, "refused"), "%s%s", r.out, r.err);
	cr_assert_leq(workspace_usage("held", 8, &intact), usage);
	cr_assert_eq(intact, 8);
	run_result_free(&r);
}

Test(fs, deleting_files_past_the_disk_quota_brings_writing_back)
{
	struct run_result r;
	int intact;

	cr_assert_eq(run_jx(&r, "--audit", "off", "--workspace", "del", "--disk-quota", "2M", "--",
			    PROGS_DIR "/quota-writer", "8", "16384", "1000", "delete", NULL),
		     0);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "failed EFBIG after "), "%s", r.out);
	cr_assert(strstr(r.out, "headers intact\n"), "%s", r.out);
	cr_assert(strstr(r.out, "writable again after delete\n"), "%s%s", r.out, r.err);
	/* on the host: f0 alone, its header and the overwrite after it */
	cr_assert_leq(workspace_usage("del", 8, &intact), QUOTA + QUOTA_SLACK);
	cr_assert_eq(intact, 1);
	{
		char p[4200], got[17] = {0};
		FILE *f;

		snprintf(p, sizeof(p), "%s/workspaces/del/f0", state);
		f = fopen(p, "r");
		cr_assert(f);
		cr_assert_eq(fread(got, 1, 17, f), 17);
		fclose(f);
		cr_assert_eq(memcmp(got, "header-00\nxagain\n", 17), 0, "%.17s", got);
	}
	run_result_free(&r);
}

Test(fs, python_sqlite_git_tar_make_work_in_the_workspace, .timeout = 120)
{
	struct run_result r = sh(
		"tools", "python3 -c 'import json, sqlite3, email, csv, decimal; "
			 "c = sqlite3.connect(\"db.sqlite\"); c.execute(\"create table t(x)\"); "
			 "c.execute(\"insert into t values (42)\"); c.commit(); "
			 "print(c.execute(\"select x from t\").fetchone()[0])' && "
			 "export HOME=$PWD GIT_CONFIG_NOSYSTEM=1 && git init -q r && cd r && echo a > a && "
			 "git add a && git -c user.name=t -c user.email=t@t commit -qm first && "
			 "git log --format=%s && cd .. && tar cf t.tar r && mkdir x && cd x && "
			 "tar xf ../t.tar && ls r && printf 'all:\\n\\techo made\\n' > Makefile && make -s");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "42\nfirst\na\nmade\n");
	run_result_free(&r);
}

/* A host directory outside the view, readable by anyone (only the view stops
 * the sandbox), holding f = "SECRET". */
static char *make_secret_dir(void)
{
	char *dir = make_tmpdir();
	char p[4200];
	FILE *f;

	chmod(dir, 0755);
	snprintf(p, sizeof(p), "%s/f", dir);
	f = fopen(p, "w");
	cr_assert(f);
	fputs("SECRET", f);
	fclose(f);
	chmod(p, 0644);
	return dir;
}

static void expect_no_leak(const char *mode, const char *target, const char *secret_dir)
{
	struct run_result r;
	char p[4200];
	struct stat st;
	FILE *f;
	char buf[16] = "";

	cr_assert_eq(run_jx(&r, "--audit", "off", "--workspace", mode, "--",
			    prog_path("fs-race"), mode, target, NULL),
		     0);
	cr_assert_eq(r.status, 0, "%s: %s", mode, r.err);
	cr_assert(strstr(r.out, " leaks=0\n"), "%s read outside the view: %s", mode, r.out);
	cr_assert_null(strstr(r.out, "opened=0 "), "%s never opened anything: %s", mode, r.out);
	run_result_free(&r);
	/* host side: the file outside is where it was, unchanged */
	snprintf(p, sizeof(p), "%s/f", secret_dir);
	cr_assert_eq(stat(p, &st), 0, "%s moved a host file", mode);
	f = fopen(p, "r");
	cr_assert(f);
	cr_assert(fgets(buf, sizeof(buf), f));
	fclose(f);
	cr_assert_str_eq(buf, "SECRET");
}

Test(fs, a_thread_rewriting_the_path_during_openat_never_opens_the_rewritten_name,
     .timeout = 120)
{
	char *dir = make_secret_dir();
	char target[4200];

	snprintf(target, sizeof(target), "%s/f", dir);
	expect_no_leak("path-flip", target, dir);
	rmtree(dir);
	free(dir);
}

Test(fs, a_directory_swapped_for_a_symlink_during_openat_and_rename_leads_nowhere,
     .timeout = 120)
{
	char *dir = make_secret_dir();

	expect_no_leak("dir-swap", dir, dir);
	rmtree(dir);
	free(dir);
}

/* Started as root, the sentry opens files with root's rights: what the view
 * exposes must still be read with the sandbox's (uid 65534). A root-only file
 * made visible by a careless --ro stays unreadable. (Run as another user, the
 * test's own file is the sandbox's to read: only the root run applies.) */
Test(fs, a_file_only_root_may_read_stays_unreadable_through_a_careless_ro)
{
	char *dir;
	char file[4200], cmd[8600];
	struct run_result r;
	FILE *f;

	if (geteuid() != 0)
		return;
	dir = make_tmpdir();

	chmod(dir, 0755);
	snprintf(file, sizeof(file), "%s/secret", dir);
	f = fopen(file, "w");
	cr_assert(f);
	fputs("TOPSECRET\n", f);
	fclose(f);
	chmod(file, 0600);
	snprintf(cmd, sizeof(cmd), "cat '%s' || echo refused", file);
	cr_assert_eq(run_jx(&r, "--audit", "off", "--ro", dir, "--", "/bin/sh", "-c", cmd, NULL), 0);
	cr_assert_null(strstr(r.out, "TOPSECRET"), "read a root-only file: %s", r.out);
	cr_assert(strstr(r.out, "refused"), "%s %s", r.out, r.err);
	run_result_free(&r);

	/* a world-readable file in a directory only root may search */
	snprintf(file, sizeof(file), "%s/locked", dir);
	cr_assert_eq(mkdir(file, 0700), 0);
	snprintf(file, sizeof(file), "%s/locked/inner", dir);
	f = fopen(file, "w");
	cr_assert(f);
	fputs("TOPSECRET\n", f);
	fclose(f);
	chmod(file, 0644);
	snprintf(cmd, sizeof(cmd), "cat '%s' || echo refused; stat '%s' >/dev/null || echo no-stat",
		 file, file);
	cr_assert_eq(run_jx(&r, "--audit", "off", "--ro", dir, "--", "/bin/sh", "-c", cmd, NULL), 0);
	cr_assert_null(strstr(r.out, "TOPSECRET"), "read through an unsearchable directory: %s",
		       r.out);
	cr_assert(strstr(r.out, "refused\nno-stat\n"), "%s %s", r.out, r.err);
	run_result_free(&r);
	rmtree(dir);
	free(dir);
}

/* exec cannot be performed for the task: the name is checked in the view,
 * then the kernel re-reads it. A thread swapping the symlink in between makes
 * the kernel run a program from outside the view; the exec hook compares the
 * running executable with the one checked at the new image's first mediated
 * call and kills it on a mismatch, before it prints. (Natively the same
 * program prints ESCAPED about every other round.) */
Test(fs, exec_of_a_file_swapped_after_the_check_is_killed, .timeout = 120)
{
	char *dir = make_tmpdir();
	char outside[4200], cmd[8600];
	struct run_result r;

	chmod(dir, 0755);
	snprintf(outside, sizeof(outside), "%s/echo", dir);
	snprintf(cmd, sizeof(cmd), "cp /bin/echo '%s' && chmod 755 '%s'", outside, outside);
	cr_assert_eq(system(cmd), 0);
	r = sh("exec-swap", "cp /bin/true ok && chmod 755 ok");
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_result_free(&r);
	cr_assert_eq(run_jx(&r, "--audit", "off", "--workspace", "exec-swap", "--",
			    prog_path("exec-swap"), outside, NULL),
		     0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "done\n"), "%s", r.out);
	cr_assert_null(strstr(r.out, "ESCAPED"), "a program from outside the view ran: %s", r.out);
	run_result_free(&r);
	rmtree(dir);
	free(dir);
}

/* An fd the sentry opened and installed (ADDFD on unotify, calls injected in
 * the task on ptrace) looks as the kernel's own open would make it: lowest
 * free number, FD_CLOEXEC only when asked, nothing else left open, EMFILE at
 * the limit, and no mix-up between threads opening at once. */
Test(fs, installed_fds_behave_like_the_kernels_own)
{
	struct run_result r;

	cr_assert_eq(run_jx(&r, "--audit", "off", "--", prog_path("fd-install"), "/etc/hostname",
			    NULL),
		     0);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "ok racing_threads_get_their_own_files\n"), "%s", r.out);
	cr_assert_null(strstr(r.out, "FAIL"), "%s", r.out);
	if (getenv("JHANSI_PLATFORM") && !strcmp(getenv("JHANSI_PLATFORM"), "ptrace"))
		cr_assert(strstr(r.out, "ok opens_work_while_the_channel_is_read\n"), "%s", r.out);
	else
		cr_assert(strstr(r.out, "ok no_extra_socket\n"), "%s", r.out);
	run_result_free(&r);
}

/* Directories the view only passes through ("/", "/dev") list what the view
 * has beneath them, nothing else, and can be entered: relative names from
 * there resolve in the view. */
Test(fs, skeleton_directories_list_the_view_and_can_be_entered)
{
	struct run_result r = sh("skel", "ls /; echo ==; ls /dev; echo ==; "
					 "cd / && pwd && head -c 1 etc/hostname >/dev/null && echo rel-ok; "
					 "cd /dev && pwd; ls /root 2>/dev/null || echo no-root");
	char *listing = r.out;

	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(listing, "usr\n") && strstr(listing, "etc\n") && strstr(listing, "dev\n"),
		  "%s", r.out);
	cr_assert_null(strstr(listing, "\nroot\n"), "%s", r.out);
	cr_assert_null(strstr(listing, "\nhome\n"), "%s", r.out);
	cr_assert_null(strstr(listing, "\nboot\n"), "%s", r.out);
	cr_assert(strstr(r.out, "==\n") && strstr(strstr(r.out, "==\n"), "null\n"), "%s", r.out);
	cr_assert(strstr(r.out, "\n/\nrel-ok\n/dev\nno-root\n"), "%s", r.out);
	run_result_free(&r);
}

/* A directory named "dir/.", "dir/" or the workspace's own root can have its
 * mode and times changed, as natively (tar x of an archive made with "tar cf
 * x.tar ." restores those of "./"); read-only ones and skeletons still refuse. */
Test(fs, directories_by_dot_and_the_workspace_root_take_mode_and_times)
{
	struct run_result r = sh("dots", "mkdir -p src/sub && echo hi > src/sub/f && "
					 "(cd src && tar cf ../a.tar .) && mkdir out && cd out && "
					 "tar xf ../a.tar && echo tar-ok && cat sub/f && "
					 "touch . && chmod 700 . && chmod 750 sub/ && touch sub/. && "
					 "cd .. && chmod 711 . && touch . && echo attrs-ok; "
					 "touch /etc/. 2>/dev/null || echo etc-refused; "
					 "chmod 777 /usr/ 2>/dev/null || echo usr-refused; "
					 "touch / 2>/dev/null || echo root-refused; "
					 "stat -c %a out/sub");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_str_eq(r.out, "tar-ok\nhi\nattrs-ok\netc-refused\nusr-refused\nroot-refused\n750\n",
			 "%s", r.err);
	run_result_free(&r);
}

/* /proc/net and /proc/mounts are the asking task's (links to self/…), as
 * natively: not ENOENT, and not the sentry's. */
Test(fs, proc_net_and_mounts_are_the_tasks_own)
{
	struct run_result r = sh("procnet", "head -c 6 /proc/net/dev && echo && readlink /proc/net && "
					    "cmp /proc/mounts /proc/self/mounts && echo same-mounts");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert_str_eq(r.out, "Inter-\nself/net\nsame-mounts\n", "%s", r.err);
	run_result_free(&r);
}

/* Under --disk-quota the file size limit is the quota's (lowered while the
 * workspace is full): a task cannot set it, not even its soft limit up to its
 * hard one, while other limits stay its own. */
Test(fs, a_task_cannot_set_its_file_size_limit_under_a_disk_quota)
{
	struct run_result r;

	cr_assert_eq(run_jx(&r, "--audit", "off", "--workspace", "fsize", "--disk-quota", "1M", "--",
			    "/usr/bin/python3", "-c",
			    "import resource as r\n"
			    "s, h = r.getrlimit(r.RLIMIT_FSIZE)\n"
			    "print(h)\n"
			    "try:\n"
			    "    r.setrlimit(r.RLIMIT_FSIZE, (h, h)); print('set')\n"
			    "except (PermissionError, ValueError): print('refused')\n"
			    "r.setrlimit(r.RLIMIT_NOFILE, (64, 64)); print('nofile-set')\n",
			    NULL),
		     0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "1048576\nrefused\nnofile-set\n", "%s", r.err);
	run_result_free(&r);
	/* without a quota the limit is the task's own */
	cr_assert_eq(run_jx(&r, "--audit", "off", "--", "/bin/sh", "-c", "ulimit -f 1000 && echo set",
			    NULL),
		     0);
	cr_assert_str_eq(r.out, "set\n", "%s", r.err);
	run_result_free(&r);
}

/* The rlimit calls the sentry decides on registers alone: bad pointers reach
 * the kernel's own EFAULT (no sentry crash), and the quota's refusal comes
 * first whatever the pointer. */
Test(fs, rlimit_calls_with_bad_pointers_get_efault_or_the_quotas_refusal)
{
	struct run_result r;

	cr_assert_eq(run_jx(&r, "--audit", "off", "--workspace", "rlim", "--disk-quota", "1M", "--",
			    prog_path("try-syscall"), "setrlimit-fsize-badptr",
			    "setrlimit-nofile-badptr", "prlimit-nofile-badptr", NULL),
		     0);
	cr_assert_str_eq(r.out,
			 "setrlimit-fsize-badptr=EPERM\nsetrlimit-nofile-badptr=EFAULT\n"
			 "prlimit-nofile-badptr=EFAULT\n",
			 "%s", r.err);
	run_result_free(&r);
}
