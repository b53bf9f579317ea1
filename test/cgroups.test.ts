// Cgroups with real containers, on whichever version this host runs: v1 (this
// machine: hybrid, the v1 controllers are used) or v2 (`npm run test:v2` runs
// this file in a qemu guest whose /sys/fs/cgroup is one cgroup2 hierarchy).
// Where the directories go, that the container and its exec'd processes are in
// them, that the limits are in the files and hold (OOM kill, fork bomb,
// devices), pause/resume, update, events, kill --all, and that delete leaves
// nothing. The same tests run on both versions; where the files differ, each
// version's files are checked.
//
// In the guest everything is 30-60x slower (software emulation): the tests
// start few containers, wait with generous deadlines (a passing wait ends as
// soon as its condition holds) and have long timeouts.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cgroupLayout } from '../src/cgroups/hierarchy.ts';
import { hostHugePageSizes } from '../src/cgroups/stats.ts';
import { cleanup, isRoot, makeBundle, requires, rt, runtime, state, stateRoot, uid, until } from './lib/harness.ts';

const root = stateRoot();
afterAll(() => cleanup(root), 300_000);

const layout = cgroupLayout();
const v2 = isRoot && layout.unified;
const v1 = isRoot && !layout.unified && layout.hierarchies.some((h) => h.fstype === 'cgroup');
const V = v2 ? 'v2' : 'v1';
const NO_CGROUPS = isRoot ? 'needs a cgroup v1 or v2 hierarchy: none is mounted' : 'needs root';
const V2_ONLY = 'cgroup v2 only: npm run test:v2 runs it in a guest with a pure v2 hierarchy';
/** The mount points whose directories a container gets: each v1 hierarchy, or the one v2 hierarchy. */
const hierarchies = v2 ? layout.hierarchies : layout.hierarchies.filter((h) => h.fstype === 'cgroup');
const V2_MOUNT = '/sys/fs/cgroup';
const mountOf = (controller: string) => (v2 ? V2_MOUNT : hierarchies.find((h) => h.controllers.includes(controller))?.mountPoint);

// Deadlines: generous for the emulated guest, where a container takes seconds to start.
const TEST_TIMEOUT = 240_000;
const WAIT = 60_000;
const opts = { timeout: TEST_TIMEOUT };

/** This process's cgroup per controller ('' for v2): tsrunc, our child, starts in the same ones. */
const own = new Map<string, string>();
for (const line of readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n')) {
  const [, ctrls, path] = line.split(':');
  for (const c of ctrls.split(',')) own.set(c, path);
}

/**
 * Where a container's cgroup is in a controller's hierarchy, for a cgroupsPath
 * (runc's rules: absolute from the root; relative from the runtime's own cgroup,
 * on v2 from its parent).
 */
function dirOf(controller: string, id: string, cgroupsPath?: string): string {
  const inner = cgroupsPath ?? id;
  if (v2) return inner.startsWith('/') ? join(V2_MOUNT, inner) : join(V2_MOUNT, posix.dirname(own.get('')!), inner);
  const base = inner.startsWith('/') ? mountOf(controller)! : join(mountOf(controller)!, own.get(controller)!);
  return join(base, inner);
}

/** The container's directory in every hierarchy (v2: the one). */
const allDirs = (id: string, cgroupsPath?: string) => hierarchies.map((h) => dirOf(v2 ? '' : h.controllers[0], id, cgroupsPath));

const read = (path: string) => readFileSync(path, 'utf8').trim();
/** "0-2,5" as [0, 1, 2, 5]. */
const cpuList = (text: string) => text.split(',').filter(Boolean).flatMap((r) => {
  const [a, b = a] = r.split('-').map(Number);
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
});
const procs = (dir: string) => read(`${dir}/cgroup.procs`).split('\n').filter(Boolean).map(Number);

/** A host directory bind-mounted at /out, so the container can leave marks. */
function outDir(): { host: string; mount: object } {
  const host = mkdtempSync(join(tmpdir(), 'tsrunc-out-'));
  return { host, mount: { destination: '/out', type: 'bind', source: host, options: ['rbind', 'rw'] } };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A block device of this host (major:minor) for the io throttles, if it has one. */
const blockDevice = (() => {
  try {
    const names = readdirSync('/sys/block').sort((a, b) => Number(a.startsWith('loop')) - Number(b.startsWith('loop')) || a.localeCompare(b));
    for (const n of names) {
      const m = /^(\d+):(\d+)$/.exec(read(`/sys/block/${n}/dev`));
      if (m) return { name: n, major: Number(m[1]), minor: Number(m[2]) };
    }
  } catch {}
  return undefined;
})();

/**
 * The files a new v1 cgroup of a controller gets on this host (what its kernel
 * and block devices offer: blkio.weight only with CFQ, blkio.bfq.weight only
 * with BFQ loaded, memsw only with swap accounting, cfs_quota_us only with
 * CFS bandwidth control, rt_runtime_us only with RT group scheduling), from a
 * probe cgroup made and removed at once. Undefined on v2, where each file is
 * checked after the fact.
 */
const offeredCache = new Map<string, Set<string>>();
function offered(controller: string): Set<string> | undefined {
  if (!v1) return undefined;
  let files = offeredCache.get(controller);
  if (files) return files;
  const mount = mountOf(controller);
  files = new Set();
  if (mount) {
    const probe = join(mount, own.get(controller) ?? '/', `tsrunc-probe-${process.pid}-${controller}`);
    mkdirSync(probe, { recursive: true });
    try {
      for (const f of readdirSync(probe)) files.add(f);
    } finally {
      rmdirSync(probe);
    }
  }
  offeredCache.set(controller, files);
  return files;
}
/** Does this host give a new cgroup this file (always true on v2: checked there after the fact)? */
const hostHas = (controller: string, file: string) => offered(controller)?.has(file) ?? true;

/** Huge pages of 2 MB, where the kernel has them and hugetlb is a controller here. */
const hugetlb2M =
  hostHugePageSizes().includes('2MB') &&
  (v2 ? read(`${V2_MOUNT}/cgroup.controllers`).split(' ').includes('hugetlb') : mountOf('hugetlb') !== undefined);

describe(`cgroups ${V}: placement`, opts, () => {
  requires(v1 || v2, NO_CGROUPS);
  it('default cgroupsPath: <own cgroup>/<id> (v2: its parent\'s), with init in it; delete removes it', () => {
    const id = uid();
    expect(rt(root, ['run', '-d', '-b', makeBundle(['sleep', '100']), id])).toMatchObject({ code: 0, stderr: '' });
    const pid = state(root, id).pid;
    const procCgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    if (v2) {
      const dir = dirOf('', id);
      expect(procs(dir)).toContain(pid);
      expect(procCgroup).toBe(`0::${dir.slice(V2_MOUNT.length)}\n`);
    } else {
      for (const h of hierarchies) {
        const c = h.controllers[0];
        const dir = dirOf(c, id);
        expect(existsSync(dir), dir).toBe(true);
        expect(procs(dir)).toContain(pid);
        expect(procCgroup).toContain(`:${join(own.get(c)!, id)}\n`);
      }
    }
    expect(rt(root, ['delete', '-f', id]).code).toBe(0);
    for (const d of allDirs(id)) expect(existsSync(d), d).toBe(false);
  });

  it('an absolute cgroupsPath is taken from the hierarchy root, controllers enabled down to it; the parents made for it go too', () => {
    const id = uid();
    const parent = `/tsrunc-test-${process.pid}-${id}`;
    const path = `${parent}/ctr`;
    expect(rt(root, ['run', '-d', '-b', makeBundle(['sleep', '100'], (c) => (c.linux.cgroupsPath = path)), id])).toMatchObject({ code: 0, stderr: '' });
    const pid = state(root, id).pid;
    if (v2) {
      expect(procs(`${V2_MOUNT}${path}`)).toEqual([pid]);
      // Every controller the root has is enabled for the children of each level down to the container.
      const available = read(`${V2_MOUNT}/cgroup.controllers`).split(' ');
      for (const c of ['cpu', 'memory', 'pids', 'io', 'cpuset']) expect(available).toContain(c);
      for (const level of [V2_MOUNT, `${V2_MOUNT}${parent}`]) expect(read(`${level}/cgroup.subtree_control`).split(' ').sort(), level).toEqual([...available].sort());
      expect(read(`${V2_MOUNT}${path}/cgroup.controllers`).split(' ').sort()).toEqual([...available].sort());
      // The container's own cgroup has processes: nothing is enabled below it.
      expect(read(`${V2_MOUNT}${path}/cgroup.subtree_control`)).toBe('');
      expect(read(`${V2_MOUNT}${path}/cgroup.type`)).toBe('domain');
    } else {
      for (const c of ['memory', 'pids', 'cpu', 'devices', 'freezer']) expect(procs(`${mountOf(c)}${path}`)).toContain(pid);
      // cpuset: a new directory's cpus and mems were filled from its parent's, or nothing could join.
      expect(read(`${mountOf('cpuset')}${parent}/cpuset.cpus`)).toBe(read(`${mountOf('cpuset')}/cpuset.cpus`));
    }
    expect(rt(root, ['delete', '-f', id])).toMatchObject({ code: 0, stderr: '' });
    for (const h of hierarchies) expect(existsSync(`${h.mountPoint}${parent}`)).toBe(false);
  });

  it("a relative cgroupsPath is taken from tsrunc's own cgroup (v2: its parent), and cannot climb out of it", () => {
    const id = uid();
    expect(rt(root, ['run', '-d', '-b', makeBundle(['sleep', '100'], (c) => (c.linux.cgroupsPath = `../../rel-${id}/x`)), id]).code).toBe(0);
    const dir = dirOf('memory', id, `rel-${id}/x`);
    expect(procs(dir)).toEqual([state(root, id).pid]);
    if (v2) expect(read(`${posix.dirname(dir)}/cgroup.subtree_control`)).toMatch(/\bmemory\b/);
    expect(rt(root, ['delete', '-f', id]).code).toBe(0);
    expect(existsSync(dirOf('memory', id, `rel-${id}`))).toBe(false);
  });

  it('refuses a cgroupsPath that names the root, and what this version cannot do, before anything exists', () => {
    const refusals: Array<[(c: any) => void, string]> = [[(c) => (c.linux.cgroupsPath = '/'), 'names the root cgroup']];
    if (v1) refusals.push([(c) => (c.linux.resources.unified = { 'memory.max': '1M' }), 'cannot use unified on cgroup v1']);
    if (v2) refusals.push([(c) => (c.linux.resources.cpu = { realtimeRuntime: 1000, realtimePeriod: 10000 }), 'realtimePeriod and realtimeRuntime are not supported on cgroup v2']);
    if (v2) refusals.push([(c) => (c.linux.resources.memory = { swap: 1 << 20 }), 'unable to set swap limit without memory limit']);
    for (const [mutate, msg] of refusals) {
      const id = uid();
      const r = rt(root, ['create', '-b', makeBundle(['true'], mutate), id]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(msg);
      expect(existsSync(join(root, id))).toBe(false);
      expect(existsSync(dirOf('memory', id))).toBe(false);
    }
  });

  it('with a cgroup namespace the container sees its cgroup as /, and /sys/fs/cgroup shows its own limits', () => {
    const id = uid();
    const files = v2 ? '/sys/fs/cgroup/pids.max /sys/fs/cgroup/memory.max' : '/sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/memory/memory.limit_in_bytes';
    const bundle = makeBundle(['sh', '-c', `cat /proc/self/cgroup; cat ${files}; wc -l < /sys/fs/cgroup/${v2 ? '' : 'pids/'}cgroup.procs`], (c) => {
      c.linux.namespaces.push({ type: 'cgroup' });
      c.linux.resources.pids = { limit: 42 };
      c.linux.resources.memory = { limit: 64 << 20 };
    });
    const r = rt(root, ['run', '-b', bundle, id]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const lines = r.stdout.trim().split('\n');
    const cgroupLines = lines.filter((l) => /^\d+:/.test(l));
    if (v2) expect(cgroupLines).toEqual(['0::/']);
    else for (const l of cgroupLines.filter((l) => !l.startsWith('0::'))) expect(l).toMatch(/:\/$/);
    // sh, cat/wc: the container's processes, not the host's.
    expect(lines.slice(-3, -1)).toEqual(['42', String(64 << 20)]);
    expect(Number(lines.at(-1))).toBeGreaterThanOrEqual(1);
    expect(Number(lines.at(-1))).toBeLessThanOrEqual(3);
    for (const d of allDirs(id)) expect(existsSync(d), d).toBe(false);
  });

  it('v2 delegation: with new user and cgroup namespaces and cgroup mounted read-write, the container owns its cgroup (and only the delegatable files) and makes sub-cgroups; read-only, nothing changes owner; without a cgroup namespace its own directory is bound at /sys/fs/cgroup', (t) => {
    t.skip(!v2, 'cgroup v2 only (v1 never delegates; spec-tests checks that here): npm run test:v2 runs it');
    const withUserns = (rw: boolean) => (c: any) => {
      c.linux.namespaces.push({ type: 'user' }, { type: 'cgroup' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.mounts = c.mounts.map((m: any) => (m.type === 'devpts' ? { ...m, options: m.options.filter((o: string) => o !== 'gid=5') } : m));
      c.mounts = c.mounts.map((m: any) => (m.destination === '/sys/fs/cgroup' ? { ...m, options: [...m.options.filter((o: string) => o !== 'ro' && o !== 'rw'), rw ? 'rw' : 'ro'] } : m));
    };
    const owner = (path: string) => statSync(path).uid;
    const id = uid();
    expect(rt(root, ['run', '-d', '-b', makeBundle(['sleep', '100'], withUserns(true)), id])).toMatchObject({ code: 0, stderr: '' });
    const dir = dirOf('', id);
    try {
      expect(owner(dir)).toBe(100000);
      for (const f of ['cgroup.procs', 'cgroup.subtree_control', 'cgroup.threads']) expect(owner(`${dir}/${f}`), f).toBe(100000);
      for (const f of ['pids.max', 'memory.max', 'cgroup.max.depth']) if (existsSync(`${dir}/${f}`)) expect(owner(`${dir}/${f}`), f).toBe(0);
      const r = rt(root, ['exec', id, 'sh', '-c', 'mkdir /sys/fs/cgroup/sub && echo $$ > /sys/fs/cgroup/sub/cgroup.procs && cat /proc/self/cgroup']);
      expect(r).toMatchObject({ code: 0, stdout: '0::/sub\n' });
    } finally {
      expect(rt(root, ['delete', '-f', id]).code).toBe(0);
    }
    expect(existsSync(dir)).toBe(false);

    // A user namespace without a cgroup namespace of its own may not mount
    // cgroup2 (EPERM): the container's own directory is bound there instead.
    const noCgroupns = (c: any) => {
      withUserns(false)(c);
      c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'cgroup');
    };
    const r = rt(root, ['run', '-b', makeBundle(['sh', '-c', 'wc -l < /sys/fs/cgroup/cgroup.procs'], noCgroupns), uid()]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    // sh and wc: the container's processes, not the root cgroup's (none of which it can see).
    expect(Number(r.stdout.trim())).toBeGreaterThanOrEqual(1);

    const ro = uid();
    expect(rt(root, ['run', '-d', '-b', makeBundle(['sleep', '100'], withUserns(false)), ro])).toMatchObject({ code: 0, stderr: '' });
    try {
      expect(owner(dirOf('', ro))).toBe(0);
    } finally {
      expect(rt(root, ['delete', '-f', ro]).code).toBe(0);
    }
  });
});

describe(`cgroups ${V}: limits`, opts, () => {
  requires(v1 || v2, NO_CGROUPS);
  it('writes linux.resources into the files', (t) => {
    const id = uid();
    // Only what this host offers is asked for (runc fails as tsrunc does on
    // a file the kernel lacks); what is left out is said in the annotation.
    const skipped: string[] = [];
    const offer = (controller: string, file: string, what: string): boolean => {
      const ok = hostHas(controller, file);
      if (!ok) skipped.push(`${what}: this host's cgroups have no ${file}`);
      return ok;
    };
    const blkioWeightFile = hostHas('blkio', 'blkio.weight') ? 'blkio.weight' : 'blkio.bfq.weight';
    const weight = offer('blkio', blkioWeightFile, 'blockIO.weight (needs the CFQ or BFQ I/O scheduler)');
    const dev = blockDevice && offer('blkio', 'blkio.throttle.read_bps_device', 'blockIO throttles') ? blockDevice : undefined;
    if (!blockDevice) skipped.push('blockIO throttles: this host has no block device');
    const swap = offer('memory', 'memory.memsw.limit_in_bytes', 'memory.swap (needs swap accounting)');
    const cfs = offer('cpu', 'cpu.cfs_quota_us', 'cpu.quota and cpu.period (needs CFS bandwidth control)');
    if (!hugetlb2M) skipped.push('hugepageLimits: no 2MB huge pages or no hugetlb controller');
    const bundle = makeBundle(['sleep', '100'], (c) => {
      c.linux.resources = {
        ...c.linux.resources,
        memory: { limit: 100 << 20, reservation: 50 << 20, ...(swap && { swap: 200 << 20 }), ...(v1 ? { swappiness: 10, disableOOMKiller: true } : {}) },
        cpu: { shares: 512, ...(cfs && { quota: 50000, period: 100000 }), cpus: '0', mems: '0' },
        pids: { limit: 64 },
        blockIO: {
          ...(weight && { weight: 300 }),
          ...(dev && {
            throttleReadBpsDevice: [{ major: dev.major, minor: dev.minor, rate: 1 << 20 }],
            throttleWriteIOPSDevice: [{ major: dev.major, minor: dev.minor, rate: 100 }],
          }),
        },
        ...(hugetlb2M && { hugepageLimits: [{ pageSize: '2MB', limit: 4 << 20 }] }),
      };
    });
    if (skipped.length) t.annotate(`not checked on this host: ${skipped.join('; ')}`);
    const r = rt(root, ['run', '-d', '-b', bundle, id]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    if (v2) {
      const d = dirOf('', id);
      expect(read(`${d}/memory.max`)).toBe(String(100 << 20));
      expect(read(`${d}/memory.low`)).toBe(String(50 << 20));
      // memory+swap 200M with memory 100M: 100M of swap alone.
      if (existsSync(`${d}/memory.swap.max`)) expect(read(`${d}/memory.swap.max`)).toBe(String(100 << 20));
      // runc's ConvertCPUSharesToCgroupV2Value: 1 + (512 - 2) * 9999 / 262142.
      expect(read(`${d}/cpu.weight`)).toBe('20');
      expect(read(`${d}/cpu.max`)).toBe('50000 100000');
      expect(read(`${d}/cpuset.cpus`)).toBe('0');
      expect(read(`${d}/cpuset.mems`)).toBe('0');
      expect(read(`${d}/pids.max`)).toBe('64');
      // BFQ's own weight where the scheduler is loaded, else io.weight on its scale: 1 + (300 - 10) * 9999 / 990.
      if (existsSync(`${d}/io.bfq.weight`)) expect(read(`${d}/io.bfq.weight`)).toMatch(/^default 300$/m);
      else expect(read(`${d}/io.weight`)).toMatch(/^default 2930$/m);
      if (dev) expect(read(`${d}/io.max`)).toBe(`${dev.major}:${dev.minor} rbps=${1 << 20} wbps=max riops=max wiops=100`);
      if (hugetlb2M) expect(read(`${d}/hugetlb.2MB.max`)).toBe(String(4 << 20));
      if (hugetlb2M && existsSync(`${d}/hugetlb.2MB.rsvd.max`)) expect(read(`${d}/hugetlb.2MB.rsvd.max`)).toBe(String(4 << 20));
      // No devices files on v2: the eBPF filter's behaviour is checked below.
    } else {
      const mem = dirOf('memory', id);
      expect(read(`${mem}/memory.limit_in_bytes`)).toBe(String(100 << 20));
      expect(read(`${mem}/memory.soft_limit_in_bytes`)).toBe(String(50 << 20));
      if (swap) expect(read(`${mem}/memory.memsw.limit_in_bytes`)).toBe(String(200 << 20));
      expect(read(`${mem}/memory.swappiness`)).toBe('10');
      expect(read(`${mem}/memory.oom_control`)).toMatch(/^oom_kill_disable 1$/m);
      const cpu = dirOf('cpu', id);
      expect(read(`${cpu}/cpu.shares`)).toBe('512');
      if (cfs) {
        expect(read(`${cpu}/cpu.cfs_quota_us`)).toBe('50000');
        expect(read(`${cpu}/cpu.cfs_period_us`)).toBe('100000');
      }
      expect(read(`${dirOf('cpuset', id)}/cpuset.cpus`)).toBe('0');
      expect(read(`${dirOf('cpuset', id)}/cpuset.mems`)).toBe('0');
      expect(read(`${dirOf('pids', id)}/pids.max`)).toBe('64');
      const blkio = dirOf('blkio', id);
      if (weight) expect(read(`${blkio}/${blkioWeightFile}`)).toMatch(/(^|\s)300$/m);
      if (dev) {
        expect(read(`${blkio}/blkio.throttle.read_bps_device`)).toBe(`${dev.major}:${dev.minor} ${1 << 20}`);
        expect(read(`${blkio}/blkio.throttle.write_iops_device`)).toBe(`${dev.major}:${dev.minor} 100`);
      }
      if (hugetlb2M) expect(read(`${dirOf('hugetlb', id)}/hugetlb.2MB.limit_in_bytes`)).toBe(String(4 << 20));
      // The default config's deny-all plus runc's default allowed devices.
      const devices = read(`${dirOf('devices', id)}/devices.list`).split('\n');
      expect(devices).not.toContain('a *:* rwm');
      for (const d of ['c 1:3 rwm', 'c 1:5 rwm', 'c 136:* rwm', 'c 5:2 rwm', 'c *:* m', 'b *:* m']) expect(devices).toContain(d);
    }
    expect(rt(root, ['delete', '-f', id]).code).toBe(0);
    for (const d of allDirs(id)) expect(existsSync(d), d).toBe(false);
  });

  it('writes linux.resources.unified raw, after the rest; refuses a controller it does not have', (t) => {
    t.skip(!v2, V2_ONLY);
    const id = uid();
    const bundle = makeBundle(['sleep', '100'], (c) => {
      c.linux.resources.pids = { limit: 64 };
      c.linux.resources.unified = { 'memory.high': String(90 << 20), 'pids.max': '30', 'cpu.weight.nice': '5' };
    });
    expect(rt(root, ['run', '-d', '-b', bundle, id])).toMatchObject({ code: 0, stderr: '' });
    const d = dirOf('', id);
    expect(read(`${d}/memory.high`)).toBe(String(90 << 20));
    // unified is written last: its pids.max wins over linux.resources.pids.
    expect(read(`${d}/pids.max`)).toBe('30');
    expect(read(`${d}/cpu.weight.nice`)).toBe('5');
    expect(rt(root, ['delete', '-f', id]).code).toBe(0);

    for (const [unified, msg] of [
      [{ 'nosuch.max': '1' }, 'unified resource "nosuch.max" can\'t be set: controller "nosuch" not available'],
      [{ 'memory.max': 'lots' }, 'unable to set unified resource "memory.max"'],
      [{ '../memory.max': '1' }, 'must be a file name'],
    ] as const) {
      const bad = uid();
      const r = rt(root, ['run', '-b', makeBundle(['true'], (c) => (c.linux.resources.unified = unified)), bad]);
      expect(r.code).toBe(1);
      // The message is logrus-quoted on stderr.
      expect(r.stderr.replaceAll('\\"', '"')).toContain(msg);
      // The failed create took its cgroup with it.
      expect(existsSync(dirOf('', bad))).toBe(false);
      expect(existsSync(join(root, bad))).toBe(false);
    }
  });

  it('a process over the memory limit is OOM-killed, and events report it', async () => {
    const id = uid();
    const out = outDir();
    const bundle = makeBundle(
      ['sh', '-c', 'while [ ! -e /out/go ]; do sleep 0.05; done; dd if=/dev/zero of=/dev/null bs=64M count=1; echo "dd=$?" > /out/dd; sleep 100'],
      (c) => {
        c.mounts.push(out.mount);
        c.linux.resources.memory = { limit: 32 << 20, swap: 32 << 20 };
      },
    );
    expect(rt(root, ['run', '-d', '-b', bundle, id]).code).toBe(0);
    if (v2 && existsSync(`${dirOf('', id)}/memory.swap.max`)) expect(read(`${dirOf('', id)}/memory.swap.max`)).toBe('0');
    const events = spawn(runtime, ['--root', root, 'events', '--interval', '300ms', id], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    let errText = '';
    events.stdout!.on('data', (d) => (text += d));
    events.stderr!.on('data', (d) => (errText += d));
    const ended = new Promise<number>((res) => events.on('exit', (c) => res(c ?? -1)));
    try {
      await until(() => text.includes('"type":"stats"'), WAIT, 'a stats event');
      writeFileSync(join(out.host, 'go'), '');
      // The shell creates the file before echo writes it: wait for the line.
      await until(() => existsSync(join(out.host, 'dd')) && readFileSync(join(out.host, 'dd'), 'utf8').endsWith('\n'), WAIT, 'dd to end');
      expect(readFileSync(join(out.host, 'dd'), 'utf8')).toBe('dd=137\n');
      await until(() => text.includes('"type":"oom"'), WAIT, 'the oom event');
    } catch (e) {
      events.kill();
      throw e;
    }
    const oom = text.split('\n').filter((l) => l.includes('"type":"oom"'));
    expect(JSON.parse(oom[0])).toEqual({ type: 'oom', id });
    if (v2) expect(read(`${dirOf('', id)}/memory.events`)).toMatch(/^oom_kill [1-9]/m);
    else expect(read(`${dirOf('memory', id)}/memory.oom_control`)).toMatch(/^oom_kill [1-9]/m);

    const stats = rt(root, ['events', '--stats', id]);
    expect(stats.code).toBe(0);
    const ev = JSON.parse(stats.stdout);
    expect(ev).toMatchObject({ type: 'stats', id });
    expect(Object.keys(ev.data)).toEqual(expect.arrayContaining(['cpu', 'memory', 'pids', 'blkio', 'hugetlb']));
    expect(ev.data.memory.usage.limit).toBe(32 << 20);
    // The peak reached the limit (v1's failcnt stays 0 on this kernel even then: not asserted).
    if (!v2 || existsSync(`${dirOf('', id)}/memory.peak`)) expect(ev.data.memory.usage.max).toBeGreaterThan(30 << 20);
    expect(ev.data.memory.usage.failcnt).toEqual(expect.any(Number));
    expect(ev.data.memory.usage.usage).toBeGreaterThan(0);
    expect(ev.data.pids.current).toBeGreaterThanOrEqual(1);
    expect(ev.data.cpu.usage.total).toBeGreaterThan(0);
    if (v2) expect(ev.data.memory.raw).toEqual(expect.objectContaining({ anon: expect.any(Number), file: expect.any(Number) }));
    // The stream ends with the cgroup.
    expect(rt(root, ['delete', '-f', id]).code).toBe(0);
    expect(await ended).toBe(0);
    // Nothing on stderr but, at worst, a stats tick that raced delete (it reads files of a cgroup being removed).
    const gone = new RegExp(`^time=\\S+ level=error msg="read /sys/fs/cgroup/(\\S*/)?${id}/\\S+: no such file or directory"$`);
    expect(errText.split('\n').filter((l) => l && !gone.test(l))).toEqual([]);
  });

  it('a fork bomb stops at pids.max', async () => {
    const id = uid();
    const out = outDir();
    const bundle = makeBundle(['sh', '-c', '(while :; do sleep 1000 & done) 2>/dev/null; echo stopped > /out/bomb; sleep 1000'], (c) => {
      c.mounts.push(out.mount);
      c.linux.resources.pids = { limit: 20 };
    });
    expect(rt(root, ['run', '-d', '-b', bundle, id]).code).toBe(0);
    // The subshell gives up at its first failed fork; init goes on.
    await until(() => existsSync(join(out.host, 'bomb')), WAIT, 'the bomb to stop');
    const pids = dirOf('pids', id);
    expect(Number(read(`${pids}/pids.current`))).toBeLessThanOrEqual(20);
    expect(Number(read(`${pids}/pids.current`))).toBeGreaterThanOrEqual(15);
    expect(read(`${pids}/pids.events`)).toMatch(/^max [1-9]/m);
    if (existsSync(`${pids}/pids.peak`)) expect(read(`${pids}/pids.peak`)).toBe('20');
    expect(rt(root, ['delete', '-f', id]).code).toBe(0);
    expect(existsSync(pids)).toBe(false);
  });

  it('linux.resources.devices[].access empty or absent: refused before anything exists, with runc\'s message (runc 1.1.5 and crun refuse it too); "rwm" in any order or repeated is taken', () => {
    const hasRunc = spawnSync('runc', ['--version'], { stdio: 'ignore' }).status === 0;
    const runcRoot = mkdtempSync(join(tmpdir(), 'tsrunc-runcroot-'));
    const cases: Array<[string, object]> = [
      ['empty', { allow: true, type: 'c', major: 1, minor: 3, access: '' }],
      ['absent', { allow: true, type: 'c', major: 1, minor: 3 }],
    ];
    for (const [what, dev] of cases) {
      const id = uid();
      const bundle = makeBundle(['true'], (c) => (c.linux.resources.devices = [{ allow: false, access: 'rwm' }, dev]));
      const r = rt(root, ['create', '-b', bundle, id]);
      expect(r.code, what).toBe(1);
      expect(r.stderr, what).toContain('device access at 1 field cannot be empty');
      for (const d of allDirs(id)) expect(existsSync(d), d).toBe(false);
      if (hasRunc) {
        const rr = spawnSync('runc', ['--root', runcRoot, 'create', '-b', bundle, id], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
        expect(rr.status, `runc, ${what}`).toBe(1);
        expect(rr.stderr, `runc, ${what}`).toContain('device access at 1 field cannot be empty');
      }
    }
    const id = uid();
    const bundle = makeBundle(['sleep', '100'], (c) => (c.linux.resources.devices = [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'mwrr' }]));
    expect(rt(root, ['run', '-d', '-b', bundle, id])).toMatchObject({ code: 0, stderr: '' });
    if (v1) expect(read(`${dirOf('devices', id)}/devices.list`).split('\n')).toContain('c 1:3 rwm');
    expect(rt(root, ['delete', '-f', id]).code).toBe(0);
  });

  it(`a device not allowed cannot be opened; one allowed can, for the access allowed (${v2 ? 'the eBPF filter' : 'devices.list'})`, () => {
    // A character major no driver has: opening it when allowed fails with ENXIO, when denied with EPERM.
    const used = new Set(
      readFileSync('/proc/devices', 'utf8')
        .split('Block devices:')[0]
        .split('\n')
        .map((l) => Number(l.trim().split(' ')[0])),
    );
    const major = [240, 239, 238, 237, 236, 235, 234].find((m) => !used.has(m))!;
    // Each open, and how it ended.
    const script = [
      'o() { if msg=$( (eval "$2") 2>&1 ); then echo "$1 ok"; else case "$msg" in',
      '  *"not permitted"*) echo "$1 EPERM";; *"No such device"*) echo "$1 ENXIO";; *) echo "$1 $msg";; esac; fi; }',
      "o null:rw 'echo x > /dev/null; : < /dev/null'",
      "o t0:r ': < /dev/t0'",
      "o t0:w ': > /dev/t0'",
      "o t1:r ': < /dev/t1'",
    ].join('\n');
    const run = (rules: object[]) => {
      const r = rt(root, [
        'run',
        '-b',
        makeBundle(['sh', '-c', script], (c) => {
          c.linux.devices = [0, 1].map((minor) => ({ path: `/dev/t${minor}`, type: 'c', major, minor, fileMode: 0o666 }));
          c.linux.resources.devices = rules;
        }),
        uid(),
      ]);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      return r.stdout.trim().split('\n');
    };
    // The default deny-all, t0 readable: runc's default devices (/dev/null) stay allowed whatever the config says.
    expect(run([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major, minor: 0, access: 'r' }])).toEqual(['null:rw ok', 't0:r ENXIO', 't0:w EPERM', 't1:r EPERM']);
    // Allow-all but reading or writing t1 (mknod stays allowed: the container makes the node).
    expect(run([{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major, minor: 1, access: 'rw' }])).toEqual(['null:rw ok', 't0:r ENXIO', 't0:w ENXIO', 't1:r EPERM']);
  });
});

describe(`cgroups ${V}: pause, resume, update, exec, kill --all`, opts, () => {
  requires(v1 || v2, NO_CGROUPS);
  it('pause stops a counter and resume restarts it; state says paused meanwhile', async () => {
    const id = uid();
    const out = outDir();
    const counter = join(out.host, 'c');
    const bundle = makeBundle(['sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i > /out/c.new; mv /out/c.new /out/c; sleep 0.05; done'], (c) => c.mounts.push(out.mount));
    expect(rt(root, ['resume', 'no-such']).stderr).toContain('container does not exist');
    expect(rt(root, ['run', '-d', '-b', bundle, id]).code).toBe(0);
    await until(() => existsSync(counter) && Number(read(counter)) > 2, WAIT, 'the counter');
    expect(rt(root, ['resume', id]).stderr).toContain('container not paused');

    expect(rt(root, ['pause', id])).toMatchObject({ code: 0, stderr: '' });
    expect(state(root, id).status).toBe('paused');
    expect(rt(root, ['list', '--format', 'json']).stdout).toContain('"status":"paused"');
    expect(rt(root, ['pause', id]).stderr).toContain('container not running');
    const dir = dirOf('freezer', id);
    if (v2) {
      expect(read(`${dir}/cgroup.freeze`)).toBe('1');
      expect(read(`${dir}/cgroup.events`)).toMatch(/^frozen 1$/m);
    } else expect(read(`${dir}/freezer.state`)).toBe('FROZEN');
    const frozenAt = read(counter);
    // Several turns of the loop on either machine (the guest's take ~10x longer).
    await sleep(v2 ? 1500 : 400);
    expect(read(counter)).toBe(frozenAt);

    expect(rt(root, ['resume', id])).toMatchObject({ code: 0, stderr: '' });
    expect(state(root, id).status).toBe('running');
    if (v2) expect(read(`${dir}/cgroup.freeze`)).toBe('0');
    await until(() => Number(read(counter)) > Number(frozenAt) + 2, WAIT, 'the counter to go on');

    // A paused container can be deleted with --force: its processes die once thawed.
    expect(rt(root, ['pause', id]).code).toBe(0);
    const pid = state(root, id).pid;
    expect(rt(root, ['delete', id]).stderr).toContain('that is not stopped: paused');
    expect(rt(root, ['delete', '-f', id]).code).toBe(0);
    expect(existsSync(`/proc/${pid}/stat`) && !read(`/proc/${pid}/stat`).includes(') Z ')).toBe(false);
    for (const d of allDirs(id)) expect(existsSync(d), d).toBe(false);
  });

  it('update changes live limits, from flags and from --resources -', async () => {
    const id = uid();
    const bundle = makeBundle(['sleep', '100'], (c) => {
      c.linux.resources.memory = { limit: 64 << 20 };
      c.linux.resources.cpu = { shares: 1024 };
    });
    expect(rt(root, ['run', '-d', '-b', bundle, id]).code).toBe(0);
    const mem = dirOf('memory', id);
    const cpu = dirOf('cpu', id);
    const pids = dirOf('pids', id);
    const cpuset = dirOf('cpuset', id);
    if (v2) expect(read(`${cpu}/cpu.weight`)).toBe('39');

    const u = rt(root, ['update', '--memory', '48m', '--cpu-quota', '20000', '--cpu-period', '100000', '--pids-limit', '33', '--cpu-share', '256', id]);
    expect(u).toMatchObject({ code: 0, stderr: '' });
    if (v2) {
      expect(read(`${mem}/memory.max`)).toBe(String(48 << 20));
      expect(read(`${cpu}/cpu.max`)).toBe('20000 100000');
      expect(read(`${cpu}/cpu.weight`)).toBe('10');
    } else {
      expect(read(`${mem}/memory.limit_in_bytes`)).toBe(String(48 << 20));
      expect(read(`${cpu}/cpu.cfs_quota_us`)).toBe('20000');
      expect(read(`${cpu}/cpu.shares`)).toBe('256');
    }
    expect(read(`${pids}/pids.max`)).toBe('33');

    const json = JSON.stringify({
      // swap only where a v1 host accounts it (runc too fails on the missing memsw file)
      memory: { limit: 80 << 20, ...(hostHas('memory', 'memory.memsw.limit_in_bytes') && { swap: 80 << 20 }) },
      cpu: { shares: 2048, cpus: '0' },
      pids: { limit: 44 },
      ...(v2 && { unified: { 'memory.high': String(70 << 20) } }),
    });
    expect(rt(root, ['update', '-r', '-', id], { input: json })).toMatchObject({ code: 0, stderr: '' });
    if (v2) {
      expect(read(`${mem}/memory.max`)).toBe(String(80 << 20));
      if (existsSync(`${mem}/memory.swap.max`)) expect(read(`${mem}/memory.swap.max`)).toBe('0');
      expect(read(`${mem}/memory.high`)).toBe(String(70 << 20));
      expect(read(`${cpu}/cpu.weight`)).toBe('79');
      // Merged, not replaced: the quota from the first update is still there.
      expect(read(`${cpu}/cpu.max`)).toBe('20000 100000');
    } else {
      expect(read(`${mem}/memory.limit_in_bytes`)).toBe(String(80 << 20));
      expect(read(`${cpu}/cpu.shares`)).toBe('2048');
      expect(read(`${cpu}/cpu.cfs_quota_us`)).toBe('20000');
    }
    expect(read(`${cpuset}/cpuset.cpus`)).toBe('0');
    expect(read(`${pids}/pids.max`)).toBe('44');
    if (v2) {
      // Refused as create refuses it, not dropped; nothing else changes.
      expect(rt(root, ['update', '--cpu-rt-period', '1000000', '--pids-limit', '45', id])).toMatchObject({ code: 1, stderr: expect.stringMatching(/not supported on cgroup v2/) });
      expect(read(`${pids}/pids.max`)).toBe('44');
    }

    const file = join(mkdtempSync(join(tmpdir(), 'tsrunc-res-')), 'r.json');
    writeFileSync(file, JSON.stringify({ cpu: { quota: -1 } }));
    expect(rt(root, ['update', '--resources', file, id])).toMatchObject({ code: 0, stderr: '' });
    if (v2) expect(read(`${cpu}/cpu.max`)).toBe('max 100000');
    else expect(read(`${cpu}/cpu.cfs_quota_us`)).toBe('-1');

    const refusals: Array<[string[], string]> = [
      [['--memory', 'lots'], "invalid value for memory: invalid size: 'lots'"],
      [['--cpu-share', '-5'], 'invalid value for cpu-share'],
      [['--l3-cache-schema', 'L3:0=f'], 'Intel RDT/CAT: l3 cache schema is not enabled'],
      [['-r', '-'], 'resources: memory.limit: must be'],
    ];
    for (const [args, msg] of refusals) {
      const r = rt(root, ['update', ...args, id], { input: '{"memory":{"limit":"x"}}' });
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toContain(msg);
    }
    expect(read(`${pids}/pids.max`)).toBe('44');
    expect(rt(root, ['kill', id, 'KILL']).code).toBe(0);
    await until(() => state(root, id).status === 'stopped', WAIT, 'stopped');
    expect(rt(root, ['update', '--memory', '32m', id]).stderr).toContain('container not running');
    expect(rt(root, ['events', '--stats', id]).stderr).toContain(`container with id ${id} is not running`);
    expect(rt(root, ['delete', id]).code).toBe(0);
    for (const d of allDirs(id)) expect(existsSync(d), d).toBe(false);
  });

  // The memory limit is written before the cpu values on v1 and v2 alike: a
  // period the kernel refuses comes after a limit it took.
  it('update that the kernel refuses part of leaves the limits the container had (applied again), and its state', (t) => {
    const id = uid();
    const MiB = 1024 * 1024;
    const bundle = makeBundle(['sleep', '100'], (c) => (c.linux.resources = { ...c.linux.resources, memory: { limit: 200 * MiB } }));
    expect(rt(root, ['run', '-d', '-b', bundle, id])).toMatchObject({ code: 0, stderr: '' });
    try {
      const memFile = `${dirOf('memory', id)}/${v2 ? 'memory.max' : 'memory.limit_in_bytes'}`;
      const cpuFile = `${dirOf('cpu', id)}/${v2 ? 'cpu.max' : 'cpu.cfs_period_us'}`;
      for (const f of [memFile, cpuFile]) if (!existsSync(f)) t.skip(`needs ${f} (the memory and cpu controllers, CFS bandwidth)`);
      const limit = () => read(memFile);
      expect(limit()).toBe(String(200 * MiB));
      const r = rt(root, ['update', '--memory', '100M', '--cpu-period', '1', id]);
      expect(r.code).toBe(1);
      // v1 writes cpu.cfs_period_us, v2 cpu.max ("max 1").
      expect(r.stderr).toMatch(/failed to write \\"(max )?1\\": write .*cpu/);
      expect(r.stderr).not.toContain('setting back');
      expect(limit(), 'after the refused update').toBe(String(200 * MiB));
      // The next update starts from the same limits.
      expect(rt(root, ['update', '--memory', '150M', id])).toMatchObject({ code: 0, stderr: '' });
      expect(limit()).toBe(String(150 * MiB));
    } finally {
      rt(root, ['delete', '-f', id]);
    }
  });

  it('update: --cpu-period, --cpu-quota, --cpuset-cpus, --cpu-rt-period and --cpu-rt-runtime each land, alone and in pairs, whatever order the kernel needs; a value the kernel refuses fails with runc\'s message and changes nothing', async (t) => {
    const id = uid();
    expect(rt(root, ['run', '-d', '-b', makeBundle(['sleep', '100']), id]).code).toBe(0);
    const cpu = dirOf('cpu', id);
    const cpuset = dirOf('cpuset', id);
    const rtOn = v1 && hostHas('cpu', 'cpu.rt_runtime_us');
    if (v1 && !rtOn) t.annotate('--cpu-rt-*: not checked, this kernel has no RT group scheduling (cpu.rt_runtime_us)');
    // The cpus this cgroup may have: its parent's (on v2, the effective ones).
    const parentCpus = read(`${posix.dirname(cpuset)}/${v2 ? 'cpuset.cpus.effective' : 'cpuset.effective_cpus'}`);
    const firstCpu = parentCpus.split(/[-,]/)[0];
    const want = { period: 100000, quota: -1, cpus: '', rtPeriod: 0, rtRuntime: 0 };
    if (v1) {
      want.period = Number(read(`${cpu}/cpu.cfs_period_us`));
      if (rtOn) {
        want.rtPeriod = Number(read(`${cpu}/cpu.rt_period_us`));
        want.rtRuntime = Number(read(`${cpu}/cpu.rt_runtime_us`));
      }
    }
    const check = (what: string) => {
      if (v2) expect(read(`${cpu}/cpu.max`), what).toBe(`${want.quota > 0 ? want.quota : 'max'} ${want.period}`);
      else {
        expect(read(`${cpu}/cpu.cfs_period_us`), what).toBe(String(want.period));
        expect(read(`${cpu}/cpu.cfs_quota_us`), what).toBe(String(want.quota));
        if (rtOn) {
          expect(read(`${cpu}/cpu.rt_period_us`), what).toBe(String(want.rtPeriod));
          expect(read(`${cpu}/cpu.rt_runtime_us`), what).toBe(String(want.rtRuntime));
        }
      }
      if (want.cpus) expect(read(`${cpuset}/cpuset.cpus`), what).toBe(want.cpus);
    };
    const update = (args: string[], change: Partial<typeof want>) => {
      const r = rt(root, ['update', ...args, id]);
      expect(r, args.join(' ')).toMatchObject({ code: 0, stderr: '' });
      Object.assign(want, change);
      check(args.join(' '));
    };
    check('at start');
    update(['--cpu-period', '50000'], { period: 50000 });
    update(['--cpu-quota', '20000'], { quota: 20000 });
    update(['--cpu-period', '100000', '--cpu-quota', '30000'], { period: 100000, quota: 30000 });
    update(['--cpuset-cpus', firstCpu], { cpus: firstCpu });
    update(['--cpuset-cpus', parentCpus, '--cpu-period', '200000'], { cpus: parentCpus, period: 200000 });
    update(['--cpu-quota', '10000', '--cpuset-cpus', firstCpu], { quota: 10000, cpus: firstCpu });
    update(['--cpu-quota', '-1'], { quota: -1 });
    if (rtOn) {
      update(['--cpu-rt-period', '500000'], { rtPeriod: 500000 });
      update(['--cpu-rt-runtime', '10000'], { rtRuntime: 10000 });
      update(['--cpu-rt-period', '100000', '--cpu-rt-runtime', '20000'], { rtPeriod: 100000, rtRuntime: 20000 });
      // A period shorter than the runtime in place: the kernel takes it only after the new runtime.
      update(['--cpu-rt-period', '10000', '--cpu-rt-runtime', '5000'], { rtPeriod: 10000, rtRuntime: 5000 });
      update(['--cpu-rt-runtime', '1000', '--cpu-period', '100000'], { rtRuntime: 1000, period: 100000 });
      update(['--cpu-rt-period', '100000', '--cpu-quota', '50000'], { rtPeriod: 100000, quota: 50000 });
    }
    // Refused by the kernel: runc's message, exit 1, and the files (and the
    // state, which the next update merges into) as they were.
    const refused: Array<[string[], string]> = [
      [['--cpu-period', '500'], v2 ? 'cpu.max' : 'cpu.cfs_period_us'],
      [['--cpu-quota', '500'], v2 ? 'cpu.max' : 'cpu.cfs_quota_us'],
      ...(rtOn ? [[['--cpu-rt-runtime', '200000'], 'cpu.rt_runtime_us'] as [string[], string]] : []),
    ];
    for (const [args, file] of refused) {
      const r = rt(root, ['update', ...args, id]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(new RegExp(`failed to write \\\\"[^"]*${args[1]}[^"]*\\\\": write ${cpu}/${file.replace('.', '\\.')}: invalid argument`));
      check(`after the refused ${args.join(' ')}`);
    }
    update(['--pids-limit', '30'], {});
    expect(rt(root, ['delete', '-f', id]).code).toBe(0);
  });

  it("exec'd processes join the container's cgroup; kill --all signals every one of them", async () => {
    const id = uid();
    // init is pid 1 of its namespace: it ignores a SIGTERM it has no handler for, the others die of it.
    expect(rt(root, ['run', '-d', '-b', makeBundle(['sleep', '1000']), id]).code).toBe(0);
    const init = state(root, id).pid;
    const pidDir = mkdtempSync(join(tmpdir(), 'tsrunc-pid-'));
    const execd: number[] = [];
    for (const n of [1, 2]) {
      const pidFile = join(pidDir, `p${n}`);
      expect(rt(root, ['exec', '-d', '--pid-file', pidFile, id, 'sleep', '1000'])).toMatchObject({ code: 0, stderr: '' });
      execd.push(Number(read(pidFile)));
    }
    // Seen from the host, the exec'd processes are where init is.
    for (const p of execd) expect(readFileSync(`/proc/${p}/cgroup`, 'utf8')).toBe(readFileSync(`/proc/${init}/cgroup`, 'utf8'));
    const dirs = allDirs(id);
    for (const d of dirs) expect(procs(d).sort()).toEqual([init, ...execd].sort());
    // And seen from inside, through exec in the foreground.
    const inside = rt(root, ['exec', id, 'cat', '/proc/self/cgroup']);
    expect(inside).toMatchObject({ code: 0, stderr: '' });
    expect(inside.stdout).toBe(readFileSync(`/proc/${init}/cgroup`, 'utf8'));

    expect(rt(root, ['kill', '--all', id, 'TERM'])).toMatchObject({ code: 0, stderr: '' });
    await until(() => dirs.every((d) => procs(d).length === 1), WAIT, 'the exec\'d processes to die');
    for (const d of dirs) expect(procs(d)).toEqual([init]);
    // kill --all froze the cgroup meanwhile, and thawed it.
    expect(state(root, id).status).toBe('running');
    if (v2) expect(read(`${dirs[0]}/cgroup.freeze`)).toBe('0');

    expect(rt(root, ['kill', '--all', id, 'KILL'])).toMatchObject({ code: 0, stderr: '' });
    await until(() => state(root, id).status === 'stopped', WAIT, 'stopped');
    expect(rt(root, ['delete', id]).code).toBe(0);
    for (const d of dirs) expect(existsSync(d), d).toBe(false);
  });

  // runtime-spec 1.2's process.execCPUAffinity, for exec'd processes only:
  // initial until the process is in the container's cgroup, final from then
  // on; initial alone ends with the reset (every CPU of the cpuset). Run under
  // `taskset`, so that a process left on tsrunc's CPUs, or on initial's, shows.
  it("exec: process.execCPUAffinity's final CPUs (from config.json or --process), every CPU of the cpuset after an initial alone, an error for final CPUs outside it; init is left alone", (t) => {
    const online = cpuList(read('/sys/devices/system/cpu/online'));
    if (online.length < 2) t.skip(`needs two online CPUs (this host: ${online.join(',')})`);
    const memsFile = `${mountOf('cpuset')}/${v2 ? 'cpuset.mems.effective' : 'cpuset.effective_mems'}`;
    if (!hostHas('cpuset', 'cpuset.cpus') || !existsSync(memsFile)) t.skip(`needs the cpuset controller (no ${memsFile})`);
    if (spawnSync('taskset', ['-c', String(online[0]), 'true']).status !== 0) t.skip('needs taskset(1)');
    const [first, second] = online;
    const allowed = (out: string) => cpuList(/Cpus_allowed_list:\s*(\S+)/.exec(out)?.[1] ?? '');
    const execUnder = (cpu: number, args: string[]) => {
      const r = spawnSync('taskset', ['-c', String(cpu), runtime, '--root', root, 'exec', ...args], { encoding: 'utf8' });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const dir = mkdtempSync(join(tmpdir(), 'tsrunc-affinity-'));
    const proc = (aff: object) => {
      const f = join(dir, `p${Math.random().toString(36).slice(2)}.json`);
      writeFileSync(f, JSON.stringify({ args: ['grep', 'Cpus_allowed_list', '/proc/self/status'], cwd: '/', execCPUAffinity: aff }));
      return f;
    };
    const id = uid();
    const bundle = makeBundle(['sleep', '1000'], (c) => {
      c.process.execCPUAffinity = { initial: String(first), final: String(second) };
      c.linux.resources = { ...c.linux.resources, cpu: { cpus: `${first},${second}`, mems: read(memsFile) } };
    });
    expect(rt(root, ['run', '-d', '-b', bundle, id])).toMatchObject({ code: 0, stderr: '' });
    try {
      expect(allowed(readFileSync(`/proc/${state(root, id).pid}/status`, 'utf8')), 'init').not.toEqual([second]);
      // exec without --process takes config.json's process, execCPUAffinity included.
      expect(allowed(execUnder(first, [id, 'grep', 'Cpus_allowed_list', '/proc/self/status']).stdout)).toEqual([second]);
      expect(allowed(execUnder(second, ['-p', proc({ final: String(first) }), id]).stdout)).toEqual([first]);
      expect(allowed(execUnder(first, ['-p', proc({ initial: String(second) }), id]).stdout)).toEqual([first, second]);
      expect(rt(root, ['update', '--cpuset-cpus', String(first), id]).code).toBe(0);
      const outside = execUnder(first, ['-p', proc({ final: String(second) }), id]);
      expect(outside.code).toBe(255);
      expect(outside.stderr).toContain("set CPU affinity (process.execCPUAffinity.final): EINVAL: none of those CPUs is in the container's cpuset");
      // A list that is no list is refused by create, as by exec, with its path.
      const bad = rt(root, ['create', '-b', makeBundle(['true'], (c) => (c.process.execCPUAffinity = { final: '3-1' })), uid()]);
      expect(bad).toMatchObject({ code: 1, stderr: expect.stringContaining('process.execCPUAffinity.final: \\"3-1\\": invalid CPU range') });
    } finally {
      rt(root, ['delete', '-f', id]);
    }
  });

  // Not the CPUs of tsrunc's caller (an engine under a systemd unit with
  // CPUAffinity=, here `taskset`): since Linux 6.2 joining a cpuset cgroup no
  // longer resets them, so tsrunc does (src/container/affinity.ts).
  it("a container's processes run on every CPU of its cpuset, not on its caller's: run, create and start, exec", (t) => {
    const online = cpuList(read('/sys/devices/system/cpu/online'));
    if (online.length < 2) t.skip(`needs two online CPUs (this host: ${online.join(',')})`);
    if (spawnSync('taskset', ['-c', String(online[0]), 'true']).status !== 0) t.skip('needs taskset(1)');
    const allowed = (out: string) => cpuList(/Cpus_allowed_list:\s*(\S+)/.exec(out)?.[1] ?? '');
    // Output to files: a created container's init keeps the stdio create had.
    const io = mkdtempSync(join(tmpdir(), 'tsrunc-affinity-io-'));
    const under = (args: string[]) => {
      const [out, err] = [openSync(join(io, 'out'), 'w+'), openSync(join(io, 'err'), 'w+')];
      try {
        const r = spawnSync('taskset', ['-c', String(cpuset[0]), runtime, '--root', root, ...args], { stdio: ['ignore', out, err], timeout: 30_000 });
        return { code: r.status, stdout: readFileSync(join(io, 'out'), 'utf8'), stderr: readFileSync(join(io, 'err'), 'utf8') };
      } finally {
        closeSync(out);
        closeSync(err);
      }
    };
    const grep = ['grep', 'Cpus_allowed_list', '/proc/self/status'];
    // Every CPU of the container's cpuset: what a container started without
    // taskset gets (a host's cpuset may hold fewer than are online).
    const cpuset = allowed(rt(root, ['run', '-b', makeBundle(grep), uid()]).stdout);
    if (cpuset.length < 2) t.skip(`needs a cpuset of two CPUs or more (a container here gets: ${cpuset.join(',')})`);
    const run = under(['run', '-b', makeBundle(grep), uid()]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(allowed(run.stdout), 'run').toEqual(cpuset);
    const id = uid();
    expect(under(['create', '-b', makeBundle(['sleep', '1000']), id])).toMatchObject({ code: 0, stderr: '' });
    try {
      expect(under(['start', id])).toMatchObject({ code: 0, stderr: '' });
      expect(allowed(readFileSync(`/proc/${state(root, id).pid}/status`, 'utf8')), 'init').toEqual(cpuset);
      expect(allowed(under(['exec', id, ...grep]).stdout), 'exec').toEqual(cpuset);
    } finally {
      rt(root, ['delete', '-f', id]);
    }
  });

  it('exec --cgroup starts the process in an existing sub-cgroup of the container\'s (v1: per controller too), never outside it; refuses a missing one and malformed arguments', async () => {
    const id = uid();
    expect(rt(root, ['run', '-d', '-b', makeBundle(['sleep', '1000']), id])).toMatchObject({ code: 0, stderr: '' });
    const init = state(root, id).pid;
    const dirs = allDirs(id);
    // A hybrid host's cgroup2 directory is the container's too (runc's "" path): one path for all goes there as well.
    const hybrid = v1 ? layout.hierarchies.find((h) => h.fstype === 'cgroup2') : undefined;
    const hybridDir = hybrid && join(hybrid.mountPoint, own.get('') ?? '/', id);
    for (const d of hybridDir ? [...dirs, hybridDir] : dirs) {
      mkdirSync(`${d}/sub`);
      // v1 cpuset: a new cgroup takes no process until it has cpus and mems.
      if (v1) for (const f of ['cpuset.cpus', 'cpuset.mems']) if (existsSync(`${d}/${f}`)) writeFileSync(`${d}/sub/${f}`, read(`${d}/${f}`));
    }
    const pidDir = mkdtempSync(join(tmpdir(), 'tsrunc-pid-'));
    const execIn = (flags: string[], name: string) => {
      const pidFile = join(pidDir, name);
      expect(rt(root, ['exec', '-d', '--pid-file', pidFile, ...flags, id, 'sleep', '1000'])).toMatchObject({ code: 0, stderr: '' });
      return Number(read(pidFile));
    };
    // One path for every controller, joined to the container's as runc joins it; "x/.." stays inside.
    for (const arg of ['sub', '/sub/', 'x/../sub']) {
      const p = execIn(['--cgroup', arg], `p${arg.length}`);
      for (const d of dirs) expect(procs(`${d}/sub`), `${arg} ${d}`).toContain(p);
    }
    // "/" is the container's own cgroup.
    const top = execIn(['--cgroup', '/'], 'top');
    expect(read(`/proc/${top}/cgroup`)).toBe(read(`/proc/${init}/cgroup`));
    if (v1) {
      // One controller's sub-cgroup; the others stay where init is.
      const p = execIn(['--cgroup', 'pids:sub'], 'pids');
      for (const h of hierarchies) {
        const d = dirOf(h.controllers[0], id);
        expect(procs(h.controllers.includes('pids') ? `${d}/sub` : d), h.mountPoint).toContain(p);
      }
    } else {
      expect(rt(root, ['exec', '--cgroup', 'pids:sub', id, 'true'])).toMatchObject({ code: 255, stderr: expect.stringContaining('cgroup v2 takes one path for all controllers') });
    }
    // Leaving the container's cgroup is refused, with runc's words (not mapped anywhere).
    expect(rt(root, ['exec', '--cgroup', '../../sub', id, 'true'])).toMatchObject({ code: 255, stderr: expect.stringContaining('../../sub is not a sub cgroup path') });
    const missing = rt(root, ['exec', '--cgroup', 'nowhere', id, 'true']);
    expect(missing).toMatchObject({ code: 255, stderr: expect.stringContaining(`${dirs[0]}/nowhere does not exist`) });
    expect(rt(root, ['exec', '--cgroup', 'a:b:c', id, 'true']).stderr).toContain('invalid --cgroup argument: a:b:c');
    expect(rt(root, ['exec', '--cgroup', 'a', '--cgroup', 'b', id, 'true']).stderr).toContain('invalid --cgroup argument: a (missing <controller>: prefix)');
    expect(rt(root, ['exec', '--cgroup', 'pids:a', '--cgroup', 'pids:b', id, 'true']).stderr).toContain('controller pids specified multiple times');

    expect(rt(root, ['delete', '-f', id])).toMatchObject({ code: 0, stderr: '' });
    for (const d of dirs) expect(existsSync(d), d).toBe(false);
  });

  it('a container that makes sub-cgroups of its own (as systemd does): exec goes beside init, delete removes the tree', async (t) => {
    t.skip(!v2, V2_ONLY);
    const id = uid();
    // v2 allows no process in a cgroup that enables domain controllers for its children: init moves down first.
    const setup = 'cd /sys/fs/cgroup && mkdir init work && echo 1 > init/cgroup.procs && echo "+pids +memory" > cgroup.subtree_control && exec sleep 1000';
    const bundle = makeBundle(['sh', '-c', setup], (c) => {
      c.linux.namespaces.push({ type: 'cgroup' });
      c.mounts.find((m: any) => m.type === 'cgroup').options = ['nosuid', 'noexec', 'nodev'];
      c.linux.resources.pids = { limit: 50 };
    });
    expect(rt(root, ['run', '-d', '-b', bundle, id])).toMatchObject({ code: 0, stderr: '' });
    const dir = dirOf('', id);
    await until(() => read(`${dir}/cgroup.subtree_control`).includes('pids'), WAIT, 'the sub-cgroups');
    expect(procs(dir)).toEqual([]);
    const init = state(root, id).pid;
    expect(procs(`${dir}/init`)).toEqual([init]);

    // The container's own cgroup takes no process now (EBUSY): runc puts exec'd ones where init is.
    const inside = rt(root, ['exec', id, 'cat', '/proc/self/cgroup']);
    expect(inside).toMatchObject({ code: 0, stderr: '', stdout: '0::/init\n' });
    const pidFile = join(mkdtempSync(join(tmpdir(), 'tsrunc-pid-')), 'p');
    expect(rt(root, ['exec', '-d', '--pid-file', pidFile, id, 'sleep', '1000'])).toMatchObject({ code: 0, stderr: '' });
    const execd = Number(read(pidFile));
    expect(read(`/proc/${execd}/cgroup`)).toBe(`0::${dir.slice(V2_MOUNT.length)}/init`);
    // The limits count the whole tree.
    expect(Number(read(`${dir}/pids.current`))).toBeGreaterThanOrEqual(2);

    // pause freezes the tree; kill --all finds every process in it.
    expect(rt(root, ['pause', id]).code).toBe(0);
    expect(read(`${dir}/init/cgroup.events`)).toMatch(/^frozen 1$/m);
    expect(rt(root, ['resume', id]).code).toBe(0);
    expect(rt(root, ['kill', '--all', id, 'TERM'])).toMatchObject({ code: 0, stderr: '' });
    await until(() => procs(`${dir}/init`).length === 1, WAIT, "the exec'd process to die");
    expect(procs(`${dir}/init`)).toEqual([init]);

    expect(rt(root, ['delete', '-f', id])).toMatchObject({ code: 0, stderr: '' });
    expect(existsSync(dir)).toBe(false);
  });
});

describe(`cgroups ${V}: delete after a crash`, opts, () => {
  requires(v1 || v2, NO_CGROUPS);
  it('leaves no cgroup behind when tsrunc create was SIGKILLed mid-way', async () => {
    const id = uid();
    const dir = mkdtempSync(join(tmpdir(), 'tsrunc-crash-'));
    const marker = join(dir, 'hook-pid');
    const hook = join(dir, 'hook.sh');
    // A prestart hook runs after the cgroup is made and the child is in it: hold create there.
    writeFileSync(hook, `#!/bin/sh\ncat > /dev/null\necho $$ > ${marker}.tmp && mv ${marker}.tmp ${marker}\nexec sleep 300\n`);
    chmodSync(hook, 0o755);
    const bundle = makeBundle(['sleep', '100'], (c) => (c.hooks = { prestart: [{ path: hook }] }));
    const create = spawn(runtime, ['--root', root, 'create', '-b', bundle, id], { stdio: 'ignore' });
    const exited = new Promise((res) => create.on('exit', res));
    await until(() => existsSync(marker), WAIT, 'the prestart hook');
    const mem = dirOf('memory', id);
    expect(existsSync(mem)).toBe(true);
    create.kill('SIGKILL');
    await exited;
    try {
      process.kill(Number(read(marker)), 'SIGKILL');
    } catch {}
    expect(existsSync(join(root, id))).toBe(true);
    const r = rt(root, ['delete', id]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(existsSync(join(root, id))).toBe(false);
    for (const d of allDirs(id)) expect(existsSync(d), d).toBe(false);
  });

  it('a failed create removes the cgroup it made', () => {
    const id = uid();
    const r = rt(root, ['run', '-b', makeBundle(['no-such-binary']), id]);
    expect(r.code).toBe(1);
    for (const d of allDirs(id)) expect(existsSync(d), d).toBe(false);
  });
});

afterAll(() => {
  // Parents of absolute paths left by a failed test.
  for (const h of hierarchies)
    for (const n of readdirSync(h.mountPoint))
      if (n.startsWith(`tsrunc-test-${process.pid}-`))
        try {
          rmdirSync(join(h.mountPoint, n, 'ctr'));
          rmdirSync(join(h.mountPoint, n));
        } catch {}
});
