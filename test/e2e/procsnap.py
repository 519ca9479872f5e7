#!/usr/bin/python3
"""Snapshot a process tree from /proc and compare two snapshots.

usage: procsnap.py snap ROOTPID OUT.json [--ignore-comm NAME ...]
       procsnap.py cmp BEFORE.json AFTER.json SECTION   (tree|status|maps|fds)
       procsnap.py same A.json B.json       (exit 0 when every section agrees)
       procsnap.py host VPID SNAP.json                   (host pid of VPID)

A snapshot holds, for every process of the tree rooted at ROOTPID (children
found through /proc/PID/task/*/children), everything in terms of the tree's
own pid namespace, so that a tree and its restored copy compare equal:
  tree:   virtual pid (last NSpid field), virtual ppid ("outside" for the
          root), virtual pgid and sid, comm, zombie or not, virtual tids
  status: SigBlk SigIgn SigCgt CapEff CapPrm Uid Gid Threads (of a zombie:
          Uid and Gid only)
  maps:   address range, permissions, name
  fds:    fd -> target, flags (without O_LARGEFILE) and position; pipe,
          socket and anon inode numbers renamed in order of first appearance
          (processes by virtual pid, fds ascending), so the sharing of one
          pipe by several fds shows, not its inode number.
Processes whose comm is in --ignore-comm (transient children such as a
shell's usleep) are left out. cmp prints the differences and exits 1 when
there are any.
"""
import json
import os
import re
import sys

STATUS_FIELDS = ["SigBlk", "SigIgn", "SigCgt", "CapEff", "CapPrm", "Uid", "Gid", "Threads"]
O_LARGEFILE = 0o100000


def read(path):
    with open(path) as f:
        return f.read()


def status(pid):
    st = {}
    for line in read("/proc/%d/status" % pid).splitlines():
        k, _, v = line.partition(":")
        st[k] = v.strip()
    return st


def last(field):
    return int(field.split()[-1])


def children(pid):
    kids = []
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return kids
    for t in tasks:
        try:
            kids += [int(x) for x in read("/proc/%d/task/%s/children" % (pid, t)).split()]
        except OSError:
            pass
    return kids


def tree(root):
    seen, order, todo = set(), [], [root]
    while todo:
        p = todo.pop(0)
        if p in seen:
            continue
        seen.add(p)
        order.append(p)
        todo += children(p)
    return order


def snap(root, ignore):
    procs = {}
    for pid in tree(root):
        try:
            st = status(pid)
            comm = read("/proc/%d/comm" % pid).strip()
        except OSError:
            continue  # exited meanwhile
        if comm in ignore:
            continue
        p = {"hostpid": pid, "comm": comm, "vpid": last(st["NSpid"]),
             "hostppid": int(st["PPid"]), "vpgid": last(st["NSpgid"]), "vsid": last(st["NSsid"]),
             "zombie": st["State"].startswith("Z"), "state": st["State"].split()[0],
             "tracer": int(st.get("TracerPid", "0")),
             "status": {k: " ".join(st.get(k, "?").split()) for k in STATUS_FIELDS}}
        tids = []
        try:
            for t in os.listdir("/proc/%d/task" % pid):
                tids.append(last(status_of_task(pid, t)["NSpid"]))
        except OSError:
            pass
        p["vtids"] = sorted(tids)
        maps = []
        try:
            for line in read("/proc/%d/maps" % pid).splitlines():
                f = line.split(None, 5)
                maps.append(" ".join([f[0], f[1]] + ([f[5]] if len(f) > 5 else [])))
        except OSError:
            pass
        p["maps"] = maps
        fds = {}
        try:
            for fd in sorted(os.listdir("/proc/%d/fd" % pid), key=int):
                try:
                    target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
                    info = {}
                    for line in read("/proc/%d/fdinfo/%s" % (pid, fd)).splitlines():
                        k, _, v = line.partition(":")
                        info[k] = v.strip()
                except OSError:
                    continue
                flags = int(info.get("flags", "0"), 8) & ~O_LARGEFILE
                fds[fd] = [target, "flags=0%o" % flags, "pos=" + info.get("pos", "?")]
        except OSError:
            pass
        p["fds"] = fds
        procs[p["vpid"]] = p
    byhost = {p["hostpid"]: p["vpid"] for p in procs.values()}
    inodes = {}
    for v in sorted(procs):
        p = procs[v]
        p["vppid"] = byhost.get(p["hostppid"], "outside")
        for fd in sorted(p["fds"], key=int):
            t = p["fds"][fd][0]
            m = re.match(r"^(pipe|socket|anon_inode:\[?[a-z_]*\]?):?\[(\d+)\]$", t)
            if m:
                key = (m.group(1), m.group(2))
                if key not in inodes:
                    inodes[key] = "%s#%d" % (m.group(1), len(inodes))
                p["fds"][fd][0] = inodes[key]
    return {"root": root, "procs": [procs[v] for v in sorted(procs)]}


def status_of_task(pid, tid):
    st = {}
    for line in read("/proc/%d/task/%s/status" % (pid, tid)).splitlines():
        k, _, v = line.partition(":")
        st[k] = v.strip()
    return st


def section(s, name):
    out = {}
    for p in s["procs"]:
        v = p["vpid"]
        if name == "tree":
            out[v] = ["ppid=%s" % p["vppid"], "pgid=%d" % p["vpgid"], "sid=%d" % p["vsid"],
                      "comm=%s" % p["comm"], "zombie=%s" % p["zombie"],
                      "tids=%s" % ",".join(map(str, p["vtids"]))]
        elif name == "status":
            # a zombie's masks and capabilities are those of a dead task
            # nobody can signal: only its credentials mean something
            keys = ["Uid", "Gid"] if p["zombie"] else STATUS_FIELDS
            out[v] = ["%s=%s" % (k, p["status"][k]) for k in keys]
        elif name == "maps":
            out[v] = p["maps"]
        elif name == "fds":
            out[v] = ["%s -> %s" % (fd, " ".join(t)) for fd, t in sorted(p["fds"].items(), key=lambda x: int(x[0]))]
    return out


def cmp(a, b, name):
    sa, sb = section(a, name), section(b, name)
    diffs = []
    for v in sorted(set(sa) | set(sb)):
        if v not in sb:
            diffs.append("pid %d missing after" % v)
            continue
        if v not in sa:
            diffs.append("pid %d (%s) is new" % (v, " ".join(sb[v]) if name == "tree" else ""))
            continue
        if name == "maps":
            la, lb = set(sa[v]), set(sb[v])
            for x in sorted(la - lb):
                diffs.append("pid %d lost [%s]" % (v, x))
            for x in sorted(lb - la):
                diffs.append("pid %d gained [%s]" % (v, x))
        elif sa[v] != sb[v]:
            la, lb = sa[v], sb[v]
            if name == "fds":
                la, lb = set(la), set(lb)
                diffs.append("pid %d: before {%s} after {%s}" % (v, "; ".join(sorted(la - lb)),
                                                                  "; ".join(sorted(lb - la))))
            else:
                ch = ["%s -> %s" % (x, y) for x, y in zip(la, lb) if x != y]
                diffs.append("pid %d: %s" % (v, ", ".join(ch)))
    if diffs:
        print("; ".join(diffs[:12]) + (" (and %d more)" % (len(diffs) - 12) if len(diffs) > 12 else ""))
        return 1
    return 0


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "snap":
        ignore = set()
        args = sys.argv[4:]
        while args:
            if args[0] == "--ignore-comm" and len(args) > 1:
                ignore.add(args[1])
                args = args[2:]
            else:
                sys.exit("unknown argument " + args[0])
        s = snap(int(sys.argv[2]), ignore)
        with open(sys.argv[3], "w") as f:
            json.dump(s, f, indent=1, sort_keys=True)
        return 0
    if len(sys.argv) == 5 and sys.argv[1] == "cmp":
        a, b = (json.load(open(x)) for x in sys.argv[2:4])
        return cmp(a, b, sys.argv[4])
    if len(sys.argv) == 4 and sys.argv[1] == "same":
        a, b = (json.load(open(x)) for x in sys.argv[2:4])
        return int(any(section(a, n) != section(b, n) for n in ("tree", "status", "maps", "fds")))
    if len(sys.argv) == 4 and sys.argv[1] == "host":
        s = json.load(open(sys.argv[3]))
        for p in s["procs"]:
            if p["vpid"] == int(sys.argv[2]):
                print(p["hostpid"])
                return 0
        return 1
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
