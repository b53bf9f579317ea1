// What the engines suite runs against, and the small tools its tests share:
// processes with their output in files, a pty, polling, cgroups, mounts.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';

export const repo = resolve(import.meta.dirname, '../../..');

/**
 * The runtime the engines are given: ENGINE_RUNTIME=tsrunc (the default,
 * dist/tsrunc or $TSRUNC_BIN), runc (/usr/sbin/runc, the reference the suite
 * must pass with), or an absolute path.
 */
export function runtimeUnderTest(): { name: string; path: string } {
  const want = process.env.ENGINE_RUNTIME || 'tsrunc';
  if (want === 'tsrunc') return { name: 'tsrunc', path: process.env.TSRUNC_BIN ?? join(repo, 'dist/tsrunc') };
  if (want === 'runc') return { name: 'runc', path: '/usr/sbin/runc' };
  if (want.startsWith('/')) return { name: basename(want), path: want };
  throw new Error(`ENGINE_RUNTIME=${want}: want tsrunc, runc or an absolute path`);
}

export const RUNTIME = runtimeUnderTest();
export const IS_ROOT = process.getuid?.() === 0;
/** Set by test/engines/vitest.config.ts: plain `npm test` skips the engines. */
export const IN_ENGINES_SUITE = process.env.TSRUNC_ENGINES_SUITE === '1';
export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** Why an engine's tests are skipped, or null when they run. */
export function skipReason(engine: string, binaries: string[]): string | null {
  if (!IN_ENGINES_SUITE) return 'engine tests run with `npm run test:engines` (test/engines/vitest.config.ts)';
  if (!IS_ROOT) return 'needs root';
  const missing = binaries.filter((b) => !existsSync(b));
  if (missing.length) return `${engine} is not installed (missing ${missing.join(', ')}; bash scripts/engines/setup.sh)`;
  if (!existsSync(RUNTIME.path)) return `the runtime ${RUNTIME.path} does not exist (npm run build)`;
  return null;
}

/**
 * The path handed to the engine: the runtime itself, or with
 * ENGINE_TRACE=1 a shell script that appends each argv (and the exit status)
 * to <dir>/runtime-trace.log before and after running it. Debugging only.
 */
export function runtimeForEngine(dir: string): { name: string; path: string; trace: string | null } {
  if (process.env.ENGINE_TRACE !== '1') return { ...RUNTIME, trace: null };
  const trace = join(dir, 'runtime-trace.log');
  const wrapper = join(dir, RUNTIME.name);
  writeFileSync(
    wrapper,
    `#!/bin/sh\necho "$(date +%T.%N) [$$] $*" >> ${trace}\n${RUNTIME.path} "$@"\nrc=$?\necho "$(date +%T.%N) [$$] exit $rc" >> ${trace}\nexit $rc\n`,
  );
  chmodSync(wrapper, 0o755);
  return { name: RUNTIME.name, path: wrapper, trace };
}

export interface Result {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOpts {
  input?: string;
  timeout?: number;
  env?: NodeJS.ProcessEnv;
  /** working directory (podman's conmon inherits it and writes its `oom` file there) */
  cwd?: string;
}

/**
 * Runs a command with stdout and stderr in files, not pipes: engines leave
 * daemons (conmon, shims) behind that may hold inherited descriptors, and a
 * pipe would then never see EOF. Resolves when the command itself exits.
 */
export function run(cmd: string, args: string[], opts: RunOpts = {}): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'tsrunc-engines-io-'));
  const outFd = openSync(join(dir, 'out'), 'w+');
  const errFd = openSync(join(dir, 'err'), 'w+');
  const start = Date.now();
  return new Promise<Result>((resolvePromise, reject) => {
    const child = spawn(cmd, args, {
      stdio: [opts.input !== undefined ? 'pipe' : 'ignore', outFd, errFd],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeout ?? 60_000);
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => {});
      child.stdin!.end(opts.input);
    }
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      try {
        resolvePromise({
          code: code ?? -1,
          signal,
          stdout: readFileSync(join(dir, 'out'), 'utf8'),
          stderr: readFileSync(join(dir, 'err'), 'utf8'),
          ms: Date.now() - start,
        });
      } finally {
        closeSync(outFd);
        closeSync(errFd);
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

/** Synchronous, for setup and teardown. Throws when the command fails unless `check` is false. */
export function sh(cmd: string, args: string[], check = true, timeout = 60_000): Result {
  const start = Date.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] });
  const res = { code: r.status ?? -1, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms: Date.now() - start };
  if (check && (r.error || res.code !== 0)) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.error ?? res.code}): ${res.stderr.trim()}`);
  }
  return res;
}

/** A description of a Result for assertion messages. */
export function show(r: Result): string {
  return `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

/**
 * Runs a command on a fresh pty (30 rows, 100 columns), types `keys` into it
 * after `delay` seconds, and returns everything it printed and its exit status.
 */
export function onPty(argv: string[], keys = '', timeout = 60_000, delay = 1, cwd?: string): Promise<Result> {
  return run(PYTHON, [join(import.meta.dirname, 'pty.py'), String(delay), keys, ...argv], { timeout, cwd });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until it returns something truthy (sync or async). */
export async function until<T>(
  fn: () => T | Promise<T>,
  ms = 15_000,
  what: string | (() => string) = 'condition',
): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as Exclude<T, false | null | undefined | 0 | ''>;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await sleep(100);
  }
}

/** /proc/PID/cgroup as controller → path (v1 controllers, "name=systemd", and "" for v2). */
export function procCgroups(pid: number): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').filter(Boolean)) {
    const [, ctrls, path] = line.match(/^\d+:([^:]*):(.*)$/)!;
    for (const c of ctrls.split(',')) m.set(c, path);
  }
  return m;
}

/** The host directories of a process's cgroups, one per mounted hierarchy. */
export function cgroupDirs(pid: number): string[] {
  const dirs: string[] = [];
  for (const [ctrl, path] of procCgroups(pid)) {
    const mount = ctrl === '' ? '/sys/fs/cgroup/unified' : `/sys/fs/cgroup/${ctrl.replace(/^name=/, '')}`;
    if (existsSync(mount) && path !== '/') dirs.push(join(mount, path));
  }
  return dirs;
}

/** A cgroup v1 file of a process, read on the host. */
export function hostCgroupFile(pid: number, ctrl: string, file: string): string {
  const path = procCgroups(pid).get(ctrl);
  if (!path) throw new Error(`process ${pid} has no ${ctrl} cgroup`);
  return readFileSync(join('/sys/fs/cgroup', ctrl, path, file), 'utf8').trim();
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Mount points (from our mountinfo) at or under any of the given paths, deepest first. */
export function mountsUnder(...prefixes: string[]): string[] {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ')[4].replace(/\\040/g, ' '));
  return points.filter((p) => prefixes.some((x) => p === x || p.startsWith(x + '/'))).sort((a, b) => b.length - a.length);
}

/** Unmounts (lazily, last resort) whatever is still mounted under `dir`. */
export function unmountAll(dir: string): void {
  for (const p of mountsUnder(dir)) sh('umount', ['-l', p], false);
}

/** Processes whose command line mentions `needle`: [pid, cmdline]. */
export function processesMentioning(needle: string): Array<[number, string]> {
  const found: Array<[number, string]> = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (cmd.includes(needle)) found.push([Number(e), cmd]);
    } catch {
      /* gone */
    }
  }
  return found;
}

/** A private network namespace (`ip netns add`), so the engines' bridges and iptables rules stay off the host's. */
export function makeNetns(name: string): string {
  sh('ip', ['netns', 'add', name]);
  sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return `/run/netns/${name}`;
}

export function deleteNetns(name: string): void {
  if (existsSync(`/run/netns/${name}`)) sh('ip', ['netns', 'delete', name], false);
}

/** Kills pid with SIGTERM, then SIGKILL after `ms`; resolves when it is gone. */
export async function stopProcess(pid: number, ms = 15_000): Promise<void> {
  if (!isAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  try {
    await until(() => !isAlive(pid), ms, `pid ${pid} to exit`);
  } catch {
    process.kill(pid, 'SIGKILL');
    await until(() => !isAlive(pid), 5000, `pid ${pid} to die`);
  }
}

/** Image files made by scripts/engines/make-image.sh (in global-setup.ts). */
export interface Images {
  rootfsTar: string;
  imageTar: string;
}

let seq = 0;
/** A container name unique to this run. */
// pids wrap within a full run (test/lib/harness.ts, uid): a tag per file too.
const runTag = Math.random().toString(36).slice(2, 5);
export function uname(tag: string): string {
  return `t${process.pid}${runTag}-${tag}-${++seq}`;
}
