// Rootless cgroups (runc's --rootless, its RootlessCgroups): a caller that
// may not make the container's cgroup runs the container without one, as
// runc's cgroupfs managers do, as long as the config asks for no limit that
// needs it; a limit it cannot get is an error that says why.
//
// runc tries each mkdir and drops the controllers whose mkdir fails with
// EPERM/EACCES/EROFS (v1; on v2 the whole cgroup), but only when
// linux.cgroupsPath is not set: a path given on purpose must be usable. Here
// the same is decided before anything exists, from access(2) on the deepest
// level that exists: the container's directory itself when it is there (a
// cgroup delegated to the caller: its cgroup.procs/tasks must be writable),
// else the parent it would be made in.
import { accessSync, existsSync, constants as fsc } from '../util/fs.ts';
import { posix } from '../util/path.ts';
import { RuntimeError } from '../util/errors.ts';
import type { CgroupIO } from './fs.ts';
import type { CgroupRecord, Resources } from './types.ts';
import { V1Manager } from './v1.ts';
import { V2Manager } from './v2.ts';

/** Why the caller cannot make or join `dir`, or undefined when it can. */
export function cgroupDenied(dir: string, version: 1 | 2, access: (path: string, mode: number) => void = accessSync, exists: (path: string) => boolean = existsSync): string | undefined {
  for (let p = dir; ; p = posix.dirname(p)) {
    if (!exists(p)) {
      if (p === '/') return undefined;
      continue;
    }
    const join = p === dir;
    const target = join ? `${dir}/${version === 1 ? 'tasks' : 'cgroup.procs'}` : p;
    try {
      access(target, join ? fsc.W_OK : fsc.W_OK | fsc.X_OK);
      return undefined;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'EROFS' ? 'read-only file system' : code === 'ENOENT' ? 'no such file or directory' : 'permission denied';
      return join ? `cannot join ${dir} (${target}: ${why})` : `cannot create ${dir} (${p}: ${why})`;
    }
  }
}

/** Records the paths the managers would write, reading nothing real. */
function dryIO(writes: string[]): CgroupIO {
  return {
    read: () => '',
    readIfExists: () => '',
    write: (path) => void writes.push(path),
    exists: () => true,
    mkdir: () => {},
    rmdir: () => {},
    subdirs: () => [],
    chown: () => {},
  };
}

/** The files applying these resources writes, per the record's paths (nothing is touched). */
function limitFiles(record: CgroupRecord, resources: Resources): string[] {
  const writes: string[] = [];
  const io = dryIO(writes);
  const m = record.version === 2 ? new V2Manager(record, io) : new V1Manager(record, io);
  try {
    m.apply(resources);
  } catch {
    // A value the manager refuses is refused again, with its own words, at create.
  }
  return writes;
}

const uid = () => process.geteuid?.() ?? 0;

/**
 * The record without what the caller may not make (rootless only). On v1
 * each hierarchy is kept or dropped on its own; on v2 the cgroup is all or
 * nothing. A dropped part that a limit needs is an error, as is any dropped
 * part when linux.cgroupsPath was given.
 */
export function rootlessRecord(record: CgroupRecord, resources: Resources, explicitPath: boolean, check = cgroupDenied): CgroupRecord {
  const keep: Record<string, string> = {};
  const dropped = new Map<string, string>(); // dir -> why
  let quiet = false;
  for (const [controller, dir] of Object.entries(record.paths)) {
    const why = dropped.get(dir) ?? check(dir, record.version);
    // "" on a v1 host is the hybrid cgroup2 hierarchy (path.ts v1Paths): it has
    // no controllers and carries no limit, only the 0:: line of
    // /proc/PID/cgroup; one the caller may not make is left out quietly.
    if (why && controller === '' && record.version === 1) {
      quiet = true;
      continue;
    }
    if (why) dropped.set(dir, why);
    else keep[controller] = dir;
  }
  if (!dropped.size && !quiet) return record;
  const [firstWhy] = dropped.values();
  const kept = Object.values(keep);
  const owned = record.owned.filter((l) => kept.some((d) => d === l || d.startsWith(l + '/')));
  if (!dropped.size) return { ...record, paths: keep, owned };
  const hint = `tsrunc runs rootless (uid ${uid()}): delegate a cgroup to this user (chown it, or a systemd user session on cgroup v2)`;
  if (explicitPath) throw new RuntimeError(`linux.cgroupsPath: ${firstWhy}; ${hint}, or leave linux.cgroupsPath unset to run without a cgroup`);
  for (const file of limitFiles(record, resources)) {
    const dir = [...dropped.keys()].find((d) => file.startsWith(d + '/'));
    if (!dir) continue;
    const controller = record.version === 2 ? posix.basename(file).split('.')[0] : Object.keys(record.paths).find((c) => record.paths[c] === dir && !c.startsWith('name='));
    // runc's words, then the reason and the way out.
    throw new RuntimeError(`cannot set ${controller} limit: container could not join or create cgroup: ${dropped.get(dir)}; ${hint}, or run without linux.resources limits`);
  }
  const denied: Record<string, string> = {};
  for (const [controller, dir] of Object.entries(record.paths)) if (dropped.has(dir)) denied[controller] = dropped.get(dir)!;
  if (record.version === 2) return { ...record, paths: {}, owned: [], denied };
  return { ...record, paths: keep, owned, denied };
}
