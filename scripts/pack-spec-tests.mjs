// Packs spec-tests as a tool of its own: tsrunc-spec-tests-<version>.tgz, an npm
// package whose `tsrunc-spec-tests` command runs the conformance suite
// against any runc-compatible runtime (spec-tests/README.md, "As a tool").
//
//   node scripts/pack-spec-tests.mjs [OUT_DIR]     (default: the repository root)
//
// A package of its own, not part of tsrunc's: it needs vitest (and vite and
// their dependencies, tens of MB) at run time, which a runtime's users should
// not get with the runtime, and a runtime's maintainers want the tests without
// tsrunc. The package has the repository's layout, so the runner finds its
// files as in a checkout:
//   spec-tests/runner/bin.mjs, main.mjs      the runner, compiled (esbuild)
//   spec-tests/*.test.js                     each test file, compiled with what it
//                                            imports (test/lib/harness.ts, probe.ts)
//   test/lib/tmp-global.js, harness.js, pty_tools.py
//   bundles/busybox/config.json, scripts/make-rootfs.sh (the rootfs is made at
//                                            the first run, from the host's busybox)
// Compiled because Node does not strip types under node_modules, and vitest
// hands files there to Node as they are.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? repo);
const root = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
const stage = mkdtempSync(join(tmpdir(), 'tsrunc-spec-tests-pack-'));

// A bundled file's import.meta.dirname is its output's; each source's own
// directory is rebuilt from it (outputs are in spec-tests/ or test/lib/).
const dirnamePlugin = (outDir) => ({
  name: 'source-dirname',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      const src = readFileSync(args.path, 'utf8');
      const rel = relative(join(repo, outDir), dirname(args.path)) || '.';
      return { contents: src.replaceAll('import.meta.dirname', `__tsrunc_path.join(import.meta.dirname, ${JSON.stringify(rel)})`), loader: 'ts' };
    });
  },
});
const compile = (entryPoints, outDir, outExtension = { '.js': '.js' }) =>
  build({
    entryPoints: entryPoints.map((e) => join(repo, e)),
    outdir: join(stage, outDir),
    outExtension,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    external: ['vitest', 'vitest/*'],
    banner: { js: "import * as __tsrunc_path from 'node:path';" },
    plugins: [dirnamePlugin(outDir)],
    logLevel: 'error',
  });

const tests = readdirSync(join(repo, 'spec-tests')).filter((f) => f.endsWith('.test.ts')).map((f) => `spec-tests/${f}`);
await compile(tests, 'spec-tests');
await compile(['spec-tests/runner/main.ts'], 'spec-tests/runner', { '.js': '.mjs' });
await compile(['test/lib/tmp-global.ts', 'test/lib/harness.ts'], 'test/lib');
for (const f of ['spec-tests/runner/bin.mjs', 'spec-tests/runner/known-differences.json', 'test/lib/pty_tools.py', 'bundles/busybox/config.json', 'scripts/make-rootfs.sh', 'spec-tests/RESULTS.md']) {
  mkdirSync(dirname(join(stage, f)), { recursive: true });
  copyFileSync(join(repo, f), join(stage, f));
}
copyFileSync(join(repo, 'spec-tests/README.md'), join(stage, 'README.md'));
const pkg = {
  name: 'tsrunc-spec-tests',
  version: root.version,
  description: 'OCI runtime-spec conformance tests for any runc-compatible runtime (runc, crun, youki, tsrunc), reported per requirement',
  license: root.license,
  type: 'module',
  bin: { 'tsrunc-spec-tests': 'spec-tests/runner/bin.mjs' },
  engines: { node: '>=22' },
  os: ['linux'],
  dependencies: { vitest: root.devDependencies.vitest },
};
writeFileSync(join(stage, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
const name = execFileSync('npm', ['pack', '--silent', '--pack-destination', out], { cwd: stage, encoding: 'utf8' }).trim().split('\n').pop();
rmSync(stage, { recursive: true, force: true });
process.stdout.write(`${join(out, name)}\n`);
