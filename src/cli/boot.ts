// The first code dist/tsrunc.cjs runs: it compiles the CLI (main.ts) with a V8
// code cache, so that a verb does not compile its functions again each run.
//
// Why: every tsrunc process runs one verb once, and V8 compiles each function
// from source the first time it is called: ~7 ms of `run`'s ~50. A cache made
// *after* a verb has run holds the bytecode of every function that run
// compiled (Node's own module.enableCompileCache() saves one made right after
// the top-level compile, which holds almost nothing of a bundle whose modules
// are lazy), so the next run of that verb compiles nothing.
//
// Node only (the Bun executable runs main.ts with Bun's own bytecode instead).
// dist/tsrunc.cjs, as scripts/bundle.mjs writes it (dist/tsrunc-node, the
// launcher, runs Node on it: addon/launch/launch.c):
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
// after the verb's work, with write + rename. Where dist/ cannot take it (a
// read-only install, or one owned by another user) it goes to the user's
// cache instead, $XDG_CACHE_HOME/tsrunc or ~/.cache/tsrunc (without a HOME,
// $TMPDIR/tsrunc-cache-<uid>), which is read when dist/ has none; if that
// fails too the next run simply compiles again.
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

/** Where the cache goes when dist/tsrunc.cache cannot take it. */
function userCacheDir(): string {
  const env = process.env;
  if (env.XDG_CACHE_HOME?.startsWith('/')) return join(env.XDG_CACHE_HOME, 'tsrunc');
  if (env.HOME?.startsWith('/') && env.HOME !== '/') return join(env.HOME, '.cache/tsrunc');
  return join(env.TMPDIR?.startsWith('/') ? env.TMPDIR : '/tmp', `tsrunc-cache-${process.geteuid!()}`);
}

/** true when the cache is in place. */
function writeCache(dir: string, verb: string, name: string, data: Buffer, mode: number): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode });
    // One we would not read (another user's install) is not one to write.
    if (!trusted(statSync(dir))) return false;
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
    return true;
  } catch {
    // A read-only install, say: the caller tries the user's cache.
    return false;
  }
}

function boot(): void {
  // Without dist/node the launcher runs whatever `node` PATH has.
  if (Number(process.versions.node.split('.')[0]) < 22) {
    process.stderr.write(`tsrunc: needs Node >= 22; ${process.execPath} is ${process.version}\n`);
    process.exit(1);
  }
  // The file is ASCII (the build checks): latin1 reads it as is into a
  // one-byte string, with no UTF-8 decoding, and V8 handles those fastest.
  const text = readFileSync(__filename, 'latin1');
  // The last CLI_OPEN: this code holds the string too, and the CLI never does.
  const start = text.lastIndexOf(CLI_OPEN) + CLI_OPEN.length;
  const body = text.slice(start, text.lastIndexOf(CLI_CLOSE));
  let lines = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < start; i = text.indexOf('\n', i + 1)) lines++;

  const verb = verbOf(process.argv.slice(2));
  const name = `${verb}-${BUILD_ID}`;
  const compile = (cachedData: Buffer | undefined) =>
    // The wrapper Node puts around a CommonJS module; its first line is the CLI's first.
    new Script(`(function (exports, require, module, __filename, __dirname) {${body}\n})`, {
      filename: __filename,
      lineOffset: lines,
      cachedData,
    });
  // dist/tsrunc.cjs -> dist/tsrunc.cache
  const own = `${__filename.slice(0, __filename.lastIndexOf('.'))}.cache`;
  let cachedData = readCache(own, name);
  let script: Script | undefined;
  if (cachedData) {
    script = compile(cachedData);
    if (script.cachedDataRejected) cachedData = undefined;
  }
  if (!cachedData) {
    // dist/ has none (or one of another Node): the user's, where a read-only install writes.
    const user = userCacheDir();
    const alt = readCache(user, name);
    if (alt) {
      const s = compile(alt);
      if (!s.cachedDataRejected) [cachedData, script] = [alt, s];
    }
  }
  script ??= compile(undefined);
  if (!cachedData) {
    const made = script;
    process.once('exit', () => {
      const data = made.createCachedData();
      // The user's: 0700, as nothing there is anyone else's business.
      if (!writeCache(own, verb, name, data, 0o755)) writeCache(userCacheDir(), verb, name, data, 0o700);
    });
  }
  script.runInThisContext()(exports, require, module, __filename, __dirname);
}

boot();
