// features: the runtime-spec features document (features.md), from the same
// tables the code uses, so it says only what tsrunc really does.
import { CAPABILITY_NAMES } from '../../container/capabilities.ts';
import { MOUNT_OPTIONS } from '../../container/mounts.ts';
import { seccompFeatures } from '../../container/seccomp.ts';
import { out } from '../../util/output.ts';
import { HELP, type Command } from '../command.ts';

const command: Command = {
  args: 'none',
  flags: [HELP],
  run() {
    const doc = {
      ociVersionMin: '1.0.0',
      ociVersionMax: '1.2.0',
      hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
      mountOptions: MOUNT_OPTIONS,
      linux: {
        namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'],
        capabilities: CAPABILITY_NAMES.map((c) => 'CAP_' + c),
        // systemd: --systemd-cgroup (cgroup v2 only). systemdUser: a rootless caller's scope
        // comes from its user manager over the session bus (test/systemd-rootless.test.ts).
        cgroup: { v1: true, v2: true, systemd: true, systemdUser: true, rdma: false },
        seccomp: seccompFeatures(),
        // features-linux.md: whether the runtime supports each, whatever the host has.
        // apparmorProfile is applied (by tsrunc-init, at the user's exec). SELinux only in
        // part: process.selinuxLabel is applied the same way, but linux.mountLabel is
        // refused (README), and engines on an SELinux host always set both.
        apparmor: { enabled: true },
        selinux: { enabled: false },
        intelRdt: { enabled: false },
        // Mounts' uidMappings and gidMappings (and the idmap/ridmap options): idmapped mounts.
        mountExtensions: { idmap: { enabled: true } },
      },
      annotations: { 'org.opencontainers.tsrunc.version': process.env.npm_package_version ?? '0.1.0' },
    };
    out(JSON.stringify(doc, null, 2) + '\n');
    return 0;
  },
};
export default command;
