// Device access rules: linux.resources.devices plus runc's default allowed
// devices, and an emulator of the v1 devices cgroup (after runc's
// devices_emulator.go) that both versions use:
// - v1: writing only the rules that change (Transition), so updating a live
//   container never opens a window where it has no access to /dev/null;
// - v2: the clean rule list the eBPF program is built from (bpf.ts).
import type { LinuxResources } from '../config/schema.ts';
import { RuntimeError } from '../util/errors.ts';

export type DeviceType = 'a' | 'b' | 'c';

export interface DeviceRule {
  type: DeviceType;
  /** -1: any */
  major: number;
  /** -1: any */
  minor: number;
  /** a subset of "rwm", in that order */
  access: string;
  allow: boolean;
}

const rule = (type: DeviceType, major: number, minor: number, access: string): DeviceRule & { path?: string } => ({ type, major, minor, access, allow: true });

/**
 * runc's specconv.AllowedDevices, appended after the config's rules so that a
 * config cannot take them away (runc's own comment calls that questionable,
 * and keeps it for compatibility; so do we). Those with a path are dropped
 * when linux.devices lists the same path (the config's device wins).
 */
export const DEFAULT_RULES: Array<DeviceRule & { path?: string }> = [
  rule('c', -1, -1, 'm'), // mknod of any device: the container may create nodes it cannot open
  rule('b', -1, -1, 'm'),
  { ...rule('c', 1, 3, 'rwm'), path: '/dev/null' },
  { ...rule('c', 1, 8, 'rwm'), path: '/dev/random' },
  { ...rule('c', 1, 7, 'rwm'), path: '/dev/full' },
  { ...rule('c', 5, 0, 'rwm'), path: '/dev/tty' },
  { ...rule('c', 1, 5, 'rwm'), path: '/dev/zero' },
  { ...rule('c', 1, 9, 'rwm'), path: '/dev/urandom' },
  rule('c', 136, -1, 'rwm'), // /dev/pts/*
  rule('c', 5, 2, 'rwm'), // /dev/ptmx
  rule('c', 10, 200, 'rwm'), // /dev/net/tun: dropped by runc 1.2.0-rc1, restored for compatibility
];

/** The rules for a config: its own (runc's conversion and error), then the defaults. */
export function configDeviceRules(devices: LinuxResources['devices'], linuxDevices: Array<{ path: string }> = []): DeviceRule[] {
  const out: DeviceRule[] = (devices ?? []).map((d, i) => {
    if (!d.access) throw new RuntimeError(`device access at ${i} field cannot be empty`);
    return { type: (d.type || 'a') as DeviceType, major: d.major ?? -1, minor: d.minor ?? -1, access: normalizeAccess(d.access), allow: d.allow };
  });
  const paths = new Set(linuxDevices.map((d) => d.path));
  for (const { path, ...r } of DEFAULT_RULES) if (!path || !paths.has(path)) out.push(r);
  return out;
}

const ACCESS_BITS: Record<string, number> = { r: 1, w: 2, m: 4 };

function toBits(access: string): number {
  let b = 0;
  for (const ch of access) b |= ACCESS_BITS[ch] ?? 0;
  return b;
}

function fromBits(b: number): string {
  return (b & 1 ? 'r' : '') + (b & 2 ? 'w' : '') + (b & 4 ? 'm' : '');
}

export const normalizeAccess = (access: string) => fromBits(toBits(access));

/** The v1 file syntax: "c 1:3 rwm", "a *:* rwm". */
export function ruleString(r: DeviceRule): string {
  const n = (x: number) => (x < 0 ? '*' : String(x));
  return `${r.type} ${n(r.major)}:${n(r.minor)} ${r.access}`;
}

type Key = string; // "c 1 3"
const keyOf = (type: string, major: number, minor: number): Key => `${type} ${major} ${minor}`;

function parseKey(k: Key): { type: DeviceType; major: number; minor: number } {
  const [type, major, minor] = k.split(' ');
  return { type: type as DeviceType, major: Number(major), minor: Number(minor) };
}

/**
 * The state of a devices cgroup: a default (allow or deny everything) and
 * exceptions to it, each a device pattern with access bits.
 */
export class DeviceEmulator {
  defaultAllow = false;
  rules = new Map<Key, number>();

  get isBlacklist(): boolean {
    return this.defaultAllow;
  }

  get isAllowAll(): boolean {
    return this.defaultAllow && this.rules.size === 0;
  }

  /** Starts from deny-all (a white-list) and applies each rule in order: what the cgroup will be. */
  static build(rules: DeviceRule[]): DeviceEmulator {
    const e = new DeviceEmulator();
    for (const r of rules) e.apply(r);
    return e;
  }

  /**
   * The state a cgroup's devices.list shows. It lists what is allowed, so a
   * black-list shows only "a *:* rwm" and its deny exceptions are unknown
   * (Transition then resets it).
   */
  static fromList(text: string): DeviceEmulator {
    const e = new DeviceEmulator();
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const m = /^([abc]) (\*|\d+):(\*|\d+) ([rwm]+)$/.exec(line.trim());
      if (!m) throw new RuntimeError(`malformed devices.list rule ${JSON.stringify(line)}`);
      const num = (s: string) => (s === '*' ? -1 : Number(s));
      e.apply({ type: m[1] as DeviceType, major: num(m[2]), minor: num(m[3]), access: m[4], allow: true });
    }
    return e;
  }

  apply(r: DeviceRule): void {
    // A wildcard type resets everything: allow-all (black-list) or deny-all (white-list).
    if (r.type === 'a') {
      this.defaultAllow = r.allow;
      this.rules = new Map();
      return;
    }
    const key = keyOf(r.type, r.major, r.minor);
    const bits = toBits(r.access);
    // A rule equal to the default removes an exception; the other kind adds one.
    if (r.allow === this.defaultAllow) this.remove(key, r, bits);
    else this.rules.set(key, (this.rules.get(key) ?? 0) | bits);
  }

  private remove(key: Key, r: DeviceRule, bits: number): void {
    // v1 removes only exact matches and silently ignores the rest; refusing
    // to punch a hole in a wildcard exception avoids a false sense of
    // security (runc's rmRule does the same).
    for (const partial of [keyOf(r.type, -1, r.minor), keyOf(r.type, r.major, -1), keyOf(r.type, -1, -1)]) {
      if (partial === key) continue;
      const have = this.rules.get(partial) ?? 0;
      if (have & bits)
        throw new RuntimeError(`requested rule [${ruleString(r)}] not supported by devices cgroupv1 (cannot punch hole in existing wildcard rule [${ruleString({ ...parseKey(partial), access: fromBits(have), allow: !r.allow })}])`);
    }
    const left = (this.rules.get(key) ?? 0) & ~bits;
    if (left) this.rules.set(key, left);
    else this.rules.delete(key);
  }

  private ordered(): Array<[Key, number]> {
    // runc's order (major, minor, type), so the same rules are always written the same way.
    return [...this.rules.entries()].sort(([a], [b]) => {
      const x = parseKey(a);
      const y = parseKey(b);
      return x.major - y.major || x.minor - y.minor || (x.type < y.type ? -1 : x.type > y.type ? 1 : 0);
    });
  }

  /** The fewest rules that turn this state into `target`, disruptive ones only when needed. */
  transition(target: DeviceEmulator): DeviceRule[] {
    const out: DeviceRule[] = [];
    let old = this.rules;
    // A black-list's deny rules cannot be read back: start it over too.
    if (this.isBlacklist || this.defaultAllow !== target.defaultAllow) {
      out.push({ type: 'a', major: -1, minor: -1, access: 'rwm', allow: target.defaultAllow });
      old = new Map();
    }
    const sortedOld = [...old.entries()].sort(([a], [b]) => {
      const x = parseKey(a);
      const y = parseKey(b);
      return x.major - y.major || x.minor - y.minor || (x.type < y.type ? -1 : x.type > y.type ? 1 : 0);
    });
    for (const [key, bits] of sortedOld) {
      const dropped = bits & ~(target.rules.get(key) ?? 0);
      if (dropped) out.push({ ...parseKey(key), access: fromBits(dropped), allow: target.defaultAllow });
    }
    for (const [key, bits] of target.ordered()) {
      const gained = bits & ~(old.get(key) ?? 0);
      if (gained) out.push({ ...parseKey(key), access: fromBits(gained), allow: !target.defaultAllow });
    }
    return out;
  }

  /** The rules that turn a deny-all cgroup into this state (what the eBPF program encodes). */
  cleanRules(): DeviceRule[] {
    return new DeviceEmulator().transition(this);
  }

  equals(other: DeviceEmulator): boolean {
    if (this.defaultAllow !== other.defaultAllow || this.rules.size !== other.rules.size) return false;
    for (const [k, v] of this.rules) if (other.rules.get(k) !== v) return false;
    return true;
  }
}

