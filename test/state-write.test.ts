// How a container's state.json is written (src/state/store.ts,
// replaceOwnFile): the new state goes whole into a new file, which takes the
// old one's place, so that a reader (state, list, ps, events and exec take no
// lock) only ever reads a whole state, old or new; and where the exchange
// that puts it in place is refused, the rename. A path a caller names
// (writeFileAtomic: --pid-file) is only ever renamed into place.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ContainerDir, writeFileAtomic, type StoredState } from '../src/state/store.ts';
import { cleanup, isRoot, makeBundle, repo, rt, runtime, stateRoot } from './lib/harness.ts';

const root = mkdtempSync(join(tmpdir(), 'tsrunc-state-write-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A state whose JSON is about `pad` bytes longer than the smallest. */
const stateOf = (id: string, n: number, pad: number): StoredState => ({
  ociVersion: '1.2.0',
  id,
  pid: n,
  initStartTime: 0,
  bundle: '/b',
  rootfs: '/b/rootfs',
  created: '',
  owner: '',
  annotations: { pad: 'x'.repeat(pad) },
});

describe('state.json', () => {
  it('each write puts a new file in its place: a reader that opened the old one reads it whole, and nothing else is left', () => {
    const dir = ContainerDir.create(root, 'sizes');
    try {
      // The first write has no state.json to exchange with: a plain rename.
      dir.write(stateOf('sizes', 1, 3000));
      let last = JSON.stringify(stateOf('sizes', 1, 3000));
      // Longer and shorter in turn, each time with the last one held open.
      for (const [n, pad] of [[2, 10], [3, 5000], [4, 0], [5, 4097]]) {
        const held = openSync(dir.statePath, 'r');
        try {
          dir.write(stateOf('sizes', n, pad));
          dir.write(stateOf('sizes', n, 100));
          dir.write(stateOf('sizes', n, pad));
          expect(readFileSync(held, 'utf8'), 'the file a reader opened is never written again').toBe(last);
          expect(fstatSync(held).nlink, 'and is gone from the directory').toBe(0);
        } finally {
          closeSync(held);
        }
        last = JSON.stringify(stateOf('sizes', n, pad));
        expect(readFileSync(dir.statePath, 'utf8')).toBe(last);
        expect(readdirSync(dir.path)).toEqual(['state.json']);
      }
      expect(dir.read().pid).toBe(5);
    } finally {
      dir.remove();
    }
    expect(existsSync(join(root, 'sizes'))).toBe(false);
  });

  it('a reader that opens it in a loop while it is written for half a second never reads a partial state', async () => {
    const dir = ContainerDir.create(root, 'readers');
    try {
      dir.write(stateOf('readers', 0, 2000));
      // A separate process (this Node), so that its reads run while this one writes.
      const reader = spawn(
        process.execPath,
        [
          '-e',
          `const fs = require('node:fs'), path = process.argv[1];
           let bad = 0; const seen = new Set();
           fs.readFileSync(path, 'utf8'); console.log('ready');
           for (;;) {
             const t = fs.readFileSync(path, 'utf8');
             if (t === 'done') break;
             try { seen.add(JSON.parse(t).pid); } catch { bad++; }
           }
           console.log(seen.size, bad);`,
          dir.statePath,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let out = '';
      const ready = new Promise<void>((resolve) => reader.stdout.once('data', () => resolve()));
      reader.stdout.on('data', (d) => (out += d));
      const exited = new Promise<number | null>((resolve) => reader.on('close', resolve));
      await ready;
      let writes = 0;
      for (const end = Date.now() + 500; Date.now() < end; ) dir.write(stateOf('readers', ++writes, writes % 2 ? 9000 : 10));
      // The reader's signal to stop: not JSON, so it is never taken for a state.
      writeFileSync(`${dir.statePath}.stop`, 'done');
      renameSync(`${dir.statePath}.stop`, dir.statePath);
      expect(await exited).toBe(0);
      const [seen, bad] = out.trim().split('\n').at(-1)!.split(' ').map(Number);
      expect(seen, `the reader read while the writes ran (${writes} writes)`).toBeGreaterThan(20);
      expect(bad).toBe(0);
    } finally {
      dir.remove();
    }
  }, 60_000);

  it('a file the caller names (--pid-file) is renamed into place: where a directory has that name, the write fails and the directory stays', () => {
    const dir = join(root, 'pid-dir');
    mkdirSync(dir);
    writeFileSync(join(dir, 'inside'), 'x');
    expect(() => writeFileAtomic(dir, '123', 0o644)).toThrow(/EISDIR|is a directory/);
    expect(statSync(dir).isDirectory()).toBe(true);
    expect(readdirSync(root).filter((f) => f.startsWith('pid-dir.')), 'the new file, left beside the directory').toEqual([]);
    expect(readFileSync(join(dir, 'inside'), 'utf8')).toBe('x');
    const file = join(root, 'pid');
    writeFileAtomic(file, '123', 0o644);
    writeFileAtomic(file, '4', 0o644);
    expect(readFileSync(file, 'utf8')).toBe('4');
  });
});

// The exchange refused, as by a filesystem without it (EINVAL: NFS, 9p), a
// kernel without renameat2 (ENOSYS) or a seccomp profile that predates it
// (EPERM): test/lib/refuse_renameat2.c runs tsrunc so.
const helperDir = mkdtempSync(join(tmpdir(), 'tsrunc-refuse-'));
const helper = join(helperDir, 'refuse_renameat2');
const helperBuilt = spawnSync('cc', ['-O1', '-o', helper, join(repo, 'test/lib/refuse_renameat2.c')], { stdio: 'ignore' }).status === 0;
/** The filter installs (a kernel with seccomp filters) and renameat2 is then refused: helper EINVAL true. */
const helperWorks = helperBuilt && spawnSync(helper, ['22', 'true'], { stdio: 'ignore' }).status === 0;
const cliRoot = isRoot ? stateRoot() : '';
afterAll(() => {
  if (cliRoot) cleanup(cliRoot);
  rmSync(helperDir, { recursive: true, force: true });
});
const whyNot = !isRoot
  ? 'needs root'
  : !helperBuilt
    ? 'needs cc to build test/lib/refuse_renameat2.c (x86_64 or aarch64)'
    : !helperWorks
      ? 'test/lib/refuse_renameat2.c could not install its seccomp filter (a kernel without SECCOMP_MODE_FILTER?)'
      : '';

/** tsrunc with renameat2 failing with errno: its status and stderr (stdout not a pipe: run -d leaves it to the container). */
function refused(errno: number, args: string[]): { code: number | null; stderr: string } {
  const err = join(helperDir, 'stderr');
  const fd = openSync(err, 'w');
  try {
    const r = spawnSync(helper, [String(errno), runtime, '--root', cliRoot, ...args], { stdio: ['ignore', 'ignore', fd], timeout: 30_000 });
    return { code: r.status, stderr: readFileSync(err, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

describe.skipIf(!!whyNot)(`state writes where renameat2 is refused${whyNot ? ` (skipped: ${whyNot})` : ''}`, () => {
  const stored = (id: string) => JSON.parse(readFileSync(join(cliRoot, id, 'state.json'), 'utf8'));
  for (const [name, errno] of [['EINVAL', 22], ['ENOSYS', 38], ['EPERM', 1]] as const)
    it(`${name}: run -d, update and delete work by renaming, and leave no temporary file`, () => {
      const id = `refused-${name.toLowerCase()}-${process.pid}`;
      expect(refused(errno, ['run', '-d', '-b', makeBundle(['sleep', '1000']), id])).toEqual({ code: 0, stderr: '' });
      try {
        expect(refused(errno, ['update', '--pids-limit', '42', id])).toEqual({ code: 0, stderr: '' });
        expect(stored(id).cleanup.cgroup.resources.pids).toEqual({ limit: 42 });
        expect(refused(errno, ['update', '--pids-limit', '43', id])).toEqual({ code: 0, stderr: '' });
        expect(stored(id).cleanup.cgroup.resources.pids).toEqual({ limit: 43 });
        expect(readdirSync(join(cliRoot, id)).sort()).toEqual(['config.json', 'state.json']);
        expect(refused(errno, ['delete', '--force', id])).toEqual({ code: 0, stderr: '' });
        expect(existsSync(join(cliRoot, id))).toBe(false);
      } finally {
        rt(cliRoot, ['delete', '--force', id]);
      }
    });

  it('another failure of the exchange (EIO) fails the update with its reason, and leaves no temporary file', () => {
    const id = `refused-eio-${process.pid}`;
    expect(rt(cliRoot, ['run', '-d', '-b', makeBundle(['sleep', '1000']), id]).code).toBe(0);
    try {
      const r = refused(5, ['update', '--pids-limit', '42', id]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/EIO: i\/o error, renameat2 '[^']*state\.json\.\d+\.tmp' -> '[^']*state\.json'/);
      expect(readdirSync(join(cliRoot, id)).sort()).toEqual(['config.json', 'state.json']);
    } finally {
      rt(cliRoot, ['delete', '--force', id]);
    }
  });
});
