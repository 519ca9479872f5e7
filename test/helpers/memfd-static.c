/*
 * memfd-static OUTDIR: memfd_create(2) files as programs keep them (a
 * cache in memory, a sealed buffer handed to a consumer):
 *   fd 3  "cache", sealable, 1 MiB + 100 bytes: its first 256 KiB and
 *         its last 100 bytes a pattern, the rest never written; sealed
 *         against shrinking and growing; read-write at offset 4242
 *   fd 4  the same inode opened again read-only (its own open file, at
 *         offset 4096)
 *   fd 5  "plain", not sealable (F_SEAL_SEAL), 10 bytes "0123456789"
 *   fd 6  "noexec", made MFD_NOEXEC_SEAL (mode 0666, F_SEAL_EXEC), "hello"
 *   fd 7  "producer", 4 KiB, mapped shared and written, then sealed
 *         F_SEAL_FUTURE_WRITE (its mapping still writes, write(2) not)
 * and mappings: the cache shared (its bytes are the file's), "maponly"
 * (64 KiB of a pattern) shared with its descriptor closed (the mapping
 * alone keeps it), "plain" privately with a page written (copy on write:
 * the file keeps its bytes)
 * OUTDIR/ready is written once made. Each time OUTDIR/trigger appears it
 * checks contents, sizes, seals, offsets, that fds 3 and 4 are one inode
 * (a write through 3 read back through 4), and writes OUTDIR/result:
 *   round N: verified OK untouched-resident 0
 * or round N: BAD what
 */
#include <fcntl.h>
#include <linux/memfd.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "outfile.h"

#define SIZE (1024 * 1024 + 100)
#define FILL (256 * 1024)

#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#define F_SEAL_SEAL 0x0001
#define F_SEAL_SHRINK 0x0002
#define F_SEAL_GROW 0x0004
#endif

static unsigned char pat(size_t i)
{
	return (unsigned char)(i * 7 + (i >> 12));
}

static unsigned char *map_cache, *map_only, *map_plain, *map_prod;

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

static const char *check_sealed(void)
{
	struct stat st;
	char buf[8];

	if (fcntl(6, F_GET_SEALS) != F_SEAL_EXEC || fstat(6, &st) || (st.st_mode & 07777) != 0666)
		return "noexec seals or mode";
	if (pwrite(6, "HELLO", 5, 0) != 5 || pread(6, buf, 5, 0) != 5 || memcmp(buf, "HELLO", 5) ||
	    pwrite(6, "hello", 5, 0) != 5)
		return "noexec not writable";
	if (fcntl(7, F_GET_SEALS) != F_SEAL_FUTURE_WRITE)
		return "producer seals";
	if (memcmp(map_prod, "produced", 8))
		return "producer contents";
	map_prod[100]++;
	if (pread(7, buf, 1, 100) != 1 || (unsigned char)buf[0] != map_prod[100])
		return "producer mapping not writable";
	if (pwrite(7, "x", 1, 0) == 1)
		return "producer write(2) allowed";
	return NULL;
}

static const char *check_maps(void)
{
	unsigned char c;

	if (pread(3, &c, 1, 100) != 1 || map_cache[100] != c || map_cache[SIZE - 1] != pat(SIZE - 1))
		return "cache mapping";
	for (size_t i = 0; i < 65536; i++)
		if (map_only[i] != (unsigned char)(i ^ 0x5a))
			return "maponly mapping";
	if (memcmp(map_plain, "ABCDEF6789", 10))
		return "private mapping";
	/* shared both ways: a byte written through the mapping is in the file */
	map_cache[200] ^= 0xff;
	if (pread(3, &c, 1, 200) != 1 || c != map_cache[200])
		return "cache mapping not shared";
	map_cache[200] ^= 0xff;
	return NULL;
}

static const char *check(int round)
{
	static unsigned char buf[SIZE];
	struct stat a, b;
	char plain[16];
	unsigned char x = (unsigned char)round, y = 0;
	const char *bad;

	if (lseek(3, 0, SEEK_CUR) != 4242 || lseek(4, 0, SEEK_CUR) != 4096)
		return "offsets";
	if (fstat(3, &a) || fstat(4, &b) || a.st_ino != b.st_ino || a.st_size != SIZE)
		return "inode or size";
	if (fcntl(3, F_GET_SEALS) != (F_SEAL_SHRINK | F_SEAL_GROW) || fcntl(5, F_GET_SEALS) != F_SEAL_SEAL)
		return "seals";
	if ((fcntl(3, F_GETFL) & O_ACCMODE) != O_RDWR || (fcntl(4, F_GETFL) & O_ACCMODE) != O_RDONLY)
		return "access modes";
	if (pread(3, buf, SIZE, 0) != SIZE)
		return "read";
	for (size_t i = 0; i < SIZE; i++) {
		unsigned char want = i < FILL || i >= SIZE - 100 ? pat(i) : 0;

		if (i == FILL + 1) /* the byte each round writes */
			continue;
		if (buf[i] != want)
			return "contents";
	}
	if (pread(5, plain, sizeof(plain), 0) != 10 || memcmp(plain, "0123456789", 10))
		return "plain contents";
	if ((bad = check_maps()) || (bad = check_sealed()))
		return bad;
	/* one inode: written through 3, read through 4 */
	if (pwrite(3, &x, 1, FILL + 1) != 1 || pread(4, &y, 1, FILL + 1) != 1 || y != x)
		return "not one inode";
	/* the seals hold */
	if (ftruncate(3, 10) == 0 || pwrite(3, "z", 1, SIZE) == 1)
		return "seals not enforced";
	return NULL;
}

int main(int argc, char **argv)
{
	char path[64];
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	fd = (int)syscall(SYS_memfd_create, "cache", MFD_ALLOW_SEALING);
	if (fd != 3 || ftruncate(3, SIZE))
		return perror("memfd cache"), 1;
	for (size_t i = 0; i < FILL; i++) {
		unsigned char c = pat(i);

		if (pwrite(3, &c, 1, (off_t)i) != 1)
			return 1;
	}
	for (size_t i = SIZE - 100; i < SIZE; i++) {
		unsigned char c = pat(i);

		if (pwrite(3, &c, 1, (off_t)i) != 1)
			return 1;
	}
	if (fcntl(3, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) || lseek(3, 4242, SEEK_SET) != 4242)
		return perror("seal"), 1;
	/* its own open file of the inode, as a peer opens /proc/PID/fd/N: a
	 * /proc of its own for the time of it (none is left mounted) */
	mkdir("/proc", 0555);
	if (mount("proc", "/proc", "proc", 0, NULL))
		return perror("mount proc"), 1;
	snprintf(path, sizeof(path), "/proc/self/fd/3");
	fd = open(path, O_RDONLY);
	umount2("/proc", MNT_DETACH);
	if (fd != 4)
		return perror("reopen"), 1;
	if (lseek(4, 4096, SEEK_SET) != 4096)
		return perror("lseek 4"), 1;
	fd = (int)syscall(SYS_memfd_create, "plain", 0);
	if (fd != 5 || write(5, "0123456789", 10) != 10)
		return perror("memfd plain"), 1;
	map_cache = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, 3, 0);
	map_plain = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, 5, 0);
	fd = (int)syscall(SYS_memfd_create, "maponly", 0);
	if (map_cache == MAP_FAILED || map_plain == MAP_FAILED || fd < 0 || ftruncate(fd, 65536))
		return perror("mmap"), 1;
	map_only = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (map_only == MAP_FAILED)
		return perror("mmap maponly"), 1;
	for (size_t i = 0; i < 65536; i++)
		map_only[i] = (unsigned char)(i ^ 0x5a);
	memcpy(map_plain, "ABCDEF", 6);
	fd = (int)syscall(SYS_memfd_create, "noexec", MFD_NOEXEC_SEAL);
	if (fd != 6 || write(6, "hello", 5) != 5)
		return perror("memfd noexec"), 1;
	fd = (int)syscall(SYS_memfd_create, "producer", MFD_ALLOW_SEALING);
	if (fd != 7 || ftruncate(7, 4096))
		return perror("memfd producer"), 1;
	map_prod = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, 7, 0);
	if (map_prod == MAP_FAILED)
		return perror("mmap producer"), 1;
	memcpy(map_prod, "produced", 8);
	if (fcntl(7, F_ADD_SEALS, F_SEAL_FUTURE_WRITE))
		return perror("seal producer"), 1;
	write_file("ready", "ok\n", 0);
	serve_rounds(check);
}
