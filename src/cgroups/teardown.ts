// A container's cgroup at delete: what is left in it killed, and the
// directories create made removed (v1: each hierarchy's; v2: one; the
// systemd driver: its scope's unit stopped first). Apart from the managers,
// whose kill and destroy call it, so that `delete`, which engines run for
// every container, loads nothing more of cgroups/ than this, record.ts, the
// freezer, systemd-dbus.ts and fs.ts (the managers are ~80 kB of code).
import type { StoredState } from '../state/store.ts';
import { RuntimeError } from '../util/errors.ts';
import { thawCgroup } from './freezer.ts';
import { allPids, realIO, removeIfEmpty, removeParents, removeTree, signalAll, pollUntil, type CgroupError, type CgroupIO } from './fs.ts';
import { cgroupRecord, recordDirs } from './record.ts';
import { resetFailedUnit, stopUnit } from './systemd-dbus.ts';
import type { CgroupRecord } from './types.ts';
import { hasLine } from '../util/text.ts';

/** v1: the hierarchies' directories that create made (each once: co-mounted controllers share one). */
function v1Leaves(rec: CgroupRecord): string[] {
  const out: string[] = [];
  for (const d of recordDirs(rec)) if (rec.owned.includes(d)) out.push(d);
  return out;
}

/** SIGKILL to every process left in the cgroups create made, then thawed: a frozen process dies only once thawed. */
export function killRecord(rec: CgroupRecord, io: CgroupIO = realIO): void {
  if (rec.version === 2) {
    const dir = rec.paths[''];
    try {
      if (!rec.owned.includes(dir) || !io.exists(dir)) return;
      // cgroup.kill (5.14+) kills the whole subtree at once, races with forks included.
      if (io.exists(`${dir}/cgroup.kill`)) io.write(`${dir}/cgroup.kill`, '1');
      else signalAll(allPids(io, dir), 'SIGKILL');
    } catch (e) {
      // The systemd driver's scope may vanish meanwhile: once its last process
      // is gone systemd stops it and removes its cgroup (a write then fails with ENODEV).
      const code = (e as CgroupError).code;
      if (!rec.systemd || (code !== 'ENODEV' && code !== 'ENOENT')) throw e;
    }
    // v2 lets a fatal signal through a frozen cgroup; thawing anyway leaves nothing stopped.
    try {
      thawCgroup(rec, io);
    } catch {}
    return;
  }
  const leaves = v1Leaves(rec);
  for (const d of leaves) if (io.exists(d)) signalAll(allPids(io, d), 'SIGKILL');
  const fz = rec.paths.freezer;
  if (fz && leaves.includes(fz) && io.exists(`${fz}/freezer.state`)) io.write(`${fz}/freezer.state`, 'THAWED');
}

/**
 * The cgroups create made, gone; processes still in them are killed first.
 * With the systemd driver the unit is stopped (systemd removes the scope's
 * cgroup) and its failed state, if any, reset, so that nothing of it is left;
 * then whatever directory systemd left is removed.
 */
export function destroyRecord(rec: CgroupRecord, io: CgroupIO = realIO): void {
  if (rec.systemd) {
    killRecord(rec, io);
    stopUnit(rec.systemd.user, rec.systemd.unit);
    resetFailedUnit(rec.systemd.user, rec.systemd.unit);
  }
  // Usually the container's processes are gone by now: one rmdir each.
  const own = rec.version === 2 ? (rec.owned.includes(rec.paths['']) ? [rec.paths['']] : []) : v1Leaves(rec);
  const leaves: string[] = [];
  for (const d of own) if (!removeIfEmpty(io, d)) leaves.push(d);
  // Processes may remain without a pid namespace, or be born meanwhile: kill until none is left.
  const empty = (d: string) => {
    if (!io.exists(d)) return true;
    const events = rec.version === 2 && io.exists(`${d}/cgroup.events`) ? io.read(`${d}/cgroup.events`) : '';
    return events ? hasLine(events, 'populated 0') : allPids(io, d).length === 0;
  };
  if (leaves.length)
    pollUntil(() => {
      killRecord(rec, io);
      for (const d of leaves) if (!empty(d)) return false;
      return true;
    }, 2000);
  for (const d of leaves) removeTree(io, d);
  removeParents(io, rec.owned, rec.version === 2 ? [rec.paths['']] : own);
}

/** For delete, before init is killed: SIGKILL all and thaw, so that a paused container dies too. */
export function killCgroup(state: StoredState): void {
  const rec = cgroupRecord(state);
  if (rec) killRecord(rec);
}

/** For delete: the cgroup directories create made, gone (their processes killed first). */
export function removeCgroup(state: StoredState): void {
  const rec = cgroupRecord(state);
  if (!rec) return;
  try {
    destroyRecord(rec);
  } catch (e) {
    throw new RuntimeError(`unable to remove container's cgroup: ${(e as Error).message}`);
  }
}
