#!/usr/bin/env python3
"""Terminal helpers for the tests (Python's socket.recv_fds and pty do what
Node cannot without an addon of its own).

  console SOCKET INPUT   listen on SOCKET, take one pty master over SCM_RIGHTS,
                         type INPUT into it, print all output until EOF/EIO
  pty CMD...             run CMD on a fresh pty; read keystrokes from our
                         stdin ('\\x03' and friends as escapes), print its
                         output, exit with its status
"""
import fcntl, os, select, socket, struct, sys, termios, time


def drain(fd, deadline):
    out = b""
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if not r:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: every slave end is closed
            break
        if not chunk:
            break
        out += chunk
    return out


def console(path, text):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    print("ready", flush=True)
    conn, _ = srv.accept()
    msg, fds, _, _ = socket.recv_fds(conn, 1024, 1)
    master = fds[0]
    sys.stderr.write("name=%s\n" % msg.decode())
    time.sleep(0.3)
    os.write(master, text.encode().decode("unicode_escape").encode())
    sys.stdout.buffer.write(drain(master, time.time() + 10))


def run_on_pty(argv, keys):
    pid, master = os.forkpty()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        os.execvp(argv[0], argv)
    out = b""
    for k in keys:
        if k.startswith("sleep:"):
            out += drain(master, time.time() + float(k[6:]))
            continue
        os.write(master, k.encode().decode("unicode_escape").encode())
    out += drain(master, time.time() + 10)
    _, status = os.waitpid(pid, 0)
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    if sys.argv[1] == "console":
        console(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "pty":
        keys = sys.argv[sys.argv.index("--keys") + 1].split("|") if "--keys" in sys.argv else []
        cmd = sys.argv[2 : sys.argv.index("--keys")] if "--keys" in sys.argv else sys.argv[2:]
        run_on_pty(cmd, keys)
