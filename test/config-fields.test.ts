// config.md / config-linux.md: what the container gets is what its config says.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostProcAndSysfs } from '../src/container/plan.ts';
import { cleanup, isRoot, makeBundle, repo, rootfs, rt, runtime, state, stateRoot, uid } from './lib/harness.ts';

const root = stateRoot();
afterAll(() => cleanup(root));

const run = (args: string[], mutate?: (c: any) => void) => rt(root, ['run', '-b', makeBundle(args, mutate), uid()]);

/** A private, writable copy of the busybox rootfs. */
function ownRootfs(owner?: number): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'tsrunc-rootfs-')), 'rootfs');
  cpSync(rootfs, dir, { recursive: true, verbatimSymlinks: true });
  execFileSync('chmod', ['755', join(dir, '..')]); // a mapped root must be able to reach it
  if (owner !== undefined) execFileSync('chown', ['-R', `${owner}:${owner}`, dir]);
  return dir;
}

function mountinfo(out: string) {
  return new Map(
    out.trim().split('\n').map((l) => {
      const [pre, post] = l.split(' - ');
      const f = pre.split(' ');
      return [f[4], { opts: f[5].split(','), optional: f.slice(6).join(' '), fstype: post.split(' ')[0] }] as const;
    }),
  );
}

describe.skipIf(!isRoot)('mounts', () => {
  it('bind mounts of a directory and a file, ro remount, tmpfs with data options', () => {
    const host = mkdtempSync(join(tmpdir(), 'tsrunc-bind-'));
    writeFileSync(join(host, 'file'), 'content\n');
    const r = run(['sh', '-c', 'cat /b/file /f; touch /b/x 2>&1; touch /f 2>&1; echo --; cat /proc/self/mountinfo'], (c) => {
      c.mounts.push(
        { destination: '/b', type: 'bind', source: host, options: ['rbind', 'ro'] },
        { destination: '/f', type: 'bind', source: join(host, 'file'), options: ['bind', 'ro', 'nosuid'] },
        { destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'mode=700', 'noexec'] },
      );
    });
    expect(r.code).toBe(0);
    const [before, info] = r.stdout.split('--\n');
    expect(before).toMatch(/^content\ncontent\n.*Read-only file system\n.*Read-only file system\n$/s);
    const m = mountinfo(info);
    expect(m.get('/b')!.opts).toContain('ro');
    expect(m.get('/f')!.opts).toEqual(expect.arrayContaining(['ro', 'nosuid']));
    expect(m.get('/t')).toMatchObject({ fstype: 'tmpfs', opts: expect.arrayContaining(['noexec']) });
  });

  it('recursive options (rro, rnosuid) apply to submounts via mount_setattr', () => {
    const host = mkdtempSync(join(tmpdir(), 'tsrunc-rbind-'));
    mkdirSync(join(host, 'sub'));
    execFileSync('mount', ['-t', 'tmpfs', 'tsrunc-sub', join(host, 'sub')]);
    try {
      const r = run(['cat', '/proc/self/mountinfo'], (c) => c.mounts.push({ destination: '/r', type: 'bind', source: host, options: ['rbind', 'rro', 'rnosuid'] }));
      const m = mountinfo(r.stdout);
      for (const p of ['/r', '/r/sub']) expect(m.get(p)!.opts).toEqual(expect.arrayContaining(['ro', 'nosuid']));
    } finally {
      execFileSync('umount', [join(host, 'sub')]);
    }
  });

  it('propagation options and rootfsPropagation', () => {
    const r = run(['cat', '/proc/self/mountinfo'], (c) => {
      c.mounts.push({ destination: '/p', type: 'tmpfs', source: 'tmpfs', options: ['shared'] });
      c.linux.rootfsPropagation = 'private';
    });
    const m = mountinfo(r.stdout);
    expect(m.get('/p')!.optional).toMatch(/shared:\d+/);
  });

  it('creates missing mount targets inside the rootfs', () => {
    const r = run(['sh', '-c', 'test -d /deep/er/target && echo made'], (c) => c.mounts.push({ destination: '/deep/er/target', type: 'tmpfs', source: 'tmpfs' }));
    expect(r.stdout).toBe('made\n');
  });

  it('a mount target through a symlink out of the rootfs never lands outside it (CVE-2021-30465)', () => {
    const fs = ownRootfs();
    const outside = mkdtempSync(join(tmpdir(), 'tsrunc-outside-'));
    mkdirSync(join(fs, outside), { recursive: true }); // so the absolute link resolves inside the root
    symlinkSync(outside, join(fs, 'abs'));
    symlinkSync('../../../../../../..' + outside, join(fs, 'rel'));
    const r = run(['sh', '-c', 'echo ok'], (c) => {
      c.root = { path: fs, readonly: false };
      c.mounts.push({ destination: '/abs/x', type: 'tmpfs', source: 'tmpfs' }, { destination: '/rel/y', type: 'tmpfs', source: 'tmpfs' });
    });
    expect(r).toMatchObject({ code: 0, stdout: 'ok\n' });
    expect(existsSync(join(outside, 'x')) || existsSync(join(outside, 'y'))).toBe(false);
    expect(existsSync(join(fs, outside, 'x')) && existsSync(join(fs, outside, 'y'))).toBe(true); // resolved within the root
  });

  it('a mount target under a symlink that dangles inside the rootfs is refused', () => {
    const fs = ownRootfs();
    const outside = mkdtempSync(join(tmpdir(), 'tsrunc-outside-'));
    symlinkSync(outside, join(fs, 'escape')); // <rootfs>/<outside> does not exist
    const r = run(['true'], (c) => {
      c.root = { path: fs, readonly: false };
      c.mounts.push({ destination: '/escape/x', type: 'tmpfs', source: 'tmpfs' });
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('create mount target');
    expect(existsSync(join(outside, 'x'))).toBe(false);
  });
});

describe.skipIf(!isRoot)('filesystem protection', () => {
  it('maskedPaths: files read as empty, directories are empty and read-only; readonlyPaths are read-only', () => {
    const r = run(['sh', '-c', 'wc -c < /proc/keys; ls /proc/scsi 2>/dev/null | wc -l; (echo 1 > /proc/sys/kernel/domainname) 2>&1 | grep -c Read-only']);
    expect(r.stdout).toBe('0\n0\n1\n');
  });

  it('a maskedPath whose /dev/null was replaced by a symlink is refused (CVE-2025-31133)', () => {
    const fs = ownRootfs();
    const r = run(['true'], (c) => {
      c.root = { path: fs, readonly: false };
      // /dev from the rootfs itself (no tmpfs), with null a symlink to a host file
      c.mounts = c.mounts.filter((m: any) => m.destination !== '/dev' && !m.destination.startsWith('/dev/'));
      c.linux.devices = [];
      rmSync(join(fs, 'dev'), { recursive: true, force: true });
      mkdirSync(join(fs, 'dev'));
      symlinkSync('/etc/shadow', join(fs, 'dev/null'));
    });
    // tsrunc makes its default devices first, replacing what was there; if
    // /dev/null is still not the 1:3 device, the mask is refused.
    if (r.code === 0) expect(existsSync(join(fs, 'dev/null')) && readFileSync(join(fs, 'dev/null'), 'utf8')).toBe('');
    else expect(r.stderr).toContain('mask path');
  });

  it('linux.devices are created with their type, numbers, mode and owner', () => {
    const r = run(['ls', '-ln', '/dev/fuse', '/dev/loopx'], (c) => {
      c.linux.devices = [
        { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o640, uid: 5, gid: 6 },
        { path: '/dev/loopx', type: 'b', major: 7, minor: 200, fileMode: 0o600 },
      ];
    });
    expect(r.stdout).toMatch(/^crw-r-----\s+1 5\s+6\s+10,\s+229 .*\/dev\/fuse$/m);
    expect(r.stdout).toMatch(/^brw-------\s+1 0\s+0\s+7,\s+200 .*\/dev\/loopx$/m);
  });
});

describe.skipIf(!isRoot)('process security', () => {
  const capHex = (s: string, which: string) => BigInt('0x' + new RegExp(`${which}:\\s*([0-9a-f]+)`).exec(s)![1]);
  it('capabilities: the sets are what the config says', () => {
    const r = run(['cat', '/proc/self/status'], (c) => {
      c.process.capabilities = { bounding: ['CAP_KILL', 'CAP_CHOWN', 'CAP_NET_RAW'], effective: ['CAP_KILL', 'CAP_CHOWN'], permitted: ['CAP_KILL', 'CAP_CHOWN'], inheritable: ['CAP_KILL'], ambient: ['CAP_KILL'] };
      c.process.user = { uid: 1000, gid: 1000 };
    });
    // as uid 1000, only ambient survives exec: KILL (bit 5)
    expect(capHex(r.stdout, 'CapBnd')).toBe((1n << 5n) | (1n << 0n) | (1n << 13n));
    expect(capHex(r.stdout, 'CapAmb')).toBe(1n << 5n);
    expect(capHex(r.stdout, 'CapEff')).toBe(1n << 5n);
    expect(capHex(r.stdout, 'CapInh')).toBe(1n << 5n);
  });

  it('capabilities: a name in any case is granted (as crun); one without CAP_, or unknown, is left out with a warning (as runc)', () => {
    const names = ['cap_chown', 'Cap_Kill', 'AUDIT_WRITE', 'CAP_NO_SUCH_THING', '0'];
    const r = run(['cat', '/proc/self/status'], (c) => {
      c.process.capabilities = { bounding: names, effective: names, permitted: names };
    });
    expect(r.code).toBe(0);
    expect(capHex(r.stdout, 'CapEff')).toBe((1n << 0n) | (1n << 5n));
    expect(capHex(r.stdout, 'CapBnd')).toBe((1n << 0n) | (1n << 5n));
    for (const n of ['AUDIT_WRITE', 'CAP_NO_SUCH_THING', '0']) expect(r.stderr).toContain(`ignoring unknown or unsupported capability \\"${n}\\"`);
    expect(r.stderr).not.toContain('cap_chown');
  });

  it('noNewPrivileges, umask, oomScoreAdj, rlimits', () => {
    const r = run(['sh', '-c', 'grep NoNewPrivs /proc/self/status; umask; cat /proc/self/oom_score_adj; ulimit -n; ulimit -Hn'], (c) => {
      c.process.noNewPrivileges = true;
      c.process.user = { uid: 0, gid: 0, umask: 0o027 };
      c.process.oomScoreAdj = 123;
      c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 321, hard: 654 }];
    });
    expect(r.stdout).toMatch(/NoNewPrivs:\s+1\n0027\n123\n321\n654\n/);
  });

  it('an rlimit above the hard limit tsrunc has is an error', () => {
    const r = run(['true'], (c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1 << 30, hard: 1 << 30 }]));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('setrlimit');
  });

  it('linux.sysctl (namespaced keys, written before /proc/sys is made read-only), domainname, hostname', () => {
    const r = run(['sh', '-c', 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/domainname; hostname'], (c) => {
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
      c.domainname = 'example.org';
      c.hostname = 'box';
    });
    expect(r.stdout).toBe('1\nexample.org\nbox\n');
  });

  it('cannot open /proc/self/exe (or its init\'s) for writing to reach a host binary (CVE-2019-5736)', () => {
    const r = run(['sh', '-c', 'readlink /proc/self/exe; (echo x >> /proc/self/exe) 2>/dev/null; echo rc=$?']);
    expect(r.stdout).toMatch(/^\/bin\/busybox\nrc=[1-9]/);
    const id = uid();
    expect(rt(root, ['create', '-b', makeBundle(['true']), id]).code).toBe(0);
    const exe = execFileSync('readlink', [`/proc/${state(root, id).pid}/exe`], { encoding: 'utf8' });
    expect(exe).toMatch(/^\/memfd:tsrunc-init/); // a sealed copy, not a host file
    expect(rt(root, ['delete', id]).code).toBe(0);
  });

  it('a cwd reached through a leaked fd is refused (CVE-2024-21626)', () => {
    for (const cwd of ['/proc/self/fd/7', '/proc/self/fd/8', '/proc/self/fd/9', '/proc/self/fd/10']) {
      const r = run(['pwd'], (c) => (c.process.cwd = cwd));
      expect(r.code).toBe(1);
    }
  });
});

describe.skipIf(!isRoot)('user namespaces', () => {
  it('uid/gid mappings written by the parent; root inside is the mapped host id', () => {
    const fs = ownRootfs(100000);
    const r = run(['sh', '-c', 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; touch /tmp/made; ls -ln /dev/null'], (c) => {
      c.root = { path: fs, readonly: false };
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.mounts = c.mounts.map((m: any) => (m.type === 'devpts' ? { ...m, options: m.options.filter((o: string) => o !== 'gid=5') } : m));
    });
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, 2)).toEqual(['0', '0']);
    expect(lines[2].trim().split(/\s+/)).toEqual(['0', '100000', '65536']);
    expect(lines[3].trim().split(/\s+/)).toEqual(['0', '100000', '65536']);
    expect(lines[4]).toMatch(/^crw-rw-rw-.* 1,\s+3 /); // bound from the host: mknod is not allowed
    expect(execFileSync('stat', ['-c', '%u:%g', join(fs, 'tmp/made')], { encoding: 'utf8' }).trim()).toBe('100000:100000');
  });

  it('a user namespace without mappings is refused', () => {
    const r = run(['true'], (c) => c.linux.namespaces.push({ type: 'user' }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/mappings/);
  });
});

describe.skipIf(!isRoot)('annotations', () => {
  it('are kept in the state', () => {
    const id = uid();
    expect(rt(root, ['create', '-b', makeBundle(['true'], (c) => (c.annotations = { 'org.example.key': 'value' })), id]).code).toBe(0);
    expect(state(root, id).annotations).toEqual({ 'org.example.key': 'value' });
    expect(rt(root, ['delete', id]).code).toBe(0);
  });
});

describe.skipIf(!isRoot)('more process and namespace fields', () => {
  it('timeOffsets in a new time namespace: uptime moves, init is still pid 1', () => {
    const hostUptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const r = run(['sh', '-c', 'echo $$; cut -d" " -f1 /proc/uptime'], (c) => {
      c.linux.namespaces.push({ type: 'time' });
      c.linux.timeOffsets = { boottime: { secs: 86400 * 365, nanosecs: 0 }, monotonic: { secs: 1000, nanosecs: 0 } };
    });
    expect(r.stderr).toBe('');
    const [pid, uptime] = r.stdout.trim().split('\n');
    expect(pid).toBe('1');
    expect(Number(uptime) - hostUptime).toBeGreaterThan(86400 * 365 - 60);
  });

  it('personality LINUX32 makes uname -m say i686', () => {
    const r = run(['uname', '-m'], (c) => (c.linux.personality = { domain: 'LINUX32' }));
    expect(r.stdout.trim()).toMatch(/^i[36]86$/);
  });

  it('ioPriority and scheduler are applied to the process', () => {
    const r = run(['sh', '-c', 'cat /proc/self/sched | grep -E "^policy|^prio"; cat /proc/self/stat | cut -d" " -f19'], (c) => {
      c.process.ioPriority = { class: 'IOPRIO_CLASS_IDLE', priority: 0 };
      c.process.scheduler = { policy: 'SCHED_BATCH', nice: 7 };
    });
    expect(r.stdout).toMatch(/^policy\s+:\s+3$/m); // SCHED_BATCH
    expect(r.stdout.trim().split('\n').pop()).toBe('7'); // nice
  });
});

describe.skipIf(!isRoot)('id-mapped mounts', () => {
  function hostDirWithRootFile(): string {
    const dir = mkdtempSync(join(tmpdir(), 'tsrunc-idmap-'));
    execFileSync('chmod', ['755', dir]);
    writeFileSync(join(dir, 'f'), 'x');
    return dir;
  }

  it('idmap with the mount\'s own mappings shows files through them', () => {
    const dir = hostDirWithRootFile();
    const r = run(['sh', '-c', 'stat -c %u:%g /m/f'], (c) =>
      c.mounts.push({ destination: '/m', type: 'bind', source: dir, options: ['bind', 'idmap'], uidMappings: [{ containerID: 0, hostID: 1234, size: 1 }], gidMappings: [{ containerID: 0, hostID: 4321, size: 1 }] }),
    );
    expect(r).toMatchObject({ code: 0, stdout: '1234:4321\n' });
  });

  it('idmap without mappings uses the container\'s user namespace: root-owned files are root\'s inside', () => {
    const dir = hostDirWithRootFile();
    const fs = ownRootfs(100000);
    const r = run(['sh', '-c', 'stat -c %u:%g /m/f; stat -c %u /plain/f'], (c) => {
      c.root = { path: fs, readonly: false };
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.mounts = c.mounts.map((m: any) => (m.type === 'devpts' ? { ...m, options: m.options.filter((o: string) => o !== 'gid=5') } : m));
      c.mounts.push({ destination: '/m', type: 'bind', source: dir, options: ['rbind', 'ridmap'] }, { destination: '/plain', type: 'bind', source: dir, options: ['rbind'] });
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('0:0\n65534\n'); // without the idmap, host root is nobody inside
  });
});

describe.skipIf(!isRoot)('what tsrunc cannot do is refused', () => {
  it.each([
    ['linux.intelRdt', (c: any) => (c.linux.intelRdt = { closID: 'x' })],
    ['linux.netDevices', (c: any) => (c.linux.netDevices = { eth9: {} })],
    ['linux.memoryPolicy', (c: any) => (c.linux.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0' })],
  ])('%s', (what, mutate) => {
    const r = run(['true'], mutate);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${what}: not supported by tsrunc`);
  });
});

describe.skipIf(!isRoot)('a null where a value may be absent (runc, in Go, takes it as absent)', () => {
  it('config.json: null hooks, annotations, resources, seccomp, devices, capabilities, rlimits, paths, sysctl, options, gids: the container runs as without them', () => {
    const r = run(['sh', '-c', 'cat /proc/self/status | grep -c ^CapEff; hostname'], (c) => {
      Object.assign(c, { hooks: null, annotations: null, hostname: null });
      Object.assign(c.linux, { resources: null, seccomp: null, devices: null, maskedPaths: null, readonlyPaths: null, sysctl: null, uidMappings: null });
      Object.assign(c.process, { capabilities: null, rlimits: null, apparmorProfile: null });
      c.process.user.additionalGids = null;
      c.mounts.find((m: any) => m.destination === '/dev').options = null;
    });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    // A required value stays required when null.
    const cwd = run(['true'], (c) => (c.process.cwd = null));
    expect(cwd).toMatchObject({ code: 1, stderr: expect.stringContaining('process.cwd: required') });
  });

  it('exec --process and update --resources take nulls the same way', () => {
    const id = uid();
    expect(rt(root, ['run', '-d', '-b', makeBundle(['sleep', '100']), id]).code).toBe(0);
    try {
      const dir = mkdtempSync(join(tmpdir(), 'tsrunc-nulls-'));
      writeFileSync(join(dir, 'p.json'), JSON.stringify({ args: ['echo', 'ran'], cwd: '/', env: ['PATH=/bin'], capabilities: null, rlimits: null, user: { uid: 0, gid: 0, additionalGids: null } }));
      expect(rt(root, ['exec', '-p', join(dir, 'p.json'), id])).toMatchObject({ code: 0, stdout: 'ran\n', stderr: '' });
      expect(rt(root, ['update', '-r', '-', id], { input: JSON.stringify({ memory: null, pids: { limit: 77 }, devices: null }) })).toMatchObject({ code: 0, stderr: '' });
      // The document null itself: no change, as in runc.
      expect(rt(root, ['update', '-r', '-', id], { input: 'null' })).toMatchObject({ code: 0, stderr: '' });
    } finally {
      rt(root, ['delete', '-f', id]);
    }
  });
});

describe.skipIf(!isRoot)('what engines rely on', () => {
  it('tmpcopyup: a tmpfs starts with what it covers, owners and modes kept', () => {
    const r = run(['sh', '-c', 'ls -ln /etc | grep -c .; stat -c "%a %u" /etc /etc/passwd; touch /etc/new && echo writable'], (c) =>
      c.mounts.push({ destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'mode=755'] }),
    );
    expect(r.stderr).toBe('');
    const [count, etcMode, passwd, w] = r.stdout.trim().split('\n');
    expect(Number(count)).toBeGreaterThan(2);
    expect(etcMode).toMatch(/^755 0$/);
    expect(passwd).toMatch(/^644 0$/);
    expect(w).toBe('writable'); // a tmpfs over the read-only root
  });

  it('a missing cwd is created, as runc does', () => {
    expect(run(['pwd'], (c) => (c.process.cwd = '/not/yet/there')).stdout).toBe('/not/yet/there\n');
  });

  it('a new network namespace has its loopback up', () => {
    const r = run(['cat', '/sys/class/net/lo/operstate', '/sys/class/net/lo/flags']);
    expect(r.stdout.split('\n')[1]).toMatch(/^0x\d*[9]$/); // IFF_UP (0x1) with IFF_LOOPBACK (0x8)
  });

  it('a command that is not there fails with runc\'s words', () => {
    expect(run(['/no/such/command']).stderr).toContain('exec: \\"/no/such/command\\": stat /no/such/command: no such file or directory');
    expect(run(['no-such-command']).stderr).toContain('exec: \\"no-such-command\\": executable file not found in $PATH');
  });
});

describe.skipIf(!isRoot)('tmpcopyup and the mode of the tmpfs', () => {
  it('an existing mountpoint (podman makes them 0755) does not override mode=', () => {
    const fs = ownRootfs();
    mkdirSync(join(fs, 'premade'), { mode: 0o755 });
    execFileSync('chmod', ['1777', join(fs, 'tmp')]);
    const r = run(['stat', '-c', '%a', '/premade', '/tmp'], (c) => {
      c.root = { path: fs, readonly: false };
      c.mounts.push(
        { destination: '/premade', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777', 'tmpcopyup'] },
        { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] }, // no mode=: the directory's (1777)
      );
    });
    expect(r).toMatchObject({ code: 0, stdout: '1777\n1777\n' });
  });

  it('keeps the mount\'s own mode= (podman --tmpfs /x:mode=1777)', () => {
    const r = run(['stat', '-c', '%a', '/scratch'], (c) =>
      c.mounts.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'mode=1777', 'rw', 'rprivate', 'nosuid', 'nodev', 'tmpcopyup'] }),
    );
    expect(r).toMatchObject({ code: 0, stdout: '1777\n' });
  });
});

describe.skipIf(!isRoot)('sysctl validation', () => {
  it.each([
    ['vm.swappiness', '10', 'is not whitelisted', undefined],
    ['kernel.shmmax', '1000', 'is not in a separate kernel namespace', 'ipc'],
    ['net.ipv4.ip_forward', '1', 'is not allowed in the hosts network namespace', 'network'],
  ])('%s without its namespace is refused', (key, value, message, drop) => {
    const r = run(['true'], (c) => {
      c.linux.sysctl = { [key]: value };
      if (drop) c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== drop);
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(message);
  });
});

describe.skipIf(!isRoot)('spec --rootless', () => {
  it('writes a user-namespace config that runs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsrunc-rootless-'));
    expect(rt(root, ['spec', '--rootless', '-b', dir]).code).toBe(0);
    const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(c.linux.namespaces.map((n: any) => n.type)).toContain('user');
    expect(c.linux.namespaces.map((n: any) => n.type)).not.toContain('network');
    c.root = { path: rootfs, readonly: true };
    c.process.terminal = false;
    c.process.args = ['sh', '-c', 'id -u; cat /proc/self/uid_map'];
    writeFileSync(join(dir, 'config.json'), JSON.stringify(c));
    const r = rt(root, ['run', '-b', dir, uid()]);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')[0]).toBe('0');
    expect(r.stdout.split('\n')[1].trim().split(/\s+/)).toEqual(['0', String(process.getuid!()), '1']);
  });
});

// issue 14, "mounts": where tsrunc differed from runc 1.1.5.
describe.skipIf(!isRoot)('mounts as runc makes them', () => {
  it('a rootfs whose /proc is a symlink is refused with runc\'s words', () => {
    const fs = ownRootfs();
    rmSync(join(fs, 'proc'), { recursive: true, force: true });
    symlinkSync('/tmp', join(fs, 'proc'));
    const r = run(['true'], (c) => (c.root.path = fs));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error mounting \\"proc\\" to rootfs at \\"/proc\\": filesystem \\"proc\\" must be mounted on ordinary directory');
  });

  it('a read-only /dev tmpfs: its nodes, pts, shm and mqueue are made first, then it is read-only (runc\'s "ro /dev mount")', () => {
    const r = run(['sh', '-c', 'grep " /dev " /proc/mounts; ls -d /dev/null /dev/pts/ptmx /dev/shm /dev/mqueue; touch /dev/x 2>&1'], (c) => {
      c.mounts = c.mounts.map((m: any) => (m.destination === '/dev' ? { ...m, options: [...m.options, 'ro'] } : m));
    });
    expect(r.stderr).toBe('');
    const [mount, ...rest] = r.stdout.trim().split('\n');
    expect(mount).toMatch(/^tmpfs \/dev tmpfs ro,/);
    expect(rest.slice(0, 4).sort()).toEqual(['/dev/mqueue', '/dev/null', '/dev/pts/ptmx', '/dev/shm']);
    expect(rest.at(-1)).toContain('Read-only file system');
  });

  it('a user namespace with two bind sources below a 0700 directory, and a rootfs below one: opened before the user switch, as runc', () => {
    const locked = mkdtempSync(join(tmpdir(), 'tsrunc-locked-')); // 0700, root's
    for (const n of ['a', 'b']) {
      mkdirSync(join(locked, n), { mode: 0o755 });
      writeFileSync(join(locked, n, 'f'), `${n}\n`);
    }
    const fs = join(mkdtempSync(join(locked, 'rootfs-')), 'rootfs');
    cpSync(rootfs, fs, { recursive: true, verbatimSymlinks: true });
    const r = run(['sh', '-c', 'cat /var/f /run/f; id -u'], (c) => {
      c.root.path = fs;
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.mounts = c.mounts.filter((m: any) => m.type !== 'sysfs' && m.type !== 'cgroup');
      c.mounts.push({ destination: '/var', type: 'bind', source: join(locked, 'a'), options: ['bind'] }, { destination: '/run', type: 'bind', source: join(locked, 'b'), options: ['bind'] });
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('a\nb\n0\n');
  });

  it('--no-pivot: the host\'s full proc and sysfs mounts outside the rootfs are the ones detached before the move (runc 1.1.5)', () => {
    const info = [
      '22 1 0:21 / /proc rw,nosuid shared:5 - proc proc rw',
      '23 1 0:22 / /sys rw shared:6 - sysfs sysfs rw',
      '24 22 0:23 / /proc/sys/fs/binfmt_misc rw - autofs systemd-1 rw',
      '25 1 0:21 /sys /mnt/procsys rw - proc proc rw',
      '26 1 0:24 / /b/rootfs/proc rw - proc proc rw',
      '27 1 0:25 / /a\\040b rw - sysfs sysfs rw',
    ].join('\n');
    expect(hostProcAndSysfs('/b/rootfs', info)).toEqual(['/proc', '/sys', '/a b']);
    // runc's "--no-pivot must not expose bare /proc": a new user namespace in
    // the container may mount a proc only if a full one is visible in its
    // mount namespace, which the host's would be.
    const r = rt(root, ['run', '--no-pivot', '-b', makeBundle(['unshare', '-mrpf', 'sh', '-c', 'mount -t proc none /proc && echo mounted; echo status $?'], (c) => {
      for (const set of ['bounding', 'permitted']) c.process.capabilities[set].push('CAP_SETFCAP');
    }), uid('mounts')]);
    expect(r.stdout).toBe('status 1\n');
    expect(r.stderr).toContain('mount: permission denied');
  });

  const hasPtyTools = spawnSync('python3', ['-c', 'import pty, socket; socket.recv_fds'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!hasPtyTools)('the terminal belongs to the process\'s uid (devpts gives gid 5) for run -t and exec -t, as runc', () => {
    const pty = (...args: string[]) => spawnSync('python3', [join(repo, 'test/lib/pty_tools.py'), 'pty', runtime, '--root', root, ...args, '--keys', 'sleep:0.2'], { encoding: 'utf8', timeout: 30_000 });
    const bundle = makeBundle(['sh', '-c', 'stat -c %u:%g $(tty)'], (c) => {
      c.process.terminal = true;
      c.process.user = { uid: 1000, gid: 1000 };
    });
    expect(pty('run', '-b', bundle, uid('mounts')).stdout).toContain('1000:5');
    const id = uid('mounts');
    expect(rt(root, ['run', '-d', '-b', makeBundle(['sleep', '30']), id]).code).toBe(0);
    try {
      expect(pty('exec', '-t', '-u', '1001:1001', id, 'sh', '-c', 'stat -c %u:%g $(tty)').stdout).toContain('1001:5');
    } finally {
      rt(root, ['delete', '-f', id]);
    }
  });
});
