#!/usr/bin/env python3
"""ptyrun.py LOG CMD...: what a terminal emulator does for a shell.

Opens a new pty, runs CMD as the leader of a new session whose controlling
terminal it is (stdin, stdout and stderr on the slave), and copies what the
pty prints to LOG until nobody holds the slave any more. Writes to LOG.pid
CMD's pid, to LOG.tty the slave's name. Bytes put in the file LOG.in are
typed in (the file is removed once read).
"""
import fcntl
import os
import select
import sys
import termios


def pump(master, log):
    """Copies what the terminal says to LOG, and LOG.in (when it appears)
    to the terminal, until nobody holds its slave."""
    out = open(log, "ab", buffering=0)
    inp = log + ".in"
    while True:
        r, _, _ = select.select([master], [], [], 0.05)
        if r:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the last holder of the slave closed it
                break
            if not data:
                break
            out.write(data)
        if os.path.exists(inp):
            with open(inp, "rb") as f:
                data = f.read()
            os.unlink(inp)
            os.write(master, data)


def main():
    log, cmd = sys.argv[1], sys.argv[2:]
    master, slave = os.openpty()
    name = os.ttyname(slave)
    pid = os.fork()
    if pid == 0:
        os.close(master)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        os.execvp(cmd[0], cmd)
    os.close(slave)
    with open(log + ".tty", "w") as f:
        f.write(name + "\n")
    with open(log + ".pid", "w") as f:
        f.write("%d\n" % pid)
    pump(master, log)
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


if __name__ == "__main__":
    main()
