// tsrunc's synchronous file-system calls: node:fs's names and call shapes
// (only those src/ uses), backed by the addon (addon/src/fs.cc).
//
// Why not node:fs: every verb is one process start, to be as quick as runc's.
// Under Bun (dist/tsrunc) node:fs is a large JS builtin evaluated at its first
// require: ~1.3 ms of CPU, of a ~7.6 ms `list` whose floor (an empty Bun
// executable) is ~4 ms and runc's ~4.4 ms. Loading the addon instead costs
// ~0.4 ms (it is linked statically: addon/CMakeLists.txt). Under Node
// (dist/tsrunc-node) the same code runs, so that both builds test one
// implementation.
//
// Errors are node:fs's, to the letter: messages reach users and tests, and
// callers test `.code`. `${code}: ${description}, ${syscall} '${path}'`
// (` -> '${dest}'` for rename), with .errno (negative), .code, .syscall,
// .path, .dest; libuv's codes and wording (fs.cc). test/fs.test.ts holds the
// two side by side.
//
// Left on node:fs: src/cli/boot.ts (the Node build's start, before any of
// this), the asynchronous read of src/container/foreground.ts (loaded only
// by a foreground process with a terminal), and writeSync below when the
// addon cannot be loaded (to say so).
import { addonLoaded, loadAddon, nativeFunction } from '../addon.ts';
import { dirname } from './path.ts';

interface AddonFs {
  open(path: string, flags: number, mode: number): number;
  close(fd: number): number;
  read(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number;
  write(fd: number, data: string | Uint8Array, offset: number, length: number, position: number): number;
  /** 0 or -errno: every byte of the string's UTF-8, waiting where a non-blocking fd is full */
  writeAll(fd: number, text: string): number;
  /** the content, -errno (open failed) or -errno - READ_FAILED (read failed) */
  readFile(pathOrFd: string | number, encoding: number): string | Buffer | number;
  stat(path: string, follow: boolean, out: Float64Array): number;
  fstat(fd: number, out: Float64Array): number;
  statfs(path: string, out: Float64Array): number;
  readdir(path: string, withTypes: boolean): string[] | [string[], number[]] | number;
  mkdir(path: string, mode: number): number;
  rmdir(path: string): number;
  unlink(path: string): number;
  rename(from: string, to: string): number;
  exchange(a: string, b: string): number;
  readlink(path: string): string | number;
  access(path: string, mode: number): number;
  chmod(path: string, mode: number): number;
  chown(path: string, uid: number, gid: number): number;
  ftruncate(fd: number, length: number): number;
  errName(errno: number): [string, string];
  fsNumbers(): { constants: FsConstants; errno: Record<'ENOENT' | 'EEXIST' | 'ENOTDIR' | 'EISDIR' | 'EACCES' | 'ENOSPC' | 'EPERM', number> };
}

export interface FsConstants {
  O_RDONLY: number;
  O_WRONLY: number;
  O_RDWR: number;
  O_CREAT: number;
  O_EXCL: number;
  O_TRUNC: number;
  O_APPEND: number;
  O_DIRECTORY: number;
  O_NOFOLLOW: number;
  F_OK: number;
  R_OK: number;
  W_OK: number;
  X_OK: number;
}

const READ_FAILED = 4096; // fs.cc's kReadFailed

// The addon is loaded at the first call, not when this module is: a broken
// install must still let the CLI say so (see writeSync).
const fs = <K extends keyof AddonFs>(name: K): AddonFs[K] => nativeFunction(name) as AddonFs[K];
let numbers: ReturnType<AddonFs['fsNumbers']> | undefined;
const fsNumbers = () => (numbers ??= fs('fsNumbers')());

const c = () => fsNumbers().constants;
/**
 * The platform's O_* and *_OK values (from the addon, at first use: they
 * differ between architectures). Getters written out, not defined by a loop
 * over the names: under Bun that loop (an array iterator and 13 closures) is
 * ~0.05 ms of every verb, the literal ~0.
 */
export const constants: Readonly<FsConstants> = {
  get O_RDONLY() { return c().O_RDONLY; },
  get O_WRONLY() { return c().O_WRONLY; },
  get O_RDWR() { return c().O_RDWR; },
  get O_CREAT() { return c().O_CREAT; },
  get O_EXCL() { return c().O_EXCL; },
  get O_TRUNC() { return c().O_TRUNC; },
  get O_APPEND() { return c().O_APPEND; },
  get O_DIRECTORY() { return c().O_DIRECTORY; },
  get O_NOFOLLOW() { return c().O_NOFOLLOW; },
  get F_OK() { return c().F_OK; },
  get R_OK() { return c().R_OK; },
  get W_OK() { return c().W_OK; },
  get X_OK() { return c().X_OK; },
};

/** the errno values this module tests for itself */
const E = () => fsNumbers().errno;

/** What node:fs throws for a failed syscall. */
function uvError(negErrno: number, syscall: string, path?: string, dest?: string): NodeJS.ErrnoException {
  const [code, text] = fs('errName')(-negErrno);
  let message = `${code}: ${text}, ${syscall}`;
  if (path !== undefined) message += ` '${path}'`;
  if (dest !== undefined) message += ` -> '${dest}'`;
  const e = new Error(message) as NodeJS.ErrnoException;
  e.errno = negErrno;
  e.code = code;
  e.syscall = syscall;
  if (path !== undefined) e.path = path;
  if (dest !== undefined) (e as { dest?: string }).dest = dest;
  Error.captureStackTrace?.(e, uvError);
  return e;
}

/** libuv's description of an errno, as node:util's getSystemErrorMessage gives it (`no such file or directory`). */
export function errnoDescription(errno: number): string {
  const [code, text] = fs('errName')(errno);
  return code === 'UNKNOWN' ? `Unknown system error -${errno}` : text;
}

/** A C string cannot hold a NUL: node:fs refuses such a path rather than cut it short. */
function checkPath(path: string, name = 'path'): string {
  if (path.includes('\0')) {
    const e = new TypeError(`The argument '${name}' must be a string, Uint8Array, or URL without null bytes. Received ${JSON.stringify(path).replace(/\\u0000/g, '\\x00').replace(/^"|"$/g, "'")}`) as TypeError & { code: string };
    e.code = 'ERR_INVALID_ARG_VALUE';
    throw e;
  }
  return path;
}

function check(r: number, syscall: string, path?: string, dest?: string): number {
  if (r < 0) throw uvError(r, syscall, path, dest);
  return r;
}

let broken = false;
function loadable(): boolean {
  if (!broken)
    try {
      loadAddon();
    } catch {
      broken = true;
    }
  return !broken;
}

// --- descriptors ---

const FLAGS: Record<string, () => number> = {
  r: () => constants.O_RDONLY,
  'r+': () => constants.O_RDWR,
  w: () => constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC,
  wx: () => constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_EXCL,
  a: () => constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND,
};

function flagsOf(flags: string | number): number {
  if (typeof flags === 'number') return flags;
  const f = FLAGS[flags];
  if (!f) throw new TypeError(`unsupported open flags: ${flags}`);
  return f();
}

export function openSync(path: string, flags: string | number = 'r', mode = 0o666): number {
  return check(fs('open')(checkPath(path), flagsOf(flags), mode), 'open', path);
}

export function closeSync(fd: number): void {
  check(fs('close')(fd), 'close');
}

export function readSync(fd: number, buffer: Uint8Array, offset = 0, length = buffer.byteLength - offset, position: number | null = null): number {
  return check(fs('read')(fd, buffer, offset, length, position ?? -1), 'read');
}

/**
 * One write(2), as node:fs: (fd, string, position?) or (fd, buffer, offset?,
 * length?, position?); returns the bytes written.
 */
export function writeSync(fd: number, data: string | Uint8Array, offsetOrPosition?: number | null, length?: number, position?: number | null): number {
  // Output and error lines go through here: when the addon cannot be loaded
  // (a broken install), node:fs writes the error that says so.
  if (!addonLoaded() && !loadable()) return process.getBuiltinModule('node:fs').writeSync(fd, data as Uint8Array, offsetOrPosition, length, position);
  if (typeof data === 'string') return check(fs('write')(fd, data, 0, 0, offsetOrPosition ?? -1), 'write');
  const offset = offsetOrPosition ?? 0;
  return check(fs('write')(fd, data, offset, length ?? data.byteLength - offset, position ?? -1), 'write');
}

export function ftruncateSync(fd: number, length = 0): void {
  check(fs('ftruncate')(fd, length), 'ftruncate');
}

// --- whole files ---

type Encoding = 'utf8' | 'utf-8' | 'latin1';
const ENCODING: Record<Encoding, number> = { utf8: 1, 'utf-8': 1, latin1: 2 };

/** The whole file (or the rest of an open fd): a string with an encoding, a Buffer without. */
export function readFileSync(path: string | number, encoding: Encoding | { encoding: Encoding }): string;
export function readFileSync(path: string | number): Buffer;
export function readFileSync(path: string | number, options?: Encoding | { encoding?: Encoding }): string | Buffer {
  const enc = typeof options === 'string' ? options : options?.encoding;
  return readResult(fs('readFile')(typeof path === 'string' ? checkPath(path) : path, enc ? ENCODING[enc] : 0), path);
}

/** The addon's readFile answer: the contents, or its error as node:fs throws it (open's, or read's). */
function readResult(r: string | Buffer | number, path: string | number): string | Buffer {
  if (typeof r !== 'number') return r;
  if (r <= -READ_FAILED) throw uvError(r + READ_FAILED, 'read');
  throw uvError(r, 'open', String(path));
}

/**
 * readFileSync, but undefined where the file does not exist (ENOENT), without
 * an exception: one system call fewer than existsSync before a read, for the
 * many optional files of a cgroup's statistics.
 */
export function readFileIfExists(path: string, encoding: Encoding): string | undefined {
  const r = fs('readFile')(checkPath(path), ENCODING[encoding]);
  return r === -E().ENOENT ? undefined : (readResult(r, path) as string);
}

/**
 * The whole string, as UTF-8, however many write(2)s that takes (waiting
 * where a non-blocking fd is full). The addon encodes it: under Bun,
 * TextEncoder costs ~0.03 ms at its first use, and Buffer ~0.3 ms.
 */
export function writeAllSync(fd: number, text: string): void {
  // Output goes through here: as in writeSync, node:fs when the addon cannot be loaded.
  if (!addonLoaded() && !loadable()) return process.getBuiltinModule('node:fs').writeFileSync(fd, text);
  check(fs('writeAll')(fd, text), 'write');
}

/** open(O_WRONLY|O_CREAT|O_TRUNC, mode), the data, close: as node:fs. */
export function writeFileSync(path: string, data: string, options: { mode?: number } = {}): void {
  const fd = openSync(path, 'w', options.mode ?? 0o666);
  try {
    writeAllSync(fd, data);
  } finally {
    closeSync(fd);
  }
}

export function appendFileSync(path: string, data: string): void {
  const fd = openSync(path, 'a');
  try {
    writeAllSync(fd, data);
  } finally {
    closeSync(fd);
  }
}

// --- metadata ---

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

export class Stats {
  readonly dev: number;
  readonly ino: number;
  readonly mode: number;
  readonly nlink: number;
  readonly uid: number;
  readonly gid: number;
  readonly rdev: number;
  readonly size: number;
  readonly blksize: number;
  readonly blocks: number;
  // By index: destructuring would go through the array iterator, JavaScriptCore builtins whose first use costs.
  constructor(v: Float64Array) {
    this.dev = v[0];
    this.ino = v[1];
    this.mode = v[2];
    this.nlink = v[3];
    this.uid = v[4];
    this.gid = v[5];
    this.rdev = v[6];
    this.size = v[7];
    this.blksize = v[8];
    this.blocks = v[9];
  }
  isDirectory(): boolean {
    return (this.mode & S_IFMT) === S_IFDIR;
  }
  isFile(): boolean {
    return (this.mode & S_IFMT) === S_IFREG;
  }
  isSymbolicLink(): boolean {
    return (this.mode & S_IFMT) === S_IFLNK;
  }
  isCharacterDevice(): boolean {
    return (this.mode & S_IFMT) === S_IFCHR;
  }
}

const statValues = new Float64Array(10);

export function statSync(path: string): Stats {
  check(fs('stat')(checkPath(path), true, statValues), 'stat', path);
  return new Stats(statValues);
}

export function lstatSync(path: string): Stats {
  check(fs('stat')(checkPath(path), false, statValues), 'lstat', path);
  return new Stats(statValues);
}

export function fstatSync(fd: number): Stats {
  check(fs('fstat')(fd, statValues), 'fstat');
  return new Stats(statValues);
}

export interface StatFs {
  type: number;
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
}

export function statfsSync(path: string): StatFs {
  const v = new Float64Array(7);
  check(fs('statfs')(checkPath(path), v), 'statfs', path);
  return { type: v[0], bsize: v[1], blocks: v[2], bfree: v[3], bavail: v[4], files: v[5], ffree: v[6] };
}

/** access(2) with F_OK; false for any error, as node:fs. */
export function existsSync(path: string): boolean {
  return !path.includes('\0') && fs('access')(path, constants.F_OK) === 0;
}

export function accessSync(path: string, mode = constants.F_OK): void {
  check(fs('access')(checkPath(path), mode), 'access', path);
}

export function chmodSync(path: string, mode: number): void {
  check(fs('chmod')(checkPath(path), mode), 'chmod', path);
}

export function chownSync(path: string, uid: number, gid: number): void {
  check(fs('chown')(checkPath(path), uid, gid), 'chown', path);
}

export function readlinkSync(path: string): string {
  const r = fs('readlink')(checkPath(path));
  if (typeof r === 'number') throw uvError(r, 'readlink', path);
  return r;
}

// --- directories ---

const DT_DIR = 4;
const DT_REG = 8;
const DT_LNK = 10;

// No parameter properties here or in ../addon.ts: test/fs.test.ts runs them
// under Node's type stripping too (as an unprivileged user).
export class Dirent {
  readonly name: string;
  readonly parentPath: string;
  private readonly type: number;
  constructor(name: string, parentPath: string, type: number) {
    this.name = name;
    this.parentPath = parentPath;
    this.type = type;
  }
  isDirectory(): boolean {
    return this.type === DT_DIR;
  }
  isFile(): boolean {
    return this.type === DT_REG;
  }
  isSymbolicLink(): boolean {
    return this.type === DT_LNK;
  }
}

/** The names in a directory, sorted (libuv's scandir order), without . and .. */
export function readdirSync(path: string): string[];
export function readdirSync(path: string, options: { withFileTypes: true }): Dirent[];
export function readdirSync(path: string, options?: { withFileTypes?: boolean }): string[] | Dirent[] {
  const withTypes = options?.withFileTypes === true;
  const r = fs('readdir')(checkPath(path), withTypes);
  if (typeof r === 'number') throw uvError(r, 'scandir', path);
  if (!withTypes) return r as string[];
  const [names, types] = r as [string[], number[]];
  // A loop, not map: map's first use costs ~0.1 ms under Bun (README, "Why Bun").
  const entries: Dirent[] = [];
  for (let i = 0; i < names.length; i++) entries.push(new Dirent(names[i], path, types[i]));
  return entries;
}

/**
 * mkdir(2); recursive: the missing parents too, each with the mode, and no
 * error when it is a directory already. Returns the first directory made
 * when recursive (undefined when none was), as node:fs.
 */
export function mkdirSync(path: string, options: number | { recursive?: boolean; mode?: number } = {}): string | undefined {
  const { recursive = false, mode = 0o777 } = typeof options === 'number' ? { mode: options } : options;
  checkPath(path);
  if (!recursive) {
    check(fs('mkdir')(path, mode), 'mkdir', path);
    return undefined;
  }
  // node:fs's algorithm (MKDirpSync): make the deepest missing one first;
  // errors name the path asked for.
  const todo = [path];
  let first: string | undefined;
  while (todo.length) {
    const p = todo[todo.length - 1];
    const r = fs('mkdir')(p, mode);
    if (r === 0) {
      first ??= p;
      todo.pop();
      continue;
    }
    if (r === -E().ENOENT) {
      const parent = dirname(p);
      if (parent === p) throw uvError(r, 'mkdir', path);
      todo.push(parent);
      continue;
    }
    if (r === -E().EACCES || r === -E().ENOSPC || r === -E().ENOTDIR || r === -E().EPERM) throw uvError(r, 'mkdir', path);
    // EEXIST (or EROFS &c. on something already there): fine if a directory;
    // a file there is EEXIST for the path asked for, ENOTDIR for a parent.
    if (fs('stat')(p, true, statValues) < 0) throw uvError(r, 'mkdir', path);
    if ((statValues[2] & S_IFMT) !== S_IFDIR) throw uvError(todo.length > 1 ? -E().ENOTDIR : -E().EEXIST, 'mkdir', path);
    todo.pop();
  }
  return first;
}

export function rmdirSync(path: string): void {
  check(fs('rmdir')(checkPath(path)), 'rmdir', path);
}

export function unlinkSync(path: string): void {
  check(fs('unlink')(checkPath(path)), 'unlink', path);
}

export function renameSync(from: string, to: string): void {
  check(fs('rename')(checkPath(from, 'oldPath'), checkPath(to, 'newPath')), 'rename', from, to);
}

/** Swaps two existing names in one step (renameat2 RENAME_EXCHANGE); EINVAL where the filesystem cannot. */
export function exchangeSync(a: string, b: string): void {
  check(fs('exchange')(checkPath(a, 'oldPath'), checkPath(b, 'newPath')), 'renameat2', a, b);
}

/** rm -r (recursive) / rm -f (force: a missing path is no error); symlinks are removed, not followed. */
export function rmSync(path: string, options: { recursive?: boolean; force?: boolean } = {}): void {
  const r = fs('stat')(checkPath(path), false, statValues);
  if (r < 0) {
    if (options.force && r === -E().ENOENT) return;
    throw uvError(r, 'lstat', path);
  }
  if ((statValues[2] & S_IFMT) !== S_IFDIR) return unlinkSync(path);
  if (!options.recursive) throw uvError(-E().EISDIR, 'rm', path);
  for (const name of readdirSync(path)) rmSync(`${path}/${name}`, { recursive: true, force: true });
  rmdirSync(path);
}
