// What `tsrunc spec` writes: runc's specconv.Example() and ToRootless()
// (libcontainer/specconv/example.go), with our version and hostname.

import { statfsSync } from '../util/fs.ts';
import type { Config, Mount, Namespace } from './schema.ts';

/** The runtime-spec version we implement and write into generated configs. */
export const SPEC_VERSION = '1.2.0';

const CGROUP2_SUPER_MAGIC = 0x63677270;

/** runc's cgroups.IsCgroup2UnifiedMode(): is /sys/fs/cgroup a cgroup2 mount? */
function isCgroup2UnifiedMode(): boolean {
  try {
    return statfsSync('/sys/fs/cgroup').type === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
}

export interface DefaultSpecOptions {
  /** Like `runc spec --rootless`. */
  rootless?: boolean;
  /**
   * Add a cgroup namespace. runc adds one exactly when the host is on cgroup v2,
   * so that is the default; tests pass it explicitly to get a result that does
   * not depend on the host.
   */
  cgroupNamespace?: boolean;
  /** Host ids to map to root for rootless; default the current euid/egid as runc does. */
  hostUid?: number;
  hostGid?: number;
}

export function defaultSpec(opts: DefaultSpecOptions = {}): Config {
  // runc's example sets no ambient or inheritable set: ambient caps would
  // survive exec of a non-root user's binaries, which the default should not grant.
  const caps = () => ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  const namespaces: Namespace[] = [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  if (opts.cgroupNamespace ?? isCgroup2UnifiedMode()) namespaces.push({ type: 'cgroup' });

  const spec: Config = {
    ociVersion: SPEC_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: caps(), effective: caps(), permitted: caps() },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'tsrunc',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      maskedPaths: [
        '/proc/acpi',
        '/proc/asound',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/sys/firmware',
        '/proc/scsi',
        '/sys/devices/virtual/tpm',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces,
    },
  };
  if (opts.rootless) toRootless(spec, opts.hostUid ?? process.geteuid!(), opts.hostGid ?? process.getegid!());
  return spec;
}

/** runc's ToRootless: what an unprivileged user can actually set up. */
function toRootless(spec: Config, uid: number, gid: number): void {
  const linux = spec.linux!;
  // Creating a network namespace needs CAP_NET_ADMIN over the host's, which a
  // rootless user lacks; a new user namespace is what makes the rest possible.
  linux.namespaces = [...linux.namespaces!.filter((n) => n.type !== 'network' && n.type !== 'user'), { type: 'user' }];
  linux.uidMappings = [{ containerID: 0, hostID: uid, size: 1 }];
  linux.gidMappings = [{ containerID: 0, hostID: gid, size: 1 }];
  spec.mounts = spec.mounts!.map((m): Mount => {
    // A fresh sysfs can only be mounted by an owner of the network namespace;
    // without one, bind the host's read-only.
    if (m.destination.replace(/\/+$/, '') === '/sys') {
      return { source: '/sys', destination: '/sys', type: 'none', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] };
    }
    // Only one id is mapped, so uid=/gid= options (devpts gid=5) would name unmapped ids.
    if (!m.options) return m;
    return { ...m, options: m.options.filter((o) => !o.startsWith('gid=') && !o.startsWith('uid=')) };
  });
  // Unprivileged users cannot write cgroup settings (without delegation).
  delete linux.resources;
}
