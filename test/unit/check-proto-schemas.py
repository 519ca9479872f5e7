#!/usr/bin/python3
# Usage: check-proto-schemas.py DESCRIPTOR_SET
# Compares our images/*.proto (compiled by `protoc-c --include_imports
# --descriptor_set_out`) with the schemas of Debian's pycriu: every message
# and enum we declare must exist there, and every field we declare must have
# the same name, number, type, label, packing and default. Fields we leave
# out are listed, not errors. Exits 1 on any mismatch.
import glob
import importlib
import os
import sys

sys.path.insert(0, "/usr/lib/python3/dist-packages")
from google.protobuf import descriptor_pb2  # noqa: E402

PYCRIU = "/usr/lib/python3/dist-packages/pycriu/images"

# Fields upstream added after the schema Debian's pycriu has: (message,
# number) -> (name, type, label) as upstream declares them.
T_UINT32, L_OPTIONAL, L_REPEATED = 13, 1, 3
NEWER = {
    ("creds_entry", 18): ("no_new_privs", T_UINT32, L_OPTIONAL),
    ("creds_entry", 19): ("cap_amb", T_UINT32, L_REPEATED),
    ("memfd_inode_entry", 9): ("mode", T_UINT32, L_OPTIONAL),
}

ours, our_enums = {}, {}
fds = descriptor_pb2.FileDescriptorSet()
with open(sys.argv[1], "rb") as f:
    fds.ParseFromString(f.read())


def walk_ours(prefix, msgs, enums):
    for e in enums:
        our_enums[prefix + e.name] = {v.name: v.number for v in e.value}
    for m in msgs:
        ours[prefix + m.name] = m
        walk_ours(prefix + m.name + ".", m.nested_type, m.enum_type)


for fd in fds.file:
    walk_ours("", fd.message_type, fd.enum_type)

theirs, their_enums = {}, {}


def walk_theirs(prefix, msgs, enums):
    for e in enums:
        their_enums[prefix + e.name] = {v.name: v.number for v in e.values}
    for m in msgs:
        theirs[prefix + m.name] = m
        walk_theirs(prefix + m.name + ".", m.nested_types, m.enum_types)


for path in sorted(glob.glob(PYCRIU + "/*_pb2.py")):
    mod = importlib.import_module("pycriu.images." + os.path.basename(path)[:-3])
    walk_theirs("", mod.DESCRIPTOR.message_types_by_name.values(), mod.DESCRIPTOR.enum_types_by_name.values())


def their_default(u):
    if not u.has_default_value:
        return None
    if u.enum_type:
        return u.enum_type.values_by_number[u.default_value].name
    if isinstance(u.default_value, bool):
        return "true" if u.default_value else "false"
    return str(u.default_value)


bad = skipped = fields = 0
for name, m in sorted(ours.items()):
    t = theirs.get(name)
    if t is None:
        print("%s: not in pycriu" % name)
        bad += 1
        continue
    by_number = {f.number: f for f in t.fields}
    for f in m.field:
        fields += 1
        u = by_number.get(f.number)
        if u is None and NEWER.get((name, f.number)) == (f.name, f.type, f.label):
            print("note: %s.%s = %d is newer than pycriu (upstream has it)" % (name, f.name, f.number))
            continue
        if u is None:
            print("%s.%s = %d: no such field number in pycriu" % (name, f.name, f.number))
            bad += 1
            continue
        utype = u.message_type.full_name if u.message_type else u.enum_type.full_name if u.enum_type else ""
        mine = (f.name, f.type, f.label, f.type_name.lstrip("."), f.options.packed,
                f.default_value if f.HasField("default_value") else None)
        upstream = (u.name, u.type, u.label, utype, u.GetOptions().packed, their_default(u))
        if mine != upstream:
            print("%s field %d: ours %s, pycriu %s" % (name, f.number, mine, upstream))
            bad += 1
    for n, u in sorted(by_number.items()):
        if n not in {f.number for f in m.field}:
            print("note: %s.%s = %d left out" % (name, u.name, n))
            skipped += 1
for name, values in sorted(our_enums.items()):
    if their_enums.get(name) != values:
        print("enum %s: ours %s, pycriu %s" % (name, values, their_enums.get(name)))
        bad += 1
print("%d messages, %d fields, %d enums checked; %d left out; %d mismatches" %
      (len(ours), fields, len(our_enums), skipped, bad))
sys.exit(1 if bad else 0)
