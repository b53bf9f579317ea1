// The container's cgroup as its state keeps it (state.cleanup.cgroup, made by
// create: index.ts), and what the verbs that only look into it need: the
// record itself, and the processes in it. Apart from the managers, so that
// `ps`, `pause` and `resume` load nothing more of cgroups/ than this, the
// freezer and fs.ts.
import type { StoredState } from '../state/store.ts';
import { RuntimeError } from '../util/errors.ts';
import { allPids, realIO, type CgroupIO } from './fs.ts';
import type { CgroupRecord } from './types.ts';

/**
 * The record of a container's cgroup, if create got as far as planning one
 * and it has one (a rootless container may have none: rootless.ts).
 */
export function cgroupRecord(state: StoredState): CgroupRecord | undefined {
  const rec = state.cleanup?.cgroup as CgroupRecord | undefined;
  return rec && Object.keys(rec.paths).length ? rec : undefined;
}

/** The record, or runc's error when the container has no cgroup. */
export function containerRecord(state: StoredState, context = 'cannot toggle freezer'): CgroupRecord {
  const rec = cgroupRecord(state);
  if (!rec) throw new RuntimeError(`${context}: cgroups not configured for container`);
  return rec;
}

/**
 * Each directory of the record once: v1's co-mounted controllers (cpu and
 * cpuacct) share one. A loop, not Set or filter: with JavaScriptCore's
 * interpreter only, each of those costs ~15-90 us at its first use, and
 * pause, delete and events run once.
 */
export function recordDirs(rec: CgroupRecord): string[] {
  const out: string[] = [];
  for (const c in rec.paths) if (!out.includes(rec.paths[c])) out.push(rec.paths[c]);
  return out;
}

/** Whether the cgroup is still there (v1: its memory, devices or any hierarchy's directory). */
export function recordExists(rec: CgroupRecord, io: CgroupIO = realIO): boolean {
  const dir = rec.version === 2 ? rec.paths[''] : (rec.paths.memory ?? rec.paths.devices ?? recordDirs(rec)[0]);
  return dir !== undefined && io.exists(dir);
}

/**
 * Every process in the cgroup and its sub-cgroups: what `ps` lists and
 * `kill --all` signals. On v1 the devices hierarchy's directory is read (as
 * runc does), or the freezer's, or any.
 */
export function recordPids(rec: CgroupRecord, io: CgroupIO = realIO): number[] {
  const dir = rec.version === 2 ? rec.paths[''] : (rec.paths.devices ?? rec.paths.freezer ?? recordDirs(rec)[0]);
  return dir && io.exists(dir) ? allPids(io, dir) : [];
}
