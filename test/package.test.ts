// The package's install script (scripts/install.mjs), on a tree laid out as the
// package is (scripts/, prebuilds/<platform>-<arch>/, dist/): what it makes on a
// platform the package has binaries for, and its errors elsewhere. The whole
// package (npm pack, npm install -g, the installed CLI) is CI's
// scripts/test-package.sh, which needs the network for the spec-tests package.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repo } from './lib/harness.ts';

const platform = `${process.platform}-${process.arch}`;
const built = existsSync(join(repo, 'prebuilds', platform, 'tsrunc-launch')) && existsSync(join(repo, 'dist/node'));
// The build's Node (>= 22), not the one running this test, which may be older.
const node = built ? realpathSync(join(repo, 'dist/node')) : '';
const nodeVersion = built ? spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim() : '';

/** A package tree: what package.json's "files" lists, from this build. */
function packageTree(): string {
  const tree = mkdtempSync(join(tmpdir(), 'tsrunc-pkg-'));
  mkdirSync(join(tree, 'scripts'));
  mkdirSync(join(tree, 'dist'));
  for (const f of ['scripts/install.mjs', 'scripts/node-flags.mjs', 'dist/tsrunc.cjs']) copyFileSync(join(repo, f), join(tree, f));
  cpSync(join(repo, 'prebuilds', platform), join(tree, 'prebuilds', platform), { recursive: true });
  // As packed: npm's bin, the launcher of the platform the package was made on.
  copyFileSync(join(repo, 'prebuilds', platform, 'tsrunc-launch'), join(tree, 'dist/tsrunc'));
  return tree;
}

function install(tree: string, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(node, [join(tree, 'scripts/install.mjs')], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!built)('the install script (scripts/install.mjs)', () => {
  it("links dist/node to the Node that runs npm, with that Node's flags, and the CLI runs", () => {
    const tree = packageTree();
    expect(install(tree, { npm_node_execpath: node })).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(readlinkSync(join(tree, 'dist/node'))).toBe(node);
    expect(readFileSync(join(tree, 'dist/node.flags'), 'utf8')).toMatch(/^--no-rehash-snapshot --min-semi-space-size=8 --jitless --v8-pool-size=1( --no-expose-wasm)?\n$/);
    const r = spawnSync(join(tree, 'dist/tsrunc'), ['--version'], { encoding: 'utf8', env: { PATH: '/nonexistent' } });
    expect(r).toMatchObject({ status: 0, stdout: expect.stringMatching(new RegExp(`^tsrunc version [^]*\\nnode: ${nodeVersion}\\n`)), stderr: '' });
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
