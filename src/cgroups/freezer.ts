// The freezer of a container's cgroup, from its record (state.cleanup.cgroup):
// freeze and thaw for pause, resume and kill --all (through the managers,
// which delegate here). Apart from the managers so that pause and resume
// load nothing more: v1.ts, v2.ts and systemd.ts with what they import are
// ~80 kB of code, ~0.2 ms of a pause to set up under Bun. (Whether it is
// frozen, which `state` and `list` ask, is frozen.ts: leaner still.) A
// systemd scope's freezer is its cgroup v2 directory's, as in runc.
import { debugEnabled, logDebug } from '../util/log.ts';
import { CgroupError, realIO, sleepMs, type CgroupIO } from './fs.ts';
import type { CgroupRecord } from './types.ts';

const NOT_CONFIGURED = 'cannot toggle freezer: cgroups not configured for container';

/** The record in a state's cleanup, if create got as far as planning one and it has paths (a rootless container may have none). */
export function cgroupRecord(cleanup: Record<string, unknown> | undefined): CgroupRecord | undefined {
  const rec = cleanup?.cgroup as CgroupRecord | undefined;
  return rec && Object.keys(rec.paths).length ? rec : undefined;
}

function write(io: CgroupIO, path: string, value: string): void {
  if (debugEnabled()) logDebug(`cgroup: write ${JSON.stringify(value)} to ${path}`);
  io.write(path, value);
}

export function freeze(record: CgroupRecord, io: CgroupIO = realIO): void {
  if (record.version === 2) return freezeV2(record.paths[''], io);
  const dir = record.paths.freezer;
  if (!dir) throw new CgroupError(NOT_CONFIGURED);
  const file = `${dir}/freezer.state`;
  try {
    // A v1 cgroup can stay FREEZING while new processes keep appearing:
    // retry, and now and then thaw to let them settle (runc's recipe).
    for (let i = 0; i < 1000; i++) {
      if (i % 50 === 49) {
        write(io, file, 'THAWED');
        sleepMs(10);
      }
      write(io, file, 'FROZEN');
      if (i % 25 === 24) sleepMs(1);
      const state = io.read(file).trim();
      if (state === 'FROZEN') return;
      if (state !== 'FREEZING') throw new CgroupError(`unexpected state ${state} while freezing`);
    }
    throw new CgroupError('unable to freeze');
  } catch (e) {
    // Never leave a container half frozen.
    try {
      write(io, file, 'THAWED');
    } catch {}
    throw e;
  }
}

function freezeV2(dir: string | undefined, io: CgroupIO): void {
  if (!dir) throw new CgroupError(NOT_CONFIGURED);
  if (!io.exists(`${dir}/cgroup.freeze`)) throw new CgroupError('freezer not supported: cgroup.freeze is missing (kernel older than 5.2)');
  try {
    write(io, `${dir}/cgroup.freeze`, '1');
    // Writing only asks; cgroup.events says when every task has stopped.
    for (let i = 0; i < 1000; i++) {
      if (/^frozen 1$/m.test(io.read(`${dir}/cgroup.events`))) return;
      sleepMs(10);
    }
    throw new CgroupError('timeout of 10s reached waiting for the cgroup to freeze');
  } catch (e) {
    try {
      write(io, `${dir}/cgroup.freeze`, '0');
    } catch {}
    throw e;
  }
}

export function thaw(record: CgroupRecord, io: CgroupIO = realIO): void {
  if (record.version === 2) {
    const dir = record.paths[''];
    if (!dir) throw new CgroupError(NOT_CONFIGURED);
    if (io.exists(`${dir}/cgroup.freeze`)) write(io, `${dir}/cgroup.freeze`, '0');
    return;
  }
  const dir = record.paths.freezer;
  if (!dir) throw new CgroupError(NOT_CONFIGURED);
  write(io, `${dir}/freezer.state`, 'THAWED');
}
