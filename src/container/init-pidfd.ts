// The container's init as a pidfd, for the signals that must reach that very
// process (kill, delete). Its pid comes from the state, and its init belongs
// to whoever reaps it (an engine's shim, at once): between a check through
// /proc and a kill(2), the init could die, be reaped and its pid be taken by
// another process, which would get the signal. A pidfd names one process for
// as long as it is open, so it is opened first, and the process it names is
// checked to be the init (pid and start time, as status derives it) after.
import { addon } from '../addon.ts';
import type { StoredState } from '../state/store.ts';
import { initAlive } from '../state/status.ts';
import { closeSync } from '../util/fs.ts';

/** A pidfd on the container's init, or undefined when the init is gone (its pid now free or another process's). Close it. */
export function openInit(state: StoredState): number | undefined {
  const pidfd = addon('pidfdOpen')(state.pid);
  if (pidfd < 0) return undefined;
  if (initAlive(state)) return pidfd;
  closeSync(pidfd);
  return undefined;
}

/** Sends `signal` to the container's init: false when the init is gone. */
export function signalInit(state: StoredState, signal: number): boolean {
  const pidfd = openInit(state);
  if (pidfd === undefined) return false;
  try {
    return addon('pidfdSignal')(pidfd, signal);
  } finally {
    closeSync(pidfd);
  }
}
