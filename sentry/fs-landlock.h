/* The view as the Landlock filesystem layer: a second, kernel-enforced copy
 * of the filesystem policy for what the tasks do in their own context (exec,
 * and any call the sentry checks and then lets the kernel run). */
#ifndef JH_SENTRY_FS_LANDLOCK_H
#define JH_SENTRY_FS_LANDLOCK_H

#include "gofer/view.h"
#include "platform/layers.h"

/* jh_landlock_ruleset() with the view (finished: jh_view_finish) as the
 * filesystem rules: read-only entries read and execute, read-write entries
 * everything, devices read/write/ioctl, /proc read; hidden entries and
 * skeletons nothing, cut out of what contains them where that can be done
 * (struct jh_ll_fs_report). Rules name host paths: the private /tmp is
 * allowed at its host directory, never at the host's /tmp. */
int jh_view_landlock_ruleset(const struct jh_view *v, unsigned want, unsigned *ret_layers,
			     struct jh_ll_fs_report *report);

#endif
