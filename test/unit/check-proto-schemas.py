#!/usr/bin/python3
# Usage: check-proto-schemas.py DESCRIPTOR_SET
# Compares our images/*.proto (compiled by `protoc-c --include_imports
# --descriptor_set_out`) with two references of upstream CRIU's schemas:
#
#   3.17   Debian's pycriu, installed with crit: the compiled schemas crit
#          decodes our images with. Every field of ours it knows must match
#          it in name, number, type, label, packing and default.
#   4.2.1  test/unit/fixtures/schemas/criu-4.2.1.tsv: upstream's current
#          schemas, as a flat table (name, number, label, type). Every field
#          of ours it knows must match it; fields newer than 3.17 are checked
#          against it alone (and must have no default and no packing, like
#          all of upstream's newer fields).
#
# A field, message or enum value neither reference has is an error. So is
# one a reference has in a message (or enum) we declare and we lack, and any
# message or enum upstream 4.2.1 declares in a file we have: the schemas
# must read upstream's images without unknown fields. The exceptions are
# listed below, each with its reason. Exits 1 on any mismatch.
import glob
import importlib
import os
import sys

sys.path.insert(0, "/usr/lib/python3/dist-packages")
from google.protobuf import descriptor_pb2  # noqa: E402

PYCRIU = "/usr/lib/python3/dist-packages/pycriu/images"
TSV = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures/schemas/criu-4.2.1.tsv")

# Fields of upstream's that we leave out on purpose: (message, number) -> why.
LEFT_OUT = {("core_entry", n): "registers of another CPU (we are x86_64 only)" for n in (6, 8, 9, 10, 11, 12, 13)}

# Defaults upstream 4.2.1 declares that the table has no column for: the
# image schemas add none after 3.17, but rpc.proto does (and changed one).
DEFAULTS_421 = {
    ("criu_opts", 1): "-1",  # images_dir_fd: -1 means "use images_dir" (field 68), since 4.0
    ("criu_opts", 61): "SPLICE",  # pre_dump_mode
    ("criu_opts", 64): "IPTABLES",  # network_lock
}

# Fields of our own, where upstream has none: (message, number) -> why. Each
# keeps upstream's images readable by both (an unknown field is skipped).
OURS = {
    ("sk_packet_entry", 3): "a UDP datagram's sender; upstream reserves 3 for it (a comment in sk-packet.proto)",
    ("unix_sk_entry", 100): "SO_PEERCRED of a unix socket; far from upstream's numbers (it keeps 18 unused)",
    ("userns_entry", 1001): "setgroups deny of a user namespace (upstream restores it allowed)",
    ("userns_entry", 1002): "the owner's uid of a user namespace (upstream gives it criu's euid)",
}

OURS_MESSAGES = {
    "sk_ucred_entry": "the type of unix_sk_entry.peer_cred (upstream names it in a comment only)",
}

# Differences from 4.2.1 that are waiting for a change elsewhere; each is
# accepted while ours still has the old form, and reported once it is gone
# so that the line can be removed.
PENDING = {}

SCALAR = {v: k[len("TYPE_"):].lower() for k, v in descriptor_pb2.FieldDescriptorProto.Type.items()}
LABEL = {1: "optional", 2: "required", 3: "repeated"}

errors, notes, pending_seen = [], [], set()


def error(msg):
    errors.append(msg)


# Ours: messages and enums by full name, and which file declares each.
ours, our_enums, our_files = {}, {}, {}
fds = descriptor_pb2.FileDescriptorSet()
with open(sys.argv[1], "rb") as f:
    fds.ParseFromString(f.read())


def walk_ours(fname, prefix, msgs, enums):
    for e in enums:
        our_enums[prefix + e.name] = {v.name: v.number for v in e.value}
        our_files[prefix + e.name] = fname
    for m in msgs:
        ours[prefix + m.name] = m
        our_files[prefix + m.name] = fname
        walk_ours(fname, prefix + m.name + ".", m.nested_type, m.enum_type)


for fd in fds.file:
    walk_ours(fd.name, "", fd.message_type, fd.enum_type)

# 3.17: pycriu's compiled modules.
p317, p317_enums = {}, {}


def walk_317(prefix, msgs, enums):
    for e in enums:
        p317_enums[prefix + e.name] = {v.name: v.number for v in e.values}
    for m in msgs:
        p317[prefix + m.name] = {f.number: f for f in m.fields}
        walk_317(prefix + m.name + ".", m.nested_types, m.enum_types)


for path in sorted(glob.glob(PYCRIU + "/*_pb2.py")):
    mod = importlib.import_module("pycriu.images." + os.path.basename(path)[:-3])
    walk_317("", mod.DESCRIPTOR.message_types_by_name.values(), mod.DESCRIPTOR.enum_types_by_name.values())
# The RPC protocol's schema lives beside the images in pycriu (pycriu.rpc_pb2).
_rpc = importlib.import_module("pycriu.rpc_pb2")
walk_317("", _rpc.DESCRIPTOR.message_types_by_name.values(), _rpc.DESCRIPTOR.enum_types_by_name.values())

# 4.2.1: the table. Fields as (name, label, type), enum values as numbers.
u421, u421_enums, u421_files = {}, {}, {}
with open(TSV) as f:
    for line in f:
        if line.startswith("#") or not line.strip():
            continue
        fname, msg, name, number, label, typ = line.rstrip("\n").split("\t")
        if msg.endswith("(enum)"):
            msg = msg[: -len("(enum)")]
            u421_enums.setdefault(msg, {})[name] = int(number)
        else:
            u421.setdefault(msg, {})[int(number)] = (name, label, typ)
        u421_files[msg] = fname


def default_317(u):
    if not u.has_default_value:
        return None
    if u.enum_type:
        return u.enum_type.values_by_number[u.default_value].name
    if isinstance(u.default_value, bool):
        return "true" if u.default_value else "false"
    return str(u.default_value)


def check_field(mname, f, u, w):
    ftype = f.type_name.lstrip(".") if f.type_name else SCALAR[f.type]
    default = f.default_value if f.HasField("default_value") else None
    pending = PENDING.get((mname, f.number))
    if u is not None:
        utype = u.message_type.full_name if u.message_type else u.enum_type.full_name if u.enum_type else SCALAR[u.type]
        mine = (f.type, f.label, ftype, f.options.packed, default)
        theirs = (u.type, u.label, utype, u.GetOptions().packed, DEFAULTS_421.get((mname, f.number), default_317(u)))
        # A field renamed after 3.17 takes its 4.2.1 name; the rest stays.
        renamed = w is not None and w[0] != u.name and f.name == w[0]
        if mine != theirs or (f.name != u.name and not renamed):
            error("%s field %d: ours %s, pycriu 3.17 %s" % (mname, f.number, (f.name,) + mine, (u.name,) + theirs))
    elif w is not None and (default != DEFAULTS_421.get((mname, f.number)) or f.options.packed):
        error("%s.%s = %d: a default or packing upstream does not have" % (mname, f.name, f.number))
    if w is not None:
        mine = (f.name, LABEL[f.label], ftype)
        if mine != w:
            if pending and u is not None and (f.name, f.type, f.label) == (u.name, u.type, u.label):
                pending_seen.add((mname, f.number))
                notes.append("pending: %s field %d is still %s (%s)" % (mname, f.number, f.name, pending))
            else:
                error("%s field %d: ours %s, upstream 4.2.1 %s" % (mname, f.number, mine, w))
    if u is None and w is None and (mname, f.number) in OURS:
        notes.append("ours: %s.%s = %d (%s)" % (mname, f.name, f.number, OURS[(mname, f.number)]))
    elif u is None and w is None:
        error("%s.%s = %d: not an upstream field" % (mname, f.name, f.number))


fields = 0
for mname, m in sorted(ours.items()):
    t317, t421 = p317.get(mname), u421.get(mname)
    if t317 is None and t421 is None and mname in OURS_MESSAGES:
        notes.append("ours: message %s (%s)" % (mname, OURS_MESSAGES[mname]))
        continue
    if t317 is None and t421 is None:
        error("message %s: not in pycriu 3.17 nor upstream 4.2.1" % mname)
        continue
    t317, t421 = t317 or {}, t421 or {}
    mine = {f.number for f in m.field}
    for f in m.field:
        fields += 1
        check_field(mname, f, t317.get(f.number), t421.get(f.number))
    for n in sorted((set(t317) | set(t421)) - mine):
        name = t421[n][0] if n in t421 else t317[n].name
        why = LEFT_OUT.get((mname, n)) or PENDING.get((mname, n))
        if (mname, n) in PENDING:
            pending_seen.add((mname, n))
        if why:
            notes.append("left out: %s.%s = %d (%s)" % (mname, name, n, why))
        else:
            error("%s.%s = %d: upstream has it, we don't" % (mname, name, n))

for ename, values in sorted(our_enums.items()):
    v317, v421 = p317_enums.get(ename), u421_enums.get(ename)
    if v317 is None and v421 is None:
        error("enum %s: not in pycriu 3.17 nor upstream 4.2.1" % ename)
        continue
    for ref, vals in (("pycriu 3.17", v317), ("upstream 4.2.1", v421)):
        if vals is None:
            continue
        for name, number in sorted(vals.items()):
            if values.get(name) != number:
                error("enum %s: %s has %s = %d, ours %s" % (ename, ref, name, number, values.get(name)))
    for name, number in sorted(values.items()):
        if name not in (v317 or {}) and name not in (v421 or {}):
            error("enum %s: %s = %d is not upstream's" % (ename, name, number))

# Whole messages and enums upstream has in the files we have.
have_files = set(our_files.values())
for name, fname in sorted(u421_files.items()):
    if fname in have_files and name not in ours and name not in our_enums:
        error("%s: upstream 4.2.1 declares it in %s, we don't" % (name, fname))

for mname, n in sorted(set(PENDING) - pending_seen):
    notes.append("note: %s field %d matches upstream now: remove it from PENDING" % (mname, n))
for line in errors + notes:
    print(line)
print("%d messages, %d fields, %d enums checked; %d notes; %d mismatches" %
      (len(ours), fields, len(our_enums), len(notes), len(errors)))
sys.exit(1 if errors else 0)
