// `npm run pack:npm [-- DEST]`: the npm package, tsrunc-<version>.tgz, in DEST (default:
// the repository root); prints its path. `npm publish` takes that file.
//
// A checkout's dist/tsrunc is the Bun executable (~110 MB, scripts/bundle.mjs),
// which the package must not carry: its dist/tsrunc is the launcher
// (prebuilds/<platform>-<arch>/tsrunc-launch), and scripts/install.mjs compiles
// the Bun executable over it at install time. npm links a package's bin only to
// a file the tarball has, so the launcher has to be there, under that name.
// So this builds (as `npm pack`'s prepack did), stages package.json's "files"
// in a temp dir with the launcher as dist/tsrunc, and runs `npm pack` there.
//
// `node scripts/pack.mjs --prepack` is package.json's `prepack`: a plain
// `npm pack` or `npm publish` in the checkout would pack the checkout's
// dist/tsrunc, so it refuses, naming this script, unless dist/tsrunc is the
// launcher (a checkout built with TSRUNC_ENGINE=node: then it builds that way
// and lets npm pack, which is then the same package).
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const launcher = join(repo, `prebuilds/${process.platform}-${process.arch}/tsrunc-launch`);
const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];

function die(msg) {
  process.stderr.write(`pack: ${msg}\n`);
  process.exit(1);
}
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.status !== 0) die(`${[cmd, ...args].join(' ')} failed (${r.error?.message ?? `exit status ${r.status}`})`);
  return r;
}
const same = (a, b) => existsSync(a) && existsSync(b) && readFileSync(a).equals(readFileSync(b));

if (process.argv[2] === '--prepack') {
  if (!same(join(repo, 'dist/tsrunc'), launcher))
    die(
      'dist/tsrunc here is the Bun executable (~110 MB), which the package must not carry.\n' +
        'pack:   use `npm run pack:npm [-- DEST]` (scripts/pack.mjs): it packs the launcher as dist/tsrunc;\n' +
        'pack:   publish the .tgz it makes with `npm publish ./tsrunc-<version>.tgz`.',
    );
  run(npm[0], [...npm.slice(1), 'run', 'build'], { cwd: repo, env: { ...process.env, TSRUNC_ENGINE: 'node' }, stdio: 'inherit' });
  process.exit(0);
}

const dest = resolve(process.argv[2] ?? repo);
mkdirSync(dest, { recursive: true });
// The build's output goes to stderr: stdout is the .tgz's path only.
run(npm[0], [...npm.slice(1), 'run', '--silent', 'build'], { cwd: repo, stdio: ['ignore', 2, 2] });

const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
const stage = mkdtempSync(join(tmpdir(), 'tsrunc-pack-'));
try {
  // npm packs package.json and README.md whatever "files" says.
  for (const f of ['package.json', 'README.md', ...pkg.files]) {
    const from = join(repo, f);
    if (!existsSync(from)) die(`${f} (package.json "files") is missing: build first (npm run build)`);
    const to = join(stage, f);
    mkdirSync(dirname(to), { recursive: true });
    if (f === 'dist/tsrunc') {
      copyFileSync(launcher, to);
      chmodSync(to, 0o755);
    } else cpSync(from, to, { recursive: true });
  }
  // --ignore-scripts: the staged package.json's prepack (this script's guard) is for checkouts.
  const r = run(npm[0], [...npm.slice(1), 'pack', '--ignore-scripts', '--silent', '--pack-destination', stage], {
    cwd: stage,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  const name = r.stdout.trim().split('\n').pop();
  if (!name || !existsSync(join(stage, name))) die(`npm pack made no tarball (it said: ${r.stdout.trim()})`);
  // Beside its destination first: a rename is atomic within one filesystem only.
  copyFileSync(join(stage, name), join(dest, `${name}.tmp`));
  renameSync(join(dest, `${name}.tmp`), join(dest, name));
  process.stdout.write(`${join(dest, name)}\n`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
