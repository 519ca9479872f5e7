#!/usr/bin/env python3
"""console-recv.py SOCK LOG [--setup]: a runtime's console socket receiver
(what `runc --console-socket SOCK` sends the container's pty master to).

Listens on SOCK, takes one connection and the master passed on it
(SCM_RIGHTS). With --setup, sets the terminal's window size to 33x101 and
turns echo off, as a caller's console would. Writes LOG.attrs with the
terminal's window size and modes as the master shows them, then copies
what the terminal prints to LOG until it hangs up; bytes put in the file
LOG.in are typed in (the file is removed once read).
"""
import array
import fcntl
import os
import socket
import struct
import sys
import termios

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ptyrun import pump  # noqa: E402


def main():
    path, log = sys.argv[1], sys.argv[2]
    setup = "--setup" in sys.argv[3:]
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    conn, _ = srv.accept()
    _, fds, _, _ = socket.recv_fds(conn, 4096, 1)
    conn.close()
    srv.close()
    master = fds[0]
    if setup:
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
        t = termios.tcgetattr(master)
        t[3] &= ~(termios.ECHO | termios.ECHOCTL)
        termios.tcsetattr(master, termios.TCSANOW, t)
    ws = array.array("H", [0, 0, 0, 0])
    fcntl.ioctl(master, termios.TIOCGWINSZ, ws, True)
    t = termios.tcgetattr(master)
    with open(log + ".attrs.tmp", "w") as f:
        f.write("size %d %d iflag %#x oflag %#x cflag %#x lflag %#x cc %s\n"
                % (ws[0], ws[1], t[0], t[1], t[2], t[3], bytes(
                    c if isinstance(c, int) else ord(c) for c in t[6]).hex()))
    os.rename(log + ".attrs.tmp", log + ".attrs")
    pump(master, log)

if __name__ == "__main__":
    main()
