#ifndef CRIU_CRTOOLS_H
#define CRIU_CRTOOLS_H

#include <stdbool.h>
#include "options.h"

int cr_check(const struct options *o);
int cr_show(const struct options *o);
int cr_restore(const struct options *o);
/* The same, giving the root task's pid (as criu sees it) on success. */
int cr_restore_tree(const struct options *o, pid_t *root);

#endif
