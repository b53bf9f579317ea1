// Which cgroup hierarchies the host has: pure v2 (one cgroup2 at
// /sys/fs/cgroup), or v1 controllers at /sys/fs/cgroup/<name> (plus, on hybrid
// hosts like this one, a cgroup2 at /sys/fs/cgroup/unified).
import { readFileSync } from 'node:fs';

export interface Hierarchy {
  /** where the host mounts it, e.g. /sys/fs/cgroup/memory */
  mountPoint: string;
  fstype: 'cgroup' | 'cgroup2';
  /** mount options (controllers for v1: "cpu", "name=systemd" …) */
  options: string[];
}

export interface CgroupLayout {
  unified: boolean;
  hierarchies: Hierarchy[];
}

let cached: CgroupLayout | undefined;

export function cgroupLayout(): CgroupLayout {
  if (cached) return cached;
  const hierarchies: Hierarchy[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    // id parent major:minor root mountpoint opts [optional...] - fstype source superopts
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const [fstype, , superOpts] = line.slice(sep + 3).split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const mountPoint = line.split(' ')[4];
    if (!mountPoint.startsWith('/sys/fs/cgroup')) continue;
    hierarchies.push({ mountPoint, fstype, options: superOpts.split(',') });
  }
  cached = { unified: hierarchies.length === 1 && hierarchies[0].mountPoint === '/sys/fs/cgroup' && hierarchies[0].fstype === 'cgroup2', hierarchies };
  return cached;
}
