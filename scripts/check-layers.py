#!/usr/bin/env python3
"""Checks the shape of criu/ that review can't keep by itself; prints one
`ok NAME` / `not ok NAME: why` line per rule (test/run.sh counts them).

  layers-no-cycles   No two modules call each other, directly or through
                     others: dependencies point one way (drivers -> kinds ->
                     helpers). Built from the symbols each object file uses
                     and defines (nm), so run it after `make all`.
  files-size         No criu/ source over 800 lines unless its opening
                     comment says why ("long because ...").
  functions-size     No function over 100 lines (the style asks ~80).

Usage: scripts/check-layers.py [TOP]
"""
import glob
import os
import re
import subprocess
import sys

os.chdir(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..'))
MAX_FILE, MAX_FUNC = 800, 100


def module_graph():
    objs = sorted(glob.glob('criu/*.o') + glob.glob('criu/*/*.o'))
    defined, used = {}, {}
    for o in objs:
        out = subprocess.run(['nm', '-P', o], capture_output=True, text=True, check=True).stdout
        used[o] = set()
        for line in out.splitlines():
            f = line.split()
            if len(f) < 2:
                continue
            if f[1] in 'TDBRCGSVW':
                defined.setdefault(f[0], o)
            elif f[1] == 'U':
                used[o].add(f[0])
    return {o: {defined[s] for s in used[o] if s in defined and defined[s] != o} for o in objs}


def cycles(g):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in g:
        if v not in index:
            visit(v)
    return out


def name(o):
    return o[len('criu/'):-len('.o')]


def check_cycles():
    objs = glob.glob('criu/*.o') + glob.glob('criu/*/*.o')
    if not objs:
        return 'not ok layers-no-cycles: no object files: run make all first'
    found = cycles(module_graph())
    if not found:
        return 'ok layers-no-cycles'
    return 'not ok layers-no-cycles: ' + '; '.join(' <-> '.join(name(o) for o in c) for c in found)


def sources():
    return sorted(glob.glob('criu/*.c') + glob.glob('criu/*/*.c'))


def check_files():
    bad = []
    for f in sources():
        lines = open(f).read().split('\n')
        if len(lines) > MAX_FILE and 'long because' not in '\n'.join(lines[:40]):
            bad.append('%s (%d lines)' % (f, len(lines)))
    return 'ok files-size' if not bad else 'not ok files-size: over %d lines with no reason at the top: %s' % (
        MAX_FILE, ', '.join(bad))


def check_functions():
    bad = []
    head = re.compile(r'^[A-Za-z_].*\)\s*$')
    for f in sources():
        lines = open(f).read().split('\n')
        i = 0
        while i < len(lines) - 1:
            if head.match(lines[i]) and lines[i + 1] == '{':
                j = i + 1
                while j < len(lines) and lines[j] != '}':
                    j += 1
                if j - i > MAX_FUNC:
                    bad.append('%s:%d (%d lines)' % (f, i + 1, j - i))
                i = j
            i += 1
    return 'ok functions-size' if not bad else 'not ok functions-size: over %d lines: %s' % (MAX_FUNC, ', '.join(bad))


for line in (check_cycles(), check_files(), check_functions()):
    print(line)
