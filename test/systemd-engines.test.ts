// Engines with their systemd cgroup manager, running tsrunc and runc, where
// systemd is PID 1 on cgroup v2: `npm run test:systemd` runs this file in the
// qemu guest of scripts/qemu-v2/ (QEMU_V2_SYSTEMD=1); skipped elsewhere.
//
// podman 4.3 with --cgroup-manager systemd (it then passes --systemd-cgroup
// and cgroupsPath "machine.slice:libpod:<id>"): run with --memory, --cpus and
// --pids-limit, the limits seen inside the container and on its scope, exec,
// stop, rm, and nothing left (no scope, no conmon scope, no failed unit, no
// cgroup directory). A private store (vfs, on the guest's /run tmpfs), no
// network, the busybox rootfs imported as the image.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupLayout } from '../src/cgroups/hierarchy.ts';
import { isRoot, rootfs, runtime } from './lib/harness.ts';

const systemdPid1 = (() => {
  try {
    return readFileSync('/proc/1/comm', 'utf8').trim() === 'systemd' && existsSync('/run/systemd/system');
  } catch {
    return false;
  }
})();
const PODMAN = '/usr/bin/podman';
const RUNC = '/usr/sbin/runc';
const ready = isRoot && systemdPid1 && cgroupLayout().unified && existsSync(PODMAN);
const runtimes = [{ name: 'tsrunc', bin: runtime }, ...(existsSync(RUNC) ? [{ name: 'runc', bin: RUNC }] : [])];
const T = { timeout: 300_000 };
const IMAGE = 'localhost/sdtest-busybox:test';

function show(unit: string, props: string[]): Record<string, string> {
  const r = spawnSync('systemctl', ['show', unit, '-p', props.join(',')], { encoding: 'utf8' });
  return Object.fromEntries(r.stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}
const failedUnits = () => spawnSync('systemctl', ['list-units', '--failed', '--all', '--plain', '--no-legend', '--no-pager'], { encoding: 'utf8' }).stdout;

describe.skipIf(!ready)('podman --cgroup-manager systemd (needs root, systemd as PID 1, cgroup v2 and podman: npm run test:systemd)', () => {
  let dir = '';
  let env: NodeJS.ProcessEnv = {};
  const podman = (bin: string, args: string[]) => {
    const r = spawnSync(PODMAN, ['--root', `${dir}/root`, '--runroot', `${dir}/runroot`, '--tmpdir', `${dir}/tmp`, '--storage-driver', 'vfs', '--cgroup-manager', 'systemd', '--events-backend', 'file', '--runtime', bin, ...args], { env, encoding: 'utf8', timeout: 240_000, stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.error) throw r.error;
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const ok = (r: { code: number; stdout: string; stderr: string }, what: string) => {
    if (r.code !== 0) throw new Error(`podman ${what}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };

  beforeAll(() => {
    // The guest's /run is a tmpfs (its / an overlay, which podman's store should not sit on).
    dir = mkdtempSync('/run/sdtest-podman-');
    const conf = join(dir, 'containers.conf');
    writeFileSync(conf, `[containers]\ndefault_ulimits = ["nofile=20000:20000"]\n[engine]\ncgroup_manager = "systemd"\nevents_logger = "file"\nevents_logfile_path = "${dir}/events.log"\n`);
    env = { ...process.env, CONTAINERS_CONF: conf };
    const tar = spawnSync('tar', ['-C', rootfs, '--exclude=./out', '-cf', `${dir}/rootfs.tar`, '.']);
    expect(tar.status).toBe(0);
    ok(podman(runtime, ['import', `${dir}/rootfs.tar`, IMAGE]), 'import');
  }, 300_000);
  afterAll(() => {
    if (!dir) return;
    podman(runtime, ['rm', '-af']);
    rmSync(dir, { recursive: true, force: true });
  }, 300_000);

  describe.each(runtimes)('$name', ({ name, bin }) => {
    let id = '';
    const cname = `sdtest-${name}`;

    it('run --memory --cpus --pids-limit: the scope and its properties, the limits inside, exec', T, () => {
      ok(podman(bin, ['run', '-d', '--network', 'none', '--memory', '64m', '--cpus', '0.5', '--pids-limit', '50', '--name', cname, IMAGE, 'sleep', '1000']), 'run');
      id = ok(podman(bin, ['inspect', '-f', '{{.Id}}', cname]), 'inspect').trim();
      expect(show(`libpod-${id}.scope`, ['ActiveState', 'Slice', 'ControlGroup', 'Delegate', 'MemoryMax', 'TasksMax', 'CPUQuotaPerSecUSec'])).toEqual({
        ActiveState: 'active',
        Slice: 'machine.slice',
        ControlGroup: `/machine.slice/libpod-${id}.scope`,
        Delegate: 'yes',
        MemoryMax: String(64 * 1024 * 1024),
        TasksMax: '50',
        CPUQuotaPerSecUSec: '500ms',
      });
      // podman gives the container a cgroup namespace on v2: its /sys/fs/cgroup is the scope.
      const inside = ok(podman(bin, ['exec', cname, 'sh', '-c', 'cat /proc/self/cgroup /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max /sys/fs/cgroup/pids.max']), 'exec');
      expect(inside).toBe(`0::/\n${64 * 1024 * 1024}\n50000 100000\n50\n`);
    });

    it('stop, rm: no scope, no conmon scope, no failed unit, no cgroup left', T, () => {
      ok(podman(bin, ['stop', '-t', '1', cname]), 'stop');
      ok(podman(bin, ['rm', cname]), 'rm');
      expect(show(`libpod-${id}.scope`, ['LoadState']).LoadState).toBe('not-found');
      expect(show(`libpod-conmon-${id}.scope`, ['LoadState']).LoadState).toBe('not-found');
      expect(existsSync(`/sys/fs/cgroup/machine.slice/libpod-${id}.scope`)).toBe(false);
      expect(failedUnits()).toBe('');
    });
  });
});
