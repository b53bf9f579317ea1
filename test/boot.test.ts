// The Node build's boot (src/cli/boot.ts): the CLI compiled with a V8 code
// cache per verb, kept beside the file (or in the user's cache where dist/
// cannot take it), and the launcher (addon/launch/launch.c) that runs it:
// dist/tsrunc-node, which is also dist/tsrunc when the build is made with
// TSRUNC_ENGINE=node (dist/tsrunc is otherwise the Bun executable). Each test
// runs a copy of dist/ in a tree of its own (with a link to prebuilds/), so its
// cache is its own, and its own user cache dir (XDG_CACHE_HOME).
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRoot, repo, runtime } from './lib/harness.ts';

const dist = join(repo, 'dist');
// This repository's build is the one under test (not another TSRUNC_BIN).
const shipped = [join(dist, 'tsrunc'), join(dist, 'tsrunc-node')].includes(runtime) && existsSync(join(dist, 'tsrunc-node'));
const nodeBuild = join(dist, 'tsrunc-node');

function copyOfCli(): { tree: string; bin: string; cache: string; userCache: string; env: NodeJS.ProcessEnv } {
  const tree = mkdtempSync(join(tmpdir(), 'tsrunc-boot-'));
  mkdirSync(join(tree, 'dist'));
  symlinkSync(join(repo, 'prebuilds'), join(tree, 'prebuilds'));
  copyFileSync(nodeBuild, join(tree, 'dist/tsrunc'));
  for (const f of ['tsrunc.cjs', 'node.flags']) copyFileSync(join(dist, f), join(tree, 'dist', f));
  symlinkSync(realpathSync(join(dist, 'node')), join(tree, 'dist/node'));
  const xdg = join(tree, 'xdg');
  return { tree, bin: join(tree, 'dist/tsrunc'), cache: join(tree, 'dist/tsrunc.cache'), userCache: join(xdg, 'tsrunc'), env: { ...process.env, XDG_CACHE_HOME: xdg } };
}

let env: NodeJS.ProcessEnv = process.env;
function tsrunc(bin: string, ...args: string[]) {
  const r = spawnSync(bin, args, { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
function cli(): ReturnType<typeof copyOfCli> {
  const c = copyOfCli();
  env = c.env;
  return c;
}

const files = (dir: string) => readdirSync(dir).sort();

describe.skipIf(!shipped)('boot: the code cache', () => {
  it('a verb writes its cache at its first run and reads it, unchanged, after', () => {
    const { bin, cache } = cli();
    const first = tsrunc(bin, '--version');
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(files(cache)).toEqual([expect.stringMatching(/^other-[0-9a-f]{16}$/)]);
    const file = join(cache, files(cache)[0]);
    const st = statSync(file);
    expect(st.mode & 0o777).toBe(0o644);
    expect(st.size).toBeGreaterThan(1000);

    // Accepted (not rejected by V8): the second run leaves it as it was.
    expect(tsrunc(bin, '--version')).toEqual(first);
    const again = statSync(file);
    expect([again.ino, again.mtimeMs]).toEqual([st.ino, st.mtimeMs]);

    // One cache per verb, found behind the global flags.
    const root = mkdtempSync(join(tmpdir(), 'tsrunc-boot-root-'));
    expect(tsrunc(bin, '--root', root, '--log-format', 'text', 'list', '-q')).toMatchObject({ code: 0, stdout: '' });
    expect(files(cache).map((f) => f.split('-')[0])).toEqual(['list', 'other']);
  });

  it('a corrupt cache is rejected by V8, the verb runs all the same, and the cache is rewritten', () => {
    const { bin, cache } = cli();
    const expected = tsrunc(bin, 'spec', '--help');
    const file = join(cache, files(cache)[0]);
    const garbage = Buffer.alloc(statSync(file).size, 0x5a);
    writeFileSync(file, garbage);
    expect(tsrunc(bin, 'spec', '--help')).toEqual(expected);
    expect(readFileSync(file).equals(garbage)).toBe(false);
  });

  // A good cache: were it read, V8 would take it and nothing would be written;
  // not read, it is written anew (write + rename: another inode, mode 0644).
  it('a cache file that others could write is not read, and the cache is replaced by one of ours', () => {
    const { bin, cache } = cli();
    tsrunc(bin, '--version');
    const file = join(cache, files(cache)[0]);
    chmodSync(file, 0o666);
    const before = statSync(file);
    expect(tsrunc(bin, '--version')).toMatchObject({ code: 0, stderr: '' });
    const after = statSync(file);
    expect(after.ino).not.toBe(before.ino);
    expect(after.mode & 0o777).toBe(0o644);
  });

  it("a cache directory that others could write is neither read nor written: the user's cache takes it", () => {
    const { bin, cache, userCache } = cli();
    tsrunc(bin, '--version');
    const file = join(cache, files(cache)[0]);
    chmodSync(cache, 0o777);
    const before = statSync(file);
    expect(tsrunc(bin, '--version')).toMatchObject({ code: 0, stderr: '' });
    expect(statSync(file).ino).toBe(before.ino);
    expect(files(userCache)).toEqual([files(cache)[0]]);
    expect(statSync(userCache).mode & 0o777).toBe(0o700);
  });

  it("a cache from another build of the CLI, and a dead writer's temp file, are removed when this build writes the verb's own", () => {
    const { bin, cache } = cli();
    mkdirSync(cache);
    writeFileSync(join(cache, 'other-0000000000000000'), 'stale');
    writeFileSync(join(cache, 'list-0000000000000000'), 'stale');
    writeFileSync(join(cache, '.other-0000000000000000.1234'), 'left by a writer that died');
    tsrunc(bin, '--version');
    expect(files(cache)).toEqual(['list-0000000000000000', expect.stringMatching(/^other-(?!0{16})[0-9a-f]{16}$/)]);
  });

  it("a read-only install writes the cache to the user's cache and reads it from there", (ctx) => {
    ctx.skip(!isRoot, 'needs root for a read-only bind mount (unshare -m)');
    const { tree, bin, cache, userCache } = cli();
    // dist/ read-only in a mount namespace of its own, as an install on a read-only filesystem.
    const ro = (...args: string[]) => {
      const r = spawnSync('unshare', ['-m', 'sh', '-c', 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"', 'sh', join(tree, 'dist'), bin, ...args], { encoding: 'utf8', env });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const first = ro('--version');
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(() => readdirSync(cache)).toThrow(/ENOENT/);
    expect(files(userCache)).toEqual([expect.stringMatching(/^other-[0-9a-f]{16}$/)]);
    const st = statSync(join(userCache, files(userCache)[0]));
    // Read and taken: not written again.
    expect(ro('--version')).toEqual(first);
    const again = statSync(join(userCache, files(userCache)[0]));
    expect([again.ino, again.mtimeMs]).toEqual([st.ino, st.mtimeMs]);
  });

  it('where no cache can be written the CLI works as without one', () => {
    const { bin, cache, userCache } = cli();
    writeFileSync(cache, 'a file where the cache directory would go');
    mkdirSync(dirname(userCache), { recursive: true });
    writeFileSync(userCache, 'and one where the user cache would go');
    const r = tsrunc(bin, '--version');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^tsrunc version /);
    expect(readFileSync(cache, 'utf8')).toBe('a file where the cache directory would go');
  });
});

describe('boot: the launcher (dist/tsrunc)', () => {
  // A stand-in for the CLI that shows how Node was started.
  const probe = 'console.log(JSON.stringify([process.execPath, process.execArgv, process.argv.slice(2)]))\n';
  function tree() {
    const c = copyOfCli();
    writeFileSync(join(c.tree, 'dist/tsrunc.cjs'), probe);
    return c;
  }
  const run = (bin: string, args: string[], e: NodeJS.ProcessEnv = process.env) => {
    const r = spawnSync(bin, args, { encoding: 'utf8', env: e });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it.skipIf(!shipped)('starts dist/node with dist/node.flags on the CLI beside it, found through symlinks and after a move', () => {
    const { tree: t, bin } = tree();
    const flags = readFileSync(join(t, 'dist/node.flags'), 'utf8').trim().split(' ');
    const node = realpathSync(join(t, 'dist/node'));
    const links = mkdtempSync(join(tmpdir(), 'tsrunc-boot-bin-'));
    symlinkSync(bin, join(links, 'tsrunc'));
    symlinkSync(join(links, 'tsrunc'), join(links, 'tsrunc2'));
    for (const b of [bin, join(links, 'tsrunc'), join(links, 'tsrunc2')])
      expect(run(b, ['a', 'b c', ''])).toEqual({ code: 0, stdout: `${JSON.stringify([node, flags, ['a', 'b c', '']])}\n`, stderr: '' });
    // The tree moved: the link in the bin dir now dangles, the tree still runs.
    const moved = `${t}-moved`;
    spawnSync('mv', [t, moved]);
    expect(run(join(moved, 'dist/tsrunc'), ['x']).stdout).toBe(`${JSON.stringify([node, flags, ['x']])}\n`);
  });

  it.skipIf(!shipped)("without dist/node it runs `node` from PATH without flags, and says so when there is none", () => {
    const { tree: t, bin } = tree();
    const node = realpathSync(join(t, 'dist/node'));
    rmSync(join(t, 'dist/node'));
    const path = mkdtempSync(join(tmpdir(), 'tsrunc-boot-path-'));
    symlinkSync(node, join(path, 'node'));
    expect(run(bin, ['y'], { PATH: `/nonexistent:${path}` })).toEqual({ code: 0, stdout: `${JSON.stringify([node, [], ['y']])}\n`, stderr: '' });
    const none = run(bin, ['y'], { PATH: '/nonexistent' });
    expect(none.code).toBe(127);
    expect(none.stderr).toBe(`tsrunc: no Node to run: ${join(t, 'dist/node')} is missing and there is no node in PATH (install Node >= 22, then reinstall tsrunc)\n`);
  });

  it.skipIf(!shipped)('names no path of the build machine: dist/node is relative inside the checkout, the rest names none', () => {
    expect(readlinkSync(join(dist, 'node'))).not.toMatch(/^\//);
    for (const f of [join(dist, 'tsrunc'), nodeBuild, join(dist, 'tsrunc.cjs'), ...readdirSync(join(dist, 'bun')).map((f) => join(dist, 'bun', f)), ...readdirSync(join(repo, 'prebuilds'), { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name))])
      expect(readFileSync(f).includes(repo), f).toBe(false);
  });
});

describe('boot: the layout of dist/tsrunc.cjs', () => {
  it.skipIf(!shipped)('the CLI sits in one block comment after the boot code, and errors point into it', () => {
    const text = readFileSync(join(dist, 'tsrunc.cjs'), 'utf8');
    expect(readFileSync(join(dist, 'node.flags'), 'utf8')).toMatch(/^--no-rehash-snapshot --min-semi-space-size=8 --jitless --v8-pool-size=1( --no-expose-wasm)?\n$/);
    // A verb that succeeds prints only its output: nothing of Node's on stderr.
    expect(spawnSync(nodeBuild, ['--version'], { encoding: 'utf8' })).toMatchObject({ status: 0, stdout: expect.stringMatching(/^tsrunc version .*\nnode: v\d+/s), stderr: '' });
    expect(text.endsWith('\n*/\n')).toBe(true);
    const open = text.lastIndexOf('\n/*\n');
    expect(text.slice(open + 4, -4)).not.toContain('*/');
    // --debug prints the stack: its frames are in dist/tsrunc.cjs, on the CLI's lines.
    const r = spawnSync(nodeBuild, ['--debug', '--root', mkdtempSync(join(tmpdir(), 'tsrunc-boot-root-')), 'state', 'nothing-here'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    const line = Number(/dist\/tsrunc\.cjs:(\d+):\d+/.exec(r.stderr)?.[1]);
    expect(line).toBeGreaterThan(text.slice(0, open).split('\n').length);
  });
});
