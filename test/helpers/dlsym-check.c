/*
 * dlsym-check LIBRARY: dlopen()s LIBRARY as a program that loads it at run
 * time would (crun loads "libcriu.so.2"), then resolves each name read from
 * stdin (one a line, '#' comments). Prints "missing NAME" for each that does
 * not resolve and exits 1 if any; 2 if the library does not load.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	char line[256];
	int missing = 0, found = 0;
	void *h;

	if (argc != 2) {
		fprintf(stderr, "usage: %s LIBRARY <names\n", argv[0]);
		return 2;
	}
	h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "can't load %s: %s\n", argv[1], dlerror());
		return 2;
	}
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, " \t\r\n#")] = '\0';
		if (!line[0])
			continue;
		if (dlsym(h, line))
			found++;
		else {
			printf("missing %s\n", line);
			missing++;
		}
	}
	printf("%d found, %d missing\n", found, missing);
	dlclose(h);
	return missing ? 1 : 0;
}
