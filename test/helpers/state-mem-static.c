/*
 * state-mem-static OUTDIR CASE: memory state across checkpoint/restore
 * (statecheck.h). Cases:
 *   anon-private  a private anonymous area with a pattern: same contents.
 */
#include <stdint.h>
#include <sys/mman.h>

#include "statecheck.h"

#define PAGE 4096UL

static uint64_t *area;
static size_t area_len = 64 * PAGE;

static uint64_t pat(size_t i, uint64_t seed)
{
	return (i * 0x9E3779B97F4A7C15ULL) ^ seed;
}

static void anon_setup(void)
{
	area = mmap(NULL, area_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		setup_failed("mmap");
	for (size_t i = 0; i < area_len / 8; i++)
		area[i] = pat(i, 1);
}

static const char *anon_check(int round)
{
	for (size_t i = 0; i < area_len / 8; i++)
		if (area[i] != pat(i, 1))
			return bad("word %zu: got %#llx", i, (unsigned long long)area[i]);
	return NULL;
}

static const struct state_case cases[] = {
	{"anon-private", anon_setup, anon_check},
	{NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return state_main(argc, argv, cases);
}
