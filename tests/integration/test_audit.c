/* The audit store as jhansi-exec fills it, read back with jhansi-audit: a
 * refused call's forensics (stack, code at the site) are in its chained
 * record on both platforms, and --trace records every call of a real program.
 *
 * Each test keeps its store in a temporary directory of its own (--audit-db);
 * the suites are split by platform so that the ptrace runs can be selected
 * apart (CMakeLists.txt). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"

#define RUN(r, ...) cr_assert_eq(run_jx(&(r), __VA_ARGS__, NULL), 0, "spawning jhansi-exec failed")

/* Runs jhansi-audit with `args` (NULL-terminated). */
static void run_ja(struct run_result *r, const char *const *args)
{
	const char *argv[16] = {JA_PATH};
	int n = 1;

	for (; args[n - 1] && n < 15; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	cr_assert_eq(run_argv(argv, r), 0, "spawning jhansi-audit failed");
}

/* In `show` output, an event line has the last digit of its index in column
 * 7; the lines under it (forensics) are indented further. Returns the block of
 * the next event line at or after `from` containing `needle` (the event line
 * and the lines under it, malloc'd), or NULL. */
static char *event_block(const char *text, const char *needle, const char **from)
{
	for (const char *l = *from; l && *l;) {
		const char *e = strchr(l, '\n');
		size_t len = e ? (size_t)(e - l) + 1 : strlen(l);

		if (len > 8 && l[7] >= '0' && l[7] <= '9' &&
		    memmem(l, len, needle, strlen(needle))) {
			const char *end = l + len;

			while (*end && strncmp(end, "                     ", 21) == 0) {
				const char *ne = strchr(end, '\n');
				end = ne ? ne + 1 : end + strlen(end);
			}
			*from = end;
			return strndup(l, (size_t)(end - l));
		}
		l += len;
	}
	*from = NULL;
	return NULL;
}

/* The block's line that contains `needle`, or NULL (malloc'd). */
static char *line_with(const char *block, const char *needle)
{
	const char *p = strstr(block, needle), *s, *e;

	if (!p)
		return NULL;
	for (s = p; s > block && s[-1] != '\n'; s--)
		;
	e = strchr(p, '\n');
	return strndup(s, e ? (size_t)(e - s) : strlen(s));
}

/* Records `forensics inline shellcode` on `platform` into a fresh store and
 * checks what `jhansi-audit show` prints of its two refused mounts. */
static void forensics_in_the_store(const char *platform)
{
	char *dir = make_tmpdir(), db[4200], *inline_ev, *shell_ev, *site;
	struct run_result r;
	const char *from;

	snprintf(db, sizeof(db), "%s/audit.db", dir);
	RUN(r, "--audit", "on", "--audit-db", db, "--platform", platform, "--",
	    prog_path("forensics"), "inline", "shellcode");
	cr_assert_eq(r.status, 0, "%s: status %d err %s", platform, r.status, r.err);
	cr_assert_str_eq(r.out, "inline=EPERM\nshellcode=EPERM\n", "%s", platform);
	run_result_free(&r);

	run_ja(&r, (const char *[]){"--db", db, "show", "1", "--decision", "denied", NULL});
	cr_assert_eq(r.status, 0, "%s: show: %d %s", platform, r.status, r.err);
	cr_assert(strstr(r.out, "  platform    "), "%s", r.out);
	cr_assert(strstr(r.out, platform), "%s", r.out);

	/* The inline call: made by try_mount (frame 0); the code marks the
	 * syscall instruction, in the program's file. (Its callers are not
	 * asserted: how far the unwinder gets depends on how the program was
	 * built, e.g. not past frame 0 in the sanitizer build.) */
	from = r.out;
	inline_ev = event_block(r.out, "denied   mount(", &from);
	cr_assert(inline_ev, "%s: no refused mount: %s", platform, r.out);
	cr_assert(strstr(inline_ev, "\n                     stack  #0  0x"), "%s: %s", platform,
		  inline_ev);
	cr_assert(strstr(inline_ev, " try_mount+0x"), "%s: %s", platform, inline_ev);
	cr_assert(strstr(inline_ev, "\n                     code   site 0x"), "%s: %s", platform,
		  inline_ev);
	cr_assert(strstr(inline_ev, "tests/progs/forensics+0x"), "%s: %s", platform, inline_ev);
	site = line_with(inline_ev, "=> 0x");
	cr_assert(site && strstr(site, ": syscall"), "%s: %s", platform, inline_ev);
	free(site);

	/* The call from raw bytes in an anonymous rwx mapping: shown as such,
	 * with the bytes that made it. */
	shell_ev = event_block(r.out, "denied   mount(", &from);
	cr_assert(shell_ev, "%s: no second refused mount: %s", platform, r.out);
	cr_assert(strstr(shell_ev, "[anonymous rwx] (not file-backed code: injected or generated "
				   "at run time)"),
		  "%s: %s", platform, shell_ev);
	cr_assert(strstr(shell_ev, "stack  #0  0x") && strstr(shell_ev, "?? [anonymous rwx]"),
		  "%s: %s", platform, shell_ev);
	cr_assert(strstr(shell_ev, ": mov eax, 0xa5"), "%s: %s", platform, shell_ev);
	site = line_with(shell_ev, "=> 0x");
	cr_assert(site && strstr(site, ": syscall"), "%s: %s", platform, shell_ev);
	free(site);
	free(inline_ev);
	free(shell_ev);
	run_result_free(&r);

	/* They are part of the chain. */
	run_ja(&r, (const char *[]){"--db", db, "verify", NULL});
	cr_assert_eq(r.status, 0, "%s: verify: %s %s", platform, r.out, r.err);
	run_result_free(&r);
	run_ja(&r, (const char *[]){"--db", db, "export", NULL});
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.out, "\"stack\":\"#0  0x") && strstr(r.out, "try_mount+0x"), "%s: %s",
		  platform, r.out);
	run_result_free(&r);
	rmtree(dir);
	free(dir);
}

Test(audit_unotify, a_refusals_stack_and_code_are_in_the_store_and_shown, .timeout = 60)
{
	forensics_in_the_store("unotify");
}

Test(audit_ptrace, a_refusals_stack_and_code_are_in_the_store_and_shown, .timeout = 60)
{
	forensics_in_the_store("ptrace");
}

static int count_lines_starting(const char *text, const char *prefix)
{
	int n = 0;

	for (const char *l = text; l && *l;) {
		if (strncmp(l, prefix, strlen(prefix)) == 0)
			n++;
		l = strchr(l, '\n');
		l = l ? l + 1 : NULL;
	}
	return n;
}

/* Event lines of `show` output (see event_block). */
static int count_event_lines(const char *text)
{
	int n = 0;

	for (const char *l = text; l && *l;) {
		const char *e = strchr(l, '\n');

		if ((!e || e - l > 8) && strncmp(l, "  ", 2) == 0 && l[7] >= '0' && l[7] <= '9')
			n++;
		l = e ? e + 1 : NULL;
	}
	return n;
}

Test(audit_ptrace, trace_records_every_call_of_python_in_the_store_readably, .timeout = 120)
{
	char *dir = make_tmpdir(), db[4200], want[64];
	struct run_result r, show;
	int logged;

	if (access("/usr/bin/python3", X_OK) != 0)
		cr_skip_test("no /usr/bin/python3");
	snprintf(db, sizeof(db), "%s/audit.db", dir);
	RUN(r, "--audit", "on", "--audit-db", db, "--trace", "--log-events", "--",
	    "/usr/bin/python3", "-c", "pass");
	cr_assert_eq(r.status, 0, "status %d err %.2000s", r.status, r.err);
	logged = count_lines_starting(r.err, "jhansi: [");
	cr_assert_gt(logged, 100, "%.3000s", r.err);

	run_ja(&show, (const char *[]){"--db", db, "show", "1", NULL});
	cr_assert_eq(show.status, 0, "%s", show.err);
	/* Every event the sentry reported is in the store, none lost. */
	snprintf(want, sizeof(want), "  events      %d recorded\n", logged);
	cr_assert(strstr(show.out, want), "want '%s' in %.3000s", want, show.out);
	cr_assert_null(strstr(show.out, "LOST"));
	cr_assert(strstr(show.out, "  platform    ptrace,"), "%.3000s", show.out);
	/* Readable: one line an event, decoded as --log-events shows them. */
	cr_assert_eq(count_event_lines(show.out), logged, "%.3000s", show.out);
	cr_assert(strstr(show.out, "passed   exit_group(0)"), "%.3000s", show.out);
	cr_assert(strstr(show.out, "O_RDONLY|O_CLOEXEC"), "%.3000s", show.out);
	cr_assert(strstr(show.out, "\"/usr/lib/python3"), "%.3000s", show.out);
	cr_assert(strstr(show.out, "= -1 ENOENT (No such file or directory)"), "%.3000s", show.out);
	/* mediated calls are recorded once, as what the sentry did */
	cr_assert(strstr(show.out, "] emulated newfstatat("), "%.3000s", show.out);
	cr_assert(strstr(show.out, "] emulated openat(AT_FDCWD, "), "%.3000s", show.out);
	run_result_free(&show);
	run_ja(&show, (const char *[]){"--db", db, "verify", NULL});
	cr_assert_eq(show.status, 0, "%s %s", show.out, show.err);
	run_result_free(&show);
	run_result_free(&r);
	rmtree(dir);
	free(dir);
}
