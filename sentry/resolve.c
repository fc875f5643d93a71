/* Command lookup, as execvp(3) does it but before anything is started, so that
 * "not found" (127) and "not executable" (126) are told apart with a clear
 * message and the run record can name the executable that ran. */
#include "sentry/sentry.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/macro.h"

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

static const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/* 0 if `path` is a regular file we may execute; -EACCES/-ENOENT otherwise. */
static int check_exec(const char *path)
{
	struct stat st;

	/* A PATH directory we may not search hides nothing we could run: that is
	 * "not found", not "not executable". */
	if (stat(path, &st) < 0)
		return -ENOENT;
	if (S_ISDIR(st.st_mode))
		return -EACCES;
	if (access(path, X_OK) < 0)
		return -EACCES;
	return 0;
}

int jh_sentry_resolve_command(const char *name, char *const *envp, char **ret)
{
	const char *path, *p;
	size_t nlen;
	int best = -ENOENT;

	if (!name || !*name)
		return -ENOENT;
	nlen = strlen(name);
	if (nlen >= PATH_MAX)
		return -ENAMETOOLONG;
	if (strchr(name, '/')) {
		int r = check_exec(name);
		char *s;
		if (r < 0)
			return r;
		s = strdup(name);
		if (!s)
			return -ENOMEM;
		*ret = s;
		return 0;
	}
	path = env_get(envp, "PATH");
	if (!path)
		path = DEFAULT_PATH;
	for (p = path;; p++) {
		const char *end = strchrnul(p, ':');
		size_t dlen = (size_t)(end - p);
		_cleanup_free_ char *cand = NULL;
		int r;

		/* An empty element means the current directory, as in POSIX. */
		if (asprintf(&cand, "%.*s%s%s", (int)dlen, p, dlen ? "/" : "./", name) < 0)
			return -ENOMEM;
		r = check_exec(cand);
		if (r == 0) {
			*ret = TAKE_PTR(cand);
			return 0;
		}
		if (r == -EACCES)
			best = -EACCES;
		if (!*end)
			break;
		p = end;
	}
	return best;
}
