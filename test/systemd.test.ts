// The systemd cgroup driver (--systemd-cgroup) where systemd is PID 1 on
// cgroup v2: `npm run test:systemd` runs this file in the qemu guest of
// scripts/qemu-v2/ with QEMU_V2_SYSTEMD=1. Skipped anywhere else (this host:
// no systemd running, hybrid cgroups), except the refusal at the end.
//
// The same checks run on tsrunc and on runc (1.1.5, when installed), each
// its own container, so that every difference from runc shows: where the two
// differ on purpose, `expectFor` says so per runtime. Checked: the scope and
// its properties (systemctl show), the limits in the scope's cgroup files,
// that systemd does not undo them (daemon-reload re-applies every unit's
// cgroup settings), create/start, exec, ps, events --stats, pause/resume,
// update (properties and files), kill --all, run in the foreground, and that
// delete leaves no unit, no failed unit, no cgroup directory.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cgroupLayout } from '../src/cgroups/hierarchy.ts';
import { isRoot, makeBundle, repo, runtime, systemdPid1, until } from './lib/harness.ts';
import { placeReachable, unsearchableDir } from './lib/reach.ts';
import { startUserManager, stopUserManager, userManagerMissing } from './lib/user-manager.ts';

const ready = isRoot && systemdPid1 && cgroupLayout().unified;
const RUNC = '/usr/sbin/runc';
const runtimes = [{ name: 'tsrunc', bin: runtime }, ...(existsSync(RUNC) ? [{ name: 'runc', bin: RUNC }] : [])];

// The guest is software-emulated: seconds per command.
const T = { timeout: 120_000 };
const CG = '/sys/fs/cgroup';

interface Res {
  code: number;
  stdout: string;
  stderr: string;
}

/** A runtime command, output in files (a created container keeps its stdio open). */
function call(bin: string, root: string, args: string[], input?: string, env?: NodeJS.ProcessEnv): Res {
  const dir = mkdtempSync(join(tmpdir(), 'sd-io-'));
  const out = openSync(join(dir, 'out'), 'w+');
  const err = openSync(join(dir, 'err'), 'w+');
  try {
    const r = spawnSync(bin, ['--root', root, '--systemd-cgroup', ...args], { input, env, stdio: [input === undefined ? 'ignore' : 'pipe', out, err], timeout: 60_000 });
    if (r.error) throw r.error;
    return { code: r.status ?? -1, stdout: readFileSync(join(dir, 'out'), 'utf8'), stderr: readFileSync(join(dir, 'err'), 'utf8') };
  } finally {
    closeSync(out);
    closeSync(err);
    rmSync(dir, { recursive: true, force: true });
  }
}

function ok(r: Res, what: string): string {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** `systemctl show -p …` as a map (a property given more than once, as DeviceAllow, joined by "\n"). */
function show(unit: string, props: string[]): Record<string, string> {
  const r = spawnSync('systemctl', ['show', unit, '-p', props.join(',')], { encoding: 'utf8' });
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i < 0) continue;
    const k = line.slice(0, i);
    out[k] = out[k] === undefined ? line.slice(i + 1) : `${out[k]}\n${line.slice(i + 1)}`;
  }
  return out;
}

const file = (dir: string, name: string) => readFileSync(join(dir, name), 'utf8').trim();
const failedUnits = () => spawnSync('systemctl', ['list-units', '--failed', '--all', '--plain', '--no-legend', '--no-pager'], { encoding: 'utf8' }).stdout;

const MiB = 1024 * 1024;
const resources = {
  devices: [{ allow: false, access: 'rwm' }],
  memory: { limit: 64 * MiB, reservation: 32 * MiB, swap: 96 * MiB },
  cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
  pids: { limit: 50 },
  blockIO: { weight: 500 },
};

/** Where tsrunc and runc differ on purpose (README, "Differences from runc"). */
function expectFor(name: string, id: string) {
  return name === 'tsrunc'
    ? { description: `tsrunc container ${id}`, ioWeight: '4950', ioWeightAfterUpdate: 'default 4950', defaultScope: `tsrunc-${id}.scope`, stderr: '' }
    : // runc 1.1 gives systemd no IOWeight property, only io.weight in the file, which systemd then resets to its
      // default when it applies the unit's settings again (the update's SetUnitProperties does).
      // It skips a device rule whose node the host lacks (10:200, /dev/net/tun, in the guest) with a warning.
      { description: `libcontainer container ${id}`, ioWeight: '[not set]', ioWeightAfterUpdate: 'default 100', defaultScope: `runc-${id}.scope`, stderr: 'skipping device /dev/char/10:200 for systemd' };
}

describe.skipIf(!ready)('systemd cgroup driver (needs root, systemd as PID 1 and cgroup v2: npm run test:systemd)', () => {
  const roots: string[] = [];
  afterAll(() => {
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });

  describe.each(runtimes)('$name', ({ name, bin }) => {
    const root = mkdtempSync(join(tmpdir(), `sd-root-${name}-`));
    roots.push(root);
    const id = `systemd-${name}-${process.pid}`;
    const unit = `sdtest-${id}.scope`;
    const dir = `${CG}/system.slice/${unit}`;
    const want = expectFor(name, id);
    const rt = (args: string[], input?: string) => call(bin, root, args, input);
    const status = () => JSON.parse(ok(rt(['state', id]), 'state')).status as string;

    it('create: the scope in its slice, with its properties, the process in it, the limits in the files', T, () => {
      const bundle = makeBundle(['sleep', '1000'], (c) => {
        c.linux.cgroupsPath = `system.slice:sdtest:${id}`;
        c.linux.resources = resources;
      });
      ok(rt(['create', '-b', bundle, id]), 'create');
      const pid = JSON.parse(ok(rt(['state', id]), 'state')).pid as number;
      const p = show(unit, ['ActiveState', 'Slice', 'ControlGroup', 'Delegate', 'Description', 'Conflicts', 'Before', 'MemoryMax', 'MemoryLow', 'MemorySwapMax', 'CPUWeight', 'CPUQuotaPerSecUSec', 'CPUQuotaPeriodUSec', 'AllowedCPUs', 'AllowedMemoryNodes', 'TasksMax', 'IOWeight', 'DevicePolicy', 'DeviceAllow']);
      expect(p).toMatchObject({
        ActiveState: 'active',
        Slice: 'system.slice',
        ControlGroup: `/system.slice/${unit}`,
        Delegate: 'yes',
        Description: want.description,
        MemoryMax: String(64 * MiB),
        MemoryLow: String(32 * MiB),
        MemorySwapMax: String(32 * MiB),
        CPUWeight: '20',
        CPUQuotaPerSecUSec: '500ms',
        CPUQuotaPeriodUSec: '100ms',
        AllowedCPUs: '0',
        AllowedMemoryNodes: '0',
        TasksMax: '50',
        IOWeight: want.ioWeight,
        DevicePolicy: 'strict',
      });
      // DefaultDependencies=no: not stopped with, nor ordered before, shutdown.target.
      expect(p.Conflicts).not.toContain('shutdown.target');
      expect(p.Before ?? '').not.toContain('shutdown.target');
      for (const d of ['/dev/char/1:3 rwm', '/dev/char/5:2 rwm', 'char-pts rwm', 'char-* m', 'block-* m']) expect(p.DeviceAllow.split('\n')).toContain(d);
      expect(file(dir, 'cgroup.procs').split('\n')).toContain(String(pid));
      expect(file(dir, 'memory.max')).toBe(String(64 * MiB));
      expect(file(dir, 'memory.low')).toBe(String(32 * MiB));
      expect(file(dir, 'memory.swap.max')).toBe(String(32 * MiB));
      expect(file(dir, 'cpu.weight')).toBe('20');
      expect(file(dir, 'cpu.max')).toBe('50000 100000');
      expect(file(dir, 'cpuset.cpus')).toBe('0');
      expect(file(dir, 'pids.max')).toBe('50');
      expect(file(dir, 'io.weight')).toBe('default 4950');
      expect(status()).toBe('created');
    });

    it('start, exec (in the scope), ps, events --stats', T, () => {
      ok(rt(['start', id]), 'start');
      expect(status()).toBe('running');
      expect(ok(rt(['exec', id, 'cat', '/proc/self/cgroup']), 'exec').trim()).toBe(`0::/system.slice/${unit}`);
      const pids = JSON.parse(ok(rt(['ps', '--format', 'json', id]), 'ps')) as number[];
      expect(pids).toContain(JSON.parse(ok(rt(['state', id]), 'state')).pid);
      const stats = JSON.parse(ok(rt(['events', '--stats', id]), 'events').split('\n')[0]);
      expect(stats.type).toBe('stats');
      expect(stats.data.memory.usage.limit).toBe(64 * MiB);
      expect(stats.data.pids.limit).toBe(50);
    });

    it('pause and resume: the scope frozen and thawed', T, () => {
      ok(rt(['pause', id]), 'pause');
      expect(status()).toBe('paused');
      expect(file(dir, 'cgroup.freeze')).toBe('1');
      ok(rt(['resume', id]), 'resume');
      expect(status()).toBe('running');
      expect(file(dir, 'cgroup.freeze')).toBe('0');
    });

    it('update: the unit properties and the files, and systemd keeps them (daemon-reload)', T, () => {
      ok(rt(['update', '--memory', '128M', '--memory-swap', '192M', '--pids-limit', '100', '--cpu-quota', '20000', id]), 'update');
      expect(show(unit, ['MemoryMax', 'MemorySwapMax', 'TasksMax', 'CPUQuotaPerSecUSec'])).toMatchObject({
        MemoryMax: String(128 * MiB),
        MemorySwapMax: String(64 * MiB),
        TasksMax: '100',
        CPUQuotaPerSecUSec: '200ms',
      });
      const files = () => ({ 'memory.max': file(dir, 'memory.max'), 'memory.swap.max': file(dir, 'memory.swap.max'), 'pids.max': file(dir, 'pids.max'), 'cpu.max': file(dir, 'cpu.max'), 'cpu.weight': file(dir, 'cpu.weight'), 'cpuset.cpus': file(dir, 'cpuset.cpus'), 'io.weight': file(dir, 'io.weight') });
      const before = files();
      expect(before).toEqual({ 'memory.max': String(128 * MiB), 'memory.swap.max': String(64 * MiB), 'pids.max': '100', 'cpu.max': '20000 100000', 'cpu.weight': '20', 'cpuset.cpus': '0', 'io.weight': want.ioWeightAfterUpdate });
      // Every unit's cgroup settings written again by systemd: nothing the runtime wrote may change.
      expect(spawnSync('systemctl', ['daemon-reload']).status).toBe(0);
      expect(files()).toEqual(before);
    });

    it('kill --all, then delete: no unit, no failed unit, no cgroup', T, async () => {
      ok(rt(['exec', '-d', id, 'sleep', '1000']), 'exec -d');
      expect(file(dir, 'cgroup.procs').split('\n').length).toBe(2);
      ok(rt(['kill', '--all', id, 'KILL']), 'kill --all');
      await until(() => status() === 'stopped', 60_000, 'the container to stop');
      ok(rt(['delete', id]), 'delete');
      expect(show(unit, ['LoadState', 'ActiveState'])).toEqual({ LoadState: 'not-found', ActiveState: 'inactive' });
      expect(existsSync(dir)).toBe(false);
      expect(failedUnits()).not.toContain(unit);
    });

    it('delete --force of a running container stops its scope', T, () => {
      const fid = `${id}-f`;
      const bundle = makeBundle(['sleep', '1000'], (c) => {
        c.linux.cgroupsPath = `system.slice:sdtest:${fid}`;
      });
      ok(rt(['run', '-d', '-b', bundle, fid]), 'run -d');
      expect(show(`sdtest-${fid}.scope`, ['ActiveState']).ActiveState).toBe('active');
      ok(rt(['delete', '--force', fid]), 'delete --force');
      expect(show(`sdtest-${fid}.scope`, ['LoadState']).LoadState).toBe('not-found');
      expect(existsSync(`${CG}/system.slice/sdtest-${fid}.scope`)).toBe(false);
      expect(failedUnits()).not.toContain(`sdtest-${fid}.scope`);
    });

    it("without a system bus daemon: systemd's private socket (root)", T, () => {
      const pid = `${id}-p`;
      const env = { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/nonexistent/system_bus_socket' };
      const bundle = makeBundle(['sleep', '1000'], (c) => {
        c.linux.cgroupsPath = `system.slice:sdtest:${pid}`;
        c.linux.resources = { ...c.linux.resources, pids: { limit: 9 } };
      });
      ok(call(bin, root, ['run', '-d', '-b', bundle, pid], undefined, env), 'run -d');
      expect(show(`sdtest-${pid}.scope`, ['ActiveState', 'TasksMax'])).toEqual({ ActiveState: 'active', TasksMax: '9' });
      ok(call(bin, root, ['update', '--pids-limit', '11', pid], undefined, env), 'update');
      expect(show(`sdtest-${pid}.scope`, ['TasksMax']).TasksMax).toBe('11');
      ok(call(bin, root, ['delete', '--force', pid], undefined, env), 'delete --force');
      expect(show(`sdtest-${pid}.scope`, ['LoadState']).LoadState).toBe('not-found');
    });

    it('run in the foreground, a cgroup namespace rooted at the scope; the default cgroupsPath; a nested slice', T, () => {
      const rid = `${id}-r`;
      const bundle = makeBundle(['sh', '-c', 'cat /proc/self/cgroup /sys/fs/cgroup/pids.max'], (c) => {
        c.linux.namespaces.push({ type: 'cgroup' });
        c.linux.resources = { ...c.linux.resources, pids: { limit: 7 } };
        c.linux.cgroupsPath = `system.slice:sdtest:${rid}`;
      });
      const r = rt(['run', '-b', bundle, rid]);
      if (want.stderr) expect(r.stderr).toContain(want.stderr);
      else expect(r.stderr).toBe('');
      expect(r.stdout).toBe('0::/\n7\n');
      expect(show(`sdtest-${rid}.scope`, ['LoadState']).LoadState).toBe('not-found');
      // No cgroupsPath: runc's default for the systemd driver, system.slice:<prefix>:<id>.
      const did = `${id}-d`;
      const scope = want.defaultScope.replace(id, did);
      ok(rt(['run', '-d', '-b', makeBundle(['sleep', '1000']), did]), 'run -d default');
      expect(show(scope, ['ActiveState', 'Slice'])).toEqual({ ActiveState: 'active', Slice: 'system.slice' });
      ok(rt(['delete', '--force', did]), 'delete default');
      expect(show(scope, ['LoadState']).LoadState).toBe('not-found');
      // A slice named a-b.slice is a.slice/a-b.slice, made by systemd as needed.
      const nid = `${id}-n`;
      const nested = makeBundle(['sleep', '1000'], (c) => {
        c.linux.cgroupsPath = `sdtest-nested.slice:sdtest:${nid}`;
      });
      ok(rt(['run', '-d', '-b', nested, nid]), 'run -d nested');
      expect(existsSync(`${CG}/sdtest.slice/sdtest-nested.slice/sdtest-${nid}.scope`)).toBe(true);
      ok(rt(['delete', '--force', nid]), 'delete nested');
      expect(existsSync(`${CG}/sdtest.slice/sdtest-nested.slice/sdtest-${nid}.scope`)).toBe(false);
      expect(failedUnits()).toBe('');
    });
  });
});

// Why the user-manager case cannot run here, if it cannot (named in its title).
const userWhy = !ready ? 'needs root, systemd as PID 1 and cgroup v2' : !existsSync('/usr/sbin/useradd') ? 'needs useradd' : userManagerMissing();
describe.skipIf(Boolean(userWhy))(`systemd cgroup driver: a non-root caller and its user manager (session bus)${userWhy ? ` (skipped: ${userWhy})` : ''}`, () => {
  // The driver's user-manager path without a container (a non-root create is the
  // rootless work): test/lib/systemd-user-probe.ts, run as a fresh user whose
  // manager is the distribution's user@UID.service, started by logind for a
  // lingering user (test/lib/user-manager.ts).
  const uidNum = 4242 + (process.pid % 1000);
  const user = `sdtest${uidNum}`;
  let lingered = false;
  let copy: string | undefined;
  afterAll(async () => {
    if (lingered) await stopUserManager(uidNum);
    spawnSync('userdel', ['-r', user]);
    if (copy) rmSync(copy, { recursive: true, force: true });
  }, 150_000);

  /** The probe bundled into a directory everyone can search, with this Node and the addon: its argv. */
  async function reachableProbe(): Promise<string[]> {
    copy = mkdtempSync('/tmp/sd-probe-');
    chmodSync(copy, 0o755);
    // src/ in the copy, as in the checkout: src/addon.ts finds prebuilds/ beside its parent.
    const { build } = await import('esbuild');
    await build({ entryPoints: [join(repo, 'test/lib/systemd-user-probe.ts')], bundle: true, format: 'esm', platform: 'node', target: 'node22', outfile: join(copy, 'src/probe.mjs'), logLevel: 'error' });
    chmodSync(join(copy, 'src'), 0o755);
    const platform = `${process.platform}-${process.arch}`;
    for (const f of readdirSync(join(repo, 'prebuilds', platform))) placeReachable(join(repo, 'prebuilds', platform, f), join(copy, 'prebuilds', platform, f));
    placeReachable(process.execPath, join(copy, 'node'));
    return [join(copy, 'node'), join(copy, 'src/probe.mjs')];
  }

  it("plans the scope under the manager's cgroup, starts it with the pid, updates it, removes it", T, async () => {
    expect(spawnSync('useradd', ['-M', '-u', String(uidNum), user]).status).toBe(0);
    lingered = true;
    const { xdg, cgroup: managerCg } = await startUserManager(uidNum);
    // The probe runs the driver's modules as the user: from the checkout with
    // tsx, or, from a checkout under a directory closed to the user (/root, a
    // 0700 CI directory), as a bundle beside a copy of this Node and the
    // addon that the user can reach.
    const asUser = ['setpriv', '--reuid', String(uidNum), '--regid', String(uidNum), '--clear-groups', 'env', 'HOME=/tmp', 'TMPDIR=/tmp', `XDG_RUNTIME_DIR=${xdg}`];
    const probeArgs = ['', 'sdu'];
    const closed = unsearchableDir(repo);
    const argv = closed ? await reachableProbe() : [join(repo, 'node_modules/.bin/tsx'), join(repo, 'test/lib/systemd-user-probe.ts')];
    const probe = spawnSync(asUser[0], [...asUser.slice(1), ...argv, ...probeArgs], { cwd: closed ? '/' : repo, encoding: 'utf8', timeout: 100_000 });
    expect(probe.status, probe.stderr).toBe(0);
    const r = JSON.parse(probe.stdout);
    const dir = `${CG}${managerCg}/user.slice/tsrunc-sdu.scope`;
    expect(r.record.paths['']).toBe(dir);
    expect(r.record.systemd).toMatchObject({ unit: 'tsrunc-sdu.scope', slice: 'user.slice', user: true });
    expect(r.own).toBe(`0::${managerCg}/user.slice/tsrunc-sdu.scope`);
    expect([r.before, r.after]).toEqual(['9', '11']);
    expect(existsSync(dir)).toBe(false);
  });
});

describe.skipIf(!isRoot || systemdPid1)('systemd cgroup driver where systemd does not run', () => {
  it("--systemd-cgroup is refused with runc's error, and nothing is created", () => {
    const root = mkdtempSync(join(tmpdir(), 'sd-root-'));
    try {
      const r = call(runtime, root, ['run', '-b', makeBundle(['true']), `systemd-refused-${process.pid}`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('systemd cgroup flag passed, but systemd support for managing cgroups is not available');
      expect(call(runtime, root, ['list', '-q']).stdout).toBe('');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
