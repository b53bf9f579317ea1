// start: lets a created container's init exec the user's program.
import { renameSync, rmSync } from '../util/fs.ts';
import { addon } from '../addon.ts';
import { storedHooks, type ContainerDir, type StoredState } from '../state/store.ts';
import { ociState } from '../state/status.ts';
import { errnoName, RuntimeError } from '../util/errors.ts';
import { runHooksWarn } from './hooks.ts';
import { load } from './load.ts';

export function start(root: string, id: string): void | Promise<never> {
  const { dir, state, status: st } = load(root, id);
  if (st === 'stopped') throw new RuntimeError('cannot start a container that has stopped');
  if (st !== 'created') throw new RuntimeError(`cannot start an already ${st} container`);
  return startCreated(dir, state);
}

/**
 * The start operation on a created container (start, and run with
 * startContainer hooks), called with the lock held. The fifo is claimed
 * under the lock (renamed: the container is running from then on, and a
 * second start finds no fifo); the wait for init to pass it (after the
 * startContainer hooks, which run in the container and may take as long as
 * they like) is made without the lock. A promise only where a startContainer
 * hook failed.
 */
export function startCreated(dir: ContainerDir, state: StoredState): void | Promise<never> {
  const claimed = `${dir.fifoPath}.${process.pid}`;
  renameSync(dir.fifoPath, claimed);
  dir.unlock();
  let started;
  try {
    // Bounded by init's life: it watches init's pidfd too.
    started = addon('openExecFifo')(claimed, state.pid);
  } finally {
    rmSync(claimed, { force: true });
  }
  if (typeof started === 'string') {
    // tsrunc-init's words end in a number ("set AppArmor profile: errno 2"): named as the child's failures are.
    const why = started.replace(/: errno (\d+)$/, (_, n: string) => `: ${errnoName(Number(n))}`);
    dir.lock();
    // A startContainer hook failed: the container goes (cgroups/ only on
    // this path, and so the only promise: a start has no await, src/cli/main.ts).
    return import('./lifecycle.ts').then(({ destroy }) => {
      destroy(dir, state);
      throw new RuntimeError(why);
    });
  }
  if (!started) throw new RuntimeError('cannot start container: its init process exited');
  runHooksWarn('poststart', storedHooks(state)?.poststart, ociState(state, 'running'));
}
