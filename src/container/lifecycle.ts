// delete of an existing container, and kill --all (kill.ts): each decides
// from the derived status under the container's lock, and holds it for the
// state transition only (see state/store.ts): never while it waits on the
// container. start is start.ts; loading a container, load.ts (delete reads
// its state itself: a state it cannot read is one that delete --force removes).
import { addon } from '../addon.ts';
import { freezeCgroup, thawCgroup } from '../cgroups/freezer.ts';
import { cgroupRecord, recordPids } from '../cgroups/record.ts';
import { killCgroup, removeCgroup } from '../cgroups/teardown.ts';
import { ContainerDir, storedHooks, type StoredState } from '../state/store.ts';
import { initAlive, ociState, status, type Status } from '../state/status.ts';
import { notExist, RuntimeError, unreadableStateOf } from '../util/errors.ts';
import { closeSync } from '../util/fs.ts';
import { logWarn } from '../util/log.ts';
import { runHooksWarn } from './hooks.ts';
import { openInit } from './init-pidfd.ts';
import { containerPids } from './processes.ts';

/**
 * kill --all: every process in the container's cgroup, frozen meanwhile so
 * that none can fork past the signal (as runc does); without a cgroup, every
 * process in its pid namespace. A paused container stays paused.
 */
export function signalAll(state: StoredState, signal: number, st: Status): void {
  // runc: --all signals whatever is left in the cgroup, stopped or not (nothing, usually).
  const rec = cgroupRecord(state);
  if (st === 'stopped' && !rec) return;
  const paused = st === 'paused' || st === 'stopped';
  // A rootless container may have some hierarchies and not the freezer's: as
  // runc, a freeze that cannot be done is a warning, and the signals go anyway.
  let frozen = false;
  if (rec && !paused)
    try {
      freezeCgroup(rec);
      frozen = true;
    } catch (e) {
      logWarn((e as Error).message);
    }
  try {
    const pids = rec ? recordPids(rec) : containerPids(state);
    for (const pid of pids.reverse())
      try {
        process.kill(pid, signal);
      } catch {}
  } finally {
    if (rec && frozen) thawCgroup(rec);
  }
}

/** Kills init (and so, with a pid namespace, everything) and waits for it. */
function killAndWait(state: StoredState): void {
  const pidfd = openInit(state);
  if (pidfd === undefined) return;
  try {
    addon('pidfdSignal')(pidfd, 9 /* SIGKILL */);
    if (!addon('pidfdPoll')(pidfd, 10_000)) throw new RuntimeError(`container init ${state.pid} did not die after SIGKILL`);
  } finally {
    closeSync(pidfd);
  }
}

/** `st`: the status remove() derived under the lock; a stopped init cannot come back, so /proc is not read again. */
export function destroy(dir: ContainerDir, state: StoredState, st?: Status): void {
  if (st !== 'stopped' && initAlive(state)) {
    // SIGKILL to everything in the cgroup, then thaw: a paused init dies only once thawed.
    killCgroup(state);
    killAndWait(state);
  }
  // Kills whatever is left in the cgroup (no pid namespace, exec'd processes).
  // Before the state goes: if the cgroup cannot be removed, delete can be retried.
  removeCgroup(state);
  dir.remove();
  runHooksWarn('poststop', storedHooks(state)?.poststop, ociState(state, 'stopped'));
}

export function remove(root: string, id: string, force: boolean): void {
  let dir: ContainerDir;
  try {
    dir = ContainerDir.open(root, id);
  } catch (e) {
    // runc: delete --force of a container that does not exist succeeds (engines' clean-up calls it blindly).
    if (force && e instanceof RuntimeError && e.message === notExist().message) return;
    throw e;
  }
  try {
    let state: StoredState;
    try {
      state = dir.read();
    } catch (e) {
      const what = unreadableStateOf(e);
      if (!force || what === undefined) throw e;
      // An empty or cut-short state.json (a power loss on a disk-backed
      // --root: state/store.ts). After that boot nothing of the container
      // runs and its cgroup is gone (cgroupfs lives in memory), so the
      // directory is all there is to remove. The state was the only record
      // of its init and its cgroup: neither is guessed at (the cgroup its
      // config names may hold another container's processes too).
      logWarn(`${what}: removed its directory; any process or cgroup of it still there was not looked for`);
      dir.remove();
      return;
    }
    const st = status(dir, state);
    // A created container has run nothing of the user's yet: runc deletes it too.
    if ((st === 'running' || st === 'paused') && !force) throw new RuntimeError(`cannot delete container ${id} that is not stopped: ${st}`);
    destroy(dir, state, st);
  } finally {
    dir.unlock();
  }
}
