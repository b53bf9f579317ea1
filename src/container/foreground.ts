// A process tsrunc waits for (run, exec without -d): signals sent to tsrunc
// go on to it, its exit status comes back, and with a terminal tsrunc copies
// between its own stdio and the pty master, its tty in raw mode.
import { closeSync, writeSync } from '../util/fs.ts';
import { addon, type ExitStatus } from '../addon.ts';

const FORWARDED = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGCONT', 'SIGALRM'] as const;

// Waits on SIGCHLD rather than in a thread: the event loop stays free to
// forward signals, and no thread is left to join at exit.
function exited(pid: number): Promise<ExitStatus> {
  return new Promise((resolve) => {
    // Signal watchers do not keep Node's event loop alive; this timer does.
    const alive = setInterval(() => {}, 1 << 30);
    const check = () => {
      const st = addon('tryWait')(pid);
      if (!st) return;
      process.off('SIGCHLD', check);
      clearInterval(alive);
      resolve(st);
    };
    process.on('SIGCHLD', check);
    check(); // it may have exited before the handler was in place
  });
}

/** The pty master the container's child sent over our end of the socketpair. */
export function receiveMaster(sock: number | undefined): number | undefined {
  if (sock === undefined) return undefined;
  try {
    return addon('recvFd')(sock);
  } finally {
    closeSync(sock);
  }
}

// node:fs's asynchronous read (a read in libuv's thread pool), the one use of
// node:fs left in the CLI (src/util/fs.ts says why the rest is not): loaded
// only here, by a foreground process with a terminal, not by every verb.
function readAsync(fd: number, buf: Buffer): Promise<number> {
  const { read } = process.getBuiltinModule('node:fs');
  return new Promise((resolve) => read(fd, buf, 0, buf.length, null, (err, n) => resolve(err ? 0 : n)));
}

function writeAll(fd: number, buf: Buffer, n: number): boolean {
  let off = 0;
  while (off < n) {
    try {
      off += writeSync(fd, buf, off, n - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      return false;
    }
  }
  return true;
}

// Blocking reads: no libuv handle is ever made for our stdio, so nothing
// switches it to O_NONBLOCK under the caller's shell. The pty master ends
// with EIO when the container is gone, so its reads may use libuv's pool.
async function copy(from: number, to: number): Promise<void> {
  const buf = Buffer.allocUnsafe(65536);
  for (;;) {
    const n = await readAsync(from, buf);
    if (n <= 0 || !writeAll(to, buf, n)) return; // EIO on the master: the container is gone
  }
}

/** Waits for pid; returns the exit status as a shell would (128+N if killed by N). */
export async function foreground(pid: number, consoleFd?: number): Promise<number> {
  const forward = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {}
  };
  for (const s of FORWARDED) process.on(s, forward);
  let saved: Buffer | undefined;
  let output: Promise<void> = Promise.resolve();
  const resize = () => {
    const ws = addon('getWinsize')(0) ?? addon('getWinsize')(1);
    if (ws && consoleFd !== undefined) addon('setWinsize')(consoleFd, ws.rows, ws.cols);
  };
  if (consoleFd !== undefined) {
    saved = addon('ttyRaw')(0);
    resize();
    process.on('SIGWINCH', resize);
    output = copy(consoleFd, 1);
    addon('copyInThread')(0, consoleFd);
  } else {
    process.on('SIGWINCH', forward);
  }
  try {
    const { code, signal } = await exited(pid);
    await output;
    return code ?? 128 + (signal ?? 0);
  } finally {
    if (saved) addon('ttyRestore')(0, saved);
    for (const s of FORWARDED) process.off(s, forward);
  }
}
