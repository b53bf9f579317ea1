// Every write tsrunc makes into procfs goes to procfs (issue 19 §3; runc's
// CVE-2019-19921 and CVE-2025-52881): a mount in the config that puts a host
// directory where the container's /proc is must not redirect a sysctl, an
// id map, oom_score_adj, the time namespace's offsets or a mask, and nothing
// outside the rootfs changes. Binds at /proc are refused as runc refuses them;
// one that reaches /proc through a symlink planted by an earlier mount is not
// seen by that check (made at plan time, on the image's symlinks), and is what the procfs handle (addon/src/child.cc,
// proc_open and fd_ref) is for.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveInRoot } from '../src/container/plan.ts';
import { cleanup, isRoot, makeBundle, rootfs, rt, snapshotTree, state, stateRoot, uid } from './lib/harness.ts';

const root = stateRoot();
afterAll(() => cleanup(root));

/**
 * A host directory dressed as procfs: the sysctl file a write would land in,
 * a /proc/keys to mask, timens_offsets and id-map files, and self/fd/N links
 * to /tmp/victim, where a mount made through the container's
 * /proc/self/fd/N would go.
 */
function fakeProc(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsrunc-fakeproc-'));
  chmodSync(dir, 0o755); // searchable by a user namespace's mapped root
  mkdirSync(join(dir, 'sys/kernel'), { recursive: true });
  writeFileSync(join(dir, 'sys/kernel/shmmax'), 'host file\n');
  writeFileSync(join(dir, 'keys'), 'fake keys\n');
  mkdirSync(join(dir, 'self/fd'), { recursive: true });
  for (let n = 0; n < 64; n++) symlinkSync('/tmp/victim', join(dir, `self/fd/${n}`));
  for (const f of ['timens_offsets', 'oom_score_adj', 'uid_map', 'gid_map', 'setgroups']) writeFileSync(join(dir, 'self', f), 'host file\n');
  return dir;
}

/** A host directory bound at /tmp that holds `p -> /proc` and the victim file. */
function plantDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsrunc-plant-'));
  chmodSync(dir, 0o755);
  symlinkSync('/proc', join(dir, 'p'));
  writeFileSync(join(dir, 'victim'), 'victim\n');
  return dir;
}

const hasTimeNs = existsSync('/proc/self/ns/time');

describe.skipIf(!isRoot)('procfs writes', () => {
  it.each(['after', 'before'])('a bind of a host directory at /proc (%s the proc mount) is refused with runc\'s words; the host directory stays as it was', (where) => {
    const fake = fakeProc();
    const before = snapshotTree(fake);
    const bundle = makeBundle(['true'], (c) => {
      const m = { destination: '/proc', type: 'bind', source: fake, options: ['rbind'] };
      if (where === 'after') c.mounts.push(m);
      else c.mounts.unshift(m);
      c.linux.sysctl = { 'kernel.shmmax': '12345678' };
    });
    const r = rt(root, ['run', '-b', bundle, uid('mounts')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${rootfs}/proc\\" cannot be mounted because it is not of type proc`);
    expect(snapshotTree(fake)).toEqual(before);
  });

  it('below /proc only what lxcfs emulates may be bound (runc\'s list)', () => {
    const fake = fakeProc();
    const r = rt(root, ['run', '-b', makeBundle(['true'], (c) => c.mounts.push({ destination: '/proc/sys', type: 'bind', source: join(fake, 'sys'), options: ['rbind'] })), uid('mounts')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${rootfs}/proc/sys\\" cannot be mounted because it is inside /proc`);
    const ok = rt(root, ['run', '-b', makeBundle(['cat', '/proc/uptime'], (c) => c.mounts.push({ destination: '/proc/uptime', type: 'bind', source: join(fake, 'keys'), options: ['bind'] })), uid('mounts')]);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toBe('fake keys\n');
  });

  it('a bind at a path the image links to /proc is refused too: the destination is resolved in the rootfs first, as runc\'s securejoin does', () => {
    const top = mkdtempSync(join(tmpdir(), 'tsrunc-linkfs-'));
    chmodSync(top, 0o755);
    const fs = join(top, 'rootfs');
    cpSync(rootfs, fs, { recursive: true, verbatimSymlinks: true });
    symlinkSync('/proc', join(fs, 'abs'));
    symlinkSync('../../proc', join(fs, 'rel'));
    expect(resolveInRoot(fs, '/abs')).toBe('/proc');
    expect(resolveInRoot(fs, '/rel/sys')).toBe('/proc/sys');
    expect(resolveInRoot(fs, '/missing/x')).toBe('/missing/x');
    const fake = fakeProc();
    const before = snapshotTree(fake);
    for (const dest of ['/abs', '/rel']) {
      const r = rt(root, ['run', '-b', makeBundle(['true'], (c) => {
        c.root.path = fs;
        c.mounts.push({ destination: dest, type: 'bind', source: fake, options: ['rbind'] });
        c.linux.sysctl = { 'kernel.shmmax': '12345678' };
      }), uid('mounts')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${fs}/proc\\" cannot be mounted because it is not of type proc`);
    }
    expect(snapshotTree(fake)).toEqual(before);
  });

  // The bind reaches /proc through /tmp/p, a symlink in the directory an
  // earlier mount put at /tmp: checkProcMount sees "/tmp/p".
  it.each(['after', 'before'])('a host directory mounted over /proc through a planted symlink (%s the proc mount): the sysctl, oom_score_adj and masks go to the real procfs, the host directories stay as they were', async (where) => {
    const fake = fakeProc();
    const plant = plantDir();
    const before = [snapshotTree(fake), snapshotTree(plant)];
    const id = uid('mounts');
    const bundle = makeBundle(['sleep', '30'], (c) => {
      const ms = [
        { destination: '/tmp', type: 'bind', source: plant, options: ['rbind'] },
        { destination: '/tmp/p', type: 'bind', source: fake, options: ['rbind'] },
      ];
      if (where === 'after') c.mounts.push(...ms);
      else c.mounts.unshift(...ms);
      c.linux.sysctl = { 'kernel.shmmax': '12345678' };
      c.process.oomScoreAdj = 123;
      c.linux.maskedPaths = ['/proc/keys'];
    });
    // run -d: no exec fifo (see the next test for one).
    const r = rt(root, ['run', '-d', '-b', bundle, id]);
    expect(r.code, r.stderr).toBe(0);
    try {
      const pid = state(root, id).pid;
      // From the host, in the container's ipc namespace: the real sysctl.
      expect(execFileSync('nsenter', ['-t', String(pid), '--ipc', 'cat', '/proc/sys/kernel/shmmax'], { encoding: 'utf8' })).toBe('12345678\n');
      expect(readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8')).toBe('123\n');
      // Inside: /proc is the host directory (after) or procfs (before); the
      // mask landed on /proc/keys, not on /tmp/victim.
      const e = rt(root, ['exec', id, 'sh', '-c', 'wc -c < /proc/keys; cat /tmp/victim; cat /proc/sys/kernel/shmmax']);
      expect(e.stderr).toBe('');
      expect(e.stdout).toBe(where === 'after' ? '0\nvictim\nhost file\n' : '0\nvictim\n12345678\n');
    } finally {
      rt(root, ['delete', '-f', id]);
    }
    expect([snapshotTree(fake), snapshotTree(plant)]).toEqual(before);
  });

  it('create refuses a container whose /proc tsrunc-init could not trust to reach its exec fifo; nothing is written', () => {
    const fake = fakeProc();
    const plant = plantDir();
    const before = [snapshotTree(fake), snapshotTree(plant)];
    const id = uid('mounts');
    const bundle = makeBundle(['true'], (c) => c.mounts.push({ destination: '/tmp', type: 'bind', source: plant, options: ['rbind'] }, { destination: '/tmp/p', type: 'bind', source: fake, options: ['rbind'] }));
    const r = rt(root, ['create', '-b', bundle, id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the container's /proc is not procfs");
    expect(rt(root, ['state', id]).code).not.toBe(0);
    expect([snapshotTree(fake), snapshotTree(plant)]).toEqual(before);
  });

  it('the parent writes uid_map and gid_map through procfs; a fake /proc in the container changes nothing', () => {
    const fake = fakeProc();
    const plant = plantDir();
    const before = [snapshotTree(fake), snapshotTree(plant)];
    const id = uid('mounts');
    const bundle = makeBundle(['sleep', '30'], (c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.mounts = c.mounts.filter((m: any) => m.type !== 'sysfs' && m.type !== 'cgroup');
      c.mounts.push({ destination: '/tmp', type: 'bind', source: plant, options: ['rbind'] }, { destination: '/tmp/p', type: 'bind', source: fake, options: ['rbind'] });
    });
    const r = rt(root, ['run', '-d', '-b', bundle, id]);
    expect(r.code, r.stderr).toBe(0);
    try {
      const pid = state(root, id).pid;
      expect(readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split(/\s+/)).toEqual(['0', '100000', '65536']);
      expect(readFileSync(`/proc/${pid}/gid_map`, 'utf8').trim().split(/\s+/)).toEqual(['0', '100000', '65536']);
    } finally {
      rt(root, ['delete', '-f', id]);
    }
    expect([snapshotTree(fake), snapshotTree(plant)]).toEqual(before);
  });

  it.skipIf(!hasTimeNs)('timens_offsets go to the real procfs (time namespaces: this kernel has them)', () => {
    const fake = fakeProc();
    const plant = plantDir();
    const before = [snapshotTree(fake), snapshotTree(plant)];
    const id = uid('mounts');
    const bundle = makeBundle(['sleep', '30'], (c) => {
      c.linux.namespaces.push({ type: 'time' });
      c.linux.timeOffsets = { monotonic: { secs: 86400, nanosecs: 0 } };
      c.mounts.push({ destination: '/tmp', type: 'bind', source: plant, options: ['rbind'] }, { destination: '/tmp/p', type: 'bind', source: fake, options: ['rbind'] });
    });
    const r = rt(root, ['run', '-d', '-b', bundle, id]);
    expect(r.code, r.stderr).toBe(0);
    try {
      const pid = state(root, id).pid;
      expect(readFileSync(`/proc/${pid}/timens_offsets`, 'utf8')).toMatch(/^monotonic\s+86400\s+0$/m);
    } finally {
      rt(root, ['delete', '-f', id]);
    }
    expect([snapshotTree(fake), snapshotTree(plant)]).toEqual(before);
  });
});
