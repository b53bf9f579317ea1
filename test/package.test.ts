// The package's install script (scripts/install.mjs), on a tree laid out as the
// package is (scripts/, prebuilds/<platform>-<arch>/, dist/): what it makes on a
// platform the package has binaries for (dist/tsrunc compiled with the Bun of
// the optional `bun` package, or the Node launcher without one), and its
// errors elsewhere. The whole package (npm run pack:npm, npm install -g from
// the registry, the installed CLI) is CI's scripts/test-package.sh.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repo } from './lib/harness.ts';

const platform = `${process.platform}-${process.arch}`;
const built = existsSync(join(repo, 'prebuilds', platform, 'tsrunc-launch')) && existsSync(join(repo, 'dist/node'));
// The build's Node (>= 22), not the one running this test, which may be older.
const node = built ? realpathSync(join(repo, 'dist/node')) : '';
const nodeVersion = built ? spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim() : '';
// The checkout's `bun` package (an optional dependency), with its binary where its postinstall puts it.
const bunPkg = join(repo, 'node_modules/bun');
const bunExe = join(bunPkg, 'bin/bun.exe');
const bunVersion = existsSync(bunExe) ? (spawnSync(bunExe, ['--version'], { encoding: 'utf8' }).stdout ?? '').trim() : '';
const pinnedBun = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).optionalDependencies.bun;
const launcher = join(repo, 'prebuilds', platform, 'tsrunc-launch');

// Each tree may get a ~110 MB executable: removed after each test.
const trees: string[] = [];
afterEach(() => {
  for (const t of trees.splice(0)) rmSync(t, { recursive: true, force: true });
});

/** A package tree: what package.json's "files" lists, from this build. */
function packageTree(): string {
  const tree = mkdtempSync(join(tmpdir(), 'tsrunc-pkg-'));
  trees.push(tree);
  mkdirSync(join(tree, 'scripts'));
  mkdirSync(join(tree, 'dist'));
  for (const f of ['scripts/install.mjs', 'scripts/node-flags.mjs', 'scripts/bun-compile.mjs', 'scripts/elf-hugetext.mjs', 'scripts/elf-needed.mjs', 'dist/tsrunc.cjs'])
    copyFileSync(join(repo, f), join(tree, f));
  cpSync(join(repo, 'dist/bun'), join(tree, 'dist/bun'), { recursive: true });
  cpSync(join(repo, 'prebuilds', platform), join(tree, 'prebuilds', platform), { recursive: true });
  // As packed: npm's bin, the launcher of the platform the package was made on.
  copyFileSync(join(repo, 'prebuilds', platform, 'tsrunc-launch'), join(tree, 'dist/tsrunc'));
  return tree;
}

const noBun = `tsrunc: warning: no working Bun from the optional \`bun\` package: dist/tsrunc runs on Node (dist/tsrunc-node)\n`;
const same = (a: string, b: string) => readFileSync(a).equals(readFileSync(b));
/** `tsrunc --version`'s engine line (its third), run with nothing in PATH. */
function engineOf(bin: string) {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', env: { PATH: '/nonexistent' } });
  expect(r).toMatchObject({ status: 0, stderr: '' });
  return r.stdout.split('\n')[2];
}

function install(tree: string, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(node, [join(tree, 'scripts/install.mjs')], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!built)('the install script (scripts/install.mjs)', () => {
  it("without Bun: links dist/node to the Node that runs npm, with that Node's flags; dist/tsrunc is the Node launcher, and says why", () => {
    const tree = packageTree();
    expect(install(tree, { npm_node_execpath: node })).toEqual({ code: 0, stdout: '', stderr: noBun });
    expect(readlinkSync(join(tree, 'dist/node'))).toBe(node);
    expect(readFileSync(join(tree, 'dist/node.flags'), 'utf8')).toMatch(/^--no-rehash-snapshot --min-semi-space-size=8 --jitless --v8-pool-size=1( --no-expose-wasm)?\n$/);
    expect(same(join(tree, 'dist/tsrunc'), launcher)).toBe(true);
    expect(engineOf(join(tree, 'dist/tsrunc'))).toBe(`node: ${nodeVersion}`);
    expect(engineOf(join(tree, 'dist/tsrunc-node'))).toBe(`node: ${nodeVersion}`);
  });

  const noBunWhy = bunVersion === pinnedBun ? '' : bunVersion ? `the checkout's bun is ${bunVersion}` : `no runnable ${bunExe}`;
  describe.skipIf(!!noBunWhy)(`with the \`bun\` package (${pinnedBun})${noBunWhy ? ` (skipped: ${noBunWhy})` : ''}`, () => {
    /** A tree whose node_modules/bun is the checkout's. */
    function withBun() {
      const tree = packageTree();
      mkdirSync(join(tree, 'node_modules'));
      symlinkSync(bunPkg, join(tree, 'node_modules/bun'));
      return tree;
    }

    it('dist/tsrunc is a Bun executable that runs the CLI; dist/tsrunc-node runs it on Node', () => {
      const tree = withBun();
      expect(install(tree, { npm_node_execpath: node })).toEqual({ code: 0, stdout: '', stderr: '' });
      expect(engineOf(join(tree, 'dist/tsrunc'))).toBe(`bun: ${pinnedBun}`);
      expect(engineOf(join(tree, 'dist/tsrunc-node'))).toBe(`node: ${nodeVersion}`);
      expect(readlinkSync(join(tree, 'dist/node'))).toBe(node);
      // The CLI and its addon (prebuilds/, found beside the executable), on an empty state root.
      const root = join(tree, 'state');
      const list = spawnSync(join(tree, 'dist/tsrunc'), ['--root', root, 'list', '--format', 'json'], { encoding: 'utf8' });
      expect(list).toMatchObject({ status: 0, stdout: 'null\n', stderr: '' });
      const state = spawnSync(join(tree, 'dist/tsrunc'), ['--root', root, 'state', 'pkgtest-none'], { encoding: 'utf8' });
      expect(state).toMatchObject({ status: 1, stdout: '' });
      expect(state.stderr).toContain('container does not exist');
      const features = spawnSync(join(tree, 'dist/tsrunc'), ['features'], { encoding: 'utf8' });
      expect(features.status).toBe(0);
      expect(JSON.parse(features.stdout).ociVersionMax).toMatch(/^1\./);
    });

    it("finds Bun in its platform package before bun's postinstall has moved it (npm runs every install before any postinstall)", () => {
      const tree = packageTree();
      const bun = join(tree, 'node_modules/bun');
      mkdirSync(join(bun, 'bin'), { recursive: true });
      copyFileSync(join(bunPkg, 'package.json'), join(bun, 'package.json'));
      // As the `bun` tarball has it: a placeholder.
      writeFileSync(join(bun, 'bin/bun.exe'), 'placeholder\n');
      const arch = process.arch === 'arm64' ? 'aarch64' : process.arch;
      const oven = join(tree, `node_modules/@oven/bun-${process.platform}-${arch}`);
      mkdirSync(join(oven, 'bin'), { recursive: true });
      writeFileSync(join(oven, 'package.json'), '{}');
      symlinkSync(bunExe, join(oven, 'bin/bun'));
      expect(install(tree, { npm_node_execpath: node })).toEqual({ code: 0, stdout: '', stderr: '' });
      expect(engineOf(join(tree, 'dist/tsrunc'))).toBe(`bun: ${pinnedBun}`);
    });

    it('TSRUNC_ENGINE=node keeps dist/tsrunc the Node launcher', () => {
      const tree = withBun();
      expect(install(tree, { npm_node_execpath: node, TSRUNC_ENGINE: 'node' })).toEqual({ code: 0, stdout: '', stderr: '' });
      expect(same(join(tree, 'dist/tsrunc'), launcher)).toBe(true);
      expect(engineOf(join(tree, 'dist/tsrunc'))).toBe(`node: ${nodeVersion}`);
    });
  });

  it('a Bun that fails to compile leaves dist/tsrunc the Node launcher, with a one-line warning', () => {
    const tree = packageTree();
    const bin = join(tree, 'node_modules/bun/bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(tree, 'node_modules/bun/package.json'), '{"name":"bun","version":"0.0.0"}');
    writeFileSync(join(bin, 'bun.exe'), '#!/bin/sh\n[ "$1" = --version ] && { echo 0.0.0; exit 0; }\necho "error: no room" >&2\nexit 1\n');
    chmodSync(join(bin, 'bun.exe'), 0o755);
    const r = install(tree, { npm_node_execpath: node });
    expect(r).toEqual({
      code: 0,
      stdout: '',
      stderr: `tsrunc: warning: bun build --compile ${join(tree, 'dist/bun')} failed: error: no room: dist/tsrunc runs on Node (dist/tsrunc-node)\n`,
    });
    expect(same(join(tree, 'dist/tsrunc'), launcher)).toBe(true);
  });

  it('refuses an unknown TSRUNC_ENGINE', () => {
    const tree = packageTree();
    expect(install(tree, { npm_node_execpath: node, TSRUNC_ENGINE: 'deno' })).toEqual({ code: 1, stdout: '', stderr: 'tsrunc: TSRUNC_ENGINE is bun or node, not deno\n' });
  });

  it('refuses a Node older than 22, naming it', () => {
    const tree = packageTree();
    const old = join(tree, 'old-node');
    writeFileSync(old, '#!/bin/sh\necho 20.0.0\n');
    chmodSync(old, 0o755);
    const r = install(tree, { npm_node_execpath: old });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`tsrunc: tsrunc needs Node 22 or later; ${old} is Node 20.0.0\n`);
    expect(existsSync(join(tree, 'dist/node'))).toBe(false);
  });

  it('fails on a platform the package has no binaries for, saying which it has and how to build', () => {
    const tree = packageTree();
    renameSync(join(tree, 'prebuilds', platform), join(tree, 'prebuilds', 'otheros-otherarch'));
    const r = install(tree, { npm_node_execpath: node });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`tsrunc: this package has no prebuilt binaries for ${platform} (it has: otheros-otherarch).`);
    expect(r.stderr).toContain('bash scripts/setup.sh');
    expect(existsSync(join(tree, 'dist/node'))).toBe(false);
  });

  it('does nothing in a checkout (scripts/setup.sh builds there)', () => {
    const tree = packageTree();
    mkdirSync(join(tree, 'addon'));
    writeFileSync(join(tree, 'addon/CMakeLists.txt'), '');
    expect(install(tree, { npm_node_execpath: node })).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(existsSync(join(tree, 'dist/node'))).toBe(false);
  });
});

describe.skipIf(!built)('the addon on a platform without binaries', () => {
  it('the CLI says which addon it could not load and why', () => {
    const tree = packageTree();
    expect(install(tree, { npm_node_execpath: node }).code).toBe(0);
    // What a package installed with --ignore-scripts on another platform meets.
    renameSync(join(tree, 'prebuilds', platform), join(tree, 'prebuilds', 'otheros-otherarch'));
    // `features` asks the addon (libseccomp's version and tables).
    const r = spawnSync(join(tree, 'dist/tsrunc'), ['features'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`cannot load tsrunc's native addon: ${join(tree, 'prebuilds', platform)}/tsrunc.napi.node`);
  });
});
