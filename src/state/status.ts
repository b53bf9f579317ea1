// A container's status is derived, never stored: from whether init (pid +
// start time) is alive and whether the exec fifo still waits for `start`.
import { existsSync, readFileSync } from '../util/fs.ts';
import { cgroupFrozen } from '../cgroups/frozen.ts';
import type { ContainerDir, StoredState } from './store.ts';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

interface ProcStat {
  state: string;
  startTime: number;
}

export function procStat(pid: number): ProcStat | undefined {
  if (pid <= 0) return undefined;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // comm may hold spaces and parentheses: fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0], startTime: Number(fields[19]) };
}

/** Is the container's init (the very process, not a recycled pid) alive? */
export function initAlive(s: StoredState): boolean {
  const st = procStat(s.pid);
  return st !== undefined && st.startTime === s.initStartTime && st.state !== 'Z' && st.state !== 'X';
}

/**
 * Read with or without the container's lock (the state file is whole either
 * way). A `creating` marker is a create in progress while its tsrunc holds
 * the lock, else a create that died: its init, if any, is still reported
 * (so that delete kills it); without one it is stopped.
 */
export function status(dir: ContainerDir, s: StoredState): Status {
  if (s.creating && dir.busy()) return 'creating';
  if (!initAlive(s)) return 'stopped';
  if (s.creating) return 'creating';
  // runc: a frozen container is paused, whether it was created or running.
  if (cgroupFrozen(s.cleanup)) return 'paused';
  if (existsSync(dir.fifoPath)) return 'created';
  return 'running';
}

/** The runtime-spec state, plus runc's rootfs/created/owner. */
export function ociState(s: StoredState, st: Status): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ociVersion: s.ociVersion,
    id: s.id,
    pid: st === 'stopped' ? 0 : s.pid,
    status: st,
    bundle: s.bundle,
    rootfs: s.rootfs,
    created: s.created,
    owner: s.owner,
  };
  if (s.annotations && Object.keys(s.annotations).length) out.annotations = s.annotations;
  return out;
}
