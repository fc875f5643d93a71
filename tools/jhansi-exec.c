/* jhansi-exec: run an untrusted command under the sentry.
 *
 *   jhansi-exec [OPTIONS] -- COMMAND [ARG...]
 *
 * Argument parsing and presentation only; the work is in sentry/ and audit/.
 * Exit status: the command's own; 128+N if it died of signal N; 123 when
 * the sandbox was killed for --memory; 124 when --timeout expired; 125 for an
 * error of jhansi-exec itself; 126 if the command cannot be executed; 127 if
 * it is not found. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/event.h"
#include "base/log.h"
#include "base/macro.h"
#include "sentry/fs.h"
#include "sentry/netpolicy.h"
#include "platform/layers.h"
#include "platform/mountns.h"
#include "platform/limits.h"
#include "sentry/sentry.h"
#include "tools/filter-prebuilt.h"

/* jhansi-exec's own endings sit just below 128+N, as timeout(1)'s do: 123
 * is a kill for --memory, next to 124 for --timeout. */
#define EXIT_MEMORY 123
#define EXIT_TIMEOUT 124
#define EXIT_JHANSI 125
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127

/* Started as root, the sandbox runs as this uid/gid ("nobody"), never as 0. */
#define SANDBOX_UID 65534
#define SANDBOX_GID 65534

/* The file-descriptor hog's bound: the sandbox may raise its soft
 * RLIMIT_NOFILE to the hard one (setrlimit passes), which many hosts set at
 * 1M or more, and every open file is kernel memory no --memory sees. 65536
 * open files stay in tens of MiB. */
#define SANDBOX_MAX_NOFILE 65536

#define MAX_ENV_PASS 128
#define MAX_PROMPT (1024 * 1024)

extern char **environ;

struct options {
	const char *cwd;  /* --cwd: starting directory instead of the workspace */
	unsigned require; /* JH_LAYER_* that must be active, else exit 125 */
	unsigned layers;  /* JH_LAYER_* this host allows (probed before the run) */
	bool log_events;
	bool explain;
	bool trace;
	bool audit;
	const char *audit_db;
	const char *hostname;
	const char *platform;
	const char *platform_why; /* how `auto` (or --trace) chose it, for --explain */
	const char *actor;
	const char *prompt;
	char *prompt_buf; /* --prompt-file contents */
	int prompt_record;
	const char *env_pass[MAX_ENV_PASS + 1];
	size_t nenv;
	int64_t timeout_ms;
	uint64_t memory;
	uint64_t pids;
	const char *limits_layer; /* for the record: "limits-cgroup2", "limits-watchdog" */
	struct jh_net_policy *net; /* network rules; NULL until the first one */
	const char *workspace;     /* --workspace NAME (default "default") */
	struct jh_fs_adjust fs_adjust[MAX_ENV_PASS];
	size_t nfs_adjust;
	const char *fs_policy;
	uint64_t disk_quota;
	bool list_workspaces;
	const char *remove_workspace;
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
	      "  --log-events           print each emulated or refused syscall to stderr\n"
	      "  --explain              print the platform, the protection layers active on\n"
	      "                         this host and the syscall fate table; run nothing\n"
	      "  --hostname NAME        hostname the sandbox sees (default: " JH_DEFAULT_HOSTNAME ")\n"
	      "  --cwd DIR              start in DIR (it must be in the view, e.g. with --rw)\n"
	      "                         instead of the workspace; $HOME stays the workspace\n"
	      "  --require LAYERS       fail (exit 125) unless these namespaces can be used:\n"
	      "                         a comma list of userns, ipcns, utsns, cgroupns,\n"
	      "                         mountns, netns, pidns, landlock-scope,\n"
	      "                         landlock-net, landlock-fs (netns: only with no\n"
	      "                         network rule allowing a destination)\n"
	      "  --platform NAME        interception backend: unotify (default; seccomp user\n"
	      "                         notification), ptrace (seccomp trace stops), or auto\n"
	      "                         (ptrace where no seccomp listener can be created);\n"
	      "                         default from $JHANSI_PLATFORM\n"
	      "  --trace                record every syscall of every task, with its decoded\n"
	      "                         arguments and result, not only the mediated ones\n"
	      "                         (forensic mode; uses the ptrace platform)\n"
	      "  --env NAME[=VALUE]     pass NAME (the caller's value, or VALUE) into the sandbox;\n"
	      "                         repeatable. Otherwise only PATH, HOME, LANG, TERM, TZ,\n"
	      "                         USER and TMPDIR are set\n"
	      "  --timeout SECONDS      kill the whole sandbox after SECONDS (exit status 124)\n"
	      "  --memory SIZE          limit the memory of the whole sandbox (e.g. 512M, 2G):\n"
	      "                         past it every task is killed (exit status 123).\n"
	      "                         cgroup v2 memory.max where a delegated subtree\n"
	      "                         exists, else a watchdog summing resident memory\n"
	      "                         (see --explain)\n"
	      "  --pids N               limit the number of tasks: cgroup v2 pids.max, else\n"
	      "                         RLIMIT_NPROC of the sandbox's uid\n"
	      "network (default: none; cloud metadata is refused whatever the rules say;\n"
	      "with no rule allowing a destination the sandbox gets a network namespace of\n"
	      "its own where the host allows, holding only its own loopback):\n"
	      "  --allow-net CIDR[:PORT[-PORT]]\n"
	      "                         allow destinations in CIDR (IPv6 as [CIDR]:PORT), on\n"
	      "                         those ports; unix:/PATH or unix:@NAME allows a host\n"
	      "                         unix socket. The host's loopback needs a rule inside\n"
	      "                         127.0.0.0/8 or ::1\n"
	      "  --deny-net CIDR        refuse CIDR even where an allow rule matches\n"
	      "  --allow-host NAME[:PORT[-PORT]]\n"
	      "                         allow NAME (or *.DOMAIN) on those ports: the sentry\n"
	      "                         answers the sandbox's DNS and pins NAME's addresses\n"
	      "  --add-host NAME=IP     resolve NAME to IP for the run (repeatable)\n"
	      "  --net host             ESCAPE HATCH: every destination but cloud metadata\n"
	      "  --net-policy FILE      read the same keys from FILE (\"allow-host api.x:443\")\n"
	      "files (the view; everything else does not exist):\n"
	      "  --workspace NAME       the persistent home of the sandbox, its cwd and $HOME\n"
	      "                         (default: default), under $JHANSI_STATE_DIR/workspaces\n"
	      "  --ro PATH              make PATH visible read-only (repeatable)\n"
	      "  --rw PATH              make PATH visible read-write (repeatable)\n"
	      "  --hide PATH            make PATH not exist (repeatable)\n"
	      "  --policy FILE          JSON: {\"ro\": [...], \"rw\": [...], \"hide\": [...]}\n"
	      "  --disk-quota SIZE      the workspace holds at most SIZE: past it, creating,\n"
	      "                         opening for writing and growing files fail (EDQUOT),\n"
	      "                         and so do writes to files already open (EFBIG, the\n"
	      "                         tasks' RLIMIT_FSIZE lowered to 0, overwrites too)\n"
	      "                         until deletions bring usage below SIZE; checked\n"
	      "                         every 10 ms: it may pass SIZE by what is written in\n"
	      "                         that time; no file grows past SIZE (EFBIG)\n"
	      "  --list-workspaces      list the workspaces and exit\n"
	      "  --remove-workspace NAME\n"
	      "                         remove a workspace and everything in it, and exit\n"
	      "audit:\n"
	      "  --audit on|off         record the run and its events in the audit store\n"
	      "                         (default on; $JHANSI_STATE_DIR/audit.db)\n"
	      "  --audit-db PATH        use the store at PATH\n"
	      "  --actor ID             who asked for the run (agent, tenant, ticket)\n"
	      "  --prompt TEXT          the prompt that produced the command (else $JHANSI_PROMPT)\n"
	      "  --prompt-file FILE     read the prompt from FILE\n"
	      "  --prompt-record full|digest|none\n"
	      "                         keep the prompt's text, only its SHA-256, or nothing\n"
	      "                         (default full)\n"
	      "  -h, --help             show this help\n"
	      "  -V, --version          show the version\n"
	      "\n"
	      "exit status: COMMAND's own; 128+N if it died of signal N; 123 when killed\n"
	      "for --memory; 124 on --timeout; 125 if jhansi-exec itself failed; 126 if\n"
	      "COMMAND cannot be executed; 127 if it was not found.\n",
	      out);
}

/* "512M" → bytes. -EINVAL on anything else. */
static int parse_size(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	errno = 0;
	if (!*s || *s == '-')
		return -EINVAL;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	case 't': case 'T': mul = 1ull << 40; end++; break;
	default: return -EINVAL;
	}
	if ((*end == 'B' || *end == 'b') && mul > 1)
		end++;
	if (*end || v == 0 || v > UINT64_MAX / mul)
		return -EINVAL;
	*ret = v * mul;
	return 0;
}

static int read_prompt_file(const char *path, char **ret)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;

	if (fd < 0)
		return jh_negerrno();
	buf = malloc(MAX_PROMPT + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(fd, buf + len, MAX_PROMPT + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return jh_negerrno();
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > MAX_PROMPT)
			return -EFBIG;
	}
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	return 0;
}

/* Settles o->platform on a backend name: --platform, else $JHANSI_PLATFORM,
 * else unotify; `auto` probes; --trace needs ptrace. */
static int resolve_platform(struct options *o)
{
	const char *env = getenv("JHANSI_PLATFORM");

	if (!o->platform && env && *env) {
		if (strcmp(env, "auto") != 0 && !jh_platform_by_name(env))
			return jh_log_errno(-EINVAL,
					    "unknown JHANSI_PLATFORM '%s' (available: unotify, ptrace, "
					    "auto)",
					    env);
		o->platform = env;
	}
	if (o->trace) {
		if (o->platform && strcmp(o->platform, "unotify") == 0)
			return jh_log_errno(-EINVAL, "--trace needs --platform ptrace: seccomp user "
						     "notification does not see the calls that pass");
		if (!o->platform || strcmp(o->platform, "ptrace") != 0)
			o->platform_why = "--trace: only ptrace sees the calls that pass";
		o->platform = "ptrace";
	}
	if (o->platform && strcmp(o->platform, "auto") == 0)
		o->platform = jh_platform_auto(&o->platform_why)->name;
	if (!o->platform)
		o->platform = "unotify";
	return 0;
}

/* One network option (or --net-policy FILE) into o->net. */
static int parse_net_option(struct options *o, const struct option *longopts, int c,
			    const char *arg)
{
	const char *name = "?", *err = NULL;
	unsigned line = 0;
	FILE *f;
	int r;

	for (const struct option *lo = longopts; lo->name; lo++)
		if (lo->val == c)
			name = lo->name;
	if (!o->net && (r = jh_net_policy_new(&o->net)) < 0)
		return jh_log_errno(r, "cannot create the network policy: %s", strerror(-r));
	if (strcmp(name, "net-policy") != 0) {
		r = jh_net_policy_add(o->net, name, arg, &err);
		if (r < 0)
			return jh_log_errno(-EINVAL, "invalid --%s '%s': %s", name, arg, err);
		return 0;
	}
	f = fopen(arg, "re");
	if (!f)
		return jh_log_errno(-EINVAL, "cannot open '%s': %s", arg, strerror(errno));
	r = jh_net_policy_load(o->net, f, &line, &err);
	fclose(f);
	if (r < 0)
		return jh_log_errno(-EINVAL, "%s:%u: %s", arg, line, err);
	return 0;
}

/* Parses argv; on a usage error prints one line and returns -EINVAL. */
static int parse_args(int argc, char **argv, struct options *o)
{
	enum {
		OPT_LOG_EVENTS = 0x100, OPT_EXPLAIN, OPT_HOSTNAME, OPT_PLATFORM, OPT_ENV,
		OPT_TIMEOUT, OPT_MEMORY, OPT_PIDS, OPT_AUDIT, OPT_AUDIT_DB, OPT_ACTOR, OPT_PROMPT,
		OPT_PROMPT_FILE, OPT_PROMPT_RECORD, OPT_TRACE, OPT_ALLOW_NET, OPT_DENY_NET,
		OPT_ALLOW_HOST, OPT_ADD_HOST, OPT_NET, OPT_NET_POLICY,
		OPT_WORKSPACE, OPT_RO, OPT_RW, OPT_HIDE, OPT_POLICY, OPT_DISK_QUOTA,
		OPT_LIST_WORKSPACES, OPT_REMOVE_WORKSPACE, OPT_REQUIRE, OPT_CWD,
	};
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{"log-events", no_argument, NULL, OPT_LOG_EVENTS},
		{"explain", no_argument, NULL, OPT_EXPLAIN},
		{"hostname", required_argument, NULL, OPT_HOSTNAME},
		{"platform", required_argument, NULL, OPT_PLATFORM},
		{"require", required_argument, NULL, OPT_REQUIRE},
		{"cwd", required_argument, NULL, OPT_CWD},
		{"env", required_argument, NULL, OPT_ENV},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},
		{"memory", required_argument, NULL, OPT_MEMORY},
		{"pids", required_argument, NULL, OPT_PIDS},
		{"audit", required_argument, NULL, OPT_AUDIT},
		{"audit-db", required_argument, NULL, OPT_AUDIT_DB},
		{"actor", required_argument, NULL, OPT_ACTOR},
		{"prompt", required_argument, NULL, OPT_PROMPT},
		{"prompt-file", required_argument, NULL, OPT_PROMPT_FILE},
		{"prompt-record", required_argument, NULL, OPT_PROMPT_RECORD},
		{"trace", no_argument, NULL, OPT_TRACE},
		{"allow-net", required_argument, NULL, OPT_ALLOW_NET},
		{"deny-net", required_argument, NULL, OPT_DENY_NET},
		{"allow-host", required_argument, NULL, OPT_ALLOW_HOST},
		{"add-host", required_argument, NULL, OPT_ADD_HOST},
		{"net", required_argument, NULL, OPT_NET},
		{"net-policy", required_argument, NULL, OPT_NET_POLICY},
		{"workspace", required_argument, NULL, OPT_WORKSPACE},
		{"ro", required_argument, NULL, OPT_RO},
		{"rw", required_argument, NULL, OPT_RW},
		{"hide", required_argument, NULL, OPT_HIDE},
		{"policy", required_argument, NULL, OPT_POLICY},
		{"disk-quota", required_argument, NULL, OPT_DISK_QUOTA},
		{"list-workspaces", no_argument, NULL, OPT_LIST_WORKSPACES},
		{"remove-workspace", required_argument, NULL, OPT_REMOVE_WORKSPACE},
		{NULL, 0, NULL, 0},
	};
	int c, r;

	o->audit = true;
	o->prompt_record = JH_AUDIT_PROMPT_FULL;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("jhansi-exec %s\n", JH_VERSION);
			exit(0);
		case OPT_WORKSPACE:
		case OPT_REMOVE_WORKSPACE:
			if (!jh_workspace_name_valid(optarg))
				return jh_log_errno(-EINVAL,
						    "invalid workspace name '%s': 1 to 64 of "
						    "A-Z a-z 0-9 . _ -, not starting with '.'",
						    optarg);
			if (c == OPT_WORKSPACE)
				o->workspace = optarg;
			else
				o->remove_workspace = optarg;
			break;
		case OPT_RO:
		case OPT_RW:
		case OPT_HIDE:
			if (optarg[0] != '/')
				return jh_log_errno(-EINVAL, "invalid %s '%s': an absolute path is needed",
						    argv[optind - 2], optarg);
			if (o->nfs_adjust >= JH_ARRAY_SIZE(o->fs_adjust))
				return jh_log_errno(-EINVAL, "too many --ro/--rw/--hide options");
			o->fs_adjust[o->nfs_adjust++] = (struct jh_fs_adjust){
				.kind = c == OPT_RO ? JH_MOUNT_RO : c == OPT_RW ? JH_MOUNT_RW
										: JH_MOUNT_HIDE,
				.path = optarg,
			};
			break;
		case OPT_POLICY:
			o->fs_policy = optarg;
			break;
		case OPT_DISK_QUOTA:
			if (jh_parse_size(optarg, &o->disk_quota) < 0 || !o->disk_quota)
				return jh_log_errno(-EINVAL, "invalid --disk-quota '%s' (e.g. 100M, 2G)",
						    optarg);
			break;
		case OPT_LIST_WORKSPACES:
			o->list_workspaces = true;
			break;
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
		case OPT_CWD:
			if (optarg[0] != '/')
				return jh_log_errno(-EINVAL, "invalid --cwd '%s': an absolute path",
						    optarg);
			o->cwd = optarg;
			break;
		case OPT_REQUIRE:
			if (jh_layers_parse(optarg, &o->require) < 0)
				return jh_log_errno(-EINVAL,
						    "invalid --require '%s': a comma list of userns, "
						    "ipcns, utsns, cgroupns, mountns, netns, pidns, "
						    "landlock-scope, landlock-net, landlock-fs",
						    optarg);
			break;
		case OPT_PLATFORM:
			if (strcmp(optarg, "auto") != 0 && !jh_platform_by_name(optarg))
				return jh_log_errno(-EINVAL,
						    "unknown --platform '%s' (available: unotify, ptrace, "
						    "auto)",
						    optarg);
			o->platform = optarg;
			break;
		case OPT_TRACE:
			o->trace = true;
			break;
		case OPT_ENV:
			if (jh_sentry_env_check(optarg) < 0)
				return jh_log_errno(-EINVAL, "invalid --env '%s': expected NAME or NAME=VALUE",
						    optarg);
			if (o->nenv >= MAX_ENV_PASS)
				return jh_log_errno(-EINVAL, "too many --env options (at most %d)",
						    MAX_ENV_PASS);
			o->env_pass[o->nenv++] = optarg;
			break;
		case OPT_TIMEOUT: {
			char *end;
			double secs;
			errno = 0;
			secs = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(secs > 0) || secs > 1e7)
				return jh_log_errno(-EINVAL, "invalid --timeout '%s': a number of seconds",
						    optarg);
			o->timeout_ms = (int64_t)(secs * 1000.0);
			if (o->timeout_ms == 0)
				o->timeout_ms = 1;
			break;
		}
		case OPT_MEMORY:
			if (parse_size(optarg, &o->memory) < 0)
				return jh_log_errno(-EINVAL, "invalid --memory '%s': a size such as 512M",
						    optarg);
			break;
		case OPT_PIDS: {
			char *end;
			errno = 0;
			o->pids = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || o->pids == 0 || o->pids > 4194304)
				return jh_log_errno(-EINVAL, "invalid --pids '%s': a positive number",
						    optarg);
			break;
		}
		case OPT_AUDIT:
			if (strcmp(optarg, "on") == 0)
				o->audit = true;
			else if (strcmp(optarg, "off") == 0)
				o->audit = false;
			else
				return jh_log_errno(-EINVAL, "invalid --audit '%s': on or off", optarg);
			break;
		case OPT_AUDIT_DB:
			o->audit_db = optarg;
			break;
		case OPT_ACTOR:
			o->actor = optarg;
			break;
		case OPT_PROMPT:
			o->prompt = optarg;
			break;
		case OPT_PROMPT_FILE:
			free(o->prompt_buf);
			o->prompt_buf = NULL;
			r = read_prompt_file(optarg, &o->prompt_buf);
			if (r < 0)
				return jh_log_errno(-EINVAL, "cannot read --prompt-file '%s': %s", optarg,
						    r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
			o->prompt = o->prompt_buf;
			break;
		case OPT_PROMPT_RECORD:
			r = jh_audit_prompt_record_from_name(optarg);
			if (r < 0)
				return jh_log_errno(-EINVAL,
						    "invalid --prompt-record '%s': full, digest or none",
						    optarg);
			o->prompt_record = r;
			break;
		case OPT_ALLOW_NET:
		case OPT_DENY_NET:
		case OPT_ALLOW_HOST:
		case OPT_ADD_HOST:
		case OPT_NET:
		case OPT_NET_POLICY:
			r = parse_net_option(o, longopts, c, optarg);
			if (r < 0)
				return r;
			break;
		case '?':
		default:
			if (optopt && optopt < 0x100)
				return jh_log_errno(-EINVAL, "unknown option '-%c'; see 'jhansi-exec --help'",
						    optopt);
			if (optopt)
				return jh_log_errno(-EINVAL, "option '%s' needs an argument",
						    argv[optind - 1]);
			return jh_log_errno(-EINVAL, "unknown option '%s'; see 'jhansi-exec --help'",
					    argv[optind - 1]);
		}
	}
	if (!o->prompt)
		o->prompt = getenv("JHANSI_PROMPT");
	o->argv = argv + optind;
	return resolve_platform(o);
}

/* The network namespace (JH_LAYER_NETNS) is entered only when the policy
 * grants no destination: the sentry performs connects on the task's own
 * socket, which lives in the task's namespace. Returns what in the policy
 * needs the host's namespace, or NULL. */
static const char *netns_blocker(const struct options *o)
{
	const char *why = NULL;

	return jh_net_policy_needs_host_netns(o->net, &why) ? why : NULL;
}

/* Drops JH_LAYER_NETNS from the probed layers when the policy needs the
 * host's network namespace. */
static void decide_netns(struct options *o)
{
	if (netns_blocker(o))
		o->layers &= ~JH_LAYER_NETNS;
}

/* The Landlock layers (platform/layers.h), as this kernel's ABI allows them. */
static void explain_landlock(void)
{
	int abi = jh_landlock_abi();

	if (abi < 1) {
		printf("  landlock                 unavailable (not in this kernel)\n");
		return;
	}
	printf("  landlock                 ABI %d, on what the tasks do themselves (the sentry\n"
	       "                           is outside it):\n", abi);
	printf("    landlock-fs            the view again, kept by the kernel (exec, and any\n"
	       "                           call checked and let through): ro entries read and\n"
	       "                           execute, rw entries everything, devices read, write\n"
	       "                           and ioctl, /proc read; a hidden entry is cut out of\n"
	       "                           a ro entry (its siblings allowed one by one, the\n"
	       "                           directories on the way listable), beneath a rw entry\n"
	       "                           it is the sentry's alone\n");
	printf("    landlock-net           %s\n", abi >= 4 ? "no TCP bind or connect of their own"
							 : "unavailable (ABI 4)");
	printf("    landlock-scope         %s\n",
	       abi >= 6 ? "no signal to, no abstract unix socket of, a process\n"
			  "                           outside the sandbox"
			: "unavailable (ABI 6)");
}

static void explain(const struct options *o)
{
	const struct jh_platform_ops *ops = jh_platform_by_name(o->platform);
	const char *reason = NULL;
	struct utsname u;
	int pr = ops->probe(&reason);
	bool sync_wakeup = false;
	_cleanup_free_ char *db = NULL;

	if (uname(&u) == 0) {
		int maj = 0, min = 0;
		sscanf(u.release, "%d.%d", &maj, &min);
		sync_wakeup = maj > 6 || (maj == 6 && min >= 6);
	}
	printf("jhansi-exec %s on %s %s (%s)\n", JH_VERSION, u.sysname, u.release,
	       jh_abi_arch_name(jh_abi_native_arch()));
	printf("platform: %s (%s): %s%s%s\n", ops->name,
	       ops == &jh_platform_ptrace ? "seccomp trace stops under ptrace"
					  : "seccomp user notification",
	       pr == 0 ? "available" : "UNAVAILABLE", reason ? ": " : "", reason ? reason : "");
	if (o->platform_why)
		printf("  chosen because: %s\n", o->platform_why);
	if (ops == &jh_platform_ptrace) {
		printf("  fd injection: not available (calls that would get an fd fail ENOSYS)\n");
		printf("  full trace (--trace): %s\n", o->trace ? "ON: every syscall is recorded"
								: "off");
	} else
		printf("  synchronous wake-up (Linux 6.6+): %s\n", sync_wakeup ? "yes" : "no");
	printf("protection layers:\n");
	printf("  seccomp filter           %s; foreign syscall ABIs (i386 int 0x80, x32) kill\n",
	       pr == 0 ? "active" : "unavailable");
	printf("  syscall mediation        %s: emulated and refused calls serviced by the sentry\n",
	       ops->name);
	printf("  no_new_privs             active: setuid binaries gain nothing\n");
	printf("  identity                 %s\n",
	       geteuid() == 0 ? "started as root: tasks run as uid/gid 65534, no groups"
			      : "tasks run as the caller's uid");
	printf("  own session              active: no controlling terminal, TIOCSTI refused\n");
	printf("  supervision              subreaper, parent-death signal; no task outlives the run\n");
	printf("  sentry hardening         once the sandbox is spawned, jhansi-exec's own seccomp filter\n"
	       "                           refuses exec, mounts, namespaces, bpf, modules, keyrings,\n"
	       "                           io_uring (sentry/harden.c)\n");
	printf("  file descriptors         only 0, 1, 2 are inherited\n");
	printf("  environment              minimal: PATH HOME LANG TERM TZ USER TMPDIR, plus --env\n");
	printf("  hostname                 '%s' (uname is emulated)\n",
	       o->hostname ? o->hostname : JH_DEFAULT_HOSTNAME);
	{
		struct jh_cgroup_probe cg;

		jh_cgroup_probe(NULL, NULL, getpid(), &cg);
		printf("  limits                   core dumps off; --timeout kills the tree\n");
		printf("    cgroup v2              %s\n", cg.why);
		if (cg.plan != JH_CGROUP_UNUSABLE)
			printf("    --memory, --pids       a cgroup per run: memory.max (whole tree, OOM\n"
			       "                           kills all of it), pids.max; the reason read\n"
			       "                           from memory.events and pids.events\n");
		else
			printf("    --memory               RSS watchdog: the resident anonymous and shared\n"
			       "                           memory of all tasks summed every 10 ms, the tree\n"
			       "                           killed past SIZE; RLIMIT_AS per task as a coarse\n"
			       "                           backstop at max(8 x SIZE, SIZE + 4G)\n"
			       "    --pids                 RLIMIT_NPROC (counts every task of the uid)\n");
	}
	{
		unsigned got = o->layers; /* probed, the network namespace decided */
		char list[128];

		jh_layers_format(got, list, sizeof(list));
		printf("  backstops                %s%s\n", got ? list : "none available",
		       geteuid() == 0 ? " (started as root: no user namespace needed)"
				      : (got & JH_LAYER_USERNS) ? ""
								: " (no user namespace: the sentry alone holds)");
		printf("                           (namespaces tried: user, ipc, uts, cgroup,\n"
		       "                           mount, network, pid)\n");
		if (got & JH_LAYER_PIDNS)
			printf("  pid namespace            on: the command is pid 2 under a minimal init\n"
			       "                           of ours (pid 1: reaps orphans, forwards\n"
			       "                           signals); /proc is the namespace's own; pids\n"
			       "                           in calls reach only the sandbox's tasks\n");
		else
			printf("  pid namespace            off: %s; the sentry limits\n"
			       "                           pid-naming calls to the sandbox's session\n",
			       !(got & JH_LAYER_MOUNTNS)
				       ? "no mount namespace for its /proc"
				       : geteuid() != 0 && !(got & JH_LAYER_USERNS)
						 ? "the host refuses it (no user namespace)"
						 : "the host refuses it");
		if (got & JH_LAYER_NETNS)
			printf("  network namespace        on: the sandbox's own, only its loopback up;\n"
			       "                           127.0.0.1 and ::1 are its own, nothing else\n"
			       "                           is reachable (the policy allows no destination)\n");
		else if (netns_blocker(o))
			printf("  network namespace        off: the policy allows destinations (%s),\n"
			       "                           which the sentry reaches on the task's own\n"
			       "                           socket: it needs the host's namespace\n",
			       netns_blocker(o));
		else
			printf("  network namespace        off: the host refuses it%s; loopback is the\n"
			       "                           host's, refused by the policy\n",
			       geteuid() != 0 && !(got & JH_LAYER_USERNS) ? " (no user namespace)" : "");
		if (got & JH_LAYER_MOUNTNS) {
			enum jh_mountns_proc proc = JH_MNTNS_PROC_NONE;

			(void)jh_mountns_probe(&proc);
			printf("  mount namespace          on: a tmpfs root holding binds of the view's\n"
			       "                           entries (read-only ones ro,nosuid,nodev), the\n"
			       "                           workspace at %s, /tmp private, a minimal\n"
			       "                           /dev; /proc: %s\n",
			       JH_VIEW_WORKSPACE,
			       got & JH_LAYER_PIDNS ? "the pid namespace's own, read-only"
						    : jh_mountns_proc_describe(proc));
		} else
			printf("  mount namespace          off: the host refuses it%s; the view's entries\n"
			       "                           appear at their host paths, resolved by the\n"
			       "                           sentry alone\n",
			       geteuid() != 0 && !(got & JH_LAYER_USERNS) ? " (no user namespace)" : "");
	}
	explain_landlock();
	printf("  filesystem view          mediated: paths resolved by the sentry beneath the\n"
	       "                           view's entries; changes performed by the gofer\n");
	if (o->net && jh_net_policy_is_host(o->net))
		printf("  network                  HOST (--net host, escape hatch): every destination\n"
		       "                           but cloud metadata; recorded in the audit\n");
	else if (o->layers & JH_LAYER_NETNS)
		printf("  network                  mediated: connect/bind/send decided by the rules\n"
		       "                           below, performed by the sentry; the sandbox's own\n"
		       "                           loopback open to it; no names resolve; cloud\n"
		       "                           metadata, raw and packet sockets and host unix\n"
		       "                           sockets refused\n");
	else
		printf("  network                  mediated: connect/bind/send decided by the rules\n"
		       "                           below, performed by the sentry; DNS answered by the\n"
		       "                           sentry; cloud metadata, raw and packet sockets, host\n"
		       "                           loopback and host unix sockets refused\n");
	if (o->net)
		jh_net_policy_describe(o->net, stdout);
	else
		printf("    (no rules: no network)\n");
	if (!o->audit)
		printf("  audit                    OFF (--audit off): nothing is recorded\n");
	else if (o->audit_db)
		printf("  audit                    on: %s\n", o->audit_db);
	else if (jh_audit_default_path(false, &db) == 0)
		printf("  audit                    on: %s\n", db);
	else
		printf("  audit                    on: no state directory (set JHANSI_STATE_DIR)\n");
	printf("\n");
	{
		struct jh_fs_config fc = {.mountns = (o->layers & JH_LAYER_MOUNTNS) != 0};

		if (fc.mountns)
			fc.workspace = "<the workspace's host directory>";
		jh_fs_explain(&fc, NULL);
	}
	printf("\n");
	jh_sentry_explain_fates(stdout);
}

static int64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The policy in force, as canonical text: sorted key=value lines. Recorded
 * (and hashed) in the run record. */
static char *policy_text(const struct options *o, bool drop_ids)
{
	char *s = NULL;
	_cleanup_free_ char *net = NULL;
	size_t netlen = 0;

	if (o->net) {
		/* The rules, one "    key value" line each, joined with "; ". */
		FILE *m = open_memstream(&net, &netlen);
		if (!m)
			return NULL;
		jh_net_policy_describe(o->net, m);
		fclose(m);
		for (char *p = net; p && *p; p++)
			if (*p == '\n')
				*p = ';';
	}

	if (asprintf(&s,
		     "env.pass=%zu\n"
		     "fates=abi/syscalls.tsv@%s\n"
		     "hostname=%s\n"
		     "ids=%s\n"
		     "limits.memory=%llu\n"
		     "limits.pids=%llu\n"
		     "limits.timeout_ms=%lld\n"
		     "network=%s\n"
		     "view=%s\n",
		     o->nenv, JH_VERSION, o->hostname ? o->hostname : JH_DEFAULT_HOSTNAME,
		     drop_ids ? "65534:65534" : "caller", (unsigned long long)o->memory,
		     (unsigned long long)o->pids, (long long)o->timeout_ms, net ? net : "none",
		     o->layers & JH_LAYER_MOUNTNS ? "mountns" : "host") < 0)
		return NULL;
	return s;
}

struct audit_ctx {
	struct jh_audit *store;
	struct jh_audit_run *run;
};

static int audit_begin(struct audit_ctx *a, const struct options *o, const char *path,
		       char *const *envp, bool drop_ids, int64_t start_wall, int64_t start_mono)
{
	char exe_sha[JH_AUDIT_HEX_LEN] = "", env_sha[JH_AUDIT_HEX_LEN];
	char host[HOST_NAME_MAX + 1] = "";
	char layers[256];
	char cwd[PATH_MAX];
	struct passwd *pw = getpwuid(getuid());
	_cleanup_free_ char *policy = policy_text(o, drop_ids);
	struct jh_audit_run_info info;
	int r;

	if (!policy)
		return -ENOMEM;
	r = jh_audit_open(o->audit_db, JH_AUDIT_OPEN_CREATE, &a->store);
	if (r < 0)
		return r;
	if (jh_audit_file_sha256_hex(path, exe_sha) < 0)
		exe_sha[0] = '\0';
	jh_audit_env_digest_hex((const char *const *)envp, env_sha);
	gethostname(host, sizeof(host) - 1);
	if (!getcwd(cwd, sizeof(cwd)))
		cwd[0] = '\0';
	snprintf(layers, sizeof(layers), "seccomp,no_new_privs,session,subreaper%s%s%s",
		 drop_ids ? ",ids-dropped" : "", o->limits_layer ? "," : "",
		 o->limits_layer ? o->limits_layer : "");
	if (o->layers) {
		size_t len = strlen(layers);
		layers[len++] = ',';
		jh_layers_format(o->layers, layers + len, sizeof(layers) - len);
	}
	info = (struct jh_audit_run_info){
		.actor = o->actor,
		.user = pw ? pw->pw_name : NULL,
		.host = host,
		.uid = (uint32_t)getuid(),
		.argv = (const char *const *)o->argv,
		.exe_path = path,
		.exe_sha256_hex = exe_sha[0] ? exe_sha : NULL,
		.cwd = cwd[0] ? cwd : NULL,
		.env_digest_hex = env_sha,
		.prompt = o->prompt,
		.prompt_record = o->prompt_record,
		.policy_text = policy,
		.platform = o->platform,
		.layers = layers,
		.workspace = o->workspace ? o->workspace : "default",
		.start_wall_ns = start_wall,
		.start_mono_ns = start_mono,
	};
	return jh_audit_run_begin(a->store, &info, &a->run);
}

/* Ends the audit record; returns -errno if the record could not be made durable. */
static int audit_end(struct audit_ctx *a, const struct jh_run_result *res, int setup_error,
		     const char *reason, int64_t start_mono)
{
	struct jh_audit_run_end end = {.exit_status = -1, .reason = reason};
	_cleanup_free_ struct jh_audit_change *changes = NULL;
	int r;

	if (!a->run)
		return 0;
	/* The workspace change set: which files this run created, changed, deleted. */
	if (res && res->changes.n) {
		changes = calloc(res->changes.n, sizeof(*changes));
		if (!changes)
			return -ENOMEM;
		for (size_t i = 0; i < res->changes.n; i++) {
			const struct jh_change *c = &res->changes.v[i];

			changes[i] = (struct jh_audit_change){
				.op = c->op == JH_CHANGE_CREATED   ? JH_AUDIT_CHANGE_CREATED
				      : c->op == JH_CHANGE_CHANGED ? JH_AUDIT_CHANGE_CHANGED
								   : JH_AUDIT_CHANGE_DELETED,
				.path = c->path,
				.sha256_hex = c->sha256_hex[0] ? c->sha256_hex : NULL,
			};
		}
		end.changes = changes;
		end.n_changes = res->changes.n;
	}
	if (res && !setup_error) {
		int st = res->exit.wait_status;
		if (WIFEXITED(st) && !res->exit.exec_errno)
			end.exit_status = WEXITSTATUS(st);
		if (WIFSIGNALED(st))
			end.term_signal = WTERMSIG(st);
		end.timed_out = res->exit.timed_out;
		end.sentry_failed = res->sentry_error != 0;
	} else
		end.sentry_failed = true;
	end.end_wall_ns = now_ns(CLOCK_REALTIME);
	end.duration_ns = now_ns(CLOCK_MONOTONIC) - start_mono;
	r = jh_audit_run_end(a->run, &end);
	a->run = NULL;
	return r;
}

/* Prints a name with control bytes and backslashes escaped: workspace names
 * are chosen by untrusted code and must not drive the terminal. */
static void print_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch < 0x20 || ch == 0x7f || ch == '\\')
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
}

static void print_changes(const struct jh_changes *c)
{
	for (size_t i = 0; i < c->n; i++) {
		fprintf(stderr, "[workspace] %s ", jh_change_op_name(c->v[i].op));
		print_escaped(stderr, c->v[i].path);
		if (c->v[i].sha256_hex[0])
			fprintf(stderr, " sha256:%s", c->v[i].sha256_hex);
		fputc('\n', stderr);
	}
}

static int workspace_command(const struct options *o)
{
	if (o->remove_workspace) {
		int r = jh_workspace_remove(o->remove_workspace);
		if (r < 0) {
			jh_error("cannot remove workspace '%s': %s", o->remove_workspace,
				 strerror(-r));
			return EXIT_JHANSI;
		}
	}
	if (o->list_workspaces) {
		char **v = NULL;
		size_t n = 0;
		int r = jh_workspace_list(&v, &n);
		if (r < 0) {
			jh_error("cannot list workspaces: %s", strerror(-r));
			return EXIT_JHANSI;
		}
		for (size_t i = 0; i < n; i++) {
			puts(v[i]);
			free(v[i]);
		}
		free(v);
	}
	return 0;
}

/* The first task's starting directory as a path of its view: --cwd, or the
 * workspace. In the mount namespace the workspace is at /workspace, and a
 * --cwd beneath its host path is given there too. */
static const char *start_dir(const struct options *o, const char *ws_path, bool mountns,
			     char *buf, size_t len)
{
	size_t l = strlen(ws_path);

	if (!o->cwd)
		return mountns ? JH_VIEW_WORKSPACE : ws_path;
	if (mountns && strncmp(o->cwd, ws_path, l) == 0 && (!o->cwd[l] || o->cwd[l] == '/') &&
	    (size_t)snprintf(buf, len, "%s%s", JH_VIEW_WORKSPACE, o->cwd + l) < len)
		return buf;
	return o->cwd;
}

static int exit_code_of(const struct jh_run_result *res, bool memory_killed)
{
	int st = res->exit.wait_status;

	if (memory_killed)
		return EXIT_MEMORY;
	if (res->exit.timed_out)
		return EXIT_TIMEOUT;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return EXIT_JHANSI;
}

/* jh_sentry_config.spawned: the limits watchdog, once nothing is forked from
 * this process any more. */
static int start_limits(void *ctx)
{
	int r = jh_limits_start(ctx);

	if (r < 0)
		jh_error("cannot start the --memory/--pids/--disk-quota watchdog: %s", strerror(-r));
	return r;
}

int main(int argc, char **argv)
{
	struct options o = {0};
	struct jh_sentry_config cfg = {0};
	struct jh_sentry_command cmd;
	struct jh_run_result res;
	struct jh_sink log_sink = {0}, audit_sink = {0};
	struct jh_sink_tee tee = {0};
	struct audit_ctx audit = {0};
	struct jh_rlimit rlimits[6];
	struct jh_limits *limits = NULL;
	struct jh_limits_report lrep = {0};
	struct jh_net_policy *netns_policy = NULL; /* the empty policy, when none was given */
	size_t nrl = 0;
	_cleanup_free_ char *path = NULL, *ws_path = NULL;
	struct jh_fs_config fscfg;
	char **envp = NULL;
	const char *home;
	int64_t start_wall, start_mono;
	int log_fd = STDERR_FILENO;
	int r, code;
	bool drop_ids = geteuid() == 0, mountns;
	char cwd_buf[PATH_MAX];
	char reason[256] = "";

	/* Before any thread exists: these are forwarded to the sandbox. */
	r = jh_sentry_block_signals();
	jh_log_setup("jhansi-exec", STDERR_FILENO);
	if (r < 0)
		return jh_log_errno(r, "blocking signals failed: %s", strerror(-r)), EXIT_JHANSI;
	signal(SIGPIPE, SIG_IGN);
	jh_filter_register_prebuilt(jh_prebuilt_filters, jh_prebuilt_filters_count);

	if (parse_args(argc, argv, &o) < 0)
		return EXIT_JHANSI;
	if (o.explain) {
		o.layers = jh_layers_probe();
		decide_netns(&o);
		explain(&o);
		return 0;
	}
	if (o.list_workspaces || o.remove_workspace)
		return workspace_command(&o);
	if (!o.argv[0]) {
		jh_error("missing command; usage: jhansi-exec [OPTIONS] -- COMMAND [ARG...]");
		return EXIT_JHANSI;
	}

	r = jh_workspace_open(o.workspace ? o.workspace : "default", &ws_path);
	if (r < 0) {
		jh_error("cannot open workspace '%s': %s%s", o.workspace ? o.workspace : "default",
			 strerror(-r), r == -ENOENT ? " (set JHANSI_STATE_DIR)" : "");
		return EXIT_JHANSI;
	}
	/* Namespace backstops, probed first: whether the mount namespace is
	 * entered decides where the workspace appears. */
	o.layers = jh_layers_probe();
	decide_netns(&o);
	mountns = (o.layers & JH_LAYER_MOUNTNS) != 0;
	/* The workspace is $HOME and the starting directory: at /workspace in the
	 * mount namespace, else at its host path. */
	home = mountns ? JH_VIEW_WORKSPACE : ws_path;
	r = jh_sentry_build_env(environ, o.env_pass, home,
				drop_ids ? "nobody" : getenv("USER"), &envp);
	if (r < 0) {
		jh_error("cannot build the sandbox environment: %s", strerror(-r));
		return EXIT_JHANSI;
	}

	r = jh_sentry_resolve_command(o.argv[0], envp, &path);
	if (r == -ENOENT) {
		jh_error("'%s': command not found", o.argv[0]);
		code = EXIT_NOT_FOUND;
		goto out;
	}
	if (r < 0) {
		jh_error("cannot execute '%s': %s", o.argv[0], strerror(-r));
		code = r == -ENOMEM ? EXIT_JHANSI : EXIT_CANNOT_EXEC;
		goto out;
	}

	rlimits[nrl++] = (struct jh_rlimit){RLIMIT_CORE, 0, 0};
	/* --disk-quota: the gofer refuses creates, opens for writing and
	 * truncations past it; a write through an fd already open is the
	 * kernel's: no file may grow past the quota by itself (EFBIG: the tasks
	 * start with SIGXFSZ ignored), and while the gofer reports the workspace
	 * full the limits thread lowers this limit to 0 (platform/limits.h). */
	if (o.disk_quota)
		rlimits[nrl++] = (struct jh_rlimit){RLIMIT_FSIZE, o.disk_quota, o.disk_quota};
	{
		struct rlimit nofile;

		if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_max > SANDBOX_MAX_NOFILE)
			rlimits[nrl++] = (struct jh_rlimit){
				RLIMIT_NOFILE, JH_MIN(nofile.rlim_cur, SANDBOX_MAX_NOFILE),
				SANDBOX_MAX_NOFILE};
	}
	/* --memory, --pids: a cgroup v2 of the run's own, or the watchdog and
	 * its rlimit backstops (platform/limits.h) */
	r = jh_limits_new(&(struct jh_limits_config){.memory = o.memory,
						     .pids = o.pids,
						     .own_forks = true,
						     .disk_quota = o.disk_quota,
						     .as_ids = drop_ids,
						     .uid = SANDBOX_UID,
						     .gid = SANDBOX_GID},
			  &limits);
	if (r < 0) {
		jh_error("cannot set up --memory/--pids: %s", strerror(-r));
		code = EXIT_JHANSI;
		goto out;
	}
	nrl += jh_limits_rlimits(limits, rlimits + nrl, JH_ARRAY_SIZE(rlimits) - nrl);
	/* the gofer reports the workspace's usage to the limits thread */
	jh_gofer_set_quota_notify(jh_limits_quota_fd(limits));
	if (jh_limits_mechanism(limits) != JH_LIMITS_NONE)
		o.limits_layer = jh_limits_mechanism(limits) == JH_LIMITS_CGROUP2 ? "limits-cgroup2"
										 : "limits-watchdog";

	/* Namespace backstops: enter what this host allows; --require insists. */
	if (o.require & ~o.layers) {
		char missing[128];

		jh_layers_format(o.require & ~o.layers, missing, sizeof(missing));
		if ((o.require & ~o.layers & JH_LAYER_NETNS) && netns_blocker(&o))
			jh_error("required protection layer unavailable: %s (netns: the network "
				 "policy allows destinations: %s)",
				 missing, netns_blocker(&o));
		else
			jh_error("required protection layer unavailable on this host: %s", missing);
		code = EXIT_JHANSI;
		goto out;
	}
	start_wall = now_ns(CLOCK_REALTIME);
	start_mono = now_ns(CLOCK_MONOTONIC);
	if (o.audit) {
		r = audit_begin(&audit, &o, path, envp, drop_ids, start_wall, start_mono);
		if (r < 0) {
			jh_error("cannot record the run in the audit store%s%s: %s (use --audit off "
				 "to run without a record)",
				 o.audit_db ? " " : "", o.audit_db ? o.audit_db : "",
				 r == -EBADMSG ? "not a jhansi audit store, or corrupt" : strerror(-r));
			code = EXIT_JHANSI;
			goto out;
		}
		jh_audit_run_sink(audit.run, &audit_sink);
	}
	if (o.log_events)
		jh_sink_stderr_init(&log_sink, &log_fd);
	if (audit_sink.ops)
		tee.to[tee.n++] = audit_sink;
	if (log_sink.ops)
		tee.to[tee.n++] = log_sink;
	if (tee.n)
		jh_sink_tee_init(&cfg.sink, &tee);

	cfg.platform = jh_platform_by_name(o.platform);
	cfg.trace = o.trace;
	cfg.hostname = o.hostname;
	cfg.timeout_ms = o.timeout_ms;
	cfg.rlimits = rlimits;
	cfg.nrlimits = nrl;
	cfg.drop_ids = drop_ids;
	cfg.layers = o.layers;
	cfg.uid = SANDBOX_UID;
	cfg.gid = SANDBOX_GID;
	cfg.net = o.net;
	/* In a network namespace of its own the sandbox's loopback is its own:
	 * the policy allows it (the first task enters the namespace or the run
	 * fails, so this never opens the host's loopback). */
	if (o.layers & JH_LAYER_NETNS) {
		if (!o.net) {
			r = jh_net_policy_new(&netns_policy);
			if (r < 0) {
				jh_error("cannot create the network policy: %s", strerror(-r));
				audit_end(&audit, NULL, r, "setup failed", start_mono);
				code = EXIT_JHANSI;
				goto out;
			}
			cfg.net = netns_policy;
		}
		jh_net_policy_set_own_netns(cfg.net, true);
	}

	fscfg = (struct jh_fs_config){
		.workspace = ws_path,
		.policy = o.fs_policy,
		.adjust = o.fs_adjust,
		.nadjust = o.nfs_adjust,
		.quota_bytes = o.disk_quota,
		.as_ids = drop_ids,
		.mountns = mountns,
		.uid = SANDBOX_UID,
		.gid = SANDBOX_GID,
	};
	cfg.fs = &fscfg;
	cmd = (struct jh_sentry_command){
		.path = path, .argv = o.argv, .envp = envp,
		.cwd = start_dir(&o, ws_path, mountns, cwd_buf, sizeof(cwd_buf))};
	/* the watchdog thread starts once the gofer and the first task are forked */
	cfg.spawned = start_limits;
	cfg.spawned_ctx = limits;
	r = jh_sentry_run(&cfg, &cmd, &res);
	jh_limits_finish(limits, &lrep);
	if (r < 0) {
		jh_error("cannot start the sandbox: %s", strerror(-r));
		snprintf(reason, sizeof(reason), "setup failed: %s", strerror(-r));
		audit_end(&audit, NULL, r, reason, start_mono);
		code = EXIT_JHANSI;
		goto out;
	}
	if (res.exit.exec_errno) {
		jh_error("cannot execute '%s': %s", path, strerror(res.exit.exec_errno));
		snprintf(reason, sizeof(reason), "exec failed: %s", strerror(res.exit.exec_errno));
		code = res.exit.exec_errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
	} else if (res.sentry_error) {
		jh_error("the sentry failed during the run (%s); the sandbox was stopped",
			 strerror(-res.sentry_error));
		snprintf(reason, sizeof(reason), "sentry failed: %s", strerror(-res.sentry_error));
		code = EXIT_JHANSI;
	} else {
		/* lrep.reason: "memory limit 256M exceeded: 262 MiB resident
		 * (watchdog); the sandbox was killed", or the fork limit reached */
		if (lrep.memory_exceeded) {
			jh_error("%s", lrep.reason);
			snprintf(reason, sizeof(reason), "%s", lrep.reason);
		} else if (res.exit.timed_out) {
			jh_error("timed out after %.3g s; the sandbox was killed",
				 (double)o.timeout_ms / 1000.0);
			snprintf(reason, sizeof(reason), "timeout after %lld ms%s%.200s",
				 (long long)o.timeout_ms, lrep.reason[0] ? "; " : "", lrep.reason);
		} else if (lrep.reason[0]) {
			jh_error("%s", lrep.reason);
			snprintf(reason, sizeof(reason), "%s", lrep.reason);
		}
		if (res.exit.filter_killed)
			jh_error("task %d was killed by the seccomp filter (foreign syscall ABI)",
				 (int)res.exit.filter_killed_tid);
		code = exit_code_of(&res, lrep.memory_exceeded);
	}
	if (o.log_events)
		print_changes(&res.changes);
	r = audit_end(&audit, &res, 0, reason[0] ? reason : NULL, start_mono);
	jh_changes_free(&res.changes);
	if (r < 0) {
		jh_error("the audit record of this run is incomplete: %s", strerror(-r));
		if (code == 0)
			code = EXIT_JHANSI;
	}
out:
	jh_limits_free(limits);
	if (audit.store)
		jh_audit_close(audit.store);
	jh_sentry_env_free(envp);
	free(o.prompt_buf);
	jh_net_policy_free(o.net);
	jh_net_policy_free(netns_policy);
	return code;
}
