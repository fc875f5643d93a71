/* Integration test helpers: spawn with pipes, collect stdout/stderr, wait. */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void append(char **buf, size_t *len, const char *data, size_t n)
{
	char *b = realloc(*buf, *len + n + 1);
	if (!b)
		abort();
	memcpy(b + *len, data, n);
	*len += n;
	b[*len] = '\0';
	*buf = b;
}

int run_argv(const char *const *argv, struct run_result *ret)
{
	int outp[2], errp[2];
	posix_spawn_file_actions_t fa;
	size_t olen = 0, elen = 0;
	pid_t pid;
	int st, open_fds = 2;

	memset(ret, 0, sizeof(*ret));
	ret->out = calloc(1, 1);
	ret->err = calloc(1, 1);
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	if (posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ) != 0)
		return -errno;
	posix_spawn_file_actions_destroy(&fa);
	close(outp[1]);
	close(errp[1]);
	while (open_fds > 0) {
		struct pollfd pfd[2] = {{outp[0], POLLIN, 0}, {errp[0], POLLIN, 0}};
		char buf[4096];
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			ssize_t n;
			if (!(pfd[i].revents & (POLLIN | POLLHUP)) || pfd[i].fd < 0)
				continue;
			n = read(pfd[i].fd, buf, sizeof(buf));
			if (n <= 0) {
				close(i == 0 ? outp[0] : errp[0]);
				if (i == 0)
					outp[0] = -1;
				else
					errp[0] = -1;
				open_fds--;
				continue;
			}
			if (i == 0)
				append(&ret->out, &olen, buf, (size_t)n);
			else
				append(&ret->err, &elen, buf, (size_t)n);
		}
	}
	if (waitpid(pid, &st, 0) != pid)
		return -errno;
	ret->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}

int run_jx(struct run_result *ret, const char *first, ...)
{
	const char *argv[64];
	int n = 0;
	va_list ap;

	argv[n++] = JX_PATH;
	va_start(ap, first);
	for (const char *a = first; a && n < 63; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return run_argv(argv, ret);
}

int run_native_sh(const char *cmd, struct run_result *ret)
{
	const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	return run_argv(argv, ret);
}

void run_result_free(struct run_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

const char *prog_path(const char *name)
{
	static __thread char buf[4096];
	snprintf(buf, sizeof(buf), "%s/%s", PROGS_DIR, name);
	return buf;
}

char *make_tmpdir(void)
{
	char *d = strdup("/tmp/jhansi-test-XXXXXX");
	if (!d || !mkdtemp(d))
		abort();
	/* Started as root, the sandbox runs as uid 65534: let it work here. */
	if (chmod(d, 01777) < 0)
		abort();
	return d;
}

char *state_dir_setup(void)
{
	char *d = make_tmpdir();

	if (chmod(d, 0755) < 0 || setenv("JHANSI_STATE_DIR", d, 1) < 0)
		abort();
	return d;
}

bool host_allows_unshare(int flags)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		abort();
	if (pid == 0) {
		if (geteuid() != 0 && unshare(CLONE_NEWUSER) < 0)
			_exit(1);
		_exit(unshare(flags) == 0 ? 0 : 1);
	}
	if (waitpid(pid, &st, 0) != pid)
		abort();
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

void rmtree(const char *dir)
{
	const char *argv[] = {"/bin/rm", "-rf", "--", dir, NULL};
	struct run_result r;
	if (strncmp(dir, "/tmp/jhansi-test-", 17) != 0)
		abort(); /* never remove anything else */
	run_argv(argv, &r);
	run_result_free(&r);
}
