/* The backstop layers, checked in forked children (never in Criterion's
 * worker): namespaces entered, Landlock scopes and TCP rules enforced. A
 * layer the kernel lacks is a skip, or a failure under JH_MUST_WORK=1. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/macro.h"
#include "platform/layers.h"

static void skip_or_fail(const char *why)
{
	const char *must = getenv("JH_MUST_WORK");

	if (must && *must && *must != '0')
		cr_assert_fail("required but unavailable (JH_MUST_WORK): %s", why);
	else
		cr_skip_test("%s", why);
}

Test(layers, names_parse_and_format_round_trip)
{
	unsigned m = 0;
	char buf[128];

	cr_assert_eq(jh_layers_parse("userns,utsns,landlock-scope", &m), 0);
	cr_assert_eq(m, JH_LAYER_USERNS | JH_LAYER_UTSNS | JH_LAYER_LANDLOCK_SCOPE);
	jh_layers_format(m, buf, sizeof(buf));
	cr_assert_str_eq(buf, "userns,utsns,landlock-scope");
	cr_assert_lt(jh_layers_parse("userns,,utsns", &m), 0);
	cr_assert_lt(jh_layers_parse("timens", &m), 0);
	cr_assert_lt(jh_layers_parse("", &m), 0);
	jh_layers_format(JH_LAYERS_NS_ALL | JH_LAYERS_LANDLOCK, buf, 8); /* cut, terminated */
	cr_assert_lt(strlen(buf), 8);
}

/* In a child: enforce a ruleset, then try to signal the parent and to connect
 * to its TCP listener. Exit code: bit 0 = the signal was refused, bit 1 = the
 * connect was refused. */
static int child_body(int ll_fd, int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int code = 0, s;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || jh_landlock_enforce(ll_fd) < 0)
		return 100;
	if (kill(getppid(), 0) < 0 && errno == EPERM)
		code |= 1;
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s >= 0 && connect(s, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno == EACCES)
		code |= 2;
	return code;
}

Test(layers, landlock_refuses_signals_out_and_tcp_of_the_tasks_own)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	unsigned got = 0;
	int ll_fd, lfd, st;
	pid_t pid;

	if (jh_landlock_abi() < 6) {
		skip_or_fail("Landlock ABI 6 (Linux 6.12) is not available");
		return;
	}
	ll_fd = jh_landlock_ruleset(JH_LAYERS_LANDLOCK, NULL, 0, &got, NULL);
	cr_assert_geq(ll_fd, 0, "%s", strerror(-ll_fd));
	cr_assert_eq(got, JH_LAYERS_LANDLOCK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(lfd, 0);
	cr_assert_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(listen(lfd, 1), 0);
	cr_assert_eq(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(child_body(ll_fd, ntohs(sin.sin_port)));
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st), "status 0x%x", st);
	cr_assert_eq(WEXITSTATUS(st), 3, "signal refused: %d, connect refused: %d",
		     WEXITSTATUS(st) & 1, !!(WEXITSTATUS(st) & 2));
	close(lfd);
	close(ll_fd);
}

Test(layers, namespaces_are_entered_where_the_host_allows)
{
	unsigned probed = jh_layers_probe() & JH_LAYERS_NS_ALL;
	int fds[2], st;
	unsigned got = 0;
	pid_t pid;

	if (!probed) {
		skip_or_fail("this host allows no namespace");
		return;
	}
	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		unsigned m = jh_layers_enter(JH_LAYERS_NS_ALL, "layers-test");
		char host[64] = "";
		gethostname(host, sizeof(host));
		/* report the mask, and whether the UTS name took */
		if ((m & JH_LAYER_UTSNS) && strcmp(host, "layers-test") != 0)
			m = 0;
		(void)!write(fds[1], &m, sizeof(m));
		_exit(0);
	}
	close(fds[1]);
	cr_assert_eq(read(fds[0], &got, sizeof(got)), (ssize_t)sizeof(got));
	close(fds[0]);
	waitpid(pid, &st, 0);
	cr_assert_eq(got, probed, "entered 0x%x, probe said 0x%x", got, probed);
}

/* The filesystem rules the gofer confines itself with (base/landlock.h): read
 * beneath one directory, change beneath another, nothing elsewhere. */
Test(layers, landlock_filesystem_rules_allow_only_what_they_name)
{
	char ro[] = "/tmp/jhansi-test-ll-ro-XXXXXX", rw[] = "/tmp/jhansi-test-ll-rw-XXXXXX";
	char path[128];
	int abi = jh_landlock_abi(), st;
	pid_t pid;

	if (abi < 1) {
		skip_or_fail("Landlock is not available");
		return;
	}
	cr_assert(mkdtemp(ro) && mkdtemp(rw));
	snprintf(path, sizeof(path), "%s/f", ro);
	close(open(path, O_WRONLY | O_CREAT, 0644));
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		uint64_t fs = jh_landlock_fs_rights(abi);
		int rs = jh_landlock_create(fs, 0, 0);
		int rofd = open(ro, O_PATH | O_DIRECTORY), rwfd = open(rw, O_PATH | O_DIRECTORY);
		char p[160];
		int code = 0, fd;

		if (rs < 0 || jh_landlock_allow_beneath(rs, rofd, JH_LL_FS_READ) < 0 ||
		    jh_landlock_allow_beneath(rs, rwfd, fs) < 0 ||
		    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || jh_landlock_enforce(rs) < 0)
			_exit(100);
		snprintf(p, sizeof(p), "%s/f", ro);
		if ((fd = open(p, O_RDONLY)) >= 0) /* reading beneath ro: allowed */
			code |= 1, close(fd);
		if (open(p, O_WRONLY) < 0 && errno == EACCES) /* writing there: refused */
			code |= 2;
		snprintf(p, sizeof(p), "%s/new", rw);
		if ((fd = open(p, O_WRONLY | O_CREAT, 0644)) >= 0) /* creating beneath rw */
			code |= 4, close(fd);
		if (open("/etc/hostname", O_RDONLY) < 0 && errno == EACCES) /* elsewhere: nothing */
			code |= 8;
		_exit(code);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 15, "status 0x%x", st);
	snprintf(path, sizeof(path), "rm -rf '%s' '%s'", ro, rw);
	cr_assert_eq(system(path), 0);
}

/* The filesystem layer's builder (jh_landlock_ruleset with paths), with no
 * sentry at all: a child that enforces only this ruleset may read and
 * execute beneath a read-only path but not the holes cut out of it, may
 * create beneath a read-write one, and may neither open nor execute
 * anything elsewhere. The system directories are allowed as the default
 * view allows them, so that an exec finds its ELF interpreter. */
static char fs_top[] = "/tmp/jhansi-test-llfs-XXXXXX";

static void fs_file(const char *rel, const char *content, mode_t mode)
{
	char p[256];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", fs_top, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	cr_assert_geq(fd, 0, "%s: %s", p, strerror(errno));
	cr_assert_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

static void fs_dir(const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", fs_top, rel);
	cr_assert_eq(mkdir(p, 0755), 0, "%s: %s", p, strerror(errno));
}

/* In the child: 0 when open(rel, flags) succeeds, else errno. */
static int fs_try_open(const char *rel, int flags)
{
	char p[256];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", fs_top, rel);
	fd = open(p, flags | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* In the child: the exit status of rel run by execve, or 200 + errno. */
static int fs_try_exec(const char *rel)
{
	char p[256];
	char *argv[] = {p, NULL};
	int st;
	pid_t pid;

	snprintf(p, sizeof(p), "%s/%s", fs_top, rel);
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

Test(layers, landlock_fs_layer_mirrors_allowed_paths_and_cuts_out_holes)
{
	char ro[160], rw[160], rwro[160], hole1[160], hole2[160], rwhole[160];
	int abi = jh_landlock_abi(), st, fds[2], bad = -1;
	struct jh_ll_fs_report rep = {0};
	unsigned got = 0;
	int rs;
	pid_t pid;

	if (abi < 1) {
		skip_or_fail("Landlock is not available");
		return;
	}
	cr_assert(mkdtemp(fs_top));
	fs_dir("ro");
	fs_dir("ro/sub");
	fs_dir("rw");
	fs_dir("out");
	fs_file("ro/a", "a", 0644);
	fs_file("ro/secret", "s", 0644);
	fs_file("ro/sub/c", "c", 0644);
	fs_file("ro/sub/hidden", "h", 0644);
	fs_file("ro/run.sh", "#!/bin/sh\nexit 7\n", 0755);
	fs_file("out/run.sh", "#!/bin/sh\nexit 7\n", 0755);
	fs_file("rw/run.sh", "#!/bin/sh\nexit 8\n", 0755);
	fs_file("rw/hidden", "h", 0644);
	snprintf(ro, sizeof(ro), "%s/ro", fs_top);
	snprintf(rw, sizeof(rw), "%s/rw", fs_top);
	snprintf(hole1, sizeof(hole1), "%s/ro/secret", fs_top);
	snprintf(hole2, sizeof(hole2), "%s/ro/sub/hidden", fs_top);
	snprintf(rwhole, sizeof(rwhole), "%s/rw/hidden", fs_top);
	snprintf(rwro, sizeof(rwro), "%s/rw/run.sh", fs_top);
	{
		const struct jh_ll_path paths[] = {
			{"/usr", JH_LL_ACCESS_RO},   {"/bin", JH_LL_ACCESS_RO},
			{"/lib", JH_LL_ACCESS_RO},   {"/lib64", JH_LL_ACCESS_RO},
			{"/etc", JH_LL_ACCESS_RO},   {"/dev/null", JH_LL_ACCESS_DEV},
			{ro, JH_LL_ACCESS_RO},       {hole1, 0},
			{hole2, 0},                  {rw, JH_LL_ACCESS_RW},
			{rwhole, 0},                 {rwro, JH_LL_ACCESS_RO},
			{"/nonexistent-llfs", JH_LL_ACCESS_RO},
		};
		rs = jh_landlock_ruleset(JH_LAYER_LANDLOCK_FS, paths, JH_ARRAY_SIZE(paths), &got,
					 &rep);
	}
	cr_assert_geq(rs, 0, "%s", strerror(-rs));
	cr_assert_eq(got, JH_LAYER_LANDLOCK_FS);
	cr_assert_eq(rep.cut, 2, "holes cut out: %u", rep.cut);
	/* beneath the read-write entry: rw/hidden, and rw/run.sh with fewer rights */
	cr_assert_eq(rep.unenforced, 2, "holes left to the sentry: %u", rep.unenforced);
	cr_assert_eq(rep.skipped, 1, "paths skipped: %u", rep.skipped);
	cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || jh_landlock_enforce(rs) < 0)
			_exit(100);
		bad = 0;
		bad |= (fs_try_open("ro/a", O_RDONLY) != 0) << 0;
		bad |= (fs_try_open("ro/sub/c", O_RDONLY) != 0) << 1;
		bad |= (fs_try_open("ro/secret", O_RDONLY) != EACCES) << 2;
		bad |= (fs_try_open("ro/sub/hidden", O_RDONLY) != EACCES) << 3;
		bad |= (fs_try_open("ro/a", O_WRONLY) != EACCES) << 4;
		bad |= (fs_try_open("ro/new", O_WRONLY | O_CREAT) != EACCES) << 5;
		bad |= (fs_try_open("out/run.sh", O_RDONLY) != EACCES) << 6;
		bad |= (fs_try_open("rw/new", O_WRONLY | O_CREAT) != 0) << 7;
		bad |= (fs_try_exec("ro/run.sh") != 7) << 8;    /* exec inside: runs */
		bad |= (fs_try_exec("rw/run.sh") != 8) << 9;
		bad |= (fs_try_exec("out/run.sh") != 200 + EACCES) << 10; /* outside: kernel says no */
		bad |= (open("/dev/null", O_WRONLY | O_CLOEXEC) < 0) << 11;
		bad |= (open("/proc/self/status", O_RDONLY | O_CLOEXEC) >= 0 || errno != EACCES)
		       << 12;
		/* a directory cut around a hole still lists (names only) */
		bad |= (fs_try_open("ro/sub", O_RDONLY | O_DIRECTORY) != 0) << 13;
		bad |= (fs_try_open("out", O_RDONLY | O_DIRECTORY) != EACCES) << 14;
		/* the hole's siblings keep exactly the entry's rights */
		bad |= (fs_try_open("ro/sub/c", O_WRONLY) != EACCES) << 15;
		(void)!write(fds[1], &bad, sizeof(bad));
		_exit(0);
	}
	close(fds[1]);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
	cr_assert_eq(read(fds[0], &bad, sizeof(bad)), (ssize_t)sizeof(bad));
	close(fds[0]);
	/* bit n: check n above went the wrong way */
	cr_assert_eq(bad, 0, "wrong outcomes: 0x%x", bad);
	close(rs);
	{
		char cmd[256];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fs_top);
		cr_assert_eq(system(cmd), 0);
	}
}
