#!/usr/bin/env node
// The tsrunc-spec-tests command.
// - In the tsrunc-spec-tests package (scripts/pack-spec-tests.mjs) the runner
//   is compiled beside this file, main.mjs: Node strips no types under
//   node_modules.
// - In a checkout it is TypeScript (main.ts) that Node runs by stripping types
//   (Node >= 22.18 / 23.6); under an older Node this re-runs itself with the
//   Node that the `node` devDependency installs (Node 24).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const built = join(here, 'main.mjs');
const main = existsSync(built) ? built : join(here, 'main.ts');

if (main === built || process.features?.typescript) {
  const { main: run } = await import(main);
  process.exit(await run(process.argv.slice(2)));
} else {
  const node = join(here, '../../node_modules/node/bin/node');
  if (!existsSync(node)) {
    process.stderr.write(`tsrunc-spec-tests: Node ${process.versions.node} cannot run TypeScript; use Node >= 22.18 or run npm ci (it installs Node 24)\n`);
    process.exit(2);
  }
  const r = spawnSync(node, [main, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 2);
}
