/* The Landlock filesystem layer built from the view (sentry/fs-landlock.c),
 * enforced alone in a forked child, with no sentry: the backstop for what the
 * tasks do in their own context (exec, and any call checked and let
 * through) if the sentry ever decided wrong. The default view plus a
 * read-only directory of the test's own with a hidden file in it; a second
 * directory of the test's own stays outside the view. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gofer/view.h"
#include "sentry/fs-landlock.h"

static char ws[] = "/tmp/jhansi-test-llv-ws-XXXXXX";
static char tmp[] = "/tmp/jhansi-test-llv-tmp-XXXXXX";
static char ro[] = "/tmp/jhansi-test-llv-ro-XXXXXX";
static char out[] = "/tmp/jhansi-test-llv-out-XXXXXX";

static void skip_or_fail(const char *why)
{
	const char *must = getenv("JH_MUST_WORK");

	if (must && *must && *must != '0')
		cr_assert_fail("required but unavailable (JH_MUST_WORK): %s", why);
	else
		cr_skip_test("%s", why);
}

static void put(const char *dir, const char *name, const char *content, mode_t mode)
{
	char p[256];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	cr_assert_geq(fd, 0, "%s: %s", p, strerror(errno));
	cr_assert_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

/* In the child: 0 when the open succeeds, else errno. */
static int try_open(const char *dir, const char *name, int flags)
{
	char p[256];
	int fd;

	snprintf(p, sizeof(p), "%s%s%s", dir, name ? "/" : "", name ? name : "");
	fd = open(p, flags | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* In the child: the exit status of the program, or 200 + execve's errno. */
static int try_exec(const char *dir, const char *name)
{
	char p[256];
	char *argv[] = {p, NULL};
	int st;
	pid_t pid;

	snprintf(p, sizeof(p), "%s%s%s", dir, name ? "/" : "", name ? name : "");
	pid = fork();
	if (pid < 0)
		return 199;
	if (pid == 0) {
		execve(p, argv, (char *[]){NULL});
		_exit(200 + errno);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return 198;
	return WEXITSTATUS(st);
}

static void cleanup_dirs(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s' '%s' '%s'", ws, tmp, ro, out);
	cr_assert_eq(system(cmd), 0);
}

Test(fs_landlock, the_view_is_enforced_by_the_kernel_without_the_sentry)
{
	struct jh_view v = {0};
	struct jh_ll_fs_report rep = {0};
	char hidden[256];
	unsigned got = 0;
	int rs, st, fds[2], bad = -1;
	pid_t pid;

	if (jh_landlock_abi() < 1) {
		skip_or_fail("Landlock is not available");
		return;
	}
	cr_assert(mkdtemp(ws) && mkdtemp(tmp) && mkdtemp(ro) && mkdtemp(out));
	put(ro, "ok.sh", "#!/bin/sh\nexit 5\n", 0755);
	put(ro, "secret", "s", 0644);
	put(out, "run.sh", "#!/bin/sh\nexit 6\n", 0755);
	put(out, "data", "d", 0644);
	put(ws, "run.sh", "#!/bin/sh\nexit 4\n", 0755);
	snprintf(hidden, sizeof(hidden), "%s/secret", ro);
	cr_assert_eq(jh_view_defaults(&v, ws, tmp), 0);
	cr_assert_eq(jh_view_set(&v, ro, NULL, JH_MOUNT_RO), 0);
	cr_assert_eq(jh_view_set(&v, hidden, NULL, JH_MOUNT_HIDE), 0);
	cr_assert_eq(jh_view_set(&v, "/tmp/hidden-in-private-tmp", NULL, JH_MOUNT_HIDE), 0);
	cr_assert_eq(jh_view_finish(&v), 0);
	rs = jh_view_landlock_ruleset(&v, JH_LAYER_LANDLOCK_FS, &got, &rep);
	jh_view_free(&v);
	cr_assert_geq(rs, 0, "%s", strerror(-rs));
	cr_assert_eq(got, JH_LAYER_LANDLOCK_FS);
	/* the test's own hidden file, and /etc's secrets where this host has them */
	cr_assert_geq(rep.cut, 1, "holes cut out: %u", rep.cut);
	/* the hidden name in the private /tmp: beneath a writable entry */
	cr_assert_eq(rep.unenforced, 1, "holes left to the sentry: %u", rep.unenforced);
	cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || jh_landlock_enforce(rs) < 0)
			_exit(100);
		bad = 0;
		/* system directories: read and execute, never write */
		bad |= (try_exec("/usr/bin/true", NULL) != 0) << 0;
		bad |= (try_open("/etc/passwd", NULL, O_RDONLY) != 0) << 1;
		bad |= (try_open("/etc", NULL, O_RDONLY | O_DIRECTORY) != 0) << 2;
		bad |= (try_open("/etc/passwd", NULL, O_WRONLY) != EACCES) << 3;
		/* the read-only entry: read and run, minus its hidden file */
		bad |= (try_exec(ro, "ok.sh") != 5) << 4;
		bad |= (try_open(ro, "secret", O_RDONLY) != EACCES) << 5;
		bad |= (try_open(ro, "new", O_WRONLY | O_CREAT) != EACCES) << 6;
		/* (a file of the test's own: its mode would let it be written) */
		bad |= (try_open(ro, "ok.sh", O_WRONLY) != EACCES) << 16;
		/* outside the view: neither run nor read, though the file's mode allows both */
		bad |= (try_exec(out, "run.sh") != 200 + EACCES) << 7;
		bad |= (try_open(out, "data", O_RDONLY) != EACCES) << 8;
		bad |= (try_open("/var", NULL, O_RDONLY | O_DIRECTORY) != EACCES) << 9;
		/* the workspace and the private /tmp (at its host path): everything */
		bad |= (try_exec(ws, "run.sh") != 4) << 10;
		bad |= (try_open(ws, "new", O_WRONLY | O_CREAT) != 0) << 11;
		bad |= (try_open(tmp, "new", O_WRONLY | O_CREAT) != 0) << 12;
		/* devices: written, not executed; /proc: read */
		bad |= (try_open("/dev/null", NULL, O_WRONLY) != 0) << 13;
		bad |= (try_exec("/dev/null", NULL) != 200 + EACCES) << 14;
		bad |= (try_open("/proc/self/status", NULL, O_RDONLY) != 0) << 15;
		(void)!write(fds[1], &bad, sizeof(bad));
		_exit(0);
	}
	close(fds[1]);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
	cr_assert_eq(read(fds[0], &bad, sizeof(bad)), (ssize_t)sizeof(bad));
	close(fds[0]);
	close(rs);
	/* bit n: check n above went the wrong way */
	cr_assert_eq(bad, 0, "wrong outcomes: 0x%x", bad);
	/* the host side: nothing was created where the child was refused */
	cr_assert_eq(access(ro, F_OK), 0);
	{
		char p[300];
		snprintf(p, sizeof(p), "%s/new", ro);
		cr_assert_neq(access(p, F_OK), 0);
	}
	cleanup_dirs();
}

/* --ro /: the whole host read-only, yet what the view maps elsewhere (/tmp is
 * the private one) is not the host's, and the hidden entries stay hidden: the
 * root is cut around them. */
Test(fs_landlock, a_read_only_root_still_hides_the_hosts_tmp_and_the_hidden)
{
	struct jh_view v = {0};
	struct jh_ll_fs_report rep = {0};
	char hidden[256];
	unsigned got = 0;
	int rs, st, fds[2], bad = -1;
	pid_t pid;

	if (jh_landlock_abi() < 1) {
		skip_or_fail("Landlock is not available");
		return;
	}
	cr_assert(mkdtemp(ws) && mkdtemp(tmp) && mkdtemp(ro) && mkdtemp(out));
	put(out, "data", "d", 0644);
	put(ro, "secret", "s", 0644);
	put(ws, "run.sh", "#!/bin/sh\nexit 4\n", 0755);
	snprintf(hidden, sizeof(hidden), "%s/secret", ro);
	cr_assert_eq(jh_view_defaults(&v, ws, tmp), 0);
	cr_assert_eq(jh_view_set(&v, "/", NULL, JH_MOUNT_RO), 0);
	cr_assert_eq(jh_view_set(&v, hidden, NULL, JH_MOUNT_HIDE), 0);
	/* a readable file of the host's, hidden by the view alone */
	cr_assert_eq(jh_view_set(&v, "/etc/hostname", NULL, JH_MOUNT_HIDE), 0);
	cr_assert_eq(jh_view_finish(&v), 0);
	rs = jh_view_landlock_ruleset(&v, JH_LAYER_LANDLOCK_FS, &got, &rep);
	jh_view_free(&v);
	cr_assert_geq(rs, 0, "%s", strerror(-rs));
	cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || jh_landlock_enforce(rs) < 0)
			_exit(100);
		bad = 0;
		bad |= (try_exec("/usr/bin/true", NULL) != 0) << 0;
		bad |= (try_open("/etc/passwd", NULL, O_RDONLY) != 0) << 1;
		bad |= (try_open("/var", NULL, O_RDONLY | O_DIRECTORY) != 0) << 2;
		/* the host's /tmp is not the view's: the test's other dirs there are out */
		bad |= (try_open(out, "data", O_RDONLY) != EACCES) << 3;
		bad |= (try_open(ro, "secret", O_RDONLY) != EACCES) << 4;
		if (access("/etc/hostname", F_OK) == 0) /* stat is no Landlock right */
			bad |= (try_open("/etc/hostname", NULL, O_RDONLY) != EACCES) << 9;
		/* ...but the workspace and the private /tmp, also in the host's /tmp, are in */
		bad |= (try_exec(ws, "run.sh") != 4) << 5;
		bad |= (try_open(tmp, "new", O_WRONLY | O_CREAT) != 0) << 6;
		/* (not a binary: another test may be running it, ETXTBSY) */
		bad |= (try_open("/etc/passwd", NULL, O_WRONLY) != EACCES) << 7;
		bad |= (try_open("/dev/null", NULL, O_WRONLY) != 0) << 8;
		(void)!write(fds[1], &bad, sizeof(bad));
		_exit(0);
	}
	close(fds[1]);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
	cr_assert_eq(read(fds[0], &bad, sizeof(bad)), (ssize_t)sizeof(bad));
	close(fds[0]);
	close(rs);
	cr_assert_eq(bad, 0, "wrong outcomes: 0x%x", bad);
	cleanup_dirs();
}
