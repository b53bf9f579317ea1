// Which cgroup hierarchies the host has: pure v2 (one cgroup2 at
// /sys/fs/cgroup), or v1 controllers at /sys/fs/cgroup/<name> (plus, on hybrid
// hosts like this one, a cgroup2 at /sys/fs/cgroup/unified).
import { readFileSync } from '../util/fs.ts';

export interface Hierarchy {
  /** where the host mounts it, e.g. /sys/fs/cgroup/memory */
  mountPoint: string;
  fstype: 'cgroup' | 'cgroup2';
  /** mount options (controllers for v1: "cpu", "name=systemd" …) */
  options: string[];
  /**
   * The cgroup shown at the mount point (mountinfo's 4th field): "/" on a
   * host, something deeper when the mount was made inside a cgroup namespace.
   */
  root: string;
  /** v1: the controllers (and "name=…") of this hierarchy; v2: [] */
  controllers: string[];
}

export interface CgroupLayout {
  unified: boolean;
  hierarchies: Hierarchy[];
}

let cached: CgroupLayout | undefined;

/** Controller names the kernel knows (/proc/cgroups), to tell them from mount options like "rw". */
function knownControllers(): Set<string> {
  const names = new Set<string>();
  try {
    for (const line of readFileSync('/proc/cgroups', 'utf8').split('\n'))
      if (line && !line.startsWith('#')) names.add(line.split(/\s+/)[0]);
  } catch {}
  return names;
}

// mountinfo escapes spaces and such as \040 (octal).
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export function cgroupLayout(): CgroupLayout {
  if (cached) return cached;
  const hierarchies: Hierarchy[] = [];
  let known: Set<string> | undefined;
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    // id parent major:minor root mountpoint opts [optional...] - fstype source superopts
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const [fstype, , superOpts] = line.slice(sep + 3).split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const fields = line.split(' ');
    const mountPoint = unescape(fields[4]);
    if (!mountPoint.startsWith('/sys/fs/cgroup')) continue;
    const options = superOpts.split(',');
    known ??= fstype === 'cgroup' ? knownControllers() : undefined;
    const controllers = fstype === 'cgroup' ? options.filter((o) => o.startsWith('name=') || known!.has(o)) : [];
    // A later mount on the same point hides the earlier one.
    const prev = hierarchies.findIndex((h) => h.mountPoint === mountPoint);
    if (prev >= 0) hierarchies.splice(prev, 1);
    hierarchies.push({ mountPoint, fstype, options, root: unescape(fields[3]), controllers });
  }
  // runc's test: /sys/fs/cgroup itself is a cgroup2 filesystem.
  const unified = hierarchies.some((h) => h.mountPoint === '/sys/fs/cgroup' && h.fstype === 'cgroup2');
  cached = { unified, hierarchies: unified ? hierarchies.filter((h) => h.mountPoint === '/sys/fs/cgroup') : hierarchies };
  return cached;
}

/**
 * A hybrid host's cgroup2 hierarchy (at /sys/fs/cgroup/unified here), which
 * runc's v1 manager puts containers in too (key "" of its paths), with no
 * controller: undefined on a pure v1 or a v2 host.
 */
export function hybridUnified(layout = cgroupLayout()): Hierarchy | undefined {
  return layout.unified ? undefined : layout.hierarchies.find((h) => h.fstype === 'cgroup2');
}

/** The v1 hierarchies (fstype cgroup): on a v2 host, none. */
export function v1Hierarchies(layout = cgroupLayout()): Hierarchy[] {
  return layout.unified ? [] : layout.hierarchies.filter((h) => h.fstype === 'cgroup');
}
