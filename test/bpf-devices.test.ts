// The cgroup v2 device filter: src/cgroups/bpf.ts builds it, the addon
// attaches it. Tried on a cgroup2 directory of this host (the hybrid unified
// mount works for this: device programs need no controller), with a real
// process opening real devices.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { addon } from '../src/addon.ts';
import { deviceFilter } from '../src/cgroups/bpf.ts';
import { DEFAULT_RULES } from '../src/cgroups/devices.ts';
import { cgroupLayout } from '../src/cgroups/hierarchy.ts';
import { isRoot } from './lib/harness.ts';

const v2 = cgroupLayout().hierarchies.find((h) => h.fstype === 'cgroup2')?.mountPoint;

/** Opens each device from a shell moved into `dir`; returns which opens worked. */
function tryOpen(dir: string, devices: string[]): string {
  const script = `echo $$ > ${dir}/cgroup.procs || exit 9; for d in ${devices.join(' ')}; do if (: < $d) 2>/dev/null; then printf "$d:ok "; else printf "$d:denied "; fi; done`;
  const r = spawnSync('sh', ['-c', script], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  return r.stdout.trim();
}

describe.skipIf(!isRoot || !v2)(`cgroup v2 device filter (on ${v2})`, () => {
  it('allows the default devices and denies the rest; a second attach replaces the first', () => {
    const dir = `${v2}/tsrunc-bpf-test-${process.pid}`;
    mkdirSync(dir);
    try {
      const fd = openSync(dir, 'r');
      try {
        addon('attachDeviceFilter')(fd, deviceFilter(DEFAULT_RULES));
        // /dev/null and /dev/zero are default devices; /dev/kmsg (1:11) is not.
        expect(tryOpen(dir, ['/dev/null', '/dev/zero', '/dev/kmsg'])).toBe('/dev/null:ok /dev/zero:ok /dev/kmsg:denied');
        // Now allow everything: if the first program were still attached, kmsg would stay denied.
        addon('attachDeviceFilter')(fd, deviceFilter([{ allow: true, type: 'a', major: -1, minor: -1, access: 'rwm' }]));
        expect(tryOpen(dir, ['/dev/null', '/dev/kmsg'])).toBe('/dev/null:ok /dev/kmsg:ok');
      } finally {
        closeSync(fd);
      }
    } finally {
      if (existsSync(dir)) rmdirSync(dir);
    }
  });

  it('loads while signals keep arriving (the verifier gives up on a pending signal: EAGAIN)', () => {
    const dir = `${v2}/tsrunc-bpf-storm-${process.pid}`;
    mkdirSync(dir);
    const onSignal = () => {};
    process.on('SIGUSR2', onSignal);
    // A signal to this process for as long as it lives, as fast as a shell sends them.
    const storm = spawn('sh', ['-c', `while kill -USR2 ${process.pid} 2>/dev/null; do :; done`], { stdio: 'ignore' });
    const fd = openSync(dir, 'r');
    try {
      const program = deviceFilter(DEFAULT_RULES);
      const failed: string[] = [];
      // With every signal let through, ~85% of these loads failed here.
      for (let i = 0; i < 300; i++)
        try {
          addon('attachDeviceFilter')(fd, program);
        } catch (e) {
          failed.push((e as Error).message);
        }
      expect(failed.length, failed[0]).toBe(0);
    } finally {
      storm.kill('SIGKILL');
      closeSync(fd);
      rmdirSync(dir);
      process.off('SIGUSR2', onSignal);
    }
  });
});
