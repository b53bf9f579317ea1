// Where a container's cgroup goes: linux.cgroupsPath as runc's cgroupfs
// driver reads it.
//
// - An absolute path is taken from each hierarchy's root:
//   /a/b → /sys/fs/cgroup/<controller>/a/b (v1), /sys/fs/cgroup/a/b (v2).
// - A relative path is taken from the cgroup tsrunc itself runs in (runc's
//   GetOwnCgroupPath), so a runtime started inside a delegated cgroup keeps
//   its containers inside it. On v2 runc takes the *parent* of its own cgroup
//   (its own one has processes, so it cannot have controllers enabled for
//   children): so do we.
// - No cgroupsPath means runc's default for cgroupfs, which is the relative
//   path "<id>" (specconv sets Name = id, and innerPath joins Parent "" and
//   Name): /sys/fs/cgroup/<controller>/<own cgroup>/<id>.
import { readFileSync } from '../util/fs.ts';
import { posix } from '../util/path.ts';
import { RuntimeError } from '../util/errors.ts';
import { cgroupLayout, hybridUnified, v1Hierarchies, type CgroupLayout, type Hierarchy } from './hierarchy.ts';

/**
 * runc's utils.CleanPath: cleans a path, and keeps a relative one relative
 * while making "../" unable to climb above it.
 */
export function cleanPath(p: string): string {
  if (p === '') return '';
  if (p.startsWith('/')) return posix.normalize(p).replace(/(.)\/$/, '$1');
  return posix.relative('/', posix.resolve('/', p)) || '.';
}

/**
 * Sub-cgroups of a container's cgroup, for the processes exec makes:
 * controller → path below the container's cgroup ('' = for every controller;
 * an empty path = the container's cgroup itself).
 */
export type SubCgroups = Map<string, string>;

/**
 * `exec --cgroup` arguments as runc takes them: one PATH for every controller,
 * or (v1) CONTROLLER[,CONTROLLER...]:PATH, as often as there are controllers.
 * A PATH is kept as given: subCgroupDir joins it to the container's directory.
 */
export function parseSubCgroups(args: string[]): SubCgroups | undefined {
  if (!args.length) return undefined;
  const out: SubCgroups = new Map();
  for (const arg of args) {
    const parts = arg.split(':');
    if (parts.length > 2) throw new RuntimeError(`invalid --cgroup argument: ${arg}`);
    const path = parts[parts.length - 1];
    if (parts.length === 1) {
      if (args.length > 1) throw new RuntimeError(`invalid --cgroup argument: ${arg} (missing <controller>: prefix)`);
      out.set('', path);
      continue;
    }
    for (const c of parts[0].split(',')) {
      if (!c) throw new RuntimeError(`invalid --cgroup argument: ${arg} (empty <controller> prefix)`);
      if (out.has(c)) throw new RuntimeError(`invalid --cgroup argument(s): controller ${c} specified multiple times`);
      out.set(c, path);
    }
  }
  return out;
}

/**
 * runc's rule for exec --cgroup: PATH joined to the container's directory
 * (cleaned, as Go's path.Join does) must be that directory or below it, so
 * "/" and "x/.." are the container's own cgroup and ".." is refused, with
 * runc's words, rather than mapped anywhere.
 */
export function subCgroupDir(dir: string, sub: string): string {
  const joined = posix.join(dir, sub).replace(/(.)\/+$/, '$1');
  if (joined !== dir && !joined.startsWith(`${dir}/`)) throw new RuntimeError(`${sub} is not a sub cgroup path`);
  return joined;
}

/** /proc/self/cgroup: each controller (and "name=…"; '' for v2) → cgroup path. */
export function ownCgroups(text = readFileSync('/proc/self/cgroup', 'utf8')): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    for (const c of m[1].split(',')) out.set(c, m[2]);
  }
  return out;
}

/** The inner path (relative or absolute) a config asks for. */
export function innerPath(cgroupsPath: string | undefined, id: string): string {
  const inner = cgroupsPath ? cleanPath(cgroupsPath) : id;
  // "/" or "." would be the hierarchy's root or tsrunc's own cgroup: delete
  // would then kill and remove what is not the container's.
  if (inner === '/' || inner === '.')
    throw new RuntimeError(`linux.cgroupsPath: ${JSON.stringify(cgroupsPath)} names ${inner === '/' ? 'the root cgroup' : "tsrunc's own cgroup"}, not one for the container`);
  return inner;
}

/**
 * `base` and below it `rel`. Both are clean already (the kernel's paths, from
 * mountinfo and /proc/self/cgroup, and innerPath's), so this is only string
 * work: node:path's functions cost ~20 µs a call while they are cold, and a
 * create makes dozens of these.
 */
function under(base: string, rel: string): string {
  if (rel === '' || rel === '/') return base;
  return rel.startsWith('/') ? base + rel : `${base}/${rel}`;
}

/** `path` relative to `root` (both clean and absolute), or undefined when it is not inside. */
function inside(root: string, path: string): string | undefined {
  if (path === root) return '';
  if (root === '/') return path.slice(1);
  return path.startsWith(`${root}/`) ? path.slice(root.length + 1) : undefined;
}

/** The cgroup path of a hierarchy's own cgroup, as a directory under its mount point. */
function ownDir(h: Hierarchy, own: Map<string, string>, parent: boolean): string {
  const key = h.fstype === 'cgroup2' ? '' : h.controllers.find((c) => own.has(c));
  if (key === undefined || !own.has(key)) throw new RuntimeError(`cgroup ${h.mountPoint}: tsrunc's own cgroup in it is not in /proc/self/cgroup`);
  let path = own.get(key)!;
  if (parent) path = path.slice(0, path.lastIndexOf('/')) || '/';
  // Inside a cgroup namespace the mount's root may be deeper than "/".
  const rel = inside(h.root, path);
  if (rel === undefined) throw new RuntimeError(`cgroup ${h.mountPoint}: tsrunc's own cgroup ${path} is outside the mounted ${h.root}`);
  return under(h.mountPoint, rel);
}

/**
 * The directory of tsrunc's own cgroup in a hierarchy (undefined when it is
 * not under the mount): where a rootless container without a cgroup of its
 * own stays, and what its "cgroup" mount shows (runc binds the init's).
 */
export function callerCgroupDir(h: Hierarchy, own = ownCgroups()): string | undefined {
  try {
    return ownDir(h, own, false);
  } catch {
    return undefined;
  }
}

/**
 * v1: every controller (and "name=…") of every mounted hierarchy → the
 * container's directory in it; on a hybrid host also "" → its directory in
 * the cgroup2 hierarchy, as runc (so that /proc/<pid>/cgroup names the
 * container's path in every hierarchy, its 0:: line included).
 */
export function v1Paths(cgroupsPath: string | undefined, id: string, layout: CgroupLayout = cgroupLayout(), own = ownCgroups()): Record<string, string> {
  const inner = innerPath(cgroupsPath, id);
  const paths: Record<string, string> = {};
  for (const h of v1Hierarchies(layout)) {
    if (h.controllers.length === 0) continue;
    const dir = under(inner.startsWith('/') ? h.mountPoint : ownDir(h, own, false), inner);
    for (const c of h.controllers) paths[c] = dir;
  }
  const hybrid = hybridUnified(layout);
  if (hybrid && (inner.startsWith('/') || own.has(''))) paths[''] = under(inner.startsWith('/') ? hybrid.mountPoint : ownDir(hybrid, own, false), inner);
  return paths;
}

/** v2: the container's directory in the unified hierarchy mounted at `mount`. */
export function v2Path(cgroupsPath: string | undefined, id: string, mount: Hierarchy, own = ownCgroups()): string {
  const inner = innerPath(cgroupsPath, id);
  return under(inner.startsWith('/') ? mount.mountPoint : ownDir(mount, own, true), inner);
}

/**
 * The directories between a hierarchy's mount point (excluded) and `dir`
 * (included), top down: what `mkdir -p` would create. Both clean (see under).
 */
export function levels(mountPoint: string, dir: string): string[] {
  const rel = inside(mountPoint, dir);
  if (!rel) return [];
  const out: string[] = [];
  let cur = mountPoint;
  for (const part of rel.split('/')) out.push((cur = `${cur}/${part}`));
  return out;
}
