// The unprivileged user the rootless tests run as (test/rootless.test.ts,
// test/engines/podman-rootless.test.ts): made once per host, as root, with
// /etc/subuid and /etc/subgid ranges (kept: the next run reuses it).
import { spawnSync } from 'node:child_process';
import { accessSync, chmodSync, chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, realpathSync, rmSync, constants as fsc } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { placeReachable } from './reach.ts';

export const isRoot = process.getuid?.() === 0;

export const USER = 'tsrunc-rootless';

export interface Who {
  uid: number;
  gid: number;
  home: string;
}

export function sh(cmd: string, args: string[]): { code: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { code: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

export function which(cmd: string): string | undefined {
  for (const d of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/sbin']))
    try {
      accessSync(join(d, cmd), fsc.X_OK);
      return join(d, cmd);
    } catch {}
  return undefined;
}

function lookup(): Who | undefined {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === USER) return { uid: Number(f[2]), gid: Number(f[3]), home: f[5] };
  }
  return undefined;
}

/** The first free range of 65536 above every range /etc/sub[ug]id hands out. */
function freeRange(file: string): number {
  let top = 100000;
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length === 3) top = Math.max(top, Number(f[1]) + Number(f[2]));
    }
  } catch {}
  return top;
}

function hasRange(file: string): boolean {
  try {
    return readFileSync(file, 'utf8').split('\n').some((l) => l.startsWith(`${USER}:`));
  } catch {
    return false;
  }
}

/** Makes the test user (once per host) with subordinate id ranges; the reason when it cannot. */
export function ensureUser(): { who?: Who; why?: string } {
  if (!isRoot) return { why: 'not root (the test makes a user)' };
  for (const tool of ['useradd', 'usermod', 'setpriv']) if (!which(tool)) return { why: `${tool} is not installed` };
  if (!lookup()) {
    const r = sh(which('useradd')!, ['--create-home', '--shell', '/bin/sh', USER]);
    if (r.code !== 0 && !lookup()) return { why: `useradd ${USER} failed: ${r.out.trim()}` };
  }
  for (const [file, flag] of [['/etc/subuid', '--add-subuids'], ['/etc/subgid', '--add-subgids']] as const) {
    if (hasRange(file)) continue;
    const start = freeRange(file);
    const r = sh(which('usermod')!, [flag, `${start}-${start + 65535}`, USER]);
    if (r.code !== 0) return { why: `usermod ${flag} failed: ${r.out.trim()}` };
  }
  return { who: lookup() };
}


export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs argv as the user (setpriv, with a clean environment: PATH, HOME,
 * USER, LOGNAME and `env`; an undefined value leaves that variable out),
 * stdout and stderr in files: a detached container keeps pipes open.
 */
export function runAs(who: Who, argv: string[], opts: { env?: Record<string, string | undefined>; cwd?: string; timeout?: number; cgroup?: string } = {}): Ran {
  const dir = mkdtempSync(join(tmpdir(), 'tsrunc-rl-io-'));
  const outFd = openSync(join(dir, 'out'), 'w+');
  const errFd = openSync(join(dir, 'err'), 'w+');
  try {
    const base: Record<string, string | undefined> = { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', HOME: who.home, USER, LOGNAME: USER };
    const envArgs = Object.entries({ ...base, ...opts.env }).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
    const setpriv = ['setpriv', '--reuid', String(who.uid), '--regid', String(who.gid), '--init-groups', '--', 'env', '-i', ...envArgs, ...argv];
    // cgroup: a v2 cgroup directory root moves the process into first
    const cmd = opts.cgroup ? ['sh', '-c', `echo $$ > ${opts.cgroup}/cgroup.procs && exec "$@"`, 'sh', ...setpriv] : setpriv;
    const r = spawnSync(cmd[0], cmd.slice(1), {
      cwd: opts.cwd ?? '/',
      stdio: ['ignore', outFd, errFd],
      timeout: opts.timeout ?? 20_000,
    });
    return { code: r.status ?? -1, stdout: readFileSync(join(dir, 'out'), 'utf8'), stderr: readFileSync(join(dir, 'err'), 'utf8') + (r.error ? String(r.error) : '') };
  } finally {
    closeSync(outFd);
    closeSync(errFd);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What a build of tsrunc at `runtime` executes and reads, or undefined for a
 * runtime without this repository's layout. dist/tsrunc is either the Bun
 * executable, which needs only prebuilds/ beside it, or the Node launcher
 * (the same bytes as prebuilds/…/tsrunc-launch, as dist/tsrunc-node always
 * is), which runs dist/node on dist/tsrunc.cjs with dist/node.flags.
 */
export function runtimeParts(runtime: string): { exec: string[]; read: string[]; dist: string; prebuilds: string; node?: string } | undefined {
  const dist = dirname(realpathSync(runtime));
  const prebuilds = join(dist, '..', 'prebuilds', `${process.platform}-${process.arch}`);
  const read = [join(prebuilds, 'tsrunc.napi.node'), join(prebuilds, 'tsrunc-init')];
  if (!read.every((p) => existsSync(p))) return undefined;
  const launcher = join(prebuilds, 'tsrunc-launch');
  const isLauncher = existsSync(launcher) && readFileSync(launcher).equals(readFileSync(realpathSync(runtime)));
  if (!isLauncher) return { exec: [runtime], read, dist, prebuilds };
  const node = realpathSync(join(dist, 'node'));
  return { exec: [runtime, node], read: [join(dist, 'tsrunc.cjs'), join(dist, 'node.flags'), ...read], dist, prebuilds, node };
}

/**
 * The runtime as the test user can run it: `runtime` itself when the user can
 * execute and read what it needs (runtimeParts), else a copy of its tree under
 * the run's TMPDIR (which tmp-global keeps reachable), hard-linked where the
 * file system allows. The build finds what it needs beside itself, so the
 * copy runs the same build. A checkout under a 0700 directory (/root) is the
 * case this is for. A runtime without that layout is returned as it is.
 */
export function userRuntime(who: Who, runtime: string): string {
  const parts = runtimeParts(runtime);
  if (!parts) return runtime;
  const tests = [...parts.exec.map((p) => `test -x '${p}'`), ...parts.read.map((p) => `test -r '${p}'`)].join(' && ');
  if (runAs(who, ['sh', '-c', tests]).code === 0) return runtime;
  const top = mkdtempSync(join(tmpdir(), 'tsrunc-user-runtime-'));
  chmodSync(top, 0o755);
  const name = basename(runtime);
  placeReachable(realpathSync(runtime), join(top, 'dist', name));
  for (const p of parts.read) if (dirname(p) === parts.dist) placeReachable(p, join(top, 'dist', basename(p)));
  for (const f of readdirSync(parts.prebuilds)) placeReachable(join(parts.prebuilds, f), join(top, 'prebuilds', `${process.platform}-${process.arch}`, f));
  if (parts.node) {
    placeReachable(parts.node, join(top, 'dist', 'node'));
    // A code cache the user may write (boot.ts trusts a directory of its own):
    // without one every command compiles the whole CLI, slow in the v2 guest.
    mkdirSync(join(top, 'dist', 'tsrunc.cache'), { mode: 0o700 });
    chownSync(join(top, 'dist', 'tsrunc.cache'), who.uid, who.gid);
  }
  return join(top, 'dist', name);
}
