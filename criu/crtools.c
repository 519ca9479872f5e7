/* main(): parse the command line, set up logging, dispatch the command. */
#include <stdio.h>
#include <string.h>

#include "crtools.h"
#include "dump.h"
#include "image/image.h"
#include "util/log.h"
#include "options.h"
#include "rpc/service.h"
#include "util/util.h"

static int setup_log(const struct options *o)
{
	_cleanup_free_ char *path = NULL;

	if (!o->log_file)
		return log_init(o->verbosity, NULL);
	if (o->log_file[0] == '/' || !strcmp(o->log_file, "-"))
		return log_init(o->verbosity, o->log_file);
	/* relative log files live in the work directory (default: the images
	 * directory), as upstream */
	const char *dir = o->work_dir ? o->work_dir : o->imgs_dir;
	int dirfd = open_images_dir(dir, o->cmd == CMD_DUMP || o->work_dir);

	if (dirfd < 0)
		return -1;
	close(dirfd);
	path = xmalloc(strlen(dir) + strlen(o->log_file) + 2);
	sprintf(path, "%s/%s", dir, o->log_file);
	return log_init(o->verbosity, path);
}

int cr_show(const struct options *o)
{
	return show_image(o->show_file, o->show_fields, stdout);
}

int main(int argc, char **argv)
{
	struct options o;
	int ret;

	/* criu swrk FD: the options arrive in each request, not on argv */
	if (argc >= 2 && !strcmp(argv[1], "swrk"))
		return cr_swrk_main(argc, argv);
	ret = parse_options(argc, argv, &o);
	if (ret) {
		options_free(&o);
		return ret > 0 ? 0 : 1;
	}
	if (setup_log(&o)) {
		options_free(&o);
		return 1;
	}

	switch (o.cmd) {
	case CMD_DUMP:
		ret = cr_dump(&o);
		break;
	case CMD_RESTORE:
		ret = cr_restore(&o);
		break;
	case CMD_SHOW:
		ret = cr_show(&o);
		break;
	case CMD_CHECK:
		ret = cr_check(&o);
		break;
	case CMD_SERVICE:
		ret = cr_service(&o);
		break;
	default:
		ret = -1;
	}
	options_free(&o);
	log_fini();
	return ret ? 1 : 0;
}
