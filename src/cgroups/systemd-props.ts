// The systemd cgroup driver's pure parts (no D-Bus, no files written):
// linux.cgroupsPath as "slice:prefix:name", slice names expanded to cgroup
// paths as systemd expands them, and linux.resources turned into unit
// properties, after runc's libcontainer/cgroups/systemd (common.go, v2.go).
//
// systemd owns the files of the properties it knows: when it applies a unit's
// cgroup settings again (daemon-reload, a later SetUnitProperties, a sibling
// realized) it writes *every* attribute of the controllers concerned, with its
// defaults for what the unit does not set (memory.max "max", cpu.weight 100,
// cpu.max "max 100000", an empty cpuset, io.weight 100, pids.max "max"). So
// every limit tsrunc writes to one of those files is also given to systemd as
// a property, or systemd would undo it; only what systemd never writes
// (cpu.max.burst, hugetlb, rdma, io.max of devices it has no limit for,
// memory.swappiness-like unified keys) goes to the files alone.
import { readFileSync } from '../util/fs.ts';
import { RuntimeError } from '../util/errors.ts';
import { logWarn } from '../util/log.ts';
import { DeviceEmulator, type DeviceRule } from './devices.ts';
import { blkioToIoWeight, sharesToWeight, swapToV2 } from './resources.ts';
import type { Resources } from './types.ts';

/** D-Bus signatures the addon can marshal (addon/src/dbus.cc). */
export type SdSig = 'b' | 's' | 'u' | 't' | 'ay' | 'au' | 'a(ss)';
export type SdProp = [name: string, sig: SdSig, value: boolean | string | number | bigint | Buffer | number[] | Array<[string, string]>];

/** systemd's "infinity" (and Go's math.MaxUint64, as runc sends it). */
export const INFINITY = 18446744073709551615n;

/** The prefix of the default scope name, `<prefix>-<id>.scope` (runc's is "runc"). */
export const DEFAULT_PREFIX = 'tsrunc';

export interface SystemdPath {
  slice: string;
  prefix: string;
  name: string;
}

/**
 * linux.cgroupsPath for the systemd driver: "slice:prefix:name" (runc's
 * format and error). Empty: runc's default, "system.slice" (the user manager:
 * "user.slice"), a scope named after the container. An empty slice part is
 * the default slice.
 */
export function parseSystemdPath(cgroupsPath: string | undefined, id: string, user: boolean): SystemdPath {
  const defaultSlice = user ? 'user.slice' : 'system.slice';
  if (!cgroupsPath) return { slice: defaultSlice, prefix: DEFAULT_PREFIX, name: id };
  const parts = cgroupsPath.split(':');
  if (parts.length !== 3) throw new RuntimeError(`expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got ${JSON.stringify(cgroupsPath)} instead`);
  const [slice, prefix, name] = parts;
  if (!name) throw new RuntimeError(`linux.cgroupsPath ${JSON.stringify(cgroupsPath)}: the name part is empty`);
  // A name that is a slice asks runc for a slice unit (kubelet's pod slices); tsrunc makes scopes only.
  if (name.endsWith('.slice')) throw new RuntimeError(`linux.cgroupsPath ${JSON.stringify(cgroupsPath)}: a slice unit as the container's cgroup is not supported by tsrunc (only scopes)`);
  return { slice: slice || defaultSlice, prefix, name };
}

/** The transient unit: `<prefix>-<name>.scope` (`<name>.scope` without a prefix). */
export function unitName(p: SystemdPath): string {
  return p.prefix ? `${p.prefix}-${p.name}.scope` : `${p.name}.scope`;
}

/**
 * A slice's cgroup path, as systemd nests slices: "a-b-c.slice" →
 * "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" (the root slice) → "/"
 * (runc's ExpandSlice, with its errors).
 */
export function expandSlice(slice: string): string {
  const suffix = '.slice';
  if (slice.length <= suffix.length || !slice.endsWith(suffix) || slice.includes('/')) throw new RuntimeError(`invalid slice name: ${slice}`);
  const base = slice.slice(0, -suffix.length);
  if (base === '-') return '/';
  let path = '';
  let prefix = '';
  for (const component of base.split('-')) {
    if (component === '') throw new RuntimeError(`invalid slice name: ${slice}`);
    path += `/${prefix}${component}${suffix}`;
    prefix += `${component}-`;
  }
  return path;
}

/** -1 (unlimited) → systemd's infinity. */
const u64 = (v: number): number | bigint => (v < 0 ? INFINITY : v);

/**
 * A cpuset list ("0-3,8") as systemd's AllowedCPUs/AllowedMemoryNodes take
 * it: a byte array, bit i of byte j set for CPU 8j+i (runc's RangeToBits).
 */
export function cpusetBits(list: string): Buffer {
  const bits: number[] = [];
  for (const part of list.split(',')) {
    const s = part.trim();
    if (!s) continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(s);
    if (!m) throw new RuntimeError(`invalid cpuset range ${JSON.stringify(s)} in ${JSON.stringify(list)}`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new RuntimeError(`invalid cpuset range ${JSON.stringify(s)} in ${JSON.stringify(list)}`);
    if (hi > 65535) throw new RuntimeError(`cpuset ${JSON.stringify(list)}: ${hi} is out of range`);
    for (let i = lo; i <= hi; i++) bits[i >> 3] = (bits[i >> 3] ?? 0) | (1 << (i & 7));
  }
  return Buffer.from(Array.from(bits, (b) => b ?? 0));
}

/**
 * CPUQuotaPerSecUSec from quota/period (runc's addCpuQuota): systemd keeps a
 * quota as a percentage of one CPU, so a fraction of a percent is rounded up
 * to the next 10 ms per second, so that the cpu.max tsrunc writes is never
 * above what systemd would write.
 */
function cpuQuota(props: SdProp[], quota: number | undefined, period: number | undefined): void {
  if (period) props.push(['CPUQuotaPeriodUSec', 't', period]);
  if (!quota && !period) return;
  let perSec: number | bigint = INFINITY;
  if (quota && quota > 0) {
    const p = period || 100000;
    let v = Math.floor((quota * 1000000) / p);
    if (v % 10000 !== 0) v = (Math.floor(v / 10000) + 1) * 10000;
    perSec = v;
  }
  props.push(['CPUQuotaPerSecUSec', 't', perSec]);
}

/** A unified value that systemd takes as a number ("max" = infinity), or undefined if it is not one. */
function unifiedNumber(v: string): number | bigint | undefined {
  const s = v.trim();
  if (s === 'max') return INFINITY;
  return /^\d+$/.test(s) ? Number(s) : undefined;
}

/**
 * linux.resources → unit properties (device rules apart: deviceProperties).
 * Only what is set becomes a property, as with runc: a value left out keeps
 * what the unit has.
 */
export function resourceProperties(r: Resources): SdProp[] {
  const p: SdProp[] = [];
  const m = r.memory;
  if (m?.limit) p.push(['MemoryMax', 't', u64(m.limit)]);
  if (m?.reservation) p.push(['MemoryLow', 't', u64(m.reservation)]);
  if (m?.swap) {
    const swap = swapToV2(m.swap, m.limit ?? 0);
    // memory == memory+swap means no swap: 0, which runc leaves out (and systemd then undoes the file's 0).
    p.push(['MemorySwapMax', 't', u64(swap)]);
  }
  const c = r.cpu;
  if (c?.shares) p.push(['CPUWeight', 't', sharesToWeight(c.shares)]);
  cpuQuota(p, c?.quota, c?.period);
  if (c?.cpus) p.push(['AllowedCPUs', 'ay', cpusetBits(c.cpus)]);
  if (c?.mems) p.push(['AllowedMemoryNodes', 'ay', cpusetBits(c.mems)]);
  const pids = r.pids?.limit;
  if (pids !== undefined && (pids > 0 || pids === -1)) p.push(['TasksMax', 't', u64(pids)]);
  if (r.blockIO?.weight) p.push(['IOWeight', 't', blkioToIoWeight(r.blockIO.weight)]);
  // The unified keys systemd has properties for (runc's unifiedResToSystemdProps); the rest go to the files only.
  const byKey: Record<string, string> = { 'memory.min': 'MemoryMin', 'memory.low': 'MemoryLow', 'memory.high': 'MemoryHigh', 'memory.max': 'MemoryMax', 'memory.swap.max': 'MemorySwapMax', 'pids.max': 'TasksMax', 'cpu.weight': 'CPUWeight', 'io.weight': 'IOWeight' };
  for (const [key, value] of Object.entries(r.unified ?? {})) {
    const name = byKey[key];
    if (name) {
      // io.weight may be "default N".
      const n = unifiedNumber(key === 'io.weight' ? value.replace(/^default\s+/, '') : value);
      if (n !== undefined) p.push([name, 't', n]);
    } else if (key === 'cpuset.cpus' || key === 'cpuset.mems') {
      p.push([key === 'cpuset.cpus' ? 'AllowedCPUs' : 'AllowedMemoryNodes', 'ay', cpusetBits(value)]);
    } else if (key === 'cpu.max') {
      const [max, period] = value.trim().split(/\s+/);
      cpuQuota(p, max === 'max' ? -1 : Number(max), period ? Number(period) : undefined);
    }
  }
  return p;
}

/** /proc/devices: the name of a device group ("char-pts" for c 136), for wildcard-minor rules. */
function deviceGroup(type: 'b' | 'c', major: number, procDevices: string): string | undefined {
  const section = type === 'c' ? 'Character devices:' : 'Block devices:';
  let inside = false;
  for (const line of procDevices.split('\n')) {
    if (line.endsWith(':')) {
      inside = line === section;
      continue;
    }
    const m = /^\s*(\d+)\s+(\S+)$/.exec(line);
    if (inside && m && Number(m[1]) === major) return `${type === 'c' ? 'char' : 'block'}-${m[2]}`;
  }
  return undefined;
}

/**
 * The device rules as DevicePolicy=strict and a DeviceAllow list (runc's
 * generateDeviceProperties): systemd's syntax has a path per device
 * ("/dev/char/1:3"), a group for a wildcard minor ("char-pts") and a glob for
 * a wildcard major ("char-*"). systemd has no deny rules, so a black-list
 * config becomes deny-all there, with runc's warning (tsrunc's own eBPF
 * filter, attached as with the cgroupfs driver, still holds the exact rules:
 * a device needs both to allow it).
 */
export function deviceProperties(rules: DeviceRule[], procDevices = readProcDevices()): SdProp[] {
  const out: SdProp[] = [['DevicePolicy', 's', 'strict']];
  const emu = DeviceEmulator.build(rules);
  if (emu.isBlacklist) {
    logWarn("systemd doesn't support blacklist device rules -- applying temporary deny-all rule");
    out.push(['DeviceAllow', 'a(ss)', []]);
    return out;
  }
  const allow: Array<[string, string]> = [];
  for (const rule of emu.cleanRules()) {
    if (!rule.allow || rule.type === 'a') continue;
    const kind = rule.type === 'c' ? 'char' : 'block';
    let path: string | undefined;
    if (rule.major < 0) path = `${kind}-*`;
    else if (rule.minor < 0) {
      path = deviceGroup(rule.type, rule.major, procDevices);
      if (!path) logWarn(`could not find device group for '${rule.type} ${rule.major}' in /proc/devices -- temporarily ignoring rule`);
    } else path = `/dev/${kind}/${rule.major}:${rule.minor}`;
    if (path) allow.push([path, rule.access]);
  }
  // An empty list first resets what the unit had (DeviceAllow= adds to it).
  out.push(['DeviceAllow', 'a(ss)', []], ['DeviceAllow', 'a(ss)', allow]);
  return out;
}

function readProcDevices(): string {
  try {
    return readFileSync('/proc/devices', 'utf8');
  } catch {
    return '';
  }
}

/**
 * What StartTransientUnit gets besides the resources (runc's Apply): the
 * process, Delegate=yes (the container may manage its own sub-cgroups, and
 * systemd leaves them alone), the slice, no default dependencies (a
 * container's scope must not be ordered after, nor stopped with,
 * anything: runc's choice), and every accounting on so that the
 * controllers are enabled down to the scope.
 */
export function startProperties(id: string, slice: string, pid: number): SdProp[] {
  return [
    ['Description', 's', `tsrunc container ${id}`],
    ['Slice', 's', slice],
    ['Delegate', 'b', true],
    ['PIDs', 'au', [pid]],
    ['DefaultDependencies', 'b', false],
    ['MemoryAccounting', 'b', true],
    ['CPUAccounting', 'b', true],
    ['IOAccounting', 'b', true],
    ['TasksAccounting', 'b', true],
  ];
}
