/* `criu restore`: not implemented yet; says so instead of pretending. */
#define LOG_PREFIX "restore: "
#include "crtools.h"
#include "log.h"

int cr_restore(const struct options *o)
{
	pr_err("restore is not implemented yet in this version (images in %s are left untouched)\n", o->imgs_dir);
	return -1;
}
