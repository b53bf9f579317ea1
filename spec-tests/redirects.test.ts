// What a config can point elsewhere (issue 19 §5): a mount namespace joined
// by path, and mounts that put a host directory where the container's /proc
// is. Through the runc command line only, so any runtime can be checked:
// TSRUNC_BIN=/usr/sbin/runc vitest run spec-tests/redirects.test.ts
//
// A runtime that writes a sysctl (or anything else) through the container's
// /proc writes wherever that mount leads: a host directory (runc's
// CVE-2019-19921, CVE-2025-52881). It may refuse such a config, or write to
// the real procfs; it must never change the host directory.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRoot, nsHolder, nsOf, rootfs, snapshotTree, specContext, uid } from './lib/probe.ts';

const ctx = specContext();
const { makeBundle, bundleWith, outDir, create, run, del, stateOf } = ctx;

/** A host directory laid out like the part of procfs a runtime writes to. */
function fakeProc(): string {
  const dir = mkdtempSync(join(ctx.scratch, 'fakeproc-'));
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'sys/kernel'), { recursive: true });
  writeFileSync(join(dir, 'sys/kernel/shmmni'), 'host file\n');
  mkdirSync(join(dir, 'self/fd'), { recursive: true });
  for (let n = 0; n < 64; n++) symlinkSync('/tmp/victim', join(dir, `self/fd/${n}`));
  for (const f of ['oom_score_adj', 'setgroups', 'uid_map', 'gid_map']) writeFileSync(join(dir, 'self', f), 'host file\n');
  return dir;
}

/** Bound at /tmp: `p -> /proc`, so that a later mount at /tmp/p lands on /proc. */
function plantDir(): string {
  const dir = mkdtempSync(join(ctx.scratch, 'plant-'));
  chmodSync(dir, 0o755);
  symlinkSync('/proc', join(dir, 'p'));
  writeFileSync(join(dir, 'victim'), 'victim\n');
  return dir;
}

describe.skipIf(!isRoot)('redirects', () => {
  it('config-linux.md Namespaces: path: a mount namespace joined by path gets the container\'s root and mounts (the process sees root.path and the config\'s mounts, not the namespace\'s /) [definition]', async () => {
    const holder = await nsHolder(ctx, ['--mount']);
    const out = outDir();
    const r = run(bundleWith(out, ['sh', '-c', `readlink /proc/self/ns/mnt > /out/ns; ls /bin/busybox > /out/ls; test -e ${rootfs}/bin || echo unreachable > /out/host`], (c) => {
      c.linux.namespaces = c.linux.namespaces.map((n: any) => (n.type === 'mount' ? { type: 'mount', path: `/proc/${holder}/ns/mnt` } : n));
    }));
    expect(r.code, r.stderr).toBe(0);
    expect(out.read('ns')?.trim()).toBe(nsOf(holder, 'mnt'));
    expect(out.read('ls')).toBe('/bin/busybox\n');
    expect(out.read('host')).toBe('unreachable\n');
  });

  const ways: Record<string, (fake: string, plant: string) => any[]> = {
    'a bind at /proc': (fake) => [{ destination: '/proc', type: 'bind', source: fake, options: ['rbind'] }],
    'a bind reaching /proc through a symlink an earlier mount planted': (fake, plant) => [
      { destination: '/tmp', type: 'bind', source: plant, options: ['rbind'] },
      { destination: '/tmp/p', type: 'bind', source: fake, options: ['rbind'] },
    ],
  };
  it.each(Object.keys(ways))('config-linux.md Sysctl: a sysctl is set in the container\'s namespace, never written through what a mount put over /proc (%s, after the proc mount): the runtime refuses the config or writes the real procfs, and the host directory is unchanged [definition]', (way) => {
    const fake = fakeProc();
    const plant = plantDir();
    const before = [snapshotTree(fake), snapshotTree(plant)];
    const id = uid('spec');
    const bundle = makeBundle(['sleep', '30'], (c) => {
      c.mounts.push(...ways[way](fake, plant));
      c.linux.sysctl = { 'kernel.shmmni': '1234' };
      c.process.oomScoreAdj = 123;
    });
    const r = create(id, bundle);
    try {
      if (r.code === 0) {
        const pid = stateOf(id).pid;
        expect(execFileSync('nsenter', ['-t', String(pid), '--ipc', 'cat', '/proc/sys/kernel/shmmni'], { encoding: 'utf8' })).toBe('1234\n');
        expect(readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8')).toBe('123\n');
      }
    } finally {
      del(id);
    }
    expect([snapshotTree(fake), snapshotTree(plant)]).toEqual(before);
  });
});
