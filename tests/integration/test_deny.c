/* Security tests of the foundation: refused syscalls, foreign ABIs, races. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "run.h"

#define RUN(r, ...) cr_assert_eq(run_jx(&(r), __VA_ARGS__, NULL), 0, "spawning jhansi-exec failed")

static void expect(const char *test, const char *result)
{
	struct run_result r;
	char want[256];

	RUN(r, "--", prog_path("try-syscall"), test);
	snprintf(want, sizeof(want), "%s=%s\n", test, result);
	cr_assert_eq(r.status, 0, "%s: status %d, stderr %s", test, r.status, r.err);
	cr_assert_str_eq(r.out, want, "%s", test);
	run_result_free(&r);
}

Test(deny, namespace_mount_and_kernel_interfaces_get_eperm)
{
	static const char *const eperm[] = {
		"mount",	  "umount2",	 "unshare-user", "unshare-net", "setns",
		"bpf",		  "io_uring_setup", "keyctl",	"add_key",	"perf_event_open",
		"userfaultfd",	  "ptrace",	 "pivot_root",	 "chroot",	"open_by_handle_at",
		"init_module",	  "kexec_load",	 "sethostname",	 "fsopen",	"clone-newuser",
		"personality-exec", "personality-hidden", "seccomp-listener",
	};
	for (size_t i = 0; i < sizeof(eperm) / sizeof(eperm[0]); i++)
		expect(eperm[i], "EPERM");
}

Test(deny, clone3_is_enosys_so_libc_falls_back)
{
	expect("clone3", "ENOSYS");
}

Test(deny, unknown_syscall_numbers_are_enosys)
{
	expect("unknown-nr", "ENOSYS");
}

Test(deny, tiocsti_is_refused_even_with_garbage_upper_bits)
{
	expect("tiocsti", "EPERM");
	expect("tiocsti-hidden", "EPERM");
	/* other ioctls still pass: stdin is /dev/null, so TCGETS gives ENOTTY */
	expect("tcgets", "ENOTTY");
}

Test(deny, harmless_forms_pass)
{
	expect("personality-query", "OK");
	expect("getppid", "OK");
}

Test(deny, uname_with_a_bad_pointer_is_efault)
{
	expect("uname-bad", "EFAULT");
}

Test(deny, refusals_are_reported_decoded_with_log_events)
{
	struct run_result r;

	/* (not unshare: under a host that denies namespaces, as the no-namespaces
	 * run does, the host's own filter refuses it before the sentry sees it) */
	RUN(r, "--log-events", "--", prog_path("try-syscall"), "mount", "bpf");
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.err, "denied") && strstr(r.err, "mount("), "stderr: %s", r.err);
	cr_assert(strstr(r.err, "EPERM"), "stderr: %s", r.err);
	cr_assert(strstr(r.err, "bpf(0, 0x1, 64)"), "stderr: %s", r.err);
	run_result_free(&r);
}

Test(deny, int80_kills_the_task_and_is_reported)
{
	struct run_result r;

#if !defined(__x86_64__)
	cr_skip_test("x86_64 only"); /* an architecture fact, not a missing layer */
#endif
	RUN(r, "--log-events", "--", prog_path("foreign-abi"), "int80");
	cr_assert_eq(r.status, 128 + 31, "status %d out %s", r.status, r.out);
	cr_assert_null(strstr(r.out, "survived"));
	cr_assert(strstr(r.err, "killed"), "stderr: %s", r.err);
	run_result_free(&r);
}

Test(deny, x32_syscalls_kill_the_task)
{
	struct run_result r;

#if !defined(__x86_64__)
	cr_skip_test("x86_64 only"); /* an architecture fact, not a missing layer */
#endif
	RUN(r, "--", prog_path("foreign-abi"), "x32");
	cr_assert_eq(r.status, 128 + 31, "status %d out %s", r.status, r.out);
	cr_assert_null(strstr(r.out, "survived"));
	run_result_free(&r);
}

Test(deny, eight_threads_racing_denied_emulated_and_passed_calls, .timeout = 120)
{
	for (int round = 0; round < 5; round++) {
		struct run_result r;

		RUN(r, "--", prog_path("race"));
		cr_assert_eq(r.status, 0, "round %d: status %d out %s err %s", round, r.status,
			     r.out, r.err);
		run_result_free(&r);
	}
}
