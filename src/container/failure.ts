// A failed step of the cloned child, in words: `mount "proc" on /proc: EPERM`.
import { addon, type ChildFailure } from '../addon.ts';
import { getSystemErrorMessage } from 'node:util';
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
}

export function describeFailure(f: ChildFailure, plan: Described, createContainerHooks?: Array<{ path: string }>): string {
  if (f.step < 0) return 'container init died during setup';
  const step = addon().steps[f.step] ?? `step ${f.step}`;
  const err = f.errno ? errnoName(f.errno) : 'killed';
  switch (step) {
    case 'mount':
    case 'create mount target':
    case 'remount':
    case 'set propagation': {
      const m = plan.mounts?.[f.index];
      const what = m?.bind ? m.source : (m?.type ?? m?.source ?? '?');
      return `${step} "${what}" on ${m?.target}: ${err}`;
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
      return `write sysctl ${plan.sysctls?.[f.index]?.path}: ${err}`;
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
    case 'executable lookup': {
      // runc's (Go's exec.LookPath) words: engines turn them into exit 126/127.
      const name = plan.args[0];
      if (f.errno === 2 && !name.includes('/')) return `exec: ${JSON.stringify(name)}: executable file not found in $PATH`;
      return `exec: ${JSON.stringify(name)}: stat ${name}: ${getSystemErrorMessage(-f.errno).toLowerCase()}`;
    }
    default:
      return `${step}: ${err}`;
  }
}

// Linux's resource numbers (asm-generic/resource.h), for messages.
const RLIMITS = ['CPU', 'FSIZE', 'DATA', 'STACK', 'CORE', 'RSS', 'NPROC', 'NOFILE', 'MEMLOCK', 'AS', 'LOCKS', 'SIGPENDING', 'MSGQUEUE', 'NICE', 'RTPRIO', 'RTTIME'];
