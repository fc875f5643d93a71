/* jhansi-exec: run an untrusted command under the sentry.
 *
 *   jhansi-exec [OPTIONS] -- COMMAND [ARG...]
 *
 * Argument parsing and presentation only; the work is in sentry/. Exit status:
 * the command's own; 128+N if it died of signal N; 125 for an error of
 * jhansi-exec itself; 126 if the command cannot be executed; 127 if it is not
 * found. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit/event.h"
#include "base/log.h"
#include "base/macro.h"
#include "sentry/sentry.h"

#define EXIT_JHANSI 125
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127

extern char **environ;

struct options {
	bool log_events;
	bool explain;
	const char *hostname;
	const char *platform;
	char **argv;
};

static void usage(FILE *out)
{
	fputs("usage: jhansi-exec [OPTIONS] -- COMMAND [ARG...]\n"
	      "\n"
	      "Runs COMMAND in a sandbox: every syscall that names a resource is serviced\n"
	      "by the sentry, dangerous ones are refused, harmless ones run natively.\n"
	      "\n"
	      "options:\n"
	      "  --log-events         print each emulated or refused syscall to stderr\n"
	      "  --explain            print the platform, the protection layers active on\n"
	      "                       this host and the syscall fate table; run nothing\n"
	      "  --hostname NAME      hostname the sandbox sees (default: " JH_DEFAULT_HOSTNAME ")\n"
	      "  --platform NAME      interception backend: unotify (default)\n"
	      "  -h, --help           show this help\n"
	      "  -V, --version        show the version\n"
	      "\n"
	      "exit status: COMMAND's own; 128+N if it died of signal N; 125 if jhansi-exec\n"
	      "itself failed; 126 if COMMAND cannot be executed; 127 if it was not found.\n",
	      out);
}

/* Parses argv; on a usage error prints one line and returns -EINVAL. */
static int parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_LOG_EVENTS = 0x100, OPT_EXPLAIN, OPT_HOSTNAME, OPT_PLATFORM };
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{"log-events", no_argument, NULL, OPT_LOG_EVENTS},
		{"explain", no_argument, NULL, OPT_EXPLAIN},
		{"hostname", required_argument, NULL, OPT_HOSTNAME},
		{"platform", required_argument, NULL, OPT_PLATFORM},
		{NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("jhansi-exec %s\n", JH_VERSION);
			exit(0);
		case OPT_LOG_EVENTS:
			o->log_events = true;
			break;
		case OPT_EXPLAIN:
			o->explain = true;
			break;
		case OPT_HOSTNAME:
			if (!*optarg || strlen(optarg) >= sizeof(((struct utsname *)0)->nodename))
				return jh_log_errno(-EINVAL, "invalid --hostname '%s': 1 to 64 bytes",
						    optarg);
			o->hostname = optarg;
			break;
		case OPT_PLATFORM:
			if (!jh_platform_by_name(optarg))
				return jh_log_errno(-EINVAL, "unknown --platform '%s' (available: unotify)",
						    optarg);
			o->platform = optarg;
			break;
		case '?':
		default:
			if (optopt)
				return jh_log_errno(-EINVAL, "unknown option '-%c'; see 'jhansi-exec --help'",
						    optopt);
			return jh_log_errno(-EINVAL, "unknown option '%s'; see 'jhansi-exec --help'",
					    argv[optind - 1]);
		}
	}
	o->argv = argv + optind;
	return 0;
}

static void explain(const struct options *o)
{
	const struct jh_platform_ops *ops = jh_platform_by_name(o->platform);
	const char *reason = NULL;
	struct utsname u;
	int pr = ops->probe(&reason);
	bool sync_wakeup = false;

	if (uname(&u) == 0) {
		int maj = 0, min = 0;
		sscanf(u.release, "%d.%d", &maj, &min);
		sync_wakeup = maj > 6 || (maj == 6 && min >= 6);
	}
	printf("jhansi-exec %s on %s %s (%s)\n", JH_VERSION, u.sysname, u.release,
	       jh_abi_arch_name(jh_abi_native_arch()));
	printf("platform: %s (seccomp user notification): %s%s%s\n", ops->name,
	       pr == 0 ? "available" : "UNAVAILABLE", reason ? ": " : "", reason ? reason : "");
	printf("  synchronous wake-up (Linux 6.6+): %s\n", sync_wakeup ? "yes" : "no");
	printf("protection layers:\n");
	printf("  seccomp filter           %s; foreign syscall ABIs (i386 int 0x80, x32) kill\n",
	       pr == 0 ? "active" : "unavailable");
	printf("  syscall mediation        %s: emulated and refused calls serviced by the sentry\n",
	       ops->name);
	printf("  no_new_privs             active: setuid binaries gain nothing\n");
	printf("  own session              active: no controlling terminal, TIOCSTI refused\n");
	printf("  supervision              subreaper, parent-death signal; no task outlives the run\n");
	printf("  file descriptors         only 0, 1, 2 are inherited\n");
	printf("  hostname                 '%s' (uname is emulated)\n",
	       o->hostname ? o->hostname : JH_DEFAULT_HOSTNAME);
	printf("  namespaces               not used: the sentry alone holds the boundary\n");
	printf("  landlock                 not used\n");
	printf("  filesystem view          not mediated yet: path syscalls pass\n");
	printf("  network                  not mediated yet: socket syscalls pass\n");
	printf("\n");
	jh_sentry_explain_fates(stdout);
}

static int exit_code_of(const struct jh_run_result *res)
{
	int st = res->exit.wait_status;

	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return EXIT_JHANSI;
}

int main(int argc, char **argv)
{
	struct options o = {0};
	struct jh_sentry_config cfg = {0};
	struct jh_sentry_command cmd;
	struct jh_run_result res;
	_cleanup_free_ char *path = NULL;
	int log_fd = STDERR_FILENO;
	int r;

	/* Before any thread exists: these are forwarded to the sandbox. */
	r = jh_sentry_block_signals();
	jh_log_setup("jhansi-exec", STDERR_FILENO);
	if (r < 0)
		return jh_log_errno(r, "blocking signals failed: %s", strerror(-r)), EXIT_JHANSI;
	signal(SIGPIPE, SIG_IGN);

	if (parse_args(argc, argv, &o) < 0)
		return EXIT_JHANSI;
	if (o.explain) {
		explain(&o);
		return 0;
	}
	if (!o.argv[0]) {
		jh_error("missing command; usage: jhansi-exec [OPTIONS] -- COMMAND [ARG...]");
		return EXIT_JHANSI;
	}

	r = jh_sentry_resolve_command(o.argv[0], environ, &path);
	if (r == -ENOENT) {
		jh_error("'%s': command not found", o.argv[0]);
		return EXIT_NOT_FOUND;
	}
	if (r < 0) {
		jh_error("cannot execute '%s': %s", o.argv[0], strerror(-r));
		return r == -ENOMEM ? EXIT_JHANSI : EXIT_CANNOT_EXEC;
	}

	cfg.platform = jh_platform_by_name(o.platform);
	cfg.hostname = o.hostname;
	if (o.log_events)
		jh_sink_stderr_init(&cfg.sink, &log_fd);

	cmd = (struct jh_sentry_command){.path = path, .argv = o.argv, .envp = environ};
	r = jh_sentry_run(&cfg, &cmd, &res);
	if (r < 0) {
		jh_error("cannot start the sandbox: %s", strerror(-r));
		return EXIT_JHANSI;
	}
	if (res.exit.exec_errno) {
		jh_error("cannot execute '%s': %s", path, strerror(res.exit.exec_errno));
		return res.exit.exec_errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
	}
	if (res.sentry_error) {
		jh_error("the sentry failed during the run (%s); the sandbox was stopped",
			 strerror(-res.sentry_error));
		return EXIT_JHANSI;
	}
	if (res.exit.filter_killed)
		jh_error("task %d was killed by the seccomp filter (foreign syscall ABI)",
			 (int)res.exit.filter_killed_tid);
	return exit_code_of(&res);
}
