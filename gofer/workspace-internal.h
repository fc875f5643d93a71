/* Inside gofer/: workspace snapshots (what existed, to tell what a run changed). */
#ifndef JH_GOFER_WORKSPACE_INTERNAL_H
#define JH_GOFER_WORKSPACE_INTERNAL_H

#include <stdint.h>
#include <sys/types.h>

#include "gofer/gofer.h"

#define JH_SNAP_MAX_FILES (1u << 22)

struct jh_snap_ent {
	char *path; /* relative to the workspace */
	mode_t mode;
	off_t size;
	ino_t ino;
	int64_t mtime_ns, ctime_ns;
};

struct jh_snap {
	struct jh_snap_ent *v; /* sorted by path */
	size_t n, cap;
	uint64_t usage; /* bytes allocated (st_blocks), directories included */
};

/* Records every non-directory beneath wsfd (not following symlinks). */
int jh_snap_take(int wsfd, struct jh_snap *ret);
void jh_snap_free(struct jh_snap *s);
/* Compares two snapshots; hashes what was created or changed (read beneath wsfd). */
int jh_snap_diff(int wsfd, const struct jh_snap *before, const struct jh_snap *after,
		 struct jh_changes *ret);

#endif
