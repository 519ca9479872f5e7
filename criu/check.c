/*
 * `criu check [--feature NAME]`: does this kernel have what we use? The
 * features and their probes are kerndat's table; this prints it. A missing
 * required feature fails the check; a missing optional one is listed, as
 * criu adapts to it or refuses only the trees that need it.
 */
#include <stdio.h>
#include <string.h>

#define LOG_PREFIX "check: "
#include "crtools.h"
#include "util/kerndat.h"
#include "util/log.h"
#include "util/util.h"

static int check_one(const char *name)
{
	int f = kdat_lookup(name);

	if (f < 0) {
		pr_err("unknown feature '%s'\n", name);
		pr_hint("known features:");
		for (int i = 0; i < KF__NR; i++)
			print_on_level(LOG_ERROR, " %s", kdat_feature(i)->name);
		print_on_level(LOG_ERROR, "\n");
		return -1;
	}
	if (!kdat_has(f)) {
		pr_err("%s: %s: not supported by this kernel\n", name, kdat_feature(f)->desc);
		return -1;
	}
	pr_msg("%s is supported\n", name);
	return 0;
}

int cr_check(const struct options *o)
{
	int width = 0, missing_required = 0, missing_optional = 0;

	if (o->feature)
		return check_one(o->feature);
	for (int f = 0; f < KF__NR; f++) {
		int len = (int)strlen(kdat_feature(f)->name);

		width = len > width ? len : width;
	}
	for (int f = 0; f < KF__NR; f++) {
		const struct kdat_feature *k = kdat_feature(f);
		bool has = kdat_has(f);

		pr_msg("%-*s  %-8s  %-3s  %s\n", width, k->name, k->required ? "required" : "optional",
		       has ? "yes" : "no", k->desc);
		if (has)
			continue;
		if (k->required) {
			missing_required++;
			pr_err("%s: %s: not supported by this kernel\n", k->name, k->desc);
		} else {
			missing_optional++;
		}
	}
	if (missing_required)
		return -1;
	if (missing_optional)
		pr_msg("%d optional feature%s missing: criu works around %s, or refuses only the trees that need %s\n",
		       missing_optional, missing_optional > 1 ? "s" : "", missing_optional > 1 ? "them" : "it",
		       missing_optional > 1 ? "them" : "it");
	pr_msg("Looks good.\n");
	return 0;
}
