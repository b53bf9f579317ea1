// config.json -> the flat plan the addon's child executes (addon/src/plan.h).
// Everything that can be refused is refused here, before anything is created.
import { existsSync, readFileSync, readlinkSync, statfsSync, statSync } from '../util/fs.ts';
import { posix, resolve } from '../util/path.ts';
import type { RunnableConfig } from '../config/load.ts';
import type { Process, Seccomp, TimeOffset } from '../config/schema.ts';
import { addon } from '../addon.ts';
import { RuntimeError } from '../util/errors.ts';
import { planExecCpuAffinity } from './affinity.ts';
import { planCaps } from './capabilities.ts';
import { devSymlinks, planDevices } from './devices.ts';
import { MS, planCgroupMount, planMount, PROPAGATION, type MountPlan } from './mounts.ts';
import type { NamespacePlan } from './namespaces.ts';
import { planRlimits } from './rlimits.ts';
import { devicesByBind, rootlessEuid, sysfsBind } from './rootless.ts';
import { runningInUserNs } from '../util/userns.ts';
import { planSeccomp } from './seccomp.ts';

export interface PlanOptions extends ProcessOptions {
  bundle: string;
  noPivot?: boolean;
  /** name of the session keyring to join (runc's default; --no-new-keyring: none) */
  keyring?: string;
  /** the container's cgroup directories (cgroups/index.ts planCgroup), for "cgroup" mounts */
  cgroupPaths?: Record<string, string>;
  /** linux.namespaces, planned (create plans them once: the cgroup's owner depends on them too) */
  namespaces: NamespacePlan;
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

/**
 * Only sysctls that belong to a namespace the container has of its own may
 * be set (runc's rules): anything else would change the host.
 */
function checkSysctls(sysctl: Record<string, string>, ns: NamespacePlan): Array<[string, string]> {
  const IPC = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);
  for (const raw of Object.keys(sysctl)) {
    const key = raw.replace(/\//g, '.');
    if (IPC.has(key) || key.startsWith('fs.mqueue.')) {
      if (!ns.has('ipc')) throw new RuntimeError(`sysctl ${JSON.stringify(raw)} is not in a separate kernel namespace`);
    } else if (key.startsWith('net.')) {
      if (!ns.has('network')) throw new RuntimeError(`sysctl ${JSON.stringify(raw)} is not allowed in the hosts network namespace`);
    } else if (key === 'kernel.domainname' || key === 'kernel.hostname') {
      if (!ns.has('uts')) throw new RuntimeError(`sysctl ${JSON.stringify(raw)} is not allowed as it conflicts with the OCI "hostname" field`);
    } else {
      throw new RuntimeError(`sysctl ${JSON.stringify(raw)} is not whitelisted`);
    }
  }
  return Object.entries(sysctl);
}

/**
 * runc's checkProcMount (1.1.5), for every mount but proc, sysfs, tmpfs,
 * mqueue and cgroup ones: at /proc only a procfs may be mounted, and below
 * it only the files lxcfs emulates. The first guard; the child's own writes
 * never go through the container's /proc whatever is there (child.cc).
 */
const LXCFS_PROC = ['/proc/cpuinfo', '/proc/diskstats', '/proc/meminfo', '/proc/stat', '/proc/swaps', '/proc/uptime', '/proc/loadavg', '/proc/slabinfo', '/proc/net/dev'];
function checkProcMount(m: { destination: string; type?: string; source?: string }, rootfs: string): void {
  if (['proc', 'sysfs', 'tmpfs', 'mqueue', 'cgroup'].includes(m.type ?? '')) return;
  const dest = resolveInRoot(rootfs, m.destination);
  if (dest !== '/proc' && !dest.startsWith('/proc/')) return;
  const full = rootfs + dest;
  if (dest === '/proc') {
    if (!m.source) return;
    let isProc = false;
    try {
      isProc = statfsSync(m.source).type === PROC_SUPER_MAGIC;
    } catch {}
    if (!isProc) throw new RuntimeError(`${JSON.stringify(full)} cannot be mounted because it is not of type proc`);
    return;
  }
  if (!LXCFS_PROC.includes(dest)) throw new RuntimeError(`${JSON.stringify(full)} cannot be mounted because it is inside /proc`);
}
const PROC_SUPER_MAGIC = 0x9fa0;

/**
 * path inside the rootfs with the rootfs's symlinks followed as if it were
 * "/" (runc's securejoin), for checkProcMount: "/x" where the image has
 * x -> /proc is "/proc". What is missing stays as written.
 */
export function resolveInRoot(rootfs: string, path: string): string {
  const todo = posix.normalize('/' + path).split('/').filter(Boolean);
  const done: string[] = [];
  for (let links = 0; todo.length; ) {
    const part = todo.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    let target: string | undefined;
    try {
      target = readlinkSync(rootfs + '/' + [...done, part].join('/'));
    } catch {}
    if (target === undefined || ++links > 255) {
      done.push(part);
      continue;
    }
    if (target.startsWith('/')) done.length = 0;
    todo.unshift(...target.split('/').filter((p) => p && p !== '.'));
  }
  return '/' + done.join('/');
}

/**
 * --no-pivot: the host's full proc and sysfs mounts outside the rootfs
 * (mountinfo's root "/"), which the child detaches before it moves the
 * rootfs over "/" (runc 1.1.5's msMoveRoot).
 */
export function hostProcAndSysfs(rootfs: string, mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (sep < 0 || f[3] !== '/') continue;
    const type = f[sep + 1];
    const point = f[4].replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
    if ((type === 'proc' || type === 'sysfs') && point !== rootfs && !point.startsWith(rootfs + '/')) out.push(point);
  }
  return out;
}

/**
 * A read-only /dev (a tmpfs, runc's default) is mounted read-write, and made
 * read-only by the child once its devices, links, pts and mqueue mounts and
 * console are in (runc's finalizeRootfs). Returns the flags of that last bind
 * remount, or 0. Not a bind: that would be the host's /dev, which runc makes
 * read-only at once (and nothing may be created in).
 */
function deferDevReadonly(mounts: MountPlan[]): number {
  const dev = mounts.findLast((m) => m.target === '/dev');
  if (!dev || dev.bind) return 0;
  const KEEP = MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.NOATIME | MS.NODIRATIME | MS.RELATIME | MS.STRICTATIME;
  if (!(dev.flags & MS.RDONLY)) return 0;
  dev.flags &= ~MS.RDONLY;
  return (dev.flags & KEEP) | MS.RDONLY;
}

export function lsmEnabled(lsm: 'apparmor' | 'selinux'): boolean {
  return lsm === 'apparmor' ? existsSync('/sys/kernel/security/apparmor') : existsSync('/sys/fs/selinux/enforce');
}

/** What tsrunc cannot apply is an error, never silently dropped (runtime.md). */
function refuseUnsupported(config: RunnableConfig): void {
  const linux = config.linux ?? {};
  const no = (what: string) => {
    throw new RuntimeError(`${what}: not supported by tsrunc`);
  };
  if (linux.intelRdt) no('linux.intelRdt');
  if (linux.netDevices && Object.keys(linux.netDevices).length) no('linux.netDevices');
  if (linux.memoryPolicy) no('linux.memoryPolicy');
  // The spec defines no personality flags yet: any is one tsrunc cannot apply.
  if (linux.personality?.flags?.length) no('linux.personality.flags');
  if (!config.ociVersion.startsWith('1.')) throw new RuntimeError(`ociVersion ${config.ociVersion}: tsrunc implements runtime-spec 1.x`);
  // process.execCPUAffinity is for exec'd processes only: checked now, applied by exec (affinity.ts).
  planExecCpuAffinity(config.process.execCPUAffinity);
  refuseLabels(config.process);
  // mountLabel would need context= on every mount.
  if (linux.mountLabel) no('linux.mountLabel');
}

/**
 * A label for an LSM the host does not run cannot be applied (engines set
 * them only where it runs): an error, for create and for exec alike. Where
 * it runs, the child applies it at the user's exec.
 */
export function refuseLabels(proc: Process): void {
  if (proc.apparmorProfile && !lsmEnabled('apparmor')) throw new RuntimeError('process.apparmorProfile (AppArmor is not enabled on this host): not supported by tsrunc');
  if (proc.selinuxLabel && !lsmEnabled('selinux')) throw new RuntimeError('process.selinuxLabel (SELinux is not enabled on this host): not supported by tsrunc');
}

export function buildPlan(config: RunnableConfig, opts: PlanOptions) {
  const linux = config.linux ?? {};
  const proc = config.process;
  const ns = opts.namespaces;
  // A mount namespace joined by path is set up as a new one would be (as
  // runc does): the rootfs is bound, mounted and pivoted to inside it.
  if (!ns.has('mount')) throw new RuntimeError('linux.namespaces: tsrunc needs a mount namespace (a "mount" entry, new or with a "path")');
  if (config.hostname && !ns.isNew('uts')) throw new RuntimeError('unable to set hostname without a private UTS namespace');
  if (config.domainname && !ns.isNew('uts')) throw new RuntimeError('unable to set domainname without a private UTS namespace');
  const uidMappings = linux.uidMappings ?? [];
  const gidMappings = linux.gidMappings ?? [];
  if (ns.isNew('user') && (!uidMappings.length || !gidMappings.length))
    throw new RuntimeError('user namespaces enabled, but no uid or gid mappings found');
  if (linux.timeOffsets && !ns.isNew('time')) throw new RuntimeError('linux.timeOffsets: needs a new time namespace');

  refuseUnsupported(config);
  const rootfs = resolveRootfs(config, opts.bundle);
  const containerMaps = linux.uidMappings && linux.gidMappings ? { uid: linux.uidMappings, gid: linux.gidMappings } : undefined;
  (config.mounts ?? []).forEach((m) => checkProcMount(m, rootfs));
  // v2 in a user namespace: the container's cgroup is bound rather than
  // cgroup2 mounted where no cgroup namespace of its own roots it there, and
  // always for a rootless caller (runc falls back to that bind on EPERM and
  // EBUSY: the v2 guest's kernel refuses a rootless cgroup2 mount with EBUSY,
  // with a cgroup namespace too), which may also have no cgroup of its own
  // (then the one it is in, tsrunc's, is bound).
  const inUserns = ns.has('user') || runningInUserNs();
  const noOwnCgroup = opts.cgroupPaths !== undefined && !opts.cgroupPaths[''];
  const bindCgroup = inUserns && (!ns.isNew('cgroup') || noOwnCgroup || rootlessEuid() || runningInUserNs());
  const mounts: MountPlan[] = (config.mounts ?? []).flatMap((m, i) =>
    m.type === 'cgroup' ? planCgroupMount(m, opts.bundle, i, opts.cgroupPaths, bindCgroup) : [planMount(sysfsBind(m, ns) ?? m, opts.bundle, i, containerMaps)],
  );
  const devReadonlyFlags = deferDevReadonly(mounts);
  // /dev from the host (a bind) already has its nodes; otherwise make them.
  const devBound = mounts.some((m) => m.target === '/dev' && m.bind);
  // In any user namespace but the host's (the container's, or tsrunc's own
  // under a rootless engine), mknod is refused: bind the host's nodes.
  const devices = devBound ? [] : planDevices(linux.devices ?? [], devicesByBind(ns));
  // A user namespace joined by path must own the namespaces created for the
  // container: those are unshared after the joins rather than made by clone().
  const joinsUser = ns.has('user') && !ns.isNew('user');
  const CGROUP = 0x02000000;
  const PID = 0x20000000;
  const TIME = 0x00000080;
  // A new time namespace exists only for the children of whoever unshares it
  // (and its offsets must be written before anyone enters): the child unshares
  // it, and the pid namespace with it so that the next fork is still pid 1.
  const newTime = ns.isNew('time');
  let cloneFlags = joinsUser ? ns.cloneFlags & CGROUP : ns.cloneFlags & ~TIME;
  let unshareFlags = joinsUser ? ns.cloneFlags & ~CGROUP : 0;
  if (newTime && !joinsUser) {
    cloneFlags &= ~PID;
    unshareFlags |= TIME | (ns.isNew('pid') ? PID : 0);
  }
  const offsets = linux.timeOffsets ?? {};
  const timensOffsets = Object.entries(offsets as Record<string, TimeOffset | undefined>)
    .map(([clock, o]) => `${clock} ${o?.secs ?? 0} ${o?.nanosecs ?? 0}\n`)
    .join('');

  let rootPropagation = MS.SLAVE | MS.REC;
  if (linux.rootfsPropagation) rootPropagation = PROPAGATION[linux.rootfsPropagation];

  return {
    cloneFlags,
    unshareFlags,
    timensOffsets: timensOffsets || undefined,
    usernsRoot: ns.isNew('user'),
    loopbackUp: ns.isNew('network'),
    // runc makes a missing cwd (as root, before the rootfs may turn read-only).
    makeCwd: true,
    idMaps: ns.isNew('user') ? { uid: uidMappings, gid: gidMappings } : undefined,
    joinNamespaces: ns.joinNamespaces,
    hostname: config.hostname,
    domainname: config.domainname,
    rootfs,
    rootPropagation,
    readonlyRoot: config.root?.readonly === true,
    noPivot: opts.noPivot === true,
    noPivotHide: opts.noPivot ? hostProcAndSysfs(rootfs) : undefined,
    devReadonlyFlags,
    mounts,
    devices,
    symlinks: devBound ? [] : devSymlinks(),
    maskedPaths: linux.maskedPaths ?? [],
    readonlyPaths: linux.readonlyPaths ?? [],
    sysctls: checkSysctls(linux.sysctl ?? {}, ns).map(([key, value]) => ({
      path: '/proc/sys/' + key.replace(/\./g, '/'),
      value: String(value),
    })),
    ...planProcess(proc, { ...opts, seccomp: linux.seccomp }),
    // Not the caller's CPUs: every CPU the container's cpuset has (affinity.ts).
    cpuReset: true,
    mountConsole: proc.terminal === true,
    personality: linux.personality ? PERSONALITY_DOMAIN[linux.personality.domain] : undefined,
    keyring: opts.keyring,
    forkAfterSetns: (ns.has('pid') && !ns.isNew('pid')) || (joinsUser && ns.isNew('pid')) || newTime,
  };
}

export interface ProcessOptions {
  preserveFds?: number;
  /** --console-socket: where the pty master goes */
  consoleSocket?: string;
  /** foreground terminal: tsrunc receives the master itself */
  consolePair?: boolean;
  /** linux.seccomp of the container (its init's and every exec'd process's) */
  seccomp?: Seccomp;
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
    // Each once, as runc passes them to setgroups (the kernel would keep duplicates).
    additionalGids: [...new Set(user.additionalGids ?? [])],
    // Without user.umask the caller's stays (config.md: SHOULD NOT change it).
    umask: user.umask ?? callerUmask(),
    // The LSM labels take effect at the exec of the user's program.
    apparmorProfile: proc.apparmorProfile,
    selinuxLabel: proc.selinuxLabel,
    capabilities: proc.capabilities && planCaps(proc.capabilities),
    cwd: proc.cwd,
    args: proc.args,
    env: proc.env ?? [],
    preserveFds: opts.preserveFds ?? 0,
    oomScoreAdj: proc.oomScoreAdj,
    consoleSocket: terminal ? opts.consoleSocket : undefined,
    consolePair: terminal && !opts.consoleSocket && opts.consolePair === true,
    // A foreground terminal starts at the size of ours: set when the pty is
    // made, before the process runs (resizes follow on SIGWINCH).
    consoleSize: terminal ? (proc.consoleSize ?? (opts.consolePair && !opts.consoleSocket ? callerTtySize() : undefined)) : undefined,
    seccomp: planSeccomp(opts.seccomp, proc.noNewPrivileges === true),
    ioprio: proc.ioPriority ? (IOPRIO_CLASS[proc.ioPriority.class] << 13) | proc.ioPriority.priority : undefined,
    scheduler: proc.scheduler && {
      policy: SCHED_POLICY[proc.scheduler.policy],
      flags: (proc.scheduler.flags ?? []).reduce((f, n) => f | SCHED_FLAG[n], 0),
      nice: proc.scheduler.nice ?? 0,
      priority: proc.scheduler.priority ?? 0,
      runtime: BigInt(proc.scheduler.runtime ?? 0),
      deadline: BigInt(proc.scheduler.deadline ?? 0),
      period: BigInt(proc.scheduler.period ?? 0),
    },
  };
}

function callerTtySize(): { height: number; width: number } | undefined {
  const ws = addon('getWinsize')(0) ?? addon('getWinsize')(1);
  return ws && { height: ws.rows, width: ws.cols };
}

function callerUmask(): number {
  const mask = process.umask(0o022);
  process.umask(mask);
  return mask;
}

const IOPRIO_CLASS: Record<string, number> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };
const SCHED_POLICY: Record<string, number> = { SCHED_OTHER: 0, SCHED_FIFO: 1, SCHED_RR: 2, SCHED_BATCH: 3, SCHED_ISO: 4, SCHED_IDLE: 5, SCHED_DEADLINE: 6 };
const SCHED_FLAG: Record<string, number> = {
  SCHED_FLAG_RESET_ON_FORK: 0x1, SCHED_FLAG_RECLAIM: 0x2, SCHED_FLAG_DL_OVERRUN: 0x4, SCHED_FLAG_KEEP_POLICY: 0x8,
  SCHED_FLAG_KEEP_PARAMS: 0x10, SCHED_FLAG_UTIL_CLAMP_MIN: 0x20, SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
};
// PER_LINUX and PER_LINUX32, the two domains the spec (and runc) know.
const PERSONALITY_DOMAIN: Record<string, number> = { LINUX: 0x0000, LINUX32: 0x0008 };
