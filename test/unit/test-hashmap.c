/*
 * Unit tests for the hash maps (criu/util/hashmap.c): integer and string
 * keys, insert, replace, lookups of absent keys, growth across many
 * resizes, and the iterator: every entry exactly once, an empty map, values
 * replaced during a walk. (The maps have no removal.)
 */
#include <stdint.h>

#include "unit.h"
#include "util/hashmap.h"
#include "util/util.h"

static void *ptr(uintptr_t v)
{
	return (void *)v;
}

static int test_empty(void)
{
	struct hmap m;
	unsigned n = 0;

	hmap_init(&m);
	CHECK(hmap_len(&m) == 0);
	CHECK(!hmap_get_int(&m, 0) && !hmap_get_int(&m, 42));
	CHECK(!hmap_get_str(&m, "") && !hmap_get_strn(&m, "abc", 2));
	hmap_for_each(&m, it)
		n++;
	CHECK(n == 0);
	hmap_free(&m);
	hmap_free(&m); /* freed maps are empty maps */
	CHECK(hmap_len(&m) == 0);
	return 0;
}

static int test_int_keys(void)
{
	struct hmap m;

	hmap_init(&m);
	CHECK(hmap_put_int(&m, 0, ptr(1)) == NULL);
	CHECK(hmap_put_int(&m, UINT64_MAX, ptr(2)) == NULL);
	CHECK(hmap_put_int(&m, 7, ptr(3)) == NULL);
	CHECK(hmap_len(&m) == 3);
	CHECK(hmap_get_int(&m, 0) == ptr(1) && hmap_get_int(&m, UINT64_MAX) == ptr(2) && hmap_get_int(&m, 7) == ptr(3));
	CHECK(!hmap_get_int(&m, 8));
	/* replace: the old value comes back, the count stays */
	CHECK(hmap_put_int(&m, 7, ptr(4)) == ptr(3));
	CHECK(hmap_get_int(&m, 7) == ptr(4) && hmap_len(&m) == 3);
	hmap_free(&m);
	return 0;
}

static int test_str_keys(void)
{
	char key[] = "/a/b/c";
	struct hmap m;

	hmap_init(&m);
	CHECK(hmap_put_str(&m, "/a", ptr(1)) == NULL);
	CHECK(hmap_put_str(&m, "/a/b", ptr(2)) == NULL);
	CHECK(hmap_put_str(&m, "", ptr(3)) == NULL);
	CHECK(hmap_get_str(&m, "/a") == ptr(1) && hmap_get_str(&m, "/a/b") == ptr(2) && hmap_get_str(&m, "") == ptr(3));
	CHECK(!hmap_get_str(&m, "/a/b/c") && !hmap_get_str(&m, "/"));
	/* prefixes of a longer key, as the mount code walks paths */
	CHECK(hmap_get_strn(&m, key, 2) == ptr(1) && hmap_get_strn(&m, key, 4) == ptr(2));
	CHECK(hmap_get_strn(&m, key, 0) == ptr(3) && !hmap_get_strn(&m, key, 3));
	/* equal strings at other addresses are the same key */
	CHECK(hmap_put_str(&m, key + 4, ptr(5)) == NULL); /* "/c" */
	CHECK(hmap_get_str(&m, "/c") == ptr(5));
	CHECK(hmap_put_str(&m, "/c", ptr(6)) == ptr(5) && hmap_len(&m) == 4);
	/* an int key is never a string key */
	CHECK(!hmap_get_int(&m, 0));
	hmap_free(&m);
	return 0;
}

/* Many keys: every one found after many resizes, each visited once. */
static int test_growth_and_walk(void)
{
	const unsigned n = 100000;
	unsigned char *seen = calloc(n, 1);
	struct hmap m;
	size_t visits = 0;

	CHECK(seen);
	hmap_init(&m);
	/* keys spread out and clustered, values the key + 1 */
	for (unsigned i = 0; i < n; i++)
		CHECK(hmap_put_int(&m, (uint64_t)i * 4096, ptr(i + 1)) == NULL);
	CHECK(hmap_len(&m) == n);
	for (unsigned i = 0; i < n; i++)
		CHECK(hmap_get_int(&m, (uint64_t)i * 4096) == ptr(i + 1));
	CHECK(!hmap_get_int(&m, 4095));

	hmap_for_each(&m, it) {
		uint64_t k = it.ikey / 4096;

		CHECK(!it.skey && it.ikey % 4096 == 0 && k < n);
		CHECK(it.val == ptr(k + 1));
		CHECK(!seen[k]);
		seen[k] = 1;
		visits++;
	}
	CHECK(visits == n);
	free(seen);
	hmap_free(&m);
	return 0;
}

static int test_walk_str_keys(void)
{
	static const char *const keys[] = {"/", "/proc", "/sys", "/sys/fs/cgroup", "/dev", "/dev/pts", ""};
	unsigned found = 0;
	struct hmap m;

	hmap_init(&m);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		hmap_put_str(&m, keys[i], ptr(i + 1));
	hmap_for_each(&m, it) {
		uintptr_t i = (uintptr_t)it.val - 1;

		CHECK(i < ARRAY_SIZE(keys) && it.skey == keys[i]);
		CHECK(!(found & (1U << i)));
		found |= 1U << i;
	}
	CHECK(found == (1U << ARRAY_SIZE(keys)) - 1);
	hmap_free(&m);
	return 0;
}

/* Values may be replaced during a walk (even into NULL); nothing moves. */
static int test_replace_during_walk(void)
{
	struct hmap m;
	size_t visits = 0;
	unsigned n;

	hmap_init(&m);
	/* stop right below a resize, where a careless put would grow */
	for (n = 0; hmap_len(&m) < 47; n++)
		hmap_put_int(&m, n, ptr(n + 1));
	/* halfway through, so that a move would bring back entries seen */
	hmap_for_each(&m, it) {
		if (++visits > n / 2)
			CHECK(hmap_put_int(&m, it.ikey, ptr(it.ikey + 100)) == ptr(it.ikey + 1));
	}
	CHECK(visits == n && hmap_len(&m) == n);
	visits = 0;
	for (unsigned i = 0; i < n; i++)
		visits += hmap_get_int(&m, i) == ptr(i + 100);
	CHECK(visits == n - n / 2);
	/* a value stored as NULL is absent to get, but still a key */
	hmap_put_int(&m, 0, NULL);
	CHECK(!hmap_get_int(&m, 0) && hmap_len(&m) == n);
	visits = 0;
	hmap_for_each(&m, it)
		visits++;
	CHECK(visits == n);
	hmap_free(&m);
	return 0;
}

/* hmap_next by hand: once at the end, it stays there. */
static int test_next(void)
{
	struct hmap_iter it = HMAP_ITER_INIT;
	struct hmap m;

	hmap_init(&m);
	CHECK(!hmap_next(&m, &it));
	hmap_put_int(&m, 5, ptr(9));
	it = (struct hmap_iter)HMAP_ITER_INIT;
	CHECK(hmap_next(&m, &it) && it.ikey == 5 && !it.skey && it.val == ptr(9));
	CHECK(!hmap_next(&m, &it) && !hmap_next(&m, &it));
	hmap_free(&m);
	return 0;
}

static const struct unit_case cases[] = {
	{"hashmap_empty", test_empty},
	{"hashmap_int_keys", test_int_keys},
	{"hashmap_str_keys", test_str_keys},
	{"hashmap_growth_and_walk", test_growth_and_walk},
	{"hashmap_walk_str_keys", test_walk_str_keys},
	{"hashmap_replace_during_walk", test_replace_during_walk},
	{"hashmap_next", test_next},
	{},
};

UNIT_MAIN(cases)
