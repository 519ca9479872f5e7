/* Configuration files (see config-file.h): lines into "--name value" arguments. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-file.h"
#include "util/log.h"
#include "util/util.h"

static void push(struct arg_vec *v, char *s)
{
	v->argv = xrealloc(v->argv, (v->argc + 2) * sizeof(*v->argv));
	v->argv[v->argc++] = s;
	v->argv[v->argc] = NULL;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Only blanks, or a comment, may follow a value. */
static bool rest_is_empty(const char *p)
{
	while (blank(*p))
		p++;
	return *p == '\0' || *p == '#';
}

/* A quoted value starting after the opening quote: the text, unescaped. */
static char *quoted_value(const char *p, const char **end)
{
	char *val = xmalloc(strlen(p) + 1), *d = val;

	for (; *p; p++) {
		if (*p == '\\' && p[1] == '"') {
			*d++ = '"';
			p++;
			continue;
		}
		if (*p == '"') {
			*d = '\0';
			*end = p + 1;
			return val;
		}
		*d++ = *p;
	}
	free(val);
	return NULL;
}

int config_parse_line(const char *line, struct arg_vec *out, const char **why)
{
	const char *p = line, *name, *end;
	char *opt, *val;

	while (blank(*p))
		p++;
	if (!*p || *p == '#')
		return 0;
	name = p;
	while (*p && !blank(*p) && *p != '#')
		p++;
	opt = xmalloc(p - name + 3);
	memcpy(opt, "--", 2);
	memcpy(opt + 2, name, p - name);
	opt[p - name + 2] = '\0';
	while (blank(*p))
		p++;
	if (!*p || *p == '#') {
		push(out, opt);
		return 0;
	}
	if (*p == '"') {
		val = quoted_value(p + 1, &end);
		if (!val) {
			*why = "a quoted value without its closing quote";
			free(opt);
			return -1;
		}
	} else {
		end = p;
		while (*end && !blank(*end) && *end != '#')
			end++;
		val = strndup(p, end - p);
	}
	if (!rest_is_empty(end)) {
		*why = "more than one value (quote a value that has spaces)";
		free(opt);
		free(val);
		return -1;
	}
	push(out, opt);
	push(out, val);
	return 0;
}

int config_read_file(const char *path, struct arg_vec *out)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, ret = 0;

	if (!f) {
		if (errno == ENOENT)
			return 1;
		pr_perror("can't read configuration file %s", path);
		return -1;
	}
	while (getline(&line, &cap, f) >= 0) {
		const char *why = NULL;

		lineno++;
		if (config_parse_line(line, out, &why)) {
			pr_err("%s:%d: %s\n", path, lineno, why);
			pr_hint("a line is an option's long name without the dashes, then its value if it takes one, "
				"e.g. `verbosity 4` or `lsm-profile \"apparmor:name\"`\n");
			ret = -1;
			break;
		}
	}
	free(line);
	fclose(f);
	return ret;
}

void arg_vec_free(struct arg_vec *v)
{
	for (int i = 0; i < v->argc; i++)
		free(v->argv[i]);
	free(v->argv);
	v->argv = NULL;
	v->argc = 0;
}
