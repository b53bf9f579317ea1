// linux.seccomp (config-linux.md "Seccomp"): checked here, compiled into a BPF
// program by the addon (libseccomp, in this process, at planning time, so a
// filter libseccomp refuses fails create before anything exists; runc's
// -ENOSYS stub is put in front of it there), and loaded with seccomp(2) on the
// container's side, as late as the rules allow (README, "Seccomp"):
//  - process.noNewPrivileges false: by the cloned child, at the end of its
//    setup, holding on to CAP_SYS_ADMIN (which seccomp(2) then needs) until
//    its exec of tsrunc-init. tsrunc-init and the startContainer hooks run
//    under the filter, as runc's init does.
//  - noNewPrivileges true: by tsrunc-init, after the startContainer hooks, just
//    before the exec of the user's program.
// The same filter applies to `exec`'d processes (the container's config).
//
// SCMP_ACT_NOTIFY: the filter gets SECCOMP_FILTER_FLAG_NEW_LISTENER and its
// notify fd goes, with the container process state (writeSeccompState), to
// listenerPath over SCM_RIGHTS, sent by whichever process loaded the filter.
import { closeSync, writeSync } from '../util/fs.ts';
import { addon, type Addon } from '../addon.ts';
import { isExactInteger, type ExactInteger } from '../config/json.ts';
import type { Seccomp } from '../config/schema.ts';
import { OCI_VERSION } from '../state/store.ts';
import { RuntimeError } from '../util/errors.ts';
import { logDebug } from '../util/log.ts';

/** The plan's `seccomp` (read by addon/src/spawn.cc). */
export interface SeccompPlan {
  /** struct sock_filter[] */
  bpf: Buffer;
  /** SECCOMP_FILTER_FLAG_* for seccomp(2) */
  flags: number;
  /** tsrunc-init loads it (noNewPrivileges), else the child */
  inInit: boolean;
  /** set when a rule notifies: the parent connects to it before clone */
  listenerPath?: string;
  /** listenerMetadata, for the container process state */
  metadata?: string;
}

const TAKES_ERRNO = new Set(['SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE']);
const U64_MAX = (1n << 64n) - 1n;

/**
 * Syscalls that may not notify. sendmsg: the process that loads the filter
 * sends the notify fd with it, so nobody could ever answer. write: tsrunc-init
 * writes the exec fifo's "0" under the filter, and `start` would then depend
 * on the agent's answer; runc refuses it too (its init writes to its parent
 * after the load), with the same message.
 */
const NO_NOTIFY = new Set(['sendmsg', 'write']);

function errnoRet(value: number | undefined, action: string, where: string): number | undefined {
  if (value === undefined) return undefined;
  if (!TAKES_ERRNO.has(action))
    throw new RuntimeError(`${where}: ${action} takes no errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)`);
  if (value > 0xffff) throw new RuntimeError(`${where}: ${value} does not fit in the 16 bits seccomp keeps for an errno`);
  return value;
}

/** A seccomp argument value as the uint64 the kernel compares: exact digits above 2^53 (config/json.ts), and a double 2^64 (2^64-1 rounded) clamped. */
function u64(v: number | ExactInteger | undefined): bigint {
  if (v === undefined) return 0n;
  if (isExactInteger(v)) return BigInt(v.rawJSON);
  const b = BigInt(v);
  return b > U64_MAX ? U64_MAX : b;
}

export function planSeccomp(s: Seccomp | undefined, noNewPrivileges: boolean): SeccompPlan | undefined {
  if (!s) return undefined;
  if (s.defaultAction === 'SCMP_ACT_NOTIFY')
    throw new RuntimeError('linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action');
  const defaultErrnoRet = errnoRet(s.defaultErrnoRet, s.defaultAction, 'linux.seccomp.defaultErrnoRet');
  const syscalls = (s.syscalls ?? []).map((call, i) => {
    const where = `linux.seccomp.syscalls[${i}]`;
    call.names.forEach((name, k) => {
      if (!name) throw new RuntimeError(`${where}.names[${k}]: empty string is not a valid syscall`);
      if (call.action === 'SCMP_ACT_NOTIFY' && NO_NOTIFY.has(name))
        throw new RuntimeError(`${where}: SCMP_ACT_NOTIFY cannot be used for the ${name} syscall`);
    });
    if (call.action === 'SCMP_ACT_NOTIFY' && !s.listenerPath)
      throw new RuntimeError(`${where}: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath`);
    return {
      names: call.names,
      action: call.action,
      errnoRet: errnoRet(call.errnoRet, call.action, `${where}.errnoRet`),
      args: (call.args ?? []).map((a, j) => {
        if (a.index > 5)
          throw new RuntimeError(`${where}.args[${j}].index: ${a.index}: a syscall has 6 arguments, 0 to 5`);
        return { index: a.index, op: a.op, value: u64(a.value), valueTwo: u64(a.valueTwo) };
      }),
    };
  });
  let compiled: ReturnType<Addon['seccompCompile']>;
  try {
    compiled = addon('seccompCompile')({
      defaultAction: s.defaultAction,
      defaultErrnoRet,
      architectures: s.architectures ?? [],
      flags: s.flags ?? [],
      syscalls,
    });
  } catch (e) {
    const msg = (e as Error).message;
    throw new RuntimeError(msg.startsWith('linux.seccomp') ? msg : `linux.seccomp: ${msg}`);
  }
  // As runc: a name libseccomp cannot resolve is a syscall this system lacks.
  for (const name of compiled.skipped) logDebug(`unknown seccomp syscall "${name}" ignored`);
  return {
    bpf: compiled.bpf,
    flags: compiled.flags,
    inInit: noNewPrivileges,
    listenerPath: compiled.notify ? s.listenerPath : undefined,
    metadata: compiled.notify ? s.listenerMetadata : undefined,
  };
}

/**
 * The container process state the listener gets with the notify fd, written
 * into the memfd spawn() returned (before release(): the loader may run at
 * once), which is then closed. `pid` is the process tsrunc cloned: the
 * container's process, or for `exec` (and joins of a pid namespace) the one
 * that forks it, as runc reports its own `runc init`.
 */
export function writeSeccompState(fd: number | undefined, plan: SeccompPlan | undefined, pid: number, state: Record<string, unknown>): void {
  if (fd === undefined) return;
  try {
    // runtime.md's state: the fields runc sends (not `state`'s extras).
    const { ociVersion, id, status, pid: statePid, bundle, annotations } = state;
    const msg = {
      ociVersion: OCI_VERSION,
      fds: ['seccompFd'],
      pid,
      ...(plan?.metadata !== undefined ? { metadata: plan.metadata } : {}),
      state: { ociVersion, id, status, pid: statePid, bundle, ...(annotations ? { annotations } : {}) },
    };
    writeSync(fd, JSON.stringify(msg));
  } finally {
    closeSync(fd);
  }
}

/** features.md's linux.seccomp: what this libseccomp and kernel really do. */
export function seccompFeatures() {
  const info = addon('seccompInfo')();
  return {
    enabled: true,
    actions: info.actions,
    operators: info.operators,
    archs: info.archs,
    knownFlags: info.knownFlags,
    supportedFlags: info.supportedFlags,
  };
}
