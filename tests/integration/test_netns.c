/* The network-namespace layer: where the host allows it (root, or a user
 * namespace of our own) and the network policy grants no destination, the
 * tasks live in a network namespace holding only their own loopback, up: they
 * see only "lo", no route leads anywhere, and a server and a client inside
 * the sandbox talk over 127.0.0.1. A policy that allows destinations keeps
 * the host's namespace (the sentry connects the task's own socket), and
 * --require netns then refuses to run; under the no-namespaces wrapper the
 * layer is off and the sentry alone refuses loopback.
 *
 * Safety: nothing here reaches past the sandbox's own loopback. The one
 * outside destination tried is 192.0.2.1 (TEST-NET-1, never routed), which
 * the policy refuses before any packet; with the layer on there is no route
 * for it either. The host-loopback side (a server on the host's 127.0.0.1
 * that must not be reached) is in test_net.c, inside a namespace it makes.
 * The expectation is decided by the test itself, by trying the namespaces in
 * a forked child, never by asking jhansi-exec. */
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

TestSuite(netns, .init = setup, .fini = teardown, .timeout = 60);

/* Interface names in /proc/net/dev text ("  lo: 0 0 ..."), one per line. */
static void interfaces(const char *dev, char *out, size_t len)
{
	const char *p = dev;

	out[0] = '\0';
	while ((p = strchr(p, '\n'))) {
		const char *name = ++p, *colon = strchr(p, ':'), *nl = strchr(p, '\n');

		if (!colon || (nl && colon > nl))
			continue;
		while (*name == ' ')
			name++;
		snprintf(out + strlen(out), len - strlen(out), "%.*s\n", (int)(colon - name), name);
	}
}

Test(netns, a_run_with_no_network_rule_sees_only_its_loopback_and_no_route)
{
	bool on = host_allows_unshare(CLONE_NEWNET);
	char names[1024];
	struct run_result r;

	/* /proc/self/net: the asking task's namespace */
	RUN(r, "--audit", "off", "--", "/bin/sh", "-c",
	    "cat /proc/self/net/dev; echo ROUTES; tail -n +2 /proc/self/net/route");
	cr_assert_eq(r.status, 0, "%s", r.err);
	interfaces(r.out, names, sizeof(names));
	if (on) {
		cr_assert_str_eq(names, "lo\n", "interfaces: %s", r.out);
		/* nothing but the loopback routes (which live in the local table) */
		cr_assert(strstr(r.out, "ROUTES\n") && strcmp(strstr(r.out, "ROUTES\n"), "ROUTES\n") == 0,
			  "routes: %s", r.out);
	} else
		cr_assert(strstr(names, "lo\n"), "interfaces: %s", r.out);
	run_result_free(&r);
	/* and the same with `ip`, where it is installed */
	if (on && access("/usr/sbin/ip", X_OK) == 0 && access("/usr/bin/ip", X_OK) != 0) {
		RUN(r, "--audit", "off", "--", "/usr/sbin/ip", "-o", "link");
		cr_assert_eq(r.status, 0, "%s", r.err);
		cr_assert(strncmp(r.out, "1: lo: <LOOPBACK,UP,LOWER_UP>", 29) == 0 &&
				  !strchr(r.out, '\n')[1],
			  "ip link: %s", r.out);
		run_result_free(&r);
	}
}

/* A server and a client inside the sandbox, over TCP on 127.0.0.1 and over an
 * abstract unix socket, and a connect to an outside address. */
static const char loopback_py[] =
	"import socket, threading\n"
	"def pair(fam, addr):\n"
	"    s = socket.socket(fam); s.bind(addr); s.listen(1)\n"
	"    def serve():\n"
	"        c, _ = s.accept(); c.sendall(b'hello'); c.close()\n"
	"    threading.Thread(target=serve, daemon=True).start()\n"
	"    c = socket.socket(fam); c.settimeout(5); c.connect(s.getsockname())\n"
	"    return c.recv(16).decode()\n"
	"for name, fam, addr in (('tcp', socket.AF_INET, ('127.0.0.1', 0)),\n"
	"                        ('abstract', socket.AF_UNIX, '\\0jhansi-netns-test')):\n"
	"    try: print(name, pair(fam, addr))\n"
	"    except OSError as e: print(name, 'errno', e.errno)\n"
	"try:\n"
	"    socket.create_connection(('192.0.2.1', 80), timeout=3); print('outside CONNECTED')\n"
	"except OSError as e: print('outside errno', e.errno)\n";

Test(netns, a_server_and_client_inside_talk_over_loopback_and_outside_is_refused)
{
	bool on = host_allows_unshare(CLONE_NEWNET);
	struct run_result r;

	RUN(r, "--audit", "off", "--", "/usr/bin/python3", "-c", loopback_py);
	cr_assert_eq(r.status, 0, "%s", r.err);
	if (on) {
		cr_assert(strstr(r.out, "tcp hello\n"), "%s", r.out);
		cr_assert(strstr(r.out, "abstract hello\n"), "%s", r.out);
	} else {
		/* the host's loopback and abstract sockets: refused by the sentry */
		cr_assert(strstr(r.out, "tcp errno 1\n"), "%s", r.out);
		cr_assert(strstr(r.out, "abstract errno 1\n"), "%s", r.out);
	}
	cr_assert(strstr(r.out, "outside errno 1\n"), "%s", r.out);
	run_result_free(&r);

	/* a rule allowing a destination: the host's namespace, loopback refused */
	RUN(r, "--audit", "off", "--allow-net", "192.0.2.0/24:443", "--", "/usr/bin/python3", "-c",
	    loopback_py);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "tcp errno 1\n"), "%s", r.out);
	cr_assert(strstr(r.out, "outside errno 1\n"), "%s", r.out);
	run_result_free(&r);
}

Test(netns, explain_shows_the_network_namespace_on_or_off_and_why)
{
	bool on = host_allows_unshare(CLONE_NEWNET);
	struct run_result r;

	RUN(r, "--explain");
	cr_assert_eq(r.status, 0, "%s", r.err);
	if (on) {
		cr_assert(strstr(r.out, "network namespace        on: the sandbox's own"), "%s", r.out);
		cr_assert(strstr(r.out, ",netns"), "%s", r.out);
		cr_assert(strstr(r.out, "loopback open to it"), "%s", r.out);
	} else {
		cr_assert(strstr(r.out, "network namespace        off: the host refuses it"), "%s",
			  r.out);
		cr_assert(strstr(r.out, "host\n                           loopback"), "%s", r.out);
	}
	run_result_free(&r);

	RUN(r, "--allow-host", "api.example.com:443", "--explain");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "network namespace        off: the policy allows destinations "
				"(an --allow-host rule)"),
		  "%s", r.out);
	cr_assert_null(strstr(r.out, ",netns"), "%s", r.out);
	run_result_free(&r);
}

Test(netns, require_netns_runs_where_allowed_and_is_125_where_refused_or_rules_allow)
{
	bool on = host_allows_unshare(CLONE_NEWNET);
	char db[4200], sock[4200], rule[4300];
	const char *show[] = {JA_PATH, "--db", db, "show", "1", NULL};
	static const char *const needs_host[][2] = {
		{"--allow-net", "192.0.2.0/24"},     {"--allow-host", "api.example.com"},
		{"--add-host", "api.test=192.0.2.1"}, {"--net", "host"},
		{"--allow-net", "unix:@some-service"},
	};
	struct run_result r;

	snprintf(db, sizeof(db), "%s/audit.db", state);
	RUN(r, "--audit-db", db, "--require", "netns", "--", "true");
	if (!on) {
		cr_assert_eq(r.status, 125, "status %d: %s", r.status, r.err);
		cr_assert(strstr(r.err, "required protection layer unavailable on this host: netns"),
			  "%s", r.err);
		run_result_free(&r);
	} else {
		cr_assert_eq(r.status, 0, "%s", r.err);
		run_result_free(&r);
		/* the run's audit record names the layer */
		cr_assert_eq(run_argv(show, &r), 0);
		cr_assert_eq(r.status, 0, "%s", r.err);
		cr_assert(strstr(r.out, "netns"), "%s", r.out);
		run_result_free(&r);
	}

	/* rules that need the host's namespace: 125 whatever the host allows,
	 * and the one-line error says why */
	for (size_t i = 0; i < sizeof(needs_host) / sizeof(needs_host[0]); i++) {
		RUN(r, "--audit", "off", needs_host[i][0], needs_host[i][1], "--require", "netns",
		    "--", "true");
		cr_assert_eq(r.status, 125, "%s %s: status %d: %s", needs_host[i][0],
			     needs_host[i][1], r.status, r.err);
		cr_assert(strstr(r.err, "netns"), "%s", r.err);
		if (on)
			cr_assert(strstr(r.err, "the network policy allows destinations"), "%s",
				  r.err);
		cr_assert_null(strchr(r.err, '\n') ? strchr(strchr(r.err, '\n') + 1, '\n') : NULL,
			       "more than one line: %s", r.err);
		run_result_free(&r);
	}

	/* a pathname unix socket is found through the filesystem: it keeps the
	 * namespace (and --deny-net only narrows) */
	snprintf(sock, sizeof(sock), "%s/x.sock", state);
	snprintf(rule, sizeof(rule), "unix:%s", sock);
	RUN(r, "--audit", "off", "--allow-net", rule, "--deny-net", "10.0.0.0/8", "--require",
	    "netns", "--", "true");
	cr_assert_eq(r.status, on ? 0 : 125, "status %d: %s", r.status, r.err);
	run_result_free(&r);
}
