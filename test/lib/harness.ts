// Drives the real tsrunc binary (dist/tsrunc, or $TSRUNC_BIN) as root against
// real bundles made from the busybox rootfs. Used by test/ and spec-tests/.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeEach } from 'vitest';

export const repo = resolve(import.meta.dirname, '../..');
export const runtime = process.env.TSRUNC_BIN ?? join(repo, 'dist/tsrunc');
/**
 * The busybox rootfs every bundle points at: the run's own copy under its
 * TMPDIR, which test/lib/tmp-global.ts makes where user namespaces' mapped
 * uids can reach it (the checkout may lie under a 0700 directory such as
 * /root); the checkout's own outside a vitest run.
 */
export const rootfs = process.env.TSRUNC_TEST_ROOTFS ?? join(repo, 'bundles/busybox/rootfs');
export const isRoot = process.getuid?.() === 0;

export interface Result {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A private --root for one test file, removed by cleanup(). */
export function stateRoot(): string {
  return mkdtempSync(join(tmpdir(), 'tsrunc-root-'));
}

/**
 * Runs the runtime with stdout and stderr in files, not pipes: a created or
 * detached container inherits them and keeps them open, and spawnSync would
 * wait for that EOF forever (runc's callers meet the same).
 */
export function rt(root: string, args: string[], opts: SpawnSyncOptions = {}): Result {
  const dir = mkdtempSync(join(tmpdir(), 'tsrunc-io-'));
  const outFd = openSync(join(dir, 'out'), 'w+');
  const errFd = openSync(join(dir, 'err'), 'w+');
  try {
    const extra = Array.isArray(opts.stdio) ? opts.stdio.slice(3) : [];
    const stdin = Array.isArray(opts.stdio) ? opts.stdio[0] : opts.input !== undefined ? 'pipe' : 'ignore';
    const r = spawnSync(runtime, ['--root', root, ...args], { timeout: 30_000, ...opts, stdio: [stdin, outFd, errFd, ...extra] });
    // EPIPE on the input: the runtime exited without reading it (a refusal
    // before it reads stdin, as runc's is too). Its status is what counts.
    if (r.error && !((r.error as NodeJS.ErrnoException).code === 'EPIPE' && r.status !== null)) throw r.error;
    return {
      code: r.status ?? -1,
      signal: r.signal,
      stdout: readFileSync(join(dir, 'out'), 'utf8'),
      stderr: readFileSync(join(dir, 'err'), 'utf8'),
    };
  } finally {
    closeSync(outFd);
    closeSync(errFd);
    rmSync(dir, { recursive: true, force: true });
  }
}

export function baseConfig(): any {
  return JSON.parse(readFileSync(join(repo, 'bundles/busybox/config.json'), 'utf8'));
}

/**
 * A bundle in a temp dir whose config is the busybox one with `args`, and
 * whatever `mutate` changes. root.path points at the shared rootfs (absolute),
 * which is read-only in the default config.
 */
export function makeBundle(args: string[] | undefined, mutate?: (c: any) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsrunc-bundle-'));
  const c = baseConfig();
  // For runtimes that refuse our ociVersion (crun 1.8 and 1.2.0): spec-tests' runner sets it.
  if (process.env.SPEC_TESTS_OCI_VERSION) c.ociVersion = process.env.SPEC_TESTS_OCI_VERSION;
  c.root.path = rootfs;
  if (args) c.process.args = args;
  mutate?.(c);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(c, null, 2));
  return dir;
}

export function writeRawConfig(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsrunc-bundle-'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), text);
  return dir;
}

export function state(root: string, id: string): any {
  const r = rt(root, ['state', id]);
  if (r.code !== 0) throw new Error(`state ${id} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Polls until fn() is true (containers run asynchronously to the CLI). */
export async function until(fn: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// The pid alone does not make ids unique to a file: a full run starts tens of
// thousands of processes, and with pid_max at 32768 (this host) a later test
// file's worker can get the pid of an earlier one, whose containers or
// cgroups may still be there. Seen as a child's `tasks` write failing
// (ENOENT, ENOSPC) in full runs. A random tag per file makes them its own.
const tag = Math.random().toString(36).slice(2, 6);
let seq = 0;
export function uid(prefix = 'c'): string {
  return `${prefix}-${process.pid}-${tag}${++seq}`;
}

export function cleanup(root: string): void {
  for (const r of [rt(root, ['list', '-q'])])
    for (const id of r.stdout.split('\n').filter(Boolean)) rt(root, ['delete', '--force', id]);
  rmSync(root, { recursive: true, force: true });
}

/**
 * Skips every test of the enclosing describe unless `ok`, saying why (vitest's
 * describe.skipIf gives no reason): the reason names what the host lacks.
 */
export function requires(ok: boolean, reason: string): void {
  if (!ok) beforeEach((t) => t.skip(reason));
}

/**
 * Every file, link and directory below dir, with modes and contents: a host
 * directory a container must not change is compared before and after.
 */
export function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      const key = `${rel}/${name}`;
      if (st.isSymbolicLink()) out[key] = `-> ${readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[key] = `dir ${st.mode.toString(8)}`;
        walk(p, key);
      } else out[key] = `${st.mode.toString(8)} ${st.size} ${readFileSync(p, 'latin1')}`;
    }
  };
  walk(dir, '');
  return out;
}

/** systemd is PID 1 here (the systemd guest of scripts/qemu-v2/). */
export const systemdPid1 = (() => {
  try {
    return readFileSync('/proc/1/comm', 'utf8').trim() === 'systemd' && existsSync('/run/systemd/system');
  } catch {
    return false;
  }
})();
