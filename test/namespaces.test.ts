// Planning namespaces: flags, joins (user first), and a type the kernel lacks;
// joining a mount namespace by path, in real containers; a path setns would refuse.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, isRoot, makeBundle, rootfs, rt, stateRoot, uid, until } from './lib/harness.ts';
import { CLONE_FLAGS, planNamespaces } from '../src/container/namespaces.ts';

describe('planNamespaces', () => {
  it('new ones become clone flags, ones with a path are joined, the user namespace first', () => {
    const ns = planNamespaces([{ type: 'pid' }, { type: 'network', path: '/proc/1/ns/net' }, { type: 'user', path: '/proc/1/ns/user' }, { type: 'mount' }]);
    expect(ns.cloneFlags).toBe(CLONE_FLAGS.pid | CLONE_FLAGS.mount);
    expect(ns.joinNamespaces.map((j) => j.path)).toEqual(['/proc/1/ns/user', '/proc/1/ns/net']);
    expect(ns.isNew('pid') && ns.has('network') && !ns.isNew('network')).toBe(true);
  });

  it('a namespace type this kernel lacks is refused by name', () => {
    expect(() => planNamespaces([{ type: 'mount' }, { type: 'time' }], (t) => t !== 'time')).toThrow('this kernel has no time namespaces');
  });
});

// A mount namespace joined by path (issue 19 §2): set up inside it as a new
// one would be, as runc 1.1.5 does: the container sees the bundle's rootfs,
// runs in that namespace, and the host's mount table does not change.
describe.skipIf(!isRoot)('a mount namespace joined by path', () => {
  const root = stateRoot();
  const holders: ChildProcess[] = [];
  afterAll(() => {
    for (const h of holders) h.kill('SIGKILL');
    cleanup(root);
  });

  async function holder(): Promise<number> {
    const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sleep', '60'], { stdio: 'ignore' });
    holders.push(child);
    await until(() => readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').startsWith('sleep'), 5000, 'unshare --mount');
    return child.pid!;
  }

  // Only those below the rootfs: other tests (and other runs) mount elsewhere meanwhile.
  const hostMounts = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m?.startsWith(rootfs)).sort();

  it.each(['/proc/PID/ns/mnt', 'a file the namespace is bind-mounted on'])('by %s: the container runs in it and sees its rootfs', async (how) => {
    const pid = await holder();
    let path = `/proc/${pid}/ns/mnt`;
    let nsFile: string | undefined;
    if (how !== '/proc/PID/ns/mnt') {
      // Bound on a file in a private directory, as `ip netns` and sandboxes do.
      const dir = mkdtempSync(join(tmpdir(), 'tsrunc-mntns-'));
      execFileSync('mount', ['--bind', dir, dir]);
      execFileSync('mount', ['--make-private', dir]);
      nsFile = join(dir, 'mnt');
      writeFileSync(nsFile, '');
      execFileSync('mount', ['--bind', path, nsFile]);
      path = nsFile;
    }
    const want = readlinkSync(`/proc/${pid}/ns/mnt`);
    const before = hostMounts();
    try {
      const bundle = makeBundle(['sh', '-c', 'readlink /proc/self/ns/mnt; ls /bin/busybox; cat /etc/hostname 2>/dev/null; test -e ' + rootfs + ' || echo host-paths-unreachable'], (c) => {
        c.linux.namespaces = c.linux.namespaces.map((n: any) => (n.type === 'mount' ? { type: 'mount', path } : n));
      });
      const r = rt(root, ['run', '-b', bundle, uid('mounts')]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const [ns, busybox, ...rest] = r.stdout.trim().split('\n');
      expect(ns).toBe(want);
      expect(busybox).toBe('/bin/busybox');
      expect(rest.at(-1)).toBe('host-paths-unreachable');
      expect(hostMounts()).toEqual(before);
    } finally {
      if (nsFile) {
        execFileSync('umount', [nsFile]);
        execFileSync('umount', [dirname(nsFile)]);
      }
    }
  });

  it('without any mount namespace entry the config is still refused, by name', () => {
    const r = rt(root, ['run', '-b', makeBundle(['true'], (c) => (c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'mount'))), uid('mounts')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/needs a mount namespace|requires a mount namespace/);
  });
});

describe.skipIf(!isRoot)('a namespace path that setns would refuse', () => {
  const root = stateRoot();
  afterAll(() => cleanup(root));
  // Said before anything exists, with the path and the types, where setns(2)
  // in the child could only say EINVAL.
  it('a namespace of another type, or a file that is none, is refused by path and type', () => {
    const joining = (type: string, path: string) => makeBundle(['true'], (c) => (c.linux.namespaces = [...c.linux.namespaces.filter((n: any) => n.type !== type), { type, path }]));
    const other = rt(root, ['run', '-b', joining('ipc', '/proc/self/ns/net'), uid('nspath')]);
    expect(other).toMatchObject({ code: 1, stderr: expect.stringContaining('open namespace /proc/self/ns/net: a network namespace, not ipc') });
    const none = rt(root, ['run', '-b', joining('network', rootfs), uid('nspath')]);
    expect(none).toMatchObject({ code: 1, stderr: expect.stringContaining(`open namespace ${rootfs}: not a namespace`) });
    // The right type still joins.
    expect(rt(root, ['run', '-b', joining('ipc', '/proc/self/ns/ipc'), uid('nspath')])).toMatchObject({ code: 0, stderr: '' });
  });
});
