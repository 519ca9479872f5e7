#!/usr/bin/python3
"""rpcraw.py CRIU CASE: talks to `CRIU swrk` with hand-made datagrams, the
way a buggy or hostile client would, and prints what came back:
    reply TYPE success=0|1 errmsg=TEXT   then   exit=CODE
CASE: garbage (bytes that are no criu_req), unknown-type (type 99),
empty-close (the client closes without a request), version (a well-formed
VERSION, for comparison), not-dir IMGFILE PID (DUMP whose images_dir_fd is
a file). Uses Debian's pycriu only for the generated message classes
(rpc_pb2: field numbers as upstream's)."""
import os
import socket
import subprocess
import sys

sys.path.insert(0, '/usr/lib/python3/dist-packages')
from pycriu import rpc_pb2 as rpc  # noqa: E402


def run(criu, payload, keep_fds=()):
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    p = subprocess.Popen([criu, 'swrk', str(b.fileno())], pass_fds=[b.fileno(), *keep_fds],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    b.close()
    if payload is not None:
        a.send(payload)
        a.settimeout(20)
        n = len(a.recv(1, socket.MSG_TRUNC | socket.MSG_PEEK))
        if n == 0:
            print('reply none (connection closed)')
        else:
            r = rpc.criu_resp()
            r.ParseFromString(a.recv(n))
            print('reply %s success=%d errmsg=%s' % (rpc.criu_req_type.Name(r.type), r.success,
                                                      r.cr_errmsg.replace('\n', ' ')))
    a.close()
    print('exit=%d' % p.wait(timeout=20))


def main():
    criu, case = sys.argv[1], sys.argv[2]
    if case == 'garbage':
        run(criu, b'\xff\xfe\x00garbage\x12\x99')
    elif case == 'unknown-type':
        run(criu, bytes([0x08, 99]))
    elif case == 'empty-close':
        run(criu, None)
    elif case == 'version':
        r = rpc.criu_req()
        r.type = rpc.VERSION
        run(criu, r.SerializeToString())
    elif case == 'not-dir':
        fd = os.open(sys.argv[3], os.O_RDONLY)
        r = rpc.criu_req()
        r.type = rpc.DUMP
        r.opts.images_dir_fd = fd
        r.opts.pid = int(sys.argv[4])
        r.opts.leave_running = True
        run(criu, r.SerializeToString())
    else:
        sys.exit('unknown case ' + case)


main()
