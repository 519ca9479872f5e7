/*
 * sockhold-static OUTDIR NAME: holds a unix stream socket connected to the
 * abstract address "\0NAME", whose listener lives outside the process tree
 * (an external peer, which a dump must refuse), and counts: OUTDIR/count
 * gets 1, 2, 3... every 100 ms.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timespec ts = { 0, 100000000 };
	char path[4096], tmp[4096], line[64];
	unsigned long i = 0;
	socklen_t len;
	int s;

	if (argc != 3 || strlen(argv[2]) >= sizeof(sun.sun_path) - 1) {
		fprintf(stderr, "usage: %s OUTDIR NAME\n", argv[0]);
		return 2;
	}
	memcpy(sun.sun_path + 1, argv[2], strlen(argv[2]));
	len = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(argv[2]);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sun, len)) {
		perror("connect");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/count", argv[1]);
	snprintf(tmp, sizeof(tmp), "%s/.count.tmp", argv[1]);
	for (;;) {
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd >= 0) {
			int n = snprintf(line, sizeof(line), "%lu\n", ++i);

			if (write(fd, line, n) != n)
				perror("write");
			close(fd);
			rename(tmp, path);
		}
		nanosleep(&ts, NULL);
	}
}
