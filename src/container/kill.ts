// kill: a signal to the container's init, or with --all to every process in it.
import { RuntimeError } from '../util/errors.ts';
import { load } from './load.ts';

/** kill, or with --all every process of the container. */
export async function kill(root: string, id: string, signal: number, all = false): Promise<void> {
  const { dir, state, status: st } = load(root, id);
  try {
    if (all) {
      // cgroups/ only for --all: a plain kill loads none of it.
      const { signalAll } = await import('./lifecycle.ts');
      signalAll(state, signal, st);
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
