// The end of a container's cgroup, from its record (state.cleanup.cgroup):
// the processes in it (kill --all), SIGKILL to all of them, and its
// directories removed (delete), a systemd scope stopped first. Apart from
// the managers, like freezer.ts, so that delete and kill --all load neither
// the resource code nor the systemd unit properties: v1.ts, v2.ts and
// systemd.ts with what they import are ~80 kB of code, set up at every delete
// under Bun. The managers' pids(), kill() and destroy() are these.
import { RuntimeError } from '../util/errors.ts';
import { debugEnabled, logDebug } from '../util/log.ts';
import type { StoredState } from '../state/store.ts';
import { thaw } from './freezer.ts';
import { cgroupRecord } from './freezer.ts';
import { allPids, realIO, removeIfEmpty, removeParents, removeTree, signalAll, sleepMs, type CgroupError, type CgroupIO } from './fs.ts';
import { resetFailedUnit, stopUnit } from './systemd-dbus.ts';
import type { CgroupRecord } from './types.ts';

function write(io: CgroupIO, path: string, value: string): void {
  if (debugEnabled()) logDebug(`cgroup: write ${JSON.stringify(value)} to ${path}`);
  io.write(path, value);
}

/** v1: each hierarchy's directory once (co-mounted controllers share one). */
function dirs(record: CgroupRecord): string[] {
  return [...new Set(Object.values(record.paths))];
}

/** v1: the directories create made, one per hierarchy. */
function ownedLeaves(record: CgroupRecord): string[] {
  const owned = new Set(record.owned);
  return dirs(record).filter((d) => owned.has(d));
}

/** The pids in the cgroup (v1: in one hierarchy's directory, the devices' or the freezer's by preference). */
export function pidsOf(record: CgroupRecord, io: CgroupIO = realIO): number[] {
  const dir = record.version === 2 ? record.paths[''] : (record.paths.devices ?? record.paths.freezer ?? dirs(record)[0]);
  return dir && io.exists(dir) ? allPids(io, dir) : [];
}

/** SIGKILL to everything in the cgroups create made, then thawed: a frozen process dies only once thawed. */
export function killAll(record: CgroupRecord, io: CgroupIO = realIO): void {
  if (record.version === 1) {
    for (const d of ownedLeaves(record)) if (io.exists(d)) signalAll(allPids(io, d), 'SIGKILL');
    const fz = record.paths.freezer;
    if (fz && record.owned.includes(fz) && io.exists(`${fz}/freezer.state`)) write(io, `${fz}/freezer.state`, 'THAWED');
    return;
  }
  const dir = record.paths[''];
  try {
    if (!record.owned.includes(dir) || !io.exists(dir)) return;
    // cgroup.kill (5.14+) kills the whole subtree at once, races with forks included.
    if (io.exists(`${dir}/cgroup.kill`)) write(io, `${dir}/cgroup.kill`, '1');
    else signalAll(allPids(io, dir), 'SIGKILL');
    // v2 lets a fatal signal through a frozen cgroup; thawing anyway leaves nothing stopped.
    try {
      thaw(record, io);
    } catch {}
  } catch (e) {
    // A systemd scope may vanish meanwhile: once its last process is gone
    // systemd stops it and removes its cgroup (a write there fails with ENODEV).
    const code = (e as CgroupError).code;
    if (!record.systemd || (code !== 'ENODEV' && code !== 'ENOENT')) throw e;
  }
}

/**
 * delete: the directories create made, gone, their processes killed first
 * (usually none is left: one rmdir each). A systemd scope is stopped, so that
 * systemd removes its cgroup, and its failed state, if any, reset, so that
 * nothing of it is left; then whatever directory systemd left is removed.
 */
export function destroy(record: CgroupRecord, io: CgroupIO = realIO): void {
  if (record.systemd) {
    killAll(record, io);
    stopUnit(record.systemd.user, record.systemd.unit);
    resetFailedUnit(record.systemd.user, record.systemd.unit);
  }
  const leaves = record.version === 2 ? [record.paths['']].filter((d) => record.owned.includes(d)) : ownedLeaves(record);
  const left = leaves.filter((d) => !removeIfEmpty(io, d));
  // Processes may remain without a pid namespace, or be born meanwhile: kill until none is left.
  for (let i = 0; i < 200 && left.length; i++) {
    killAll(record, io);
    if (left.every((d) => gone(io, d, record.version))) break;
    sleepMs(10);
  }
  for (const d of left) removeTree(io, d);
  removeParents(io, record.owned, record.version === 2 ? [record.paths['']] : leaves);
}

/** No process left in `dir` (v2: cgroup.events says so, where the kernel has it). */
function gone(io: CgroupIO, dir: string, version: 1 | 2): boolean {
  if (!io.exists(dir)) return true;
  if (version === 2 && io.exists(`${dir}/cgroup.events`)) return /^populated 0$/m.test(io.read(`${dir}/cgroup.events`));
  return allPids(io, dir).length === 0;
}

/** For delete, before init is killed: SIGKILL all and thaw, so that a paused container dies too. */
export function killCgroup(state: StoredState): void {
  const rec = cgroupRecord(state.cleanup);
  if (rec) killAll(rec);
}

/** For delete: the cgroup directories create made, gone (their processes killed first). */
export function removeCgroup(state: StoredState): void {
  const rec = cgroupRecord(state.cleanup);
  if (!rec) return;
  try {
    destroy(rec);
  } catch (e) {
    throw new RuntimeError(`unable to remove container's cgroup: ${(e as Error).message}`);
  }
}
