// Per-container state under --root: <root>/<id>/state.json (+ exec.fifo while
// the container is created). Writes are atomic (write to a temporary, rename)
// and every
// operation on a container holds an flock on its directory (libuv opens every
// fd O_CLOEXEC, so no container inherits one), so two tsrunc
// processes never see or leave a torn state.
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, unlinkSync, writeFileSync, constants as fsc } from 'node:fs';
import { addon } from '../addon.ts';
import type { RunnableConfig } from '../config/load.ts';
import { RuntimeError, notExist } from '../util/errors.ts';
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
  /** the validated config, for exec's defaults (the bundle may change) */
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
export function isXdgRoot(root: string): boolean {
  return Boolean(process.env.XDG_RUNTIME_DIR) && root === `${process.env.XDG_RUNTIME_DIR}/tsrunc`;
}

// runc's rule: word characters, '+', '-', '.', and nothing that is a path trick.
export function validateId(id: string): void {
  if (!/^[\w+.-]+$/.test(id) || id === '.' || id === '..') throw new RuntimeError('invalid container id format: ' + JSON.stringify(id));
}

export function listIds(root: string): string[] {
  try {
    return readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch (e) {
    // No root yet: no containers. Any other error (a non-root caller at
    // /run/tsrunc) is said, as runc says it, not shown as an empty list.
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return [];
    throw new RuntimeError(`open ${root}: ${err.code === 'EACCES' ? 'permission denied' : err.message}`);
  }
}

// No fsync: a reader must never see a torn file (rename gives that), but the
// state of running containers means nothing after a reboot (/run is a tmpfs),
// and an fsync per write would cost more than the rest of `state`.
export function writeFileAtomic(path: string, data: string, mode = 0o600): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode });
  renameSync(tmp, path);
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
  static open(root: string, id: string): ContainerDir {
    validateId(id);
    const dir = new ContainerDir(root, id);
    dir.lock();
    return dir;
  }

  private lock(): void {
    try {
      this.lockFd = openSync(this.path, fsc.O_RDONLY | fsc.O_DIRECTORY);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw notExist();
      throw e;
    }
    addon().flock(this.lockFd, true, true);
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
      // A directory without state: create died before its first write.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        return { ociVersion: OCI_VERSION, id: this.id, pid: 0, initStartTime: 0, bundle: '', rootfs: '', created: '', owner: '', creating: true };
      throw e;
    }
    return JSON.parse(text) as StoredState;
  }

  write(state: StoredState): void {
    writeFileAtomic(this.statePath, JSON.stringify(state));
  }

  remove(): void {
    // What create leaves: state.json, and exec.fifo until start. An unlink
    // each and one rmdir; the recursive walk only for anything else.
    for (const f of [this.statePath, this.fifoPath])
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
