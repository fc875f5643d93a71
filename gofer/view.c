/* The view's mount table: building it (defaults, --ro/--rw/--hide, policy
 * files) and querying it by view path. Queries compare view paths, which are
 * names the table itself defines: which file a name reaches inside an entry is
 * always decided by the kernel on the entry's held directory fd (see vfs.c). */
#include "gofer/view.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"

static const char *const kind_names[JH_MOUNT_KIND_COUNT] = {
	[JH_MOUNT_RO] = "ro",	  [JH_MOUNT_RW] = "rw",	    [JH_MOUNT_HIDE] = "hide",
	[JH_MOUNT_DEV] = "dev",	  [JH_MOUNT_PROC] = "proc", [JH_MOUNT_SKEL] = "skel",
};

const char *jh_mount_kind_name(enum jh_mount_kind k)
{
	return k < JH_MOUNT_KIND_COUNT ? kind_names[k] : "?";
}

int jh_view_normalize(const char *in, char *out, size_t cap)
{
	size_t o = 0;
	const char *s = in;

	if (!in || in[0] != '/' || cap < 2)
		return -EINVAL;
	while (*s) {
		const char *e;
		size_t len;

		while (*s == '/')
			s++;
		if (!*s)
			break;
		e = strchrnul(s, '/');
		len = (size_t)(e - s);
		if (len == 1 && s[0] == '.') {
			s = e;
			continue;
		}
		if (len == 2 && s[0] == '.' && s[1] == '.')
			return -EINVAL;
		if (o + 1 + len + 1 > cap)
			return -EINVAL;
		out[o++] = '/';
		memcpy(out + o, s, len);
		o += len;
		s = e;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return (int)o;
}

int jh_view_set(struct jh_view *v, const char *path, const char *host, enum jh_mount_kind kind)
{
	char norm[PATH_MAX];
	int len = jh_view_normalize(path, norm, sizeof(norm));
	_cleanup_free_ char *p = NULL, *h = NULL;
	int i;

	if (len < 0 || kind >= JH_MOUNT_KIND_COUNT)
		return -EINVAL;
	p = strdup(norm);
	h = strdup(host ? host : norm);
	if (!p || !h)
		return -ENOMEM;
	v->finished = false;
	i = jh_view_find(v, norm, (size_t)len);
	if (i >= 0) {
		free(v->m[i].path);
		free(v->m[i].host);
		v->m[i] = (struct jh_mount){TAKE_PTR(p), TAKE_PTR(h), kind};
		return 0;
	}
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 32;
		struct jh_mount *m = realloc(v->m, cap * sizeof(*m));
		if (!m)
			return -ENOMEM;
		v->m = m;
		v->cap = cap;
	}
	v->m[v->n++] = (struct jh_mount){TAKE_PTR(p), TAKE_PTR(h), kind};
	return 0;
}

static int defaults(struct jh_view *v, const char *workspace, const char *tmpdir, bool mountns)
{
	static const char *const ro[] = {"/usr", "/bin",  "/sbin",   "/lib",
					 "/lib32", "/lib64", "/libx32", "/etc",
					 "/sys/devices/system/cpu"};
	/* Secrets under /etc: password hashes, sudo rules, private keys. */
	static const char *const hide[] = {
		"/etc/shadow",	"/etc/shadow-", "/etc/gshadow",		 "/etc/gshadow-",
		"/etc/sudoers", "/etc/sudoers.d", "/etc/security/opasswd", "/etc/ssl/private",
	};
	static const char *const dev[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random",
					  "/dev/urandom", "/dev/tty", "/dev/pts", "/dev/fd",
					  "/dev/stdin", "/dev/stdout", "/dev/stderr"};
	DIR *d;
	int r;

	for (size_t i = 0; i < JH_ARRAY_SIZE(ro); i++)
		if ((r = jh_view_set(v, ro[i], NULL, JH_MOUNT_RO)) < 0)
			return r;
	for (size_t i = 0; i < JH_ARRAY_SIZE(hide); i++)
		if ((r = jh_view_set(v, hide[i], NULL, JH_MOUNT_HIDE)) < 0)
			return r;
	/* ssh host keys: /etc/ssh/ssh_host_*_key (and .pub, harmless but hidden too). */
	d = opendir("/etc/ssh");
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			char p[PATH_MAX];
			if (strncmp(de->d_name, "ssh_host_", 9) != 0)
				continue;
			snprintf(p, sizeof(p), "/etc/ssh/%s", de->d_name);
			if ((r = jh_view_set(v, p, NULL, JH_MOUNT_HIDE)) < 0) {
				closedir(d);
				return r;
			}
		}
		closedir(d);
	}
	for (size_t i = 0; i < JH_ARRAY_SIZE(dev); i++)
		if ((r = jh_view_set(v, dev[i], NULL, JH_MOUNT_DEV)) < 0)
			return r;
	if ((r = jh_view_set(v, "/proc", NULL, JH_MOUNT_PROC)) < 0)
		return r;
	if (tmpdir) {
		if ((r = jh_view_set(v, "/tmp", tmpdir, JH_MOUNT_RW)) < 0)
			return r;
		/* At its host path too, where the host's names are the task's. */
		if (!mountns && (r = jh_view_set(v, tmpdir, NULL, JH_MOUNT_RW)) < 0)
			return r;
	}
	if (workspace &&
	    (r = jh_view_set(v, mountns ? JH_VIEW_WORKSPACE : workspace, workspace, JH_MOUNT_RW)) < 0)
		return r;
	return 0;
}

int jh_view_defaults(struct jh_view *v, const char *workspace, const char *tmpdir)
{
	return defaults(v, workspace, tmpdir, false);
}

int jh_view_defaults_mountns(struct jh_view *v, const char *workspace, const char *tmpdir)
{
	return defaults(v, workspace, tmpdir, true);
}

static int policy_paths(struct jh_view *v, json_t *root, const char *key, enum jh_mount_kind kind,
			const char *file, char *err, size_t errlen)
{
	json_t *arr = json_object_get(root, key), *it;
	size_t i;

	if (!arr)
		return 0;
	if (!json_is_array(arr)) {
		snprintf(err, errlen, "%s: \"%s\" must be an array of paths", file, key);
		return -EINVAL;
	}
	json_array_foreach(arr, i, it)
	{
		const char *s = json_string_value(it);
		char canon[PATH_MAX];
		int r;

		if (!s || s[0] != '/') {
			snprintf(err, errlen, "%s: \"%s\"[%zu] must be an absolute path", file, key, i);
			return -EINVAL;
		}
		if (kind != JH_MOUNT_HIDE) {
			if (!realpath(s, canon)) {
				snprintf(err, errlen, "%s: \"%s\"[%zu] '%s': %s", file, key, i, s,
					 strerror(errno));
				return -EINVAL;
			}
			s = canon;
		}
		r = jh_view_set(v, s, NULL, kind);
		if (r < 0) {
			snprintf(err, errlen, "%s: \"%s\"[%zu]: invalid path", file, key, i);
			return r;
		}
	}
	return 0;
}

int jh_view_load_policy(struct jh_view *v, const char *file, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_load_file(file, JSON_REJECT_DUPLICATES, &je);
	int r;

	if (!root) {
		snprintf(err, errlen, "%s:%d: %s", file, je.line, je.text);
		return -EINVAL;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen, "%s: the policy must be a JSON object", file);
		json_decref(root);
		return -EINVAL;
	}
	/* Keys of other parts of the policy (network, ...) are left to their owners. */
	r = policy_paths(v, root, "ro", JH_MOUNT_RO, file, err, errlen);
	if (r == 0)
		r = policy_paths(v, root, "rw", JH_MOUNT_RW, file, err, errlen);
	if (r == 0)
		r = policy_paths(v, root, "hide", JH_MOUNT_HIDE, file, err, errlen);
	json_decref(root);
	return r;
}

static int cmp_mount(const void *a, const void *b)
{
	return strcmp(((const struct jh_mount *)a)->path, ((const struct jh_mount *)b)->path);
}

int jh_view_finish(struct jh_view *v)
{
	size_t n = v->n;
	int r;

	if (jh_view_find(v, "/", 1) < 0 && (r = jh_view_set(v, "/", NULL, JH_MOUNT_SKEL)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		char anc[PATH_MAX];
		char *slash;

		if (v->m[i].kind == JH_MOUNT_HIDE)
			continue;
		snprintf(anc, sizeof(anc), "%s", v->m[i].path);
		while ((slash = strrchr(anc, '/')) && slash != anc) {
			const char *rest;
			int j;

			*slash = '\0';
			j = jh_view_longest(v, anc, &rest);
			/* Covered by a real entry at its host path (e.g. /usr/local under
			 * /usr): the walk gets there through real directories. Under an
			 * entry mapped elsewhere (/tmp -> a private directory) it needs
			 * skeleton passages. */
			if (j >= 0 && *rest && v->m[j].kind != JH_MOUNT_HIDE &&
			    v->m[j].kind != JH_MOUNT_SKEL && strcmp(v->m[j].path, v->m[j].host) == 0)
				break;
			if (j >= 0 && !*rest) {
				if (v->m[j].kind == JH_MOUNT_HIDE)
					v->m[j].kind = JH_MOUNT_SKEL;
				continue;
			}
			if ((r = jh_view_set(v, anc, NULL, JH_MOUNT_SKEL)) < 0)
				return r;
		}
	}
	if (v->n)
		qsort(v->m, v->n, sizeof(*v->m), cmp_mount);
	v->finished = true;
	return 0;
}

int jh_view_find(const struct jh_view *v, const char *path, size_t len)
{
	for (size_t i = 0; i < v->n; i++)
		if (strlen(v->m[i].path) == len && memcmp(v->m[i].path, path, len) == 0)
			return (int)i;
	return -1;
}

int jh_view_longest(const struct jh_view *v, const char *path, const char **ret_rest)
{
	int best = -1;
	size_t best_len = 0;

	for (size_t i = 0; i < v->n; i++) {
		const char *mp = v->m[i].path;
		size_t l = strlen(mp);

		if (l == 1) { /* "/" */
			if (best < 0) {
				best = (int)i;
				best_len = 0;
			}
			continue;
		}
		if (strncmp(path, mp, l) != 0 || (path[l] != '\0' && path[l] != '/'))
			continue;
		if (best < 0 || l > best_len) {
			best = (int)i;
			best_len = l;
		}
	}
	if (best >= 0 && ret_rest) {
		const char *r = path + best_len;
		while (*r == '/')
			r++;
		*ret_rest = r;
	}
	return best;
}

int jh_view_host_to_view(const struct jh_view *v, const char *host, char *out, size_t cap)
{
	size_t best_len = 0;
	int best = -1;

	for (size_t i = 0; i < v->n; i++) {
		const struct jh_mount *m = &v->m[i];
		size_t l = strlen(m->host);

		if ((m->kind != JH_MOUNT_RO && m->kind != JH_MOUNT_RW) ||
		    strcmp(m->path, m->host) == 0 || l <= best_len)
			continue;
		if (strncmp(host, m->host, l) == 0 && (host[l] == '\0' || host[l] == '/')) {
			best = (int)i;
			best_len = l;
		}
	}
	if (best < 0)
		return -ENOENT;
	if ((size_t)snprintf(out, cap, "%s%s", strcmp(v->m[best].path, "/") ? v->m[best].path : "",
			     host + best_len) >= cap)
		return -ENAMETOOLONG;
	return 0;
}

void jh_view_free(struct jh_view *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(v->m[i].path);
		free(v->m[i].host);
	}
	free(v->m);
	*v = (struct jh_view){0};
}
