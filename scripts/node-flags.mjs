// The Node that dist/tsrunc runs, and its flags: dist/node and dist/node.flags
// (addon/launch/launch.c reads them). Set by scripts/bundle.mjs in a checkout,
// by scripts/install.mjs in an installed package, by scripts/release.sh in a
// release tarball. Why each flag: scripts/bundle.mjs. No dependencies: this
// file ships in the package.
import { spawnSync } from 'node:child_process';
import { renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';

export const FLAGS = ['--no-rehash-snapshot', '--min-semi-space-size=8', '--jitless', '--v8-pool-size=1'];

/** The flags for `node`: the first set under which it starts silently. Throws if none does, or if it is not Node 22 or later. */
export function nodeFlags(node) {
  const v = spawnSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' });
  const version = String(v.stdout ?? '').trim();
  if (v.status !== 0 || !(Number(version.split('.')[0]) >= 22))
    throw new Error(`tsrunc needs Node 22 or later; ${node} is ${v.error ? `not runnable (${v.error.message})` : version ? `Node ${version}` : `not Node (${String(v.stderr).trim()})`}`);
  // Node 22 warns on stderr that --jitless turns off --expose-wasm unless told
  // so itself (--no-expose-wasm, which Node 24 refuses); a verb that succeeds
  // prints only its output.
  const quiet = (flags) => {
    const r = spawnSync(node, [...flags, '-e', '0'], { encoding: 'utf8' });
    return r.status === 0 && r.stdout === '' && r.stderr === '';
  };
  const flags = [FLAGS, [...FLAGS, '--no-expose-wasm']].find(quiet);
  if (!flags) throw new Error(`${node} does not start silently with ${FLAGS.join(' ')}`);
  return flags;
}

/** dist/node -> node (a path, relative to dist/ or absolute), and dist/node.flags. */
export function linkNode(dist, node, flags) {
  rmSync(`${dist}/node.tmp`, { force: true });
  symlinkSync(node, `${dist}/node.tmp`);
  renameSync(`${dist}/node.tmp`, `${dist}/node`);
  writeFileSync(`${dist}/node.flags.tmp`, `${flags.join(' ')}\n`);
  renameSync(`${dist}/node.flags.tmp`, `${dist}/node.flags`);
}
