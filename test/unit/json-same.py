#!/usr/bin/python3
# Usage: json-same.py A.json B.json
# Exits 0 when both files hold the same JSON value (key order and layout
# aside); otherwise prints the first path where they differ and exits 1.
# A unix socket's name is the one field crit does not print as base64 but
# quoted-printable (pycriu's unix_name conversion): A, which the test
# writes, has base64 there; the two are compared as the bytes they mean.
import base64
import json
import quopri
import sys


def diff(a, b, path):
    if path.endswith("/usk/name") and isinstance(a, str) and isinstance(b, str):
        if base64.b64decode(a) != quopri.decodestring(b.encode()):
            return "%s: %r != %r" % (path, a, b)
        return None
    if type(a) is not type(b):
        return "%s: %r != %r" % (path or "/", a, b)
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return "%s/%s: only in %s" % (path, k, sys.argv[1] if k in a else sys.argv[2])
            d = diff(a[k], b[k], "%s/%s" % (path, k))
            if d:
                return d
    elif isinstance(a, list):
        if len(a) != len(b):
            return "%s: %d != %d items" % (path or "/", len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = diff(x, y, "%s[%d]" % (path, i))
            if d:
                return d
    elif a != b:
        return "%s: %r != %r" % (path or "/", a, b)
    return None


with open(sys.argv[1]) as f1, open(sys.argv[2]) as f2:
    d = diff(json.load(f1), json.load(f2), "")
if d:
    print(d)
    sys.exit(1)
