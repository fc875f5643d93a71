/* The sandbox's environment: a minimal set (PATH, HOME, LANG, TERM, TZ, USER,
 * TMPDIR) plus what the user passes by name with --env. The caller's other
 * variables, where API keys live, never enter unless named. Pure. */
#include "sentry/sentry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

static const char *env_lookup(char *const *envp, const char *name, size_t nlen)
{
	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, nlen) == 0 && (*envp)[nlen] == '=')
			return *envp + nlen + 1;
	return NULL;
}

static bool valid_name(const char *s, size_t n)
{
	if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

int jh_sentry_env_check(const char *spec)
{
	const char *eq = strchr(spec, '=');
	size_t n = eq ? (size_t)(eq - spec) : strlen(spec);

	return valid_name(spec, n) ? 0 : -EINVAL;
}

/* Sets name=value in env (replacing an earlier entry). */
static int env_set(char **env, size_t *n, size_t cap, const char *name, size_t nlen,
		   const char *value)
{
	char *entry;
	size_t i;

	if (asprintf(&entry, "%.*s=%s", (int)nlen, name, value) < 0)
		return -ENOMEM;
	for (i = 0; i < *n; i++)
		if (strncmp(env[i], name, nlen) == 0 && env[i][nlen] == '=')
			break;
	if (i < *n) {
		free(env[i]);
		env[i] = entry;
		return 0;
	}
	if (*n + 1 >= cap) {
		free(entry);
		return -E2BIG;
	}
	env[(*n)++] = entry;
	env[*n] = NULL;
	return 0;
}

void jh_sentry_env_free(char **env)
{
	for (char **e = env; e && *e; e++)
		free(*e);
	free(env);
}

int jh_sentry_build_env(char *const *caller, const char *const *pass, const char *home,
			const char *user, char ***ret)
{
	static const char *const keep[] = {"PATH", "LANG", "TERM", "TZ", "TMPDIR"};
	size_t npass = 0, n = 0, cap;
	char **env;
	int r = 0;

	for (const char *const *p = pass; p && *p; p++)
		npass++;
	cap = JH_ARRAY_SIZE(keep) + 2 + npass + 1;
	env = calloc(cap, sizeof(char *));
	if (!env)
		return -ENOMEM;

	for (size_t i = 0; i < JH_ARRAY_SIZE(keep) && r >= 0; i++) {
		const char *v = env_lookup(caller, keep[i], strlen(keep[i]));
		if (!v && strcmp(keep[i], "PATH") == 0)
			v = DEFAULT_PATH;
		if (!v && strcmp(keep[i], "TMPDIR") == 0)
			v = "/tmp";
		if (v)
			r = env_set(env, &n, cap, keep[i], strlen(keep[i]), v);
	}
	if (r >= 0 && home)
		r = env_set(env, &n, cap, "HOME", 4, home);
	if (r >= 0 && user)
		r = env_set(env, &n, cap, "USER", 4, user);
	for (const char *const *p = pass; p && *p && r >= 0; p++) {
		const char *eq = strchr(*p, '=');
		size_t nlen = eq ? (size_t)(eq - *p) : strlen(*p);

		if (!valid_name(*p, nlen)) {
			r = -EINVAL;
			break;
		}
		if (eq)
			r = env_set(env, &n, cap, *p, nlen, eq + 1);
		else {
			/* --env NAME passes the caller's value; absent stays absent */
			const char *v = env_lookup(caller, *p, nlen);
			if (v)
				r = env_set(env, &n, cap, *p, nlen, v);
		}
	}
	if (r < 0) {
		jh_sentry_env_free(env);
		return r;
	}
	*ret = env;
	return 0;
}
