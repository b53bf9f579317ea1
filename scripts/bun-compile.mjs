// dist/tsrunc as a Bun standalone executable: the engine tsrunc ships on
// (README, "Speed": why Bun). Used by scripts/bundle.mjs in a checkout and by
// scripts/install.mjs in an installed package; no dependencies, since it ships.
//
// The executable is Bun itself with the CLI and its bytecode appended: the
// modules of dist/bun/ (src/cli/main.ts as ES modules split at each verb, by
// scripts/bundle.mjs) compiled by the
// Bun of the `bun` package (pinned in package.json: bytecode is only good for
// the Bun that made it, and the executable is that Bun).
//
// Flags, each measured on `state` with bench/verbs.mjs:
//   --bytecode   JavaScriptCore bytecode made at build time: without it Bun
//                parses the whole bundle on every run (`state` 23.8 -> 11.7 ms).
//   --no-compile-autoload-*  an executable started by an engine must not
//                read .env, bunfig.toml, tsconfig.json or package.json from
//                whatever directory it was started in: that would let a file
//                in a bundle's directory change how the runtime behaves.
//                Leaving out those lookups is also ~0.5 ms.
//   --minify     smaller bytecode to load.
//   --compile-jit-policy=1000  JavaScriptCore's tier-up thresholds times
//                1000: a tsrunc process runs one command and its code runs
//                in the interpreter. At the normal policy a loop of a few
//                hundred turns (zod's parse in `create`, ps(1)'s lines, the
//                cgroup stats of `events`) sends functions to the JIT, which
//                starts its worker threads (up to 7) and compiles code that
//                runs a few more times before the process exits. Interleaved
//                with the normal policy (bench/verbs.mjs --also, 30 rounds):
//                create 30.9 -> 26.1 ms, run 32.2 -> 27.6, events --stats
//                14.0 -> 12.7, the lifecycle 86.0 -> 77.5; a create with a
//                407-syscall seccomp profile no slower (create+delete 61 -> 52).
//                Where the entry stub runs (x86-64), STUB_ENV below turns the
//                JIT off altogether; the policy still holds elsewhere.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { hugeText } from './elf-hugetext.mjs';
import { dropNeeded, verifyLinks } from './elf-needed.mjs';

export const BUN_BUILD_FLAGS = [
  '--compile',
  '--bytecode',
  '--minify',
  // ES modules kept apart: a verb loads and instantiates its own chunks only.
  '--format=esm',
  '--splitting',
  '--compile-jit-policy=1000',
  '--no-compile-autoload-dotenv',
  '--no-compile-autoload-bunfig',
  '--no-compile-autoload-tsconfig',
  '--no-compile-autoload-package-json',
];

/**
 * What the executable's entry stub puts first in its environment before Bun
 * starts (scripts/elf-hugetext.mjs; x86-64). Bun reads JavaScriptCore's
 * options from BUN_JSC_* variables, and an executable has no other way to set
 * them.
 *   BUN_JSC_useJIT=0  no JIT at all, only the interpreter (LLInt). With the JIT
 *                merely made unlikely (--compile-jit-policy), JavaScriptCore
 *                still sets up its JIT at every start: a 1 GiB executable
 *                region, and the thunks it writes there (~50 more page
 *                faults). An empty program of the same Bun: 4.18 -> 3.72 ms;
 *                `state` 5.05 -> 4.78 (runc's 4.78), interleaved, 300 rounds;
 *                `run` 20.3 -> 19.1. No other BUN_JSC_ option tried
 *                (useConcurrentGC, useWasm, numberOfGCMarkers, forceRAMSize,
 *                useSharedArrayBuffer; GIGACAGE_ENABLED) changed `state`.
 * tsrunc takes them out of its environment as it loads its addon
 * (addon/src/environ.cc), so that hooks and ps(1) do not inherit them.
 */
export const STUB_ENV = ['BUN_JSC_useJIT=0'];

/**
 * The Bun of the `bun` package as seen from `root` (a checkout or an installed
 * package), or null: { bin, version } of the first candidate that runs.
 * The `bun` package's bin/bun.exe is a placeholder until its postinstall moves
 * the binary there from its platform package (@oven/bun-<os>-<arch>, or the
 * -baseline build for CPUs without AVX2, which the other one fails on). npm
 * runs every package's `install` before any `postinstall`, so when
 * scripts/install.mjs runs the binary is still in the platform package; and
 * where install scripts are blocked it stays there.
 */
export function findBun(root) {
  let pkg;
  try {
    pkg = createRequire(resolve(root, 'package.json')).resolve('bun/package.json');
  } catch {
    return null;
  }
  const fromBun = createRequire(pkg);
  const candidates = [join(dirname(pkg), 'bin/bun.exe')];
  const platform = `bun-${process.platform}-${process.arch === 'arm64' ? 'aarch64' : process.arch}`;
  for (const name of [platform, `${platform}-baseline`]) {
    try {
      candidates.push(join(dirname(fromBun.resolve(`@oven/${name}/package.json`)), 'bin/bun'));
    } catch {}
  }
  for (const bin of candidates) {
    if (!existsSync(bin)) continue;
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return { bin, version: r.stdout.trim() };
  }
  return null;
}

/** Copies `from` to `to` as an executable, replacing it atomically (a copy beside it, then a rename). */
export function placeExecutable(from, to) {
  copyFileSync(from, `${to}.tmp`);
  chmodSync(`${to}.tmp`, 0o755);
  renameSync(`${to}.tmp`, to);
}

/**
 * Compiles the modules in `src` (dist/bun/, entry main.js) into the
 * executable `out`, replacing it atomically. Throws with Bun's words. Bun
 * records the directory of the files it compiled in the executable: it
 * compiles a copy in a directory of its own, so that no path of the build
 * tree is written into the result.
 *
 * The executable is then laid out for 2 MiB pages (scripts/elf-hugetext.mjs)
 * and written with one write: the page cache then holds it in 2 MiB folios,
 * which its starts map whole. Where this host's libc holds what they did, it
 * no longer names glibc's stub libraries (scripts/elf-needed.mjs). Returns
 * how it was laid out, in words.
 */
export function compileBun(bun, src, out) {
  const dir = mkdtempSync(join(tmpdir(), 'tsrunc-bun-'));
  try {
    cpSync(src, join(dir, 'cli'), { recursive: true });
    const r = spawnSync(bun, ['build', ...BUN_BUILD_FLAGS, 'cli/main.js', '--outfile', 'tsrunc'], { encoding: 'utf8', cwd: dir });
    if (r.status !== 0 || !existsSync(join(dir, 'tsrunc')))
      throw new Error(`bun build --compile ${src} failed: ${(r.stderr || r.stdout || r.error?.message || '').trim()}`);
    const built = readFileSync(join(dir, 'tsrunc'));
    const laid = hugeText(built, { env: STUB_ENV });
    const layout = !laid.elf
      ? `as Bun laid it out (${laid.why})`
      : !laid.stub
        ? `aligned to 2 MiB, without the entry stub (${laid.why})`
        : laid.env
          ? `aligned to 2 MiB, with the entry stub (huge pages, ${STUB_ENV.join(' ')})`
          : `aligned to 2 MiB, with the huge-page entry stub (without ${STUB_ENV.join(' ')}: ${laid.why})`;
    // One write of the whole file, which leaves it in the page cache in 2 MiB
    // folios (scripts/elf-hugetext.mjs); a second only where this host's libc
    // still needs glibc's stub libraries (scripts/elf-needed.mjs).
    const elf = laid.elf ?? built;
    const write = (bytes) => {
      writeFileSync(`${out}.tmp`, bytes, { mode: 0o755 });
      chmodSync(`${out}.tmp`, 0o755);
    };
    const lean = dropNeeded(elf);
    let libraries = '';
    if (lean.elf) {
      write(lean.elf);
      const why = verifyLinks(`${out}.tmp`);
      libraries = why === null ? `; without ${lean.dropped.join(' and ')}` : `; with ${lean.dropped.join(' and ')}, which this libc needs (${why.split('\n')[0]})`;
      if (why !== null) write(elf);
    } else write(elf);
    renameSync(`${out}.tmp`, out);
    return layout + libraries;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
