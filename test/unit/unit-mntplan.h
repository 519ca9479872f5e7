/*
 * The restore planner's test harness, shared by test-mount-plan.c (one
 * namespace) and test-mntns-plan.c (several): entries planned with
 * restore options, the plan's text compared with the expected one. Each
 * test defines plan(specs, args, out), parsing its own entry form, on top
 * of plan_entries().
 */
#ifndef UNIT_MNTPLAN_H
#define UNIT_MNTPLAN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mount/mount-restore.h"
#include "options.h"
#include "util/log.h"
#include "util/util.h"

/* Plans `n` entries (ns_of: their namespaces, NULL: one) with the restore
 * options `args`: the error count (-1: images rejected), the plan's text in
 * *out. Takes the entries. */
static int plan_entries(MntEntry **entries, const unsigned *ns_of, int n, const char *args, char **out)
{
	struct mount_plan p;
	struct options o;
	char *argv[32] = {"criu", "restore"}, *copy = xstrdup(args);
	int argc = 2, ret;

	for (char *t = strtok(copy, " "); t; t = strtok(NULL, " "))
		argv[argc++] = t;
	if (parse_options(argc, argv, &o))
		abort();
	log_init(-1, "/dev/null");
	ret = mount_plan_from_entries(&p, entries, ns_of, n);
	ret = ret == 0 ? mount_plan_decide(&p, &o, false) : -1;
	log_init(LOG_WARN, NULL);
	*out = ret == 0 ? mount_plan_format(&p) : xstrdup("");
	mount_plan_free(&p);
	options_free(&o);
	free(copy);
	return ret;
}

#define EXPECT_PLAN(specs, args, want)                                                                                 \
	do {                                                                                                           \
		char *got;                                                                                             \
		CHECK(plan(specs, args, &got) == 0);                                                                   \
		int _d = strcmp(got, want);                                                                            \
		if (_d)                                                                                                \
			fprintf(stderr, "got:\n%s", got);                                                              \
		free(got);                                                                                             \
		CHECK(_d == 0);                                                                                        \
	} while (0)

#endif
