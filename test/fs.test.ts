// src/util/fs.ts (the addon-backed file calls every verb makes in place of
// node:fs) against node:fs itself: the same values on success, and the same
// errors to the letter (message, code, errno, syscall, path, dest), since
// those messages reach users and callers test `.code`.
import { spawn, spawnSync } from 'node:child_process';
import * as node from 'node:fs';
import { tmpdir } from 'node:os';
import { getSystemErrorMessage } from 'node:util';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ours from '../src/util/fs.ts';
import { isRoot, repo, runtime } from './lib/harness.ts';
import { runtimeParts } from './lib/rootless-user.ts';

let dir: string;
beforeAll(() => {
  dir = node.mkdtempSync(join(tmpdir(), 'fastfs-'));
});
afterAll(() => node.rmSync(dir, { recursive: true, force: true }));

/** What a call threw, as the fields that matter; 'no error' when it returned. */
function thrown(f: () => unknown): Record<string, unknown> | string {
  try {
    f();
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { dest?: string };
    return { isError: err instanceof Error, message: err.message, code: err.code, errno: err.errno, syscall: err.syscall, path: err.path, dest: err.dest };
  }
  return 'no error';
}

/** The same call on both modules throws the same error (and does throw). */
function sameError(call: (fs: typeof ours) => unknown): Record<string, unknown> {
  // typed as ours: the calls are the shapes src/ makes, which node:fs takes too
  const theirs = thrown(() => call(node as unknown as typeof ours));
  expect(theirs).not.toBe('no error');
  expect(thrown(() => call(ours))).toEqual(theirs);
  return theirs as Record<string, unknown>;
}

const STAT_FIELDS = ['dev', 'ino', 'mode', 'nlink', 'uid', 'gid', 'rdev', 'size', 'blksize', 'blocks'] as const;
function statOf(s: node.Stats | ours.Stats): Record<string, unknown> {
  const o: Record<string, unknown> = { dir: s.isDirectory(), file: s.isFile(), link: s.isSymbolicLink() };
  for (const k of STAT_FIELDS) o[k] = s[k];
  return o;
}

describe('success values equal node:fs', () => {
  it('readFileSync: utf8, latin1, Buffer, an fd, procfs (size 0), a file larger than one read', () => {
    const f = join(dir, 'text');
    node.writeFileSync(f, 'héllo ☃ \u{1F600}\n\xff');
    for (const enc of ['utf8', 'latin1'] as const) expect(ours.readFileSync(f, enc)).toBe(node.readFileSync(f, enc));
    expect(ours.readFileSync(f).equals(node.readFileSync(f))).toBe(true);
    expect(ours.readFileSync('/proc/self/mountinfo', 'utf8')).toBe(node.readFileSync('/proc/self/mountinfo', 'utf8'));
    expect(ours.readFileSync('/proc/cgroups', 'utf8')).toBe(node.readFileSync('/proc/cgroups', 'utf8'));
    const big = join(dir, 'big');
    node.writeFileSync(big, Buffer.alloc(300_000, 'x'));
    expect(ours.readFileSync(big, 'utf8')).toBe(node.readFileSync(big, 'utf8'));
    const fd = node.openSync(f, 'r');
    node.readSync(fd, Buffer.alloc(3));
    expect(ours.readFileSync(fd, 'utf8')).toBe(node.readFileSync(f).subarray(3).toString()); // from the position on, fd left open
    expect(ours.readFileSync(fd, 'utf8')).toBe('');
    node.closeSync(fd);
  });

  it('writeFileSync (mode), appendFileSync, writeSync/readSync with offsets and positions, ftruncateSync', () => {
    const a = join(dir, 'w-ours');
    const b = join(dir, 'w-node');
    ours.writeFileSync(a, 'first', { mode: 0o640 });
    node.writeFileSync(b, 'first', { mode: 0o640 });
    ours.writeFileSync(a, 'second ☃'); // truncates, keeps the mode
    node.writeFileSync(b, 'second ☃');
    ours.appendFileSync(a, '+more');
    node.appendFileSync(b, '+more');
    expect(node.readFileSync(a, 'utf8')).toBe('second ☃+more');
    expect(node.statSync(a).mode).toBe(node.statSync(b).mode);

    // The same steps on both: a string at a position (pwrite: the file
    // position stays), a slice of a buffer at the file position, a read into
    // a slice at a position, a truncation.
    const steps = (fs: typeof node | typeof ours, path: string) => {
      const fd = fs.openSync(path, fs.constants.O_RDWR);
      const out = [fs.writeSync(fd, 'XY', 0), fs.writeSync(fd, Buffer.from('..abc..'), 2, 3)];
      const buf = Buffer.alloc(10, '-');
      out.push(fs.readSync(fd, buf, 1, 4, 1), fs.readSync(fd, buf, 6, 3));
      fs.ftruncateSync(fd);
      out.push(fs.fstatSync(fd).size);
      fs.closeSync(fd);
      return [...out, buf.toString(), node.readFileSync(path, 'utf8')];
    };
    const mine = steps(ours, a);
    expect(mine).toEqual(steps(node, b));
    expect(mine).toEqual([2, 3, 4, 3, 0, '-bcon-ond-', '']);
  });

  it('writeAllSync: every byte of a string larger than a pipe holds, into a non-blocking pipe that fills (as a stdout someone set non-blocking)', async () => {
    const fifo = join(dir, 'fifo');
    const copy = join(dir, 'fifo-copy');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // A reader that does not read keeps the pipe open while it fills; cat
    // starts reading only after the write has met a full pipe (EAGAIN).
    const idle = node.openSync(fifo, node.constants.O_RDONLY | node.constants.O_NONBLOCK);
    const fd = node.openSync(fifo, node.constants.O_WRONLY | node.constants.O_NONBLOCK);
    const cat = spawn('sh', ['-c', 'sleep 0.3; exec cat < "$1" > "$2"', 'sh', fifo, copy]);
    const done = new Promise((resolve) => cat.on('close', resolve));
    const text = 'tsrunc \u2603\n'.repeat(40_000); // ~440 kB of UTF-8, pipes hold 64 kB
    try {
      ours.writeAllSync(fd, text);
    } finally {
      node.closeSync(fd);
      node.closeSync(idle);
    }
    expect(await done).toBe(0);
    expect(node.readFileSync(copy, 'utf8') === text).toBe(true);
  });

  it('statSync, lstatSync, fstatSync, statfsSync, existsSync, accessSync, readlinkSync', () => {
    const f = join(dir, 'stat-me');
    node.writeFileSync(f, 'abc');
    const l = join(dir, 'link');
    node.symlinkSync(f, l);
    for (const p of [f, l, dir, '/dev/null', '/proc/self'])
      for (const call of ['statSync', 'lstatSync'] as const) expect(statOf(ours[call](p)), `${call} ${p}`).toEqual(statOf(node[call](p)));
    const fd = node.openSync(f, 'r');
    expect(statOf(ours.fstatSync(fd))).toEqual(statOf(node.fstatSync(fd)));
    node.closeSync(fd);
    // A busy filesystem's free counts move between two calls: ours is compared
    // with node's only when node's read just before and just after it agree.
    const nodeStatfs = (p: string) => {
      const b = node.statfsSync(p);
      return { type: b.type, bsize: b.bsize, blocks: b.blocks, bfree: b.bfree, bavail: b.bavail, files: b.files, ffree: b.ffree };
    };
    for (const p of ['/', '/proc', '/sys/fs/cgroup']) {
      let tries = 0;
      for (;;) {
        const [before, a, after] = [nodeStatfs(p), { ...ours.statfsSync(p) }, nodeStatfs(p)];
        if (JSON.stringify(before) !== JSON.stringify(after) && ++tries < 50) continue;
        expect(a, p).toEqual(before);
        break;
      }
    }
    for (const p of [f, l, dir, join(dir, 'nope'), `${f}/x`, 'a\0b']) expect(ours.existsSync(p)).toBe(node.existsSync(p));
    expect(ours.accessSync(f, ours.constants.R_OK)).toBeUndefined();
    expect(ours.readlinkSync(l)).toBe(node.readlinkSync(l));
    expect(ours.readlinkSync('/proc/self/ns/pid')).toBe(node.readlinkSync('/proc/self/ns/pid'));
  });

  it('readdirSync: names in the same order, and Dirents with types', () => {
    const d = join(dir, 'listing');
    node.mkdirSync(d);
    for (const n of ['b', 'B', 'a.txt', '_z', '10', '9']) node.writeFileSync(join(d, n), '');
    node.mkdirSync(join(d, 'sub'));
    node.symlinkSync('sub', join(d, 'ln'));
    for (const p of [d, '/dev', '/proc/self', '/etc']) expect(ours.readdirSync(p), p).toEqual(node.readdirSync(p));
    const dirent = (e: node.Dirent | ours.Dirent) => ({ name: e.name, parentPath: e.parentPath, d: e.isDirectory(), f: e.isFile(), l: e.isSymbolicLink() });
    for (const p of [d, '/dev', '/sys/fs/cgroup']) expect(ours.readdirSync(p, { withFileTypes: true }).map(dirent), p).toEqual(node.readdirSync(p, { withFileTypes: true }).map(dirent));
  });

  it('mkdirSync (mode, recursive), rmdirSync, unlinkSync, renameSync, rmSync (recursive, force), chmodSync, chownSync', () => {
    const umask = process.umask();
    const top = join(dir, 'mk');
    expect(ours.mkdirSync(join(top, 'a/b'), { recursive: true, mode: 0o750 })).toBe(node.mkdirSync(join(dir, 'mk-node/a/b'), { recursive: true, mode: 0o750 })?.replace('mk-node', 'mk'));
    expect(ours.mkdirSync(join(top, 'a/b'), { recursive: true })).toBeUndefined(); // there already
    expect(ours.mkdirSync(top + '/', { recursive: true })).toBeUndefined();
    expect(node.statSync(join(top, 'a')).mode & 0o7777).toBe(0o750 & ~umask);
    ours.mkdirSync(join(top, 'c'), 0o700);
    expect(node.statSync(join(top, 'c')).mode & 0o7777).toBe(0o700 & ~umask);
    ours.chmodSync(join(top, 'c'), 0o1711);
    expect(node.statSync(join(top, 'c')).mode & 0o7777).toBe(0o1711);
    if (isRoot) {
      ours.chownSync(join(top, 'c'), 12345, 23456);
      expect([node.statSync(join(top, 'c')).uid, node.statSync(join(top, 'c')).gid]).toEqual([12345, 23456]);
    }
    ours.rmdirSync(join(top, 'c'));
    node.writeFileSync(join(top, 'a/f'), 'x');
    ours.renameSync(join(top, 'a/f'), join(top, 'a/b/g'));
    expect(node.readFileSync(join(top, 'a/b/g'), 'utf8')).toBe('x');
    node.symlinkSync('/etc', join(top, 'a/b/etc')); // removed, not followed
    ours.unlinkSync(join(top, 'a/b/g'));
    ours.rmSync(join(top, 'missing'), { force: true });
    ours.rmSync(top, { recursive: true, force: true });
    expect(node.existsSync(top)).toBe(false);
    expect(node.existsSync('/etc/passwd')).toBe(true);
  });

  it('opens O_CLOEXEC, as node:fs does: no fd leaks into a hook or the container', () => {
    const fd = ours.openSync('/dev/null', 'r');
    try {
      const flags = node.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').match(/^flags:\s+(\d+)/m)![1];
      expect(parseInt(flags, 8) & 0o2000000).not.toBe(0);
    } finally {
      ours.closeSync(fd);
    }
  });
});

describe('errors equal node:fs', () => {
  const file = () => join(dir, 'a-file');
  beforeAll(() => node.writeFileSync(join(dir, 'a-file'), 'x'));

  it('ENOENT', () => {
    const p = join(dir, 'nope');
    for (const call of [
      (fs: any) => fs.readFileSync(p, 'utf8'),
      (fs: any) => fs.readFileSync(p),
      (fs: any) => fs.openSync(p, 'r'),
      (fs: any) => fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY),
      (fs: any) => fs.statSync(p),
      (fs: any) => fs.lstatSync(p),
      (fs: any) => fs.statfsSync(p),
      (fs: any) => fs.readdirSync(p),
      (fs: any) => fs.readdirSync(p, { withFileTypes: true }),
      (fs: any) => fs.readlinkSync(p),
      (fs: any) => fs.accessSync(p),
      (fs: any) => fs.chmodSync(p, 0o700),
      (fs: any) => fs.chownSync(p, 0, 0),
      (fs: any) => fs.unlinkSync(p),
      (fs: any) => fs.rmdirSync(p),
      (fs: any) => fs.rmSync(p),
      (fs: any) => fs.mkdirSync(`${p}/x`),
      (fs: any) => fs.renameSync(p, `${p}-2`),
      (fs: any) => fs.writeFileSync(`${p}/x`, 'a', { mode: 0o600 }),
      (fs: any) => fs.appendFileSync(`${p}/x`, 'a'),
    ])
      expect(sameError(call).code).toBe('ENOENT');
  });

  it('ENOTDIR, EEXIST, EISDIR, EINVAL, EBADF', () => {
    const f = file();
    expect(sameError((fs) => fs.readFileSync(`${f}/x`, 'utf8')).code).toBe('ENOTDIR');
    expect(sameError((fs) => fs.readdirSync(f)).code).toBe('ENOTDIR');
    expect(sameError((fs) => fs.mkdirSync(`${f}/x`, { recursive: true })).code).toBe('ENOTDIR');
    expect(sameError((fs) => fs.mkdirSync(`${f}/x/y`, { recursive: true, mode: 0o700 })).code).toBe('ENOTDIR');
    expect(sameError((fs) => fs.openSync(f, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY)).code).toBe('ENOTDIR');
    expect(sameError((fs) => fs.rmdirSync(f)).code).toBe('ENOTDIR');
    expect(sameError((fs) => fs.mkdirSync(dir)).code).toBe('EEXIST');
    expect(sameError((fs) => fs.mkdirSync(f, { recursive: true })).code).toBe('EEXIST');
    expect(sameError((fs) => fs.mkdirSync(f, { mode: 0o711 })).code).toBe('EEXIST');
    expect(sameError((fs) => fs.openSync(f, 'wx')).code).toBe('EEXIST');
    node.mkdirSync(join(dir, 'a-dir'));
    expect(sameError((fs) => fs.renameSync(join(dir, 'a-dir'), f)).code).toBe('ENOTDIR');
    expect(sameError((fs) => fs.readFileSync(dir, 'utf8')).code).toBe('EISDIR'); // the read fails: no path, as node:fs
    expect(sameError((fs) => fs.readFileSync(dir)).code).toBe('EISDIR');
    expect(sameError((fs) => fs.openSync(dir, 'w')).code).toBe('EISDIR');
    expect(sameError((fs) => fs.writeFileSync(dir, 'x', { mode: 0o600 })).code).toBe('EISDIR');
    expect(sameError((fs) => fs.unlinkSync(dir)).code).toBe('EISDIR');
    expect(sameError((fs) => fs.readlinkSync(f)).code).toBe('EINVAL');
    expect(sameError((fs) => fs.closeSync(1_000_000)).code).toBe('EBADF');
    expect(sameError((fs) => fs.fstatSync(1_000_000)).code).toBe('EBADF');
    expect(sameError((fs) => fs.writeSync(1_000_000, 'x')).code).toBe('EBADF');
    expect(sameError((fs) => fs.readSync(1_000_000, Buffer.alloc(1))).code).toBe('EBADF');
    expect(sameError((fs) => fs.ftruncateSync(1_000_000)).code).toBe('EBADF');
    expect(sameError((fs) => fs.readFileSync(1_000_000, 'utf8')).code).toBe('EBADF');
    // rename names both paths
    expect(sameError((fs) => fs.renameSync(join(dir, 'nope'), join(dir, 'nope2'))).dest).toBe(join(dir, 'nope2'));
  });

  it('a path with a NUL is refused, not cut short', () => {
    for (const call of [(fs: any) => fs.readFileSync('/etc/passwd\0x', 'utf8'), (fs: any) => fs.statSync('/etc\0'), (fs: any) => fs.mkdirSync(`${dir}/a\0b`)])
      expect(sameError(call).code).toBe('ERR_INVALID_ARG_VALUE');
  });

  it('EACCES (X_OK on a file with no x bit fails even for root)', () => {
    expect(sameError((fs) => fs.accessSync(file(), fs.constants.X_OK)).code).toBe('EACCES');
  });

  it('EACCES as an unprivileged user', (ctx) => {
    // A directory only its owner may enter, and a process that is not its
    // owner: root's children as nobody (65534), or the caller itself.
    // nobody runs this checkout's Node on its sources: not from a checkout
    // under a directory closed to others (a 0700 home).
    if (isRoot) {
      const reach = spawnSync('test', ['-x', process.execPath, '-a', '-r', join(repo, 'src/util/fs.ts')], { uid: 65534, gid: 65534 });
      if (reach.status !== 0) return ctx.skip(`nobody cannot run ${process.execPath} on ${join(repo, 'src/util/fs.ts')} (a directory above them is closed to others)`);
    }
    const locked = join(dir, 'locked');
    node.mkdirSync(locked, { mode: 0o700 });
    node.writeFileSync(join(locked, 'f'), 'x');
    node.chmodSync(dir, 0o755);
    const script = `
      import * as node from 'node:fs';
      import * as ours from ${JSON.stringify(join(repo, 'src/util/fs.ts'))};
      const p = ${JSON.stringify(locked)};
      const calls = [
        (fs) => fs.readFileSync(p + '/f', 'utf8'), (fs) => fs.openSync(p + '/f', 'r'), (fs) => fs.readdirSync(p),
        (fs) => fs.mkdirSync(p + '/d'), (fs) => fs.mkdirSync(p + '/d/e', { recursive: true }), (fs) => fs.statSync(p + '/f'),
        (fs) => fs.writeFileSync(p + '/g', 'x', { mode: 0o600 }), (fs) => fs.unlinkSync(p + '/f'), (fs) => fs.chmodSync(p, 0o777),
      ];
      const shape = (f) => { try { f(); return 'no error'; } catch (e) { return { message: e.message, code: e.code, errno: e.errno, syscall: e.syscall, path: e.path }; } };
      console.log(JSON.stringify(calls.map((c) => [shape(() => c(node)), shape(() => c(ours))])));
    `;
    // Node strips the types of src/util/fs.ts and src/addon.ts itself (a flag before Node 23).
    const flags = Number(process.versions.node.split('.')[0]) < 23 ? ['--experimental-strip-types'] : [];
    const r = spawnSync(process.execPath, [...flags, '--no-warnings', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      ...(isRoot ? { uid: 65534, gid: 65534 } : {}),
    });
    expect(r.status, r.stderr).toBe(0);
    const pairs = JSON.parse(r.stdout) as Array<[any, any]>;
    expect(pairs.length).toBe(9);
    for (const [theirs, mine] of pairs) {
      expect(theirs.code).toMatch(/^E(ACCES|PERM)$/);
      expect(mine).toEqual(theirs);
    }
    expect(pairs.filter(([t]) => t.code === 'EACCES').length).toBeGreaterThan(6);
  });
});

describe('errno descriptions equal node:util', () => {
  it("errnoDescription is getSystemErrorMessage for every errno (the child's failures use it)", () => {
    for (let errno = 1; errno < 134; errno++) expect(ours.errnoDescription(errno), `errno ${errno}`).toBe(getSystemErrorMessage(-errno));
  });
});

describe('the addon is loaded at the first file call, not at import', () => {
  it('a build without its addon (a broken install) still answers --version, and says what is wrong in one error line', (ctx) => {
    const parts = runtimeParts(runtime);
    if (!parts) return ctx.skip(`${runtime} has not this repository's layout (dist/, prebuilds/)`);
    // The build's tree, hard-linked (copied across file systems), less the addon.
    const top = join(dir, 'broken-install');
    const place = (from: string, to: string) => {
      node.mkdirSync(dirname(to), { recursive: true });
      try {
        node.linkSync(from, to);
      } catch {
        node.copyFileSync(from, to);
      }
    };
    place(node.realpathSync(runtime), join(top, 'dist', basename(runtime)));
    for (const p of parts.read) if (dirname(p) === parts.dist) place(p, join(top, 'dist', basename(p)));
    if (parts.node) node.symlinkSync(parts.node, join(top, 'dist', 'node'));
    place(join(parts.prebuilds, 'tsrunc-init'), join(top, 'prebuilds', basename(parts.prebuilds), 'tsrunc-init'));
    const bin = join(top, 'dist', basename(runtime));
    const version = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout).toMatch(/^tsrunc version /);
    for (const args of [['list'], ['state', 'fastfs-x'], ['kill', 'fastfs-x', '0']]) {
      const r = spawnSync(bin, ['--root', join(dir, 'no-root'), ...args], { encoding: 'utf8' });
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toEqual([expect.stringMatching(/^time=.* level=error msg=".*cannot load tsrunc's native addon: .*tsrunc\.napi\.node.*reinstall tsrunc"$/)]);
    }
  });
});
