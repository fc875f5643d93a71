/* jhansi-audit: lists, shows, verifies, exports and signs the audit store.
 *
 * A thin program over audit/: argument parsing and presentation only. Every
 * string that came from the store is printed with control characters escaped,
 * since a sandboxed program chose many of them (its argv, paths, its prompt).
 * Exit status: 0 success; 1 verify (or checkpoint) found the chain broken;
 * 2 usage errors and stores or keys that cannot be read.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "abi/abi.h"
#include "audit/audit.h"
#include "base/log.h"
#include "base/macro.h"

enum { EXIT_OK = 0, EXIT_BROKEN = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
    "Usage: jhansi-audit [--db PATH] COMMAND [OPTIONS]\n"
    "\n"
    "Reads, verifies, exports and signs the jhansi audit store: a hash chain of\n"
    "runs (who ran what, when, with which prompt, under which policy, how it\n"
    "ended) and of every syscall the sentry mediated.\n"
    "\n"
    "Commands:\n"
    "  runs [--since TIME] [--limit N]\n"
    "        one line a run, oldest first: id, start (UTC), actor, workspace,\n"
    "        how it ended, command; --limit shows the newest N\n"
    "  show RUN [--class CLASS[,CLASS...]] [--decision DECISION[,...]] [--policy]\n"
    "           [--no-forensics]\n"
    "        the run record and its events; --policy adds the policy text.\n"
    "        Decisions: passed, allowed, emulated, denied, killed. A refused\n"
    "        call's forensics (the first refusals of a run have them) are printed\n"
    "        under it: the task's stack, one frame a line, and the code around\n"
    "        the syscall site (\"=>\" marks the call); --no-forensics leaves them\n"
    "        out, one line an event\n"
    "  verify [--pubkey PUB.pem]\n"
    "        recompute the chain from the stored records; with a key, also check\n"
    "        every signed checkpoint against it (a store without one fails)\n"
    "  export [--format jsonl] [--since TIME]\n"
    "        runs, each followed by its events, as JSON lines (for a SIEM); an\n"
    "        event's forensics are its \"stack\" and \"disasm\" (null when none)\n"
    "  head\n"
    "        the newest record of the chain: its position and hash\n"
    "  checkpoint --key KEY.pem\n"
    "        verify the chain, then sign its head with an Ed25519 private key\n"
    "\n"
    "Options:\n"
    "  --db PATH     the store; default $JHANSI_STATE_DIR/audit.db, else\n"
    "                $XDG_DATA_HOME/jhansi/audit.db, else /var/lib/jhansi/audit.db\n"
    "                for root, else ~/.local/share/jhansi/audit.db\n"
    "  -h, --help    show this text\n"
    "  --version     show the version\n"
    "\n"
    "TIME: seconds since the epoch (1700000000 or @1700000000), a UTC date or time\n"
    "(2026-11-26, 2026-11-26T11:20, 2026-11-26T11:20:05Z), or an age (-90s, -30m,\n"
    "-2h, -7d).\n"
    "\n"
    "Keys: openssl genpkey -algorithm ed25519 -out key.pem\n"
    "      openssl pkey -in key.pem -pubout -out pub.pem\n"
    "\n"
    "Exit status: 0 success (for verify: the chain is intact); 1 the chain is\n"
    "broken (verify, checkpoint); 2 a usage error, or the store or a key could\n"
    "not be read.\n";

JH_PRINTF(1, 2)
static int usage_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	jh_error("%s (see --help)", msg);
	return EXIT_USAGE;
}

/* ---- printing what the store holds ---- */

/* Writes `s` with control characters escaped; newlines kept when `multiline`. */
static void put_text(FILE *out, const char *s, bool multiline)
{
	if (!s) {
		fputs("-", out);
		return;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p < 0x20 && !(multiline && (*p == '\n' || *p == '\t'))) || *p == 0x7f)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
}

/* One argv word: as is when plain, else double-quoted with C escapes. */
static void put_word(FILE *out, const char *s)
{
	bool plain = *s != '\0';

	for (const char *p = s; *p && plain; p++)
		plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			       "_-./:=@%+,",
			       *p) != NULL;
	if (plain) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p == '\t')
			fputs("\\t", out);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void put_argv(FILE *out, const struct jh_audit_run_record *r)
{
	if (r->argc == 0)
		fputs("-", out);
	for (size_t i = 0; i < r->argc; i++) {
		if (i)
			fputc(' ', out);
		put_word(out, r->argv[i]);
	}
}

/* Pads a column: the text escaped, then spaces up to `width`. */
static void put_col(FILE *out, const char *s, int width)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return;
	put_text(m, s, false);
	fclose(m);
	fprintf(out, "%-*s ", width, buf ? buf : "");
	free(buf);
}

static void format_time(char *buf, size_t len, int64_t ns, bool frac)
{
	struct tm tm;
	time_t t = (time_t)(ns / 1000000000);
	size_t n;

	if (ns <= 0 || !gmtime_r(&t, &tm)) {
		snprintf(buf, len, "-");
		return;
	}
	n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	if (frac)
		snprintf(buf + n, len - n, ".%03lld", (long long)(ns % 1000000000 / 1000000));
}

/* How the run ended, in one word or two. */
static void format_end(char *buf, size_t len, const struct jh_audit_run_record *r)
{
	const char *sig;

	switch (r->state) {
	case JH_AUDIT_RUN_OPEN:
		snprintf(buf, len, "%s", r->writer_gone ? "abandoned" : "running");
		return;
	case JH_AUDIT_RUN_INCOMPLETE:
		snprintf(buf, len, "incomplete");
		return;
	case JH_AUDIT_RUN_COMPLETE:
		break;
	}
	if (r->sentry_failed)
		snprintf(buf, len, "sentry-failed");
	else if (r->timed_out)
		snprintf(buf, len, "timeout");
	else if (r->term_signal) {
		sig = jh_abi_signal_name(r->term_signal);
		if (sig)
			snprintf(buf, len, "%s", sig);
		else
			snprintf(buf, len, "signal %d", r->term_signal);
	} else
		snprintf(buf, len, "%d", r->exit_status);
}

static int print_run_line(const struct jh_audit_run_record *r, void *userdata)
{
	char id[24], start[40], end[40];

	snprintf(id, sizeof(id), "%" PRId64, r->id);
	format_time(start, sizeof(start), r->start_wall_ns, false);
	format_end(end, sizeof(end), r);
	printf("%-6s %-19s ", id, start);
	put_col(stdout, r->actor, 12);
	put_col(stdout, r->workspace, 12);
	printf("%-13s ", end);
	put_argv(stdout, r);
	putchar('\n');
	return 0;
}

static void field(const char *name)
{
	printf("  %-12s", name);
}

static void print_run(const struct jh_audit_run_record *r, bool policy_text)
{
	char t[64], t2[64];

	printf("run %" PRId64 " (%s%s)\n", r->id, jh_audit_run_state_name(r->state),
	       r->state == JH_AUDIT_RUN_OPEN && r->writer_gone ? ", its writer is gone" : "");
	field("actor");
	put_text(stdout, r->actor, false);
	putchar('\n');
	field("user");
	put_text(stdout, r->user, false);
	printf(" (uid %" PRIu32 ") on ", r->uid);
	put_text(stdout, r->host, false);
	putchar('\n');
	field("command");
	put_argv(stdout, r);
	putchar('\n');
	field("executable");
	put_text(stdout, r->exe_path, false);
	printf("  sha256 %s\n", r->exe_sha256 ? r->exe_sha256 : "-");
	field("cwd");
	put_text(stdout, r->cwd, false);
	putchar('\n');
	field("environment");
	printf("sha256 %s\n", r->env_sha256 ? r->env_sha256 : "-");
	field("prompt");
	if (r->prompt_record == JH_AUDIT_PROMPT_NONE) {
		printf("not recorded\n");
	} else {
		printf("%s, sha256 %s\n",
		       r->prompt_record == JH_AUDIT_PROMPT_FULL ? "full text" : "digest only",
		       r->prompt_sha256 ? r->prompt_sha256 : "-");
		if (r->prompt) {
			/* The text, each line indented under the field. */
			printf("%14s", "");
			for (const char *p = r->prompt; *p; p++) {
				char one[2] = {*p, 0};
				put_text(stdout, one, true);
				if (*p == '\n' && p[1])
					printf("%14s", "");
			}
			putchar('\n');
		}
	}
	field("policy");
	if (r->policy_sha256)
		printf("sha256 %s (%zu bytes)\n", r->policy_sha256,
		       r->policy_text ? strlen(r->policy_text) : 0);
	else
		printf("none\n");
	field("platform");
	put_text(stdout, r->platform, false);
	printf(", layers ");
	put_text(stdout, r->layers, false);
	putchar('\n');
	field("workspace");
	put_text(stdout, r->workspace, false);
	putchar('\n');
	format_time(t, sizeof(t), r->start_wall_ns, true);
	field("started");
	printf("%s UTC\n", t);
	if (r->state != JH_AUDIT_RUN_OPEN) {
		format_time(t2, sizeof(t2), r->end_wall_ns, true);
		field("ended");
		if (r->end_wall_ns)
			printf("%s UTC, after %.3f s\n", t2, (double)r->duration_ns / 1e9);
		else
			printf("unknown\n");
		field("exit");
		if (r->state == JH_AUDIT_RUN_INCOMPLETE)
			printf("incomplete");
		else if (r->sentry_failed)
			printf("sentry failed");
		else if (r->timed_out)
			printf("timed out");
		else if (r->term_signal)
			printf("killed by %s", jh_abi_signal_name(r->term_signal)
						   ? jh_abi_signal_name(r->term_signal)
						   : "a signal");
		else
			printf("status %d", r->exit_status);
		if (r->reason) {
			printf(": ");
			put_text(stdout, r->reason, false);
		}
		putchar('\n');
		field("calls");
		if (r->n_counts == 0)
			printf("none mediated");
		for (size_t i = 0; i < r->n_counts; i++) {
			printf("%s", i ? "; " : "");
			put_text(stdout, r->counts[i].cls, false);
			printf(" %" PRIu64 " mediated, %" PRIu64 " refused", r->counts[i].mediated,
			       r->counts[i].refused);
		}
		putchar('\n');
		if (r->n_changes)
			printf("  changes\n");
		else
			printf("  %-12snone\n", "changes");
		for (size_t i = 0; i < r->n_changes; i++) {
			printf("    %-8s ", jh_audit_change_op_name(r->changes[i].op));
			put_text(stdout, r->changes[i].path, false);
			printf("  %s\n", r->changes[i].sha256_hex ? r->changes[i].sha256_hex : "-");
		}
		field("events");
		printf("%" PRIu64 " recorded", r->n_events);
		if (r->lost_events)
			printf(", %" PRIu64 " LOST", r->lost_events);
		putchar('\n');
		field("chain");
		printf("records %" PRId64 " to %" PRId64 "\n", r->start_seq, r->end_seq);
	} else {
		field("chain");
		printf("from record %" PRId64 "\n", r->start_seq);
	}
	if (policy_text && r->policy_text) {
		printf("policy text:\n");
		put_text(stdout, r->policy_text, true);
		putchar('\n');
	}
}

struct show_ctx {
	int64_t start_mono_ns;
	uint64_t shown;
	bool forensics;
};

/* A forensics text under its event: each line indented, the first labelled,
 * control characters escaped (the task chose its symbol names and code). */
static void print_block(const char *label, const char *text)
{
	bool first = true;

	if (!text)
		return;
	for (const char *l = text; *l;) {
		size_t n = strcspn(l, "\n");
		char *line = strndup(l, n);

		printf("%21s%-7s", "", first ? label : "");
		put_text(stdout, line ? line : "?", false);
		putchar('\n');
		free(line);
		first = false;
		l += n;
		if (*l == '\n')
			l++;
	}
}

static int print_event(const struct jh_audit_event_record *e, void *userdata)
{
	struct show_ctx *c = userdata;
	int64_t rel = (int64_t)e->ev.mono_ns - c->start_mono_ns;
	char res[128];

	if (e->ev.decision == JH_DECISION_KILLED)
		snprintf(res, sizeof(res), "?");
	else
		jh_abi_format_result(res, sizeof(res), e->ev.result, e->ev.err);
	printf("  %6" PRId64 " %+11.6f [%d] %-8s ", e->idx, (double)rel / 1e9, (int)e->ev.tid,
	       e->decision ? e->decision : "?");
	put_text(stdout, e->ev.syscall ? e->ev.syscall : "?", false);
	putchar('(');
	put_text(stdout, e->ev.args ? e->ev.args : "", false);
	printf(") = %s", res);
	if (e->ev.detail) {
		printf("  # ");
		put_text(stdout, e->ev.detail, false);
	}
	putchar('\n');
	if (c->forensics) {
		print_block("stack", e->ev.stack);
		print_block("code", e->ev.disasm);
	}
	c->shown++;
	return 0;
}

/* ---- argument helpers ---- */

static int parse_int(const char *s, int64_t min, int64_t *ret)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_time(const char *s, int64_t *ret_ns)
{
	static const char *const formats[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M",
					      "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"};
	int64_t v;

	if (s[0] == '@' && parse_int(s + 1, 0, &v) == 0) {
		*ret_ns = v * 1000000000;
		return 0;
	}
	if (parse_int(s, 0, &v) == 0) {
		*ret_ns = v * 1000000000;
		return 0;
	}
	if (s[0] == '-' && s[1]) {
		_cleanup_free_ char *num = strdup(s + 1);
		size_t n = num ? strlen(num) : 0;
		int64_t unit;

		if (!num || n < 2)
			return -EINVAL;
		switch (num[n - 1]) {
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 86400;
			break;
		default:
			return -EINVAL;
		}
		num[n - 1] = '\0';
		if (parse_int(num, 0, &v) < 0)
			return -EINVAL;
		*ret_ns = (int64_t)time(NULL) * 1000000000 - v * unit * 1000000000;
		return 0;
	}
	for (size_t i = 0; i < JH_ARRAY_SIZE(formats); i++) {
		struct tm tm = {0};
		const char *end = strptime(s, formats[i], &tm);

		if (end && (*end == '\0' || (end[0] == 'Z' && end[1] == '\0'))) {
			*ret_ns = (int64_t)timegm(&tm) * 1000000000;
			return 0;
		}
	}
	return -EINVAL;
}

/* Splits "a,b,c" into a NULL-terminated list pointing into `s` (modified). */
static char **split_list(char *s)
{
	size_t n = 2;
	char **list, *save = NULL;

	for (char *p = s; *p; p++)
		n += *p == ',';
	list = calloc(n, sizeof(*list));
	if (!list)
		return NULL;
	n = 0;
	for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		list[n++] = tok;
	return list;
}

/* ---- the store ---- */

static int store_error(const char *path, int r)
{
	switch (r) {
	case -ENOENT:
		jh_error("no audit store at '%s' (jhansi-exec makes it on its first run; --db "
			 "selects another)",
			 path);
		break;
	case -EBADMSG:
		jh_error("'%s' is not a jhansi audit store, or it is corrupt", path);
		break;
	case -EPROTONOSUPPORT:
		jh_error(
		    "audit store '%s' has a newer schema than this jhansi-audit knows (version %d)",
		    path, JH_AUDIT_SCHEMA_VERSION);
		break;
	case -EPROTO:
		jh_error("audit store '%s' has an older schema; it is migrated by the next "
			 "read-write open "
			 "(a jhansi-exec run, or jhansi-audit checkpoint)",
			 path);
		break;
	case -EBUSY:
		jh_error("audit store '%s' stayed locked by another process", path);
		break;
	case -EISDIR:
		jh_error("'%s' is a directory, not an audit store", path);
		break;
	default:
		jh_error("cannot read audit store '%s': %s", path, strerror(-r));
	}
	return EXIT_USAGE;
}

static int open_store(const char *db, bool readonly, struct jh_audit **ret, char **path)
{
	int r;

	if (db)
		*path = strdup(db);
	else if (jh_audit_default_path(false, path) < 0)
		*path = NULL;
	if (!*path) {
		jh_error("cannot find the audit store: no state directory (set JHANSI_STATE_DIR or "
			 "use --db)");
		return EXIT_USAGE;
	}
	r = jh_audit_open(*path, readonly ? JH_AUDIT_OPEN_READONLY : 0, ret);
	if (r < 0)
		return store_error(*path, r);
	return EXIT_OK;
}

static void broken(const char *what, const struct jh_audit_verify_report *rep)
{
	jh_error("%s%s: %s", what, rep->where, rep->reason);
}

/* ---- commands ---- */

enum {
	OPT_DB = 0x100,
	OPT_LIMIT,
	OPT_SINCE,
	OPT_CLASS,
	OPT_DECISION,
	OPT_POLICY,
	OPT_PUBKEY,
	OPT_FORMAT,
	OPT_KEY,
	OPT_NO_FORENSICS,
};

struct cmd_opts {
	const char *db;
	int64_t limit;
	int64_t since_ns;
	char *classes, *decisions;
	bool policy;
	bool no_forensics;
	const char *pubkey, *key, *format;
	const char *arg; /* the one positional argument, if any */
};

static int cmd_runs(struct jh_audit *a, const char *path, struct cmd_opts *o)
{
	int r;

	printf("%-6s %-19s %-12s %-12s %-13s %s\n", "ID", "START (UTC)", "ACTOR", "WORKSPACE",
	       "EXIT", "COMMAND");
	r = jh_audit_foreach_run(a, o->since_ns, o->limit, print_run_line, NULL);
	if (r < 0)
		return store_error(path, r);
	return EXIT_OK;
}

static int cmd_show(struct jh_audit *a, const char *path, struct cmd_opts *o)
{
	_cleanup_(jh_audit_run_record_freep) struct jh_audit_run_record *rec = NULL;
	_cleanup_free_ char **classes = NULL, **decisions = NULL;
	struct jh_audit_event_filter filter = {0};
	struct show_ctx ctx = {0};
	int64_t id;
	int r;

	if (!o->arg || parse_int(o->arg, 1, &id) < 0)
		return usage_error("show needs a run id, a number from 'jhansi-audit runs'");
	if (o->classes) {
		classes = split_list(o->classes);
		filter.classes = (const char *const *)classes;
	}
	if (o->decisions) {
		decisions = split_list(o->decisions);
		for (char **d = decisions; d && *d; d++) {
			bool known = false;
			for (int i = 0; i < JH_DECISION_COUNT; i++)
				known |= strcmp(*d, jh_decision_name(i)) == 0;
			if (!known)
				return usage_error("unknown decision '%s' (passed, allowed, "
						   "emulated, denied, killed)",
						   *d);
		}
		filter.decisions = (const char *const *)decisions;
	}
	r = jh_audit_get_run(a, id, &rec);
	if (r == -ENOENT) {
		jh_error("no run %" PRId64 " in '%s'", id, path);
		return EXIT_USAGE;
	}
	if (r < 0)
		return store_error(path, r);
	print_run(rec, o->policy);
	ctx.start_mono_ns = rec->start_mono_ns;
	ctx.forensics = !o->no_forensics;
	printf("events%s:\n", o->classes || o->decisions ? " (filtered)" : "");
	r = jh_audit_foreach_event(a, id, &filter, print_event, &ctx);
	if (r < 0)
		return store_error(path, r);
	if (ctx.shown == 0)
		printf("  none\n");
	return EXIT_OK;
}

static int cmd_verify(struct jh_audit *a, const char *path, struct cmd_opts *o)
{
	struct jh_audit_verify_report rep;
	char hex[JH_AUDIT_HEX_LEN];
	int r;

	if (o->pubkey && access(o->pubkey, R_OK) < 0) {
		jh_error("cannot read key '%s': %s", o->pubkey, strerror(errno));
		return EXIT_USAGE;
	}
	r = jh_audit_verify(a, o->pubkey, &rep);
	if (r == -EBADMSG && rep.where[0]) {
		broken("chain broken at ", &rep);
		return EXIT_BROKEN;
	}
	if (r == -EKEYREJECTED) {
		jh_error("'%s' holds no Ed25519 public key", o->pubkey);
		return EXIT_USAGE;
	}
	if (r < 0)
		return store_error(path, r);
	jh_audit_hex(rep.head.hash, sizeof(rep.head.hash), hex);
	printf("ok: %" PRIu64 " records in %" PRIu64 " runs, head %" PRId64 " %s\n", rep.records,
	       rep.runs, rep.head.seq, hex);
	if (o->pubkey)
		printf("ok: %" PRIu64 " checkpoint%s signed by the given key\n", rep.checkpoints,
		       rep.checkpoints == 1 ? "" : "s");
	else if (rep.checkpoints)
		printf("note: %" PRIu64
		       " checkpoint%s match the chain; signatures not checked (no --pubkey)\n",
		       rep.checkpoints, rep.checkpoints == 1 ? "" : "s");
	return EXIT_OK;
}

static int cmd_export(struct jh_audit *a, const char *path, struct cmd_opts *o)
{
	int r;

	if (o->format && strcmp(o->format, "jsonl") != 0)
		return usage_error("unknown export format '%s' (jsonl is the one there is)",
				   o->format);
	r = jh_audit_export_jsonl(a, o->since_ns, stdout);
	if (r == -EIO) {
		jh_error("cannot write the export: %s", strerror(EIO));
		return EXIT_USAGE;
	}
	if (r < 0)
		return store_error(path, r);
	return EXIT_OK;
}

static int cmd_head(struct jh_audit *a, const char *path, struct cmd_opts *o)
{
	struct jh_audit_head h;
	char hex[JH_AUDIT_HEX_LEN];
	int r;

	r = jh_audit_head(a, &h);
	if (r < 0)
		return store_error(path, r);
	jh_audit_hex(h.hash, sizeof(h.hash), hex);
	printf("%" PRId64 " %s\n", h.seq, hex);
	return EXIT_OK;
}

static int cmd_checkpoint(struct jh_audit *a, const char *path, struct cmd_opts *o)
{
	struct jh_audit_verify_report rep;
	struct jh_audit_checkpoint cp;
	char hex[JH_AUDIT_HEX_LEN], kid[JH_AUDIT_HEX_LEN];
	int r;

	if (!o->key)
		return usage_error("checkpoint needs --key KEY.pem, an Ed25519 private key");
	r = jh_audit_checkpoint(a, o->key, &cp, &rep);
	switch (r) {
	case 0:
		break;
	case -EBADMSG:
		if (rep.where[0]) {
			broken("refusing to sign a broken chain: broken at ", &rep);
			return EXIT_BROKEN;
		}
		return store_error(path, r);
	case -ENODATA:
		jh_error("nothing to sign: the chain in '%s' is empty", path);
		return EXIT_USAGE;
	case -EKEYREJECTED:
		jh_error("'%s' holds no Ed25519 private key", o->key);
		return EXIT_USAGE;
	case -ENOENT:
	case -EACCES:
	case -EISDIR:
		jh_error("cannot read key '%s': %s", o->key, strerror(-r));
		return EXIT_USAGE;
	default:
		return store_error(path, r);
	}
	jh_audit_hex(cp.hash, sizeof(cp.hash), hex);
	jh_audit_hex(cp.key_id, sizeof(cp.key_id), kid);
	printf("checkpoint %" PRId64 ": record %" PRId64 " %s, signed by key %.16s\n", cp.id,
	       cp.seq, hex, kid);
	return EXIT_OK;
}

static const struct command {
	const char *name;
	int (*run)(struct jh_audit *a, const char *path, struct cmd_opts *o);
	bool readonly;
	bool positional;
	const char *opts; /* names of the options it takes, space-separated */
} commands[] = {
    {"runs", cmd_runs, true, false, " since limit "},
    {"show", cmd_show, true, true, " class decision policy no-forensics "},
    {"verify", cmd_verify, true, false, " pubkey "},
    {"export", cmd_export, true, false, " format since "},
    {"head", cmd_head, true, false, " "},
    {"checkpoint", cmd_checkpoint, false, false, " key "},
};

static const struct option long_opts[] = {
    {"db", required_argument, NULL, OPT_DB},
    {"limit", required_argument, NULL, OPT_LIMIT},
    {"since", required_argument, NULL, OPT_SINCE},
    {"class", required_argument, NULL, OPT_CLASS},
    {"decision", required_argument, NULL, OPT_DECISION},
    {"policy", no_argument, NULL, OPT_POLICY},
    {"pubkey", required_argument, NULL, OPT_PUBKEY},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"key", required_argument, NULL, OPT_KEY},
    {"no-forensics", no_argument, NULL, OPT_NO_FORENSICS},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {},
};

static bool takes(const struct command *c, const char *opt)
{
	char needle[32];

	snprintf(needle, sizeof(needle), " %s ", opt);
	return strstr(c->opts, needle) != NULL;
}

int main(int argc, char **argv)
{
	_cleanup_(jh_audit_closep) struct jh_audit *a = NULL;
	_cleanup_free_ char *path = NULL;
	const struct command *cmd = NULL;
	struct cmd_opts o = {0};
	int c, idx, r;

	jh_log_setup("jhansi-audit", STDERR_FILENO);

	/* Global options, up to the command. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", long_opts, &idx)) != -1) {
		switch (c) {
		case OPT_DB:
			o.db = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		case 'V':
			printf("jhansi-audit %s\n", JH_VERSION);
			return EXIT_OK;
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("no command given");
	for (size_t i = 0; i < JH_ARRAY_SIZE(commands); i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd)
		return usage_error("unknown command '%s'", argv[optind]);

	/* The command's options; positional arguments anywhere among them. */
	argc -= optind;
	argv += optind;
	optind = 0;
	while ((c = getopt_long(argc, argv, "-h", long_opts, &idx)) != -1) {
		const char *name = c == 1 || c == '?' || c == ':' ? NULL : long_opts[idx].name;

		if (c == 'h') {
			fputs(usage_text, stdout);
			return EXIT_OK;
		}
		if (c == '?' || c == ':')
			return usage_error("bad option '%s'", argv[optind - 1]);
		if (c == 1) {
			if (!cmd->positional || o.arg)
				return usage_error("unexpected argument '%s'", optarg);
			o.arg = optarg;
			continue;
		}
		if (c != OPT_DB && c != 'V' && !takes(cmd, name))
			return usage_error("%s does not take --%s", cmd->name, name);
		switch (c) {
		case OPT_DB:
			o.db = optarg;
			break;
		case OPT_LIMIT:
			if (parse_int(optarg, 1, &o.limit) < 0)
				return usage_error("--limit takes a positive number, not '%s'",
						   optarg);
			break;
		case OPT_SINCE:
			if (parse_time(optarg, &o.since_ns) < 0)
				return usage_error(
				    "cannot read '%s' as a time (see TIME in --help)", optarg);
			break;
		case OPT_CLASS:
			o.classes = optarg;
			break;
		case OPT_DECISION:
			o.decisions = optarg;
			break;
		case OPT_POLICY:
			o.policy = true;
			break;
		case OPT_PUBKEY:
			o.pubkey = optarg;
			break;
		case OPT_FORMAT:
			o.format = optarg;
			break;
		case OPT_KEY:
			o.key = optarg;
			break;
		case OPT_NO_FORENSICS:
			o.no_forensics = true;
			break;
		case 'V':
			printf("jhansi-audit %s\n", JH_VERSION);
			return EXIT_OK;
		}
	}
	if (cmd->positional && !o.arg)
		return usage_error("%s needs an argument", cmd->name);

	r = open_store(o.db, cmd->readonly, &a, &path);
	if (r != EXIT_OK)
		return r;
	r = cmd->run(a, path, &o);
	if (fflush(stdout) == EOF && r == EXIT_OK) {
		jh_error("cannot write to stdout: %s", strerror(errno));
		return EXIT_USAGE;
	}
	return r;
}
