// The addon's functions are made on demand, by name (addon/src/functions.h,
// src/addon.ts): a name the sources ask for that no table of the addon holds
// would fail only when that path runs. Every name asked for in src/ is here.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeFunction } from '../src/addon.ts';
import { isRoot, repo, requires } from './lib/harness.ts';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

describe('addon: functions by name', () => {
  it('every function src/ asks the addon for (addon, fs and sd accessors) is one it makes; another name is refused', () => {
    const names = new Set<string>();
    for (const file of sources(join(repo, 'src')))
      for (const m of readFileSync(file, 'utf8').matchAll(/\b(?:addon|fs|sd)\('(\w+)'\)/g)) names.add(m[1]);
    expect(names.size).toBeGreaterThan(40);
    for (const name of names) expect(typeof nativeFunction(name), name).toBe('function');
    expect(nativeFunction('readFile')).toBe(nativeFunction('readFile'));
    expect(() => nativeFunction('toString')).toThrow("tsrunc's addon has no function toString");
  });
});

describe('addon: pidfds', () => {
  // An init that died and was reaped can have its pid taken at once by a
  // thread of another process; pidfd_open then says EINVAL (6.1) or ENOENT
  // (6.18), not ESRCH (delete -f failed on it in the v2 guest:
  // "pidfd_open: Invalid argument").
  it('pidfdWait: a pid that names a thread, not a process, is a process gone', () => {
    const tid = readdirSync('/proc/self/task').map(Number).find((t) => t !== process.pid);
    expect(tid, 'a thread of this process besides its main one').toBeDefined();
    const pidfdWait = nativeFunction('pidfdWait') as (pid: number, timeoutMs: number) => boolean;
    expect(pidfdWait(tid!, 0)).toBe(true);
    // This process itself is no process gone.
    expect(pidfdWait(process.pid, 0)).toBe(false);
  });
});

describe('addon: a pidfd keeps naming its process after the pid is taken', () => {
  // kill and delete signal the container's init through a pidfd opened
  // before they check it is the init (src/container/init-pidfd.ts). What
  // that rests on, shown with a pid really taken again: in a pid namespace
  // of its own (unshare), a script kills and reaps a child, makes the next
  // pid that child's (ns_last_pid), and starts another child there.
  requires(isRoot, 'needs root (a pid namespace, ns_last_pid)');
  // ns_last_pid is there only with CONFIG_CHECKPOINT_RESTORE; unshare is util-linux's.
  requires(existsSync('/proc/sys/kernel/ns_last_pid'), 'this kernel has no /proc/sys/kernel/ns_last_pid (CONFIG_CHECKPOINT_RESTORE)');
  requires(spawnSync('unshare', ['--version']).status === 0, 'no unshare(1) on PATH (util-linux)');
  it('pidfdSignal reaches no process that took the pid since; kill(2) by pid would', () => {
    const script = `
      const { spawn } = require('node:child_process');
      const { writeFileSync } = require('node:fs');
      const m = { exports: {} };
      process.dlopen(m, ${JSON.stringify(join(repo, `prebuilds/${process.platform}-${process.arch}/tsrunc.napi.node`))});
      const fn = m.exports.fn;
      const first = spawn('sleep', ['100']);
      const pidfd = fn('pidfdOpen')(first.pid);
      first.kill('SIGKILL');
      first.on('exit', () => {
        writeFileSync('/proc/sys/kernel/ns_last_pid', String(first.pid - 1));
        const second = spawn('sleep', ['100']);
        let secondAlive = false;
        try { process.kill(second.pid, 0); secondAlive = true; } catch {}
        const out = {
          reused: second.pid === first.pid,
          opened: pidfd >= 0,
          signalled: fn('pidfdSignal')(pidfd, 9),
          gone: fn('pidfdPoll')(pidfd, 0),
          secondAlive,
          gonePid: fn('pidfdOpen')(99999),
        };
        second.kill('SIGKILL');
        console.log(JSON.stringify(out));
      });`;
    const r = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toEqual({ reused: true, opened: true, signalled: false, gone: true, secondAlive: true, gonePid: -1 });
  });
});
