// kill: a signal to the container's init, or with --all to every process in it.
import { RuntimeError } from '../util/errors.ts';
import { signalInit } from './init-pidfd.ts';
import { load } from './load.ts';

/**
 * kill, or with --all every process of the container. A promise only for
 * --all, which loads cgroups/: a plain kill has no await (src/cli/main.ts).
 */
export function kill(root: string, id: string, signal: number, all = false): void | Promise<void> {
  const { dir, state, status: st } = load(root, id);
  if (all)
    return import('./lifecycle.ts')
      .then(({ signalAll }) => signalAll(state, signal, st))
      .finally(() => dir.unlock());
  try {
    if (st === 'stopped' || st === 'creating') throw new RuntimeError('container not running');
    if (!signalInit(state, signal)) throw new RuntimeError('container not running');
  } finally {
    dir.unlock();
  }
}
