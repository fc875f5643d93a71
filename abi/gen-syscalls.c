/* Build-time generator of the syscall tables.
 *
 *   gen-syscalls SYSCALLS.TSV OUTPUT.C
 *
 * Numbers and names come from libseccomp: every number 0 .. 1023 of each
 * architecture in enum jh_arch is resolved with
 * seccomp_syscall_resolve_num_arch(). Each name is joined with its line of
 * syscalls.tsv (class, fate, handler, signature) and written out as one
 * array of struct jh_syscall_info per architecture in number order, a
 * number -> index array and a name-sorted index (see abi-internal.h).
 *
 * A malformed data file is an error, reported as file:line. A name in the
 * data file that no architecture has is a warning (libseccomp may be older
 * than the file). A libseccomp name the data file lacks is a warning too: it
 * is built as JH_CLASS_UNKNOWN, denied with ENOSYS, and the unit tests fail
 * naming it. The output is written to a temporary file and renamed, so a
 * failed run leaves no half-written table behind.
 */
#include <ctype.h>
#include <errno.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/abi.h"
#include "base/macro.h"

#define MAX_NR 1024
#define MAX_ENTRIES 1024

struct entry {
	char name[64];
	int line;
	enum jh_class cls;
	enum jh_fate fate;
	int deny_errno;
	char handler[64];
	unsigned nargs;
	enum jh_argtype argtype[JH_SYSCALL_MAX_ARGS];
	bool seen; /* some architecture has it */
};

static struct entry entries[MAX_ENTRIES];
static size_t n_entries;
static const char *tsv_path;

JH_PRINTF(2, 3) static void parse_error(int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: error: ", tsv_path, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_FAILURE);
}

static bool valid_ident(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
			return false;
	return true;
}

static void parse_fate(struct entry *e, const char *s)
{
	if (strncmp(s, "deny:", 5) == 0) {
		int err = jh_abi_errno_from_name(s + 5);
		if (err <= 0)
			parse_error(e->line, "unknown errno '%s' in fate '%s'", s + 5, s);
		e->fate = JH_FATE_DENY;
		e->deny_errno = err;
		return;
	}
	int fate = jh_abi_fate_from_name(s);
	if (fate < 0)
		parse_error(e->line, "unknown fate '%s' (pass, emulate, deny, deny:ERRNO)", s);
	e->fate = fate;
	e->deny_errno = fate == JH_FATE_DENY ? EPERM : 0;
}

static void parse_signature(struct entry *e, char *s)
{
	e->nargs = 0;
	if (strcmp(s, "-") == 0)
		return;
	for (char *save = NULL, *tok = strtok_r(s, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		int t = jh_abi_argtype_from_name(tok);
		if (t <= JH_ARG_NONE)
			parse_error(e->line, "unknown argument type '%s' in the signature of '%s'",
				    tok, e->name);
		if (e->nargs == JH_SYSCALL_MAX_ARGS)
			parse_error(e->line, "'%s' has more than %d arguments", e->name,
				    JH_SYSCALL_MAX_ARGS);
		e->argtype[e->nargs++] = t;
	}
}

static struct entry *find_entry(const char *name)
{
	for (size_t i = 0; i < n_entries; i++)
		if (strcmp(entries[i].name, name) == 0)
			return &entries[i];
	return NULL;
}

static void read_tsv(void)
{
	FILE *f = fopen(tsv_path, "re");
	char buf[1024];
	int line = 0;
	int prev_cls = JH_CLASS_UNKNOWN;
	const char *prev_name = "";

	if (!f) {
		fprintf(stderr, "gen-syscalls: error: open '%s': %s\n", tsv_path, strerror(errno));
		exit(EXIT_FAILURE);
	}
	while (fgets(buf, sizeof(buf), f)) {
		char *field[6];
		int n = 0;

		line++;
		if (!strchr(buf, '\n') && !feof(f))
			parse_error(line, "line longer than %zu bytes", sizeof(buf) - 2);
		if (buf[0] == '#')
			continue;
		for (char *save = NULL, *tok = strtok_r(buf, "\t \r\n", &save); tok;
		     tok = strtok_r(NULL, "\t \r\n", &save)) {
			if (n == 5)
				parse_error(line, "more than 5 columns");
			field[n++] = tok;
		}
		if (n == 0)
			continue;
		if (n != 5)
			parse_error(
			    line, "expected 5 columns (name class fate handler signature), got %d",
			    n);
		if (n_entries == MAX_ENTRIES)
			parse_error(line, "more than %d syscalls", MAX_ENTRIES);

		struct entry *e = &entries[n_entries];
		e->line = line;
		if (!valid_ident(field[0]) || strlen(field[0]) >= sizeof(e->name))
			parse_error(line, "bad syscall name '%s'", field[0]);
		if (find_entry(field[0]))
			parse_error(line, "'%s' listed twice (first on line %d)", field[0],
				    find_entry(field[0])->line);
		strcpy(e->name, field[0]);

		int cls = jh_abi_class_from_name(field[1]);
		if (cls <= JH_CLASS_UNKNOWN)
			parse_error(line, "unknown class '%s' for '%s'", field[1], e->name);
		e->cls = cls;

		parse_fate(e, field[2]);

		if (e->fate == JH_FATE_EMULATE) {
			if (strcmp(field[3], "-") == 0 || !valid_ident(field[3]) ||
			    strlen(field[3]) >= sizeof(e->handler))
				parse_error(line,
					    "'%s' is emulated: it needs a handler name, not '%s'",
					    e->name, field[3]);
			strcpy(e->handler, field[3]);
		} else if (strcmp(field[3], "-") != 0) {
			parse_error(line, "'%s' is not emulated: its handler must be '-', not '%s'",
				    e->name, field[3]);
		}

		parse_signature(e, field[4]);

		/* Sorted by class (enum order), then name: keeps the file reviewable. */
		if (cls < prev_cls || (cls == prev_cls && strcmp(prev_name, e->name) >= 0))
			parse_error(line, "'%s' is out of order: sort by class, then by name",
				    e->name);
		prev_cls = cls;
		prev_name = e->name;
		n_entries++;
	}
	if (ferror(f)) {
		fprintf(stderr, "gen-syscalls: error: read '%s': %s\n", tsv_path, strerror(errno));
		exit(EXIT_FAILURE);
	}
	fclose(f);
}

/* One syscall of one architecture, as libseccomp names it. */
struct sys {
	int nr;
	char *name;
	const struct entry *e; /* NULL: missing from the data file */
};

struct arch_table {
	struct sys sys[MAX_NR];
	size_t count;
};

static struct arch_table tables[JH_ARCH_COUNT];

static const struct arch_table *sort_table; /* qsort has no context argument */

static int cmp_by_name(const void *a, const void *b)
{
	uint16_t ia = *(const uint16_t *)a, ib = *(const uint16_t *)b;
	return strcmp(sort_table->sys[ia].name, sort_table->sys[ib].name);
}

static void upper(char *dst, size_t size, const char *src)
{
	size_t i;
	for (i = 0; src[i] && i + 1 < size; i++)
		dst[i] = toupper((unsigned char)src[i]);
	dst[i] = '\0';
}

static const char *argtype_ident(enum jh_argtype t)
{
	static char buf[64];
	if (t == JH_ARG_NONE)
		return "JH_ARG_NONE";
	char up[32];
	upper(up, sizeof(up), jh_abi_argtype_name(t));
	snprintf(buf, sizeof(buf), "JH_ARG_%s", up);
	return buf;
}

static int resolve_arch(enum jh_arch arch)
{
	struct arch_table *t = &tables[arch];
	uint32_t scmp = jh_abi_scmp_arch(arch);
	int missing = 0;

	for (int nr = 0; nr < MAX_NR; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(scmp, nr);
		if (!name)
			continue;
		for (size_t i = 0; i < t->count; i++)
			if (strcmp(t->sys[i].name, name) == 0) {
				fprintf(stderr,
					"gen-syscalls: error: %s: libseccomp names both %d and %d "
					"'%s'\n",
					jh_abi_arch_name(arch), t->sys[i].nr, nr, name);
				exit(EXIT_FAILURE);
			}
		struct entry *e = find_entry(name);
		if (e) {
			e->seen = true;
		} else {
			fprintf(stderr,
				"gen-syscalls: warning: %s syscall '%s' (%d) is not in %s: built "
				"as class "
				"unknown, deny ENOSYS\n",
				jh_abi_arch_name(arch), name, nr, tsv_path);
			missing++;
		}
		t->sys[t->count++] = (struct sys){.nr = nr, .name = name, .e = e};
	}
	if (t->count == 0) {
		fprintf(stderr, "gen-syscalls: error: libseccomp knows no syscall of %s\n",
			jh_abi_arch_name(arch));
		exit(EXIT_FAILURE);
	}
	return missing;
}

static void write_arch(FILE *out, enum jh_arch arch)
{
	const struct arch_table *t = &tables[arch];
	const char *an = jh_abi_arch_name(arch);
	int max_nr = t->sys[t->count - 1].nr;

	fprintf(out, "\n/* %s: %zu syscalls, 0 .. %d */\n", an, t->count, max_nr);
	fprintf(out, "static const struct jh_syscall_info sys_%s[%zu] = {\n", an, t->count);
	for (size_t i = 0; i < t->count; i++) {
		const struct sys *s = &t->sys[i];
		const struct entry *e = s->e;
		char cls[32], fate[32];

		upper(cls, sizeof(cls), jh_abi_class_name(e ? e->cls : JH_CLASS_UNKNOWN));
		upper(fate, sizeof(fate), jh_abi_fate_name(e ? e->fate : JH_FATE_DENY));
		fprintf(out, "\t{.name = \"%s\", .nr = %d, .cls = JH_CLASS_%s, .fate = JH_FATE_%s",
			s->name, s->nr, cls, fate);
		int err = e ? e->deny_errno : ENOSYS;
		if (err)
			fprintf(out, ", .deny_errno = %d /* %s */", err, jh_abi_errno_name(err));
		if (e && e->fate == JH_FATE_EMULATE)
			fprintf(out, ", .handler = \"%s\"", e->handler);
		if (e && e->nargs) {
			fprintf(out, ",\n\t .nargs = %u, .argtype = {", e->nargs);
			for (unsigned a = 0; a < e->nargs; a++)
				fprintf(out, "%s%s", a ? ", " : "", argtype_ident(e->argtype[a]));
			fputc('}', out);
		}
		fputs("},\n", out);
	}
	fputs("};\n", out);

	fprintf(out, "\nstatic const int16_t nr_%s[%d] = {\n", an, max_nr + 1);
	for (int nr = 0, i = 0; nr <= max_nr; nr++) {
		if (t->sys[i].nr == nr)
			fprintf(out, "\t[%d] = %d,\n", nr, i++);
		else
			fprintf(out, "\t[%d] = -1,\n", nr);
	}
	fputs("};\n", out);

	uint16_t idx[MAX_NR];
	for (size_t i = 0; i < t->count; i++)
		idx[i] = i;
	sort_table = t;
	qsort(idx, t->count, sizeof(idx[0]), cmp_by_name);
	fprintf(out, "\nstatic const uint16_t name_%s[%zu] = {\n", an, t->count);
	for (size_t i = 0; i < t->count; i++)
		fprintf(out, "\t%u, /* %s */\n", idx[i], t->sys[idx[i]].name);
	fputs("};\n", out);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s SYSCALLS.TSV OUTPUT.C\n", argv[0]);
		return EXIT_FAILURE;
	}
	tsv_path = argv[1];
	read_tsv();

	int missing = 0;
	for (int a = 0; a < JH_ARCH_COUNT; a++)
		missing += resolve_arch(a);
	for (size_t i = 0; i < n_entries; i++)
		if (!entries[i].seen)
			fprintf(stderr,
				"%s:%d: warning: no architecture has '%s' in this libseccomp\n",
				tsv_path, entries[i].line, entries[i].name);

	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", argv[2]) >= (int)sizeof(tmp)) {
		fprintf(stderr, "gen-syscalls: error: output path too long\n");
		return EXIT_FAILURE;
	}
	FILE *out = fopen(tmp, "we");
	if (!out) {
		fprintf(stderr, "gen-syscalls: error: create '%s': %s\n", tmp, strerror(errno));
		return EXIT_FAILURE;
	}

	const struct scmp_version *v = seccomp_version();
	fprintf(out,
		"/* Generated by abi/gen-syscalls from abi/syscalls.tsv and libseccomp %u.%u.%u.\n"
		" * Do not edit: change syscalls.tsv. */\n"
		"#include <stddef.h>\n#include <stdint.h>\n\n#include \"abi/abi-internal.h\"\n",
		v->major, v->minor, v->micro);
	for (int a = 0; a < JH_ARCH_COUNT; a++)
		write_arch(out, a);
	fputs("\nconst struct jh_abi_table jh_abi_tables[JH_ARCH_COUNT] = {\n", out);
	for (int a = 0; a < JH_ARCH_COUNT; a++) {
		const char *an = jh_abi_arch_name(a);
		char up[32];
		upper(up, sizeof(up), an);
		fprintf(
		    out,
		    "\t[JH_ARCH_%s] = {.sys = sys_%s, .count = %zu, .by_nr = nr_%s, .max_nr = %d, "
		    ".by_name = name_%s},\n",
		    up, an, tables[a].count, an, tables[a].sys[tables[a].count - 1].nr, an);
	}
	fputs("};\n", out);

	if (fflush(out) != 0 || ferror(out) || fclose(out) != 0) {
		fprintf(stderr, "gen-syscalls: error: write '%s': %s\n", tmp, strerror(errno));
		remove(tmp);
		return EXIT_FAILURE;
	}
	if (rename(tmp, argv[2]) < 0) {
		fprintf(stderr, "gen-syscalls: error: rename '%s': %s\n", tmp, strerror(errno));
		remove(tmp);
		return EXIT_FAILURE;
	}
	for (int a = 0; a < JH_ARCH_COUNT; a++)
		for (size_t i = 0; i < tables[a].count; i++)
			free(tables[a].sys[i].name);
	if (missing)
		fprintf(stderr, "gen-syscalls: warning: %d syscalls missing from %s\n", missing,
			tsv_path);
	return EXIT_SUCCESS;
}
