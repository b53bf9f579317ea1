// --debug's account of a container's setup, written by the parent before the
// child does it (the child may not log: it runs async-signal-safe code, see
// addon/src/child.cc): the rootfs, the namespaces, each mount, the devices,
// the cgroup, and the process exec'd. Callers test debugEnabled() first, so
// none of this runs, and no string is built, without --debug.
import { logDebug } from '../util/log.ts';

interface DebugPlan {
  rootfs?: string;
  cloneFlags?: number;
  joinNamespaces?: Array<{ path: string }>;
  idMaps?: { uid: Array<{ containerID: number; hostID: number; size: number }>; gid: Array<{ containerID: number; hostID: number; size: number }> };
  noPivot?: boolean;
  readonlyRoot?: boolean;
  mounts?: Array<{ source?: string; target: string; type?: string; data?: string; flags: number; bind: boolean }>;
  devices?: Array<{ path: string }>;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  cwd: string;
  args: string[];
  uid: number;
  gid: number;
  seccomp?: unknown;
}

/** What create (or exec: `what` says which) is about to have its child do. */
export function debugPlan(what: string, plan: DebugPlan, cgroupPaths?: Record<string, string>, cgroupTasks?: string[]): void {
  if (plan.rootfs) logDebug(`${what}: rootfs ${plan.rootfs}${plan.readonlyRoot ? ' (read-only)' : ''}, ${plan.noPivot ? 'MS_MOVE and chroot (--no-pivot)' : 'pivot_root'}`);
  if (plan.cloneFlags) logDebug(`${what}: new namespaces: clone flags 0x${plan.cloneFlags.toString(16)}`);
  for (const j of plan.joinNamespaces ?? []) logDebug(`${what}: join namespace ${j.path}`);
  if (plan.idMaps) logDebug(`${what}: uid_map ${JSON.stringify(plan.idMaps.uid)} gid_map ${JSON.stringify(plan.idMaps.gid)}`);
  if (cgroupPaths) for (const [c, p] of Object.entries(cgroupPaths)) logDebug(`${what}: cgroup ${c || 'unified'}: ${p}`);
  for (const t of cgroupTasks ?? []) logDebug(`${what}: joins cgroup by writing 0 to ${t}`);
  for (const m of plan.mounts ?? [])
    logDebug(`${what}: mount ${m.bind ? `bind ${m.source}` : `${m.type ?? 'none'} ${m.source ?? ''}`.trim()} on ${m.target} (flags 0x${m.flags.toString(16)}${m.data ? `, data ${m.data}` : ''})`);
  for (const d of plan.devices ?? []) logDebug(`${what}: device ${d.path}`);
  for (const p of plan.maskedPaths ?? []) logDebug(`${what}: mask ${p}`);
  for (const p of plan.readonlyPaths ?? []) logDebug(`${what}: read-only ${p}`);
  if (plan.seccomp) logDebug(`${what}: seccomp filter loaded before the exec`);
  logDebug(`${what}: exec ${JSON.stringify(plan.args)} in ${plan.cwd} as ${plan.uid}:${plan.gid}`);
}
