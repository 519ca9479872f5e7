/*
 * unixlisten-static PATH: a unix stream socket listening on PATH, held
 * while the process sleeps (a service's socket, for tests of where a
 * restored socket is bound).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int s;

	if (argc != 2 || strlen(argv[1]) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "usage: %s PATH\n", argv[0]);
		return 2;
	}
	strcpy(sun.sun_path, argv[1]);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&sun, sizeof(sun)) || listen(s, 4)) {
		perror(argv[1]);
		return 1;
	}
	for (;;)
		pause();
}
