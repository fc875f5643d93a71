/* Platform tests: the filter compiler and the memory readers, run against a
 * real sandboxed program. Written once over the platform ops table, so a new
 * backend is added to `backends` and runs the same bodies. Filters are only
 * installed in forked children (never in Criterion's worker). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "platform/platform.h"

static const char *const backends[] = {"unotify", "ptrace"};

/* A spec allowing every known syscall but those in `intercept`. */
static struct jh_filter_rule *allow_all_but(const char *const *intercept, size_t n,
					    size_t *ret_n)
{
	enum jh_arch arch = jh_abi_native_arch();
	struct jh_filter_rule *rules = calloc(jh_abi_syscall_count(arch), sizeof(*rules));
	size_t k = 0;

	for (size_t i = 0; i < jh_abi_syscall_count(arch); i++) {
		const struct jh_syscall_info *info = jh_abi_syscall_at(arch, i);
		bool skip = false;
		for (size_t j = 0; j < n; j++)
			skip |= strcmp(info->name, intercept[j]) == 0;
		if (!skip)
			rules[k++] = (struct jh_filter_rule){
				.nr = info->nr, .action = JH_FILTER_ALLOW, .arg = -1};
	}
	*ret_n = k;
	return rules;
}

/* Installs `spec` in a forked child without a listener (intercepted calls then
 * fail with ENOSYS) and runs `body`; returns the child's wait status. */
static int in_filtered_child(const struct jh_filter_spec *spec, int (*body)(void))
{
	void *prog;
	size_t len;
	pid_t pid;
	int st;

	cr_assert_eq(jh_filter_compile(spec, &prog, &len), 0);
	cr_assert(len > 0 && len <= 4096, "program of %zu instructions", len);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct sock_fprog fp = {.len = (unsigned short)len, .filter = prog};
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0)
			_exit(100);
		_exit(body());
	}
	free(prog);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return st;
}

static int body_uname_intercepted(void)
{
	struct utsname u;
	if (syscall(SYS_getppid) <= 0)
		return 1;
	if (uname(&u) == 0 || errno != ENOSYS) /* intercepted, no listener: ENOSYS */
		return 2;
	if (syscall(SYS_uname, NULL) == 0 || errno != ENOSYS)
		return 3;
	return 0;
}

Test(filter, passes_allowed_and_intercepts_the_rest)
{
	static const char *const intercept[] = {"uname"};
	size_t n;
	struct jh_filter_rule *rules = allow_all_but(intercept, 1, &n);
	struct jh_filter_spec spec = {.rules = rules, .nrules = n};
	int st = in_filtered_child(&spec, body_uname_intercepted);

	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
	free(rules);
}

static int body_errno_rule(void)
{
	if (syscall(SYS_getppid) != -1 || errno != EXDEV)
		return 1;
	return 0;
}

Test(filter, errno_rules_refuse_in_kernel)
{
	static const char *const intercept[] = {"getppid"};
	size_t n;
	struct jh_filter_rule *rules = allow_all_but(intercept, 1, &n);
	struct jh_filter_rule *more = realloc(rules, (n + 1) * sizeof(*rules));
	struct jh_filter_spec spec;
	int st;

	cr_assert(more);
	more[n] = (struct jh_filter_rule){
		.nr = jh_abi_syscall_by_name(jh_abi_native_arch(), "getppid")->nr,
		.action = JH_FILTER_ERRNO,
		.err = EXDEV,
		.arg = -1};
	spec = (struct jh_filter_spec){.rules = more, .nrules = n + 1};
	st = in_filtered_child(&spec, body_errno_rule);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
	free(more);
}

static int body_masked(void)
{
	/* allowed only when arg0's low 8 bits are 0x2a */
	if (syscall(SYS_getpriority, 0x12a, 0) == -1 && errno == ENOSYS)
		return 1;
	if (syscall(SYS_getpriority, 0x12b, 0) != -1 || errno != ENOSYS)
		return 2;
	return 0;
}

Test(filter, masked_argument_rules)
{
	static const char *const intercept[] = {"getpriority"};
	size_t n;
	struct jh_filter_rule *rules = allow_all_but(intercept, 1, &n);
	struct jh_filter_rule *more = realloc(rules, (n + 1) * sizeof(*rules));
	struct jh_filter_spec spec;
	int st;

	cr_assert(more);
	more[n] = (struct jh_filter_rule){
		.nr = jh_abi_syscall_by_name(jh_abi_native_arch(), "getpriority")->nr,
		.action = JH_FILTER_ALLOW,
		.arg = 0,
		.mask = 0xff,
		.value = 0x2a};
	spec = (struct jh_filter_spec){.rules = more, .nrules = n + 1};
	st = in_filtered_child(&spec, body_masked);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
	free(more);
}

#if defined(__x86_64__)
static int body_int80(void)
{
	long ret, nr = 20;
	__asm__ volatile("int $0x80" : "=a"(ret) : "0"(nr) : "memory");
	return 0;
}

static int body_x32(void)
{
	long ret, nr = 0x40000000L | 39;
	__asm__ volatile("syscall" : "=a"(ret) : "0"(nr) : "rcx", "r11", "memory");
	return 0;
}

Test(filter, foreign_abis_kill_the_process)
{
	size_t n;
	struct jh_filter_rule *rules = allow_all_but(NULL, 0, &n);
	struct jh_filter_spec spec = {.rules = rules, .nrules = n};
	int st = in_filtered_child(&spec, body_int80);

	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "int 0x80: status 0x%x", st);
	st = in_filtered_child(&spec, body_x32);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "x32: status 0x%x", st);
	free(rules);
}
#endif

Test(filter, rejects_invalid_rules)
{
	struct jh_filter_rule bad[] = {{.nr = 0, .action = JH_FILTER_ERRNO, .err = 0, .arg = -1}};
	struct jh_filter_rule badarg[] = {{.nr = 0, .action = JH_FILTER_ALLOW, .arg = 6}};
	struct jh_filter_spec spec = {.rules = bad, .nrules = 1};
	void *prog = NULL;
	size_t len;

	cr_assert_lt(jh_filter_compile(&spec, &prog, &len), 0);
	spec.rules = badarg;
	cr_assert_lt(jh_filter_compile(&spec, &prog, &len), 0);
}

/* --- Memory readers, on a real sandboxed program (tests/progs/strings.c) --- */

struct loop_ctx {
	const struct jh_platform_ops *ops;
	struct jh_platform *p;
	int served;
};

static void *serve(void *arg)
{
	struct loop_ctx *c = arg;
	char buf[4096];

	for (;;) {
		struct jh_syscall sc;
		int r = c->ops->next(c->p, &sc);
		if (r == -EINTR)
			break;
		if (r < 0)
			break;
		r = c->ops->read_string(c->p, &sc, buf, sizeof(buf), sc.args[1]);
		/* answer the length read, or the error, so the program prints it */
		c->ops->answer(c->p, &sc, r < 0 ? -1 : r, r < 0 ? -r : 0);
		c->served++;
	}
	return NULL;
}

ParameterizedTestParameters(platform, string_reader_handles_hostile_memory)
{
	/* Indexes into backends[]: pointers do not survive Criterion's worker spawn. */
	static int idx[sizeof(backends) / sizeof(backends[0])];
	for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++)
		idx[i] = (int)i;
	return cr_make_param_array(int, idx, sizeof(idx) / sizeof(idx[0]));
}

ParameterizedTest(int *backend, platform, string_reader_handles_hostile_memory)
{
	const struct jh_platform_ops *ops = jh_platform_by_name(backends[*backend]);
	static const char *const intercept[] = {"mkdirat"};
	struct loop_ctx ctx = {.ops = ops};
	char *argv[] = {PROGS_DIR "/strings", NULL};
	char *envp[] = {NULL};
	int outp[2], saved;
	char out[1024] = "";
	struct jh_exit ex;
	sigset_t fwd, block;
	pthread_t th;
	size_t n;
	pid_t pid;
	ssize_t got;
	struct jh_filter_rule *rules = allow_all_but(intercept, 1, &n);
	struct jh_filter_spec spec = {.rules = rules, .nrules = n};
	struct jh_spawn_spec sp = {.path = argv[0], .argv = argv, .envp = envp, .filter = &spec};

	cr_assert(ops);
	sigemptyset(&fwd);
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &block, NULL);
	cr_assert_eq(pipe(outp), 0);
	saved = dup(1);
	dup2(outp[1], 1);
	close(outp[1]);
	cr_assert_eq(ops->create(&ctx.p), 0);
	cr_assert_eq(ops->spawn(ctx.p, &sp, &pid), 0);
	dup2(saved, 1);
	close(saved);
	cr_assert_eq(pthread_create(&th, NULL, serve, &ctx), 0);
	cr_assert_eq(ops->supervise(ctx.p, &fwd, &ex), 0);
	do {
		ops->wake(ctx.p);
	} while (pthread_tryjoin_np(th, NULL) != 0 && usleep(10000) == 0);
	got = read(outp[0], out, sizeof(out) - 1);
	out[got > 0 ? got : 0] = '\0';
	close(outp[0]);
	ops->destroy(ctx.p);
	free(rules);

	cr_assert(WIFEXITED(ex.wait_status) && WEXITSTATUS(ex.wait_status) == 0,
		  "status 0x%x", ex.wait_status);
	cr_assert_eq(ctx.served, 5);
	cr_assert_str_eq(out, "at-guard=3\n"
			      "into-guard=-14\n"     /* EFAULT */
			      "too-long=-36\n"       /* ENAMETOOLONG */
			      "max=4095\n"
			      "null=-14\n");
}
