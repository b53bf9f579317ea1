// Bundles the CLI into one minified file, dist/tsrunc, that runs as is.
//
// CommonJS, not ESM: Node's ESM loader costs ~9 ms more at startup (module
// jobs, and builtin facades that evaluate every lazy getter of node:fs).
// dist/package.json says so, since the package itself is "type": "module".
//
// Every verb's module stays behind a lazy initializer (esbuild keeps dynamic
// imports lazy inside one bundle), so a verb pays only for what it uses. The
// shebang names the Node that runs this build (Node 24 from the `node`
// devDependency under npm scripts): engines exec dist/tsrunc directly, and
// /usr/bin/node may be older.
import { build } from 'esbuild';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) throw new Error(`bundle: run under Node 22+ (this is ${process.version}); use npm run build`);

mkdirSync('dist', { recursive: true });
await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/tsrunc',
  bundle: true,
  minify: true,
  format: 'cjs',
  platform: 'node',
  target: 'node22',
  banner: { js: `#!${process.execPath} --min-semi-space-size=2` },
  logLevel: 'error',
  ...(process.env.TSRUNC_BUNDLE_DEV ? { minify: false, outfile: 'dist/tsrunc-dev' } : {}),
});
writeFileSync('dist/package.json', '{ "type": "commonjs" }\n');
chmodSync(process.env.TSRUNC_BUNDLE_DEV ? 'dist/tsrunc-dev' : 'dist/tsrunc', 0o755);
