// Conformance tests for the OCI runtime-spec's runtime.md (v1.2: "Runtime and
// Lifecycle"), one test per MUST / SHOULD that can be checked from outside the
// runtime. See README.md for the full list of requirements and which test
// checks each of them.
//
// The runtime is driven ONLY through its runc-compatible CLI, and only exit
// codes and observable effects are checked (never error wording), so the same
// file runs against runc or crun: TSRUNC_BIN=/usr/sbin/runc vitest run spec-tests
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cleanup,
  isRoot,
  makeBundle as harnessMakeBundle,
  rootfs,
  rt,
  runtime,
  state,
  stateRoot,
  uid,
  until,
  type Result,
} from '../test/lib/harness.ts';
import { outDirIn, type Out } from './lib/probe.ts';

const root = stateRoot();
const scratch = mkdtempSync(join(tmpdir(), 'spec-tests-'));
const children: ChildProcess[] = [];
const bundles: string[] = [];
afterAll(() => {
  cleanup(root);
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const b of bundles) rmSync(b, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

/** The harness's makeBundle, removed after the run. */
function makeBundle(args: string[] | undefined, mutate?: (c: any) => void): string {
  const dir = harnessMakeBundle(args, mutate);
  bundles.push(dir);
  return dir;
}

/**
 * Tests of requirements tsrunc is known to fail (see README.md): expected to
 * fail against tsrunc, plain tests against any other runtime.
 */
const isTsrunc = /^tsrunc(-node)?$/.test(basename(runtime)); // the Bun build or the Node one
const tsruncKnownFailure = isTsrunc ? it.fails : it;

// ---------------------------------------------------------------------------
// helpers

/**
 * Runs the runtime with stdio going to a file. `create` (and `run -d`) hand
 * their stdio to the container process, so with pipes spawnSync would wait for
 * the container to exit. Returns the output as stderr.
 */
// rt() already gives the runtime files, not pipes, for its output: a created
// container keeps whatever it inherited open.
function q(args: string[], opts: { cwd?: string } = {}): Result {
  return rt(root, args, opts);
}

function create(id: string, bundle: string): Result {
  return q(['create', '--bundle', bundle, id]);
}

function createOk(id: string, bundle: string): any {
  const r = create(id, bundle);
  if (r.code !== 0) throw new Error(`create ${id} failed (${r.code}): ${r.stderr}`);
  return state(root, id);
}

function start(id: string): Result {
  return q(['start', id]);
}

const outDir = (): Out => outDirIn(scratch);

/** A bundle whose config mounts `out` at /out. */
function bundleWith(out: Out, args: string[], mutate?: (c: any) => void): string {
  return makeBundle(args, (c) => {
    c.mounts.push(out.mount);
    mutate?.(c);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function procStat(pid: number): { state: string; start: string } | undefined {
  try {
    const t = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = t.slice(t.lastIndexOf(')') + 2).split(' ');
    return { state: f[0], start: f[19] };
  } catch {
    return undefined;
  }
}

/** Is this very process (pid + start time) alive, zombies excluded? */
function alive(pid: number, startTime?: string): boolean {
  const s = procStat(pid);
  return s !== undefined && s.state !== 'Z' && s.state !== 'X' && (startTime === undefined || s.start === startTime);
}

function readOr(path: string, fallback = ''): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return fallback;
  }
}

/**
 * Processes (other than this one) that still have anything to do with a
 * container whose config mounted the directory named `token`: a mount of it,
 * or the token on their command line. Plus 'host' when the host's own mount
 * table has it (a mount that leaked out of the container).
 */
function leftovers(token: string): string[] {
  const found: string[] = [];
  if (readOr('/proc/self/mountinfo').includes(token)) found.push('host mount table');
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const st = procStat(Number(name));
    if (!st || st.state === 'Z' || st.state === 'X') continue;
    if (readOr(`/proc/${name}/mountinfo`).includes(token) || readOr(`/proc/${name}/cmdline`).includes(token))
      found.push(`pid ${name}: ${readOr(`/proc/${name}/cmdline`).replaceAll('\0', ' ')}`);
  }
  return found;
}

interface CgroupMount {
  mountPoint: string;
  root: string;
  fstype: string;
  options: string[];
}

function cgroupMounts(): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of readOr('/proc/self/mountinfo').split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const [fstype, , superOpts] = line.slice(sep + 3).split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const f = line.split(' ');
    mounts.push({ mountPoint: f[4], root: f[3], fstype, options: superOpts.split(',') });
  }
  return mounts;
}

/** hierarchy line of /proc/<pid>/cgroup → its directory on the host, if mounted. */
function cgroupDir(hierarchy: string, path: string): string | undefined {
  const ctrls = hierarchy === '' ? [] : hierarchy.split(',');
  const m = cgroupMounts().find((m) => (ctrls.length === 0 ? m.fstype === 'cgroup2' : m.fstype === 'cgroup' && ctrls.some((c) => m.options.includes(c))));
  if (!m) return undefined;
  if (m.root !== '/' && !path.startsWith(m.root)) return undefined;
  const rel = m.root === '/' ? path : path.slice(m.root.length);
  return join(m.mountPoint, rel);
}

function cgroupsOf(pid: number | 'self'): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of readOr(`/proc/${pid}/cgroup`).split('\n').filter(Boolean)) {
    const [, hierarchy, path] = line.match(/^\d+:([^:]*):(.*)$/) ?? [];
    if (path !== undefined) map.set(hierarchy, path);
  }
  return map;
}

/** Host directories of the cgroups the container's process is in that this process is not: the ones create made. */
function containerCgroupDirs(pid: number): string[] {
  const mine = cgroupsOf('self');
  const dirs: string[] = [];
  for (const [h, path] of cgroupsOf(pid)) {
    if (mine.get(h) === path) continue;
    const dir = cgroupDir(h, path);
    if (dir && existsSync(dir)) dirs.push(dir);
  }
  return dirs;
}

/** cgroup directories anywhere (4 levels deep) whose name contains `id`. */
function cgroupDirsNamed(id: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 4) return;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      if (e.name.includes(id)) found.push(join(dir, e.name));
      walk(join(dir, e.name), depth + 1);
    }
  };
  for (const m of cgroupMounts()) walk(m.mountPoint, 0);
  return found;
}

function nsOf(pid: number | 'self', ns: string): string {
  return readlinkSync(`/proc/${pid}/ns/${ns}`);
}

/** /proc/<pid>/mountinfo as [mount point, mount options] (paths as the process sees them). */
function mountsOf(pid: number): [string, string[]][] {
  return readOr(`/proc/${pid}/mountinfo`)
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const f = l.split(' ');
      return [f[4], f[5].split(',')];
    });
}

function sameFile(a: string, b: string): boolean {
  const x = statSync(a);
  const y = statSync(b);
  return x.dev === y.dev && x.ino === y.ino;
}

/** Checks `s` against the types of runtime-spec schema/state-schema.json. */
function expectStateSchema(s: any): void {
  expect(typeof s).toBe('object');
  expect(typeof s.ociVersion).toBe('string');
  expect(typeof s.id).toBe('string');
  expect(['creating', 'created', 'running', 'stopped']).toContain(s.status);
  expect(typeof s.bundle).toBe('string');
  if (s.pid !== undefined) {
    expect(Number.isInteger(s.pid)).toBe(true);
    expect(s.pid).toBeGreaterThanOrEqual(0);
  }
  if (s.annotations !== undefined) {
    expect(typeof s.annotations).toBe('object');
    expect(Array.isArray(s.annotations)).toBe(false);
    for (const [k, v] of Object.entries(s.annotations)) {
      expect(k.length).toBeGreaterThan(0);
      expect(typeof v).toBe('string');
    }
  }
}

const waitStopped = (id: string, ms = 5000) => until(() => state(root, id).status === 'stopped', ms, `${id} stopped`);

/** A container whose program has started (it wrote /out/ready) and runs until killed. */
async function running(out: Out, script = '', mutate?: (c: any) => void): Promise<{ id: string; bundle: string; st: any }> {
  const id = uid('spec');
  const bundle = bundleWith(out, ['sh', '-c', `${script}\necho ready > /out/ready; while :; do sleep 0.05; done`], mutate);
  createOk(id, bundle);
  const s = start(id);
  if (s.code !== 0) throw new Error(`start ${id} failed: ${s.stderr}`);
  await until(() => (out.read('ready') ?? '') !== '', 5000, `${id} ready`);
  return { id, bundle, st: state(root, id) };
}

/** A container that has run `script` and stopped. */
async function stopped(out: Out, script = 'true'): Promise<{ id: string; bundle: string }> {
  const id = uid('spec');
  const bundle = bundleWith(out, ['sh', '-c', script]);
  createOk(id, bundle);
  expect(start(id).code).toBe(0);
  await waitStopped(id);
  return { id, bundle };
}

// ---------------------------------------------------------------------------

describe.skipIf(!isRoot)('runtime.md Scope of a Container', () => {
  it('runtime.md Scope of a Container: the entity using a runtime to create a container MUST be able to use the operations defined in the spec against that same container [MUST]', async () => {
    const id = uid('spec');
    const out = outDir();
    // Created from one working directory, operated on from another, by id alone.
    const bundle = bundleWith(out, ['sleep', '30']);
    expect(q(['create', '--bundle', basename(bundle), id], { cwd: dirname(bundle) }).code).toBe(0);
    const elsewhere = { cwd: '/' };
    expect(rt(root, ['state', id], elsewhere).code).toBe(0);
    expect(q(['start', id], elsewhere).code).toBe(0);
    expect(rt(root, ['kill', id, 'KILL'], elsewhere).code).toBe(0);
    await waitStopped(id);
    expect(rt(root, ['delete', id], elsewhere).code).toBe(0);
  });
});

describe.skipIf(!isRoot)('runtime.md State', () => {
  it('runtime.md State: ociVersion is REQUIRED: a string, the version of the runtime-spec the state complies with [REQUIRED]', () => {
    const id = uid('spec');
    const s = createOk(id, makeBundle(['sleep', '30']));
    expect(typeof s.ociVersion).toBe('string');
    expect(s.ociVersion).toMatch(/^\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]*)?$/);
    expect(rt(root, ['delete', '--force', id]).code).toBe(0);
  });

  it('runtime.md State: id is REQUIRED and is the container\'s ID, which MUST be unique across all containers on this host [MUST]', () => {
    const a = uid('spec');
    const b = uid('spec');
    const bundle = makeBundle(['sleep', '30']);
    expect(createOk(a, bundle).id).toBe(a);
    expect(createOk(b, bundle).id).toBe(b);
    // A second container cannot get an id already in use.
    expect(create(a, makeBundle(['sleep', '30'])).code).not.toBe(0);
    expect(state(root, a).id).toBe(a);
    expect(state(root, b).id).toBe(b);
    rt(root, ['delete', '--force', a]);
    rt(root, ['delete', '--force', b]);
  });

  it('runtime.md State: status is REQUIRED and is one of creating, created, running, stopped through the lifecycle [REQUIRED]', async () => {
    const out = outDir();
    const id = uid('spec');
    const seen: string[] = [];
    const look = () => {
      const s = state(root, id);
      expect(typeof s.status).toBe('string');
      expect(['creating', 'created', 'running', 'stopped']).toContain(s.status);
      seen.push(s.status);
      return s.status;
    };
    createOk(id, bundleWith(out, ['sh', '-c', 'echo ready > /out/ready; while [ ! -e /out/go ]; do sleep 0.05; done']));
    look();
    expect(start(id).code).toBe(0);
    await until(() => (out.read('ready') ?? '') !== '', 5000, 'ready');
    look();
    writeFileSync(out.file('go'), '');
    await until(() => look() === 'stopped', 5000, 'stopped');
    expect(seen.length).toBeGreaterThanOrEqual(3);
    rt(root, ['delete', id]);
  });

  it('runtime.md State: additional status values MUST only represent new states: a created, running, stopped container reports created, running, stopped [MUST]', async () => {
    const out = outDir();
    const id = uid('spec');
    createOk(id, bundleWith(out, ['sh', '-c', 'echo ready > /out/ready; while [ ! -e /out/go ]; do sleep 0.05; done']));
    // created: create has finished; the program has neither run nor exited.
    expect(state(root, id).status).toBe('created');
    expect(start(id).code).toBe(0);
    await until(() => (out.read('ready') ?? '') !== '', 5000, 'ready');
    // running: the program has been executed and has not exited.
    expect(state(root, id).status).toBe('running');
    writeFileSync(out.file('go'), '');
    // stopped: the container process has exited.
    await waitStopped(id);
    expect(state(root, id).status).toBe('stopped');
    expect(rt(root, ['delete', id]).code).toBe(0);
  });

  it('runtime.md State: pid is REQUIRED when status is created or running, and is the ID of the container process as seen by the host [REQUIRED]', async () => {
    const out = outDir();
    const id = uid('spec');
    const args = ['sh', '-c', 'echo ready > /out/ready; exec sleep 30'];
    const created = createOk(id, bundleWith(out, args));
    expect(Number.isInteger(created.pid)).toBe(true);
    expect(created.pid).toBeGreaterThan(0);
    // The host's /proc has it, and it is in the container's (new) pid namespace.
    expect(alive(created.pid)).toBe(true);
    expect(nsOf(created.pid, 'pid')).not.toBe(nsOf('self', 'pid'));
    expect(start(id).code).toBe(0);
    await until(() => (out.read('ready') ?? '') !== '', 5000, 'ready');
    const run = state(root, id);
    expect(run.status).toBe('running');
    expect(run.pid).toBe(created.pid);
    // ... and it is the process that runs the user's program.
    await until(() => readOr(`/proc/${run.pid}/cmdline`) === 'sleep\x0030\x00', 5000, 'exec sleep');
    rt(root, ['delete', '--force', id]);
  });

  it('runtime.md State: bundle is REQUIRED and is the absolute path to the container\'s bundle directory [REQUIRED]', () => {
    const id = uid('spec');
    const bundle = makeBundle(['sleep', '30']);
    // Given as a relative path.
    expect(q(['create', '--bundle', basename(bundle), id], { cwd: dirname(bundle) }).code).toBe(0);
    const s = state(root, id);
    expect(typeof s.bundle).toBe('string');
    expect(s.bundle.startsWith('/')).toBe(true);
    expect(sameFile(s.bundle, bundle)).toBe(true);
    expect(existsSync(join(s.bundle, 'config.json'))).toBe(true);
    rt(root, ['delete', '--force', id]);
  });

  it('runtime.md State: annotations contains the annotations associated with the container (from config.json); absent or an empty map when none [definition]', () => {
    const a = uid('spec');
    const annotations = { 'org.example.key': 'value', 'org.example.other': 'with spaces = and "quotes"' };
    expect(createOk(a, makeBundle(['sleep', '30'], (c) => (c.annotations = annotations))).annotations).toEqual(annotations);
    const b = uid('spec');
    const none = createOk(b, makeBundle(['sleep', '30'], (c) => delete c.annotations)).annotations;
    expect(none === undefined || (typeof none === 'object' && Object.keys(none).length === 0)).toBe(true);
    rt(root, ['delete', '--force', a]);
    rt(root, ['delete', '--force', b]);
  });

  it('runtime.md State: the state is JSON with the properties and types of schema/state-schema.json (v1.0: "When serialized in JSON, the format MUST adhere to the following pattern") [MUST]', async () => {
    const out = outDir();
    const id = uid('spec');
    createOk(id, bundleWith(out, ['sh', '-c', 'echo ready > /out/ready; while [ ! -e /out/go ]; do sleep 0.05; done'], (c) => (c.annotations = { k: 'v' })));
    const check = () => {
      const r = rt(root, ['state', id]);
      expect(r.code).toBe(0);
      const s = JSON.parse(r.stdout);
      expectStateSchema(s);
      for (const key of ['ociVersion', 'id', 'status', 'bundle']) expect(s).toHaveProperty(key);
      return s;
    };
    check();
    expect(start(id).code).toBe(0);
    await until(() => (out.read('ready') ?? '') !== '', 5000, 'ready');
    check();
    writeFileSync(out.file('go'), '');
    await waitStopped(id);
    check();
    rt(root, ['delete', id]);
  });
});

describe.skipIf(!isRoot)('runtime.md Lifecycle', () => {
  it('runtime.md Lifecycle 2: the container\'s runtime environment MUST be created according to config.json (namespaces, hostname, mounts) [MUST]', () => {
    const out = outDir();
    const id = uid('spec');
    const s = createOk(id, bundleWith(out, ['sleep', '30'], (c) => (c.hostname = 'spec-env')));
    for (const ns of ['pid', 'net', 'ipc', 'uts', 'mnt']) expect(nsOf(s.pid, ns), ns).not.toBe(nsOf('self', ns));
    expect(execFileSync('nsenter', ['-t', String(s.pid), '-u', 'uname', '-n'], { encoding: 'utf8' }).trim()).toBe('spec-env');
    const mounts = mountsOf(s.pid).map(([p]) => p);
    for (const p of ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/out']) expect(mounts).toContain(p);
    rt(root, ['delete', '--force', id]);
  });

  it('runtime.md Lifecycle 2: if the runtime is unable to create the environment specified in config.json, it MUST generate an error [MUST]', () => {
    const id = uid('spec');
    const bundle = makeBundle(['true'], (c) =>
      c.mounts.push({ destination: '/out', type: 'bind', source: join(scratch, 'no-such-dir'), options: ['rbind'] }),
    );
    expect(create(id, bundle).code).not.toBe(0);
    expect(rt(root, ['state', id]).code).not.toBe(0);
  });

  it('runtime.md Lifecycle 2: the user-specified program MUST NOT be run at create time [MUST NOT]', async () => {
    const out = outDir();
    const id = uid('spec');
    createOk(id, bundleWith(out, ['sh', '-c', 'echo ran > /out/marker']));
    // Give it every chance to.
    await sleep(300);
    expect(out.read('marker')).toBeUndefined();
    expect(state(root, id).status).toBe('created');
    expect(start(id).code).toBe(0);
    await until(() => out.read('marker') === 'ran\n', 5000, 'marker');
    await waitStopped(id);
    rt(root, ['delete', id]);
  });

  it('runtime.md Lifecycle 2 / Create: updates to config.json after create MUST NOT affect the container [MUST NOT]', async () => {
    const out = outDir();
    const id = uid('spec');
    const bundle = bundleWith(out, ['sh', '-c', 'echo original > /out/marker; uname -n > /out/hostname'], (c) => {
      c.hostname = 'before';
      c.annotations = { phase: 'before' };
    });
    const before = createOk(id, bundle);
    const cfgPath = join(bundle, 'config.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
    cfg.process.args = ['sh', '-c', 'echo changed > /out/marker; uname -n > /out/hostname'];
    cfg.hostname = 'after';
    cfg.annotations = { phase: 'after' };
    writeFileSync(cfgPath, JSON.stringify(cfg));
    expect(start(id).code).toBe(0);
    await waitStopped(id);
    expect(out.read('marker')).toBe('original\n');
    expect(out.read('hostname')).toBe('before\n');
    const after = state(root, id);
    expect(after.annotations).toEqual(before.annotations);
    expect(after.bundle).toBe(before.bundle);
    rt(root, ['delete', id]);
  });

  it('runtime.md Lifecycle 8 / Start: the runtime MUST run the user-specified program as specified by process (args, env, cwd, user) [MUST]', async () => {
    const out = outDir();
    const id = uid('spec');
    const bundle = bundleWith(out, ['sh', '-c', 'echo "$0|$1|$FOO|$(pwd)|$(id -u):$(id -g)" > /out/result', 'arg 1'], (c) => {
      c.process.env.push('FOO=foo value');
      c.process.cwd = '/tmp';
      c.process.user = { uid: 1234, gid: 2345 };
    });
    createOk(id, bundle);
    expect(start(id).code).toBe(0);
    await until(() => (out.read('result') ?? '') !== '', 5000, 'result');
    await waitStopped(id);
    // sh -c SCRIPT NAME: $0 is the first argument after the script.
    expect(out.read('result')).toBe('arg 1||foo value|/tmp|1234:2345\n');
    rt(root, ['delete', id]);
  });

  it('runtime.md Lifecycle 10: when the container process exits (exiting, erroring out, crashing, kill), status MUST become stopped [MUST]', async () => {
    const out = outDir();
    const ids: string[] = [];
    for (const script of ['exit 0', 'exit 3']) {
      const { id } = await stopped(out, script);
      expect(state(root, id).status).toBe('stopped');
      ids.push(id);
    }
    // Crashing: killed from outside the runtime.
    const crashed = await running(outDir());
    process.kill(crashed.st.pid, 'SIGKILL');
    await waitStopped(crashed.id);
    ids.push(crashed.id);
    // The runtime's kill operation.
    const killed = await running(outDir());
    expect(rt(root, ['kill', killed.id, 'KILL']).code).toBe(0);
    await waitStopped(killed.id);
    ids.push(killed.id);
    for (const id of ids) expect(rt(root, ['delete', id]).code).toBe(0);
  });

  it('runtime.md Lifecycle 12 / Delete: deleting MUST destroy the container by undoing create, deleting the resources created during create (state, processes, mounts, cgroups) [MUST]', async () => {
    const out = outDir();
    const { id, st } = await running(out);
    const pid = st.pid as number;
    const startTime = procStat(pid)!.start;
    const cgroups = containerCgroupDirs(pid);
    expect(leftovers(out.token).length).toBeGreaterThan(0); // the check sees a live container
    expect(rt(root, ['kill', id, 'KILL']).code).toBe(0);
    await waitStopped(id);
    expect(rt(root, ['delete', id]).code).toBe(0);
    expect(rt(root, ['state', id]).code).not.toBe(0);
    expect(readdirSync(root)).not.toContain(id);
    expect(alive(pid, startTime)).toBe(false);
    expect(leftovers(out.token)).toEqual([]);
    for (const dir of cgroups) expect(existsSync(dir), dir).toBe(false);
    expect(cgroupDirsNamed(id)).toEqual([]);
  });
});

describe.skipIf(!isRoot)('runtime.md Errors', () => {
  it('runtime.md Errors: generating an error MUST leave the state of the environment as if the operation were never attempted (a failed create leaves no container, process, mount or cgroup) [MUST]', async () => {
    const out = outDir();
    const id = uid('spec');
    const rootBefore = readdirSync(root).sort();
    // /out is mounted, then a mount fails: create has done part of its work.
    const bundle = bundleWith(out, ['sleep', '30'], (c) =>
      c.mounts.push({ destination: '/tmp', type: 'bind', source: join(scratch, 'no-such-dir'), options: ['rbind'] }),
    );
    expect(create(id, bundle).code).not.toBe(0);
    expect(rt(root, ['state', id]).code).not.toBe(0);
    expect(readdirSync(root).sort()).toEqual(rootBefore);
    await until(() => leftovers(out.token).length === 0, 1000, 'no leftover process').catch(() => {});
    expect(leftovers(out.token)).toEqual([]);
    expect(cgroupDirsNamed(id)).toEqual([]);
    // The id is still free.
    expect(createOk(id, makeBundle(['sleep', '30'])).status).toBe('created');
    rt(root, ['delete', '--force', id]);
  });
});

describe.skipIf(!isRoot)('runtime.md Operations', () => {
  it('runtime.md Operations: runtimes MUST support the operations state, create, start, kill and delete [MUST]', async () => {
    const out = outDir();
    const id = uid('spec');
    const bundle = bundleWith(out, ['sh', '-c', "trap 'exit 0' TERM; echo ready > /out/ready; while :; do sleep 0.05; done"]);
    expect(create(id, bundle).code).toBe(0);
    expect(rt(root, ['state', id]).code).toBe(0);
    expect(start(id).code).toBe(0);
    await until(() => (out.read('ready') ?? '') !== '', 5000, 'ready');
    expect(rt(root, ['kill', id, 'TERM']).code).toBe(0);
    await waitStopped(id);
    expect(rt(root, ['delete', id]).code).toBe(0);
  });
});

describe.skipIf(!isRoot)('runtime.md Operations/Query State', () => {
  it('runtime.md Operations/Query State: MUST generate an error if it is not provided the ID of a container [MUST]', () => {
    expect(rt(root, ['state']).code).not.toBe(0);
  });

  it('runtime.md Operations/Query State: querying a container that does not exist MUST generate an error [MUST]', () => {
    expect(rt(root, ['state', uid('never-created')]).code).not.toBe(0);
    const id = uid('spec');
    createOk(id, makeBundle(['sleep', '30']));
    expect(rt(root, ['delete', '--force', id]).code).toBe(0);
    expect(rt(root, ['state', id]).code).not.toBe(0);
  });

  it('runtime.md Operations/Query State: MUST return the state of a container as specified in the State section [MUST]', () => {
    const id = uid('spec');
    const bundle = makeBundle(['sleep', '30'], (c) => (c.annotations = { a: 'b' }));
    expect(create(id, bundle).code).toBe(0);
    const r = rt(root, ['state', id]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expectStateSchema(s);
    expect(s).toMatchObject({ id, status: 'created', annotations: { a: 'b' } });
    expect(sameFile(s.bundle, bundle)).toBe(true);
    expect(alive(s.pid)).toBe(true);
    rt(root, ['delete', '--force', id]);
  });
});

describe.skipIf(!isRoot)('runtime.md Operations/Create', () => {
  it('runtime.md Operations/Create: MUST generate an error if it is not provided the container ID [MUST]', () => {
    const before = readdirSync(root).sort();
    expect(q(['create', '--bundle', makeBundle(['sleep', '30'])]).code).not.toBe(0);
    expect(readdirSync(root).sort()).toEqual(before);
  });

  it('runtime.md Operations/Create: MUST generate an error if it is not provided a path to the bundle [MUST]', () => {
    // runc's CLI defaults the bundle to the working directory: make that hold no bundle.
    const empty = mkdtempSync(join(scratch, 'empty-'));
    const id = uid('spec');
    expect(q(['create', id], { cwd: empty }).code).not.toBe(0);
    expect(rt(root, ['state', id]).code).not.toBe(0);
  });

  it('runtime.md Operations/Create: if the ID is not unique, MUST generate an error and a new container MUST NOT be created (the existing one is unchanged) [MUST]', async () => {
    const out1 = outDir();
    const out2 = outDir();
    const id = uid('spec');
    const first = createOk(id, bundleWith(out1, ['sh', '-c', 'echo first > /out/marker; exec sleep 30'], (c) => (c.annotations = { which: 'first' })));
    const again = create(id, bundleWith(out2, ['sh', '-c', 'echo second > /out/marker; exec sleep 30'], (c) => (c.annotations = { which: 'second' })));
    expect(again.code).not.toBe(0);
    expect(leftovers(out2.token)).toEqual([]);
    expect(state(root, id)).toEqual(first);
    expect(alive(first.pid)).toBe(true);
    expect(start(id).code).toBe(0);
    await until(() => (out1.read('marker') ?? '') !== '', 5000, 'marker');
    expect(out1.read('marker')).toBe('first\n');
    expect(out2.read('marker')).toBeUndefined();
    rt(root, ['delete', '--force', id]);
  });

  it('runtime.md Operations/Create: if the ID is not valid, MUST generate an error and a new container MUST NOT be created [MUST]', () => {
    const escape = `spec-escape-${process.pid}`;
    const out = outDir();
    const bundle = bundleWith(out, ['sleep', '30']);
    const before = readdirSync(root).sort();
    for (const id of ['', '..', 'a/b', `../${escape}`, `/${escape}`]) {
      expect(create(id, bundle).code, JSON.stringify(id)).not.toBe(0);
    }
    expect(readdirSync(root).sort()).toEqual(before);
    expect(existsSync(join(dirname(root), escape))).toBe(false);
    expect(existsSync(join('/', escape))).toBe(false);
    expect(leftovers(out.token)).toEqual([]);
  });

  it('runtime.md Operations/Create: MUST create a new container, whose status is created [MUST]', () => {
    const id = uid('spec');
    expect(rt(root, ['state', id]).code).not.toBe(0);
    expect(create(id, makeBundle(['sleep', '30'])).code).toBe(0);
    expect(state(root, id).status).toBe('created');
    rt(root, ['delete', '--force', id]);
  });

  it('runtime.md Operations/Create: all of the properties configured in config.json except process MUST be applied (hostname, mounts, root.readonly, namespaces) [MUST]', () => {
    const out = outDir();
    const id = uid('spec');
    const s = createOk(
      id,
      bundleWith(out, ['sleep', '30'], (c) => {
        c.hostname = 'spec-applied';
        c.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m'] });
      }),
    );
    expect(execFileSync('nsenter', ['-t', String(s.pid), '-u', 'uname', '-n'], { encoding: 'utf8' }).trim()).toBe('spec-applied');
    const mounts = new Map(mountsOf(s.pid));
    expect(mounts.get('/')).toContain('ro');
    expect(mounts.get('/out')).toContain('rw');
    expect(mounts.get('/tmp')).toContain('nosuid');
    expect(mounts.get('/sys')).toContain('ro');
    for (const ns of ['pid', 'net', 'ipc', 'uts', 'mnt']) expect(nsOf(s.pid, ns), ns).not.toBe(nsOf('self', ns));
    rt(root, ['delete', '--force', id]);
  });

  it('runtime.md Operations/Create: all of the properties configured in config.json except process MUST be applied (linux.resources.pids.limit) [MUST]', () => {
    const id = uid('spec');
    const s = createOk(id, makeBundle(['sleep', '30'], (c) => (c.linux.resources.pids = { limit: 10 })));
    try {
      const cg = cgroupsOf(s.pid);
      const h = [...cg.keys()].find((k) => k.split(',').includes('pids')) ?? '';
      const dir = cgroupDir(h, cg.get(h) ?? '/');
      expect(dir).toBeDefined();
      expect(readOr(join(dir!, 'pids.max')).trim()).toBe('10');
    } finally {
      rt(root, ['delete', '--force', id]);
    }
  });

  it('runtime.md Operations/Create: process.args MUST NOT be applied until triggered by the start operation [MUST NOT]', async () => {
    const out = outDir();
    const id = uid('spec');
    const sleepBin = join(rootfs, 'bin/sleep');
    const s = createOk(id, bundleWith(out, ['sleep', '30']));
    await sleep(200);
    // The container process is not (yet) the user's program.
    expect(sameFile(`/proc/${s.pid}/exe`, sleepBin)).toBe(false);
    expect(readOr(`/proc/${s.pid}/cmdline`)).not.toBe('sleep\x0030\x00');
    expect(start(id).code).toBe(0);
    await until(() => sameFile(`/proc/${s.pid}/exe`, sleepBin), 5000, 'exec sleep');
    expect(readOr(`/proc/${s.pid}/cmdline`)).toBe('sleep\x0030\x00');
    rt(root, ['delete', '--force', id]);
  });

  it('runtime.md Operations/Create: if the runtime cannot apply a property as specified in the configuration, it MUST generate an error and a new container MUST NOT be created [MUST]', () => {
    const cases: [string, (c: any) => void][] = [
      ['bind mount of a missing source', (c) => c.mounts.push({ destination: '/tmp', type: 'bind', source: join(scratch, 'missing'), options: ['rbind'] })],
      ['namespace path that does not exist', (c) => (c.linux.namespaces = c.linux.namespaces.map((n: any) => (n.type === 'network' ? { type: 'network', path: join(scratch, 'no-netns') } : n)))],
      ['root.path that does not exist', (c) => (c.root.path = join(scratch, 'no-rootfs'))],
      ['mount of an unknown filesystem type', (c) => c.mounts.push({ destination: '/tmp', type: 'no-such-fs-type', source: 'none' })],
    ];
    for (const [what, mutate] of cases) {
      const out = outDir();
      const id = uid('spec');
      const before = readdirSync(root).sort();
      expect(create(id, bundleWith(out, ['sleep', '30'], mutate)).code, what).not.toBe(0);
      expect(rt(root, ['state', id]).code, what).not.toBe(0);
      expect(readdirSync(root).sort(), what).toEqual(before);
      expect(leftovers(out.token), what).toEqual([]);
    }
  });
});

describe.skipIf(!isRoot)('runtime.md Operations/Start', () => {
  it('runtime.md Operations/Start: MUST generate an error if it is not provided the container ID [MUST]', () => {
    expect(q(['start']).code).not.toBe(0);
  });

  it('runtime.md Operations/Start: starting a container that does not exist (not created) MUST generate an error [MUST]', () => {
    const id = uid('never-created');
    expect(start(id).code).not.toBe(0);
    expect(rt(root, ['state', id]).code).not.toBe(0);
  });

  it('runtime.md Operations/Start: starting a running container (not created) MUST have no effect on the container and MUST generate an error [MUST]', async () => {
    const out = outDir();
    const { id, st } = await running(out, 'echo run >> /out/runs');
    expect(start(id).code).not.toBe(0);
    await sleep(200);
    expect(out.read('runs')).toBe('run\n');
    expect(state(root, id)).toEqual(st);
    expect(alive(st.pid)).toBe(true);
    rt(root, ['delete', '--force', id]);
  });

  it('runtime.md Operations/Start: starting a stopped container (not created) MUST have no effect on the container and MUST generate an error [MUST]', async () => {
    const out = outDir();
    const { id } = await stopped(out, 'echo run >> /out/runs');
    const before = state(root, id);
    expect(start(id).code).not.toBe(0);
    await sleep(200);
    expect(out.read('runs')).toBe('run\n');
    expect(state(root, id)).toEqual(before);
    expect(rt(root, ['delete', id]).code).toBe(0);
  });

  it('runtime.md Operations/Start: MUST generate an error if process was not set [MUST]', async () => {
    const id = uid('spec');
    const c = create(id, makeBundle(undefined, (c) => delete c.process));
    // The runtime MAY refuse the config at create already; either way start fails.
    expect(start(id).code).not.toBe(0);
    if (c.code === 0) {
      expect(state(root, id).status).not.toBe('running');
      rt(root, ['delete', '--force', id]);
    } else {
      expect(rt(root, ['state', id]).code).not.toBe(0);
    }
  });
});

describe.skipIf(!isRoot)('runtime.md Operations/Kill', () => {
  it('runtime.md Operations/Kill: MUST generate an error if it is not provided the container ID [MUST]', () => {
    expect(rt(root, ['kill']).code).not.toBe(0);
  });

  it('runtime.md Operations/Kill: sending a signal to a stopped container (neither created nor running) MUST have no effect on the container and MUST generate an error [MUST]', async () => {
    const out = outDir();
    const { id } = await stopped(out, 'exit 0');
    const before = state(root, id);
    expect(rt(root, ['kill', id, 'KILL']).code).not.toBe(0);
    expect(rt(root, ['kill', id, 'TERM']).code).not.toBe(0);
    expect(state(root, id)).toEqual(before);
    expect(rt(root, ['delete', id]).code).toBe(0);
  });

  it('runtime.md Operations/Kill: sending a signal to a container that does not exist MUST generate an error [MUST]', () => {
    const id = uid('never-created');
    expect(rt(root, ['kill', id, 'KILL']).code).not.toBe(0);
    expect(rt(root, ['state', id]).code).not.toBe(0);
  });

  it('runtime.md Operations/Kill: MUST send the specified signal to the container process (running) [MUST]', async () => {
    const out = outDir();
    const { id } = await running(out, "trap 'echo USR1 >> /out/sig' USR1; trap 'echo USR2 >> /out/sig' USR2");
    expect(rt(root, ['kill', id, 'USR2']).code).toBe(0);
    await until(() => (out.read('sig') ?? '') !== '', 5000, 'signal');
    await sleep(100);
    expect(out.read('sig')).toBe('USR2\n');
    expect(state(root, id).status).toBe('running');
    expect(rt(root, ['kill', id, 'USR1']).code).toBe(0);
    await until(() => out.read('sig') === 'USR2\nUSR1\n', 5000, 'second signal');
    rt(root, ['delete', '--force', id]);
  });

  it('runtime.md Operations/Kill: MUST send the specified signal to the container process (created) [MUST]', async () => {
    const out = outDir();
    const id = uid('spec');
    const s = createOk(id, bundleWith(out, ['sh', '-c', 'echo ran > /out/marker']));
    expect(rt(root, ['kill', id, 'KILL']).code).toBe(0);
    await waitStopped(id);
    expect(alive(s.pid)).toBe(false);
    expect(out.read('marker')).toBeUndefined();
    expect(rt(root, ['delete', id]).code).toBe(0);
  });
});

describe.skipIf(!isRoot)('runtime.md Operations/Delete', () => {
  it('runtime.md Operations/Delete: MUST generate an error if it is not provided the container ID [MUST]', () => {
    expect(rt(root, ['delete']).code).not.toBe(0);
  });

  it('runtime.md Operations/Delete: deleting a running container (not stopped) MUST have no effect on the container and MUST generate an error [MUST]', async () => {
    const out = outDir();
    const { id, st } = await running(out, 'echo run >> /out/runs');
    expect(rt(root, ['delete', id]).code).not.toBe(0);
    expect(state(root, id)).toEqual(st);
    expect(alive(st.pid)).toBe(true);
    expect(leftovers(out.token).length).toBeGreaterThan(0);
    rt(root, ['delete', '--force', id]);
  });

  // runc and crun delete a created container too (runc#1774, crun#838), and
  // tsrunc does what runc does: a known, deliberate deviation.
  tsruncKnownFailure('runtime.md Operations/Delete: deleting a created container (not stopped) MUST have no effect on the container and MUST generate an error [MUST]', () => {
    const out = outDir();
    const id = uid('spec');
    const s = createOk(id, bundleWith(out, ['sleep', '30']));
    try {
      expect(rt(root, ['delete', id]).code).not.toBe(0);
      expect(state(root, id)).toEqual(s);
      expect(alive(s.pid)).toBe(true);
    } finally {
      rt(root, ['delete', '--force', id]);
    }
  });

  it('runtime.md Operations/Delete: deleting a container that does not exist (not stopped) MUST generate an error [MUST]', () => {
    const id = uid('never-created');
    expect(rt(root, ['delete', id]).code).not.toBe(0);
    expect(rt(root, ['state', id]).code).not.toBe(0);
  });

  it('runtime.md Operations/Delete: resources associated with the container but not created by it MUST NOT be deleted (bundle, rootfs, mount sources, joined namespaces) [MUST NOT]', async () => {
    const out = outDir();
    writeFileSync(out.file('kept'), 'kept\n');
    // A network namespace that exists before and independently of the container.
    const holder = spawn('unshare', ['--net', 'sleep', '60'], { stdio: 'ignore' });
    children.push(holder);
    await until(() => {
      try {
        return nsOf(holder.pid!, 'net') !== nsOf('self', 'net') && readOr(`/proc/${holder.pid}/cmdline`).startsWith('sleep');
      } catch {
        return false;
      }
    }, 5000, 'netns holder');
    const netns = nsOf(holder.pid!, 'net');
    const { id, bundle, st } = await running(out, 'echo more > /out/written', (c) => {
      c.linux.namespaces = c.linux.namespaces.map((n: any) => (n.type === 'network' ? { type: 'network', path: `/proc/${holder.pid}/ns/net` } : n));
    });
    expect(nsOf(st.pid, 'net')).toBe(netns);
    const config = readFileSync(join(bundle, 'config.json'), 'utf8');
    expect(rt(root, ['kill', id, 'KILL']).code).toBe(0);
    await waitStopped(id);
    expect(rt(root, ['delete', id]).code).toBe(0);
    expect(readFileSync(join(bundle, 'config.json'), 'utf8')).toBe(config);
    expect(existsSync(join(rootfs, 'bin/busybox'))).toBe(true);
    expect(out.read('kept')).toBe('kept\n');
    expect(out.read('written')).toBe('more\n');
    expect(alive(holder.pid!)).toBe(true);
    expect(nsOf(holder.pid!, 'net')).toBe(netns);
    holder.kill('SIGKILL');
  });
});

