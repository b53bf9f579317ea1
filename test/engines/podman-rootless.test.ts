// Rootless podman (Debian 12's 4.3): podman run by an unprivileged user, with
// the runtime under test and runc beside it, so that every difference shows.
// Podman runs its runtime as root of a user namespace it makes from the
// user's /etc/subuid and /etc/subgid ranges (newuidmap/newgidmap), with the
// kernel's overlay in that namespace, slirp4netns (or --network none) for the
// network and, on a cgroup v1 host like this one, no cgroups at all (podman
// drops limits with a warning; the runtime runs each container without a
// cgroup of its own). The test user is test/lib/rootless-user.ts's.
//
// Each runtime gets its own storage, run root and $XDG_RUNTIME_DIR; at the
// end podman's pause process (which keeps its user namespace) is stopped, and
// nothing of the user's may be left: no process, no runtime state.
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cgroupLayout } from '../../src/cgroups/hierarchy.ts';
import { ensureUser, runAs, sh, USER, userRuntime, which, type Ran, type Who } from '../lib/rootless-user.ts';
import { IN_ENGINES_SUITE, IS_ROOT, RUNTIME } from './lib/env.ts';

const PODMAN = '/usr/bin/podman';
const IMAGE = 'localhost/tsrunc-busybox:rootless';

function skipWhy(): string | undefined {
  if (!IN_ENGINES_SUITE) return 'engine tests run with `npm run test:engines` (test/engines/vitest.config.ts)';
  if (!IS_ROOT) return 'needs root (to make the test user)';
  for (const b of [PODMAN, '/usr/bin/conmon', '/usr/bin/catatonit'])
    if (!existsSync(b)) return `rootless podman needs ${b} (bash scripts/engines/setup.sh)`;
  for (const t of ['newuidmap', 'newgidmap']) if (!which(t)) return `rootless podman needs ${t} (Debian package uidmap)`;
  return undefined;
}

const reason = skipWhy();
const made = reason ? {} : ensureUser();
const who: Who | undefined = made.who;
const skip = reason ?? made.why;

const runtimes = [RUNTIME, ...(RUNTIME.name === 'runc' || !existsSync('/usr/sbin/runc') ? [] : [{ name: 'runc', path: '/usr/sbin/runc' }])];

/** Processes of the test user (or its subordinate ids) whose command line or environment mentions `text`. */
function userProcesses(text: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n)))
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      if (uid !== who!.uid && uid < 100000) continue; // the user's, or a subordinate id of its namespace
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8');
      if (cmd.includes(text) || env.includes(text)) out.push(`${pid} ${cmd}`);
    } catch {}
  return out;
}

for (const rt of runtimes)
  describe.skipIf(Boolean(skip))(`rootless podman, runtime ${rt.name}`, () => {
    let work = '';
    let xdg = '';
    let global: string[] = [];

    const podman = (args: string[], timeout = 60_000): Ran =>
      runAs(who!, [PODMAN, ...global, ...args], { env: { XDG_RUNTIME_DIR: xdg, CONTAINERS_CONF: join(work, 'containers.conf') }, cwd: work, timeout });

    beforeAll(() => {
      work = mkdtempSync(`/tmp/tsrunc-engines-rootless-${rt.name}-`);
      chmodSync(work, 0o755);
      chownSync(work, who!.uid, who!.gid);
      xdg = join(work, 'xdg');
      mkdirSync(xdg, { mode: 0o700 });
      chownSync(xdg, who!.uid, who!.gid);
      writeFileSync(
        join(work, 'containers.conf'),
        ['[engine]', 'cgroup_manager = "cgroupfs"', 'events_logger = "file"', `events_logfile_path = "${work}/events.log"`, ''].join('\n'),
      );
      global = ['--root', `${work}/storage`, '--runroot', `${xdg}/run`, '--tmpdir', `${xdg}/tmp`, '--storage-driver', 'overlay', '--runtime', userRuntime(who!, rt.path)];
      // The images global-setup makes are root's (a 0700 directory): the user gets a copy.
      const tar = join(work, 'rootfs.tar');
      copyFileSync(inject('engineImages').rootfsTar, tar);
      chownSync(tar, who!.uid, who!.gid);
      const imp = podman(['import', tar, IMAGE], 120_000);
      if (imp.code !== 0) throw new Error(`podman import as ${USER} failed: ${imp.stderr}`);
    }, 180_000);

    afterAll(() => {
      if (!work) return;
      podman(['rm', '--all', '--force', '--time', '0'], 60_000);
      // The pause process keeps podman's user namespace between commands:
      // it, and anything else started with this $XDG_RUNTIME_DIR, goes.
      for (const p of userProcesses(xdg))
        try {
          process.kill(Number(p.split(' ')[0]), 'SIGKILL');
        } catch {}
      // overlay mounts are in podman's mount namespace, gone with it; the storage has subordinate owners
      sh('rm', ['-rf', work]);
      if (existsSync(work)) rmSync(work, { recursive: true, force: true });
    }, 120_000);

    it('run: output, exit status, as root of podman\'s user namespace (--network none)', () => {
      const r = podman(['run', '--rm', '--network', 'none', IMAGE, 'sh', '-c', 'id -u; cat /proc/self/uid_map; echo out; echo err >&2; exit 3']);
      expect(r.code).toBe(3);
      expect(r.stdout).toMatch(/^0\n/);
      // podman's namespace: the user, then its subordinate range
      expect(r.stdout).toMatch(new RegExp(`^\\s*0\\s+${who!.uid}\\s+1\\s*$`, 'm'));
      expect(r.stdout).toMatch(/^\s*1\s+\d+\s+65536\s*$/m);
      expect(r.stdout).toMatch(/^out$/m);
      expect(r.stderr).toMatch(/^err$/m);
    });

    it('run with the default network (slirp4netns)', (ctx) => {
      if (!which('slirp4netns')) ctx.skip('slirp4netns is not installed');
      // slirp4netns opens /dev/net/tun in podman's user namespace. On a fresh
      // VM of this project's kind that open was once refused (EACCES) for runc
      // and tsrunc alike, and never again after; where it is refused, the host
      // offers no slirp4netns network, whatever the runtime.
      const tun = podman(['unshare', 'sh', '-c', 'exec 3<>/dev/net/tun']);
      if (tun.code !== 0) ctx.skip(`/dev/net/tun cannot be opened in podman's user namespace here: ${tun.stderr.trim()}`);
      const r = podman(['run', '--rm', IMAGE, 'cat', '/proc/net/dev']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/tap0:/);
    });

    it('detached run, exec, logs, stop (TERM), rm', async () => {
      const name = `rl-${process.pid}-web`;
      const run = podman(['run', '-d', '--network', 'none', '--name', name, IMAGE, 'sh', '-c', 'echo started; trap "echo bye; exit 0" TERM; while :; do sleep 0.1; done']);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const exec = podman(['exec', name, 'sh', '-c', 'echo in-exec; id -u']);
      expect(exec).toMatchObject({ code: 0, stdout: 'in-exec\n0\n' });
      const top = podman(['top', name]);
      expect(top.code).toBe(0);
      expect(top.stdout).toContain('sleep');
      const stop = podman(['stop', '-t', '10', name]);
      expect(stop.code).toBe(0);
      const logs = podman(['logs', name]);
      expect(logs.stdout).toBe('started\nbye\n');
      const inspect = podman(['inspect', '--format', '{{.State.ExitCode}}', name]);
      expect(inspect.stdout.trim()).toBe('0');
      expect(podman(['rm', name]).code).toBe(0);
      expect(podman(['ps', '-a', '-q']).stdout.trim()).toBe('');
    });

    it('stop of a process that ignores TERM: KILL after the timeout', () => {
      const name = `rl-${process.pid}-stubborn`;
      expect(podman(['run', '-d', '--network', 'none', '--name', name, IMAGE, 'sh', '-c', 'trap "" TERM; while :; do sleep 0.1; done']).code).toBe(0);
      const t = Date.now();
      expect(podman(['stop', '-t', '1', name]).code).toBe(0);
      expect(Date.now() - t).toBeGreaterThanOrEqual(900);
      expect(podman(['inspect', '--format', '{{.State.ExitCode}}', name]).stdout.trim()).toBe('137');
      expect(podman(['rm', name]).code).toBe(0);
    });

    it('limits: on cgroup v1 podman drops them with a warning and the container runs', (ctx) => {
      if (cgroupLayout().unified) ctx.skip('cgroup v2 host: limits need the user\'s systemd session (the systemd driver\'s task)');
      const r = podman(['run', '--rm', '--network', 'none', '--memory', '64m', IMAGE, 'true']);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/Resource limits are not supported and ignored on cgroups V1 rootless systems/);
    });

    it('nothing is left behind: no container, no runtime state, no process but podman\'s pause', () => {
      expect(podman(['ps', '-a', '-q']).stdout.trim()).toBe('');
      const state = join(xdg, rt.name);
      expect(existsSync(state) ? readdirSync(state) : []).toEqual([]);
      const left = userProcesses(xdg).filter((p) => !/catatonit -P/.test(p));
      expect(left).toEqual([]);
    });
  });

describe.runIf(Boolean(skip))('rootless podman', () => {
  it.skip(`skipped: ${skip}`, () => {});
});
