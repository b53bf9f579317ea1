// Freezing and thawing a container's cgroup, on v1 (freezer.state) and v2
// (cgroup.freeze) alike. Apart from the managers (v1.ts and v2.ts call it for
// their freeze and thaw), so that `pause` and `resume` load nothing more of
// cgroups/ than this, record.ts and fs.ts: loading the managers cost `pause`
// 0.2-0.4 ms a run (interleaved, 100 rounds). Whether a cgroup is frozen,
// which `state` and `list` ask, is frozen.ts, lighter still.
import { CgroupError, pollUntil, realIO, sleepMs, type CgroupIO } from './fs.ts';
import type { CgroupRecord } from './types.ts';
import { hasLine } from '../util/text.ts';

/** v1: the freezer hierarchy's directory, or runc's error where the container has none. */
function v1Dir(rec: CgroupRecord): string {
  const dir = rec.paths.freezer;
  if (!dir) throw new CgroupError('cannot toggle freezer: cgroups not configured for container');
  return dir;
}

/** Stops every process of the cgroup, and returns once all have stopped; on failure it is thawed again. */
export function freezeCgroup(rec: CgroupRecord, io: CgroupIO = realIO): void {
  const v2 = rec.version === 2;
  const dir = v2 ? rec.paths[''] : v1Dir(rec);
  if (v2 && !io.exists(`${dir}/cgroup.freeze`)) throw new CgroupError('freezer not supported: cgroup.freeze is missing (kernel older than 5.2)');
  try {
    if (v2) {
      io.write(`${dir}/cgroup.freeze`, '1');
      // Writing only asks; cgroup.events says when every task has stopped.
      if (pollUntil(() => hasLine(io.read(`${dir}/cgroup.events`), 'frozen 1'), 10_000)) return;
      throw new CgroupError('timeout of 10s reached waiting for the cgroup to freeze');
    }
    // A v1 cgroup can stay FREEZING while new processes keep appearing:
    // retry, and now and then thaw to let them settle (runc's recipe).
    for (let i = 0; i < 1000; i++) {
      if (i % 50 === 49) {
        io.write(`${dir}/freezer.state`, 'THAWED');
        sleepMs(10);
      }
      io.write(`${dir}/freezer.state`, 'FROZEN');
      if (i % 25 === 24) sleepMs(1);
      const state = io.read(`${dir}/freezer.state`).trim();
      if (state === 'FROZEN') return;
      if (state !== 'FREEZING') throw new CgroupError(`unexpected state ${state} while freezing`);
    }
    throw new CgroupError('unable to freeze');
  } catch (e) {
    // Never leave a container half frozen.
    try {
      thawCgroup(rec, io);
    } catch {}
    throw e;
  }
}

/** Lets the cgroup's processes run again (v2 without cgroup.freeze: nothing to thaw). */
export function thawCgroup(rec: CgroupRecord, io: CgroupIO = realIO): void {
  if (rec.version !== 2) io.write(`${v1Dir(rec)}/freezer.state`, 'THAWED');
  else if (io.exists(`${rec.paths['']}/cgroup.freeze`)) io.write(`${rec.paths['']}/cgroup.freeze`, '0');
}
