// Shared helpers of the config.md / config-linux.md conformance tests
// (spec-tests/config.test.ts, spec-tests/config-linux.test.ts).
//
// Everything goes through the runtime's runc-compatible CLI (TSRUNC_BIN picks
// the runtime) and only exit codes and effects are looked at: what the
// container's process sees (the "probe" below writes it to a bind-mounted
// host directory), /proc of the container's processes seen from the host,
// cgroup files, files hooks write. Never the runtime's wording.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { cleanup, makeBundle as harnessMakeBundle, rootfs, rt, runtime, state, stateRoot, uid, until, type Result } from '../../test/lib/harness.ts';

export { isRoot, rootfs, runtime, snapshotTree, uid, until, type Result } from '../../test/lib/harness.ts';

/**
 * Tests of requirements tsrunc is known to fail today (see README.md, with the
 * reason for each): expected to fail against tsrunc (`it.fails`, which turns
 * red once tsrunc passes, so the mark gets removed), plain tests for any other
 * runtime.
 */
// dist/tsrunc (Bun) or dist/tsrunc-node (Node): the same tsrunc.
export const isTsrunc = /^tsrunc(-node)?$/.test(basename(runtime));
export const tsruncKnownFailure = isTsrunc ? it.fails : it;

export const hasPython = spawnSync('python3', ['-c', 'import socket; socket.recv_fds'], { stdio: 'ignore' }).status === 0;
export const ptyTools = join(import.meta.dirname, '../../test/lib/pty_tools.py');

/** LSMs and Intel RDT on this host (the tests that need one skip without it). */
export const hasAppArmor = existsSync('/sys/kernel/security/apparmor');
export const hasSELinux = existsSync('/sys/fs/selinux/enforce');
export const hasResctrl = readOr('/proc/self/mountinfo').split('\n').some((l) => l.split(' - ')[1]?.startsWith('resctrl '));

export function readOr(path: string, fallback = ''): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return fallback;
  }
}

export function nsOf(pid: number | 'self', ns: string): string {
  return readlinkSync(`/proc/${pid}/ns/${ns}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------
// The probe: a busybox shell script run as the container's process. It writes
// what the process sees (its own /proc entries, ids, umask, names) to /out,
// a bind mount of a host directory, and the test parses that.

const PROBE = `
d=/out; p=/proc/$$
for f in status mountinfo limits environ cmdline oom_score_adj cgroup stat uid_map gid_map timens_offsets; do cat $p/$f > $d/$f 2>/dev/null; done
readlink $p/cwd > $d/cwd
{ id -u; id -g; id -G; } > $d/id
umask > $d/umask
uname -n > $d/hostname
cat /proc/sys/kernel/domainname > $d/domainname
uname -m > $d/machine
for n in cgroup ipc mnt net pid time user uts; do echo "$n $(readlink $p/ns/$n)"; done > $d/ns
echo $$ > $d/pid
echo done > $d/done
`;

/** Resource names of /proc/<pid>/limits, by setrlimit(2) name. */
export const LIMIT_NAMES: Record<string, string> = {
  RLIMIT_CPU: 'Max cpu time',
  RLIMIT_FSIZE: 'Max file size',
  RLIMIT_DATA: 'Max data size',
  RLIMIT_STACK: 'Max stack size',
  RLIMIT_CORE: 'Max core file size',
  RLIMIT_RSS: 'Max resident set',
  RLIMIT_NPROC: 'Max processes',
  RLIMIT_NOFILE: 'Max open files',
  RLIMIT_MEMLOCK: 'Max locked memory',
  RLIMIT_AS: 'Max address space',
  RLIMIT_LOCKS: 'Max file locks',
  RLIMIT_SIGPENDING: 'Max pending signals',
  RLIMIT_MSGQUEUE: 'Max msgqueue size',
  RLIMIT_NICE: 'Max nice priority',
  RLIMIT_RTPRIO: 'Max realtime priority',
  RLIMIT_RTTIME: 'Max realtime timeout',
};

export const CAP_BITS: Record<string, number> = {
  CAP_CHOWN: 0, CAP_DAC_OVERRIDE: 1, CAP_FOWNER: 3, CAP_KILL: 5, CAP_SETGID: 6, CAP_SETUID: 7,
  CAP_NET_BIND_SERVICE: 10, CAP_NET_RAW: 13, CAP_SYS_CHROOT: 18, CAP_SYS_ADMIN: 21, CAP_MKNOD: 27, CAP_AUDIT_WRITE: 29,
};
export const capMask = (names: string[]) => names.reduce((m, n) => m | (1n << BigInt(CAP_BITS[n])), 0n);

export interface MountEntry {
  id: number;
  parent: number;
  /** the mount's root within its filesystem */
  root: string;
  point: string;
  opts: string[];
  /** optional fields: shared:N, master:N, unbindable, ... */
  optional: string[];
  fstype: string;
  source: string;
  superOpts: string[];
}

export function parseMountinfo(text: string): MountEntry[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [pre, post] = l.split(' - ');
      const f = pre.split(' ');
      const [fstype, source, superOpts] = post.split(' ');
      return {
        id: Number(f[0]),
        parent: Number(f[1]),
        root: f[3],
        point: f[4],
        opts: f[5].split(','),
        optional: f.slice(6),
        fstype,
        source,
        superOpts: (superOpts ?? '').split(','),
      };
    });
}

export class ProbeResult {
  constructor(
    readonly run: Result,
    readonly out: Out,
  ) {}
  get ok(): boolean {
    return this.run.code === 0 && this.out.read('done') === 'done\n';
  }
  file(name: string): string {
    const t = this.out.read(name);
    if (t === undefined) throw new Error(`probe wrote no ${name} (exit ${this.run.code}): ${this.run.stderr}`);
    return t;
  }
  /** CapInh, CapPrm, CapEff, CapBnd, CapAmb, NoNewPrivs, Seccomp, ... of /proc/self/status */
  status(key: string): string {
    const m = new RegExp(`^${key}:\\s*(.*)$`, 'm').exec(this.file('status'));
    if (!m) throw new Error(`no ${key} in status`);
    return m[1].trim();
  }
  cap(set: 'CapInh' | 'CapPrm' | 'CapEff' | 'CapBnd' | 'CapAmb'): bigint {
    return BigInt('0x' + this.status(set));
  }
  /** [soft, hard] of /proc/self/limits, 'unlimited' as 2^64-1 */
  limit(type: string): [bigint, bigint] {
    const name = LIMIT_NAMES[type];
    const line = this.file('limits').split('\n').find((l) => l.startsWith(name));
    if (!line) throw new Error(`no ${type} in limits`);
    const [soft, hard] = line.slice(26).trim().split(/\s+/);
    const v = (s: string) => (s === 'unlimited' ? 0xffffffffffffffffn : BigInt(s));
    return [v(soft), v(hard)];
  }
  get env(): string[] {
    return this.file('environ').split('\0').filter(Boolean);
  }
  get argv(): string[] {
    return this.file('cmdline').split('\0').slice(0, -1);
  }
  get ids(): { uid: number; gid: number; groups: number[] } {
    const [u, g, groups] = this.file('id').trim().split('\n');
    return { uid: Number(u), gid: Number(g), groups: groups.split(' ').map(Number) };
  }
  get mounts(): MountEntry[] {
    return parseMountinfo(this.file('mountinfo'));
  }
  /** the last mount at `point` (the one on top) */
  mount(point: string): MountEntry | undefined {
    return this.mounts.filter((m) => m.point === point).at(-1);
  }
  ns(type: string): string {
    const line = this.file('ns').split('\n').find((l) => l.startsWith(type + ' '));
    return line?.slice(type.length + 1) ?? '';
  }
  line(name: string): string {
    return this.file(name).trim();
  }
}

// ---------------------------------------------------------------------------

/** A host directory (world-writable) bind-mounted at /out. */
export interface Out {
  host: string;
  /** a string unique to this directory, found in the mountinfo of any process that has it mounted */
  token: string;
  mount: object;
  file(name: string): string;
  /** A file's text, or undefined if absent; one the container is still writing can be there and empty, so waits wait for text. */
  read(name: string): string | undefined;
  write(name: string, text: string, mode?: number): string;
}

/** A new `Out` below `scratch`. */
export function outDirIn(scratch: string): Out {
  const host = mkdtempSync(join(scratch, 'out-'));
  chmodSync(host, 0o777);
  return {
    host,
    token: basename(host),
    mount: { destination: '/out', type: 'bind', source: host, options: ['rbind', 'rw'] },
    file: (name) => join(host, name),
    read: (name) => (existsSync(join(host, name)) ? readFileSync(join(host, name), 'utf8') : undefined),
    write: (name, text, mode = 0o644) => {
      writeFileSync(join(host, name), text, { mode });
      chmodSync(join(host, name), mode);
      return join(host, name);
    },
  };
}

/**
 * One test file's scratch space and state root, removed after the file. All
 * helpers that need them hang off this.
 */
export function specContext() {
  const root = stateRoot();
  const scratch = mkdtempSync(join(tmpdir(), 'spec-config-'));
  chmodSync(scratch, 0o755);
  const teardown: Array<() => void> = [];
  afterAll(() => {
    cleanup(root);
    for (const f of teardown.reverse()) {
      try {
        f();
      } catch {}
    }
    rmSync(scratch, { recursive: true, force: true });
  });

  /** The runtime (harness rt: stdout and stderr go to files, so a created container holding them open is harmless). */
  const q = (args: string[], opts: SpawnSyncOptions = {}): Result => rt(root, args, opts);

  function makeBundle(args: string[] | undefined, mutate?: (c: any) => void): string {
    const dir = harnessMakeBundle(args, mutate);
    teardown.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  const outDir = (): Out => outDirIn(scratch);

  /** A bundle running `args` with `out` at /out (added after mutate, unless mutate mounted /out itself). */
  function bundleWith(out: Out, args: string[], mutate?: (c: any) => void): string {
    return makeBundle(args, (c) => {
      mutate?.(c);
      if (!c.mounts?.some((m: any) => m.destination === '/out')) (c.mounts ??= []).push(out.mount);
    });
  }

  const create = (id: string, bundle: string, extra: string[] = []) => q(['create', ...extra, '--bundle', bundle, id]);
  const start = (id: string) => q(['start', id]);
  const del = (id: string, force = true) => q(['delete', ...(force ? ['--force'] : []), id]);
  /** `run` in the foreground: create, start, wait, delete. */
  const run = (bundle: string, id = uid('spec')) => q(['run', '--bundle', bundle, id]);

  /** Runs the probe in a container made from the busybox config changed by `mutate`. */
  function probe(mutate?: (c: any) => void): ProbeResult {
    const out = outDir();
    const r = run(bundleWith(out, ['sh', '-c', PROBE], mutate));
    return new ProbeResult(r, out);
  }

  /** Runs `script` (busybox sh) with /out mounted; its output is in `.run`. */
  function sh(script: string, mutate?: (c: any) => void): { run: Result; out: Out } {
    const out = outDir();
    return { run: run(bundleWith(out, ['sh', '-c', script], mutate)), out };
  }

  /** A private, writable copy of the busybox rootfs (for tests that write to it or check what the runtime did to it), under `parent`. */
  function ownRootfs(parent = scratch): string {
    const dir = join(mkdtempSync(join(parent, 'rootfs-')), 'rootfs');
    cpSync(rootfs, dir, { recursive: true, verbatimSymlinks: true });
    chmodSync(join(dir, '..'), 0o755);
    // Mount targets other test files left in the shared rootfs.
    for (const e of readdirSync(dir)) if (!['bin', 'dev', 'etc', 'proc', 'sys', 'tmp', 'root', 'run', 'var'].includes(e)) rmSync(join(dir, e), { recursive: true, force: true });
    mkdirSync(join(dir, 'out'), { recursive: true });
    return dir;
  }

  /** Created and waiting: returns its state. */
  function createOk(id: string, bundle: string, extra: string[] = []): any {
    const r = create(id, bundle, extra);
    if (r.code !== 0) throw new Error(`create ${id} failed (${r.code}): ${r.stderr}`);
    return state(root, id);
  }

  const stateOf = (id: string) => state(root, id);
  const exists = (id: string) => rt(root, ['state', id]).code === 0;
  const waitStopped = (id: string, ms = 5000) => until(() => state(root, id).status === 'stopped', ms, `${id} stopped`);

  /**
   * Runs `script` with process.terminal true: create with a console socket
   * whose receiver (test/lib/pty_tools.py) takes the pty master, start, wait
   * for the script to write /out/done. Returns /out.
   */
  async function onTerminal(script: string, mutate?: (c: any) => void): Promise<Out> {
    const { spawn } = await import('node:child_process');
    const dir = mkdtempSync(join(scratch, 'console-'));
    const sock = join(dir, 'console.sock');
    const receiver = spawn('python3', [ptyTools, 'console', sock, ''], { stdio: ['ignore', 'pipe', 'pipe'] });
    teardown.push(() => receiver.kill('SIGKILL'));
    let ready = '';
    receiver.stdout.on('data', (d) => (ready += d));
    const exited = new Promise((r) => receiver.on('exit', r));
    await until(() => ready.includes('ready'), 5000, 'console receiver');
    const out = outDir();
    const id = uid('spec');
    const bundle = bundleWith(out, ['sh', '-c', script], (c) => {
      c.process.terminal = true;
      mutate?.(c);
    });
    const r = create(id, bundle, ['--console-socket', sock]);
    if (r.code !== 0) throw new Error(`create with a terminal failed: ${r.stderr}`);
    if (start(id).code !== 0) throw new Error('start failed');
    await until(() => (out.read('done') ?? '') !== '', 5000, 'terminal script');
    await exited;
    del(id);
    return out;
  }

  /** create MUST fail, and leave no container of that id. */
  function expectRefused(bundle: string, what = ''): void {
    const id = uid('spec');
    const r = create(id, bundle);
    if (r.code === 0) del(id);
    expect(r.code, `${what}: create succeeded`).not.toBe(0);
    expect(exists(id), what).toBe(false);
  }

  return { root, scratch, teardown, q, makeBundle, expectRefused, outDir, bundleWith, create, createOk, start, del, run, probe, sh, ownRootfs, stateOf, exists, waitStopped, onTerminal };
}

export type SpecContext = ReturnType<typeof specContext>;

/**
 * A process in namespaces of its own (`unshare` flags), for configs that
 * join namespaces by path. With `fork`, the namespace member is unshare's
 * child (pid and time namespaces only apply to children).
 */
export async function nsHolder(ctx: SpecContext, flags: string[], fork = false): Promise<number> {
  const { spawn } = await import('node:child_process');
  const child = spawn('unshare', [...flags, ...(fork ? ['--fork'] : []), 'sleep', '60'], { stdio: 'ignore' });
  ctx.teardown.push(() => child.kill('SIGKILL'));
  let pid = 0;
  await until(() => {
    if (!child.pid) return false;
    if (!fork) {
      pid = child.pid;
      return readOr(`/proc/${pid}/cmdline`).startsWith('sleep');
    }
    const kids = readOr(`/proc/${child.pid}/task/${child.pid}/children`).trim();
    pid = Number(kids.split(' ')[0]);
    return pid > 0 && readOr(`/proc/${pid}/cmdline`).startsWith('sleep');
  }, 5000, 'namespace holder');
  return pid;
}

/** Host cgroup v1/v2 mounts: [fstype, mount point, root, options]. */
export function cgroupMounts() {
  const mounts: Array<{ fstype: string; point: string; root: string; options: string[] }> = [];
  for (const m of parseMountinfo(readOr('/proc/self/mountinfo'))) {
    if (m.fstype === 'cgroup' || m.fstype === 'cgroup2') mounts.push({ fstype: m.fstype, point: m.point, root: m.root, options: m.superOpts });
  }
  return mounts;
}

/** Is the host's cgroup hierarchy cgroup v2 only? */
export const cgroupV2Only = cgroupMounts().every((m) => m.fstype === 'cgroup2');

/** /proc/<pid>/cgroup: controller list ('' for v2) → path */
export function cgroupsOf(pid: number | 'self'): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of readOr(`/proc/${pid}/cgroup`).split('\n').filter(Boolean)) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (m) map.set(m[1], m[2]);
  }
  return map;
}

/** Host directory of the cgroup `pid` is in for `controller` (v1) or v2 (controller ''), if mounted. */
export function cgroupDirOf(pid: number, controller: string): string | undefined {
  const cg = cgroupsOf(pid);
  const key = [...cg.keys()].find((k) => (controller === '' ? k === '' : k.split(',').includes(controller)));
  if (key === undefined) return undefined;
  const path = cg.get(key)!;
  const m = cgroupMounts().find((m) => (key === '' ? m.fstype === 'cgroup2' : m.fstype === 'cgroup' && key.split(',').every((c) => m.options.includes(c))));
  if (!m) return undefined;
  const rel = m.root === '/' ? path : path.startsWith(m.root) ? path.slice(m.root.length) : undefined;
  return rel === undefined ? undefined : join(m.point, rel);
}

/**
 * Processes (other than this one) that still have anything to do with a
 * container whose config mounted the directory named `token`, and the host's
 * mount table if the mount leaked there.
 */
export function leftovers(token: string): string[] {
  const found: string[] = [];
  if (readOr('/proc/self/mountinfo').includes(token)) found.push('host mount table');
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const st = readOr(`/proc/${name}/stat`);
    const s = st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3);
    if (!st || s === 'Z' || s === 'X') continue;
    if (readOr(`/proc/${name}/mountinfo`).includes(token) || readOr(`/proc/${name}/cmdline`).includes(token))
      found.push(`pid ${name}: ${readOr(`/proc/${name}/cmdline`).replaceAll('\0', ' ')}`);
  }
  return found;
}

/** Is this process alive (zombies excluded)? */
export function alive(pid: number): boolean {
  const st = readOr(`/proc/${pid}/stat`);
  if (!st) return false;
  const s = st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3);
  return s !== 'Z' && s !== 'X';
}
