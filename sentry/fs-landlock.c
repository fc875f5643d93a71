/* The view turned into Landlock path rules (see fs-landlock.h). The view
 * speaks of view paths mapped to host paths; Landlock rules are on host
 * objects. An allowed entry's host path is its own; a hidden entry or a
 * skeleton has no host object of its own (it is identity by construction),
 * so the object it would hide is found through the nearest entry above it
 * that maps somewhere (a hidden /tmp/x hides <private tmp>/x). An entry
 * mapped elsewhere also hides, in the same way, the host object its view path
 * would otherwise reach: with --ro /, the host's own /tmp is not the view's. */
#include "sentry/fs-landlock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"

static uint64_t access_of(enum jh_mount_kind k)
{
	switch (k) {
	case JH_MOUNT_RO:
		return JH_LL_ACCESS_RO;
	case JH_MOUNT_RW:
		return JH_LL_ACCESS_RW;
	case JH_MOUNT_DEV:
		return JH_LL_ACCESS_DEV;
	case JH_MOUNT_PROC:
		return JH_LL_ACCESS_PROC;
	case JH_MOUNT_HIDE:
	case JH_MOUNT_SKEL:
	case JH_MOUNT_KIND_COUNT:
		break;
	}
	return 0;
}

/* The host path a view entry without access stands for: beneath the longest
 * entry above it that grants something, mapped as that entry is. */
static char *hole_host(const struct jh_view *v, size_t i)
{
	const char *path = v->m[i].path;
	size_t best_len = 0;
	int best = -1;

	for (size_t j = 0; j < v->n; j++) {
		const char *p = v->m[j].path;
		size_t l = strcmp(p, "/") ? strlen(p) : 0; /* "/" is above everything */

		if (j == i || !access_of(v->m[j].kind) || (best >= 0 && l <= best_len))
			continue;
		if (strncmp(path, p, l) == 0 && path[l] == '/' && path[l + 1]) {
			best = (int)j;
			best_len = l;
		}
	}
	if (best < 0)
		return strdup(path);
	{
		const char *host = v->m[best].host;
		char *out = NULL;

		if (asprintf(&out, "%s%s", strcmp(host, "/") ? host : "", path + best_len) < 0)
			return NULL;
		return out;
	}
}

int jh_view_landlock_ruleset(const struct jh_view *v, unsigned want, unsigned *ret_layers,
			     struct jh_ll_fs_report *report)
{
	struct jh_ll_path *paths;
	char **owned;
	size_t n = 0;
	int r = 0;

	if (!v->finished)
		return -EINVAL;
	/* at most two paths an entry: itself, and what it shadows */
	paths = calloc(2 * v->n + 1, sizeof(*paths));
	owned = calloc(2 * v->n + 1, sizeof(*owned));
	for (size_t i = 0; paths && owned && i < v->n; i++) {
		uint64_t a = access_of(v->m[i].kind);

		if (!a && !(owned[n] = hole_host(v, i))) {
			r = -ENOMEM;
			break;
		}
		paths[n] = (struct jh_ll_path){a ? v->m[i].host : owned[n], a};
		n++;
		if (a && strcmp(v->m[i].path, v->m[i].host) != 0) {
			if (!(owned[n] = hole_host(v, i))) {
				r = -ENOMEM;
				break;
			}
			paths[n] = (struct jh_ll_path){owned[n], 0};
			n++;
		}
	}
	if (!paths || !owned)
		r = -ENOMEM;
	if (r == 0)
		r = jh_landlock_ruleset(want, paths, n, ret_layers, report);
	for (size_t i = 0; owned && i < n; i++)
		free(owned[i]);
	free(owned);
	free(paths);
	return r;
}
