/* Network mediation, end to end: curl, Python and tests/progs/net-try under
 * jhansi-exec against servers this test starts.
 *
 * Safety: every test body runs in a forked child inside a network namespace
 * of its own (as root: unshare(CLONE_NEWNET); otherwise with a user namespace
 * too), with only loopback up. The servers listen there on addresses added to
 * that loopback — 10.1.2.3 (the allowed "api" host), 10.1.2.4 (a second
 * host), 10.1.2.5 (a proxy), 127.0.0.1 and a stand-in metadata server on
 * 169.254.169.254 — so no packet can leave the machine. Each server counts
 * its connections: the refusals are checked on the server side too. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"

/* In the child: failures print and exit 1; the parent asserts on the status. */
#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);  \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			_exit(1);                                                                  \
		}                                                                                  \
	} while (0)

struct server {
	const char *ip;
	int port;
	int type; /* SOCK_STREAM or SOCK_DGRAM */
	const char *tag;
	atomic_int hits;
	int fd;
};

static struct server servers[] = {
	{"10.1.2.3", 8080, SOCK_STREAM, "api", 0, -1},
	{"10.1.2.4", 8080, SOCK_STREAM, "other", 0, -1},
	{"10.1.2.5", 3128, SOCK_STREAM, "proxy", 0, -1},
	{"127.0.0.1", 9090, SOCK_STREAM, "loopback", 0, -1},
	{"169.254.169.254", 80, SOCK_STREAM, "metadata", 0, -1},
	{"169.254.169.254", 8080, SOCK_STREAM, "metadata", 0, -1},
	{"169.254.169.254", 8125, SOCK_DGRAM, "metadata-udp", 0, -1},
};

enum { S_API, S_OTHER, S_PROXY, S_LOOP, S_META, S_META8080, S_META_UDP };

static char *tmp;

static void *serve(void *arg)
{
	struct server *s = arg;
	char resp[256], buf[4096];

	snprintf(resp, sizeof(resp),
		 "HTTP/1.0 200 OK\r\nX-Server: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
		 s->tag, strlen(s->tag), s->tag);
	for (;;) {
		if (s->type == SOCK_DGRAM) {
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			if (recvfrom(s->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl) < 0)
				return NULL;
			atomic_fetch_add(&s->hits, 1);
			sendto(s->fd, s->tag, strlen(s->tag), 0, (struct sockaddr *)&from, fl);
			continue;
		}
		int c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
		struct pollfd p = {c, POLLIN, 0};
		if (c < 0)
			return NULL;
		atomic_fetch_add(&s->hits, 1);
		(void)!write(c, resp, strlen(resp));
		shutdown(c, SHUT_WR);
		while (poll(&p, 1, 500) > 0 && read(c, buf, sizeof(buf)) > 0)
			;
		close(c);
	}
}

static void add_addr(int sock, int n, const char *ip)
{
	struct ifreq ifr = {0};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo:%d", n);
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &sin->sin_addr);
	CHECK(ioctl(sock, SIOCSIFADDR, &ifr) == 0, "SIOCSIFADDR %s: %s", ip, strerror(errno));
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text), "%s: %s", path,
	      strerror(errno));
	close(fd);
}

/* In the child: a network namespace with lo up and the test addresses. */
static void enter_netns(void)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	struct ifreq ifr = {0};
	int sock;

	if (uid == 0) {
		CHECK(unshare(CLONE_NEWNET) == 0, "unshare(CLONE_NEWNET): %s", strerror(errno));
	} else {
		char map[64];
		/* The same uid inside: jhansi-exec runs unprivileged, as outside. */
		CHECK(unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0, "unshare(USER|NET): %s",
		      strerror(errno));
		write_file("/proc/self/setgroups", "deny");
		snprintf(map, sizeof(map), "%u %u 1", uid, uid);
		write_file("/proc/self/uid_map", map);
		snprintf(map, sizeof(map), "%u %u 1", gid, gid);
		write_file("/proc/self/gid_map", map);
	}
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	CHECK(ioctl(sock, SIOCGIFFLAGS, &ifr) == 0, "SIOCGIFFLAGS");
	ifr.ifr_flags |= IFF_UP;
	CHECK(ioctl(sock, SIOCSIFFLAGS, &ifr) == 0, "SIOCSIFFLAGS: %s", strerror(errno));
	add_addr(sock, 1, "10.1.2.3");
	add_addr(sock, 2, "10.1.2.4");
	add_addr(sock, 3, "10.1.2.5");
	add_addr(sock, 4, "169.254.169.254");
	close(sock);
}

static void start_servers(void)
{
	for (size_t i = 0; i < sizeof(servers) / sizeof(servers[0]); i++) {
		struct server *s = &servers[i];
		struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port)};
		int one = 1;
		pthread_t th;

		inet_pton(AF_INET, s->ip, &sin.sin_addr);
		s->fd = socket(AF_INET, s->type | SOCK_CLOEXEC, 0);
		setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		CHECK(bind(s->fd, (struct sockaddr *)&sin, sizeof(sin)) == 0, "bind %s:%d: %s", s->ip,
		      s->port, strerror(errno));
		CHECK(s->type == SOCK_DGRAM || listen(s->fd, 64) == 0, "listen");
		pthread_create(&th, NULL, serve, s);
		pthread_detach(th);
	}
}

/* A unix socket server at `path` (or abstract when path starts with '@'). */
static int unix_server(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	socklen_t len = sizeof(sun);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	static struct server us[4];
	static int nus;
	pthread_t th;

	if (path[0] == '@') {
		strncpy(sun.sun_path + 1, path + 1, sizeof(sun.sun_path) - 2);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	} else
		strncpy(sun.sun_path, path, sizeof(sun.sun_path) - 1);
	CHECK(bind(fd, (struct sockaddr *)&sun, len) == 0 && listen(fd, 8) == 0, "unix %s: %s",
	      path, strerror(errno));
	if (path[0] != '@')
		chmod(path, 0777);
	us[nus] = (struct server){.tag = "unix", .type = SOCK_STREAM, .fd = fd};
	pthread_create(&th, NULL, serve, &us[nus]);
	pthread_detach(th);
	return nus++;
}

/* Runs `body` in a child inside a fresh network namespace with the servers up. */
static void in_netns(void (*body)(void))
{
	pid_t pid;
	int st;

	tmp = make_tmpdir();
	chmod(tmp, 0755); /* the sandbox may run as uid 65534 */
	fflush(NULL);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* the audit store and workspaces of these runs stay in `tmp` */
		char state[4200];

		snprintf(state, sizeof(state), "%s/state", tmp);
		setenv("JHANSI_STATE_DIR", state, 1);
		enter_netns();
		start_servers();
		body();
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	rmtree(tmp);
	free(tmp);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the test body failed (status 0x%x)", st);
}

/* Runs jhansi-exec with the given arguments (NULL-terminated), --audit off first. */
#define JX(r, ...)                                                                                 \
	CHECK(run_jx(&(r), "--audit", "off", __VA_ARGS__, NULL) == 0, "spawning jhansi-exec")

static void expect_try(const char *want, const char *const *policy, size_t npolicy,
		       const char *a1, const char *a2, const char *a3)
{
	const char *argv[32];
	struct run_result r;
	size_t n = 0;

	argv[n++] = JX_PATH;
	argv[n++] = "--audit";
	argv[n++] = "off";
	argv[n++] = "--log-events";
	for (size_t i = 0; i < npolicy; i++)
		argv[n++] = policy[i];
	argv[n++] = "--";
	argv[n++] = prog_path("net-try");
	argv[n++] = a1;
	if (a2)
		argv[n++] = a2;
	if (a3)
		argv[n++] = a3;
	argv[n] = NULL;
	CHECK(run_argv(argv, &r) == 0, "spawn");
	CHECK(r.status == 0 && strncmp(r.out, want, strlen(want)) == 0,
	      "net-try %s %s %s: want '%s', got status %d out '%s' err '%s'", a1, a2 ? a2 : "",
	      a3 ? a3 : "", want, r.status, r.out, r.err);
	run_result_free(&r);
}

#define TRY(want, policy, ...)                                                                     \
	expect_try(want, policy, sizeof(policy) / sizeof(policy[0]), __VA_ARGS__)

static const char *const none[] = {"--hostname", "jhansi"}; /* no network rule */

/* A run with no rule allowing a destination gets a network namespace of its
 * own where the host allows one (platform/netns.h): 127.0.0.1 and abstract
 * sockets are then the sandbox's own, where nothing listens (ECONNREFUSED);
 * without it the sentry refuses the host's (EPERM). Tried in a forked child,
 * as jhansi-exec would (not root: in a user namespace). */
static const char *own_or_refused(void)
{
	pid_t pid = fork();
	int st;

	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		if (geteuid() != 0 && unshare(CLONE_NEWUSER) < 0)
			_exit(1);
		_exit(unshare(CLONE_NEWNET) == 0 ? 0 : 1);
	}
	CHECK(waitpid(pid, &st, 0) == pid, "waitpid");
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "ECONNREFUSED" : "EPERM";
}

static void body_default(void)
{
	struct run_result r;

	TRY("EPERM", none, "connect", "10.1.2.3", "8080");
	TRY(own_or_refused(), none, "connect", "127.0.0.1", "9090"); /* the host's: not reached */
	TRY("EPERM", none, "connect", "::ffff:10.1.2.3", "8080");
	TRY("EPERM", none, "udp", "10.1.2.3", "8080");
	JX(r, "--", "/usr/bin/curl", "-sS", "-m", "5", "http://10.1.2.3:8080/");
	CHECK(r.status != 0 && !strstr(r.out, "api"), "curl reached the server: %s", r.out);
	run_result_free(&r);
	for (int i = 0; i < S_META_UDP + 1; i++)
		CHECK(atomic_load(&servers[i].hits) == 0, "server %s was reached", servers[i].tag);
}

Test(net, a_default_run_cannot_connect_anywhere)
{
	in_netns(body_default);
}

static const char *const api[] = {"--allow-host", "api.test:8080", "--add-host",
				  "api.test=10.1.2.3", "--add-host", "other.test=10.1.2.4"};

static void body_allow_host(void)
{
	struct run_result r;
	const char *py = "import urllib.request,sys\n"
			 "print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())\n";

	JX(r, "--allow-host", "api.test:8080", "--add-host", "api.test=10.1.2.3", "--", "/usr/bin/curl",
	   "-sS", "-m", "5", "http://api.test:8080/");
	CHECK(r.status == 0 && strcmp(r.out, "api") == 0, "curl: %d '%s' %s", r.status, r.out, r.err);
	run_result_free(&r);
	JX(r, "--allow-host", "api.test:8080", "--add-host", "api.test=10.1.2.3", "--",
	   "/usr/bin/python3", "-c", py, "http://api.test:8080/");
	CHECK(r.status == 0 && strcmp(r.out, "api\n") == 0, "urllib: %d '%s' %s", r.status, r.out,
	      r.err);
	run_result_free(&r);
	/* another name (resolvable for the run, but not allowed) */
	JX(r, "--allow-host", "api.test:8080", "--add-host", "api.test=10.1.2.3", "--add-host",
	   "other.test=10.1.2.4", "--", "/usr/bin/curl", "-sS", "-m", "5", "http://other.test:8080/");
	CHECK(r.status != 0 && strstr(r.err, "resolve"), "other name: %d '%s' %s", r.status, r.out,
	      r.err);
	run_result_free(&r);
	/* another port of the allowed name */
	JX(r, "--allow-host", "api.test:8080", "--add-host", "api.test=10.1.2.3", "--", "/usr/bin/curl",
	   "-sS", "-m", "5", "http://api.test:8081/");
	CHECK(r.status != 0, "other port: %d '%s'", r.status, r.out);
	run_result_free(&r);
	/* raw IPs: the second host, and the allowed one before any name led there */
	TRY("EPERM", api, "connect", "10.1.2.4", "8080");
	TRY("EPERM", api, "connect", "10.1.2.3", "8080");
	TRY("EPERM", api, "connect", "10.1.2.3", "8081");
	CHECK(atomic_load(&servers[S_OTHER].hits) == 0, "the second host was reached");
	CHECK(atomic_load(&servers[S_API].hits) == 2, "api hits %d", atomic_load(&servers[S_API].hits));
}

Test(net, allow_host_lets_curl_and_urllib_reach_exactly_that_name_and_port)
{
	in_netns(body_allow_host);
}

static const char *const everything[] = {"--net", "host", "--allow-net", "0.0.0.0/0",
					 "--allow-net", "::/0"};

static void body_metadata(void)
{
	struct run_result r;
	const char *py = "import socket\n"
			 "for n in ('meta.test', 'metadata.google.internal'):\n"
			 "    try:\n"
			 "        socket.create_connection((n, 80), timeout=3); print(n, 'CONNECTED')\n"
			 "    except OSError as e: print(n, 'refused', e)\n";

	TRY("EPERM", everything, "connect", "169.254.169.254", "80");
	TRY("EPERM", everything, "connect", "::ffff:169.254.169.254", "80");
	TRY("EPERM", everything, "connect", "::169.254.169.254", "80");
	TRY("EPERM", everything, "connect", "64:ff9b::a9fe:a9fe", "80");
	TRY("EPERM", everything, "udp", "169.254.169.254", "8125");
	TRY("EPERM", none, "udp", "169.254.169.254", "8125");
	/* a name that resolves to it, in the default mode */
	JX(r, "--allow-host", "meta.test", "--add-host", "meta.test=169.254.169.254",
	   "--allow-host", "metadata.google.internal", "--", "/usr/bin/python3", "-c", py);
	CHECK(r.status == 0 && !strstr(r.out, "CONNECTED") && strstr(r.out, "meta.test refused") &&
		      strstr(r.out, "metadata.google.internal refused"),
	      "by name: %d '%s' %s", r.status, r.out, r.err);
	run_result_free(&r);
	CHECK(atomic_load(&servers[S_META].hits) == 0, "metadata server reached");
	CHECK(atomic_load(&servers[S_META_UDP].hits) == 0, "metadata UDP server reached");
}

Test(net, metadata_is_refused_in_every_spelling_and_mode)
{
	in_netns(body_metadata);
}

static void body_race(void)
{
	static const char *const allow[] = {"--allow-net", "10.1.2.3:8080"};
	struct run_result r;
	int good = 0, bad = -1, refused = 0;

	JX(r, "--allow-net", "10.1.2.3:8080", "--", prog_path("net-try"), "race", "10.1.2.3",
	   "169.254.169.254", "8080");
	CHECK(r.status == 0 && sscanf(r.out, "good=%d bad=%d refused=%d", &good, &bad, &refused) == 3,
	      "race: %d '%s' %s", r.status, r.out, r.err);
	CHECK(bad == 0, "connected to the rewritten address %d times", bad);
	CHECK(good > 0, "never connected to the allowed address (%s)", r.out);
	run_result_free(&r);
	CHECK(atomic_load(&servers[S_META8080].hits) == 0, "metadata server reached");
	(void)allow;
}

Test(net, a_thread_rewriting_the_sockaddr_never_reaches_the_rewritten_address)
{
	in_netns(body_race);
}

static void body_unix(void)
{
	char outside[4096], ws[3000], inside[4096], abs_name[64];
	const char *pol[] = {"--hostname", "jhansi"};
	struct run_result r;
	int u_out;

	/* a first run makes the workspace (the task's working directory) */
	JX(r, "--", "true");
	run_result_free(&r);
	snprintf(outside, sizeof(outside), "%s/run", tmp);
	snprintf(ws, sizeof(ws), "%.2900s/state/workspaces/default", tmp);
	mkdir(outside, 0755);
	strcat(outside, "/docker.sock");
	snprintf(inside, sizeof(inside), "%s/app.sock", ws);
	snprintf(abs_name, sizeof(abs_name), "@jhansi-test-%d", (int)getpid());
	u_out = unix_server(outside);
	unix_server(inside);
	unix_server(abs_name);
	CHECK(chdir(ws) == 0, "chdir");
	TRY("EPERM", pol, "unix", outside, NULL);
	TRY(own_or_refused(), pol, "abstract", abs_name + 1, NULL); /* the host's: not reached */
	TRY("OK unix", pol, "unix", "app.sock", NULL); /* below the workspace */
	TRY("OK unix", pol, "unix", inside, NULL);
	/* a symlink in the workspace pointing out is decided on its target */
	CHECK(symlink(outside, "link.sock") == 0, "symlink");
	TRY("EPERM", pol, "unix", "link.sock", NULL);
	(void)u_out;
	{
		const char *named[] = {"--allow-net", NULL};
		char rule[4200];
		snprintf(rule, sizeof(rule), "unix:%s", outside);
		named[1] = rule;
		TRY("OK unix", named, "unix", outside, NULL);
	}
}

Test(net, host_unix_sockets_and_abstract_sockets_are_refused_unless_named)
{
	in_netns(body_unix);
}

static void body_raw(void)
{
	TRY("raw=EPERM packet=EPERM", everything, "raw", NULL, NULL);
	TRY("raw=EPERM packet=EPERM", none, "raw", NULL, NULL);
}

Test(net, raw_and_packet_sockets_are_refused_in_every_mode)
{
	in_netns(body_raw);
}

static void body_loopback(void)
{
	static const char *const all[] = {"--allow-net", "0.0.0.0/0"};
	static const char *const lo[] = {"--allow-net", "127.0.0.1:9090"};

	TRY("EPERM", all, "connect", "127.0.0.1", "9090");
	TRY("EPERM", all, "connect", "0.0.0.0", "9090");
	TRY("OK loopback", lo, "connect", "127.0.0.1", "9090");
	TRY("EPERM", lo, "connect", "127.0.0.1", "9091");
}

Test(net, host_loopback_is_reached_only_through_a_rule_naming_it)
{
	in_netns(body_loopback);
}

static void body_proxy(void)
{
	struct run_result r;

	/* The client may reach api.test only: the proxy that would tunnel to
	 * other.test is not reachable at all, whatever the client asks of it. */
	JX(r, "--allow-host", "api.test:8080", "--add-host", "api.test=10.1.2.3", "--add-host",
	   "other.test=10.1.2.4", "--", "/usr/bin/curl", "-sS", "-m", "5", "-p", "--proxy",
	   "http://10.1.2.5:3128", "http://other.test:8080/");
	CHECK(r.status != 0 && !strstr(r.out, "other"), "tunnel: %d '%s' %s", r.status, r.out, r.err);
	run_result_free(&r);
	JX(r, "--allow-host", "api.test:8080", "--add-host", "api.test=10.1.2.3", "--", "/usr/bin/curl",
	   "-sS", "-m", "5", "-p", "--proxy", "http://api.test:8080", "http://10.1.2.4:8080/");
	CHECK(!strstr(r.out, "other"), "tunnel through the allowed host: '%s'", r.out);
	run_result_free(&r);
	CHECK(atomic_load(&servers[S_PROXY].hits) == 0, "the proxy was reached");
	CHECK(atomic_load(&servers[S_OTHER].hits) == 0, "the second host was reached");
}

Test(net, a_connect_tunnel_cannot_reach_a_host_the_policy_does_not_name)
{
	in_netns(body_proxy);
}

static void body_explain(void)
{
	struct run_result r;

	JX(r, "--net", "host", "--allow-host", "*.example.com:443", "--explain");
	CHECK(r.status == 0 && strstr(r.out, "HOST (--net host") &&
		      strstr(r.out, "allow-host *.example.com:443"),
	      "explain: %s", r.out);
	run_result_free(&r);
	JX(r, "--allow-net", "10.0.0.0/33", "--", "/bin/true");
	CHECK(r.status == 125 && strstr(r.err, "invalid --allow-net"), "bad rule: %d %s", r.status,
	      r.err);
	run_result_free(&r);
}

Test(net, explain_shows_the_rules_and_bad_rules_exit_125)
{
	in_netns(body_explain);
}
