// The systemd cgroup driver (`tsrunc --systemd-cgroup`), cgroup v2 only:
// the container's cgroup is a transient scope, `<prefix>-<name>.scope` in the
// slice linux.cgroupsPath names ("slice:prefix:name"), made and removed by
// systemd over D-Bus (systemd-dbus.ts), with the limits systemd knows as unit
// properties (systemd-props.ts) and all of them, those too, written to the
// scope's cgroup files as the cgroupfs driver writes them (V2Manager), as
// runc's systemd driver does. Everything else (freezer, stats, pids,
// kill --all, exec's entry) is the cgroupfs v2 code on the scope's directory;
// at delete (teardown.ts) the unit is stopped first.
//
// How the child gets into the scope. The cgroupfs driver makes the cgroup
// first and clones the child straight into it (CLONE_INTO_CGROUP); a scope
// cannot exist before its first process (systemd refuses a scope without
// PIDs), and starting it with tsrunc's own pid would put tsrunc (and its
// later cgroup writes) inside the container's limits and make every verb's
// process leave it again. So, as runc and crun do: the child is cloned into
// tsrunc's own cgroup, where it waits at its first sync point having done
// nothing of the container's setup; the scope is started with the child's
// pid (systemd moves it) and the job awaited; then the limits are written and
// the device filter attached; only then is the child released. Nothing of the
// user's runs before the limits hold, and the cgroup namespace the child
// unshares after release is rooted at the scope. The cost is the one
// cgroup.procs write the cgroupfs driver avoids, done by systemd (and the
// D-Bus round trips: see README "Cgroups").
import { existsSync } from '../util/fs.ts';
import { RuntimeError } from '../util/errors.ts';
import type { DeviceRule } from './devices.ts';
import { realIO, type CgroupIO } from './fs.ts';
import type { CgroupLayout } from './hierarchy.ts';
import { managerCgroup, setUnitProperties, startTransientUnit, useUserManager } from './systemd-dbus.ts';
import { deviceProperties, expandSlice, parseSystemdPath, resourceProperties, startProperties, unitName } from './systemd-props.ts';
import type { CgroupRecord, Resources } from './types.ts';
import { V2Manager } from './v2.ts';

/**
 * The record of a container under the systemd driver: the scope's directory
 * as the v2 manager's path, and the unit, slice and manager in `systemd`.
 */
export function planSystemd(cgroupsPath: string | undefined, id: string, layout: CgroupLayout, resources: Resources, rootless = useUserManager()): CgroupRecord {
  // sd_booted()'s test, and runc's error for it.
  if (!existsSync('/run/systemd/system')) throw new RuntimeError('systemd cgroup flag passed, but systemd support for managing cgroups is not available');
  if (!layout.unified)
    throw new RuntimeError('systemd cgroup driver: tsrunc needs cgroup v2 (a unified hierarchy at /sys/fs/cgroup); this host has cgroup v1 controllers (a legacy or hybrid layout): use the cgroupfs driver (no --systemd-cgroup)');
  const user = rootless;
  const path = parseSystemdPath(cgroupsPath, id, user);
  const unit = unitName(path);
  const slice = expandSlice(path.slice);
  const mount = layout.hierarchies[0];
  // The system manager's slices start at the root; a user manager's below its own cgroup (user@UID.service).
  const base = user ? managerCgroup(true) : '/';
  const rel = `${base === '/' ? '' : base}${slice === '/' ? '' : slice}/${unit}`;
  // Inside a cgroup namespace the mount's root is deeper than "/".
  const root = mount.root === '/' ? '' : mount.root;
  if (root && !rel.startsWith(root + '/')) throw new RuntimeError(`systemd cgroup driver: the scope's cgroup ${rel} is outside the mounted ${mount.root}`);
  const dir = mount.mountPoint + rel.slice(root.length);
  return { version: 2, paths: { '': dir }, mount: mount.mountPoint, owned: [dir], resources, systemd: { unit, slice: path.slice, user, name: id } };
}

export class SystemdManager extends V2Manager {
  constructor(record: CgroupRecord, io: CgroupIO = realIO) {
    super(record, io);
  }

  private get sd() {
    return this.record.systemd!;
  }

  /** Nothing before the child exists: see the head of this file and start(). */
  override create(_r: Resources): void {}

  /**
   * The scope, started with the waiting child's pid, the job awaited; then
   * the controllers on the way down (systemd enables only those its
   * properties need), the files, the device filter (with rules).
   */
  start(pid: number, rules: DeviceRule[] | undefined): void {
    const r = this.record.resources ?? {};
    // No rules (a rootless caller, who can load no device filter): no device properties either.
    startTransientUnit(this.sd.user, this.sd.unit, [...startProperties(this.sd.name, this.sd.slice, pid), ...resourceProperties(r), ...(rules ? deviceProperties(rules) : [])]);
    if (!this.exists()) throw new RuntimeError(`systemd cgroup driver: unit ${this.sd.unit} started, but its cgroup ${this.dir} does not exist`);
    super.create(r);
    super.apply(r, rules);
  }

  /** update: the unit's properties (SetUnitProperties, runtime), then the files. */
  override apply(r: Resources, devices?: DeviceRule[]): void {
    setUnitProperties(this.sd.user, this.sd.unit, [...resourceProperties(r), ...(devices ? deviceProperties(devices) : [])]);
    super.apply(r, devices);
  }
}
