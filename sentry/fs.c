/* File-class handlers: path syscalls serviced against the sandbox's view of
 * files (gofer issue). Until they exist, path syscalls keep the pass fate in
 * abi/syscalls.tsv and this registry is empty. */
#include "sentry/sentry-internal.h"

const struct jh_handler_entry jh_fs_handlers[] = {
	{NULL, NULL},
};
