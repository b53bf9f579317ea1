// Per-container state under --root: <root>/<id>/state.json, config.json (+
// exec.fifo while the container is created). state.json is what every verb
// reads, kept small: the config create validated (with an engine's seccomp
// profile, often 10-20 kB of JSON) is in config.json, which only exec reads
// (parsing it cost ~0.5 ms of a `state`'s CPU under Bun even for this repo's
// small bundle, and `list` paid it once per container). Writes are atomic
// (a new file put in place: replaceOwnFile), so a reader never sees a torn
// file and needs no lock: `state`, `list`, `ps`, `events` and exec take none
// (ContainerDir.peek), and never wait behind a writer. Writers (create,
// start, kill, delete, pause, resume, update) take an exclusive flock on the
// directory for their state transition only, never while they wait on
// anything a container does (a frozen or stuck container must not hold up
// every other command), and wait for it a bounded time.
// libuv opens every fd O_CLOEXEC, so no container's program inherits the lock;
// a child of tsrunc does hold a copy until its exec, which is why exec spawns
// its child with no lock held (see container/exec.ts).
import { closeSync, exchangeSync, existsSync, lstatSync, mkdirSync, statSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, unlinkSync, writeAllSync, writeFileSync, constants as fsc } from '../util/fs.ts';
import { dirname } from '../util/path.ts';
import { addon } from '../addon.ts';
import type { RunnableConfig } from '../config/load.ts';
import type { Hooks } from '../config/schema.ts';
import { parseConfigJson } from '../config/json.ts';
import { RuntimeError, notExist, unreadableState } from '../util/errors.ts';
import { runningInUserNs } from '../util/userns.ts';

export const OCI_VERSION = '1.2.0';

export interface StoredState {
  ociVersion: string;
  id: string;
  /** init's pid in tsrunc's pid namespace; 0 until it exists */
  pid: number;
  /** /proc/<pid>/stat starttime, so a recycled pid is never taken for init */
  initStartTime: number;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
  /** set until create has finished: a crash leaves this for delete to clean */
  creating?: boolean;
  /** what delete needs without re-reading the bundle (it may be gone) */
  cleanup?: Record<string, unknown>;
  /** the hooks that later verbs run: start's poststart, delete's poststop */
  hooks?: Pick<Hooks, 'poststart' | 'poststop'>;
  /** the whole config, inline, in states written before config.json (read, never written) */
  config?: RunnableConfig;
}

/**
 * runc's rule (shouldHonorXDGRuntimeDir): $XDG_RUNTIME_DIR/tsrunc for a
 * non-root caller, and for root in a user namespace other than the host's
 * unless $USER is root (rootless engines run the runtime so); the real root
 * keeps /run/tsrunc even when XDG_RUNTIME_DIR is set (/run/user/0). Without
 * XDG_RUNTIME_DIR a non-root caller gets /run/tsrunc too, and the error of
 * not being allowed there, as with runc.
 */
export function defaultRoot(): string {
  const xdg = process.env.XDG_RUNTIME_DIR;
  if (!xdg) return '/run/tsrunc';
  if (process.geteuid?.() !== 0) return `${xdg}/tsrunc`;
  return runningInUserNs() && process.env.USER !== 'root' ? `${xdg}/tsrunc` : '/run/tsrunc';
}

/** Whether `root` is the $XDG_RUNTIME_DIR one: made sticky there (XDG: kept from being pruned), as runc does. */
/** The hooks start and delete run (in states written before config.json: the inline config's). */
export function storedHooks(state: StoredState): StoredState['hooks'] {
  return state.hooks ?? state.config?.hooks;
}

export function isXdgRoot(root: string): boolean {
  return Boolean(process.env.XDG_RUNTIME_DIR) && root === `${process.env.XDG_RUNTIME_DIR}/tsrunc`;
}

/** runc's rule for an id, ^[\w+.-]+$ (ASCII word characters, '+', '.', '-'), and no path trick: neither . nor .. */
export function validateId(id: string): void {
  // A loop over the characters, not that regex: every verb checks an id, and
  // compiling a regex at its first use costs ~0.03 ms under Bun.
  let ok = id.length > 0 && id !== '.' && id !== '..';
  for (let i = 0; ok && i < id.length; i++) {
    const c = id.charCodeAt(i);
    ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f /* _ */ || c === 0x2b /* + */ || c === 0x2e /* . */ || c === 0x2d /* - */;
  }
  if (!ok) throw new RuntimeError('invalid container id format: ' + JSON.stringify(id));
}

export function listIds(root: string): string[] {
  try {
    // A loop: filter and map are JS builtins whose first use costs ~0.1 ms each under Bun.
    const ids: string[] = [];
    for (const e of readdirSync(root, { withFileTypes: true })) if (e.isDirectory()) ids.push(e.name);
    return ids;
  } catch (e) {
    // No root yet: no containers. Any other error (a non-root caller at
    // /run/tsrunc) is said, as runc says it, not shown as an empty list.
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return [];
    throw new RuntimeError(`open ${root}: ${err.code === 'EACCES' ? 'permission denied' : err.message}`);
  }
}

/**
 * Replaces a file whole, in one step: the data goes into a new file, which
 * is then renamed over the old one. A reader opens the old file or the new
 * one, each complete. For a path the caller names (--pid-file, spec's
 * config.json): a rename over a directory fails and leaves it alone.
 *
 * No fsync (nor does runc): the state of running containers means nothing
 * after a reboot (/run is a tmpfs on most hosts), and an fsync per write
 * would cost more than the rest of `state`.
 */
export function writeFileAtomic(path: string, data: string, mode = 0o600): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, data, { mode });
  } catch (e) {
    // The caller named path: the error names it too, not our temporary name.
    if (e instanceof Error) e.message = e.message.replace(tmp, path);
    throw e;
  }
  try {
    renameSync(tmp, path);
  } catch (e) {
    // A directory of that name, say: the new file must not stay beside it.
    try {
      unlinkSync(tmp);
    } catch {}
    throw e;
  }
}

/**
 * writeFileAtomic for the files of a container's directory, which only
 * tsrunc writes: the new file and the old exchange names (renameat2
 * RENAME_EXCHANGE), and the old one is then unlinked. A file once in place
 * is never written again (a reader may still hold it open).
 *
 * Why not the rename, as runc does: on ext4 a rename over a file makes the
 * new file's blocks be allocated and written out at once (auto_da_alloc),
 * and frees the old file's. That is ~0.35 ms of an `update` on this host
 * (whose ext4 also discards what it frees), against ~0.1 ms; on tmpfs both
 * are ~0.06 ms. Where the exchange cannot be made (no old file yet; a
 * filesystem or kernel without it, or a seccomp filter that predates it),
 * the rename. Not for a path a caller names: the exchange would move a
 * directory there aside where the rename fails.
 *
 * A crash between the exchange and the unlink leaves the old data under the
 * temporary name, which delete removes with the directory. A power loss on a
 * disk-backed --root can leave state.json empty: nothing is synced, and the
 * exchange, unlike a rename over a file, does not make ext4 write the new
 * file's blocks before the names change. Nothing of the container outlives
 * that boot; read() names such a file and delete --force removes it.
 */
function replaceOwnFile(path: string, data: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode: 0o600 });
  try {
    exchangeSync(tmp, path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EINVAL' || code === 'ENOSYS' || code === 'EPERM') return renameSync(tmp, path);
    try {
      unlinkSync(tmp);
    } catch {}
    throw e;
  }
  unlinkSync(tmp);
}

/**
 * How long a writer waits for another's lock: longer than any transition
 * takes (delete's worst case: 10 s for init to die after SIGKILL, then a few
 * seconds of cgroup removal), short enough that a stuck tsrunc is an error
 * an engine sees rather than a hang.
 */
export const LOCK_WAIT_MS = 60_000;

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A reason as strerror says it, from a Node error ("ENOENT: no such file or directory, open …"). */
function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const m = /^\w+: ([^,]+)/.exec(err.message ?? '');
  return m ? m[1] : String(err.message ?? e);
}

/**
 * Before the process runs: the pid file's directory must exist, so that a
 * bad --pid-file fails the command before anything of the user's has run.
 */
export function checkPidFileDir(path: string): void {
  const dir = dirname(path);
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (e) {
    throw new RuntimeError(`cannot write pid file ${path}: ${dir}: ${reason(e)}`);
  }
  if (!isDir) throw new RuntimeError(`cannot write pid file ${path}: ${dir}: not a directory`);
  pidFileIsDevice(path);
}

/**
 * Whether --pid-file names a character device (/dev/null, a terminal), which
 * is written into, as crun does: runc's rename would put a file in place of
 * the device node (as root, /dev/null for the whole host). A FIFO (whose
 * open would wait for a reader), a socket or a block device is refused, and
 * so is a symlink to anything but a regular file (`/dev/stdout`): neither
 * replaced nor followed into a device. Anything else, there or not, is for
 * writeFileAtomic (a directory: the rename fails and leaves it).
 */
function pidFileIsDevice(path: string): boolean {
  // Not there (or a dangling link): the rename says what is wrong, if anything.
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return false;
  }
  if (st.isSymbolicLink()) {
    let target;
    try {
      target = statSync(path);
    } catch {
      return false;
    }
    if (!target.isFile()) throw new RuntimeError(`cannot write pid file ${path}: a symlink to what is not a regular file`);
    return false;
  }
  if (st.isFile() || st.isDirectory()) return false;
  if (st.isCharacterDevice()) return true;
  throw new RuntimeError(`cannot write pid file ${path}: not a regular file`);
}

/** --pid-file: a new file put in place (readers never see it empty), or a character device written into; errors name the path the user gave. */
export function writePidFile(path: string, pid: number): void {
  const device = pidFileIsDevice(path);
  try {
    if (!device) return writeFileAtomic(path, String(pid), 0o644);
    // O_NOFOLLOW: the device pidFileIsDevice saw, not a link put there since.
    const fd = openSync(path, fsc.O_WRONLY | fsc.O_NOFOLLOW);
    try {
      writeAllSync(fd, String(pid));
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw new RuntimeError(`cannot write pid file ${path}: ${reason(e)}`);
  }
}

export class ContainerDir {
  readonly path: string;
  private lockFd = -1;

  private constructor(readonly root: string, readonly id: string) {
    this.path = `${root}/${id}`;
  }

  get statePath(): string {
    return `${this.path}/state.json`;
  }

  get fifoPath(): string {
    return `${this.path}/exec.fifo`;
  }

  get configPath(): string {
    return `${this.path}/config.json`;
  }

  /** A new container's directory, locked. */
  static create(root: string, id: string): ContainerDir {
    validateId(id);
    mkdirSync(root, { recursive: true, mode: 0o700 });
    const dir = new ContainerDir(root, id);
    try {
      mkdirSync(dir.path, { mode: 0o711 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new RuntimeError(`container with id exists: ${id}`);
      throw e;
    }
    dir.lock();
    return dir;
  }

  /** An existing container's directory, locked. */
  static open(root: string, id: string, waitMs = LOCK_WAIT_MS): ContainerDir {
    validateId(id);
    const dir = new ContainerDir(root, id);
    dir.lock(waitMs);
    return dir;
  }

  /**
   * An existing container's directory, not locked: for reading only (the
   * state file is replaced atomically, so any read is whole).
   */
  static peek(root: string, id: string): ContainerDir {
    validateId(id);
    const dir = new ContainerDir(root, id);
    if (!existsSync(dir.path)) throw notExist();
    return dir;
  }

  /**
   * The exclusive lock, waited for at most waitMs: a writer holds it only for
   * a state transition, so a longer wait means a stuck tsrunc (or one killed
   * uninterruptibly), and an error beats a hang. Polled, with a backoff from
   * 1 ms to 50 ms: flock(2) has no timeout of its own.
   */
  lock(waitMs = LOCK_WAIT_MS): void {
    if (this.lockFd >= 0) return;
    let fd: number;
    try {
      fd = openSync(this.path, fsc.O_RDONLY | fsc.O_DIRECTORY);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw notExist();
      throw e;
    }
    const deadline = Date.now() + waitMs;
    for (let delay = 1; !addon('flock')(fd, true, false); delay = Math.min(delay * 2, 50)) {
      if (Date.now() >= deadline) {
        closeSync(fd);
        throw new RuntimeError(`container ${this.id} is busy: another tsrunc command has held its lock for ${Math.round(waitMs / 1000)}s (${this.path})`);
      }
      sleepMs(delay);
    }
    // Deleted while we waited (and perhaps made again): the lock is on a directory that is gone.
    if (!addon('sameFile')(fd, this.path)) {
      closeSync(fd);
      throw notExist();
    }
    this.lockFd = fd;
  }

  /** Whether a writer holds the lock now (a create in progress, before its state says so). */
  busy(): boolean {
    if (this.lockFd >= 0) return false; // ours
    let fd: number;
    try {
      fd = openSync(this.path, fsc.O_RDONLY | fsc.O_DIRECTORY);
    } catch {
      return false;
    }
    try {
      return !addon('flock')(fd, false, false);
    } finally {
      closeSync(fd);
    }
  }

  unlock(): void {
    if (this.lockFd >= 0) closeSync(this.lockFd);
    this.lockFd = -1;
  }

  read(): StoredState {
    let text: string;
    try {
      text = readFileSync(this.statePath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !existsSync(this.path)) throw notExist(); // deleted under a reader
      // A directory without state: create died before its first write.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        return { ociVersion: OCI_VERSION, id: this.id, pid: 0, initStartTime: 0, bundle: '', rootfs: '', created: '', owner: '', creating: true };
      throw e;
    }
    let state: unknown;
    try {
      state = JSON.parse(text);
    } catch (e) {
      throw unreadableState(this.id, this.statePath, text === '' ? 'empty file' : (e as Error).message);
    }
    if (state === null || typeof state !== 'object' || Array.isArray(state)) throw unreadableState(this.id, this.statePath, 'not a JSON object');
    return state as StoredState;
  }

  write(state: StoredState): void {
    replaceOwnFile(this.statePath, JSON.stringify(state));
  }

  /** create, before the first state: the validated config, for exec's defaults (the bundle may change or go). */
  writeConfig(config: RunnableConfig): void {
    replaceOwnFile(this.configPath, JSON.stringify(config));
  }

  /** The config create validated; undefined where create died before writing it. */
  readConfig(state: StoredState): RunnableConfig | undefined {
    if (state.config) return state.config;
    try {
      return parseConfigJson(readFileSync(this.configPath, 'utf8')) as RunnableConfig;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  remove(): void {
    // What create leaves: state.json, config.json, and exec.fifo until start.
    // An unlink each and one rmdir; the recursive walk only for anything else.
    for (const f of [this.statePath, this.configPath, this.fifoPath])
      try {
        unlinkSync(f);
      } catch {}
    try {
      rmdirSync(this.path);
    } catch {
      rmSync(this.path, { recursive: true, force: true });
    }
    this.unlock();
  }
}
