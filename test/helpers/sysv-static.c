/*
 * sysv-static OUTDIR [attach|rmid|big]: System V IPC objects the way servers use
 * them, in the IPC namespace it runs in:
 *   shm  key 0x5eed0001, 1 MiB + 100 bytes, mode 0640: its first 512 KiB
 *        a pattern, the rest never written
 *   shmp IPC_PRIVATE, 8 KiB, mode 0600, all a second pattern
 *   sem  key 0x5eed0002, 5 semaphores 0 1 2 300 32767, mode 0660
 *   msg  key 0x5eed0003, mode 0620: "alpha" (type 1), 1000 patterned
 *        bytes (type 7), an empty message (type 2)
 *   msgp IPC_PRIVATE, empty, its size cut to 4096 bytes
 * With "attach" it keeps shm attached (as a postmaster keeps its segment);
 * with "rmid" also shmp, removed (IPC_RMID) at once, so that it goes with
 * its last user, as X clients do with MIT-SHM segments. With "big" also
 *   big  key 0x5eed0004, 160 MiB, mode 0600, all a third pattern (as a
 *        database's buffer pool), not attached.
 * OUTDIR/ready gets the ids. Each time OUTDIR/trigger appears it checks
 * every object by the ids it holds (keys, modes, sizes, contents; the
 * messages read with MSG_COPY so they stay) and writes OUTDIR/result:
 *   round N: verified OK untouched-resident 0
 * or round N: BAD what
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

#include "outfile.h"

#define SHM_SIZE (1024 * 1024 + 100)
#define SHM_FILL (512 * 1024)
#define SHMP_SIZE 8192
#define BIG_SIZE (160UL << 20)

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static const unsigned short sem_vals[5] = {0, 1, 2, 300, 32767};

static unsigned char pat(size_t i, int which)
{
	return (unsigned char)((i * 31 + (i >> 9) + (unsigned)which * 77) & 0xff);
}

static int shm, shmp, sem, msg, msgp, big = -1;
static char *attached, *attached_p;

static const char *check_shm(int id, key_t key, mode_t mode, size_t size, size_t fill, int which)
{
	struct shmid_ds ds;
	unsigned char *p;
	const char *bad = NULL;

	if (shmctl(id, IPC_STAT, &ds))
		return "shm stat";
	if (ds.shm_perm.__key != key || (ds.shm_perm.mode & 0777) != mode || ds.shm_segsz != size)
		return "shm key/mode/size";
	p = shmat(id, NULL, SHM_RDONLY);
	if (p == (void *)-1)
		return "shm attach";
	for (size_t i = 0; i < size && !bad; i++)
		if (p[i] != (i < fill ? pat(i, which) : 0))
			bad = "shm bytes";
	shmdt(p);
	return bad;
}

static const char *check_msg(void)
{
	struct {
		long type;
		char text[2048];
	} m;
	struct msqid_ds ds;
	static const long types[3] = {1, 7, 2};
	static const size_t sizes[3] = {5, 1000, 0};

	if (msgctl(msg, IPC_STAT, &ds) || ds.msg_perm.__key != 0x5eed0003 || (ds.msg_perm.mode & 0777) != 0620 ||
	    ds.msg_qnum != 3)
		return "msg stat";
	for (int i = 0; i < 3; i++) {
		ssize_t n = msgrcv(msg, &m, sizeof(m.text), i, IPC_NOWAIT | MSG_COPY);

		if (n != (ssize_t)sizes[i] || m.type != types[i])
			return "msg message";
		if (i == 0 && memcmp(m.text, "alpha", 5))
			return "msg text";
		for (size_t k = 0; i == 1 && k < 1000; k++)
			if ((unsigned char)m.text[k] != pat(k, 3))
				return "msg text";
	}
	if (msgctl(msgp, IPC_STAT, &ds) || ds.msg_perm.__key != IPC_PRIVATE || ds.msg_qnum != 0 ||
	    ds.msg_qbytes != 4096)
		return "msgp stat";
	return NULL;
}

static const char *check(int round)
{
	unsigned short v[5];
	struct semid_ds ds;
	const char *bad;

	bad = check_shm(shm, 0x5eed0001, 0640, SHM_SIZE, SHM_FILL, 1);
	if (!bad)
		bad = check_shm(shmp, IPC_PRIVATE, 0600, SHMP_SIZE, SHMP_SIZE, 2);
	if (!bad && big >= 0)
		bad = check_shm(big, 0x5eed0004, 0600, BIG_SIZE, BIG_SIZE, 4);
	if (!bad && attached)
		for (size_t i = 0; i < SHM_SIZE && !bad; i++)
			if ((unsigned char)attached[i] != (i < SHM_FILL ? pat(i, 1) : 0))
				bad = "attached bytes";
	if (!bad && attached_p) {
		struct shmid_ds sds;

		if (shmctl(shmp, IPC_STAT, &sds) || !(sds.shm_perm.mode & SHM_DEST))
			bad = "shmp not removed";
		for (size_t i = 0; i < SHMP_SIZE && !bad; i++)
			if ((unsigned char)attached_p[i] != pat(i, 2))
				bad = "attached shmp bytes";
	}
	if (bad)
		return bad;
	if (semctl(sem, 0, IPC_STAT, (union semun){.buf = &ds}) || ds.sem_perm.__key != 0x5eed0002 ||
	    (ds.sem_perm.mode & 0777) != 0660 || ds.sem_nsems != 5)
		return "sem stat";
	if (semctl(sem, 0, GETALL, (union semun){.array = v}) || memcmp(v, sem_vals, sizeof(v)))
		return "sem values";
	return check_msg();
}

int main(int argc, char **argv)
{
	char line[256];
	unsigned char *p;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s OUTDIR [attach|rmid|big]\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	shm = shmget(0x5eed0001, SHM_SIZE, IPC_CREAT | IPC_EXCL | 0640);
	shmp = shmget(IPC_PRIVATE, SHMP_SIZE, IPC_CREAT | 0600);
	sem = semget(0x5eed0002, 5, IPC_CREAT | IPC_EXCL | 0660);
	msg = msgget(0x5eed0003, IPC_CREAT | IPC_EXCL | 0620);
	msgp = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (shm < 0 || shmp < 0 || sem < 0 || msg < 0 || msgp < 0)
		return perror("get"), 1;
	p = shmat(shm, NULL, 0);
	if (p == (void *)-1)
		return perror("shmat"), 1;
	for (size_t i = 0; i < SHM_FILL; i++)
		p[i] = pat(i, 1);
	if (argc == 3 && (!strcmp(argv[2], "attach") || !strcmp(argv[2], "rmid")))
		attached = (char *)p;
	else
		shmdt(p);
	p = shmat(shmp, NULL, 0);
	if (p == (void *)-1)
		return perror("shmat"), 1;
	for (size_t i = 0; i < SHMP_SIZE; i++)
		p[i] = pat(i, 2);
	if (argc == 3 && !strcmp(argv[2], "rmid")) {
		attached_p = (char *)p;
		if (shmctl(shmp, IPC_RMID, NULL))
			return perror("shmctl IPC_RMID"), 1;
	} else {
		shmdt(p);
	}
	if (argc == 3 && !strcmp(argv[2], "big")) {
		big = shmget(0x5eed0004, BIG_SIZE, IPC_CREAT | IPC_EXCL | 0600);
		if (big < 0)
			return perror("shmget big"), 1;
		p = shmat(big, NULL, 0);
		if (p == (void *)-1)
			return perror("shmat big"), 1;
		for (size_t i = 0; i < BIG_SIZE; i++)
			p[i] = pat(i, 4);
		shmdt(p);
	}
	if (semctl(sem, 0, SETALL, (union semun){.array = (unsigned short *)sem_vals}))
		return perror("semctl"), 1;
	{
		struct {
			long type;
			char text[1000];
		} m;
		struct msqid_ds ds;

		m.type = 1;
		memcpy(m.text, "alpha", 5);
		if (msgsnd(msg, &m, 5, 0))
			return perror("msgsnd"), 1;
		m.type = 7;
		for (size_t k = 0; k < 1000; k++)
			m.text[k] = (char)pat(k, 3);
		if (msgsnd(msg, &m, 1000, 0))
			return perror("msgsnd"), 1;
		m.type = 2;
		if (msgsnd(msg, &m, 0, 0))
			return perror("msgsnd"), 1;
		if (msgctl(msgp, IPC_STAT, &ds))
			return perror("msgctl"), 1;
		ds.msg_qbytes = 4096;
		if (msgctl(msgp, IPC_SET, &ds))
			return perror("msgctl IPC_SET"), 1;
	}
	snprintf(line, sizeof(line), "shm %d shmp %d sem %d msg %d msgp %d\n", shm, shmp, sem, msg, msgp);
	write_file("ready", line, 0);
	serve_rounds(check);
}
