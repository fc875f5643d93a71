/* Unit tests of the view (mount table) and of path resolution over it, on a
 * temporary tree: symlink escapes, "..", hidden entries, long names, loops,
 * the gofer protocol's decoder on malformed frames. No privileges needed. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gofer/gofer.h"
#include "gofer/vfs.h"
#include "gofer/view.h"

static char root[PATH_MAX];
static struct jh_view view;
static struct jh_vfs vfs;

static void mk(const char *rel, bool dir)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (dir)
		cr_assert_eq(mkdir(p, 0755), 0, "mkdir %s", p);
	else {
		int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		cr_assert(fd >= 0, "create %s", p);
		cr_assert_eq(write(fd, rel, strlen(rel)), (ssize_t)strlen(rel));
		close(fd);
	}
}

static void ln(const char *target, const char *rel)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	cr_assert_eq(symlink(target, p), 0, "symlink %s", p);
}

static const char *at(const char *rel)
{
	static char p[4][PATH_MAX * 2];
	static int i;
	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", root, rel);
	return p[i];
}

/* Tree: ws/ (rw) with escapes; sys/ (ro) with secret (hidden) and lib -> usr/lib;
 * other/ (not in the view); tmp/ a private dir mapped at <root>/vtmp. */
static void setup(void)
{
	int *fds;

	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "/tmp/jh-vfs-XXXXXX");
	cr_assert(mkdtemp(tmp));
	cr_assert(realpath(tmp, root));
	mk("ws", true);
	mk("ws/d", true);
	mk("ws/d/f", false);
	mk("sys", true);
	mk("sys/usr", true);
	mk("sys/usr/lib", true);
	mk("sys/usr/lib/libc", false);
	mk("sys/secret", false);
	mk("other", true);
	mk("other/private", false);
	mk("priv", true);
	mk("priv/t", false);
	ln("usr/lib", "sys/lib");
	ln(at("other/private"), "ws/abs-out");
	ln("../other/private", "ws/rel-out");
	ln("../../other/private", "ws/d/rel-out2");
	ln(at("sys/secret"), "ws/to-secret");
	ln(at("sys/lib/libc"), "ws/to-libc");
	ln("loop2", "ws/loop1");
	ln("loop1", "ws/loop2");
	ln("/proc/self/root", "ws/magic");

	view = (struct jh_view){0};
	cr_assert_eq(jh_view_set(&view, at("ws"), NULL, JH_MOUNT_RW), 0);
	cr_assert_eq(jh_view_set(&view, at("sys"), NULL, JH_MOUNT_RO), 0);
	cr_assert_eq(jh_view_set(&view, at("sys/secret"), NULL, JH_MOUNT_HIDE), 0);
	cr_assert_eq(jh_view_set(&view, at("vtmp"), at("priv"), JH_MOUNT_RW), 0);
	cr_assert_eq(jh_view_set(&view, "/proc", NULL, JH_MOUNT_PROC), 0);
	cr_assert_eq(jh_view_finish(&view), 0);
	cr_assert_eq(jh_vfs_open_roots(&view, &fds), 0);
	cr_assert_eq(jh_vfs_init(&vfs, &view, fds, open("/", O_PATH | O_CLOEXEC)), 0);
	vfs.sandbox_sid = getsid(0);
}

static void teardown(void)
{
	char cmd[PATH_MAX + 32];
	jh_vfs_done(&vfs);
	jh_view_free(&view);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	(void)!system(cmd);
}

TestSuite(vfs, .init = setup, .fini = teardown);

static int walk(const char *path, unsigned flags, struct jh_walk *w)
{
	struct jh_vfs_task t = {.tid = getpid(), .tgid = getpid()};
	return jh_vfs_walk(&vfs, &t, path, flags, w);
}

/* Walks and reads the object's content (first bytes) into buf. */
static int walk_read(const char *path, char *buf, size_t cap)
{
	struct jh_walk w;
	int r = walk(path, JH_WALK_FOLLOW, &w), fd;
	ssize_t n;

	if (r < 0)
		return r;
	fd = jh_vfs_reopen(w.fd, O_RDONLY);
	close(w.fd);
	if (fd < 0)
		return fd;
	n = read(fd, buf, cap - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return 0;
}

Test(vfs, plain_paths_resolve_in_their_entry)
{
	char buf[64];
	cr_assert_eq(walk_read(at("ws/d/f"), buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "ws/d/f");
	cr_assert_eq(walk_read(at("vtmp/t"), buf, sizeof(buf)), 0, "a non-identity entry");
	cr_assert_str_eq(buf, "priv/t");
}

Test(vfs, paths_outside_the_view_do_not_exist)
{
	struct jh_walk w;
	cr_assert_eq(walk(at("other/private"), JH_WALK_FOLLOW, &w), -ENOENT);
	cr_assert_eq(walk(at("priv/t"), JH_WALK_FOLLOW, &w), -ENOENT, "host path of /vtmp");
	cr_assert_eq(walk("/etc/passwd", JH_WALK_FOLLOW, &w), -ENOENT);
	cr_assert_eq(walk(at("sys/secret"), JH_WALK_FOLLOW, &w), -ENOENT, "hidden entry");
}

Test(vfs, symlinks_pointing_out_resolve_in_the_view_and_miss)
{
	struct jh_walk w;
	cr_assert_eq(walk(at("ws/abs-out"), JH_WALK_FOLLOW, &w), -ENOENT);
	cr_assert_eq(walk(at("ws/rel-out"), JH_WALK_FOLLOW, &w), -ENOENT);
	cr_assert_eq(walk(at("ws/d/rel-out2"), JH_WALK_FOLLOW, &w), -ENOENT);
	cr_assert_eq(walk(at("ws/to-secret"), JH_WALK_FOLLOW, &w), -ENOENT);
}

Test(vfs, dotdot_never_leaves_the_view)
{
	struct jh_walk w;
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/ws/../../../../../../etc/passwd", root);
	cr_assert_eq(walk(p, JH_WALK_FOLLOW, &w), -ENOENT);
	snprintf(p, sizeof(p), "%s/ws/d/../../other/private", root);
	cr_assert_eq(walk(p, JH_WALK_FOLLOW, &w), -ENOENT);
	snprintf(p, sizeof(p), "%s/ws/d/../../sys/usr/lib/libc", root);
	cr_assert_eq(walk(p, JH_WALK_FOLLOW, &w), 0, "'..' across entries, inside the view");
	close(w.fd);
}

Test(vfs, symlinks_across_entries_resolve_as_linux_does)
{
	char buf[64];
	cr_assert_eq(walk_read(at("sys/lib/libc"), buf, sizeof(buf)), 0, "lib -> usr/lib");
	cr_assert_str_eq(buf, "sys/usr/lib/libc");
	cr_assert_eq(walk_read(at("ws/to-libc"), buf, sizeof(buf)), 0, "absolute, via a symlink");
	cr_assert_str_eq(buf, "sys/usr/lib/libc");
}

Test(vfs, loops_and_magic_links_are_eloop)
{
	struct jh_walk w;
	cr_assert_eq(walk(at("ws/loop1"), JH_WALK_FOLLOW, &w), -ELOOP);
	cr_assert_eq(walk("/proc/self/root/etc/passwd", JH_WALK_FOLLOW, &w), -ELOOP);
	cr_assert_eq(walk("/proc/self/cwd", JH_WALK_FOLLOW, &w), -ELOOP);
	cr_assert_eq(walk(at("ws/magic"), JH_WALK_FOLLOW, &w), -ELOOP);
}

Test(vfs, proc_shows_only_sandbox_tasks)
{
	struct jh_walk w;
	cr_assert_eq(walk("/proc/self/status", JH_WALK_FOLLOW, &w), 0);
	close(w.fd);
	cr_assert_eq(walk("/proc/1/environ", JH_WALK_FOLLOW, &w), -ENOENT, "init is not ours");
	cr_assert_eq(walk("/proc/kcore", JH_WALK_FOLLOW, &w), -ENOENT);
	cr_assert_eq(walk("/proc/sys/kernel/core_pattern", JH_WALK_FOLLOW, &w), -ENOENT);
}

Test(vfs, long_names_and_paths_are_enametoolong)
{
	struct jh_walk w;
	static char p[PATH_MAX * 2];
	char name[300];
	memset(name, 'a', 256);
	name[256] = '\0';
	snprintf(p, sizeof(p), "%s/ws/%s", root, name);
	cr_assert_eq(walk(p, JH_WALK_FOLLOW, &w), -ENAMETOOLONG);
	memset(p, '/', PATH_MAX + 10);
	p[PATH_MAX + 10] = '\0';
	cr_assert_eq(walk(p, JH_WALK_FOLLOW, &w), -ENAMETOOLONG);
}

Test(vfs, parent_walk_names_the_final_component_and_its_entry)
{
	struct jh_walk w;
	cr_assert_eq(walk(at("ws/d/new"), JH_WALK_PARENT, &w), 0);
	cr_assert_str_eq(w.last, "new");
	cr_assert_eq(view.m[w.entry].kind, JH_MOUNT_RW);
	close(w.fd);
	cr_assert_eq(walk(at("sys/usr/x"), JH_WALK_PARENT, &w), 0);
	cr_assert_eq(view.m[w.entry].kind, JH_MOUNT_RO);
	close(w.fd);
	/* A dangling symlink followed for creation lands where it points. */
	cr_assert_eq(walk(at("ws/abs-out"), JH_WALK_PARENT | JH_WALK_FOLLOW, &w), -ENOENT);
}

Test(vfs, fast_path_agrees_and_defers_on_symlinks)
{
	int e, fd = jh_vfs_fast_open(&vfs, at("ws/d/f"), O_RDONLY, &e);
	cr_assert(fd >= 0);
	close(fd);
	cr_assert_eq(jh_vfs_fast_open(&vfs, at("sys/lib/libc"), O_RDONLY, &e), -EAGAIN);
	cr_assert_eq(jh_vfs_fast_open(&vfs, at("ws/d/../d/f"), O_RDONLY, &e), -EAGAIN);
	cr_assert_eq(jh_vfs_fast_open(&vfs, at("ws/nope"), O_RDONLY, &e), -ENOENT);
}

Test(vfs, a_directory_maps_back_to_its_view_path_by_identity)
{
	char out[PATH_MAX];
	int fd = open(at("ws/d"), O_PATH | O_CLOEXEC);
	cr_assert_eq(jh_vfs_view_of_fd(&vfs, fd, out, sizeof(out)), 0);
	cr_assert_str_eq(out, at("ws/d"));
	close(fd);
	fd = open(at("other"), O_PATH | O_CLOEXEC);
	cr_assert_eq(jh_vfs_view_of_fd(&vfs, fd, out, sizeof(out)), -ENOENT);
	close(fd);
}

Test(view, normalize_and_longest_prefix)
{
	char out[64];
	struct jh_view v = {0};
	const char *rest;

	cr_assert_eq(jh_view_normalize("//a/./b//", out, sizeof(out)), 4);
	cr_assert_str_eq(out, "/a/b");
	cr_assert_eq(jh_view_normalize("/a/../b", out, sizeof(out)), -EINVAL);
	cr_assert_eq(jh_view_normalize("rel", out, sizeof(out)), -EINVAL);
	cr_assert_eq(jh_view_set(&v, "/usr", NULL, JH_MOUNT_RO), 0);
	cr_assert_eq(jh_view_set(&v, "/usr/local/x", NULL, JH_MOUNT_RW), 0);
	cr_assert_eq(jh_view_finish(&v), 0);
	cr_assert_eq(v.m[jh_view_longest(&v, "/usr/local/x/y", &rest)].kind, JH_MOUNT_RW);
	cr_assert_str_eq(rest, "y");
	cr_assert_eq(v.m[jh_view_longest(&v, "/usrx", &rest)].kind, JH_MOUNT_SKEL, "not /usr");
	jh_view_free(&v);
}

Test(view, defaults_hide_secrets)
{
	struct jh_view v = {0};
	const char *rest;
	cr_assert_eq(jh_view_defaults(&v, "/nonexistent-ws", "/nonexistent-tmp"), 0);
	cr_assert_eq(jh_view_finish(&v), 0);
	cr_assert_eq(v.m[jh_view_longest(&v, "/etc/shadow", &rest)].kind, JH_MOUNT_HIDE);
	cr_assert_eq(v.m[jh_view_longest(&v, "/etc/sudoers.d/x", &rest)].kind, JH_MOUNT_HIDE);
	cr_assert_eq(v.m[jh_view_longest(&v, "/root/.ssh/id_rsa", &rest)].kind, JH_MOUNT_SKEL);
	cr_assert_eq(v.m[jh_view_longest(&v, "/usr/bin/python3", &rest)].kind, JH_MOUNT_RO);
	jh_view_free(&v);
}

Test(proto, malformed_frames_are_ebadmsg_never_a_crash)
{
	static struct jh_gofer_req q, back;
	static unsigned char buf[JH_GOFER_MAX_FRAME];
	int n;

	q = (struct jh_gofer_req){.op = JH_GOFER_MKDIR, .entry = 1, .entry2 = -1, .a = 0755};
	strcpy(q.name, "dir");
	n = jh_gofer_req_encode(&q, buf, sizeof(buf));
	cr_assert(n > 0);
	cr_assert_eq(jh_gofer_req_decode(buf, (size_t)n, &back), 0);
	cr_assert_str_eq(back.name, "dir");
	cr_assert_eq(back.a, 0755);
	for (int cut = 0; cut < n; cut++)
		cr_assert_eq(jh_gofer_req_decode(buf, (size_t)cut, &back), -EBADMSG, "cut %d", cut);
	srand(1);
	for (int i = 0; i < 2000; i++) {
		unsigned char junk[64];
		for (size_t k = 0; k < sizeof(junk); k++)
			junk[k] = (unsigned char)rand();
		(void)jh_gofer_req_decode(junk, sizeof(junk), &back);
	}
	/* A frame longer than any request is refused before parsing. */
	cr_assert_eq(jh_gofer_req_decode(buf, JH_GOFER_MAX_FRAME + 1, &back), -EBADMSG);
	/* Containers announcing more elements than bytes remain are refused
	 * before msgpack-c allocates for them (2^32 elements: 64 GiB). */
	{
		static const unsigned char huge_array[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0x01};
		static const unsigned char huge_map[] = {0xdf, 0x7f, 0xff, 0xff, 0xff};
		static const unsigned char nested[] = {0x91, 0x91, 0xdc, 0xff, 0xff, 0x00};
		static const unsigned char huge_str[] = {0xdb, 0xff, 0xff, 0xff, 0xff, 'a'};
		int32_t e;
		int64_t v;
		const void *blob;
		size_t bl;

		cr_assert_eq(jh_gofer_req_decode(huge_array, sizeof(huge_array), &back), -EBADMSG);
		cr_assert_eq(jh_gofer_req_decode(huge_map, sizeof(huge_map), &back), -EBADMSG);
		cr_assert_eq(jh_gofer_req_decode(nested, sizeof(nested), &back), -EBADMSG);
		cr_assert_eq(jh_gofer_req_decode(huge_str, sizeof(huge_str), &back), -EBADMSG);
		cr_assert_eq(jh_gofer_rep_decode(huge_array, sizeof(huge_array), &e, &v, &blob, &bl),
			     -EBADMSG);
	}
}

Test(workspace, names_and_sizes)
{
	uint64_t v;
	cr_assert(jh_workspace_name_valid("default"));
	cr_assert(!jh_workspace_name_valid("../x"));
	cr_assert(!jh_workspace_name_valid(".hidden"));
	cr_assert(!jh_workspace_name_valid(""));
	cr_assert_eq(jh_parse_size("10M", &v), 0);
	cr_assert_eq(v, 10ull << 20);
	cr_assert_eq(jh_parse_size("x", &v), -EINVAL);
}
