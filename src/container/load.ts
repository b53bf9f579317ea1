// A container as its state says, for the verbs that act on one: locked for
// a command that changes it, or not locked for one that only reads. Apart
// from start, kill and delete (lifecycle.ts, start.ts, kill.ts) so that a
// verb that only reads loads none of their modules: under Bun a module is
// set up at each start, and cgroups/ alone cost `state` ~1 ms.
import { ContainerDir, type StoredState } from '../state/store.ts';
import { status, type Status } from '../state/status.ts';

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
