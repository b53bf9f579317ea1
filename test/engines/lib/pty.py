#!/usr/bin/env python3
"""pty.py DELAY KEYS CMD... — run CMD on a fresh pty (30 rows x 100 columns),
type KEYS (Python escapes: \\r, \\x04 ...) into it after DELAY seconds, copy
everything it prints to stdout until EOF, and exit with its status. The
engines' CLIs (docker -t, podman -t, ctr -t) want their stdin to be a tty."""
import fcntl, os, select, struct, sys, termios, time

delay, keys, argv = float(sys.argv[1]), sys.argv[2], sys.argv[3:]
pid, master = os.forkpty()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    os.execvp(argv[0], argv)

out = b""
typed = not keys
start = time.time()
while True:
    if not typed and time.time() - start >= delay:
        os.write(master, keys.encode().decode("unicode_escape").encode())
        typed = True
    r, _, _ = select.select([master], [], [], 0.1)
    if r:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every slave end is closed
            break
        if not chunk:
            break
        out += chunk
    else:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            # drain what is left, then report
            try:
                while select.select([master], [], [], 0.2)[0]:
                    chunk = os.read(master, 65536)
                    if not chunk:
                        break
                    out += chunk
            except OSError:
                pass
            sys.stdout.buffer.write(out)
            sys.exit(os.waitstatus_to_exitcode(status))
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status))
