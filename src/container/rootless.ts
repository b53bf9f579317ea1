// tsrunc run by an unprivileged user ("rootless"), as runc runs then.
//
// runc keeps two things apart, and so does tsrunc:
//   - RootlessEUID: the caller's euid is not 0. The config must ask for a new
//     user namespace (the kernel lets an unprivileged process make one, and
//     it owns the namespaces made with it), with id maps the caller may
//     write, and nothing that needs ids it does not have.
//   - RootlessCgroups (the --rootless flag: true, false or auto): a cgroup
//     the caller may not make is done without when no limit needs it
//     (cgroups/rootless.ts). auto: yes for a non-root caller, and for root in
//     a user namespace other than the host's (rootless podman runs its
//     runtime as the root of a user namespace it made).
//
// Id maps. An unprivileged process may write, into the user namespace its
// child made, one line that maps its own euid (uid_map) or egid (gid_map, and
// only after "deny" went into setgroups, so that nobody inside can drop a
// group to get past a "negative" permission). Anything else takes the setuid
// helpers newuidmap/newgidmap (Debian's uidmap package), which map the ranges
// /etc/subuid and /etc/subgid grant the caller. As runc: the helper is used
// only when the own-id write cannot do (runc tries the write and falls back on
// EPERM; tsrunc decides before anything exists), and setgroups is denied only
// with an own-id gid map; a map that needs a helper that is not installed is
// refused before anything is made.
import { accessSync, chmodSync, mkdirSync, constants as fsc } from '../util/fs.ts';
import { addon } from '../addon.ts';
import type { RunnableConfig } from '../config/load.ts';
import type { IDMapping, Mount } from '../config/schema.ts';
import { RuntimeError } from '../util/errors.ts';
import { sessionBusOwnerUid } from '../cgroups/systemd-dbus.ts';
import { runningInUserNs } from '../util/userns.ts';
import type { NamespacePlan } from './namespaces.ts';

const EPERM = 1; // errno numbers (Linux, every architecture)

const euid = () => process.geteuid?.() ?? 0;
const egid = () => process.getegid?.() ?? 0;

/** runc's parseBoolOrAuto for --rootless: undefined is auto. */
export function parseRootlessFlag(value: string | undefined): boolean | undefined {
  if (value === undefined || value === '' || value.toLowerCase() === 'auto') return undefined;
  // Go's strconv.ParseBool
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new RuntimeError(`strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`);
}

/** Whether cgroup permission errors are tolerated (runc's shouldUseRootlessCgroupManager, cgroupfs driver). */
export function rootlessCgroups(flag: string | undefined): boolean {
  const b = parseRootlessFlag(flag);
  if (b !== undefined) return b;
  return euid() !== 0 || runningInUserNs();
}

/**
 * Whether --systemd-cgroup talks to the caller's user manager (session bus)
 * rather than the system one: runc's shouldUseRootlessCgroupManager for its
 * systemd driver. --rootless decides when given; a non-root euid is rootless,
 * root outside a user namespace is not; root of a user namespace is rootless
 * only when the session bus belongs to a user other than root (rootless
 * podman's namespace), and not when that cannot be told (root of a container
 * under its own systemd talks to that systemd).
 */
export function rootlessSystemd(flag: string | undefined): boolean {
  const b = parseRootlessFlag(flag);
  if (b !== undefined) return b;
  if (euid() !== 0) return true;
  if (!runningInUserNs()) return false;
  const owner = sessionBusOwnerUid();
  return owner !== undefined && owner !== 0;
}

/** Whether tsrunc itself runs without root's privileges over the host (runc's RootlessEUID). */
export function rootlessEuid(): boolean {
  return euid() !== 0;
}

/** Whether mknod is out of reach, so device nodes are bound from the host (runc: RunningInUserNS or a new user namespace). */
export function devicesByBind(ns: NamespacePlan): boolean {
  return ns.has('user') || runningInUserNs();
}

/**
 * runc's rootless sysfs: sysfs may be mounted only by the owner of the
 * network namespace, so a container in a user namespace without a network
 * namespace of its own (it shares the host's, or tsrunc's in a rootless
 * engine) gets the host's /sys bound read-only instead, with the flags a
 * sysfs mount has. A joined network namespace keeps the real mount (its
 * owner may be the container's user namespace); its failure names the mount.
 */
export function sysfsBind(m: Mount, ns: NamespacePlan): Mount | undefined {
  if (m.type !== 'sysfs' || ns.has('network') || !devicesByBind(ns)) return undefined;
  const ro = (m.options ?? []).includes('ro');
  return { destination: m.destination, type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', ...(ro ? ['ro'] : [])] };
}

/** How create writes the id maps of a new user namespace. */
export interface IdMapMethod {
  /** newuidmap's path, where the map is not the caller's own uid */
  uidTool?: string;
  gidTool?: string;
  /** write "deny" to setgroups before gid_map (an own-id gid map) */
  denySetgroups: boolean;
}

const ownId = (maps: IDMapping[], id: number) => maps.length === 1 && maps[0].hostID === id && maps[0].size === 1;
const covers = (maps: IDMapping[] | undefined, id: number) => (maps ?? []).some((m) => id >= m.containerID && id < m.containerID + m.size);

/** runc's exec.LookPath: the first executable on PATH (Debian's /usr/bin when PATH has no entry). */
function lookPath(name: string): string | undefined {
  const dirs = (process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':');
  for (const d of dirs) {
    if (!d.startsWith('/')) continue;
    try {
      accessSync(`${d}/${name}`, fsc.X_OK);
      return `${d}/${name}`;
    } catch {}
  }
  return undefined;
}

/**
 * The checks runc's rootless validation makes (configs/validate/rootless.go,
 * and those its init makes later, made here before anything exists), for a
 * non-root caller; and how the id maps will be written.
 */
export function checkRootless(config: RunnableConfig, ns: NamespacePlan): IdMapMethod | undefined {
  if (!rootlessEuid()) return undefined;
  const linux = config.linux ?? {};
  const uid = euid();
  const gid = egid();
  if (!ns.has('user'))
    throw new RuntimeError(`rootless container requires user namespaces: tsrunc runs as uid ${uid}; add a "user" entry to linux.namespaces with uidMappings and gidMappings (tsrunc spec --rootless writes one)`);
  if (!ns.isNew('user')) return undefined; // a joined one's maps are already written
  const uidMaps = linux.uidMappings ?? [];
  const gidMaps = linux.gidMappings ?? [];
  if (!uidMaps.length) throw new RuntimeError('rootless containers requires at least one UID mapping');
  if (!gidMaps.length) throw new RuntimeError('rootless containers requires at least one GID mapping');
  const method: IdMapMethod = { denySetgroups: ownId(gidMaps, gid) };
  const helper = (tool: string, what: string, id: number, file: string) => {
    const path = lookPath(tool);
    if (!path)
      throw new RuntimeError(
        `linux.${what}: a non-root caller may map only its own id (one entry with hostID ${id}, size 1) unless ${tool} is installed (Debian package uidmap) and ${file} grants the ranges; ${tool} is not on PATH`,
      );
    return path;
  };
  if (!ownId(uidMaps, uid)) method.uidTool = helper('newuidmap', 'uidMappings', uid, '/etc/subuid');
  if (!method.denySetgroups) method.gidTool = helper('newgidmap', 'gidMappings', gid, '/etc/subgid');
  const user = config.process.user ?? { uid: 0, gid: 0 };
  // runc's init says these; here they are said before anything exists.
  checkMappedUser(config, user);
  if (method.denySetgroups && user.additionalGids?.length)
    throw new RuntimeError('cannot set any additional groups in a rootless container (setgroups is denied with a gid map of the caller\'s own gid; map ranges with newgidmap to allow them)');
  for (const [i, m] of (config.mounts ?? []).entries())
    for (const opt of m.options ?? []) {
      const id = /^(uid|gid)=(\d+)$/.exec(opt);
      if (id && !covers(id[1] === 'uid' ? uidMaps : gidMaps, Number(id[2])))
        throw new RuntimeError(`cannot specify ${id[1]}= mount options for unmapped ${id[1]} in rootless containers (mounts[${i}] ${m.destination}: ${opt})`);
    }
  return method;
}

/**
 * The process's uid and gid must be mapped in the container's new user
 * namespace (runc's words): for create, and for exec, whose user may differ.
 */
export function checkMappedUser(config: RunnableConfig, user: { uid: number; gid: number }): void {
  const linux = config.linux ?? {};
  const newUserns = (linux.namespaces ?? []).some((n) => n.type === 'user' && !n.path);
  if (!newUserns || !linux.uidMappings || !linux.gidMappings) return;
  if (!covers(linux.uidMappings, user.uid)) throw new RuntimeError(`cannot set uid to unmapped user in user namespace (uid ${user.uid})`);
  if (!covers(linux.gidMappings, user.gid)) throw new RuntimeError(`cannot set gid to unmapped group in user namespace (gid ${user.gid})`);
}

const mapText = (m: IDMapping[]) => m.map((e) => `${e.containerID} ${e.hostID} ${e.size}\n`).join('');

function runTool(tool: string, pid: number, maps: IDMapping[], what: string): void {
  const args = [String(pid), ...maps.flatMap((m) => [String(m.containerID), String(m.hostID), String(m.size)])];
  // node:child_process only here (see hooks.ts): most runs never need it.
  const r = process.getBuiltinModule('node:child_process').spawnSync(tool, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) throw new RuntimeError(`linux.${what}: ${tool}: ${r.error.message}`);
  if (r.status !== 0) throw new RuntimeError(`linux.${what}: ${tool} ${args.join(' ')} failed: ${(r.stderr || r.stdout || `exit status ${r.status}`).trim()}`);
}

function writeMap(pid: number, file: string, text: string, what: string): void {
  try {
    // Through the host's procfs, verified (addon procWrite): never a path a mount could redirect.
    addon('procWrite')(pid, file, text);
  } catch (e) {
    const err = e as Error & { errno?: number };
    throw new RuntimeError(`linux.${what}: write /proc/${pid}/${file} (${text.trim().replace(/\n/g, '; ')}): ${err.errno === EPERM ? 'operation not permitted' : err.message}`);
  }
}

/**
 * Writes the id maps of the child's new user namespace while it waits.
 * Only a process outside that namespace may map ids into it.
 */
export function writeIdMaps(pid: number, uid: IDMapping[], gid: IDMapping[], method: IdMapMethod | undefined): void {
  if (method?.uidTool) runTool(method.uidTool, pid, uid, 'uidMappings');
  else writeMap(pid, 'uid_map', mapText(uid), 'uidMappings');
  if (method?.gidTool) runTool(method.gidTool, pid, gid, 'gidMappings');
  else {
    if (method?.denySetgroups) writeMap(pid, 'setgroups', 'deny', 'gidMappings');
    writeMap(pid, 'gid_map', mapText(gid), 'gidMappings');
  }
}

/** The state root under $XDG_RUNTIME_DIR is made sticky, as runc makes it (XDG: kept from being pruned). */
export function prepareXdgRoot(root: string): void {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  chmodSync(root, 0o1700);
}
