// What both managers share: the record kept in the container's state, and the
// one interface create, delete and the CLI verbs use.
import type { LinuxResources } from '../config/schema.ts';
import type { DeviceRule } from './devices.ts';
import type { SubCgroups } from './path.ts';

/**
 * linux.resources. Its device rules are not read from here: they are applied
 * at create only (given apart), as `runc update` skips them too, and the
 * record keeps the resources without them.
 */
export type Resources = LinuxResources;

/** Kept in state.json (state.cleanup.cgroup): everything later verbs need, without the bundle. */
export interface CgroupRecord {
  /** 1 on v1 and hybrid hosts (the v1 controllers are used), 2 on unified ones */
  version: 1 | 2;
  /** runc's GetPaths(): v1: controller (and "name=…") → directory; v2: '' → directory */
  paths: Record<string, string>;
  /** v2: the unified hierarchy's root, from which controllers are enabled down to the container */
  mount?: string;
  /**
   * The directories create makes, top down, found missing before the
   * container was created. Delete removes these and only these: a cgroup
   * that existed before (a pod's, or one given on purpose) is left as it was.
   */
  owned: string[];
  /** the resources as last applied; `update` merges into them */
  resources?: Resources;
  /** rootless: the controllers (v2: '') left out of `paths`, and why (cgroups/rootless.ts) */
  denied?: Record<string, string>;
  /** the systemd driver (--systemd-cgroup, v2 only): the transient scope that is the container's cgroup */
  systemd?: {
    /** `<prefix>-<name>.scope` */
    unit: string;
    /** the slice unit it is in, e.g. "system.slice" */
    slice: string;
    /** the caller's user manager (session bus) rather than the system one */
    user: boolean;
    /** the container id, for the unit's Description */
    name: string;
  };
}

/**
 * How the addon puts a process it clones into a cgroup: as it is born, never
 * by writing its pid to cgroup.procs later. Such a write takes the kernel's
 * global threadgroup lock, and its first taker waits for an RCU grace period
 * (5-16 ms on this 250 Hz kernel, more than the rest of `run`).
 *   v2: `dir`, for clone3(CLONE_INTO_CGROUP);
 *   v1: `tasks`, the files the child writes "0" to first thing: a
 *       single-threaded process moving itself needs no such lock.
 */
export interface CgroupEntry {
  cgroupDir?: string;
  cgroupTasks?: string[];
}

export interface CgroupManager {
  readonly record: CgroupRecord;
  /** Makes the directories (and what must exist before a process joins: cpuset's cpus and mems, v1 realtime budgets). */
  create(resources: Resources): void;
  /** How a new process enters the cgroup (or, for exec --cgroup, an existing sub-cgroup of it) as it is born (see CgroupEntry). */
  entry(sub?: SubCgroups): CgroupEntry;
  /** Writes the limits; device rules only when given. */
  apply(resources: Resources, devices?: DeviceRule[]): void;
  freeze(): void;
  thaw(): void;
  /** frozen by us (v1: not merely through an ancestor) */
  frozen(): boolean;
  /** every process in the container's cgroup and below */
  pids(): number[];
  /** Whether the container's cgroup still exists. */
  exists(): boolean;
  /** SIGKILLs everything in the cgroup and thaws it, so that even a paused container dies. */
  kill(): void;
  /** kill(), wait for the processes to leave, remove the directories it owns. */
  destroy(): void;
}
