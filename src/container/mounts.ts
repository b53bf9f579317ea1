// config.json mounts -> mount(2) calls. Option names and their meaning follow
// mount(8) and runc: flags set or clear MS_* bits, propagation options become
// separate calls, anything else is filesystem data ("mode=755,size=65536k").
import { isAbsolute, posix, resolve } from '../util/path.ts';
import { cgroupLayout } from '../cgroups/hierarchy.ts';
import { callerCgroupDir } from '../cgroups/path.ts';
import type { IDMapping, Mount } from '../config/schema.ts';
import { RuntimeError } from '../util/errors.ts';

export const MS = {
  RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, SYNCHRONOUS: 16, REMOUNT: 32, MANDLOCK: 64,
  DIRSYNC: 128, NOSYMFOLLOW: 256, NOATIME: 1024, NODIRATIME: 2048, BIND: 4096, MOVE: 8192,
  REC: 16384, SILENT: 32768, I_VERSION: 1 << 23, UNBINDABLE: 1 << 17, PRIVATE: 1 << 18, SLAVE: 1 << 19,
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
  iversion: [true, MS.I_VERSION], noiversion: [false, MS.I_VERSION], symfollow: [false, MS.NOSYMFOLLOW],
};

export const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC, shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC, unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
};

// Recursive options (rro, rnosuid, ...) apply to the whole mounted tree with
// mount_setattr(2): [MOUNT_ATTR_* to set, MOUNT_ATTR_* to clear].
const A = { RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, ATIME: 0x70, NOATIME: 0x10, STRICTATIME: 0x20, NODIRATIME: 0x80, NOSYMFOLLOW: 0x200000 };
const RECURSIVE_OPTIONS: Record<string, [number, number]> = {
  rro: [A.RDONLY, 0], rrw: [0, A.RDONLY], rnosuid: [A.NOSUID, 0], rsuid: [0, A.NOSUID],
  rnodev: [A.NODEV, 0], rdev: [0, A.NODEV], rnoexec: [A.NOEXEC, 0], rexec: [0, A.NOEXEC],
  rnodiratime: [A.NODIRATIME, 0], rdiratime: [0, A.NODIRATIME], rnosymfollow: [A.NOSYMFOLLOW, 0], rsymfollow: [0, A.NOSYMFOLLOW],
  // the atime modes are one field: clearing any of it means clearing all of it
  rnoatime: [A.NOATIME, A.ATIME], rstrictatime: [A.STRICTATIME, A.ATIME], rrelatime: [0, A.ATIME],
  ratime: [0, A.ATIME], rnorelatime: [A.STRICTATIME, A.ATIME], rnostrictatime: [0, A.ATIME],
};

/** Every option name planMount understands (for `features`). */
export const MOUNT_OPTIONS = [...Object.keys(FLAG_OPTIONS), ...Object.keys(PROPAGATION), ...Object.keys(RECURSIVE_OPTIONS), 'idmap', 'ridmap', 'tmpcopyup'].sort();

// Options that need what tsrunc does not do: refused, not ignored.
const UNSUPPORTED = /^$/;

export interface MountPlan {
  source?: string;
  target: string;
  type?: string;
  data?: string;
  flags: number;
  remount: number;
  propagation: number[];
  bind: boolean;
  attrSet?: number;
  attrClr?: number;
  /** idmap/ridmap: the mappings as /proc/<pid>/uid_map text */
  idmapUidMap?: string;
  idmapGidMap?: string;
  idmapRecursive?: boolean;
  copyUp?: boolean;
}

const mapText = (m: IDMapping[]) => m.map((e) => `${e.containerID} ${e.hostID} ${e.size}\n`).join('');

/**
 * containerMaps: the container's own user-namespace mappings, which an
 * idmap mount without mappings of its own uses.
 */
export function planMount(m: Mount, bundle: string, index: number, containerMaps?: { uid: IDMapping[]; gid: IDMapping[] }): MountPlan {
  let flags = 0;
  let attrSet = 0;
  let attrClr = 0;
  const propagation: number[] = [];
  const data: string[] = [];
  let idmap: 'idmap' | 'ridmap' | undefined;
  // runc's (and crun's) extension: a tmpfs starts with what it covers.
  let copyUp = false;
  for (const opt of m.options ?? []) {
    if (opt === 'tmpcopyup') {
      copyUp = true;
      continue;
    }
    if (opt === 'idmap' || opt === 'ridmap') {
      idmap = opt;
      continue;
    }
    const f = FLAG_OPTIONS[opt];
    if (f) flags = f[0] ? flags | f[1] : flags & ~f[1];
    else if (opt in PROPAGATION) propagation.push(PROPAGATION[opt]);
    else if (opt in RECURSIVE_OPTIONS) {
      const [set, clr] = RECURSIVE_OPTIONS[opt];
      // Later options win; clr stays whole (the kernel wants all of _ATIME or none).
      attrSet = (attrSet & ~clr) | set;
      attrClr = (attrClr & ~set) | clr;
    }
    else if (UNSUPPORTED.test(opt)) throw new RuntimeError(`mounts[${index}]: option "${opt}" is not supported by tsrunc yet`);
    else data.push(opt);
  }
  const bind = m.type === 'bind' || (flags & MS.BIND) !== 0;
  if (bind) flags |= MS.BIND;
  // A relative destination (deprecated) is relative to "/" (config.md).
  const target = posix.normalize(isAbsolute(m.destination) ? m.destination : '/' + m.destination);
  let source = m.source;
  // Bind sources are host paths, relative ones to the bundle (as runc).
  if (bind && source !== undefined) source = resolve(bundle, source);
  if (bind && source === undefined) throw new RuntimeError(`mounts[${index}].source: required for a bind mount`);
  if (copyUp && m.type !== 'tmpfs') throw new RuntimeError(`mounts[${index}]: "tmpcopyup" is for tmpfs mounts`);
  let idmapped: Pick<MountPlan, 'idmapUidMap' | 'idmapGidMap' | 'idmapRecursive'> = {};
  if (idmap) {
    if (!bind) throw new RuntimeError(`mounts[${index}]: "${idmap}" needs a bind mount`);
    const uid = m.uidMappings ?? containerMaps?.uid;
    const gid = m.gidMappings ?? containerMaps?.gid;
    if (!uid?.length || !gid?.length)
      throw new RuntimeError(`mounts[${index}]: "${idmap}" needs uidMappings and gidMappings (on the mount or the container's user namespace)`);
    idmapped = { idmapUidMap: mapText(uid), idmapGidMap: mapText(gid), idmapRecursive: idmap === 'ridmap' };
  }
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
    attrSet,
    attrClr,
    copyUp,
    ...idmapped,
  };
}

/**
 * A "cgroup" mount becomes what runc makes of it. On a cgroup v2 host: the
 * cgroup2 filesystem (the cgroup namespace, if any, roots it). On v1 and
 * hybrid hosts: a tmpfs at the destination with, for each v1 hierarchy, the
 * container's own cgroup directory in it (`cgroupPaths`, from the cgroup
 * plan) bind-mounted at <destination>/<name> (runc's mountCgroupV1; the
 * hybrid unified hierarchy is not shown, as with runc), then the tmpfs made
 * read-only if asked. Without cgroupPaths, the whole host hierarchies.
 */
export function planCgroupMount(m: Mount, bundle: string, index: number, cgroupPaths?: Record<string, string>, usernsWithoutCgroupns = false): MountPlan[] {
  const base = planMount({ ...m, type: 'tmpfs' }, bundle, index);
  const layout = cgroupLayout();
  if (layout.unified) {
    // In a user namespace, a cgroup2 mount needs a cgroup namespace it owns
    // (else EPERM): without one, the container's own directory is bound
    // there instead, as runc falls back to.
    // A rootless container without a cgroup of its own (no paths) is in tsrunc's.
    const own = cgroupPaths?.[''] ?? (cgroupPaths ? callerCgroupDir(layout.hierarchies[0]) : undefined);
    if (usernsWithoutCgroupns && own) return [{ source: own, target: base.target, flags: MS.BIND | MS.REC, remount: base.flags, propagation: [], bind: true }];
    return [{ ...base, type: 'cgroup2', source: 'cgroup', data: undefined }];
  }
  const flags = base.flags & ~MS.RDONLY;
  const plans: MountPlan[] = [{ ...base, source: 'tmpfs', flags, data: 'mode=755' }];
  for (const h of layout.hierarchies) {
    const name = h.mountPoint.slice('/sys/fs/cgroup'.length) || '/';
    if (name === '/') continue;
    let source: string | undefined = h.mountPoint;
    // A hierarchy a rootless container has no directory in (cgroups/rootless.ts): it is in tsrunc's there.
    if (cgroupPaths) source = Object.values(cgroupPaths).find((d) => d === h.mountPoint || d.startsWith(h.mountPoint + '/')) ?? (h.fstype === 'cgroup' && h.controllers.length ? callerCgroupDir(h) : undefined);
    if (!source) continue;
    plans.push({ source, target: posix.join(base.target, name), flags: MS.BIND | MS.REC, remount: base.flags, propagation: [], bind: true });
  }
  if (base.flags & MS.RDONLY)
    plans.push({ source: 'tmpfs', target: base.target, type: 'tmpfs', flags: base.flags | MS.REMOUNT, remount: 0, propagation: [], bind: false });
  return plans;
}
