// A container's cgroup, whichever version the host runs (decided at run
// time from /proc/self/mountinfo: v1, hybrid (= v1 for containers, as runc's
// cgroupfs driver does) or unified v2).
//
// The life of it:
//   planCgroup(config, id)   before anything exists: paths, refusals
//   openCgroup(record)       a manager for a planned or recorded cgroup
//     .create() .apply(resources, rules) .entry()     in create, before the child is cloned into it
//     .freeze() .thaw() .update via apply()           pause, resume, update
//     (statistics: v1-stats.ts, v2-stats.ts)           events
//     .kill() .destroy()                              delete
// The record lives in state.json as state.cleanup.cgroup (record.ts). The
// verbs that only look at a recorded cgroup, freeze it, read its statistics
// or tear it down load record.ts, freezer.ts, v1-stats.ts and v2-stats.ts or
// teardown.ts, which the managers call too, rather than the managers.
import { existsSync } from '../util/fs.ts';
import type { RunnableConfig } from '../config/load.ts';
import type { LinuxResources } from '../config/schema.ts';
import { validateId, type StoredState } from '../state/store.ts';
import { RuntimeError } from '../util/errors.ts';
import { logWarn } from '../util/log.ts';
import { configDeviceRules, type DeviceRule } from './devices.ts';
import { realIO, type CgroupIO } from './fs.ts';
import { cgroupRecord, containerRecord } from './record.ts';
import { cgroupLayout, hybridUnified, v1Hierarchies, type CgroupLayout } from './hierarchy.ts';
import { levels, v1Paths, v2Path, type SubCgroups } from './path.ts';
import { swapToV2 } from './resources.ts';
import { hostHugePageSizes } from './stats.ts';
import type { NamespacePlan } from '../container/namespaces.ts';
import type { CgroupEntry, CgroupManager, CgroupRecord, Resources } from './types.ts';
import { V2Manager } from './v2.ts';
import { planSystemd, SystemdManager } from './systemd.ts';
import { openCgroupfs } from './open.ts';

export type { CgroupEntry, CgroupManager, CgroupRecord, Resources } from './types.ts';
export type { DeviceRule } from './devices.ts';
export { parseSubCgroups, type SubCgroups } from './path.ts';
export { rootlessRecord } from './rootless.ts';

/** linux.resources minus the device rules, as kept in the record. */
function withoutDevices(r: LinuxResources): Resources {
  const { devices: _devices, ...rest } = r;
  return rest;
}

/**
 * Where the container's cgroup goes and what of it must be made, with every
 * refusal made before anything exists (as runc's validation does).
 */
export function planCgroup(config: RunnableConfig, id: string, layout: CgroupLayout = cgroupLayout(), systemd = false, rootless = false): CgroupRecord {
  // The id becomes a path component: runc's rule for it is checked first.
  validateId(id);
  const linux = config.linux ?? {};
  const res = linux.resources ?? {};
  const resources = withoutDevices(res);
  if (res.memory?.kernel !== undefined || res.memory?.kernelTCP !== undefined) logWarn('Kernel memory settings are ignored and will be removed');
  for (const h of res.hugepageLimits ?? []) {
    const sizes = hostHugePageSizes();
    if (!sizes.includes(h.pageSize)) throw new RuntimeError(`linux.resources.hugepageLimits: page size ${h.pageSize} is not supported by this host (${sizes.join(', ') || 'no huge pages'})`);
  }

  // --systemd-cgroup: a transient scope (systemd.ts); v2 only, refused on v1 there.
  // A rootless caller's scope is made by its own user manager (the session bus).
  const sdRecord = systemd ? planSystemd(linux.cgroupsPath, id, layout, resources, rootless) : undefined;
  if (layout.unified) {
    const mount = layout.hierarchies[0];
    const dir = sdRecord ? sdRecord.paths[''] : v2Path(linux.cgroupsPath, id, mount);
    const cpu = res.cpu;
    if (cpu?.realtimePeriod || cpu?.realtimeRuntime) throw new RuntimeError('linux.resources.cpu: realtimePeriod and realtimeRuntime are not supported on cgroup v2');
    if (res.memory?.swap) {
      try {
        swapToV2(res.memory.swap, res.memory.limit ?? 0);
      } catch (e) {
        throw new RuntimeError(`linux.resources.memory: ${(e as Error).message}`);
      }
    }
    return sdRecord ?? { version: 2, paths: { '': dir }, mount: mount.mountPoint, owned: missing(mount.mountPoint, [dir]), resources };
  }

  if (res.unified && Object.keys(res.unified).length) throw new RuntimeError('invalid configuration: cannot use unified on cgroup v1');
  const paths = v1Paths(linux.cgroupsPath, id, layout);
  // runc treats a missing devices hierarchy as fatal: the container would have every device.
  if (!paths.devices) throw new RuntimeError('cgroup: the devices hierarchy is not mounted: refusing to run without device access control');
  const need = (controller: string, what: string, wanted: unknown) => {
    if (wanted && !paths[controller]) throw new RuntimeError(`linux.resources.${what}: the ${controller} cgroup hierarchy is not mounted on this host`);
  };
  need('hugetlb', 'hugepageLimits', res.hugepageLimits?.length);
  need('net_cls', 'network.classID', res.network?.classID !== undefined);
  need('net_prio', 'network.priorities', res.network?.priorities?.length);
  need('rdma', 'rdma', res.rdma && Object.keys(res.rdma).length);
  const owned: string[] = [];
  for (const h of v1Hierarchies(layout)) {
    const dir = paths[h.controllers[0]];
    if (dir) owned.push(...missing(h.mountPoint, [dir]));
  }
  const hybrid = hybridUnified(layout);
  if (hybrid && paths['']) owned.push(...missing(hybrid.mountPoint, [paths['']]));
  return { version: 1, paths, owned, resources };
}

/** The levels of each dir, below its hierarchy's mount point, that do not exist yet. */
function missing(mountPoint: string, dirs: string[]): string[] {
  const out: string[] = [];
  for (const d of dirs) for (const l of levels(mountPoint, d)) if (!existsSync(l) && !out.includes(l)) out.push(l);
  return out;
}

/** The device rules a config asks for: its own, then runc's defaults. */
export function deviceRules(config: RunnableConfig): DeviceRule[] {
  return configDeviceRules(config.linux?.resources?.devices, config.linux?.devices);
}

/** The manager of a planned or recorded cgroup, whichever its driver (update: open.ts, without systemd's unless needed). */
export function openCgroup(record: CgroupRecord, io: CgroupIO = realIO): CgroupManager {
  return record.systemd ? new SystemdManager(record, io) : openCgroupfs(record, io);
}

/** The manager of a container's cgroup, or runc's error when it has none. */
export function containerCgroup(state: StoredState, context = 'cannot toggle freezer'): CgroupManager {
  return openCgroup(containerRecord(state, context));
}

/**
 * Makes the cgroup and applies the limits, before the child exists; the
 * entry says how the addon puts the child in as it is born. Its cgroup
 * namespace, unshared after release, is then rooted here. With an owner
 * (cgroupOwner), the cgroup is delegated to it.
 */
export function setupCgroup(record: CgroupRecord, rules: DeviceRule[], owner?: { uid: number; gid: number }, rootless = false): CgroupEntry {
  // systemd: the scope needs the child's pid; it is made by joinCgroup, after the clone.
  if (record.systemd) return {};
  // Rootless without a cgroup of its own (rootless.ts): the container stays in the caller's.
  if (!Object.keys(record.paths).length) return {};
  const cg = openCgroup(record);
  const resources = record.resources ?? {};
  cg.create(resources);
  if (rootless) {
    // As runc: rootless, the device rules are tried and their errors ignored
    // (an unprivileged writer may not change a device cgroup or attach a
    // device filter); the user namespace already keeps it from mknod.
    cg.apply(resources);
    try {
      cg.apply({}, rules);
    } catch {}
  } else cg.apply(resources, rules);
  if (owner) {
    // cgroupOwner: v2 only. A rootless caller may give away nothing (chown
    // to a subordinate id is EPERM) and owns what it made anyway.
    if (!rootless) (cg as V2Manager).delegate(owner.uid, owner.gid);
    else
      try {
        (cg as V2Manager).delegate(owner.uid, owner.gid);
      } catch {}
  }
  return cg.entry();
}

/**
 * The systemd driver's second half of setupCgroup, once the child exists and
 * waits before its setup (see systemd.ts): the scope started with its pid,
 * then the limits. Nothing for the cgroupfs driver, whose child was born in
 * its cgroup.
 */
export function joinCgroup(record: CgroupRecord, pid: number, rules: DeviceRule[], owner?: { uid: number; gid: number }): void {
  if (!record.systemd) return;
  const cg = new SystemdManager(record);
  // A user manager's scope gets no device properties and no eBPF filter: an
  // unprivileged caller can load none (BPF_PROG_LOAD needs CAP_SYS_ADMIN or
  // CAP_BPF over the host), nor can the user manager itself; the container's
  // devices are bind mounts of what the user may open anyway.
  cg.start(pid, record.systemd.user ? undefined : rules);
  if (owner) cg.delegate(owner.uid, owner.gid);
}

/**
 * config-linux.md "Cgroup ownership": the container's cgroup goes to the host
 * uid (and gid) its process runs as, if and only if the host is v2 (v1
 * delegation is not safe), the container gets a new cgroup namespace, and it
 * mounts cgroup read-write at /sys/fs/cgroup: then it can manage the
 * sub-cgroups it sees (systemd in a container does). Undefined: no owner but root.
 */
export function cgroupOwner(record: CgroupRecord, config: RunnableConfig, ns: NamespacePlan): { uid: number; gid: number } | undefined {
  if (record.version !== 2 || !ns.isNew('cgroup')) return undefined;
  const rw = (config.mounts ?? []).some((m) => m.source === 'cgroup' && m.destination === '/sys/fs/cgroup' && !(m.options ?? []).includes('ro'));
  if (!rw) return undefined;
  // A joined user namespace's maps are not in the config: left as is.
  if (ns.has('user') && !ns.isNew('user')) return undefined;
  const linux = config.linux ?? {};
  const user = config.process.user ?? { uid: 0, gid: 0 };
  const toHost = (id: number, maps: Array<{ containerID: number; hostID: number; size: number }> | undefined) => {
    if (!ns.isNew('user')) return id;
    const m = (maps ?? []).find((e) => id >= e.containerID && id < e.containerID + e.size);
    return m ? m.hostID + (id - m.containerID) : undefined;
  };
  const uid = toHost(user.uid, linux.uidMappings);
  const gid = toHost(user.gid, linux.gidMappings);
  // Unmapped: it could not use the cgroup anyway.
  return uid === undefined || gid === undefined ? undefined : { uid, gid };
}

/**
 * For exec: how a process the container gets later enters its cgroup (runc
 * joins exec'd processes to the container's paths, so that its limits and
 * `kill --all` cover them). With `busy` (v2: the container's own cgroup took
 * no process), beside init instead. Nothing for a container without a
 * cgroup record.
 */
export function execCgroupEntry(state: StoredState, busy = false, sub?: SubCgroups): CgroupEntry {
  const rec = cgroupRecord(state);
  if (!rec) {
    if (sub) throw new RuntimeError('exec --cgroup: the container has no cgroup');
    return {};
  }
  const cg = openCgroup(rec);
  return busy && cg instanceof V2Manager ? cg.entryBeside(state.pid) : cg.entry(sub);
}

/** The v1 hierarchy's directory for the container, to bind at <cgroup mount>/<name> (runc's mountCgroupV1). */
export function containerDirIn(record: CgroupRecord, mountPoint: string): string | undefined {
  return Object.values(record.paths).find((d) => d === mountPoint || d.startsWith(mountPoint + '/'));
}
