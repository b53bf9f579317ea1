// Invalid configs and the exact error each must produce.
//
// Each `mutate` receives a fresh `defaultSpec()` (rootless or not, with or
// without a cgroup namespace: the mutations and messages do not depend on
// that) and breaks it in place. Shared by the schema unit tests and the CLI
// test that writes each one to a bundle and checks `tsrunc create` refuses it.

export interface BadConfig {
  name: string;
  mutate: (c: any) => void;
  message: string | RegExp;
}

const NS_TYPES = 'pid, network, mount, ipc, uts, user, cgroup, time';
const RLIMITS =
  'RLIMIT_AS, RLIMIT_CORE, RLIMIT_CPU, RLIMIT_DATA, RLIMIT_FSIZE, RLIMIT_LOCKS, RLIMIT_MEMLOCK, RLIMIT_MSGQUEUE, ' +
  'RLIMIT_NICE, RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_RSS, RLIMIT_RTPRIO, RLIMIT_RTTIME, RLIMIT_SIGPENDING, RLIMIT_STACK';
const SECCOMP_ACTIONS =
  'SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, ' +
  'SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_NOTIFY';

export const badConfigs: BadConfig[] = [
  {
    name: 'process.args empty',
    mutate: (c) => {
      c.process.args = [];
    },
    message: 'process.args: must be a non-empty array of strings',
  },
  {
    name: 'process.args not strings',
    mutate: (c) => {
      c.process.args = ['sh', 1];
    },
    message: 'process.args: must be a non-empty array of strings',
  },
  {
    name: 'process.args missing',
    mutate: (c) => {
      delete c.process.args;
    },
    message: 'process.args: required',
  },
  {
    name: 'process missing',
    mutate: (c) => {
      delete c.process;
    },
    message: 'process: required',
  },
  {
    name: 'root.path missing',
    mutate: (c) => {
      delete c.root.path;
    },
    message: 'root.path: required',
  },
  {
    name: 'root missing',
    mutate: (c) => {
      delete c.root;
    },
    message: 'root: required',
  },
  {
    name: 'ociVersion missing',
    mutate: (c) => {
      delete c.ociVersion;
    },
    message: 'ociVersion: required',
  },
  {
    name: 'ociVersion not semver',
    mutate: (c) => {
      c.ociVersion = '1.0';
    },
    message: 'ociVersion: must be a SemVer 2.0.0 version such as 1.2.0',
  },
  {
    name: 'unknown namespace type',
    mutate: (c) => {
      c.linux.namespaces[1].type = 'net';
    },
    message: `linux.namespaces[1].type: must be one of ${NS_TYPES}`,
  },
  {
    name: 'duplicate namespace',
    mutate: (c) => {
      c.linux.namespaces.push({ type: 'pid' });
    },
    // The index depends on whether the default has a cgroup namespace (cgroup v2 host).
    message: /^linux\.namespaces\[\d+\]\.type: duplicate namespace type pid$/,
  },
  {
    name: 'relative namespace path',
    mutate: (c) => {
      c.linux.namespaces[0].path = 'proc/1/ns/pid';
    },
    message: 'linux.namespaces[0].path: must be an absolute path',
  },
  {
    name: 'uid mappings without a user namespace',
    mutate: (c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'user');
      c.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
    },
    message: 'linux.uidMappings: requires a user namespace in linux.namespaces',
  },
  {
    name: 'hostname without a uts namespace',
    mutate: (c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'uts');
    },
    message: 'hostname: requires a uts namespace in linux.namespaces',
  },
  {
    name: 'relative cwd',
    mutate: (c) => {
      c.process.cwd = 'home';
    },
    message: 'process.cwd: must be an absolute path',
  },
  {
    name: 'negative uid',
    mutate: (c) => {
      c.process.user.uid = -1;
    },
    message: 'process.user.uid: must be an integer between 0 and 4294967295',
  },
  {
    name: 'fractional uid',
    mutate: (c) => {
      c.process.user.uid = 1.5;
    },
    message: 'process.user.uid: must be an integer',
  },
  {
    name: 'uid as a string',
    mutate: (c) => {
      c.process.user.uid = '0';
    },
    message: 'process.user.uid: must be an integer',
  },
  {
    name: 'gid missing',
    mutate: (c) => {
      delete c.process.user.gid;
    },
    message: 'process.user.gid: required',
  },
  {
    name: 'unknown rlimit type',
    mutate: (c) => {
      c.process.rlimits[0].type = 'RLIMIT_FILES';
    },
    message: `process.rlimits[0].type: must be one of ${RLIMITS}`,
  },
  {
    name: 'duplicate rlimit',
    mutate: (c) => {
      c.process.rlimits.push({ type: 'RLIMIT_NOFILE', soft: 10, hard: 10 });
    },
    message: 'process.rlimits[1].type: duplicate rlimit RLIMIT_NOFILE',
  },
  {
    name: 'unknown seccomp action',
    mutate: (c) => {
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_DENY' }] };
    },
    message: `linux.seccomp.syscalls[0].action: must be one of ${SECCOMP_ACTIONS}`,
  },
  {
    name: 'seccomp without defaultAction',
    mutate: (c) => {
      c.linux.seccomp = { syscalls: [] };
    },
    message: 'linux.seccomp.defaultAction: required',
  },
  {
    name: 'env is a string',
    mutate: (c) => {
      c.process.env = 'PATH=/bin';
    },
    message: 'process.env: must be an array of strings',
  },
  {
    name: 'env entry without =',
    mutate: (c) => {
      c.process.env.push('JUSTANAME');
    },
    message: 'process.env[2]: must be in the form KEY=value',
  },
  {
    name: 'mount destination missing',
    mutate: (c) => {
      delete c.mounts[2].destination;
    },
    message: 'mounts[2].destination: required',
  },
  {
    name: 'mount options not an array',
    mutate: (c) => {
      c.mounts[1].options = 'nosuid,strictatime';
    },
    message: 'mounts[1].options: must be an array of strings',
  },
  {
    name: 'relative hook path',
    mutate: (c) => {
      c.hooks = { prestart: [{ path: 'usr/bin/true' }] };
    },
    message: 'hooks.prestart[0].path: must be an absolute path',
  },
  {
    name: 'zero hook timeout',
    mutate: (c) => {
      c.hooks = { poststop: [{ path: '/bin/true' }, { path: '/bin/true', timeout: 0 }] };
    },
    message: 'hooks.poststop[1].timeout: must be a positive integer',
  },
  {
    name: 'terminal not a boolean',
    mutate: (c) => {
      c.process.terminal = 'yes';
    },
    message: 'process.terminal: must be a boolean',
  },
  {
    name: 'annotation value not a string',
    mutate: (c) => {
      c.annotations = { 'com.example.count': 2 };
    },
    message: 'annotations["com.example.count"]: must be a string',
  },
  {
    name: 'bad rootfsPropagation',
    mutate: (c) => {
      c.linux.rootfsPropagation = 'recursive';
    },
    message: 'linux.rootfsPropagation: must be one of private, shared, slave, unbindable, rprivate, rshared, rslave, runbindable',
  },
  {
    name: 'relative masked path',
    mutate: (c) => {
      c.linux.maskedPaths.push('proc/kcore');
    },
    message: /^linux\.maskedPaths\[\d+\]: must be an absolute path$/,
  },
  {
    name: 'capability not a string',
    mutate: (c) => {
      c.process.capabilities.bounding[0] = 5;
    },
    message: 'process.capabilities.bounding[0]: must be a string',
  },
  {
    name: 'linux not an object',
    mutate: (c) => {
      c.linux = [];
    },
    message: 'linux: must be an object',
  },
];
