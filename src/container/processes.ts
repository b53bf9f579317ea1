// The processes of a container: every process in its init's pid namespace.
// (A container without its own pid namespace has only its init here.)
import { readdirSync, readlinkSync } from '../util/fs.ts';
import type { StoredState } from '../state/store.ts';

export function containerPids(state: StoredState): number[] {
  let ns: string;
  try {
    ns = readlinkSync(`/proc/${state.pid}/ns/pid`);
  } catch {
    return [];
  }
  if (ns === readlinkSync('/proc/self/ns/pid')) return [state.pid];
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/ns/pid`) === ns) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids.sort((a, b) => a - b);
}
