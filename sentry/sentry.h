/* The sentry: the emulated kernel between the sandboxed task tree and the host.
 *
 * jh_sentry_run() starts a command under a platform backend, services every
 * intercepted syscall through a table from syscall number to handler, reports
 * each emulated or refused call to the configured event sink, and returns how
 * the run ended. Handlers live in files by class (ident.c, deny.c, proc.c ...).
 */
#ifndef JH_SENTRY_SENTRY_H
#define JH_SENTRY_SENTRY_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "abi/abi.h"
#include "audit/event.h"
#include "gofer/gofer.h"
#include "platform/platform.h"

#define JH_DEFAULT_HOSTNAME "jhansi"

struct jh_net_policy;
struct jh_fs_config;

struct jh_sentry_config {
	const struct jh_platform_ops *platform; /* NULL: unotify */
	const char *hostname;                   /* uname nodename; NULL: JH_DEFAULT_HOSTNAME */
	struct jh_sink sink;                    /* where events go; ops NULL: nowhere */
	int64_t timeout_ms;                     /* > 0: kill the tree after this long */
	const struct jh_rlimit *rlimits;        /* applied to the first task */
	size_t nrlimits;
	unsigned layers;                        /* JH_LAYER_* namespaces to enter where allowed */
	bool drop_ids;                          /* run the tasks as uid/gid (started as root) */
	uid_t uid;
	gid_t gid;
	bool trace; /* full trace (ptrace platform only, else -EOPNOTSUPP): every call of
		     * every task becomes an event, passed ones as JH_DECISION_PASSED */
	struct jh_net_policy *net; /* network policy (sentry/netpolicy.h), pins added during
				    * the run; NULL: no network */
	const struct jh_fs_config *fs; /* view, workspace, quota (sentry/fs.h); NULL: the
					* default view without a workspace */
	/* Called once the gofer and the first task are forked, before any
	 * thread of the sentry starts: where the caller starts threads of its
	 * own. Forking from a multi-threaded process leaves the child with
	 * whatever locks the other threads held (ASan's allocator, for one). A
	 * negative return ends the run with that error. */
	int (*spawned)(void *ctx);
	void *spawned_ctx;
};

struct jh_sentry_command {
	const char *path; /* resolved executable (see jh_sentry_resolve_command) */
	char *const *argv;
	char *const *envp;
	const char *cwd;  /* NULL: inherited */
};

struct jh_sentry_stats {
	uint64_t count[JH_CLASS_COUNT][JH_DECISION_COUNT];
};

struct jh_run_result {
	struct jh_exit exit;
	unsigned features; /* JH_FEAT_* of the platform instance */
	int sentry_error;  /* != 0: the sentry failed mid-run (-errno) and killed the sandbox */
	struct jh_sentry_stats stats;
	struct jh_changes changes; /* workspace files the run created, changed, deleted
				    * (free with jh_changes_free) */
};

/* The signals jhansi-exec forwards to the sandbox. The caller must block them
 * (and SIGCHLD) in every thread before any thread is created: call
 * jh_sentry_block_signals() first thing in main(). */
void jh_sentry_forwarded_signals(sigset_t *ret);
int jh_sentry_block_signals(void);

/* Runs `cmd` in the sandbox and waits for the whole task tree to end. Returns 0
 * with *ret filled whenever the command was started (look at ret->exit), or
 * -errno if the sandbox could not be set up (nothing ran). */
int jh_sentry_run(const struct jh_sentry_config *cfg, const struct jh_sentry_command *cmd,
		  struct jh_run_result *ret);

/* Resolves `name` as execvp(3) would, with the PATH from `envp` (or a default
 * PATH): a name containing '/' is taken as is. Returns a malloc'd path in
 * *ret; -ENOENT if not found; -EACCES if found but not executable. */
int jh_sentry_resolve_command(const char *name, char *const *envp, char **ret);

/* Builds the sandbox's environment: PATH (default if the caller has none),
 * LANG, TERM, TZ, TMPDIR (default /tmp) from `caller`; HOME and USER as given
 * (NULL: absent); then each entry of `pass` (NULL-terminated, may be NULL):
 * "NAME=VALUE" sets, "NAME" copies the caller's value if it has one. -EINVAL
 * for an invalid name. *ret is a NULL-terminated malloc'd array; free it with
 * jh_sentry_env_free(). */
int jh_sentry_build_env(char *const *caller, const char *const *pass, const char *home,
			const char *user, char ***ret);
void jh_sentry_env_free(char **env);
/* 0 if `spec` ("NAME" or "NAME=VALUE") has a valid variable name, else -EINVAL. */
int jh_sentry_env_check(const char *spec);

/* Prints the fate table by class (what passes, what is emulated, what is refused). */
void jh_sentry_explain_fates(FILE *out);

/* Builds the seccomp filter spec: pass → allow, emulate and deny → intercept,
 * plus the argument fast paths (clone without namespace flags, personality
 * queries, seccomp without a listener, ioctl other than TIOCSTI/TIOCLINUX).
 * Pure; the result is malloc'd (free ret->rules). */
int jh_sentry_filter_spec(struct jh_filter_spec *ret);
void jh_sentry_filter_spec_free(struct jh_filter_spec *spec);

#endif
