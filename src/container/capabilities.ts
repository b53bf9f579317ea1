// Capability names -> bit masks for capset(2)/prctl(2).
import { readFileSync } from '../util/fs.ts';
import type { Capabilities } from '../config/schema.ts';
import { logDebug, logWarn } from '../util/log.ts';

export const CAPABILITY_NAMES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
];

export function lastCap(): number {
  try {
    return Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
  } catch {
    return CAPABILITY_NAMES.length - 1;
  }
}

/**
 * A name the kernel does not know is left out with a warning, as runc does,
 * so that a config written for a newer kernel still runs (the spec: "MUST be
 * logged as a warning"). The case of a name does not matter (`cap_chown`,
 * libcap's text form, is CAP_CHOWN), as in crun; runc leaves such a name out.
 * A name without the `CAP_` prefix, or a number, is unknown (runc and crun).
 */
export function capMask(names: string[] | undefined, last: number): bigint {
  let mask = 0n;
  for (const name of names ?? []) {
    const upper = name.toUpperCase();
    const bit = upper.startsWith('CAP_') ? CAPABILITY_NAMES.indexOf(upper.slice(4)) : -1;
    if (bit < 0 || bit > last) {
      logWarn(`ignoring unknown or unsupported capability "${name}"`);
      continue;
    }
    mask |= 1n << BigInt(bit);
  }
  return mask;
}

export function planCaps(caps: Capabilities) {
  const last = lastCap();
  const sets = {
    bounding: capMask(caps.bounding, last),
    effective: capMask(caps.effective, last),
    permitted: capMask(caps.permitted, last),
    inheritable: capMask(caps.inheritable, last),
    ambient: capMask(caps.ambient, last),
    lastCap: last,
  };
  // The kernel raises an ambient capability only if it is both permitted and
  // inheritable; runc configs often list ambient alone. Like newer runc, such
  // a capability is skipped with a warning rather than failing the container.
  const raisable = sets.ambient & sets.permitted & sets.inheritable;
  if (raisable !== sets.ambient)
    logDebug('ambient capabilities that are not also permitted and inheritable are not raised');
  sets.ambient = raisable;
  return sets;
}
