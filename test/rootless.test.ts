// Rootless: tsrunc run by an unprivileged user, with runc beside it so that
// every difference shows. The test (as root) makes a user with /etc/subuid
// and /etc/subgid ranges, then runs each runtime as that user (setpriv), with
// $XDG_RUNTIME_DIR a private directory of that user's.
//
// Skipped, with the reason, where the host cannot: not root, no useradd or
// setpriv, unprivileged user namespaces turned off, or a runtime the user
// cannot run (a checkout under a directory others cannot enter).
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupLayout } from '../src/cgroups/hierarchy.ts';
import { cgroupDenied, rootlessRecord } from '../src/cgroups/rootless.ts';
import { cleanup, makeBundle, rootfs, rt, runtime, stateRoot, uid as newId, until } from './lib/harness.ts';
import { ensureUser, isRoot, runAs, sh, USER, runtimeParts, userRuntime, which, type Ran } from './lib/rootless-user.ts';

const made = ensureUser();
const who = made.who;
let xdg = '';
let work = '';

/** Runs argv as the test user, with $XDG_RUNTIME_DIR its private directory (env may change it). */
function asUser(argv: string[], env: Record<string, string | undefined> = {}, timeout = 20_000): Ran {
  return runAs(who!, argv, { env: { XDG_RUNTIME_DIR: xdg, ...env }, cwd: work, timeout });
}

/** Why the test user cannot run this host's runtime, if it cannot. */
function unusable(): string | undefined {
  if (!who) return made.why;
  const userns = asUser(['unshare', '--user', '--map-root-user', 'true']);
  if (userns.code !== 0) return `unprivileged user namespaces are not allowed here: ${userns.stderr.trim()}`;
  // What the build executes and reads (runtimeParts: the Bun executable and
  // prebuilds/, or the Node launcher, dist/node, dist/tsrunc.cjs and prebuilds/).
  const parts = runtimeParts(runtimes[0].bin);
  for (const p of parts?.exec ?? [runtimes[0].bin]) {
    const r = asUser(['test', '-x', p]);
    if (r.code !== 0) return `${USER} cannot execute ${p} (a directory above it is closed to others?)`;
  }
  for (const p of parts?.read ?? []) if (asUser(['test', '-r', p]).code !== 0) return `${USER} cannot read ${p}`;
  // The busybox rootfs is used in place (read-only in these configs): it must be reachable.
  if (asUser(['test', '-x', join(rootfs, 'bin/busybox')]).code !== 0) return `${USER} cannot execute ${join(rootfs, 'bin/busybox')}`;
  return undefined;
}

const RUNC = which('runc');
const runtimes: Array<{ name: string; bin: string }> = [{ name: 'tsrunc', bin: runtime }, ...(RUNC ? [{ name: 'runc', bin: RUNC }] : [])];
let skipWhy: string | undefined = made.why;
/** the user's hard RLIMIT_NOFILE (a higher one is refused it) */
let nofileHard = 0;

beforeAll(() => {
  if (!who) return;
  work = mkdtempSync(join(tmpdir(), 'tsrunc-rootless-'));
  chmodSync(work, 0o755);
  xdg = join(work, 'xdg');
  mkdirSync(xdg, { mode: 0o700 });
  chownSync(xdg, who.uid, who.gid);
  // From a checkout the user cannot reach (under /root, say): a copy it can.
  runtimes[0].bin = userRuntime(who, runtime);
  skipWhy = unusable();
  if (!skipWhy) nofileHard = Number(asUser(['sh', '-c', 'ulimit -Hn']).stdout.trim()) || 1 << 20;
});

afterAll(() => {
  if (!who || !work) return;
  for (const r of runtimes) {
    const root = join(xdg, r.name);
    if (!existsSync(root)) continue;
    const ids = asUser([r.bin, 'list', '-q']).stdout.split('\n').filter(Boolean);
    for (const id of ids) asUser([r.bin, 'delete', '--force', id]);
  }
  rmSync(work, { recursive: true, force: true });
});

/**
 * A bundle the user owns: `spec --rootless` of that runtime (as the user),
 * with the busybox rootfs at an absolute path (runc wants one that is no
 * symlink), no terminal, `args`, and whatever mutate changes.
 */
function bundle(rtBin: string, args: string[], mutate?: (c: any) => void): string {
  const dir = mkdtempSync(join(work, 'bundle-'));
  chownSync(dir, who!.uid, who!.gid);
  const r = asUser([rtBin, 'spec', '--rootless', '--bundle', dir]);
  if (r.code !== 0) throw new Error(`spec --rootless failed: ${r.stderr}`);
  const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  c.root.path = rootfs;
  c.process.terminal = false;
  c.process.args = args;
  mutate?.(c);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(c, null, 2));
  return dir;
}

// Each test runs several commands as the user, per runtime: in the v2 guest
// (software-emulated) that takes longer than vitest's default.
const it_ = (name: string, fn: () => unknown, timeout = 120_000) =>
  it(name, (ctx) => {
    if (skipWhy) ctx.skip(skipWhy);
    return fn();
  }, timeout);

describe.skipIf(!isRoot)('rootless: an unprivileged user', () => {
  it_('the test user exists and can run the runtimes (else: why not)', () => {
    expect(who).toBeDefined();
    expect(statSync(xdg).uid).toBe(who!.uid);
  });

  for (const r of runtimes) {
    describe(r.name, () => {
      it_('spec --rootless: a user namespace mapping the caller, no network namespace, /sys bound', () => {
        const dir = bundle(r.bin, ['true']);
        const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
        const types = c.linux.namespaces.map((n: any) => n.type);
        expect(types).toContain('user');
        expect(types).not.toContain('network');
        expect(c.linux.uidMappings).toEqual([{ containerID: 0, hostID: who!.uid, size: 1 }]);
        expect(c.linux.gidMappings).toEqual([{ containerID: 0, hostID: who!.gid, size: 1 }]);
        expect(c.mounts.find((m: any) => m.destination === '/sys')).toMatchObject({ type: 'none', source: '/sys', options: expect.arrayContaining(['rbind', 'ro']) });
        expect(c.linux.resources).toBeUndefined();
      });

      it_('run: the process is root of its user namespace, which maps the caller, setgroups denied; exit status', () => {
        const dir = bundle(r.bin, ['sh', '-c', 'id; cat /proc/self/uid_map /proc/self/setgroups; exit 3']);
        const id = newId('rootless');
        const res = asUser([r.bin, 'run', '--bundle', dir, id]);
        expect(res.stderr).toBe('');
        expect(res.code).toBe(3);
        expect(res.stdout).toMatch(/^uid=0\(root\) gid=0\(root\)/);
        expect(res.stdout).toMatch(new RegExp(`^\\s*0\\s+${who!.uid}\\s+1\\s*$`, 'm'));
        expect(res.stdout).toMatch(/^deny$/m);
        // state lives under $XDG_RUNTIME_DIR/<runtime>, sticky (XDG: not pruned), the user's
        const st = statSync(join(xdg, r.name));
        expect(st.uid).toBe(who!.uid);
        expect(st.mode & 0o7777).toBe(0o1700);
      });

      it_('create, start, exec, ps, list, state, kill, delete', async () => {
        const dir = bundle(r.bin, ['sleep', '60']);
        const id = newId('rootless');
        const create = asUser([r.bin, 'create', '--bundle', dir, id]);
        expect(create.stderr).toBe('');
        expect(create.code).toBe(0);
        const st = JSON.parse(asUser([r.bin, 'state', id]).stdout);
        expect(st).toMatchObject({ id, status: 'created' });
        // init runs as the user on the host
        expect(statSync(`/proc/${st.pid}`).uid).toBe(who!.uid);
        expect(asUser([r.bin, 'start', id])).toMatchObject({ code: 0, stderr: '' });
        const exec = asUser([r.bin, 'exec', id, 'sh', '-c', 'id -u; echo $$']);
        expect(exec.stderr).toBe('');
        expect(exec.code).toBe(0);
        expect(exec.stdout.split('\n')[0]).toBe('0');
        // a user the container's namespace does not map
        const unmapped = asUser([r.bin, 'exec', '--user', '5000', id, 'true']);
        expect(unmapped.code).not.toBe(0);
        expect(unmapped.stderr).toMatch(r.name === 'runc' ? /unmapped user|invalid argument/ : /cannot set uid to unmapped user in user namespace \(uid 5000\)/);
        const ps = asUser([r.bin, 'ps', '--format', 'json', id]);
        if (r.name === 'runc') {
          // runc 1.1 reads the pids from the container's cgroup, which it has none of.
          expect(ps.code).not.toBe(0);
          expect(ps.stderr).toMatch(/unable to get all container pids/);
        } else {
          expect(ps.stderr).toBe('');
          expect(JSON.parse(ps.stdout)).toContain(st.pid);
        }
        const list = asUser([r.bin, 'list']);
        expect(list.code).toBe(0);
        expect(list.stdout).toMatch(new RegExp(`^${id}\\s+${st.pid}\\s+running\\s+${dir}\\s+\\S+\\s+${USER}$`, 'm'));
        // events: runc's all-zero stats, for a container without a cgroup
        const ev = asUser([r.bin, 'events', '--stats', id]);
        expect(ev.code).toBe(0);
        expect(JSON.parse(ev.stdout)).toMatchObject({ type: 'stats', id, data: { memory: { usage: { limit: 0 } }, cpu: { usage: { kernel: 0, user: 0 } } } });
        // no freezer of its own: runc's error (runc 1.1 on v2 looks for the cgroup it never made)
        const pause = asUser([r.bin, 'pause', id]);
        expect(pause.code).toBe(1);
        expect(pause.stderr).toMatch(r.name === 'runc' && cgroupLayout().unified ? /freezer not supported: .*cgroup\.freeze: no such file or directory/ : /cannot toggle freezer: cgroups not configured for container/);
        const killAll = asUser([r.bin, 'kill', '--all', id, 'KILL']);
        if (r.name === 'runc') expect(killAll.code).not.toBe(0); // its pids come from the cgroup too
        else expect(killAll).toMatchObject({ code: 0, stderr: '' });
        asUser([r.bin, 'kill', id, 'KILL']);
        await until(() => JSON.parse(asUser([r.bin, 'state', id]).stdout).status === 'stopped', 5000, 'stopped');
        expect(asUser([r.bin, 'delete', id])).toMatchObject({ code: 0, stderr: '' });
        expect(asUser([r.bin, 'list', '-q']).stdout).not.toContain(id);
      });

      it_('the cgroup mount shows the cgroup it is in: the caller\'s, as it has none of its own', () => {
        const unified = cgroupLayout().unified;
        const file = unified ? '/sys/fs/cgroup/cgroup.procs' : '/sys/fs/cgroup/memory/memory.limit_in_bytes';
        const dir = bundle(r.bin, ['sh', '-c', `test -e ${file} && echo present`]);
        const res = asUser([r.bin, 'run', '--bundle', dir, newId('rootless')]);
        // runc 1.1.5 on v2 mounts a cgroup2 there that shows no cgroup.procs
        if (r.name === 'runc' && unified) return;
        expect(res.stderr.replace(/.*unable to get oom kill count.*\n/, '')).toBe('');
        expect(res).toMatchObject({ code: 0, stdout: 'present\n' });
      });

      it_('device nodes are the host\'s, bound (no mknod in a user namespace)', () => {
        const dir = bundle(r.bin, ['sh', '-c', 'grep " /dev/null " /proc/self/mountinfo; echo x > /dev/null && echo wrote']);
        const res = asUser([r.bin, 'run', '--bundle', dir, newId('rootless')]);
        expect(res.stderr).toBe('');
        expect(res.code).toBe(0);
        expect(res.stdout).toMatch(/ \/dev\/null /);
        expect(res.stdout).toMatch(/^wrote$/m);
      });

      it_('a bind remount keeps the source mount\'s locked flags (nosuid, nodev, noexec) and errors name the mount', () => {
        // A source on a mount with those flags: in a user namespace the
        // kernel refuses a remount that would clear them.
        const src = mkdtempSync(join(work, 'locked-'));
        const mnt = sh('mount', ['-t', 'tmpfs', '-o', 'nosuid,nodev,noexec,mode=0755', 'tsrunc-rootless', src]);
        if (mnt.code !== 0) throw new Error(`mount tmpfs on ${src}: ${mnt.out}`);
        try {
          chownSync(src, who!.uid, who!.gid);
          const dir = bundle(r.bin, ['sh', '-c', 'grep " /tmp " /proc/self/mountinfo'], (c) => {
            c.mounts.push({ destination: '/tmp', type: 'bind', source: src, options: ['rbind', 'ro'] });
          });
          const res = asUser([r.bin, 'run', '--bundle', dir, newId('rootless')]);
          if (r.name === 'runc') {
            // runc 1.1.5 remounts with the config's flags only: EPERM.
            expect(res.code).not.toBe(0);
            expect(res.stderr).toMatch(/to rootfs at \\?"\/tmp\\?".*operation not permitted/);
          } else {
            expect(res.stderr).toBe('');
            expect(res.code).toBe(0);
            expect(res.stdout).toMatch(/ \/tmp ro,nosuid,nodev,noexec[ ,]/);
          }
          // a source that is not there: the error names it
          const bad = bundle(r.bin, ['true'], (c) => c.mounts.push({ destination: '/tmp', type: 'bind', source: join(work, 'missing'), options: ['rbind'] }));
          const err = asUser([r.bin, 'run', '--bundle', bad, newId('rootless')]);
          expect(err.code).not.toBe(0);
          expect(err.stderr).toContain(join(work, 'missing'));
        } finally {
          sh('umount', [src]);
        }
      });

      it_('sysfs without a network namespace: tsrunc binds the host\'s /sys; runc 1.1.5 fails', () => {
        const dir = bundle(r.bin, ['sh', '-c', 'grep " /sys " /proc/self/mountinfo'], (c) => {
          const i = c.mounts.findIndex((m: any) => m.destination === '/sys');
          c.mounts[i] = { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] };
        });
        const res = asUser([r.bin, 'run', '--bundle', dir, newId('rootless')]);
        if (r.name === 'runc') {
          expect(res.code).not.toBe(0);
          expect(res.stderr).toMatch(/sysfs.*operation not permitted/);
          return;
        }
        expect(res.stderr).toBe('');
        expect(res.code).toBe(0);
        expect(res.stdout).toMatch(/ \/sys ro,nosuid,nodev,noexec\S* .* sysfs /);
      });

      it_('newuidmap/newgidmap: ranges granted by /etc/subuid and /etc/subgid map; others are refused', () => {
        if (!which('newuidmap') || !which('newgidmap')) return; // said below, in the refusal test
        const sub = (file: string) => {
          const f = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${USER}:`))!.split(':');
          return Number(f[1]);
        };
        const [su, sg] = [sub('/etc/subuid'), sub('/etc/subgid')];
        const maps = (c: any, extra: number) => {
          c.linux.uidMappings = [{ containerID: 0, hostID: who!.uid, size: 1 }, { containerID: 1, hostID: su + extra, size: 1000 }];
          c.linux.gidMappings = [{ containerID: 0, hostID: who!.gid, size: 1 }, { containerID: 1, hostID: sg + extra, size: 1000 }];
        };
        const dir = bundle(r.bin, ['sh', '-c', 'cat /proc/self/uid_map /proc/self/setgroups; id'], (c) => {
          maps(c, 0);
          c.process.user = { uid: 100, gid: 100, additionalGids: [200] };
        });
        const ok = asUser([r.bin, 'run', '--bundle', dir, newId('rootless')]);
        if (r.name === 'runc') {
          // runc 1.1 refuses additional groups to any non-root caller
          expect(ok.code).not.toBe(0);
          expect(ok.stderr).toMatch(/cannot set any additional groups in a rootless container/);
        } else {
          expect(ok.stderr).toBe('');
          expect(ok.code).toBe(0);
          expect(ok.stdout).toMatch(new RegExp(`^\\s*1\\s+${su}\\s+1000\\s*$`, 'm'));
          expect(ok.stdout).toMatch(/^allow$/m);
          expect(ok.stdout).toMatch(/uid=100 gid=100 groups=200$/m);
        }
        // a range beyond what /etc/subuid grants
        const bad = bundle(r.bin, ['true'], (c) => maps(c, 65536));
        const res = asUser([r.bin, 'run', '--bundle', bad, newId('rootless')]);
        expect(res.code).not.toBe(0);
        expect(res.stderr).toMatch(/newuidmap.*(not allowed|failed)|uid_map/);
      });
    });
  }

  // What a non-root caller cannot have: each refused with a clear error, and
  // what runc says beside it. A row's runc value is a regex its stderr must
  // match (null: runc runs it).
  const refusals: Array<{ name: string; mutate: (c: any) => void; tsrunc: RegExp; runc: RegExp | null; globals?: string[] }> = [
    {
      name: 'no user namespace',
      mutate: (c) => {
        c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'user');
        delete c.linux.uidMappings;
        delete c.linux.gidMappings;
      },
      tsrunc: /rootless container requires user namespaces/,
      runc: /rootless container requires user namespaces/,
    },
    {
      name: 'a memory limit where no cgroup can be made',
      mutate: (c) => (c.linux.resources = { memory: { limit: 64 << 20 } }),
      tsrunc: /cannot set memory limit: container could not join or create cgroup: cannot create \/sys\/fs\/cgroup\/\S+ .*permission denied.*delegate a cgroup/,
      // v1; then v2's words
      runc: /cannot set memory limit: container could not join or create cgroup|rootless needs no limits \+ no cgrouppath when no permission is granted for cgroups: mkdir .*: permission denied/,
    },
    {
      name: 'a pids limit where no cgroup can be made',
      mutate: (c) => (c.linux.resources = { pids: { limit: 10 } }),
      tsrunc: /cannot set pids limit: container could not join or create cgroup/,
      runc: /cannot set pids limit: container could not join or create cgroup|rootless needs no limits \+ no cgrouppath when no permission is granted for cgroups/,
    },
    {
      name: 'linux.cgroupsPath it may not make',
      mutate: (c) => (c.linux.cgroupsPath = '/tsrunc-rootless-test'),
      tsrunc: /linux\.cgroupsPath: cannot create \/sys\/fs\/cgroup\/(\S+\/)?tsrunc-rootless-test .*permission denied/,
      runc: /permission denied/,
    },
    {
      name: '--rootless false: cgroup permission errors are errors',
      mutate: () => {},
      globals: ['--rootless', 'false'],
      tsrunc: /\/sys\/fs\/cgroup\/\S+: (EACCES: )?permission denied/,
      runc: /permission denied/,
    },
    {
      name: '--rootless with a value that is no boolean',
      mutate: () => {},
      globals: ['--rootless', 'maybe'],
      tsrunc: /strconv\.ParseBool: parsing "maybe": invalid syntax/,
      runc: /strconv\.ParseBool: parsing "maybe": invalid syntax/,
    },
    {
      name: 'additional groups with an own-id gid map (setgroups denied)',
      mutate: (c) => (c.process.user.additionalGids = [5]),
      tsrunc: /cannot set any additional groups in a rootless container/,
      runc: /cannot set any additional groups in a rootless container/,
    },
    {
      name: 'a uid the user namespace does not map',
      mutate: (c) => (c.process.user.uid = 1000),
      tsrunc: /cannot set uid to unmapped user in user namespace/,
      runc: /cannot set uid to unmapped user in user namespace/,
    },
    {
      name: 'a uid= mount option for an unmapped uid',
      mutate: (c) => c.mounts.push({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['uid=1000'] }),
      tsrunc: /cannot specify uid= mount options for unmapped uid in rootless containers/,
      runc: /cannot specify uid= mount options for unmapped uid in rootless containers/,
    },
    {
      name: 'a lower oom_score_adj than the caller\'s',
      mutate: (c) => (c.process.oomScoreAdj = -500),
      tsrunc: /process\.oomScoreAdj: .*permission denied/,
      runc: /oom_score_adj|permission denied/,
    },
    {
      name: 'a hard rlimit above the caller\'s',
      mutate: (c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', hard: nofileHard + 1, soft: 1024 }]),
      tsrunc: /setrlimit RLIMIT_NOFILE: EPERM \(a hard limit above the caller's needs CAP_SYS_RESOURCE\)/,
      runc: /error setting rlimit type 7: operation not permitted/,
    },
    {
      name: 'a device the host does not have (bound, not made)',
      mutate: (c) => (c.linux.devices = [{ path: '/dev/tsrunc-rootless-none', type: 'c', major: 1, minor: 3 }]),
      tsrunc: /create device \/dev\/tsrunc-rootless-none \(a bind mount of the host's \/dev\/tsrunc-rootless-none, as mknod is not allowed in a user namespace\): ENOENT/,
      runc: /\/dev\/tsrunc-rootless-none.*no such file or directory/,
    },
    {
      name: 'joining a namespace of a process it does not own',
      mutate: (c) => c.linux.namespaces.push({ type: 'network', path: '/proc/1/ns/net' }),
      tsrunc: /open namespace \/proc\/1\/ns\/net: Permission denied/,
      runc: /.+/, // runc 1.1.5: "can't get final child's PID from pipe: EOF"
    },
    {
      name: 'a sysctl outside its namespaces',
      mutate: (c) => (c.linux.sysctl = { 'net.ipv4.ip_forward': '1' }),
      tsrunc: /sysctl "net\.ipv4\.ip_forward" is not allowed in the hosts network namespace/,
      runc: /sysctl "net\.ipv4\.ip_forward" not allowed in host network namespace/,
    },
  ];

  for (const r of runtimes)
    describe(`${r.name}: refused`, () => {
      for (const row of refusals)
        it_(row.name, () => {
          const dir = bundle(r.bin, ['true'], row.mutate);
          const id = newId('rootless');
          const res = asUser([r.bin, ...(row.globals ?? []), 'run', '--bundle', dir, id]);
          const want = r.name === 'tsrunc' ? row.tsrunc : row.runc;
          if (want === null) {
            expect(res.code).toBe(0);
            return;
          }
          expect(res.code).not.toBe(0);
          expect(res.stderr.replace(/\\"/g, `"`)).toMatch(want);
          // nothing is left behind
          expect(asUser([r.bin, 'list', '-q']).stdout).not.toContain(id);
        });
    });

  // A cgroup delegated to the user (v1: a directory of its own in every
  // hierarchy; v2: a subtree whose cgroup.procs and subtree_control it owns,
  // with tsrunc itself started in a leaf of it, as a systemd user session
  // has it): limits work there, for both runtimes.
  describe('a delegated cgroup', () => {
    const layout = cgroupLayout();
    const v1Mounts = layout.unified ? [] : layout.hierarchies.filter((h) => h.fstype === 'cgroup').map((h) => h.mountPoint);
    const base = `tsrunc-rootless-deleg-${process.pid}`;
    const own = (dir: string) => {
      chownSync(dir, who!.uid, who!.gid);
      for (const f of ['tasks', 'cgroup.procs', 'cgroup.subtree_control', 'cgroup.threads']) if (existsSync(join(dir, f))) chownSync(join(dir, f), who!.uid, who!.gid);
    };
    const made: string[] = [];
    const mk = (dir: string) => {
      mkdirSync(dir);
      made.unshift(dir);
      own(dir);
    };
    afterAll(() => {
      for (const d of made)
        try {
          rmdirSync(d);
        } catch {}
    });

    for (const r of runtimes)
      it_(`${r.name}: memory and pids limits in the user's own cgroup (linux.cgroupsPath)`, () => {
        const id = newId('rootless');
        let callerCgroup: string | undefined;
        if (layout.unified) {
          const top = `/sys/fs/cgroup/${base}`;
          if (!existsSync(top)) {
            writeFileSync('/sys/fs/cgroup/cgroup.subtree_control', '+memory +pids');
            mk(top);
            mk(`${top}/caller`);
          }
          // The runtime starts in caller/ (moving a process takes write
          // access to the common ancestor's cgroup.procs: root moves it).
          callerCgroup = `${top}/caller`;
        } else {
          for (const m of v1Mounts) {
            const dir = `${m}/${base}`;
            if (existsSync(dir)) continue;
            mk(dir);
            // a new cpuset cgroup has no cpus or mems: the delegating root gives them
            for (const f of ['cpuset.cpus', 'cpuset.mems']) if (existsSync(join(m, f))) writeFileSync(join(dir, f), readFileSync(join(m, f), 'utf8').trim());
          }
        }
        const dir = bundle(r.bin, ['sh', '-c', layout.unified ? 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max' : 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max'], (c) => {
          c.linux.cgroupsPath = `/${base}/${id}`;
          c.linux.resources = { memory: { limit: 64 << 20 }, pids: { limit: 20 } };
          if (layout.unified && !c.linux.namespaces.some((n: any) => n.type === 'cgroup')) c.linux.namespaces.push({ type: 'cgroup' });
        });
        const res = runAs(who!, [r.bin, 'run', '--bundle', dir, id], { env: { XDG_RUNTIME_DIR: xdg }, cwd: work, cgroup: callerCgroup });
        expect(res.stderr.replace(/.*unable to get oom kill count.*\n/, '')).toBe('');
        expect(res.code).toBe(0);
        expect(res.stdout.split('\n').slice(0, 2)).toEqual([String(64 << 20), '20']);
        // deleted with the container
        const leaf = layout.unified ? `/sys/fs/cgroup/${base}/${id}` : `${v1Mounts[0]}/${base}/${id}`;
        expect(existsSync(leaf)).toBe(false);
      });
  });

  describe('tsrunc: state roots', () => {
    it_('without XDG_RUNTIME_DIR the root is /run/tsrunc, which the user may not use (as runc\'s /run/runc)', () => {
      // root's roots, as a host that ran containers has them (a fresh guest's /run has none)
      for (const d of ['/run/tsrunc', '/run/runc']) mkdirSync(d, { recursive: true, mode: 0o700 });
      const dir = bundle(runtimes[0].bin, ['true']);
      const res = asUser([runtimes[0].bin, 'run', '--bundle', dir, newId('rootless')], { XDG_RUNTIME_DIR: undefined });
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/\/run\/tsrunc.*permission denied|permission denied.*\/run\/tsrunc/);
      const list = asUser([runtimes[0].bin, 'list'], { XDG_RUNTIME_DIR: undefined });
      expect(list.code).toBe(1);
      expect(list.stderr).toMatch(/open \/run\/tsrunc: permission denied/);
      if (RUNC) expect(asUser([RUNC, 'list'], { XDG_RUNTIME_DIR: undefined }).stderr).toMatch(/open \/run\/runc: permission denied/);
    });

    it_('a user sees and touches none of root\'s containers', () => {
      const root = stateRoot();
      try {
        const id = newId('rootless-roots');
        const b = makeBundle(['sleep', '30']);
        expect(rt(root, ['run', '-d', '--bundle', b, id]).code).toBe(0);
        // the user's own root does not show it
        expect(asUser([runtimes[0].bin, 'list', '-q']).stdout).not.toContain(id);
        // root's cannot be read or acted on
        for (const args of [['list'], ['state', id], ['kill', id, 'KILL'], ['delete', '--force', id], ['exec', id, 'true']]) {
          const res = asUser([runtimes[0].bin, '--root', root, ...args]);
          expect(res.code, args.join(' ')).not.toBe(0);
          expect(res.stderr, args.join(' ')).toMatch(/permission denied|does not exist/);
        }
        expect(JSON.parse(rt(root, ['state', id]).stdout).status).toBe('running');
      } finally {
        cleanup(root);
      }
    });

    it_('the default root as root stays /run/tsrunc even with XDG_RUNTIME_DIR set (runc\'s rule)', () => {
      const r = spawnSync(runtime, ['list'], { encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: join(work, 'nonexistent-xdg') } });
      expect(r.status).toBe(0);
      expect(existsSync(join(work, 'nonexistent-xdg'))).toBe(false);
    });
  });
});

// The rootless cgroup decision on its own (no kernel, no user): which
// hierarchies are kept, and what is refused.
describe('rootlessRecord', () => {
  const v1 = {
    version: 1 as const,
    paths: { memory: '/sys/fs/cgroup/memory/u/c', cpu: '/sys/fs/cgroup/cpu,cpuacct/c', cpuacct: '/sys/fs/cgroup/cpu,cpuacct/c', pids: '/sys/fs/cgroup/pids/c', devices: '/sys/fs/cgroup/devices/c' },
    owned: ['/sys/fs/cgroup/memory/u/c', '/sys/fs/cgroup/cpu,cpuacct/c', '/sys/fs/cgroup/pids/c', '/sys/fs/cgroup/devices/c'],
  };
  // only the memory hierarchy's /u is the user's
  const check = (dir: string) => (dir.startsWith('/sys/fs/cgroup/memory/u/') ? undefined : `cannot create ${dir} (parent: permission denied)`);

  it('v1: each hierarchy kept or dropped on its own; a limit on a dropped one is refused, naming it', () => {
    const rec = rootlessRecord(v1, { memory: { limit: 1 << 26 } }, false, check);
    expect(rec.paths).toEqual({ memory: '/sys/fs/cgroup/memory/u/c' });
    expect(rec.owned).toEqual(['/sys/fs/cgroup/memory/u/c']);
    expect(rec.denied?.pids).toMatch(/cannot create \/sys\/fs\/cgroup\/pids\/c/);
    expect(() => rootlessRecord(v1, { pids: { limit: 5 } }, false, check)).toThrow(/^cannot set pids limit: container could not join or create cgroup: cannot create \/sys\/fs\/cgroup\/pids\/c/);
    expect(() => rootlessRecord(v1, { cpu: { shares: 512 } }, false, check)).toThrow(/^cannot set cpu limit/);
    // nothing asked of a dropped hierarchy: runs
    expect(rootlessRecord(v1, { memory: { limit: 1 << 26 }, cpu: {} }, false, check).paths.memory).toBeDefined();
  });

  it('a linux.cgroupsPath the user may not make is an error, not dropped', () => {
    expect(() => rootlessRecord(v1, {}, true, check)).toThrow(/^linux\.cgroupsPath: cannot create \/sys\/fs\/cgroup\/cpu,cpuacct\/c/);
    expect(rootlessRecord(v1, {}, true, () => undefined)).toEqual(v1);
  });

  it('v2: all or nothing; any limit refused without the cgroup', () => {
    const v2 = { version: 2 as const, paths: { '': '/sys/fs/cgroup/c' }, mount: '/sys/fs/cgroup', owned: ['/sys/fs/cgroup/c'] };
    const denied = () => 'cannot create /sys/fs/cgroup/c (/sys/fs/cgroup: permission denied)';
    expect(rootlessRecord(v2, {}, false, denied)).toMatchObject({ paths: {}, owned: [] });
    expect(() => rootlessRecord(v2, { memory: { limit: 1 << 26 } }, false, denied)).toThrow(/^cannot set memory limit/);
    expect(() => rootlessRecord(v2, { unified: { 'pids.max': '5' } }, false, denied)).toThrow(/^cannot set pids limit/);
  });

  it('cgroupDenied: the deepest existing level decides (the cgroup itself: its tasks/cgroup.procs)', () => {
    const exists = (p: string) => ['/', '/sys', '/sys/fs', '/sys/fs/cgroup', '/sys/fs/cgroup/pids', '/sys/fs/cgroup/pids/mine'].includes(p);
    const writable = new Set(['/sys/fs/cgroup/pids/mine', '/sys/fs/cgroup/pids/mine/tasks']);
    const access = (p: string) => {
      if (!writable.has(p)) throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
    };
    expect(cgroupDenied('/sys/fs/cgroup/pids/mine/c', 1, access, exists)).toBeUndefined();
    expect(cgroupDenied('/sys/fs/cgroup/pids/mine', 1, access, exists)).toBeUndefined();
    expect(cgroupDenied('/sys/fs/cgroup/pids/other/c', 1, access, exists)).toBe('cannot create /sys/fs/cgroup/pids/other/c (/sys/fs/cgroup/pids: permission denied)');
    expect(cgroupDenied('/sys/fs/cgroup/pids', 2, access, exists)).toBe('cannot join /sys/fs/cgroup/pids (/sys/fs/cgroup/pids/cgroup.procs: permission denied)');
  });
});
