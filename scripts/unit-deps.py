#!/usr/bin/env python3
"""Prints, for each test/unit/test-*.c, the criu modules its link needs: the
closure, over `nm`, of the symbols the test uses through the objects that
define them. Run after `make all` from the top of the tree; its output, one
`UNIT_DEPS_<test> := ...` line per test, is what test/unit/deps.mk holds.
Usage: scripts/unit-deps.py [TOP] > test/unit/deps.mk.new
"""
import subprocess,glob,re,sys,os
os.chdir(sys.argv[1] if len(sys.argv)>1 else '.')
objs=[o for o in glob.glob('criu/*.o')+glob.glob('criu/*/*.o') if o!='criu/crtools.o']
defs={};undef={}
for o in objs:
    out=subprocess.run(['nm','-P',o],capture_output=True,text=True).stdout
    d=set();u=set()
    for l in out.splitlines():
        p=l.split()
        if len(p)<2: continue
        if p[1] in 'TDBRCGSVW' : d.add(p[0])
        elif p[1]=='U': u.add(p[0])
    undef[o]=u
    for s in d: defs.setdefault(s,o)
res={}
for t in sorted(glob.glob('test/unit/test-*.c')):
    tobj='/tmp/unit-deps-%d.o' % os.getpid()
    r=subprocess.run(['cc','-std=gnu11','-D_GNU_SOURCE','-Icriu/include','-Iinclude','-Iimages','-Itest/unit','-c','-o',tobj,t]+subprocess.run(['pkg-config','--cflags','libprotobuf-c'],capture_output=True,text=True).stdout.split(),capture_output=True,text=True)
    if r.returncode:
        sys.exit('%s does not compile:\n%s' % (t, r.stderr))
    out=subprocess.run(['nm','-P',tobj],capture_output=True,text=True).stdout
    need=set(l.split()[0] for l in out.splitlines() if len(l.split())>1 and l.split()[1]=='U')
    got=set();todo=list(need);seen=set()
    while todo:
        s=todo.pop()
        if s in seen: continue
        seen.add(s)
        o=defs.get(s)
        if o and o not in got:
            got.add(o); todo.extend(undef[o])
    res[t]=sorted(x[len('criu/'):-2] for x in got)
    print('UNIT_DEPS_%s := %s' % (os.path.basename(t)[:-2], ' '.join(res[t])))
os.unlink(tobj) if os.path.exists(tobj) else None
