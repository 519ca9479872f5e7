#ifndef CRIU_CRTOOLS_H
#define CRIU_CRTOOLS_H

#include <stdbool.h>
#include "options.h"

int cr_check(const struct options *o);
int cr_show(const struct options *o);
int cr_restore(const struct options *o);
/* Opens (and with `create`, makes) the images directory; -1 after an error. */
int open_images_dir(const char *dir, bool create);

#endif
