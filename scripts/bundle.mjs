// Bundles the CLI into one minified file, dist/tsrunc, that runs as is.
//
// Every verb's module stays behind a lazy initializer (esbuild keeps dynamic
// imports lazy inside one bundle), so a verb pays only for what it uses. The
// shebang names the Node that runs this build (Node 24 from the `node`
// devDependency under npm scripts): engines exec dist/tsrunc directly, and
// /usr/bin/node may be older.
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) throw new Error(`bundle: run under Node 22+ (this is ${process.version}); use npm run build`);

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/tsrunc',
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  banner: { js: `#!${process.execPath}` },
  logLevel: 'warning',
});
chmodSync('dist/tsrunc', 0o755);
