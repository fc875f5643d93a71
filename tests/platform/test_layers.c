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
#include <sys/wait.h>
#include <unistd.h>

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
	cr_assert_lt(jh_layers_parse("pidns", &m), 0);
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
	ll_fd = jh_landlock_ruleset(JH_LAYERS_LANDLOCK, &got);
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
