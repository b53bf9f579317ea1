// Cgroups on this (v1 / hybrid) host with real containers: where the
// directories go, that the container is in them, that the limits are in the
// files and hold, pause/resume, update, events, and that delete leaves nothing.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cgroupLayout } from '../src/cgroups/hierarchy.ts';
import { cleanup, isRoot, makeBundle, rt, runtime, state, stateRoot, uid, until } from './lib/harness.ts';

const root = stateRoot();
afterAll(() => cleanup(root));

const layout = cgroupLayout();
const v1 = isRoot && !layout.unified && layout.hierarchies.some((h) => h.fstype === 'cgroup');
const hierarchies = layout.hierarchies.filter((h) => h.fstype === 'cgroup');
const mountOf = (controller: string) => hierarchies.find((h) => h.controllers.includes(controller))?.mountPoint;

/** This process's cgroup per controller: tsrunc, our child, starts in the same ones. */
const own = new Map<string, string>();
for (const line of readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n')) {
  const [, ctrls, path] = line.split(':');
  for (const c of ctrls.split(',')) own.set(c, path);
}

/** Where a container's cgroup is in a controller's hierarchy, for a cgroupsPath (runc's rules). */
function dirOf(controller: string, id: string, cgroupsPath?: string): string {
  const inner = cgroupsPath ?? id;
  const base = inner.startsWith('/') ? mountOf(controller)! : join(mountOf(controller)!, own.get(controller)!);
  return join(base, inner);
}

const read = (path: string) => readFileSync(path, 'utf8').trim();

/** A host directory bind-mounted at /out, so the container can leave marks. */
function outDir(): { host: string; mount: object } {
  const host = mkdtempSync(join(tmpdir(), 'tsrunc-out-'));
  return { host, mount: { destination: '/out', type: 'bind', source: host, options: ['rbind', 'rw'] } };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!v1)('cgroups v1: placement', () => {
  it('default cgroupsPath: <own cgroup>/<id> in every hierarchy, with init in it; delete removes it', () => {
    const id = uid();
    expect(rt(root, ['run', '-d', '-b', makeBundle(['sleep', '100']), id])).toMatchObject({ code: 0, stderr: '' });
    const pid = state(root, id).pid;
    const procCgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    for (const h of hierarchies) {
      const c = h.controllers[0];
      const dir = dirOf(c, id);
      expect(existsSync(dir), dir).toBe(true);
      expect(read(`${dir}/cgroup.procs`).split('\n')).toContain(String(pid));
      expect(procCgroup).toContain(`:${join(own.get(c)!, id)}\n`);
    }
    expect(rt(root, ['delete', '-f', id]).code).toBe(0);
    for (const h of hierarchies) expect(existsSync(dirOf(h.controllers[0], id))).toBe(false);
  });

  it('an absolute cgroupsPath is taken from each hierarchy root; the parents made for it go too', () => {
    const id = uid();
    const parent = `/tsrunc-test-${process.pid}-${id}`;
    const path = `${parent}/ctr`;
    expect(rt(root, ['run', '-d', '-b', makeBundle(['sleep', '100'], (c) => (c.linux.cgroupsPath = path)), id]).code).toBe(0);
    const pid = state(root, id).pid;
    for (const c of ['memory', 'pids', 'cpu', 'devices', 'freezer']) {
      expect(read(`${mountOf(c)}${path}/cgroup.procs`).split('\n')).toContain(String(pid));
    }
    // cpuset: a new directory's cpus and mems were filled from its parent's, or nothing could join.
    expect(read(`${mountOf('cpuset')}${parent}/cpuset.cpus`)).toBe(read(`${mountOf('cpuset')}/cpuset.cpus`));
    expect(rt(root, ['delete', '-f', id]).code).toBe(0);
    for (const h of hierarchies) expect(existsSync(`${h.mountPoint}${parent}`)).toBe(false);
  });

  it('a relative cgroupsPath is taken from tsrunc\'s own cgroup, and cannot climb out of it', () => {
    const id = uid();
    expect(rt(root, ['run', '-d', '-b', makeBundle(['sleep', '100'], (c) => (c.linux.cgroupsPath = `../../rel-${id}/x`)), id]).code).toBe(0);
    const dir = dirOf('memory', id, `rel-${id}/x`);
    expect(read(`${dir}/cgroup.procs`)).toBe(String(state(root, id).pid));
    expect(rt(root, ['delete', '-f', id]).code).toBe(0);
    expect(existsSync(dirOf('memory', id, `rel-${id}`))).toBe(false);
  });

  it('refuses a cgroupsPath that names the root, and unified resources on v1, before anything exists', () => {
    for (const [mutate, msg] of [
      [(c: any) => (c.linux.cgroupsPath = '/'), 'names the root cgroup'],
      [(c: any) => (c.linux.resources.unified = { 'memory.max': '1M' }), 'cannot use unified on cgroup v1'],
    ] as const) {
      const id = uid();
      const r = rt(root, ['create', '-b', makeBundle(['true'], mutate), id]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(msg);
      expect(existsSync(join(root, id))).toBe(false);
      expect(existsSync(dirOf('memory', id))).toBe(false);
    }
  });

  it('with a cgroup namespace the container sees its cgroup as /, and /sys/fs/cgroup shows its own directories', () => {
    const id = uid();
    const bundle = makeBundle(['sh', '-c', 'cat /proc/self/cgroup; cat /sys/fs/cgroup/pids/pids.max; cat /sys/fs/cgroup/memory/memory.limit_in_bytes'], (c) => {
      c.linux.namespaces.push({ type: 'cgroup' });
      c.linux.resources.pids = { limit: 42 };
      c.linux.resources.memory = { limit: 64 << 20 };
    });
    const r = rt(root, ['run', '-b', bundle, id]);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    for (const l of lines.filter((l) => /^\d+:/.test(l) && !l.startsWith('0::'))) expect(l).toMatch(/:\/$/);
    expect(lines.slice(-2)).toEqual(['42', String(64 << 20)]);
  });
});

describe.skipIf(!v1)('cgroups v1: limits', () => {
  it('writes linux.resources into the files', () => {
    const id = uid();
    const blkioWeight = existsSync(`${mountOf('blkio')}/blkio.weight`) ? 'blkio.weight' : 'blkio.bfq.weight';
    const bundle = makeBundle(['sleep', '100'], (c) => {
      c.linux.resources = {
        ...c.linux.resources,
        memory: { limit: 100 << 20, reservation: 50 << 20, swap: 200 << 20, swappiness: 10, disableOOMKiller: true },
        cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
        pids: { limit: 64 },
        blockIO: { weight: 300 },
      };
    });
    const r = rt(root, ['run', '-d', '-b', bundle, id]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const mem = dirOf('memory', id);
    expect(read(`${mem}/memory.limit_in_bytes`)).toBe(String(100 << 20));
    expect(read(`${mem}/memory.soft_limit_in_bytes`)).toBe(String(50 << 20));
    if (existsSync(`${mem}/memory.memsw.limit_in_bytes`)) expect(read(`${mem}/memory.memsw.limit_in_bytes`)).toBe(String(200 << 20));
    expect(read(`${mem}/memory.swappiness`)).toBe('10');
    expect(read(`${mem}/memory.oom_control`)).toMatch(/^oom_kill_disable 1$/m);
    const cpu = dirOf('cpu', id);
    expect(read(`${cpu}/cpu.shares`)).toBe('512');
    expect(read(`${cpu}/cpu.cfs_quota_us`)).toBe('50000');
    expect(read(`${cpu}/cpu.cfs_period_us`)).toBe('100000');
    expect(read(`${dirOf('cpuset', id)}/cpuset.cpus`)).toBe('0');
    expect(read(`${dirOf('cpuset', id)}/cpuset.mems`)).toBe('0');
    expect(read(`${dirOf('pids', id)}/pids.max`)).toBe('64');
    if (existsSync(`${dirOf('blkio', id)}/${blkioWeight}`)) expect(read(`${dirOf('blkio', id)}/${blkioWeight}`)).toMatch(/(^|\s)300$/m);
    // The default config's deny-all plus runc's default allowed devices.
    const devices = read(`${dirOf('devices', id)}/devices.list`).split('\n');
    expect(devices).not.toContain('a *:* rwm');
    for (const d of ['c 1:3 rwm', 'c 1:5 rwm', 'c 136:* rwm', 'c 5:2 rwm', 'c *:* m', 'b *:* m']) expect(devices).toContain(d);
    expect(rt(root, ['delete', '-f', id]).code).toBe(0);
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
    const events = spawn(runtime, ['--root', root, 'events', '--interval', '300ms', id], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    events.stdout!.on('data', (d) => (text += d));
    const ended = new Promise<number>((res) => events.on('exit', (c) => res(c ?? -1)));
    await until(() => text.includes('"type":"stats"'), 5000, 'a stats event');
    writeFileSync(join(out.host, 'go'), '');
    await until(() => existsSync(join(out.host, 'dd')), 10_000, 'dd to end');
    expect(readFileSync(join(out.host, 'dd'), 'utf8')).toBe('dd=137\n');
    await until(() => text.includes('"type":"oom"'), 5000, 'the oom event');
    const oom = text.split('\n').filter((l) => l.includes('"type":"oom"'));
    expect(JSON.parse(oom[0])).toEqual({ type: 'oom', id });
    expect(read(`${dirOf('memory', id)}/memory.oom_control`)).toMatch(/^oom_kill [1-9]/m);

    const stats = rt(root, ['events', '--stats', id]);
    expect(stats.code).toBe(0);
    const ev = JSON.parse(stats.stdout);
    expect(ev).toMatchObject({ type: 'stats', id });
    expect(Object.keys(ev.data)).toEqual(expect.arrayContaining(['cpu', 'memory', 'pids', 'blkio', 'hugetlb']));
    expect(ev.data.memory.usage.limit).toBe(32 << 20);
    // The peak reached the limit (failcnt stays 0 on this kernel even then: not asserted).
    expect(ev.data.memory.usage.max).toBeGreaterThan(30 << 20);
    expect(ev.data.memory.usage.failcnt).toEqual(expect.any(Number));
    expect(ev.data.pids.current).toBeGreaterThanOrEqual(1);
    expect(ev.data.cpu.usage.total).toBeGreaterThan(0);
    // The stream ends with the cgroup.
    expect(rt(root, ['delete', '-f', id]).code).toBe(0);
    expect(await ended).toBe(0);
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
    await until(() => existsSync(join(out.host, 'bomb')), 10_000, 'the bomb to stop');
    const pids = dirOf('pids', id);
    expect(Number(read(`${pids}/pids.current`))).toBeLessThanOrEqual(20);
    expect(Number(read(`${pids}/pids.current`))).toBeGreaterThanOrEqual(15);
    expect(read(`${pids}/pids.events`)).toMatch(/^max [1-9]/m);
    if (existsSync(`${pids}/pids.peak`)) expect(read(`${pids}/pids.peak`)).toBe('20');
    expect(rt(root, ['delete', '-f', id]).code).toBe(0);
    expect(existsSync(pids)).toBe(false);
  });

  it('a device not allowed cannot be opened; one allowed can', () => {
    // A character major no driver has: opening it when allowed fails with ENXIO, not EPERM.
    const used = new Set(
      readFileSync('/proc/devices', 'utf8')
        .split('Block devices:')[0]
        .split('\n')
        .map((l) => Number(l.trim().split(' ')[0])),
    );
    const major = [240, 239, 238, 237, 236, 235, 234].find((m) => !used.has(m))!;
    const withDevice = (allow: boolean) =>
      makeBundle(['sh', '-c', 'echo x > /dev/testdev'], (c) => {
        c.linux.devices = [{ path: '/dev/testdev', type: 'c', major, minor: 0, fileMode: 0o666 }];
        if (allow) c.linux.resources.devices.push({ allow: true, type: 'c', major, minor: 0, access: 'rw' });
      });
    const denied = rt(root, ['run', '-b', withDevice(false), uid()]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('Operation not permitted');
    const allowed = rt(root, ['run', '-b', withDevice(true), uid()]);
    expect(allowed.code).not.toBe(0);
    expect(allowed.stderr).toContain('No such device or address');
  });
});

describe.skipIf(!v1)('pause, resume, update', () => {
  it('pause stops a counter and resume restarts it; state says paused meanwhile', async () => {
    const id = uid();
    const out = outDir();
    const counter = join(out.host, 'c');
    const bundle = makeBundle(['sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i > /out/c.new; mv /out/c.new /out/c; sleep 0.05; done'], (c) => c.mounts.push(out.mount));
    expect(rt(root, ['resume', 'no-such']).stderr).toContain('container does not exist');
    expect(rt(root, ['run', '-d', '-b', bundle, id]).code).toBe(0);
    await until(() => existsSync(counter) && Number(read(counter)) > 2, 5000, 'the counter');
    expect(rt(root, ['resume', id]).stderr).toContain('container not paused');

    expect(rt(root, ['pause', id])).toMatchObject({ code: 0, stderr: '' });
    expect(state(root, id).status).toBe('paused');
    expect(rt(root, ['list', '--format', 'json']).stdout).toContain('"status":"paused"');
    expect(rt(root, ['pause', id]).stderr).toContain('container not running');
    const frozenAt = read(counter);
    await sleep(400);
    expect(read(counter)).toBe(frozenAt);

    expect(rt(root, ['resume', id])).toMatchObject({ code: 0, stderr: '' });
    expect(state(root, id).status).toBe('running');
    await until(() => Number(read(counter)) > Number(frozenAt) + 2, 5000, 'the counter to go on');

    // A paused container can be deleted with --force: its processes die once thawed.
    expect(rt(root, ['pause', id]).code).toBe(0);
    const pid = state(root, id).pid;
    expect(rt(root, ['delete', id]).stderr).toContain('that is not stopped: paused');
    expect(rt(root, ['delete', '-f', id]).code).toBe(0);
    expect(existsSync(`/proc/${pid}/stat`) && !read(`/proc/${pid}/stat`).includes(') Z ')).toBe(false);
    expect(existsSync(dirOf('freezer', id))).toBe(false);
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

    const u = rt(root, ['update', '--memory', '48m', '--cpu-quota', '20000', '--cpu-period', '100000', '--pids-limit', '33', '--cpu-share', '256', id]);
    expect(u).toMatchObject({ code: 0, stderr: '' });
    expect(read(`${mem}/memory.limit_in_bytes`)).toBe(String(48 << 20));
    expect(read(`${cpu}/cpu.cfs_quota_us`)).toBe('20000');
    expect(read(`${cpu}/cpu.shares`)).toBe('256');
    expect(read(`${dirOf('pids', id)}/pids.max`)).toBe('33');

    const json = JSON.stringify({ memory: { limit: 80 << 20, swap: 80 << 20 }, cpu: { shares: 2048, cpus: '0' }, pids: { limit: 44 } });
    expect(rt(root, ['update', '-r', '-', id], { input: json })).toMatchObject({ code: 0, stderr: '' });
    expect(read(`${mem}/memory.limit_in_bytes`)).toBe(String(80 << 20));
    expect(read(`${cpu}/cpu.shares`)).toBe('2048');
    expect(read(`${dirOf('cpuset', id)}/cpuset.cpus`)).toBe('0');
    expect(read(`${dirOf('pids', id)}/pids.max`)).toBe('44');
    // Merged, not replaced: the quota from the first update is still there.
    expect(read(`${cpu}/cpu.cfs_quota_us`)).toBe('20000');

    const file = join(mkdtempSync(join(tmpdir(), 'tsrunc-res-')), 'r.json');
    writeFileSync(file, JSON.stringify({ cpu: { quota: -1 } }));
    expect(rt(root, ['update', '--resources', file, id]).code).toBe(0);
    expect(read(`${cpu}/cpu.cfs_quota_us`)).toBe('-1');

    for (const [args, msg] of [
      [['--memory', 'lots'], "invalid value for memory: invalid size: 'lots'"],
      [['--cpu-share', '-5'], 'invalid value for cpu-share'],
      [['--l3-cache-schema', 'L3:0=f'], 'Intel RDT/CAT: l3 cache schema is not enabled'],
      [['-r', '-'], 'resources: memory.limit: must be'],
    ] as const) {
      const r = rt(root, ['update', ...args, id], { input: '{"memory":{"limit":"x"}}' });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(msg);
    }
    expect(rt(root, ['kill', id, 'KILL']).code).toBe(0);
    await until(() => state(root, id).status === 'stopped', 5000, 'stopped');
    expect(rt(root, ['update', '--memory', '32m', id]).stderr).toContain('container not running');
    expect(rt(root, ['events', '--stats', id]).stderr).toContain(`container with id ${id} is not running`);
    expect(rt(root, ['delete', id]).code).toBe(0);
    expect(existsSync(mem)).toBe(false);
  });
});

describe.skipIf(!v1)('delete after a crash', () => {
  it('leaves no cgroup behind when tsrunc create was SIGKILLed mid-way', async () => {
    const id = uid();
    const dir = mkdtempSync(join(tmpdir(), 'tsrunc-crash-'));
    const marker = join(dir, 'hook-pid');
    const hook = join(dir, 'hook.sh');
    // A prestart hook runs after the cgroup is made and the child is in it: hold create there.
    writeFileSync(hook, `#!/bin/sh\ncat > /dev/null\necho $$ > ${marker}.tmp && mv ${marker}.tmp ${marker}\nexec sleep 30\n`);
    chmodSync(hook, 0o755);
    const bundle = makeBundle(['sleep', '100'], (c) => (c.hooks = { prestart: [{ path: hook }] }));
    const create = spawn(runtime, ['--root', root, 'create', '-b', bundle, id], { stdio: 'ignore' });
    const exited = new Promise((res) => create.on('exit', res));
    await until(() => existsSync(marker), 10_000, 'the prestart hook');
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
    for (const h of hierarchies) expect(existsSync(dirOf(h.controllers[0], id))).toBe(false);
  });

  it('a failed create removes the cgroup it made', () => {
    const id = uid();
    const r = rt(root, ['run', '-b', makeBundle(['no-such-binary']), id]);
    expect(r.code).toBe(1);
    for (const h of hierarchies) expect(existsSync(dirOf(h.controllers[0], id))).toBe(false);
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
