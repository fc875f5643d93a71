/* The view's pure queries for the mount-namespace layout: the workspace at
 * /workspace, the private tmp at /tmp only, and host paths named back. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "gofer/view.h"

Test(view, mountns_defaults_put_the_workspace_at_slash_workspace_and_tmp_only_at_slash_tmp)
{
	struct jh_view v = {0};
	int i;

	cr_assert_eq(jh_view_defaults_mountns(&v, "/srv/state/workspaces/w", "/srv/state/run/tmp-1"),
		     0);
	cr_assert_eq(jh_view_finish(&v), 0);
	i = jh_view_find(&v, "/workspace", strlen("/workspace"));
	cr_assert_geq(i, 0);
	cr_assert_str_eq(v.m[i].host, "/srv/state/workspaces/w");
	cr_assert_eq(v.m[i].kind, JH_MOUNT_RW);
	/* neither host path is a view path of its own */
	cr_assert_lt(jh_view_find(&v, "/srv/state/workspaces/w", strlen("/srv/state/workspaces/w")),
		     0);
	cr_assert_lt(jh_view_find(&v, "/srv/state/run/tmp-1", strlen("/srv/state/run/tmp-1")), 0);
	i = jh_view_find(&v, "/tmp", 4);
	cr_assert_geq(i, 0);
	cr_assert_str_eq(v.m[i].host, "/srv/state/run/tmp-1");
	jh_view_free(&v);

	/* the default view keeps both at their host paths (and /tmp) */
	cr_assert_eq(jh_view_defaults(&v, "/srv/state/workspaces/w", "/srv/state/run/tmp-1"), 0);
	cr_assert_geq(jh_view_find(&v, "/srv/state/workspaces/w", strlen("/srv/state/workspaces/w")),
		      0);
	cr_assert_lt(jh_view_find(&v, "/workspace", strlen("/workspace")), 0);
	jh_view_free(&v);
}

Test(view, host_paths_are_named_back_through_mapped_entries_only)
{
	struct jh_view v = {0};
	char out[64];

	cr_assert_eq(jh_view_defaults_mountns(&v, "/srv/ws", "/srv/tmp-1"), 0);
	cr_assert_eq(jh_view_finish(&v), 0);
	cr_assert_eq(jh_view_host_to_view(&v, "/srv/ws/a/b", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "/workspace/a/b");
	cr_assert_eq(jh_view_host_to_view(&v, "/srv/ws", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "/workspace");
	cr_assert_eq(jh_view_host_to_view(&v, "/srv/tmp-1/x", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "/tmp/x");
	/* a sibling sharing a prefix, an identity entry, nothing at all */
	cr_assert_eq(jh_view_host_to_view(&v, "/srv/wsx/a", out, sizeof(out)), -ENOENT);
	cr_assert_eq(jh_view_host_to_view(&v, "/usr/bin/sh", out, sizeof(out)), -ENOENT);
	cr_assert_eq(jh_view_host_to_view(&v, "/root", out, sizeof(out)), -ENOENT);
	/* too long for the caller's buffer */
	cr_assert_eq(jh_view_host_to_view(&v, "/srv/ws/0123456789012345678901234567890123456789012345678901234567890",
					  out, sizeof(out)),
		     -ENAMETOOLONG);
	jh_view_free(&v);
}
