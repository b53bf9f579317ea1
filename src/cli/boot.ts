// The first code dist/tsrunc runs: it compiles the CLI (main.ts) with a V8
// code cache, so that a verb does not compile its functions again each run.
//
// Why: every tsrunc process runs one verb once, and V8 compiles each function
// from source the first time it is called: ~7 ms of `run`'s ~50. A cache made
// *after* a verb has run holds the bytecode of every function that run
// compiled (Node's own module.enableCompileCache() saves one made right after
// the top-level compile, which holds almost nothing of a bundle whose modules
// are lazy), so the next run of that verb compiles nothing.
//
// dist/tsrunc, as scripts/bundle.mjs writes it:
//   #!/path/to/build/Release/tsrunc-launch /path/to/node <flags>
//   <this module, bundled>
//   /*
//   <the CLI: src/cli/main.ts, bundled>
//   */
// The CLI sits in a comment, so Node's own parse of the file only scans it
// for "*/" (the build checks that the CLI contains none); this code cuts it
// out and compiles it as the body of the same CommonJS module. The file is
// ASCII only: a single other character makes Node and V8 hold all of it as
// UTF-16, which costs ~0.4 ms on every run (the build checks this too).
//
// Caches live beside the file, one per verb: dist/tsrunc.cache/<verb>-<build>.
// Per verb, because deserializing costs in proportion to size and `state`
// should not load `run`'s functions. <build> is a hash of the CLI's text made
// at build time: V8 checks a cache against its own version and flags but of
// the source only its length. A cache is code we will run, so it is used only
// if it and its directory are ours (or root's) and writable by no one else.
// It is written when it was missing or V8 rejected it (a new Node), at exit
// after the verb's work, with write + rename; if that fails the next run
// simply compiles again.
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { parseArgs } from './args.ts';
import { GLOBAL_FLAGS } from './command.ts';

// Set by scripts/bundle.mjs: a hash of the CLI's text, and the lines around it.
declare const BUILD_ID: string;
declare const CLI_OPEN: string;
declare const CLI_CLOSE: string;

/** The verb main.ts will run, as its own flag parser finds it; a cache key only. */
function verbOf(argv: string[]): string {
  try {
    const verb = parseArgs(argv, GLOBAL_FLAGS, 'tsrunc').rest[0] ?? '';
    return /^[a-z]{1,16}$/.test(verb) ? verb : 'other';
  } catch {
    return 'other';
  }
}

/** Ours or root's, and writable by no one else: what we may run code from. */
function trusted(st: Stats): boolean {
  return (st.uid === process.geteuid!() || st.uid === 0) && (st.mode & 0o022) === 0;
}

function readCache(dir: string, name: string): Buffer | undefined {
  let fd: number;
  try {
    // The directory too: whoever could write in it could swap in another file.
    if (!trusted(statSync(dir))) return undefined;
    fd = openSync(join(dir, name), 'r');
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    return st.isFile() && trusted(st) ? readFileSync(fd) : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function writeCache(dir: string, verb: string, name: string, data: Buffer): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    // This verb's caches from other builds will never match again, and a
    // temp file is left only by a writer that died (a live one losing its
    // temp file just fails its rename).
    for (const f of readdirSync(dir))
      if ((f.startsWith(`${verb}-`) && f !== name) || f.startsWith(`.${verb}-`))
        try {
          unlinkSync(join(dir, f));
        } catch {}
    const tmp = join(dir, `.${name}.${process.pid}`);
    writeFileSync(tmp, data, { mode: 0o644 });
    renameSync(tmp, join(dir, name));
  } catch {
    // A read-only install, say: every run compiles, as without a cache.
  }
}

function boot(): void {
  // The file is ASCII (the build checks): latin1 reads it as is into a
  // one-byte string, with no UTF-8 decoding, and V8 handles those fastest.
  const text = readFileSync(__filename, 'latin1');
  // The last CLI_OPEN: this code holds the string too, and the CLI never does.
  const start = text.lastIndexOf(CLI_OPEN) + CLI_OPEN.length;
  const body = text.slice(start, text.lastIndexOf(CLI_CLOSE));
  let lines = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < start; i = text.indexOf('\n', i + 1)) lines++;

  const dir = `${__filename}.cache`;
  const verb = verbOf(process.argv.slice(2));
  const name = `${verb}-${BUILD_ID}`;
  const cachedData = readCache(dir, name);
  // The wrapper Node puts around a CommonJS module; its first line is the CLI's first.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${body}\n})`, {
    filename: __filename,
    lineOffset: lines,
    cachedData,
  });
  if (!cachedData || script.cachedDataRejected) process.once('exit', () => writeCache(dir, verb, name, script.createCachedData()));
  script.runInThisContext()(exports, require, module, __filename, __dirname);
}

boot();
