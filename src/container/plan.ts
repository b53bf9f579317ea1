// config.json -> the flat plan the addon's child executes (addon/src/plan.h).
// Everything that can be refused is refused here, before anything is created.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { RunnableConfig } from '../config/load.ts';
import type { Process } from '../config/schema.ts';
import { RuntimeError } from '../util/errors.ts';
import { planCaps } from './capabilities.ts';
import { devSymlinks, planDevices } from './devices.ts';
import { MS, planCgroupMount, planMount, PROPAGATION, type MountPlan } from './mounts.ts';
import { planNamespaces } from './namespaces.ts';
import { planRlimits } from './rlimits.ts';

export interface PlanOptions extends ProcessOptions {
  bundle: string;
  noPivot?: boolean;
  /** name of the session keyring to join (runc's default; --no-new-keyring: none) */
  keyring?: string;
  /** the container's cgroup directories (cgroups/index.ts planCgroup), for "cgroup" mounts */
  cgroupPaths?: Record<string, string>;
}

export type Plan = ReturnType<typeof buildPlan>;

export function resolveRootfs(config: RunnableConfig, bundle: string): string {
  const rootfs = resolve(bundle, config.root?.path ?? 'rootfs');
  let isDir = false;
  try {
    isDir = statSync(rootfs).isDirectory();
  } catch (e) {
    throw new RuntimeError(`invalid rootfs: stat ${rootfs}: ${(e as Error).message.replace(/^\w+: /, '').replace(/, stat .*$/, '')}`);
  }
  if (!isDir) throw new RuntimeError(`invalid rootfs: ${rootfs}: not a directory`);
  return rootfs;
}

export function buildPlan(config: RunnableConfig, opts: PlanOptions) {
  const linux = config.linux ?? {};
  const proc = config.process;
  const ns = planNamespaces(linux.namespaces ?? []);
  if (!ns.isNew('mount'))
    throw new RuntimeError('linux.namespaces: tsrunc needs a new mount namespace (a "mount" entry without "path")');
  if (config.hostname && !ns.isNew('uts')) throw new RuntimeError('unable to set hostname without a private UTS namespace');
  if (config.domainname && !ns.isNew('uts')) throw new RuntimeError('unable to set domainname without a private UTS namespace');
  const uidMappings = linux.uidMappings ?? [];
  const gidMappings = linux.gidMappings ?? [];
  if (ns.isNew('user') && (!uidMappings.length || !gidMappings.length))
    throw new RuntimeError('user namespaces enabled, but no uid or gid mappings found');
  if (ns.has('time')) throw new RuntimeError('linux.namespaces: time namespaces are not supported by tsrunc yet');

  const rootfs = resolveRootfs(config, opts.bundle);
  const mounts: MountPlan[] = (config.mounts ?? []).flatMap((m, i) =>
    m.type === 'cgroup' ? planCgroupMount(m, opts.bundle, i, opts.cgroupPaths) : [planMount(m, opts.bundle, i)],
  );
  // /dev from the host (a bind) already has its nodes; otherwise make them.
  const devBound = mounts.some((m) => m.target === '/dev' && m.bind);
  // In any user namespace but the host's, mknod is refused: bind the host's nodes.
  const devices = devBound ? [] : planDevices(linux.devices ?? [], ns.has('user'));
  // A user namespace joined by path must own the namespaces created for the
  // container: those are unshared after the joins rather than made by clone().
  const joinsUser = ns.has('user') && !ns.isNew('user');
  const CGROUP = 0x02000000;

  let rootPropagation = MS.SLAVE | MS.REC;
  if (linux.rootfsPropagation) rootPropagation = PROPAGATION[linux.rootfsPropagation];

  return {
    cloneFlags: joinsUser ? ns.cloneFlags & CGROUP : ns.cloneFlags,
    unshareFlags: joinsUser ? ns.cloneFlags & ~CGROUP : 0,
    usernsRoot: ns.isNew('user'),
    idMaps: ns.isNew('user') ? { uid: uidMappings, gid: gidMappings } : undefined,
    joinNamespaces: ns.joinNamespaces,
    hostname: config.hostname,
    domainname: config.domainname,
    rootfs,
    rootPropagation,
    readonlyRoot: config.root?.readonly === true,
    noPivot: opts.noPivot === true,
    mounts,
    devices,
    symlinks: devBound ? [] : devSymlinks(),
    maskedPaths: linux.maskedPaths ?? [],
    readonlyPaths: linux.readonlyPaths ?? [],
    sysctls: Object.entries(linux.sysctl ?? {}).map(([key, value]) => ({
      path: '/proc/sys/' + key.replace(/\./g, '/'),
      value: String(value),
    })),
    ...planProcess(proc, opts),
    mountConsole: proc.terminal === true,
    keyring: opts.keyring,
    forkAfterSetns: (ns.has('pid') && !ns.isNew('pid')) || (joinsUser && ns.isNew('pid')),
  };
}

export interface ProcessOptions {
  preserveFds?: number;
  /** --console-socket: where the pty master goes */
  consoleSocket?: string;
  /** foreground terminal: tsrunc receives the master itself */
  consolePair?: boolean;
}

/** What a process needs, whether it is a container's init or an exec. */
export function planProcess(proc: Process, opts: ProcessOptions) {
  const user = proc.user ?? { uid: 0, gid: 0 };
  const terminal = proc.terminal === true;
  return {
    rlimits: planRlimits(proc.rlimits),
    noNewPrivileges: proc.noNewPrivileges === true,
    uid: user.uid,
    gid: user.gid,
    additionalGids: user.additionalGids ?? [],
    umask: user.umask ?? -1,
    capabilities: proc.capabilities && planCaps(proc.capabilities),
    cwd: proc.cwd,
    args: proc.args,
    env: proc.env ?? [],
    preserveFds: opts.preserveFds ?? 0,
    oomScoreAdj: proc.oomScoreAdj,
    consoleSocket: terminal ? opts.consoleSocket : undefined,
    consolePair: terminal && !opts.consoleSocket && opts.consolePair === true,
    consoleSize: terminal ? proc.consoleSize : undefined,
  };
}
