#!/usr/bin/python3
"""Compare two mount namespaces' mountinfo files as trees.

usage: mntcmp.py DUMPED RESTORED [OLDROOT=NEWROOT ...]

Mount ids, device numbers and peer group ids differ between a namespace and
its restored copy, so each namespace is reduced to a canonical form: the tree
of mountpoints (children sorted by mountpoint, overmounts kept as children),
each with its root (translated by the OLDROOT=NEWROOT pairs, for external
mounts bound from another host path), fstype, source, mount options,
superblock options and propagation, where peer groups are renamed in order
of first appearance and a master outside the namespace is called "host".
Prints the differences and exits 1 when there are any.
"""
import sys


def unescape(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == '\\' and i + 3 < len(s) + 0 and s[i + 1:i + 4].isdigit():
            out.append(chr(int(s[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(s[i])
            i += 1
    return ''.join(out)


def parse(path):
    mounts = {}
    order = []
    for line in open(path):
        f = line.split()
        sep = f.index('-')
        m = dict(id=f[0], parent=f[1], root=unescape(f[3]), mp=unescape(f[4]), opts=f[5],
                 optional=f[6:sep], fstype=f[sep + 1], source=unescape(f[sep + 2]),
                 sbopts=f[sep + 3] if len(f) > sep + 3 else '')
        mounts[m['id']] = m
        order.append(m)
    return mounts, order


def canon(path, translate):
    mounts, order = parse(path)
    kids = {}
    roots = []
    for m in order:
        if m['parent'] in mounts and m['parent'] != m['id']:
            kids.setdefault(m['parent'], []).append(m)
        else:
            roots.append(m)
    shared_ids = set()
    for m in order:
        for o in m['optional']:
            if o.startswith('shared:'):
                shared_ids.add(o[7:])
    names = {}
    out = []

    def group(n):
        if n not in names:
            names[n] = 'g%d' % len(names)
        return names[n]

    def walk(m, depth):
        root = m['root']
        for old, new in translate:
            if root == new or root.startswith(new + '/'):
                root = old + root[len(new):]
        prop = []
        for o in sorted(m['optional']):
            k, _, v = o.partition(':')
            if k == 'shared':
                prop.append('shared:' + group(v))
            elif k == 'master':
                prop.append('master:' + (group(v) if v in shared_ids else 'host'))
            else:
                prop.append(o)
        source = m['source'] if m['fstype'] not in ('ext4', 'xfs', 'btrfs') else '-'
        out.append('%s%s root=%s %s src=%s opts=%s sb=%s %s' % (
            '  ' * depth, m['mp'], root, m['fstype'], source, m['opts'], m['sbopts'], ' '.join(prop)))
        for c in sorted(kids.get(m['id'], []), key=lambda c: c['mp']):
            walk(c, depth + 1)

    for r in roots:
        walk(r, 0)
    return out


def main():
    translate = [tuple(a.split('=', 1)) for a in sys.argv[3:]]
    a = canon(sys.argv[1], [])
    b = canon(sys.argv[2], translate)
    if a == b:
        return 0
    import difflib
    for line in difflib.unified_diff(a, b, 'dumped', 'restored', lineterm=''):
        print(line)
    return 1


if __name__ == '__main__':
    sys.exit(main())
