// process.apparmorProfile and exec --apparmor with real AppArmor profiles.
// This host's kernel runs no AppArmor: `npm run test:v2` runs this file in
// the qemu guest, whose Debian kernel does (with the host's apparmor_parser).
//
// The profile must take effect at the exec of the user's program, as with
// runc and crun, not at an earlier exec of tsrunc's: a profile need not let
// the container exec its own entry point, nor tsrunc-init (a memfd).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, isRoot, makeBundle, requires, rt, stateRoot, uid, until } from './lib/harness.ts';

const enabled = (() => {
  try {
    return existsSync('/sys/kernel/security/apparmor') && readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').startsWith('Y');
  } catch {
    return false;
  }
})();
const parser = spawnSync('sh', ['-c', 'command -v apparmor_parser'], { encoding: 'utf8' }).stdout.trim();

// Reads and maps, no exec (no `x` rule, no `file,`): runc and crun run a
// program under it, since the profile attaches at that very exec.
const NOEXEC = 'tsrunc-test-noexec';
// Everything but reading /etc/passwd.
const DENY = 'tsrunc-test-deny';
const PROFILES = `
profile ${NOEXEC} flags=(attach_disconnected,mediate_deleted) {
  /** rm,
  /dev/null w,
  capability,
  signal (receive) peer=unconfined,
}
profile ${DENY} flags=(attach_disconnected,mediate_deleted) {
  file,
  capability,
  signal (receive) peer=unconfined,
  deny /etc/passwd r,
}
`;

describe('AppArmor profiles (needs root, a kernel running AppArmor and apparmor_parser: npm run test:v2)', () => {
  requires(isRoot, 'needs root');
  requires(enabled, 'AppArmor is not enabled on this host (/sys/module/apparmor/parameters/enabled)');
  requires(parser !== '', 'no apparmor_parser on PATH (the apparmor package)');
  let root = '';
  let dir = '';

  beforeAll(() => {
    if (!isRoot || !enabled || !parser) return;
    root = stateRoot();
    dir = mkdtempSync(join(tmpdir(), 'tsrunc-apparmor-'));
    writeFileSync(join(dir, 'profiles'), PROFILES);
    const r = spawnSync(parser, ['-r', join(dir, 'profiles')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });
  afterAll(() => {
    if (!root) return;
    cleanup(root);
    spawnSync(parser, ['-R', join(dir, 'profiles')]);
    rmSync(dir, { recursive: true, force: true });
  });

  const label = 'read x < /proc/self/attr/current; echo "$x"';

  it('run: the program runs under a profile that grants no exec', () => {
    const b = makeBundle(['sh', '-c', label], (c) => (c.process.apparmorProfile = NOEXEC));
    const r = rt(root, ['run', '--bundle', b, uid('aa')]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${NOEXEC} (enforce)\n`);
    expect(r.code).toBe(0);
  });

  it('create, start: tsrunc-init waits unconfined; the program runs confined (a denied read fails)', async () => {
    const id = uid('aa');
    const out = mkdtempSync(join(dir, 'out-'));
    const b = makeBundle(['sh', '-c', `{ ${label}; cat /etc/passwd > /dev/null 2>&1 || echo denied; } > /out/log`], (c) => {
      c.process.apparmorProfile = DENY;
      c.mounts.push({ destination: '/out', type: 'bind', source: out, options: ['rbind', 'rw'] });
    });
    expect(rt(root, ['create', '--bundle', b, id]).code).toBe(0);
    const st = JSON.parse(rt(root, ['state', id]).stdout);
    expect(readFileSync(`/proc/${st.pid}/attr/current`, 'utf8').trim()).toBe('unconfined');
    const r = rt(root, ['start', id]);
    expect(r.code, r.stderr).toBe(0);
    const log = () => (existsSync(join(out, 'log')) ? readFileSync(join(out, 'log'), 'utf8') : '');
    await until(() => log().split('\n').length >= 3, 5000, 'both lines of /out/log');
    expect(log()).toBe(`${DENY} (enforce)\ndenied\n`);
  });

  it('exec --apparmor: the exec\'d program runs under a profile that grants no exec; without the flag, the container\'s own', () => {
    const id = uid('aa');
    const b = makeBundle(['sleep', '100']);
    expect(rt(root, ['run', '-d', '--bundle', b, id], { stdio: ['ignore', 'ignore', 'ignore'] }).code).toBe(0);
    const r = rt(root, ['exec', '--apparmor', NOEXEC, id, 'sh', '-c', label]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${NOEXEC} (enforce)\n`);
    const r2 = rt(root, ['exec', '--apparmor', DENY, id, 'cat', '/etc/passwd']);
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toContain('Permission denied');
    expect(rt(root, ['exec', id, 'sh', '-c', label]).stdout).toBe('unconfined\n');
    expect(rt(root, ['delete', '-f', id]).code).toBe(0);
  });

  it('under a seccomp filter that refuses openat2 (a profile from before Linux 5.6): the same, through openat', () => {
    // Without noNewPrivileges the child loads the filter, so tsrunc-init runs under it.
    const b = makeBundle(['sh', '-c', `${label}; cat /etc/passwd > /dev/null 2>&1 || echo denied`], (c) => {
      c.process.apparmorProfile = DENY;
      c.process.noNewPrivileges = false;
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['openat2'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
    });
    const r = rt(root, ['run', '--bundle', b, uid('aa')]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${DENY} (enforce)\ndenied\n`);
  });

  it('a profile that is not loaded: refused, naming it; nothing is left', () => {
    const id = uid('aa');
    const b = makeBundle(['true'], (c) => (c.process.apparmorProfile = 'tsrunc-test-not-loaded'));
    const r = rt(root, ['run', '--bundle', b, id]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('set AppArmor profile \\"tsrunc-test-not-loaded\\": ENOENT: no profile of that name is loaded');
    expect(rt(root, ['list', '-q']).stdout).not.toContain(id);
    // create + start: tsrunc-init sets it once `start` has come, and tells `start` why it could not.
    const id2 = uid('aa');
    expect(rt(root, ['create', '--bundle', b, id2]).code).toBe(0);
    const s = rt(root, ['start', id2]);
    expect(s.code).not.toBe(0);
    expect(s.stderr).toContain('set AppArmor profile: ENOENT');
    expect(rt(root, ['list', '-q']).stdout).not.toContain(id2);
  });

  it('/proc in the container not a procfs: the label is not written through it', (t) => {
    const noProc = (c: any) => (c.mounts = c.mounts.map((m: any) => (m.destination === '/proc' ? { destination: '/proc', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] } : m)));
    // Linux 5.10 cannot exec tsrunc-init (execveat of its memfd: ENOENT) in a
    // container without procfs at /proc, label or not (6.1 can; runc fails on both).
    const plain = rt(root, ['run', '--bundle', makeBundle(['true'], noProc), uid('aa')]);
    if (plain.code !== 0) t.skip(`a container without procfs at /proc does not run on this kernel at all: ${plain.stderr.trim()}`);
    const b = makeBundle(['true'], (c) => {
      c.process.apparmorProfile = DENY;
      noProc(c);
    });
    const r = rt(root, ['run', '--bundle', b, uid('aa')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('the container has no procfs at /proc');
  });
});
