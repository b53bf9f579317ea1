// start, kill and delete of an existing container: each decides from the
// derived status under the container's lock, and holds it for the state
// transition only (see state/store.ts): never while it waits on the container.
import { renameSync, rmSync } from '../util/fs.ts';
import { addon } from '../addon.ts';
import { cgroupRecord, containerCgroup, killCgroup, removeCgroup } from '../cgroups/index.ts';
import { ContainerDir, type StoredState } from '../state/store.ts';
import { initAlive, ociState, status, type Status } from '../state/status.ts';
import { notExist, RuntimeError } from '../util/errors.ts';
import { logWarn } from '../util/log.ts';
import { runHooksWarn } from './hooks.ts';
import { containerPids } from './processes.ts';

export interface Loaded {
  dir: ContainerDir;
  state: StoredState;
  status: Status;
}

/** The container, locked: for a command that changes it. */
export function load(root: string, id: string): Loaded {
  const dir = ContainerDir.open(root, id);
  try {
    const state = dir.read();
    return { dir, state, status: status(dir, state) };
  } catch (e) {
    dir.unlock();
    throw e;
  }
}

/** The container, not locked: for a command that only reads (state, list, ps, events, exec). */
export function peek(root: string, id: string): Loaded {
  const dir = ContainerDir.peek(root, id);
  const state = dir.read();
  return { dir, state, status: status(dir, state) };
}

export function start(root: string, id: string): void {
  const { dir, state, status: st } = load(root, id);
  if (st === 'stopped') throw new RuntimeError('cannot start a container that has stopped');
  if (st !== 'created') throw new RuntimeError(`cannot start an already ${st} container`);
  startCreated(dir, state);
}

/**
 * The start operation on a created container (start, and run with
 * startContainer hooks), called with the lock held. The fifo is claimed
 * under the lock (renamed: the container is running from then on, and a
 * second start finds no fifo); the wait for init to pass it (after the
 * startContainer hooks, which run in the container and may take as long as
 * they like) is made without the lock.
 */
export function startCreated(dir: ContainerDir, state: StoredState): void {
  const claimed = `${dir.fifoPath}.${process.pid}`;
  renameSync(dir.fifoPath, claimed);
  dir.unlock();
  let started;
  try {
    // Bounded by init's life: it watches init's pidfd too.
    started = addon().openExecFifo(claimed, state.pid);
  } finally {
    rmSync(claimed, { force: true });
  }
  if (typeof started === 'string') {
    dir.lock();
    destroy(dir, state);
    throw new RuntimeError(started);
  }
  if (!started) throw new RuntimeError('cannot start container: its init process exited');
  runHooksWarn('poststart', state.config?.hooks?.poststart, ociState(state, 'running'));
}

/**
 * kill --all: every process in the container's cgroup, frozen meanwhile so
 * that none can fork past the signal (as runc does); without a cgroup, every
 * process in its pid namespace. A paused container stays paused.
 */
function signalAll(state: StoredState, signal: number, paused: boolean): void {
  const cg = cgroupRecord(state) && containerCgroup(state);
  // A rootless container may have some hierarchies and not the freezer's: as
  // runc, a freeze that cannot be done is a warning, and the signals go anyway.
  let frozen = false;
  if (cg && !paused)
    try {
      cg.freeze();
      frozen = true;
    } catch (e) {
      logWarn((e as Error).message);
    }
  try {
    const pids = cg ? cg.pids() : containerPids(state);
    for (const pid of pids.reverse())
      try {
        process.kill(pid, signal);
      } catch {}
  } finally {
    if (cg && frozen) cg.thaw();
  }
}

/** kill, or with --all every process of the container. */
export function kill(root: string, id: string, signal: number, all = false): void {
  const { dir, state, status: st } = load(root, id);
  try {
    if (all) {
      // runc: --all signals whatever is left in the cgroup, stopped or not (nothing, usually).
      if (st === 'stopped' && !cgroupRecord(state)) return;
      signalAll(state, signal, st === 'paused' || st === 'stopped');
      return;
    }
    if (st === 'stopped' || st === 'creating') throw new RuntimeError('container not running');
    try {
      process.kill(state.pid, signal);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') throw new RuntimeError('container not running');
      throw e;
    }
  } finally {
    dir.unlock();
  }
}

/** Kills init (and so, with a pid namespace, everything) and waits for it. */
function killAndWait(state: StoredState): void {
  if (!initAlive(state)) return;
  try {
    process.kill(state.pid, 'SIGKILL');
  } catch {}
  if (!addon().pidfdWait(state.pid, 10_000)) throw new RuntimeError(`container init ${state.pid} did not die after SIGKILL`);
}

export function destroy(dir: ContainerDir, state: StoredState): void {
  if (initAlive(state)) {
    // SIGKILL to everything in the cgroup, then thaw: a paused init dies only once thawed.
    killCgroup(state);
    killAndWait(state);
  }
  // Kills whatever is left in the cgroup (no pid namespace, exec'd processes).
  // Before the state goes: if the cgroup cannot be removed, delete can be retried.
  removeCgroup(state);
  dir.remove();
  runHooksWarn('poststop', state.config?.hooks?.poststop, ociState(state, 'stopped'));
}

export function remove(root: string, id: string, force: boolean): void {
  let loaded: Loaded;
  try {
    loaded = load(root, id);
  } catch (e) {
    // runc: delete --force of a container that does not exist succeeds (engines' clean-up calls it blindly).
    if (force && e instanceof RuntimeError && e.message === notExist().message) return;
    throw e;
  }
  const { dir, state, status: st } = loaded;
  // A created container has run nothing of the user's yet: runc deletes it too.
  if ((st === 'running' || st === 'paused') && !force) {
    dir.unlock();
    throw new RuntimeError(`cannot delete container ${id} that is not stopped: ${st}`);
  }
  try {
    destroy(dir, state);
  } finally {
    dir.unlock();
  }
}
