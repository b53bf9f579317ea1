import { existsSync } from '../util/fs.ts';
import { RuntimeError } from '../util/errors.ts';
// Namespace types of config-linux.md and their clone(2) flags.
export const CLONE_FLAGS = {
  mount: 0x00020000,
  cgroup: 0x02000000,
  uts: 0x04000000,
  ipc: 0x08000000,
  user: 0x10000000,
  pid: 0x20000000,
  network: 0x40000000,
  time: 0x00000080,
} as const;

export type NamespaceType = keyof typeof CLONE_FLAGS;

export interface NamespacePlan {
  /** CLONE_NEW* of the namespaces to create */
  cloneFlags: number;
  /** namespaces to join, by path, in this order (user first) */
  joinNamespaces: Array<{ path: string; nstype: number }>;
  has: (t: NamespaceType) => boolean;
  isNew: (t: NamespaceType) => boolean;
}

// /proc/self/ns/<name> exists for every namespace type this kernel has.
const PROC_NAME: Record<NamespaceType, string> = { mount: 'mnt', cgroup: 'cgroup', uts: 'uts', ipc: 'ipc', user: 'user', pid: 'pid', network: 'net', time: 'time' };

export function planNamespaces(list: Array<{ type: string; path?: string }>, kernelHas = (t: NamespaceType) => existsSync(`/proc/self/ns/${PROC_NAME[t]}`)): NamespacePlan {
  for (const ns of list)
    if (!kernelHas(ns.type as NamespaceType)) throw new RuntimeError(`linux.namespaces: this kernel has no ${ns.type} namespaces`);
  let cloneFlags = 0;
  const joins: Array<{ path: string; nstype: number; type: string }> = [];
  for (const ns of list) {
    const flag = CLONE_FLAGS[ns.type as NamespaceType];
    if (ns.path) joins.push({ path: ns.path, nstype: flag, type: ns.type });
    else cloneFlags |= flag;
  }
  // Joining the user namespace first gives the later setns calls its privileges.
  joins.sort((a, b) => Number(b.type === 'user') - Number(a.type === 'user'));
  const types = new Set(list.map((n) => n.type));
  return {
    cloneFlags,
    joinNamespaces: joins.map(({ path, nstype }) => ({ path, nstype })),
    has: (t) => types.has(t),
    isNew: (t) => (cloneFlags & CLONE_FLAGS[t]) !== 0,
  };
}
