// Rootless under systemd: an unprivileged user's own systemd manager makes the
// container's scope (--systemd-cgroup over the session bus), so limits apply
// on cgroup v2. `npm run test:systemd` runs this file in the qemu guest of
// scripts/qemu-v2/ (systemd as PID 1, pure cgroup v2); skipped elsewhere.
//
// The user is test/lib/rootless-user.ts's (subuid/subgid ranges). Its manager
// is the distribution's user@UID.service, started by logind for a lingering
// user (`loginctl enable-linger`, test/lib/user-manager.ts), as on a server
// that runs rootless podman: Debian's unit runs it in user-UID.slice with
// Delegate=pids memory cpu, and user-runtime-dir@UID mounts /run/user/UID.
// The slice matters: sd-bus reads the bus owner's uid from its cgroup path
// (user-UID.slice), and runc 1.1 decides from that uid (busctl --user status:
// OwnerUID) that root of podman's user namespace is rootless.
//
// 1. tsrunc and runc run directly by the user: `--systemd-cgroup run` with a
//    memory and a pids limit, the scope under the manager's user.slice, the
//    limits in its files and seen inside, exec in the scope, delete, nothing
//    left. Each command runs in a scope of the user's manager
//    (systemd-run --user --scope), as from a terminal of the user's session:
//    joining the container's cgroup needs write access to the common
//    ancestor's cgroup.procs, which the user has only inside its manager's tree.
// 2. Rootless podman 4.3 with --cgroup-manager systemd (it passes
//    --systemd-cgroup and "user.slice:libpod:<id>", and runs the runtime as
//    root of its user namespace): run -d --memory (on the scope, and inside
//    through exec), logs, stop, rm, nothing left, with tsrunc and with runc.
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupLayout } from '../src/cgroups/hierarchy.ts';
import { isRoot, rootfs, runtime, systemdPid1, until } from './lib/harness.ts';
import { ensureUser, runAs, userRuntime, which, type Ran, type Who } from './lib/rootless-user.ts';
import { startUserManager, stopUserManager, userManagerMissing } from './lib/user-manager.ts';

const PODMAN = '/usr/bin/podman';
const RUNC = '/usr/sbin/runc';
const CG = '/sys/fs/cgroup';
const guest = isRoot && systemdPid1 && cgroupLayout().unified;
const skipWhy = !guest
  ? 'needs root, systemd as PID 1 and cgroup v2 (npm run test:systemd)'
  : !which('newuidmap') || !which('newgidmap')
    ? 'needs newuidmap/newgidmap (Debian package uidmap)'
    : userManagerMissing();
const made = skipWhy ? {} : ensureUser();
const skip = skipWhy ?? made.why;
const who = made.who as Who | undefined;
// From a checkout the user cannot reach (under /root, say): a copy it can.
const tsrunc = who ? userRuntime(who, runtime) : runtime;
const runtimes = [{ name: 'tsrunc', bin: tsrunc }, ...(existsSync(RUNC) ? [{ name: 'runc', bin: RUNC }] : [])];
const T = { timeout: 300_000 };
const MEM = 64 * 1024 * 1024;

let xdg = '';
let managerCg = '';
const userEnv = () => ({ XDG_RUNTIME_DIR: xdg, DBUS_SESSION_BUS_ADDRESS: `unix:path=${xdg}/bus` });
/** argv as the user, in a scope of the user's manager. */
const asUser = (argv: string[], timeout = 120_000): Ran => runAs(who!, ['systemd-run', '--user', '--scope', '--quiet', '--', ...argv], { env: userEnv(), timeout });
/** A user unit's properties (systemctl --user show). */
function showUser(u: string, props: string[]): Record<string, string> {
  const r = runAs(who!, ['systemctl', '--user', 'show', u, '-p', props.join(',')], { env: userEnv(), timeout: 60_000 });
  return Object.fromEntries(r.stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}
const failedUserUnits = () => runAs(who!, ['systemctl', '--user', 'list-units', '--failed', '--all', '--plain', '--no-legend', '--no-pager'], { env: userEnv(), timeout: 60_000 }).stdout;
/** Every cgroup directory under the user manager's whose name contains `text`. */
function cgroupsNamed(text: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return; // a scope that went away meanwhile (systemd-run --scope's)
    }
    for (const e of entries)
      if (e.isDirectory()) {
        if (e.name.includes(text)) out.push(join(d, e.name));
        walk(join(d, e.name));
      }
  };
  walk(`${CG}${managerCg}`);
  return out;
}

describe.skipIf(Boolean(skip))("rootless under systemd: the user's manager over the session bus (npm run test:systemd)", () => {
  beforeAll(async () => {
    const m = await startUserManager(who!.uid);
    xdg = m.xdg;
    managerCg = m.cgroup;
    expect(readFileSync(`${CG}${managerCg}/cgroup.subtree_control`, 'utf8').split(/\s+/)).toEqual(expect.arrayContaining(['memory', 'pids']));
  }, 120_000);
  // The manager's stop kills what is left in its tree (podman's pause process among it).
  afterAll(() => (xdg ? stopUserManager(who!.uid) : undefined), 150_000);

  it('features says systemdUser: true', () => {
    const r = runAs(who!, [tsrunc, 'features'], { env: userEnv() });
    expect(JSON.parse(r.stdout).linux.cgroup).toMatchObject({ systemd: true, systemdUser: true });
  });

  describe.each(runtimes)('$name run by the user', ({ name, bin }) => {
    let dir = '';
    const id = `sdrl-${name}-${process.pid}`;
    const scope = `tsrunc-sdrl-${name}-${process.pid}.scope`;
    // a state root of its own: podman's runs below share $XDG_RUNTIME_DIR/<runtime>
    const root = () => join(xdg, `direct-${name}`);
    const rt = (args: string[]) => asUser([bin, '--root', root(), '--systemd-cgroup', ...args]);
    beforeAll(() => {
      dir = join(xdg, `bundle-${name}`);
      mkdirSync(dir);
      chownSync(dir, who!.uid, who!.gid);
      const spec = runAs(who!, [bin, 'spec', '--rootless', '--bundle', dir], { env: userEnv() });
      expect(spec.code, spec.stderr).toBe(0);
    });
    afterAll(() => {
      if (existsSync(root())) rt(['delete', '--force', id]);
    }, 120_000);
    const configure = (args: string[]) => {
      const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      c.root.path = rootfs;
      c.process.terminal = false;
      c.process.args = args;
      c.linux.resources = { memory: { limit: MEM }, pids: { limit: 50 } };
      // the default cgroupsPath's unit would be runc-<id>.scope for runc: one name for both
      c.linux.cgroupsPath = `user.slice:tsrunc:sdrl-${name}-${process.pid}`;
      writeFileSync(join(dir, 'config.json'), JSON.stringify(c, null, 2));
      chownSync(join(dir, 'config.json'), who!.uid, who!.gid);
    };

    it('run (foreground): the scope of the user manager, the limits inside', T, () => {
      configure(['sh', '-c', 'cat /proc/self/cgroup /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; id -u']);
      const r = rt(['run', '-b', dir, id]);
      expect(r.stderr.replace(/.*skipping device .*\n/g, '')).toBe('');
      expect(r.code).toBe(0);
      // spec --rootless makes a cgroup namespace: the scope is its root
      expect(r.stdout).toBe(`0::/\n${MEM}\n50\n0\n`);
      expect(cgroupsNamed(scope)).toEqual([]);
      expect(failedUserUnits()).toBe('');
    });

    it('run -d, the scope and its files, exec in it, kill, delete: nothing left', T, async () => {
      configure(['sleep', '1000']);
      const r = rt(['run', '-d', '-b', dir, id]);
      expect(r.code, r.stderr).toBe(0);
      const sdir = `${CG}${managerCg}/user.slice/${scope}`;
      expect(cgroupsNamed(scope)).toEqual([sdir]);
      expect(readFileSync(`${sdir}/memory.max`, 'utf8').trim()).toBe(String(MEM));
      expect(readFileSync(`${sdir}/pids.max`, 'utf8').trim()).toBe('50');
      const props = showUser(scope, ['ControlGroup', 'Slice', 'Delegate', 'MemoryMax', 'TasksMax', 'ActiveState']);
      expect(props).toMatchObject({ ControlGroup: `${managerCg}/user.slice/${scope}`, Slice: 'user.slice', Delegate: 'yes', MemoryMax: String(MEM), TasksMax: '50', ActiveState: 'active' });
      const pid = JSON.parse(rt(['state', id]).stdout).pid;
      expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim()).toBe(`0::${managerCg}/user.slice/${scope}`);
      const ex = rt(['exec', id, 'sh', '-c', 'cat /proc/self/cgroup /sys/fs/cgroup/memory.max']);
      expect(ex.code, ex.stderr).toBe(0);
      expect(ex.stdout).toBe(`0::/\n${MEM}\n`);
      expect(rt(['kill', id, 'KILL']).code).toBe(0);
      await until(() => JSON.parse(rt(['state', id]).stdout).status === 'stopped', 60_000, 'stopped');
      const del = rt(['delete', id]);
      expect(del.code, del.stderr).toBe(0);
      expect(cgroupsNamed(scope)).toEqual([]);
      expect(failedUserUnits()).toBe('');
      expect(readdirSync(root())).toEqual([]);
    });
  });

  describe.skipIf(!existsSync(PODMAN))('rootless podman --cgroup-manager systemd', () => {
    const P = (bin: string, args: string[], timeout = 240_000) =>
      runAs(
        who!,
        [PODMAN, '--root', `${xdg}/pstore`, '--runroot', `${xdg}/prun`, '--tmpdir', `${xdg}/ptmp`, '--storage-driver', 'vfs', '--cgroup-manager', 'systemd', '--events-backend', 'file', '--runtime', bin, ...args],
        { env: userEnv(), timeout },
      );
    const ok = (r: Ran, what: string) => {
      if (r.code !== 0) throw new Error(`podman ${what}: exit ${r.code}: ${r.stderr}`);
      return r.stdout;
    };
    const IMAGE = 'localhost/sdrl-busybox:test';
    beforeAll(() => {
      // vfs on the user's /run/user tmpfs: the guest's / is an overlay, and tmpfs takes no user xattrs (overlay in a user namespace) on 6.1
      const tar = join(xdg, 'rootfs.tar');
      expect(spawnSync('tar', ['-C', rootfs, '--exclude=./out', '-cf', tar, '.']).status).toBe(0);
      chownSync(tar, who!.uid, who!.gid);
      ok(P(tsrunc, ['import', tar, IMAGE]), 'import');
    }, 300_000);
    afterAll(() => {
      if (xdg) P(tsrunc, ['rm', '-af', '-t', '0']);
    }, 300_000);

    describe.each(runtimes)('$name', ({ name, bin }) => {
      it('run -d --memory: the limit on the scope of the user manager and inside (exec); logs, stop, rm; nothing left', T, () => {
        const cname = `sdrl-${name}-${process.pid}`;
        const cid = ok(P(bin, ['run', '-d', '--name', cname, '--network', 'none', '--memory', '64m', IMAGE, 'sh', '-c', 'echo started; trap "echo bye; exit 0" TERM; while :; do sleep 0.1; done']), 'run -d').trim();
        const scope = `libpod-${cid}.scope`;
        const sdir = `${CG}${managerCg}/user.slice/${scope}`;
        expect(existsSync(sdir)).toBe(true);
        expect(readFileSync(`${sdir}/memory.max`, 'utf8').trim()).toBe(String(MEM));
        expect(showUser(scope, ['ControlGroup', 'MemoryMax', 'Delegate'])).toMatchObject({ ControlGroup: `${managerCg}/user.slice/${scope}`, MemoryMax: String(MEM), Delegate: 'yes' });
        expect(ok(P(bin, ['exec', cname, 'sh', '-c', 'cat /proc/self/cgroup /sys/fs/cgroup/memory.max']), 'exec')).toBe(`0::/\n${MEM}\n`);
        ok(P(bin, ['stop', '-t', '10', cname]), 'stop');
        expect(ok(P(bin, ['logs', cname]), 'logs')).toBe('started\nbye\n');
        expect(ok(P(bin, ['inspect', '--format', '{{.State.ExitCode}}', cname]), 'inspect').trim()).toBe('0');
        ok(P(bin, ['rm', cname]), 'rm');

        // nothing left: no container, no scope (nor conmon's), no failed unit, no runtime state
        expect(ok(P(bin, ['ps', '-a', '-q']), 'ps').trim()).toBe('');
        expect(cgroupsNamed('libpod-')).toEqual([]);
        expect(failedUserUnits()).toBe('');
        const state = join(xdg, name);
        expect(existsSync(state) ? readdirSync(state) : []).toEqual([]);
      });
    });
  });
});

// Where it cannot run, one skipped test says why.
if (skip)
  describe('rootless under systemd', () => {
    it.skip(`skipped: ${skip}`, () => {});
  });
