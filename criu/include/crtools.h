#ifndef CRIU_CRTOOLS_H
#define CRIU_CRTOOLS_H

#include <stdbool.h>
#include "options.h"

int cr_check(const struct options *o);
int cr_show(const struct options *o);
int cr_restore(const struct options *o);

#endif
