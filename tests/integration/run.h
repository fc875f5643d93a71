/* Helpers for integration tests: run a program, capture its output and status. */
#ifndef JH_TESTS_RUN_H
#define JH_TESTS_RUN_H

#include <stdbool.h>
#include <sys/types.h>

struct run_result {
	int status;   /* exit code, or 128+signal */
	char *out;    /* stdout, NUL-terminated, malloc'd */
	char *err;    /* stderr */
};

/* Runs argv (argv[0] a path) with stdin from /dev/null; waits for it. */
int run_argv(const char *const *argv, struct run_result *ret);
/* Runs jhansi-exec with `args` (NULL-terminated) appended. */
int run_jx(struct run_result *ret, const char *first, ...);
/* Runs `sh -c cmd` natively. */
int run_native_sh(const char *cmd, struct run_result *ret);
void run_result_free(struct run_result *r);
/* Path of a test program built in tests/progs. */
const char *prog_path(const char *name);
/* A fresh temporary directory, removed by rmtree() at the end of the test. */
char *make_tmpdir(void);
/* A fresh state directory (0755) set as $JHANSI_STATE_DIR; rmtree() it after. */
char *state_dir_setup(void);
/* Could a process like jhansi-exec unshare(`flags`) here — not root: in a user
 * namespace of its own? Tried in a forked child. */
bool host_allows_unshare(int flags);
void rmtree(const char *dir);

/* Skips the current test for `reason` (a missing kernel feature, a missing
 * tool) — or fails it when JH_MUST_WORK=1 is set, as CI does, so that a green
 * CI cannot hide a layer that did not run. */
#define JH_SKIP_OR_FAIL(...)                                                                       \
	do {                                                                                       \
		const char *must_ = getenv("JH_MUST_WORK");                                        \
		if (must_ && *must_ && *must_ != '0')                                              \
			cr_fail("required but unavailable (JH_MUST_WORK): " __VA_ARGS__);          \
		else                                                                               \
			cr_skip_test(__VA_ARGS__);                                                 \
	} while (0)

#endif
