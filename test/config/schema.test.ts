import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultSpec, SPEC_VERSION } from '../../src/config/default.ts';
import { ConfigError, formatPath, loadConfig, parseConfig, parseProcess } from '../../src/config/load.ts';
import { configSchema, type Config, type NamespaceType, type Process, type RlimitType } from '../../src/config/schema.ts';
import { badConfigs } from './bad-configs.ts';

/** A deep copy, as a config read from disk would be. */
const fresh = (opts: Parameters<typeof defaultSpec>[0] = {}): any => JSON.parse(JSON.stringify(defaultSpec(opts)));

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

const variants = [
  { rootless: false, cgroupNamespace: false },
  { rootless: false, cgroupNamespace: true },
  { rootless: true, cgroupNamespace: false },
  { rootless: true, cgroupNamespace: true },
];

describe('defaultSpec', () => {
  it.each(variants)('validates (%o)', (opts) => {
    const spec = fresh(opts);
    expect(parseConfig(spec)).toEqual(spec);
  });

  it('validates with host detection', () => {
    expect(() => parseConfig(fresh())).not.toThrow();
    expect(() => parseConfig(fresh({ rootless: true }))).not.toThrow();
  });

  it('mirrors runc spec', () => {
    const s = fresh({ cgroupNamespace: false });
    expect(s.ociVersion).toBe(SPEC_VERSION);
    expect(SPEC_VERSION).toBe('1.2.0');
    expect(s.hostname).toBe('tsrunc');
    expect(s.root).toEqual({ path: 'rootfs', readonly: true });
    expect(s.process.args).toEqual(['sh']);
    expect(s.process.terminal).toBe(true);
    expect(s.process.noNewPrivileges).toBe(true);
    expect(s.process.rlimits).toEqual([{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }]);
    expect(Object.keys(s.process.capabilities).sort()).toEqual(['bounding', 'effective', 'permitted']);
    expect(s.linux.namespaces.map((n: any) => n.type)).toEqual(['pid', 'network', 'ipc', 'uts', 'mount']);
    expect(fresh({ cgroupNamespace: true }).linux.namespaces.at(-1)).toEqual({ type: 'cgroup' });
    expect(s.linux.resources).toEqual({ devices: [{ allow: false, access: 'rwm' }] });
    expect(s.mounts.map((m: any) => m.destination)).toEqual([
      '/proc',
      '/dev',
      '/dev/pts',
      '/dev/shm',
      '/dev/mqueue',
      '/sys',
      '/sys/fs/cgroup',
    ]);
  });

  it('rootless mirrors runc spec --rootless', () => {
    const s = fresh({ rootless: true, cgroupNamespace: true, hostUid: 1234, hostGid: 5678 });
    const types = s.linux.namespaces.map((n: any) => n.type);
    expect(types).not.toContain('network');
    expect(types.at(-1)).toBe('user');
    expect(types.filter((t: string) => t === 'user')).toHaveLength(1);
    expect(s.linux.uidMappings).toEqual([{ containerID: 0, hostID: 1234, size: 1 }]);
    expect(s.linux.gidMappings).toEqual([{ containerID: 0, hostID: 5678, size: 1 }]);
    expect(s.linux.resources).toBeUndefined();
    const sys = s.mounts.find((m: any) => m.destination === '/sys');
    expect(sys).toEqual({ source: '/sys', destination: '/sys', type: 'none', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
    const pts = s.mounts.find((m: any) => m.destination === '/dev/pts');
    expect(pts.options).not.toContain('gid=5');
    expect(pts.options).toContain('newinstance');
  });

  it('rootless defaults to the current euid/egid', () => {
    const s = fresh({ rootless: true });
    expect(s.linux.uidMappings[0].hostID).toBe(process.geteuid!());
    expect(s.linux.gidMappings[0].hostID).toBe(process.getegid!());
  });
});

describe('inferred types', () => {
  it('give typed access to the parsed config', () => {
    const c = parseConfig(fresh());
    // Compile-time checks (tsc covers test/): these assignments must type-check.
    const ns: NamespaceType | undefined = c.linux?.namespaces?.[0]?.type;
    const args: string[] = c.process.args;
    const rl: RlimitType | undefined = c.process.rlimits?.[0]?.type;
    const asConfig: Config = c;
    const p: Process = c.process;
    expect([ns, args[0], rl, asConfig.root.path, p.cwd]).toEqual(['pid', 'sh', 'RLIMIT_NOFILE', 'rootfs', '/']);
  });
});

describe('unknown fields are kept', () => {
  it('at the top level and nested', () => {
    const c = fresh();
    c['org.example.ext'] = { a: [1, 2] };
    c.process.futureField = 'x';
    c.process.user.sid = 'S-1';
    c.mounts[0].x = true;
    c.linux.namespaces[0].extra = 1;
    c.linux.resources.devices[0].note = 'n';
    c.linux.resources.misc = { 'misc.max': 'foo 1' };
    c.linux.vendor = { knob: 1 };
    c.hooks = { prestart: [{ path: '/bin/true', tag: 't' }], onFire: [{ path: 'anything' }] };
    const out: any = parseConfig(c);
    expect(out['org.example.ext']).toEqual({ a: [1, 2] });
    expect(out.process.futureField).toBe('x');
    expect(out.process.user.sid).toBe('S-1');
    expect(out.mounts[0].x).toBe(true);
    expect(out.linux.namespaces[0].extra).toBe(1);
    expect(out.linux.resources.devices[0].note).toBe('n');
    expect(out.linux.resources.misc).toEqual({ 'misc.max': 'foo 1' });
    expect(out.linux.vendor).toEqual({ knob: 1 });
    expect(out.hooks.prestart[0].tag).toBe('t');
    expect(out.hooks.onFire).toEqual([{ path: 'anything' }]);
    expect(out).toEqual(c);
  });
});

describe('a config using every section', () => {
  it('validates', () => {
    const c = fresh({ cgroupNamespace: true });
    Object.assign(c, {
      domainname: 'example.test',
      annotations: { 'org.opencontainers.image.os': 'linux', 'com.example.empty': '' },
      hooks: {
        prestart: [{ path: '/usr/bin/fix-mounts', args: ['fix-mounts', 'a'], env: ['K=v'] }],
        createRuntime: [{ path: '/usr/bin/setup-network' }],
        createContainer: [{ path: '/usr/bin/mount-hook' }],
        startContainer: [{ path: '/usr/bin/refresh-ldcache' }],
        poststart: [{ path: '/usr/bin/notify-start', timeout: 5 }],
        poststop: [{ path: '/usr/sbin/cleanup.sh', args: ['cleanup.sh', '-f'] }],
      },
    });
    c.mounts.push({ destination: 'data', type: 'none', source: '/vol', options: ['rbind', 'idmap'] });
    c.mounts.push({
      destination: '/idmapped',
      source: '/src',
      options: ['bind'],
      uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
    });
    Object.assign(c.process, {
      consoleSize: { height: 25, width: 80 },
      user: { uid: 1, gid: 1, umask: 18, additionalGids: [5, 6] },
      commandLine: 'sh',
      apparmorProfile: 'acme',
      selinuxLabel: 'system_u:system_r:svirt_lxc_net_t:s0:c124,c675',
      oomScoreAdj: -999,
      scheduler: { policy: 'SCHED_DEADLINE', flags: ['SCHED_FLAG_RECLAIM'], runtime: 1, deadline: 2, period: 3 },
      ioPriority: { class: 'IOPRIO_CLASS_IDLE', priority: 4 },
      execCPUAffinity: { initial: '7', final: '0-3,7' },
      rlimits: [
        { type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 },
        // RLIM_INFINITY as engines write it.
        { type: 'RLIMIT_CORE', soft: 18446744073709551615, hard: 18446744073709551615 },
      ],
    });
    c.process.capabilities.ambient = ['CAP_NET_BIND_SERVICE'];
    c.process.capabilities.inheritable = ['CAP_KILL'];
    c.linux.namespaces.push({ type: 'user' }, { type: 'time' });
    c.linux.namespaces[1].path = '/var/run/netns/neta';
    Object.assign(c.linux, {
      uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      timeOffsets: { monotonic: { secs: 172800, nanosecs: 0 }, boottime: { secs: -5 } },
      devices: [
        { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 438, uid: 0, gid: 0 },
        { path: '/dev/fifo', type: 'p' },
      ],
      netDevices: { eth0: { name: 'ceth0' }, eth1: {} },
      cgroupsPath: 'system.slice:tsrunc:abc',
      sysctl: { 'net.ipv4.ip_forward': '1' },
      rootfsPropagation: 'rslave',
      mountLabel: 'system_u:object_r:svirt_sandbox_file_t:s0:c715,c811',
      personality: { domain: 'LINUX32', flags: [] },
      memoryPolicy: { mode: 'MPOL_INTERLEAVE', nodes: '2-3', flags: ['MPOL_F_STATIC_NODES'] },
      intelRdt: { closID: 'guaranteed_group', schemata: ['L3:0=7f0;1=1f', 'MB:0=20;1=70'], memBwSchema: 'MB:0=20', enableMonitoring: true },
      seccomp: {
        defaultAction: 'SCMP_ACT_ERRNO',
        defaultErrnoRet: 1,
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64'],
        flags: ['SECCOMP_FILTER_FLAG_LOG'],
        listenerPath: '/run/agent.sock',
        listenerMetadata: 'meta',
        syscalls: [
          { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
          { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, valueTwo: 0, op: 'SCMP_CMP_EQ' }] },
          { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
        ],
      },
    });
    c.linux.resources = {
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
      ],
      memory: { limit: 536870912, reservation: 536870912, swap: -1, kernel: -1, kernelTCP: -1, swappiness: 0, disableOOMKiller: false },
      cpu: { shares: 1024, quota: 1000000, burst: 1000, period: 500000, realtimeRuntime: 950000, realtimePeriod: 1000000, cpus: '2-3', mems: '0-7', idle: 1 },
      blockIO: {
        weight: 10,
        leafWeight: 10,
        weightDevice: [{ major: 8, minor: 0, weight: 500, leafWeight: 300 }, { major: 8, minor: 16, leafWeight: 500 }],
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 600 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 300 }],
      },
      hugepageLimits: [{ pageSize: '2MB', limit: 9223372036854772000 }],
      network: { classID: 1048577, priorities: [{ name: 'eth0', priority: 500 }] },
      pids: { limit: -1 },
      rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 }, rxe3: { hcaObjects: 1 } },
      unified: { 'io.max': '259:0 rbps=2097152', 'memory.high': 'max' },
    };
    expect(parseConfig(c)).toEqual(c);
    expect(configSchema.safeParse(c).success).toBe(true);
  });
});

describe('bad configs', () => {
  it('has at least 12 cases with unique names', () => {
    expect(badConfigs.length).toBeGreaterThanOrEqual(12);
    expect(new Set(badConfigs.map((b) => b.name)).size).toBe(badConfigs.length);
  });

  for (const variant of variants) {
    describe(`on defaultSpec(${JSON.stringify(variant)})`, () => {
      it.each(badConfigs)('$name', ({ mutate, message }) => {
        const c = fresh(variant);
        mutate(c);
        const err = errorOf(() => parseConfig(c));
        if (typeof message === 'string') expect(err.message).toBe(message);
        else expect(err.message).toMatch(message);
        expect(err.message).toBe(`${err.path}: ${err.reason}`);
      });
    });
  }
});

describe('error format', () => {
  it('formats paths', () => {
    expect(formatPath(['linux', 'namespaces', 1, 'type'])).toBe('linux.namespaces[1].type');
    expect(formatPath(['mounts', 2, 'destination'])).toBe('mounts[2].destination');
    expect(formatPath(['annotations', 'com.example.key'])).toBe('annotations["com.example.key"]');
    expect(formatPath([])).toBe('');
  });

  it('names the document when it is not an object', () => {
    expect(errorOf(() => parseConfig([])).message).toBe('config: must be an object');
    expect(errorOf(() => parseConfig(null)).message).toBe('config: must be an object');
  });

  it('reports the first problem only', () => {
    const c = fresh();
    c.process.cwd = 'rel';
    c.root.path = 1;
    const err = errorOf(() => parseConfig(c));
    expect(err.message.split('\n')).toHaveLength(1);
  });
});

describe('parseProcess (exec --process)', () => {
  it('accepts the process of the default spec', () => {
    const p = fresh().process;
    expect(parseProcess(p)).toEqual(p);
  });
  it('reports paths under process.', () => {
    const p = fresh().process;
    p.args = [];
    expect(errorOf(() => parseProcess(p)).message).toBe('process.args: must be a non-empty array of strings');
    expect(errorOf(() => parseProcess('sh')).message).toBe('process: must be an object');
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrunc-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads <bundle>/config.json', () => {
    const spec = fresh();
    writeFileSync(join(dir, 'config.json'), JSON.stringify(spec));
    expect(loadConfig(dir)).toEqual(spec);
  });

  it('reports a missing file', () => {
    const empty = mkdtempSync(join(dir, 'empty-'));
    const err = errorOf(() => loadConfig(empty));
    expect(err.message).toBe(`config.json: no such file in bundle ${empty}`);
    expect(err.path).toBe('config.json');
  });

  it('reports invalid JSON', () => {
    const bad = mkdtempSync(join(dir, 'bad-'));
    writeFileSync(join(bad, 'config.json'), '{]');
    expect(errorOf(() => loadConfig(bad)).message).toMatch(/^config\.json: invalid JSON: .+/);
  });

  it('reports schema errors from the file', () => {
    const b = mkdtempSync(join(dir, 'schema-'));
    const spec = fresh();
    spec.process.args = [];
    writeFileSync(join(b, 'config.json'), JSON.stringify(spec));
    expect(errorOf(() => loadConfig(b)).message).toBe('process.args: must be a non-empty array of strings');
  });
});
