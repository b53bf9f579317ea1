// The manager of a recorded cgroupfs cgroup (v1 or v2), apart from index.ts:
// `update` needs only this of cgroups/, not index.ts's planning (layouts,
// paths, the config's device rules) nor, unless its container uses the
// systemd driver, systemd.ts's D-Bus and unit properties. Under Bun every
// module a verb loads costs it at each start (update: 0.1–0.3 ms, README).
import { realIO, type CgroupIO } from './fs.ts';
import type { CgroupManager, CgroupRecord } from './types.ts';
import { V1Manager } from './v1.ts';
import { V2Manager } from './v2.ts';

/** v1 or v2 by the record; a systemd record is index.ts's openCgroup's. */
export function openCgroupfs(record: CgroupRecord, io: CgroupIO = realIO): CgroupManager {
  return record.version === 2 ? new V2Manager(record, io) : new V1Manager(record, io);
}
