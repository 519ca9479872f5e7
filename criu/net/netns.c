/*
 * A network namespace of the tree's own, when it holds nothing but its
 * loopback device: what a container gets before a runtime plugs a network
 * into it, or when it is run without one. Dump checks it is that (lo only,
 * lo's own addresses, no routes) in a child that joins it, and saves lo's
 * flags and MTU as netdev-1.img; restore creates a new network namespace
 * and sets lo the same way. Anything more (other devices, addresses,
 * IPv4 routes) is refused: it would come back missing. IPv6 routes, rules,
 * firewall rules and net.* sysctls are neither checked nor restored.
 *
 * A namespace that is someone else's is not looked into: one named
 * external at dump (--external net[INODE]:KEY; runc does so for a
 * container whose config gives a namespace path) goes into netns-1.img as
 * its KEY only, and restore joins the one given for KEY (--inherit-fd);
 * with --empty-ns net (runc sends it for every other container: its
 * network is the runtime's business) only lo's flags and MTU are saved,
 * and restore makes a new namespace with lo as it was and nothing else.
 * Upstream leaves lo down there, and neither runc nor containerd bring it
 * up on restore, so connections on 127.0.0.1 broke (criu#590,
 * containerd#4683): lo is every namespace's, not a device a runtime adds.
 */
#define LOG_PREFIX "net: "

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dump.h"
#include "options.h"
#include "util/log.h"
#include "net/netns.h"
#include "util/util.h"

/* What the child found: ok, or why not, for the parent to print. */
struct net_report {
	int err; /* -errno of a failed probe */
	char why[512];
	uint32_t flags, mtu;
};

/* Is this address one the kernel gives lo itself (127.0.0.1/8, ::1/128)? */
static bool lo_own_address(const struct sockaddr *a)
{
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
	if (a->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)a)->sin6_addr);
	return true; /* AF_PACKET: the link itself */
}

/* IPv4 routes of the main table (/proc/self/net/route, header excluded). */
static int count_routes(void)
{
	char line[512];
	int n = -1;
	FILE *f = fopen("/proc/self/net/route", "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n < 0 ? 0 : n;
}

/* lo's flags and MTU, in the namespace. */
static void probe_lo(struct net_report *r)
{
	struct ifreq ifr = {0};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		r->err = -errno;
	} else {
		r->flags = (uint16_t)ifr.ifr_flags;
		if (ioctl(s, SIOCGIFMTU, &ifr) < 0)
			r->err = -errno;
		r->mtu = (uint32_t)ifr.ifr_mtu;
	}
	if (s >= 0)
		close(s);
}

/* In the child, inside the namespace: is it lo only, and lo's state. */
static void probe(struct net_report *r)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	struct ifaddrs *addrs = NULL, *a;
	size_t len = 0;
	int routes;

	if (!ifs) {
		r->err = -errno;
		return;
	}
	for (i = ifs; i->if_index && len < sizeof(r->why) - IFNAMSIZ - 16; i++)
		if (strcmp(i->if_name, "lo"))
			len += (size_t)snprintf(r->why + len, sizeof(r->why) - len, "%s%s", len ? ", " : "device ",
						i->if_name);
	if_freenameindex(ifs);
	if (len)
		return;
	if (getifaddrs(&addrs)) {
		r->err = -errno;
		return;
	}
	for (a = addrs; a && len < sizeof(r->why) - 64; a = a->ifa_next) {
		char text[INET6_ADDRSTRLEN] = "?";

		if (!a->ifa_addr || lo_own_address(a->ifa_addr))
			continue;
		inet_ntop(a->ifa_addr->sa_family,
			  a->ifa_addr->sa_family == AF_INET ? (void *)&((struct sockaddr_in *)a->ifa_addr)->sin_addr
							    : (void *)&((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr,
			  text, sizeof(text));
		len += (size_t)snprintf(r->why + len, sizeof(r->why) - len, "%saddress %s on %s", len ? ", " : "",
					text, a->ifa_name);
	}
	freeifaddrs(addrs);
	if (len)
		return;
	routes = count_routes();
	if (routes > 0) {
		snprintf(r->why, sizeof(r->why), "%d IPv4 route%s", routes, routes > 1 ? "s" : "");
		return;
	}
	probe_lo(r);
}

int netns_of_task(pid_t pid, bool lo_only, bool *own, NetDeviceEntry *lo)
{
	struct net_report r = {0};
	char path[64];
	struct stat a, b;
	int fds[2], got = -1;
	pid_t child;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	*own = false;
	if (stat(path, &a) || stat("/proc/self/ns/net", &b)) {
		pr_perror("can't stat the network namespace of task %d", pid);
		return -errno;
	}
	if (a.st_ino == b.st_ino)
		return 0;
	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	child = fork();
	if (child == 0) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		close(fds[0]);
		if (fd < 0 || setns(fd, CLONE_NEWNET))
			r.err = -errno;
		else if (lo_only)
			probe_lo(&r);
		else
			probe(&r);
		_exit(write(fds[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	close(fds[1]);
	if (child > 0 && read(fds[0], &r, sizeof(r)) == sizeof(r))
		got = 0;
	close(fds[0]);
	if (child > 0)
		waitpid(child, NULL, 0);
	if (got || r.err) {
		pr_err("can't look into the network namespace of task %d: %s\n", pid,
		       strerror(got ? EIO : -r.err));
		return got ? -EIO : r.err;
	}
	if (r.why[0]) {
		pr_err("task %d has a network namespace of its own with %s; only one with nothing but lo can be dumped yet\n",
		       pid, r.why);
		return -EOPNOTSUPP;
	}
	*own = true;
	lo->type = ND_TYPE__LOOPBACK;
	lo->ifindex = 1;
	lo->mtu = r.mtu;
	lo->flags = r.flags;
	lo->name = "lo";
	return 0;
}

int netns_check_image(const NetDeviceEntry *const *devs, size_t n)
{
	if (n == 0)
		return 0; /* --empty-ns net at dump: nothing saved, nothing set */
	if (n != 1 || devs[0]->type != ND_TYPE__LOOPBACK || strcmp(devs[0]->name, "lo")) {
		pr_err("netdev-1.img: %zu devices, the first %s; only a namespace with nothing but lo can be restored\n",
		       n, n ? devs[0]->name : "(none)");
		return -EOPNOTSUPP;
	}
	return 0;
}

int netns_apply(const NetDeviceEntry *lo)
{
	struct ifreq ifr = {0};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (s < 0)
		ret = -errno;
	if (!ret && lo->mtu) {
		ifr.ifr_mtu = (int)lo->mtu;
		if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
			ret = -errno;
	}
	if (!ret && (lo->flags & IFF_UP)) {
		if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
			ret = -errno;
		} else {
			ifr.ifr_flags |= IFF_UP;
			if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
				ret = -errno;
		}
	}
	if (s >= 0)
		close(s);
	if (ret)
		pr_err("can't set lo up in the new network namespace: %s\n", strerror(-ret));
	return ret;
}

/* The inode of task pid's network namespace (0 for "self"). */
static int net_ino(pid_t pid, unsigned long *ino);

int netns_lock_fd(const struct dump_ctx *d, int *fd)
{
	const struct external_opt *other;
	unsigned long ino;
	char path[64];
	int ret = net_ino(d->pid, &ino);

	*fd = -1;
	if (ret)
		return ret;
	if (!(d->opts->empty_ns & CLONE_NEWNET) && !ns_external_key(d->opts, "net", ino, &other))
		return 0; /* lo only (checked by netns_dump): nothing outside reaches it */
	snprintf(path, sizeof(path), "/proc/%d/ns/net", d->pid);
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0) {
		pr_perror("can't open %s to lock the tree's connections in it", path);
		return -EIO;
	}
	return 0;
}

/* The inode of task pid's network namespace (0 for "self"). */
static int net_ino(pid_t pid, unsigned long *ino)
{
	char path[64];
	struct stat st;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/net");
	if (stat(path, &st)) {
		pr_perror("can't stat %s", path);
		return -errno;
	}
	*ino = (unsigned long)st.st_ino;
	return 0;
}

/*
 * --external net[INODE]:KEY: every one given must name the tree's
 * namespace; *key is its KEY, or NULL when none was given.
 */
static int external_key(const struct dump_ctx *d, unsigned long ino, const char **key)
{
	const struct external_opt *other;

	*key = ns_external_key(d->opts, "net", ino, &other);
	if (other) {
		pr_err("--external net[%s]:%s: the tree's network namespace is net:[%lu], not net:[%s]\n", other->key,
		       other->val, ino, other->key);
		pr_hint("give the inode `readlink /proc/%d/ns/net` shows\n", d->pid);
		return -EINVAL;
	}
	return 0;
}

/*
 * The root's network namespace, when it is its own: external (its KEY in
 * netns-1.img, nothing else: its owner keeps its configuration), left
 * unsaved but for lo (--empty-ns net: upstream's dump leaves its image
 * set empty; lo's state is ours), or saved if it holds nothing but lo.
 * Sockets are dumped with the tasks' files in every case.
 */
int netns_dump(struct dump_ctx *d)
{
	NetDeviceEntry lo = NET_DEVICE_ENTRY__INIT;
	NetnsEntry ns = NETNS_ENTRY__INIT;
	unsigned long theirs, ours;
	struct img_writer *w;
	const char *key;
	bool own;
	int ret = net_ino(d->pid, &theirs);

	if (!ret)
		ret = net_ino(0, &ours);
	if (!ret)
		ret = external_key(d, theirs, &key);
	if (ret)
		return ret;
	if (theirs == ours) {
		if (key)
			pr_info("--external net[%lu]: the tree shares criu's network namespace; restore puts it in the "
				"restoring criu's\n",
				theirs);
		return 0;
	}
	if (key) {
		pr_info("network namespace net:[%lu] is external: saved as %s, not dumped\n", theirs, key);
		ns.ext_key = (char *)key;
		w = img_set_new(&d->imgs, IMG_NETNS, 1);
		return w ? img_write_entry(w, &ns.base) : -EIO;
	}
	if (d->opts->empty_ns & CLONE_NEWNET)
		pr_info("--empty-ns net: the devices, addresses and routes of net:[%lu] are not dumped, only lo's state\n",
			theirs);
	ret = netns_of_task(d->pid, d->opts->empty_ns & CLONE_NEWNET, &own, &lo);
	if (ret || !own)
		return ret;
	w = img_set_new(&d->imgs, IMG_NETDEV, 1);
	return w ? img_write_entry(w, &lo.base) : -EIO;
}
