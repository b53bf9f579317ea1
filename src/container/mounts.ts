// config.json mounts -> mount(2) calls. Option names and their meaning follow
// mount(8) and runc: flags set or clear MS_* bits, propagation options become
// separate calls, anything else is filesystem data ("mode=755,size=65536k").
import { isAbsolute, posix, resolve } from 'node:path';
import { cgroupLayout } from '../cgroups/hierarchy.ts';
import { RuntimeError } from '../util/errors.ts';

export const MS = {
  RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, SYNCHRONOUS: 16, REMOUNT: 32, MANDLOCK: 64,
  DIRSYNC: 128, NOSYMFOLLOW: 256, NOATIME: 1024, NODIRATIME: 2048, BIND: 4096, MOVE: 8192,
  REC: 16384, SILENT: 32768, UNBINDABLE: 1 << 17, PRIVATE: 1 << 18, SLAVE: 1 << 19,
  SHARED: 1 << 20, RELATIME: 1 << 21, STRICTATIME: 1 << 24, LAZYTIME: 1 << 25,
} as const;

// [set?, bits]
const FLAG_OPTIONS: Record<string, [boolean, number]> = {
  async: [false, MS.SYNCHRONOUS], atime: [false, MS.NOATIME], bind: [true, MS.BIND],
  defaults: [true, 0], dev: [false, MS.NODEV], diratime: [false, MS.NODIRATIME],
  dirsync: [true, MS.DIRSYNC], exec: [false, MS.NOEXEC], mand: [true, MS.MANDLOCK],
  noatime: [true, MS.NOATIME], nodev: [true, MS.NODEV], nodiratime: [true, MS.NODIRATIME],
  noexec: [true, MS.NOEXEC], nomand: [false, MS.MANDLOCK], norelatime: [false, MS.RELATIME],
  nostrictatime: [false, MS.STRICTATIME], nosuid: [true, MS.NOSUID], nosymfollow: [true, MS.NOSYMFOLLOW],
  rbind: [true, MS.BIND | MS.REC], relatime: [true, MS.RELATIME], remount: [true, MS.REMOUNT],
  ro: [true, MS.RDONLY], rw: [false, MS.RDONLY], silent: [true, MS.SILENT],
  strictatime: [true, MS.STRICTATIME], suid: [false, MS.NOSUID], sync: [true, MS.SYNCHRONOUS],
  lazytime: [true, MS.LAZYTIME], nolazytime: [false, MS.LAZYTIME], loud: [false, MS.SILENT],
};

export const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC, shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC, unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
};

/** Every option name planMount understands (for `features`). */
export const MOUNT_OPTIONS = [...Object.keys(FLAG_OPTIONS), ...Object.keys(PROPAGATION)].sort();

// Options that need mount_setattr(2) or id-mapped mounts: not done yet, and
// refused rather than silently ignored.
const UNSUPPORTED = /^(r(ro|rw|nosuid|suid|nodev|dev|noexec|exec|noatime|atime|nodiratime|diratime|relatime|norelatime|strictatime|nostrictatime|nosymfollow|symfollow)|idmap|ridmap|tmpcopyup)$/;

export interface MountPlan {
  source?: string;
  target: string;
  type?: string;
  data?: string;
  flags: number;
  remount: number;
  propagation: number[];
  bind: boolean;
}

export interface ConfigMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export function planMount(m: ConfigMount, bundle: string, index: number): MountPlan {
  let flags = 0;
  const propagation: number[] = [];
  const data: string[] = [];
  for (const opt of m.options ?? []) {
    const f = FLAG_OPTIONS[opt];
    if (f) flags = f[0] ? flags | f[1] : flags & ~f[1];
    else if (opt in PROPAGATION) propagation.push(PROPAGATION[opt]);
    else if (UNSUPPORTED.test(opt)) throw new RuntimeError(`mounts[${index}]: option "${opt}" is not supported by tsrunc yet`);
    else data.push(opt);
  }
  const bind = m.type === 'bind' || (flags & MS.BIND) !== 0;
  if (bind) flags |= MS.BIND;
  if (!isAbsolute(m.destination)) throw new RuntimeError(`mounts[${index}].destination: must be an absolute path`);
  const target = posix.normalize(m.destination);
  let source = m.source;
  // Bind sources are host paths, relative ones to the bundle (as runc).
  if (bind && source !== undefined) source = resolve(bundle, source);
  if (bind && source === undefined) throw new RuntimeError(`mounts[${index}].source: required for a bind mount`);
  // A bind mount takes its flags only from a remount that follows it.
  const remount = bind ? flags & ~(MS.BIND | MS.REC | MS.REMOUNT) : 0;
  return {
    source,
    target,
    type: bind ? undefined : m.type,
    data: data.length && !bind ? data.join(',') : undefined,
    flags: bind ? flags & (MS.BIND | MS.REC) : flags,
    remount,
    propagation,
    bind,
  };
}

/**
 * A "cgroup" mount becomes what runc makes of it. On a cgroup v2 host: the
 * cgroup2 filesystem (the cgroup namespace, if any, roots it). On v1 and
 * hybrid hosts: a tmpfs at the destination with every host hierarchy
 * bind-mounted under it, then the tmpfs made read-only if asked.
 */
export function planCgroupMount(m: ConfigMount, bundle: string, index: number): MountPlan[] {
  const base = planMount({ ...m, type: 'tmpfs' }, bundle, index);
  const layout = cgroupLayout();
  if (layout.unified) return [{ ...base, type: 'cgroup2', source: 'cgroup', data: undefined }];
  const flags = base.flags & ~MS.RDONLY;
  const plans: MountPlan[] = [{ ...base, source: 'tmpfs', flags, data: 'mode=755' }];
  for (const h of layout.hierarchies) {
    const name = h.mountPoint.slice('/sys/fs/cgroup'.length) || '/';
    if (name === '/') continue;
    plans.push({ source: h.mountPoint, target: posix.join(base.target, name), flags: MS.BIND | MS.REC, remount: base.flags, propagation: [], bind: true });
  }
  if (base.flags & MS.RDONLY)
    plans.push({ source: 'tmpfs', target: base.target, type: 'tmpfs', flags: base.flags | MS.REMOUNT, remount: 0, propagation: [], bind: false });
  return plans;
}
