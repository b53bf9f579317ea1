// A failed step of the cloned child, in words: `mount "proc" on /proc: EPERM`.
import { errnoDescription, statSync } from '../util/fs.ts';
import { dirname, resolve } from '../util/path.ts';
import { addon, type ChildFailure } from '../addon.ts';
import { errnoName } from '../util/errors.ts';

/** The parts of a plan the messages refer to. */
export interface Described {
  mounts?: Array<{ bind: boolean; source?: string; type?: string; target: string }>;
  devices?: Array<{ path: string; bind?: boolean }>;
  symlinks?: Array<{ path: string }>;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  sysctls?: Array<{ path: string }>;
  rlimits: Array<{ resource: number }>;
  joinNamespaces: Array<{ path: string }>;
  cgroupTasks?: string[];
  cwd: string;
  args: string[];
  rootfs?: string;
  apparmorProfile?: string;
  selinuxLabel?: string;
  /** a new user namespace's maps: its root is a host uid/gid that host permissions apply to */
  idMaps?: { uid: IdMap[]; gid: IdMap[] };
}

interface IdMap {
  containerID: number;
  hostID: number;
  size: number;
}

const EACCES = 13;

/** The host id that id 0 of a user namespace maps to. */
function hostIdOfRoot(maps: IdMap[]): number | undefined {
  const m = maps.find((e) => e.containerID <= 0 && 0 < e.containerID + e.size);
  return m && m.hostID - m.containerID;
}

/**
 * Why the container's root (a mapped host uid/gid, with no capability over the
 * host's files) got EACCES on its way to `path`: the first directory from /
 * down that it may not search, found after the fact from the modes (ACLs
 * aside). Undefined when there is no user namespace or no such directory.
 */
export function searchDenied(path: string, idMaps: Described['idMaps']): string | undefined {
  if (!idMaps) return undefined;
  const uid = hostIdOfRoot(idMaps.uid);
  const gid = hostIdOfRoot(idMaps.gid);
  if (uid === undefined || gid === undefined) return undefined;
  const chain: string[] = [];
  for (let p = resolve(path); ; p = dirname(p)) {
    chain.unshift(p);
    if (p === '/') break;
  }
  for (const dir of chain) {
    let st;
    try {
      st = statSync(dir);
    } catch {
      return undefined;
    }
    // The kernel's order: owner bits if it owns it, else group bits, else other bits.
    const bit = st.uid === uid ? 0o100 : st.gid === gid ? 0o010 : 0o001;
    if (!(st.mode & bit))
      return `the container's root (host uid ${uid}, gid ${gid}) cannot search ${dir} (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}, owner ${st.uid}:${st.gid})`;
  }
  return undefined;
}

export function describeFailure(f: ChildFailure, plan: Described, createContainerHooks?: Array<{ path: string }>): string {
  if (f.step < 0) return 'container init died during setup';
  const step = addon('stepName')(f.step) ?? `step ${f.step}`;
  const err = f.errno ? errnoName(f.errno) : 'killed';
  switch (step) {
    case 'create mount target': {
      // runc's words for a proc or sysfs mount on something not a directory.
      const m = plan.mounts?.[f.index];
      if (f.errno === 20 && !m?.bind && (m?.type === 'proc' || m?.type === 'sysfs'))
        return `error mounting ${JSON.stringify(m.source ?? m.type)} to rootfs at ${JSON.stringify(m.target)}: filesystem ${JSON.stringify(m.type)} must be mounted on ordinary directory`;
    }
    // falls through
    case 'mount':
    case 'remount':
    case 'set propagation': {
      const m = plan.mounts?.[f.index];
      const what = m?.bind ? m.source : (m?.type ?? m?.source ?? '?');
      const why = f.errno === EACCES && m?.bind && step === 'mount' && m.source ? searchDenied(m.source, plan.idMaps) : undefined;
      return `${step} "${what}" on ${m?.target}: ${err}${why ? `: ${why}` : ''}`;
    }
    case 'bind rootfs':
    case 'open rootfs': {
      const why = f.errno === EACCES && plan.rootfs ? searchDenied(plan.rootfs, plan.idMaps) : undefined;
      return `${step}${plan.rootfs ? ` ${plan.rootfs}` : ''}: ${err}${why ? `: ${why}` : ''}`;
    }
    case 'create device': {
      // In a user namespace the host's node is bound, so it must exist on the host.
      const d = plan.devices?.[f.index];
      return d?.bind ? `create device ${d.path} (a bind mount of the host's ${d.path}, as mknod is not allowed in a user namespace): ${err}` : `create device ${d?.path}: ${err}`;
    }
    case 'create symlink':
      return `create symlink ${plan.symlinks?.[f.index]?.path}: ${err}`;
    case 'mask path':
      return `mask path ${plan.maskedPaths?.[f.index]}: ${err}`;
    case 'make path read-only':
      return `make path read-only ${plan.readonlyPaths?.[f.index]}: ${err}`;
    case 'write sysctl':
      // EXDEV: the file tsrunc opened was not on procfs (child.cc, proc_open).
      return `write sysctl ${plan.sysctls?.[f.index]?.path}: ${f.errno === 18 ? 'not on procfs' : err}`;
    case 'open procfs':
      // index -1: the container's own /proc, checked before tsrunc-init relies on it.
      if (f.index < 0 && f.errno === 18) return "the container's /proc is not procfs (a mount in the config covers it): tsrunc-init could not reach its exec fifo through /proc/self/fd";
      return `open /proc/self/fd below the host's procfs: ${f.errno === 18 ? 'not on procfs' : err}`;
    case 'setrlimit': {
      const r = plan.rlimits[f.index]?.resource;
      const name = RLIMITS[r] ? `RLIMIT_${RLIMITS[r]}` : String(r);
      // Raising a hard limit takes CAP_SYS_RESOURCE in the host's user namespace, which a rootless caller lacks.
      return `setrlimit ${name}: ${err}${f.errno === 1 ? ' (a hard limit above the caller\'s needs CAP_SYS_RESOURCE)' : ''}`;
    }
    case 'join namespace':
      return `join namespace ${plan.joinNamespaces[f.index]?.path ?? '(cgroup)'}: ${err}`;
    case 'join cgroup':
      return `join cgroup: write "0" to ${plan.cgroupTasks?.[f.index]}: ${err}`;
    case 'set LSM label': {
      // tsrunc-init's last step before the user's program (addon/init/init.c, write_attr); index 0: AppArmor, 1: SELinux.
      const what = f.index === 1 ? `set SELinux label ${JSON.stringify(plan.selinuxLabel)}` : `set AppArmor profile ${JSON.stringify(plan.apparmorProfile)}`;
      if (f.errno === 2 && f.index !== 1) return `${what}: ENOENT: no profile of that name is loaded`;
      if (f.errno === 18) return `${what}: the container has no procfs at /proc, or its attr file lies across a mount`;
      return `${what}: ${err}`;
    }
    case 'chdir to cwd':
      return `chdir to cwd ${JSON.stringify(plan.cwd)}: ${err}`;
    case 'cwd outside container':
      return `cwd ${JSON.stringify(plan.cwd)} is outside the container's root`;
    case 'createContainer hook': {
      const what = `createContainer hook #${f.index} (${createContainerHooks?.[f.index]?.path})`;
      if (f.errno === 0x10000) return `${what}: timed out`;
      const code = (f.errno >> 8) & 0xff;
      const sig = f.errno & 0x7f;
      return `${what}: ${sig ? `killed by signal ${sig}` : `exit status ${code}`}`;
    }
    case 'set CPU affinity':
      // index 0: initial, 1: final (or every CPU, after an initial alone: affinity.ts).
      return `set CPU affinity (process.execCPUAffinity.${f.index === 0 ? 'initial' : 'final'}): ${err}${f.errno === 22 ? ": none of those CPUs is in the container's cpuset" : ''}`;
    case 'executable lookup': {
      // runc's (Go's exec.LookPath) words: engines turn them into exit 126/127.
      const name = plan.args[0];
      if (f.errno === 2 && !name.includes('/')) return `exec: ${JSON.stringify(name)}: executable file not found in $PATH`;
      return `exec: ${JSON.stringify(name)}: stat ${name}: ${errnoDescription(f.errno).toLowerCase()}`;
    }
    case 'exec the process':
      // tsrunc-init's execve of the found executable (ENOEXEC, a noexec mount, E2BIG...): runc's words.
      return `exec ${JSON.stringify(plan.args[0])}: ${errnoDescription(f.errno).toLowerCase()}`;
    default:
      return `${step}: ${err}`;
  }
}

// Linux's resource numbers (asm-generic/resource.h), for messages.
const RLIMITS = ['CPU', 'FSIZE', 'DATA', 'STACK', 'CORE', 'RSS', 'NPROC', 'NOFILE', 'MEMLOCK', 'AS', 'LOCKS', 'SIGPENDING', 'MSGQUEUE', 'NICE', 'RTPRIO', 'RTTIME'];
