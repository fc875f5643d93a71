/* Workspaces: where they live, creating, listing and removing them, the
 * per-run private directory, and the snapshot/compare that yields a run's
 * change set with SHA-256 of each created or changed file.
 *
 * Whatever is read in a workspace here is opened beneath a held directory fd
 * with O_NOFOLLOW: a workspace is written by untrusted code and read by us. */
#include "gofer/gofer.h"
#include "gofer/workspace-internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/macro.h"

int jh_state_dir(char **ret)
{
	const char *s = getenv("JHANSI_STATE_DIR"), *home;
	char *p = NULL;

	if (s && *s)
		p = strdup(s);
	else if ((s = getenv("XDG_DATA_HOME")) && *s == '/')
		(void)!asprintf(&p, "%s/jhansi", s);
	else if (geteuid() == 0)
		p = strdup("/var/lib/jhansi");
	else if ((home = getenv("HOME")) && *home == '/')
		(void)!asprintf(&p, "%s/.local/share/jhansi", home);
	else
		return -ENOENT;
	if (!p)
		return -ENOMEM;
	*ret = p;
	return 0;
}

bool jh_workspace_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 64 || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("._-", name[i]))
			return false;
	return true;
}

/* mkdir -p, mode 0700 for what it creates; 0711 when root, whose tasks run
 * as another uid and must be able to chdir to the workspace by its path. */
static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);
	mode_t mode = geteuid() == 0 ? 0711 : 0700;

	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (char *s = buf + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return jh_negerrno();
		*s = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return jh_negerrno();
	return 0;
}

static int sub_dir(const char *sub, const char *name, bool create, char **ret)
{
	_cleanup_free_ char *st = NULL, *p = NULL;
	char canon[PATH_MAX];
	int r = jh_state_dir(&st);

	if (r < 0)
		return r;
	if (asprintf(&p, "%s/%s%s%s", st, sub, name ? "/" : "", name ? name : "") < 0)
		return -ENOMEM;
	if (create && (r = mkdir_p(p)) < 0)
		return r;
	if (!realpath(p, canon))
		return jh_negerrno();
	*ret = strdup(canon);
	return *ret ? 0 : -ENOMEM;
}

int jh_workspace_open(const char *name, char **ret_path)
{
	if (!jh_workspace_name_valid(name))
		return -EINVAL;
	return sub_dir("workspaces", name, true, ret_path);
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int jh_workspace_list(char ***ret, size_t *ret_n)
{
	_cleanup_free_ char *dir = NULL;
	char **v = NULL;
	size_t n = 0;
	DIR *d;
	struct dirent *de;
	int r = sub_dir("workspaces", NULL, false, &dir);

	if (r == -ENOENT) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	if (r < 0)
		return r;
	d = opendir(dir);
	if (!d)
		return jh_negerrno();
	while ((de = readdir(d))) {
		char **nv;
		if (!jh_workspace_name_valid(de->d_name) || de->d_type != DT_DIR)
			continue;
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv || !(nv[n] = strdup(de->d_name))) {
			free(nv ? nv : v);
			closedir(d);
			return -ENOMEM;
		}
		v = nv;
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_strp);
	*ret = v;
	*ret_n = n;
	return 0;
}


int jh_rmtree_at(int parent, const char *name)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (fd < 0) {
		if (errno == ENOTDIR || errno == ELOOP)
			return unlinkat(parent, name, 0) < 0 ? jh_negerrno() : 0;
		return jh_negerrno();
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return jh_negerrno();
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN) {
			int q = jh_rmtree_at(dirfd(d), de->d_name);
			if (q < 0 && r == 0)
				r = q;
		} else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && r == 0)
			r = jh_negerrno();
	}
	closedir(d);
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && r == 0)
		r = jh_negerrno();
	return r;
}

int jh_workspace_remove(const char *name)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int fd = -1;
	int r;

	if (!jh_workspace_name_valid(name))
		return -EINVAL;
	r = sub_dir("workspaces", NULL, false, &dir);
	if (r < 0)
		return r;
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return jh_negerrno();
	if (faccessat(fd, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		return jh_negerrno();
	return jh_rmtree_at(fd, name);
}

int jh_run_tmpdir(char **ret_path)
{
	_cleanup_free_ char *dir = NULL, *tmpl = NULL;
	int r = sub_dir("run", NULL, true, &dir);

	if (r < 0)
		return r;
	if (asprintf(&tmpl, "%s/tmp-XXXXXX", dir) < 0)
		return -ENOMEM;
	if (!mkdtemp(tmpl))
		return jh_negerrno();
	*ret_path = TAKE_PTR(tmpl);
	return 0;
}

int jh_parse_size(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	case 't': case 'T': mul = 1ull << 40; end++; break;
	default: return -EINVAL;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || v > UINT64_MAX / mul)
		return -EINVAL;
	*ret = v * mul;
	return 0;
}

const char *jh_change_op_name(enum jh_change_op op)
{
	switch (op) {
	case JH_CHANGE_CREATED: return "created";
	case JH_CHANGE_CHANGED: return "changed";
	case JH_CHANGE_DELETED: return "deleted";
	}
	return "?";
}

void jh_changes_free(struct jh_changes *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].path);
	free(c->v);
	*c = (struct jh_changes){0};
}

/* --- Snapshots --- */

void jh_snap_free(struct jh_snap *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].path);
	free(s->v);
	*s = (struct jh_snap){0};
}

static int snap_add(struct jh_snap *s, const char *path, const struct stat *st)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct jh_snap_ent *v;
		if (cap > JH_SNAP_MAX_FILES)
			return -EFBIG;
		v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n] = (struct jh_snap_ent){
		.path = strdup(path),
		.mode = st->st_mode,
		.size = st->st_size,
		.ino = st->st_ino,
		.mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec,
		.ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec,
	};
	if (!s->v[s->n].path)
		return -ENOMEM;
	s->n++;
	return 0;
}

static int snap_dir(struct jh_snap *s, int dfd, char *rel, size_t rlen, unsigned depth)
{
	DIR *d;
	struct dirent *de;
	int fd, r = 0;

	if (depth > 256)
		return 0;
	fd = openat(dfd, rlen ? rel : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0; /* gone or not a directory any more: nothing to record */
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return jh_negerrno();
	}
	while (r == 0 && (de = readdir(d))) {
		struct stat st;
		size_t nl = strlen(de->d_name);

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (rlen + 1 + nl + 1 > PATH_MAX)
			continue;
		if (rlen)
			rel[rlen] = '/';
		memcpy(rel + rlen + (rlen ? 1 : 0), de->d_name, nl + 1);
		s->usage += (uint64_t)st.st_blocks * 512;
		if (S_ISDIR(st.st_mode))
			r = snap_dir(s, dfd, rel, rlen + (rlen ? 1 : 0) + nl, depth + 1);
		else
			r = snap_add(s, rel, &st);
		rel[rlen] = '\0';
	}
	closedir(d);
	return r;
}

static int cmp_ent(const void *a, const void *b)
{
	return strcmp(((const struct jh_snap_ent *)a)->path, ((const struct jh_snap_ent *)b)->path);
}

int jh_snap_take(int wsfd, struct jh_snap *ret)
{
	struct jh_snap s = {0};
	char rel[PATH_MAX] = "";
	int r = snap_dir(&s, wsfd, rel, 0, 0);

	if (r < 0) {
		jh_snap_free(&s);
		return r;
	}
	if (s.n) /* qsort wants a valid base even for no elements */
		qsort(s.v, s.n, sizeof(*s.v), cmp_ent);
	*ret = s;
	return 0;
}

/* SHA-256 of a regular file's content (or of a symlink's target), opened
 * beneath wsfd without following anything. */
static int hash_at(int wsfd, const struct jh_snap_ent *e, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	int r = 0;

	ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(ctx);
		return -ENOMEM;
	}
	if (S_ISLNK(e->mode)) {
		char t[PATH_MAX];
		ssize_t n = readlinkat(wsfd, e->path, t, sizeof(t));
		if (n < 0)
			r = jh_negerrno();
		else
			EVP_DigestUpdate(ctx, t, (size_t)n);
	} else {
		char buf[65536];
		ssize_t n;
		int fd = openat(wsfd, e->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		struct stat st;

		if (fd < 0)
			r = jh_negerrno();
		else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
			r = -EINVAL;
		while (r == 0 && (n = read(fd, buf, sizeof(buf))) != 0) {
			if (n < 0) {
				r = jh_negerrno();
				break;
			}
			EVP_DigestUpdate(ctx, buf, (size_t)n);
		}
		if (fd >= 0)
			close(fd);
	}
	if (r == 0 && EVP_DigestFinal_ex(ctx, md, &mdlen)) {
		for (unsigned i = 0; i < mdlen && i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
	} else if (r == 0)
		r = -EIO;
	EVP_MD_CTX_free(ctx);
	return r;
}

static int change_add(struct jh_changes *c, enum jh_change_op op, const char *path, const char *hex)
{
	struct jh_change *v = realloc(c->v, (c->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	c->v = v;
	v[c->n] = (struct jh_change){.op = op, .path = strdup(path)};
	if (!v[c->n].path)
		return -ENOMEM;
	snprintf(v[c->n].sha256_hex, sizeof(v[c->n].sha256_hex), "%s", hex ? hex : "");
	c->n++;
	return 0;
}

static bool same(const struct jh_snap_ent *a, const struct jh_snap_ent *b)
{
	return a->mode == b->mode && a->size == b->size && a->ino == b->ino &&
	       a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

int jh_snap_diff(int wsfd, const struct jh_snap *before, const struct jh_snap *after,
		 struct jh_changes *ret)
{
	struct jh_changes c = {0};
	size_t i = 0, j = 0;
	int r = 0;

	while (r == 0 && (i < before->n || j < after->n)) {
		int cmp = i >= before->n ? 1 : j >= after->n ? -1 : strcmp(before->v[i].path, after->v[j].path);
		char hex[65] = "";

		if (cmp < 0) {
			r = change_add(&c, JH_CHANGE_DELETED, before->v[i].path, NULL);
			i++;
			continue;
		}
		if (cmp == 0 && same(&before->v[i], &after->v[j])) {
			i++, j++;
			continue;
		}
		/* Only files and symlinks are hashed; fifos and sockets are recorded
		 * without content. */
		if (S_ISREG(after->v[j].mode) || S_ISLNK(after->v[j].mode))
			(void)hash_at(wsfd, &after->v[j], hex);
		r = change_add(&c, cmp == 0 ? JH_CHANGE_CHANGED : JH_CHANGE_CREATED, after->v[j].path,
			       hex);
		if (cmp == 0)
			i++;
		j++;
	}
	if (r < 0) {
		jh_changes_free(&c);
		return r;
	}
	*ret = c;
	return 0;
}
