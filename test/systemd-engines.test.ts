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
//
// dockerd 20.10 with native.cgroupdriver=systemd (cgroupsPath
// "system.slice:docker:<id>"), the same checks: a private dockerd (its own
// roots and socket, no bridge, no iptables) started as a transient service with
// Delegate=yes, as docker.service has, each runtime added with --add-runtime.
//
// containerd 1.6 through ctr, the runc v2 shim with --runc-binary and
// --runc-systemd-cgroup (the shim's SystemdCgroup option), cgroupsPath
// "system.slice:sdctr:<id>": run with a memory and a cpu limit, the scope and
// the files, exec in the scope, kill, rm, nothing left.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupLayout } from '../src/cgroups/hierarchy.ts';
import { isRoot, rootfs, runtime, systemdPid1 } from './lib/harness.ts';

const PODMAN = '/usr/bin/podman';
const DOCKERD = '/usr/sbin/dockerd';
const RUNC = '/usr/sbin/runc';
const guest = isRoot && systemdPid1 && cgroupLayout().unified;
const ready = guest && existsSync(PODMAN);
const runtimes = [{ name: 'tsrunc', bin: runtime }, ...(existsSync(RUNC) ? [{ name: 'runc', bin: RUNC }] : [])];
const T = { timeout: 300_000 };
// The guest's Debian kernel runs AppArmor and the apparmor package gives it
// apparmor_parser (scripts/qemu-v2/run.sh): podman and dockerd then load
// their default profiles and hand them to the runtime (process.apparmorProfile),
// as on a stock Debian or Ubuntu host. Elsewhere the containers run unconfined.
const apparmor = (() => {
  try {
    return readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').startsWith('Y') && spawnSync('sh', ['-c', 'command -v apparmor_parser']).status === 0;
  } catch {
    return false;
  }
})();
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
      // podman's default profile (containers-default-<version>), on the container's process and on an exec'd one.
      const labels = ok(podman(bin, ['exec', cname, 'sh', '-c', 'cat /proc/1/attr/current /proc/self/attr/current']), 'exec').split('\n');
      if (apparmor) expect(labels.slice(0, 2).map((l) => l.replace(/-[\d.]+ /, '-VERSION '))).toEqual(['containers-default-VERSION (enforce)', 'containers-default-VERSION (enforce)']);
      else expect(labels.slice(0, 2)).toEqual(['unconfined', 'unconfined']);
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

const dockerReady = guest && existsSync(DOCKERD) && spawnSync('which', ['docker']).status === 0;

describe.skipIf(!dockerReady)('dockerd native.cgroupdriver=systemd (needs root, systemd as PID 1, cgroup v2 and docker: npm run test:systemd)', () => {
  let dir = '';
  const unit = `sdtest-dockerd-${process.pid}.service`;
  const docker = (args: string[]) => {
    const r = spawnSync('docker', args, { env: { ...process.env, DOCKER_HOST: `unix://${dir}/sock` }, encoding: 'utf8', timeout: 240_000, stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.error) throw r.error;
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const ok = (r: { code: number; stdout: string; stderr: string }, what: string) => {
    if (r.code !== 0) throw new Error(`docker ${what}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };

  beforeAll(async () => {
    dir = mkdtempSync('/run/sdtest-docker-');
    const runtimesArgs = runtimes.flatMap((r) => ['--add-runtime', `sd${r.name}=${r.bin}`]);
    const started = spawnSync('systemd-run', ['--unit', unit, '-p', 'Delegate=yes', '-p', 'KillMode=mixed', DOCKERD, '--data-root', `${dir}/data`, '--exec-root', `${dir}/exec`, '--pidfile', `${dir}/pid`, '-H', `unix://${dir}/sock`, '--bridge=none', '--iptables=false', '--ip6tables=false', '--ip-forward=false', '--ip-masq=false', '--exec-opt', 'native.cgroupdriver=systemd', '--storage-driver', 'vfs', ...runtimesArgs], { encoding: 'utf8' });
    expect(started.status, started.stderr).toBe(0);
    const end = Date.now() + 180_000;
    while (docker(['version']).code !== 0) {
      if (Date.now() > end) throw new Error(`dockerd did not come up: ${spawnSync('journalctl', ['-u', unit, '--no-pager'], { encoding: 'utf8' }).stdout.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(ok(docker(['info', '--format', '{{.CgroupDriver}} {{.CgroupVersion}}']), 'info').trim()).toBe('systemd 2');
    const tar = spawnSync('tar', ['-C', rootfs, '--exclude=./out', '-cf', `${dir}/rootfs.tar`, '.']);
    expect(tar.status).toBe(0);
    ok(docker(['import', `${dir}/rootfs.tar`, IMAGE]), 'import');
  }, 300_000);
  afterAll(() => {
    if (!dir) return;
    spawnSync('systemctl', ['stop', unit]);
    rmSync(dir, { recursive: true, force: true });
  }, 300_000);

  describe.each(runtimes)('$name', ({ name }) => {
    let id = '';
    const cname = `sdtest-${name}`;

    it('run --memory --cpus --pids-limit: the scope and its properties, the limits inside, exec', T, () => {
      ok(docker(['run', '-d', '--runtime', `sd${name}`, '--network', 'none', '--memory', '64m', '--cpus', '0.5', '--pids-limit', '50', '--name', cname, IMAGE, 'sleep', '1000']), 'run');
      id = ok(docker(['inspect', '-f', '{{.Id}}', cname]), 'inspect').trim();
      expect(show(`docker-${id}.scope`, ['ActiveState', 'Slice', 'ControlGroup', 'Delegate', 'MemoryMax', 'TasksMax', 'CPUQuotaPerSecUSec'])).toEqual({
        ActiveState: 'active',
        Slice: 'system.slice',
        ControlGroup: `/system.slice/docker-${id}.scope`,
        Delegate: 'yes',
        MemoryMax: String(64 * 1024 * 1024),
        TasksMax: '50',
        CPUQuotaPerSecUSec: '500ms',
      });
      const inside = ok(docker(['exec', cname, 'sh', '-c', 'cat /proc/self/cgroup /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max /sys/fs/cgroup/pids.max']), 'exec');
      expect(inside).toBe(`0::/\n${64 * 1024 * 1024}\n50000 100000\n50\n`);
      // docker-default, which dockerd loaded with apparmor_parser, on the container's process and on an exec'd one.
      const labels = ok(docker(['exec', cname, 'sh', '-c', 'cat /proc/1/attr/current /proc/self/attr/current']), 'exec').split('\n');
      expect(labels.slice(0, 2)).toEqual(apparmor ? ['docker-default (enforce)', 'docker-default (enforce)'] : ['unconfined', 'unconfined']);
    });

    it('stop, rm: no scope, no failed unit, no cgroup left', T, () => {
      ok(docker(['stop', '-t', '1', cname]), 'stop');
      ok(docker(['rm', cname]), 'rm');
      expect(show(`docker-${id}.scope`, ['LoadState']).LoadState).toBe('not-found');
      expect(existsSync(`/sys/fs/cgroup/system.slice/docker-${id}.scope`)).toBe(false);
      expect(failedUnits()).toBe('');
    });
  });
});

const CONTAINERD = '/usr/bin/containerd';
const containerdReady = guest && existsSync(CONTAINERD) && spawnSync('which', ['ctr']).status === 0;

describe.skipIf(!containerdReady)('containerd (ctr, runc shim with the systemd cgroup option) (needs root, systemd as PID 1, cgroup v2 and containerd: npm run test:systemd)', () => {
  let dir = '';
  const unit = `sdtest-containerd-${process.pid}.service`;
  const ctr = (args: string[]) => {
    const r = spawnSync('ctr', ['-a', `${dir}/sock`, ...args], { encoding: 'utf8', timeout: 240_000, stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.error) throw r.error;
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const ok = (r: { code: number; stdout: string; stderr: string }, what: string) => {
    if (r.code !== 0) throw new Error(`ctr ${what}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };

  beforeAll(async () => {
    dir = mkdtempSync('/run/sdtest-containerd-');
    const img = spawnSync('bash', [join(import.meta.dirname, '../scripts/engines/make-image.sh'), rootfs, `${dir}/img`], { encoding: 'utf8' });
    expect(img.status, img.stderr).toBe(0);
    writeFileSync(`${dir}/config.toml`, `version = 2\nroot = "${dir}/root"\nstate = "${dir}/state"\n[grpc]\naddress = "${dir}/sock"\n`);
    // KillMode=process: stopping containerd leaves the shims (and their containers) alone, as containerd.service does.
    const started = spawnSync('systemd-run', ['--unit', unit, '-p', 'Delegate=yes', '-p', 'KillMode=process', CONTAINERD, '--config', `${dir}/config.toml`], { encoding: 'utf8' });
    expect(started.status, started.stderr).toBe(0);
    const end = Date.now() + 180_000;
    while (ctr(['version']).code !== 0) {
      if (Date.now() > end) throw new Error('containerd did not come up');
      await new Promise((r) => setTimeout(r, 1000));
    }
    ok(ctr(['image', 'import', '--snapshotter', 'native', `${dir}/img/image.tar`]), 'image import');
  }, 300_000);
  afterAll(() => {
    if (!dir) return;
    spawnSync('systemctl', ['stop', unit]);
    rmSync(dir, { recursive: true, force: true });
  }, 300_000);

  describe.each(runtimes)('$name', ({ name, bin }) => {
    it('run with --memory-limit and --cpus: the scope, the files, exec in it; kill, rm: nothing left', T, async () => {
      const id = `sdtest-${name}-${process.pid}`;
      const scope = `sdctr-${id}.scope`;
      const cg = `/sys/fs/cgroup/system.slice/${scope}`;
      ok(ctr(['run', '-d', '--snapshotter', 'native', '--runc-binary', bin, '--runc-systemd-cgroup', '--cgroup', `system.slice:sdctr:${id}`, '--memory-limit', String(64 * 1024 * 1024), '--cpus', '0.5', 'localhost/tsrunc-busybox:test', id, 'sleep', '1000']), 'run');
      expect(show(scope, ['ActiveState', 'Slice', 'Delegate', 'MemoryMax', 'CPUQuotaPerSecUSec'])).toEqual({ ActiveState: 'active', Slice: 'system.slice', Delegate: 'yes', MemoryMax: String(64 * 1024 * 1024), CPUQuotaPerSecUSec: '500ms' });
      expect(readFileSync(`${cg}/memory.max`, 'utf8')).toBe(`${64 * 1024 * 1024}\n`);
      expect(readFileSync(`${cg}/cpu.max`, 'utf8')).toBe('50000 100000\n');
      expect(ok(ctr(['task', 'exec', '--exec-id', 'e1', id, 'cat', '/proc/self/cgroup']), 'task exec')).toBe(`0::/system.slice/${scope}\n`);
      ok(ctr(['task', 'kill', '-s', 'KILL', id]), 'task kill');
      const end = Date.now() + 60_000;
      while (ctr(['task', 'rm', id]).code !== 0) {
        if (Date.now() > end) throw new Error('task rm kept failing');
        await new Promise((r) => setTimeout(r, 500));
      }
      ok(ctr(['container', 'rm', id]), 'container rm');
      expect(show(scope, ['LoadState']).LoadState).toBe('not-found');
      expect(existsSync(cg)).toBe(false);
      expect(failedUnits()).toBe('');
    });
  });
});
