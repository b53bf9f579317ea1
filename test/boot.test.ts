// dist/tsrunc's boot (src/cli/boot.ts): the CLI compiled with a V8 code cache
// per verb, kept beside the file. Each test runs a copy of dist/tsrunc in a
// tree of its own (dist/ and a link to build/), so its cache is its own.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repo, runtime } from './lib/harness.ts';

const shipped = runtime === join(repo, 'dist/tsrunc');

function copyOfCli(): { bin: string; cache: string } {
  const tree = mkdtempSync(join(tmpdir(), 'tsrunc-boot-'));
  mkdirSync(join(tree, 'dist'));
  symlinkSync(join(repo, 'build'), join(tree, 'build'));
  const bin = join(tree, 'dist/tsrunc');
  copyFileSync(runtime, bin);
  copyFileSync(join(repo, 'dist/package.json'), join(tree, 'dist/package.json'));
  chmodSync(bin, 0o755);
  return { bin, cache: `${bin}.cache` };
}

function tsrunc(bin: string, ...args: string[]) {
  const r = spawnSync(bin, args, { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const files = (dir: string) => readdirSync(dir).sort();

describe.skipIf(!shipped)('boot: the code cache', () => {
  it('a verb writes its cache at its first run and reads it, unchanged, after', () => {
    const { bin, cache } = copyOfCli();
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
    const { bin, cache } = copyOfCli();
    const expected = tsrunc(bin, 'spec', '--help');
    const file = join(cache, files(cache)[0]);
    const garbage = Buffer.alloc(statSync(file).size, 0x5a);
    writeFileSync(file, garbage);
    expect(tsrunc(bin, 'spec', '--help')).toEqual(expected);
    expect(readFileSync(file).equals(garbage)).toBe(false);
  });

  // A good cache: were it read, V8 would take it and nothing would be written;
  // not read, it is written anew (write + rename: another inode, mode 0644).
  it.each([
    ['a cache file', (file: string) => chmodSync(file, 0o666)],
    ['a cache directory', (file: string) => chmodSync(dirname(file), 0o777)],
  ])('%s that others could write is not read, and the cache is replaced by one of ours', (_what, loosen) => {
    const { bin, cache } = copyOfCli();
    tsrunc(bin, '--version');
    const file = join(cache, files(cache)[0]);
    loosen(file);
    const before = statSync(file);
    expect(tsrunc(bin, '--version')).toMatchObject({ code: 0, stderr: '' });
    const after = statSync(file);
    expect(after.ino).not.toBe(before.ino);
    expect(after.mode & 0o777).toBe(0o644);
  });

  it("a cache from another build of the CLI, and a dead writer's temp file, are removed when this build writes the verb's own", () => {
    const { bin, cache } = copyOfCli();
    mkdirSync(cache);
    writeFileSync(join(cache, 'other-0000000000000000'), 'stale');
    writeFileSync(join(cache, 'list-0000000000000000'), 'stale');
    writeFileSync(join(cache, '.other-0000000000000000.1234'), 'left by a writer that died');
    tsrunc(bin, '--version');
    expect(files(cache)).toEqual(['list-0000000000000000', expect.stringMatching(/^other-(?!0{16})[0-9a-f]{16}$/)]);
  });

  it('where no cache can be written the CLI works as without one', () => {
    const { bin, cache } = copyOfCli();
    writeFileSync(cache, 'a file where the cache directory would go');
    const r = tsrunc(bin, '--version');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^tsrunc version /);
    expect(readFileSync(cache, 'utf8')).toBe('a file where the cache directory would go');
  });
});

describe('boot: the layout of dist/tsrunc', () => {
  it.skipIf(!shipped)('the CLI sits in one block comment after the boot code, and errors point into it', () => {
    const text = readFileSync(runtime, 'utf8');
    // tsrunc-launch starts the Node that built it with the flags
    // scripts/bundle.mjs chose: the kernel hands a #! interpreter one
    // argument, which tsrunc-launch splits at spaces.
    const shebang = text.slice(0, text.indexOf('\n'));
    expect(shebang).toMatch(/^#!\/\S+\/build\/Release\/tsrunc-launch \/\S+\/node --no-rehash-snapshot --min-semi-space-size=8 --jitless --v8-pool-size=1( --no-expose-wasm)?$/);
    expect(shebang.length).toBeLessThan(256);
    const [launcher, ...words] = shebang.slice(2).split(' ');
    const argv = spawnSync(launcher, [words.join(' '), '-p', 'JSON.stringify([process.execArgv, process.argv.slice(1)])', 'a', 'b c'], { encoding: 'utf8' });
    expect(argv.stderr).toBe('');
    expect(JSON.parse(argv.stdout)).toEqual([[...words.slice(1), '-p', 'JSON.stringify([process.execArgv, process.argv.slice(1)])'], ['a', 'b c']]);
    // A verb that succeeds prints only its output: nothing of Node's on stderr.
    expect(spawnSync(runtime, ['--version'], { encoding: 'utf8' })).toMatchObject({ status: 0, stdout: expect.stringMatching(/^tsrunc version .*\nnode: v\d+/s), stderr: '' });
    expect(text.endsWith('\n*/\n')).toBe(true);
    const open = text.lastIndexOf('\n/*\n');
    expect(text.slice(open + 4, -4)).not.toContain('*/');
    // --debug prints the stack: its frames are in dist/tsrunc, on the CLI's lines.
    const r = spawnSync(runtime, ['--debug', '--root', mkdtempSync(join(tmpdir(), 'tsrunc-boot-root-')), 'state', 'nothing-here'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    const line = Number(/dist\/tsrunc:(\d+):\d+/.exec(r.stderr)?.[1]);
    expect(line).toBeGreaterThan(text.slice(0, open).split('\n').length);
  });
});
