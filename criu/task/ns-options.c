/*
 * The namespace options, parsed (options.h): --empty-ns, --join-ns (and
 * RPC's join_ns), and the check of --external net[INODE]:KEY and
 * pid[INODE]:KEY. What they do to a dump or a restore is decided in
 * restore-plan.c (restore_ns_plan) and net/netns.c, task/pidns.c (dump).
 *
 * Upstream's rules, kept: --empty-ns takes only "net" (RPC empty_ns only
 * CLONE_NEWNET); --join-ns NS:PATH[,EXTRA] names the namespace by a file
 * (/proc/PID/ns/uts, a bind mount of one) or by a pid, whose namespace of
 * that kind is joined. Upstream also joins time, user and mount
 * namespaces; criu joins net, uts and ipc ones and refuses the others by
 * name rather than ignore them. A pid namespace is never joined (as
 * upstream): an external one is given with --external pid[INODE]:KEY at
 * dump and --inherit-fd fd[N]:KEY at restore.
 */
#define LOG_PREFIX "opts: "

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "util/log.h"
#include "util/util.h"

int parse_empty_ns(struct options *o, const char *arg)
{
	if (strcmp(arg, "net")) {
		pr_err("--empty-ns %s: only the network namespace can be restored empty\n", arg);
		pr_hint("write --empty-ns net\n");
		return -1;
	}
	o->empty_ns |= CLONE_NEWNET;
	return 0;
}

/* Why criu won't join a namespace of this kind; NULL if it does. */
static const char *join_refused(const char *ns)
{
	if (!strcmp(ns, "pid"))
		return "a pid namespace is not joined: dump with --external pid[INODE]:KEY and restore with "
		       "--inherit-fd fd[N]:KEY, N a descriptor of the namespace";
	if (!strcmp(ns, "mnt"))
		return "criu builds the tree's mount namespace from its images under --root; it can't join an "
		       "existing one";
	if (!strcmp(ns, "user"))
		return "criu doesn't restore into user namespaces yet";
	if (!strcmp(ns, "time"))
		return "criu doesn't join time namespaces yet (without --join-ns the tree gets a new one with "
		       "its clocks)";
	if (!strcmp(ns, "cgroup"))
		return "a cgroup namespace can't be joined (as upstream)";
	return "unknown namespace kind (net, uts and ipc can be joined)";
}

/* A pid: all digits, in range. */
static bool is_pid(const char *s)
{
	char *end;
	long v;

	if (!*s || strspn(s, "0123456789") != strlen(s))
		return false;
	v = strtol(s, &end, 10);
	return v > 0 && v < (1L << 22);
}

int add_join_ns(struct options *o, const char *ns, const char *path, const char *extra)
{
	struct join_ns_opt *j;

	if (strcmp(ns, "net") && strcmp(ns, "uts") && strcmp(ns, "ipc")) {
		pr_err("--join-ns %s:%s: %s\n", ns, path, join_refused(ns));
		return -1;
	}
	if (!path[0] || (path[0] != '/' && !is_pid(path))) {
		pr_err("--join-ns %s:%s: expected an absolute path to a namespace file or a pid\n", ns, path);
		pr_hint("e.g. --join-ns %s:/proc/1234/ns/%s or --join-ns %s:1234\n", ns, ns, ns);
		return -1;
	}
	if (extra && extra[0]) {
		pr_err("--join-ns %s:%s,%s: extra options are for user namespaces only\n", ns, path, extra);
		return -1;
	}
	for (size_t i = 0; i < o->nr_join_ns; i++)
		if (!strcmp(o->join_ns[i].ns, ns)) {
			pr_err("--join-ns %s given twice (%s and %s)\n", ns, o->join_ns[i].path, path);
			return -1;
		}
	o->join_ns = xrealloc(o->join_ns, (o->nr_join_ns + 1) * sizeof(*o->join_ns));
	j = &o->join_ns[o->nr_join_ns++];
	j->ns = xstrdup(ns);
	j->path = xstrdup(path);
	j->extra = NULL;
	return 0;
}

int parse_join_ns(struct options *o, const char *arg)
{
	const char *colon = strchr(arg, ':');
	_cleanup_free_ char *ns = NULL, *path = NULL;
	char *comma;

	if (!colon || colon == arg || !colon[1]) {
		pr_err("bad --join-ns '%s': expected NS:PATH or NS:PID, e.g. uts:/proc/1234/ns/uts\n", arg);
		return -1;
	}
	ns = strndup(arg, (size_t)(colon - arg));
	path = xstrdup(colon + 1);
	comma = strchr(path, ',');
	if (comma)
		*comma++ = '\0';
	return add_join_ns(o, ns, path, comma);
}

int check_ns_external(const char *kind, const char *key, const char *val)
{
	char *end;
	unsigned long ino;

	if (strcmp(kind, "net") && strcmp(kind, "pid"))
		return 0;
	errno = 0;
	ino = strtoul(key, &end, 10);
	if (!key[0] || *end || errno || !ino || key[0] == '-' || key[0] == '+') {
		pr_err("--external %s[%s]: '%s' is not a namespace inode\n", kind, key, key);
		pr_hint("give the inode `readlink /proc/PID/ns/%s` shows (%s:[INODE]): --external %s[INODE]:KEY\n",
			kind, kind, kind);
		return -1;
	}
	if (!val || !val[0]) {
		pr_err("--external %s[%s]: a KEY is needed, the name restore gets the namespace by\n", kind, key);
		pr_hint("write --external %s[%s]:KEY, and restore with --inherit-fd fd[N]:KEY\n", kind, key);
		return -1;
	}
	return 0;
}

const char *ns_external_key(const struct options *o, const char *kind, unsigned long ino,
			    const struct external_opt **other)
{
	const char *key = NULL;

	*other = NULL;
	for (size_t i = 0; i < o->nr_externals; i++) {
		const struct external_opt *e = &o->externals[i];

		if (strcmp(e->kind, kind))
			continue;
		if (strtoul(e->key, NULL, 10) != ino)
			*other = e;
		else if (!key)
			key = e->val;
	}
	return key;
}
