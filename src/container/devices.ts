// The devices every container gets (runtime-spec config-linux.md "Default
// Devices") plus linux.devices, and runc's /dev symlinks.
import { existsSync } from '../util/fs.ts';
import type { Device } from '../config/schema.ts';

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

export interface DevicePlan {
  path: string;
  mode: number;
  major: number;
  minor: number;
  uid: number;
  gid: number;
  bind: boolean;
}

const DEFAULTS: Device[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0 },
];

/**
 * In a new user namespace mknod is not allowed: the host's nodes are
 * bind-mounted instead (as runc does).
 */
export function planDevices(configured: Device[], bindMode: boolean): DevicePlan[] {
  const byPath = new Map<string, Device>();
  for (const d of [...DEFAULTS, ...configured]) byPath.set(d.path, d);
  return [...byPath.values()].map((d) => ({
    path: d.path,
    mode: (d.type === 'b' ? S_IFBLK : d.type === 'p' ? S_IFIFO : S_IFCHR) | (d.fileMode ?? 0o666),
    major: d.major ?? 0,
    minor: d.minor ?? 0,
    uid: d.uid ?? 0,
    gid: d.gid ?? 0,
    bind: bindMode,
  }));
}

export function devSymlinks(): Array<{ target: string; path: string }> {
  const links = [
    { target: '/proc/self/fd', path: '/dev/fd' },
    { target: '/proc/self/fd/0', path: '/dev/stdin' },
    { target: '/proc/self/fd/1', path: '/dev/stdout' },
    { target: '/proc/self/fd/2', path: '/dev/stderr' },
    { target: 'pts/ptmx', path: '/dev/ptmx' },
  ];
  if (existsSync('/proc/kcore')) links.push({ target: '/proc/kcore', path: '/dev/core' });
  return links;
}
