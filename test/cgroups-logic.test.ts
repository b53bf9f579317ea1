// The cgroup code's logic without containers: paths, the device emulator and
// the eBPF device filter, the writes each manager makes for a resource set
// (recorded, as runc's unit tests do), and the v2 manager for real inside a
// private subtree of this host's cgroup2 hierarchy (hybrid: no controllers
// there, but the core files: procs, freeze, kill, cgroup.* limits).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceFilter, OP } from '../src/cgroups/bpf.ts';
import { configDeviceRules, DeviceEmulator, ruleString, type DeviceRule } from '../src/cgroups/devices.ts';
import { cgroupFrozen } from '../src/cgroups/frozen.ts';
import { keyValues, toJson, u64, type CgroupIO } from '../src/cgroups/fs.ts';
import { hasLine, isDigits, words } from '../src/util/text.ts';
import { hugePageSizes } from '../src/cgroups/stats.ts';
import { cgroupLayout, type CgroupLayout, type Hierarchy } from '../src/cgroups/hierarchy.ts';
import { planCgroup } from '../src/cgroups/index.ts';
import { cleanPath, innerPath, levels, ownCgroups, v1Paths, v2Path } from '../src/cgroups/path.ts';
import { blkioToIoWeight, pidsMax, sharesToWeight, swapToV2 } from '../src/cgroups/resources.ts';
import type { CgroupRecord } from '../src/cgroups/types.ts';
import { V1Manager } from '../src/cgroups/v1.ts';
import { V2Manager } from '../src/cgroups/v2.ts';
import { v1Stats } from '../src/cgroups/v1-stats.ts';
import { v2Stats } from '../src/cgroups/v2-stats.ts';
import { isRoot } from './lib/harness.ts';

describe('cgroup paths', () => {
  it('cleans like runc: absolute stays absolute, relative cannot climb out', () => {
    expect(cleanPath('/a/b/../c/')).toBe('/a/c');
    expect(cleanPath('/../../x')).toBe('/x');
    expect(cleanPath('../../x/y')).toBe('x/y');
    expect(cleanPath('a/./b')).toBe('a/b');
    expect(cleanPath('a/..')).toBe('.');
    expect(innerPath(undefined, 'id1')).toBe('id1');
    expect(innerPath('', 'id1')).toBe('id1');
    expect(() => innerPath('/', 'x')).toThrow('the root cgroup');
    expect(() => innerPath('/a/..', 'x')).toThrow('the root cgroup');
    expect(() => innerPath('a/..', 'x')).toThrow("tsrunc's own cgroup");
  });

  const h = (mountPoint: string, controllers: string[], root = '/'): Hierarchy => ({ mountPoint, fstype: 'cgroup', options: ['rw', ...controllers], root, controllers });
  const layout: CgroupLayout = {
    unified: false,
    hierarchies: [h('/sys/fs/cgroup/cpu,cpuacct', ['cpu', 'cpuacct']), h('/sys/fs/cgroup/memory', ['memory'], '/outer'), h('/sys/fs/cgroup/systemd', ['name=systemd'])],
  };
  const own = ownCgroups('2:cpu,cpuacct:/\n4:memory:/outer/me\n1:name=systemd:/user.slice\n0::/user.slice/x.scope\n');

  it('v1: absolute from each mount point; relative from our own cgroup (less the mount root); co-mounted controllers share', () => {
    expect(v1Paths('/pods/c1', 'id', layout, own)).toEqual({
      cpu: '/sys/fs/cgroup/cpu,cpuacct/pods/c1',
      cpuacct: '/sys/fs/cgroup/cpu,cpuacct/pods/c1',
      memory: '/sys/fs/cgroup/memory/pods/c1',
      'name=systemd': '/sys/fs/cgroup/systemd/pods/c1',
    });
    expect(v1Paths(undefined, 'id', layout, own)).toEqual({
      cpu: '/sys/fs/cgroup/cpu,cpuacct/id',
      cpuacct: '/sys/fs/cgroup/cpu,cpuacct/id',
      memory: '/sys/fs/cgroup/memory/me/id',
      'name=systemd': '/sys/fs/cgroup/systemd/user.slice/id',
    });
  });

  it('v2: relative paths start at the parent of our own cgroup, as runc', () => {
    const mount: Hierarchy = { mountPoint: '/sys/fs/cgroup', fstype: 'cgroup2', options: ['rw'], root: '/', controllers: [] };
    expect(v2Path(undefined, 'id', mount, own)).toBe('/sys/fs/cgroup/user.slice/id');
    expect(v2Path('/machine/c', 'id', mount, own)).toBe('/sys/fs/cgroup/machine/c');
  });

  it("our own cgroup outside a hierarchy's mounted root is refused; one at the root itself is the mount point", () => {
    const outside = ownCgroups('4:memory:/elsewhere/me\n');
    expect(() => v1Paths(undefined, 'id', { unified: false, hierarchies: [h('/sys/fs/cgroup/memory', ['memory'], '/outer')] }, outside)).toThrow('is outside the mounted /outer');
    const prefixOnly = ownCgroups('4:memory:/outerx\n');
    expect(() => v1Paths(undefined, 'id', { unified: false, hierarchies: [h('/sys/fs/cgroup/memory', ['memory'], '/outer')] }, prefixOnly)).toThrow('outside');
    const atRoot = ownCgroups('4:memory:/outer\n');
    expect(v1Paths('a/b', 'id', { unified: false, hierarchies: [h('/sys/fs/cgroup/memory', ['memory'], '/outer')] }, atRoot)).toEqual({ memory: '/sys/fs/cgroup/memory/a/b' });
    // v2 takes the parent of our own cgroup: of "/x" that is the root.
    const mount: Hierarchy = { mountPoint: '/sys/fs/cgroup', fstype: 'cgroup2', options: ['rw'], root: '/', controllers: [] };
    expect(v2Path(undefined, 'id', mount, ownCgroups('0::/x\n'))).toBe('/sys/fs/cgroup/id');
  });

  it('levels: the directories mkdir -p would make below a mount point', () => {
    expect(levels('/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu/a/b/c')).toEqual(['/sys/fs/cgroup/cpu/a', '/sys/fs/cgroup/cpu/a/b', '/sys/fs/cgroup/cpu/a/b/c']);
    expect(levels('/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu')).toEqual([]);
    expect(levels('/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpuset/a')).toEqual([]);
  });

  it('this host: the layout is read from mountinfo, v1 hierarchies with their controllers', () => {
    const l = cgroupLayout();
    if (l.unified) expect(l.hierarchies).toHaveLength(1);
    else for (const x of l.hierarchies.filter((x) => x.fstype === 'cgroup')) expect(x.controllers.length).toBeGreaterThan(0);
  });
});

describe('resource conversions', () => {
  it('match runc', () => {
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(262144)).toBe(10000);
    expect(blkioToIoWeight(10)).toBe(1);
    expect(blkioToIoWeight(500)).toBe(4950);
    expect(blkioToIoWeight(1000)).toBe(10000);
    expect(swapToV2(0, -1)).toBe(-1);
    expect(swapToV2(300, 100)).toBe(200);
    expect(swapToV2(100, 100)).toBe(0);
    expect(swapToV2(-1, 100)).toBe(-1);
    expect(() => swapToV2(100, 0)).toThrow('without memory limit');
    expect(() => swapToV2(50, 100)).toThrow('should be >= memory limit');
    expect([pidsMax(10), pidsMax(-1), pidsMax(0)]).toEqual(['10', 'max', '1']);
  });

  it('u64 keeps big counters exact in the JSON', () => {
    expect(toJson({ a: u64('9223372036854771712'), b: u64('12'), c: u64('max') })).toBe('{"a":9223372036854771712,"b":12,"c":18446744073709551615}');
    expect(toJson([{ x: [u64('9007199254740993')] }, 'text', { y: u64('18446744073709551614') }])).toBe('[{"x":[9007199254740993]},"text",{"y":18446744073709551614}]');
    expect(toJson({ a: 1, s: 'bigint:1' })).toBe('{"a":1,"s":"bigint:1"}');
  });

  it('u64 takes what the kernel prints (a newline, leading zeros) and refuses what is not a count', () => {
    expect([u64('0'), u64('42\n'), u64(' 0012 '), u64('9007199254740991')]).toEqual([0, 42, 12, 9007199254740991]);
    expect(u64('9007199254740992')).toBe(9007199254740992n);
    for (const bad of ['', '-1', '1e3', '1.5', '0x10', '12 3', 'Infinity', 'NaN']) expect(() => u64(bad), JSON.stringify(bad)).toThrow('not a number');
  });

  it('keyValues and the field splitting: runs of spaces and tabs, a key whose value is not a number skipped', () => {
    expect({ ...keyValues('a 1\n\tb\t 2 extra\nc x\nd\n\n  e   3\nf 4x\n') }).toEqual({ a: 1, b: 2, e: 3 });
    expect(words('  UID   PID\tPPID  C ')).toEqual(['UID', 'PID', 'PPID', 'C']);
    expect(words('')).toEqual([]);
    expect([isDigits('0123'), isDigits(''), isDigits('-1'), isDigits('1 ')]).toEqual([true, false, false, false]);
    expect([hasLine('populated 1\nfrozen 1\n', 'frozen 1'), hasLine('frozen 1', 'frozen 1'), hasLine('frozen 10\n', 'frozen 1'), hasLine('xfrozen 1\n', 'frozen 1')]).toEqual([true, true, false, false]);
    expect(hugePageSizes(['hugepages-2048kB', 'hugepages-1048576kB', 'hugepages-64kB', 'hugepages-kB', 'hugepages-2048KB', 'x'])).toEqual(['2MB', '1GB', '64KB']);
  });
});

describe('device rules', () => {
  const r = (type: 'a' | 'b' | 'c', major: number, minor: number, access: string, allow: boolean): DeviceRule => ({ type, major, minor, access, allow });

  it("a config's rules come first, then runc's defaults; a linux.devices path replaces the default for it", () => {
    const rules = configDeviceRules([{ allow: false, access: 'rwm' }], [{ path: '/dev/null' }]);
    expect(ruleString(rules[0])).toBe('a *:* rwm');
    expect(rules.map(ruleString)).not.toContain('c 1:3 rwm');
    expect(rules.map(ruleString)).toEqual(expect.arrayContaining(['c *:* m', 'b *:* m', 'c 1:5 rwm', 'c 136:* rwm', 'c 5:2 rwm', 'c 10:200 rwm']));
    expect(() => configDeviceRules([{ allow: true, access: '' }])).toThrow('device access at 0 field cannot be empty');
  });

  it('the emulator reads devices.list and finds the fewest rules to write', () => {
    const target = DeviceEmulator.build(configDeviceRules([{ allow: false, access: 'rwm' }]));
    // A new cgroup is allow-all: reset to deny-all, then each allow.
    const fromNew = DeviceEmulator.fromList('a *:* rwm\n').transition(target);
    expect(ruleString(fromNew[0])).toBe('a *:* rwm');
    expect(fromNew[0].allow).toBe(false);
    expect(fromNew.slice(1).every((x) => x.allow)).toBe(true);
    // The same rules again (update): nothing at all.
    const list = target.cleanRules().filter((x) => x.type !== 'a').map(ruleString).join('\n');
    expect(DeviceEmulator.fromList(list).transition(target)).toEqual([]);
    // One permission less: only that is denied.
    const less = DeviceEmulator.build([...configDeviceRules([{ allow: false, access: 'rwm' }]), r('c', 1, 5, 'w', false)]);
    expect(DeviceEmulator.fromList(list).transition(less).map((x) => [ruleString(x), x.allow])).toEqual([['c 1:5 w', false]]);
  });

  it('refuses to punch a hole in a wildcard rule, as runc', () => {
    expect(() => DeviceEmulator.build([r('c', 136, -1, 'rwm', true), r('c', 136, 3, 'r', false)])).toThrow('cannot punch hole');
  });

  /** A tiny eBPF interpreter for the opcodes the filter uses. */
  function runFilter(prog: Buffer, type: number, access: number, major: number, minor: number): number {
    const ctx = [(access << 16) | type, major, minor];
    const reg = new Array<number>(11).fill(0);
    for (let pc = 0; ; pc++) {
      const code = prog.readUInt8(pc * 8);
      const regs = prog.readUInt8(pc * 8 + 1);
      const dst = regs & 0xf;
      const src = regs >> 4;
      const off = prog.readInt16LE(pc * 8 + 2);
      const imm = prog.readInt32LE(pc * 8 + 4);
      switch (code) {
        case OP.LDXW:
          reg[dst] = ctx[off / 4] >>> 0;
          break;
        case OP.AND32_IMM:
          reg[dst] = (reg[dst] & imm) >>> 0;
          break;
        case OP.RSH32_IMM:
          reg[dst] = reg[dst] >>> imm;
          break;
        case OP.MOV32_IMM:
          reg[dst] = imm >>> 0;
          break;
        case OP.MOV32_REG:
          reg[dst] = reg[src] >>> 0;
          break;
        case OP.JNE_IMM:
          if (reg[dst] !== imm) pc += off;
          break;
        case OP.JNE_REG:
          if (reg[dst] !== reg[src]) pc += off;
          break;
        case OP.EXIT:
          return reg[0];
        default:
          throw new Error(`opcode ${code.toString(16)} at ${pc}`);
      }
    }
  }

  it('the eBPF filter for no rules is runc\'s: load the context, deny', () => {
    const p = deviceFilter([]);
    const ops = [];
    for (let i = 0; i < p.length; i += 8) ops.push([p[i], p[i + 1], p.readInt16LE(i + 2), p.readInt32LE(i + 4)]);
    expect(ops).toEqual([
      [OP.LDXW, 0x12, 0, 0],
      [OP.AND32_IMM, 0x02, 0, 0xffff],
      [OP.LDXW, 0x13, 0, 0],
      [OP.RSH32_IMM, 0x03, 0, 16],
      [OP.LDXW, 0x14, 4, 0],
      [OP.LDXW, 0x15, 8, 0],
      [OP.MOV32_IMM, 0x00, 0, 0],
      [OP.EXIT, 0, 0, 0],
    ]);
  });

  it('the eBPF filter decides every access as the emulated v1 cgroup would', () => {
    const sets: DeviceRule[][] = [
      configDeviceRules([{ allow: false, access: 'rwm' }, { allow: true, type: 'b', major: 8, minor: 0, access: 'r' }]),
      [r('a', -1, -1, 'rwm', true), r('c', 1, 3, 'w', false), r('b', -1, -1, 'm', false)],
      [r('c', 4, -1, 'rw', true), r('c', -1, 7, 'm', true)],
    ];
    const CHAR = 2;
    const BLOCK = 1;
    for (const rules of sets) {
      const emu = DeviceEmulator.build(rules);
      const prog = deviceFilter(rules);
      for (const [type, t] of [[CHAR, 'c'], [BLOCK, 'b']] as const)
        for (const major of [1, 4, 5, 8, 136])
          for (const minor of [0, 3, 5, 7])
            for (const [bit, a] of [[2, 'r'], [4, 'w'], [1, 'm'], [6, 'rw']] as const) {
              // The emulator's verdict: an exception (exact or wildcard) holding every bit flips the default.
              // (in the emulator's own bits: r 1, w 2, m 4)
              const bits = (s: string) => (s.includes('r') ? 1 : 0) | (s.includes('w') ? 2 : 0) | (s.includes('m') ? 4 : 0);
              const matched = [...emu.rules].some(([k, v]) => {
                const [kt, kM, km] = k.split(' ');
                return kt === t && (Number(kM) === -1 || Number(kM) === major) && (Number(km) === -1 || Number(km) === minor) && (bits(a) & ~v) === 0;
              });
              const expected = matched ? !emu.defaultAllow : emu.defaultAllow;
              expect(runFilter(prog, type, bit, major, minor), `${t} ${major}:${minor} ${a}`).toBe(expected ? 1 : 0);
            }
    }
  });
});

/** Records writes; reads return what was written or what the test put there. */
function recorder(initial: Record<string, string> = {}) {
  const files = new Map(Object.entries(initial));
  const writes: Array<[string, string]> = [];
  const io: CgroupIO = {
    read: (p) => {
      if (!files.has(p)) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
      return files.get(p)!;
    },
    readIfExists: (p) => files.get(p),
    chown: () => {},
    write: (p, v) => {
      if (!files.has(p)) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
      writes.push([p.split('/').pop()!, v]);
      files.set(p, v);
    },
    exists: (p) => files.has(p) || [...files.keys()].some((k) => k.startsWith(p + '/')),
    mkdir: () => {},
    rmdir: () => {},
    subdirs: () => [],
  };
  return { io, writes };
}

describe('what the managers read: stats from the kernel files, as the kernel prints them', () => {
  it('v1: cpuacct (per-cpu lists with their trailing space, usage_all\'s header), cpu.stat, cpuset lists, memory.stat, blkio lines with and without an operation', () => {
    const files: Record<string, string> = {
      '/a/c/cpuacct.usage': '6186989\n',
      '/a/c/cpuacct.usage_percpu': '3924686 2262303 \n',
      '/a/c/cpuacct.usage_all': 'cpu user system\n0 100 3956916\n1 200 0\n',
      '/a/c/cpuacct.stat': 'user 12\nsystem 34\n',
      '/a/c/cpu.stat': 'nr_periods 5\nnr_throttled 1\nthrottled_time 999\n',
      '/s/c/cpuset.cpus': '0-2,5\n',
      '/s/c/cpuset.mems': '0\n',
      '/m/c/memory.stat': 'cache 4096\nrss 8192\nhierarchical_memory_limit 9223372036854771712\n',
      '/m/c/memory.usage_in_bytes': '12288\n',
      '/m/c/memory.limit_in_bytes': '9223372036854771712\n',
      '/m/c/memory.max_usage_in_bytes': '20000\n',
      '/m/c/memory.failcnt': '0\n',
      // CFQ's files (the group whose first file is there counts: runc's preference)
      '/b/c/blkio.sectors_recursive': '8:0 64\n',
      '/b/c/blkio.io_serviced_recursive': '8:0 Read 30\n8:0 Write 2\n8:0 Total 32\nTotal 32\n',
      '/b/c/blkio.io_service_bytes_recursive': '8:16 Read 4096\nTotal 4096\n',
    };
    const { io } = recorder(files);
    const s = v1Stats({ version: 1, paths: { cpuacct: '/a/c', cpu: '/a/c', cpuset: '/s/c', memory: '/m/c', blkio: '/b/c' }, owned: [] }, io);
    expect(s.cpu.usage).toEqual({ total: 6186989, percpu: [3924686, 2262303], percpu_user: [100, 200], percpu_kernel: [3956916, 0], user: 120000000, kernel: 340000000 });
    expect(s.cpu.throttling).toEqual({ periods: 5, throttledPeriods: 1, throttledTime: 999 });
    expect(s.cpuset?.cpus).toEqual([0, 1, 2, 5]);
    expect(s.cpuset?.mems).toEqual([0]);
    expect({ ...s.memory.raw }).toEqual({ cache: 4096, rss: 8192, hierarchical_memory_limit: 9223372036854771712n });
    expect(s.memory.usage).toEqual({ limit: 9223372036854771712n, usage: 12288, max: 20000, failcnt: 0 });
    const dev = (major: number, minor: number, op: string | undefined, value: number) => ({ major, minor: minor || undefined, op, value });
    expect(s.blkio.ioServicedRecursive).toEqual([dev(8, 0, 'Read', 30), dev(8, 0, 'Write', 2), dev(8, 0, 'Total', 32)]);
    expect(s.blkio.ioServiceBytesRecursive).toEqual([dev(8, 16, 'Read', 4096)]);
    expect(s.blkio.sectorsRecursive).toEqual([dev(8, 0, undefined, 64)]);
    expect(toJson({ limit: s.memory.usage?.limit })).toBe('{"limit":9223372036854771712}');
  });

  it('v2: cpu.stat in microseconds, memory.stat, io.stat (only the fields runc maps), pids', () => {
    const d = '/cg/c';
    const { io } = recorder({
      [`${d}/cpu.stat`]: 'usage_usec 150\nuser_usec 100\nsystem_usec 50\nnr_periods 3\nnr_throttled 1\nthrottled_usec 7\n',
      [`${d}/memory.stat`]: 'anon 8192\nfile 4096\n',
      [`${d}/memory.current`]: '12288\n',
      [`${d}/memory.max`]: 'max\n',
      [`${d}/io.stat`]: '8:0 rbytes=4096 wbytes=512 rios=3 wios=1 dbytes=0 dios=0\n254:16 rbytes=1 wbytes=0 rios=1 wios=0\n',
      [`${d}/pids.current`]: '2\n',
      [`${d}/pids.max`]: '100\n',
    });
    const s = v2Stats(d, io);
    expect(s.cpu.usage).toEqual({ total: 150000, user: 100000, kernel: 50000 });
    expect(s.cpu.throttling).toEqual({ periods: 3, throttledPeriods: 1, throttledTime: 7000 });
    expect({ ...s.memory.raw }).toEqual({ anon: 8192, file: 4096 });
    expect(s.memory.cache).toBe(4096);
    expect(s.memory.usage).toEqual({ limit: 18446744073709551615n, usage: 12288, max: undefined, failcnt: 0 });
    const dev = (major: number, minor: number, op: string, value: number) => ({ major, minor: minor || undefined, op, value: value || undefined });
    expect(s.blkio.ioServiceBytesRecursive).toEqual([dev(8, 0, 'Read', 4096), dev(8, 0, 'Write', 512), dev(254, 16, 'Read', 1), dev(254, 16, 'Write', 0)]);
    expect(s.blkio.ioServicedRecursive).toEqual([dev(8, 0, 'Read', 3), dev(8, 0, 'Write', 1), dev(254, 16, 'Read', 1), dev(254, 16, 'Write', 0)]);
    expect(s.pids).toEqual({ current: 2, limit: 100 });
  });
});

describe('what the managers write', () => {
  it('v2: runc\'s files and conversions', () => {
    const d = '/cg/c';
    const files = ['pids.max', 'memory.max', 'memory.low', 'memory.swap.max', 'io.weight', 'io.max', 'cpu.weight', 'cpu.max', 'cpu.idle', 'cpuset.cpus', 'cpuset.mems', 'hugetlb.2MB.max', 'memory.oom.group'];
    const { io, writes } = recorder(Object.fromEntries([...files.map((f) => [`${d}/${f}`, '']), [`${d}/cgroup.controllers`, 'cpu io memory pids cpuset hugetlb']]));
    const rec: CgroupRecord = { version: 2, paths: { '': d }, mount: '/cg', owned: [d] };
    new V2Manager(rec, io).apply({
      pids: { limit: 100 },
      memory: { limit: 100, reservation: 50, swap: 300 },
      blockIO: { weight: 500, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1000 }], throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 7 }] },
      cpu: { shares: 1024, quota: 50000, idle: 0, cpus: '0-1', mems: '0' },
      hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }],
      unified: { 'memory.oom.group': '1' },
    });
    expect(writes).toEqual([
      ['pids.max', '100'],
      ['memory.swap.max', '200'],
      ['memory.max', '100'],
      ['memory.low', '50'],
      ['io.weight', '4950'], // no io.bfq.weight: the converted io.weight
      ['io.max', '8:0 rbps=1000'],
      ['io.max', '8:16 wiops=7'],
      ['cpu.weight', '39'],
      ['cpu.idle', '0'],
      ['cpu.max', '50000 100000'],
      ['cpuset.cpus', '0-1'],
      ['cpuset.mems', '0'],
      ['hugetlb.2MB.max', '4194304'],
      ['memory.oom.group', '1'],
    ]);
  });

  it('v2: a missing controller and a bad unified key are named', () => {
    const d = '/cg/c';
    const { io } = recorder({ [`${d}/cgroup.controllers`]: 'cpu', [`${d}/cpu.weight`]: '' });
    const m = new V2Manager({ version: 2, paths: { '': d }, owned: [] }, io);
    expect(() => m.apply({ pids: { limit: 5 } })).toThrow('the pids controller is not available');
    expect(() => m.apply({ unified: { 'memory.max': '1' } })).toThrow('controller "memory" not available');
    expect(() => m.apply({ unified: { '../x': '1' } })).toThrow('must be a file name');
    expect(() => m.apply({ unified: { nodot: '1' } })).toThrow('CONTROLLER.PARAMETER');
  });

  it('v1: memory+swap in the order the kernel accepts, cpu, pids, blkio (BFQ file when CFQ\'s is gone)', () => {
    const files: Record<string, string> = {};
    for (const f of ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes', 'memory.soft_limit_in_bytes', 'memory.swappiness'])
      files[`/m/c/${f}`] = f === 'memory.limit_in_bytes' ? '9223372036854771712' : '';
    for (const f of ['cpu.shares', 'cpu.cfs_period_us', 'cpu.cfs_quota_us']) files[`/cpu/c/${f}`] = '';
    files['/p/c/pids.max'] = '';
    files['/b/c/blkio.bfq.weight'] = '';
    const { io, writes } = recorder(files);
    const m = new V1Manager({ version: 1, paths: { memory: '/m/c', cpu: '/cpu/c', pids: '/p/c', blkio: '/b/c' }, owned: [] }, io);
    m.apply({ memory: { limit: 100 << 20, swap: 200 << 20, reservation: 1, swappiness: 2 ** 64 }, cpu: { shares: 300, period: 50000, quota: 25000 }, pids: { limit: -1 }, blockIO: { weight: 400 } });
    expect(writes).toEqual([
      // Lowering from unlimited: memory first, then memsw (which must stay >= it).
      ['memory.limit_in_bytes', String(100 << 20)],
      ['memory.memsw.limit_in_bytes', String(200 << 20)],
      ['memory.soft_limit_in_bytes', '1'],
      ['cpu.shares', '300'],
      ['cpu.cfs_period_us', '50000'],
      ['cpu.cfs_quota_us', '25000'],
      ['pids.max', 'max'],
      ['blkio.bfq.weight', '400'],
    ]);
    // Raising above the current limit: memsw first.
    writes.length = 0;
    m.apply({ memory: { limit: 300 << 20, swap: 400 << 20 } });
    expect(writes.map((w) => w[0])).toEqual(['memory.memsw.limit_in_bytes', 'memory.limit_in_bytes']);
  });

  it('v1: a resource without its hierarchy is refused by name', () => {
    const { io } = recorder();
    expect(() => new V1Manager({ version: 1, paths: {}, owned: [] }, io).apply({ pids: { limit: 3 } })).toThrow('cannot set pids limit');
  });

  it('planning for a v2 host: one directory, v2 refusals (realtime, bad swap)', () => {
    const config = (resources: object, cgroupsPath?: string) => ({ ociVersion: '1.2.0', root: { path: '/' }, process: { cwd: '/', args: ['x'] }, linux: { resources, cgroupsPath } }) as never;
    const mount: Hierarchy = { mountPoint: '/sys/fs/cgroup', fstype: 'cgroup2', options: ['rw'], root: '/', controllers: [] };
    const v2: CgroupLayout = { unified: true, hierarchies: [mount] };
    const rec = planCgroup(config({ devices: [{ allow: false, access: 'rwm' }], unified: { 'memory.high': '1G' } }, '/tsrunc-plan/x'), 'id', v2);
    expect(rec).toMatchObject({ version: 2, paths: { '': '/sys/fs/cgroup/tsrunc-plan/x' }, mount: '/sys/fs/cgroup', owned: ['/sys/fs/cgroup/tsrunc-plan', '/sys/fs/cgroup/tsrunc-plan/x'] });
    expect(rec.resources).toEqual({ unified: { 'memory.high': '1G' } });
    expect(() => planCgroup(config({ cpu: { realtimeRuntime: 1000 } }), 'id', v2)).toThrow('not supported on cgroup v2');
    expect(() => planCgroup(config({ memory: { limit: 200, swap: 100 } }), 'id', v2)).toThrow('memory+swap limit should be >= memory limit');
  });

  it('planning refuses what a host cannot do, before anything exists', () => {
    const l = cgroupLayout();
    if (l.unified) return;
    const config = (resources: object) => ({ ociVersion: '1.2.0', root: { path: '/' }, process: { cwd: '/', args: ['x'] }, linux: { resources } }) as never;
    expect(() => planCgroup(config({ hugepageLimits: [{ pageSize: '3MB', limit: 1 }] }), 'x')).toThrow('page size 3MB is not supported');
    const rec = planCgroup(config({ pids: { limit: 3 }, devices: [{ allow: false, access: 'rwm' }] }), 'plan-only');
    expect(rec.version).toBe(1);
    expect(rec.resources).toEqual({ pids: { limit: 3 } });
    expect(rec.owned.length).toBeGreaterThan(0);
    for (const d of rec.owned) expect(existsSync(d)).toBe(false);
  });
});

// The v2 manager on the real cgroup2 filesystem: this host's hybrid
// hierarchy has no controllers to give (they are bound to v1), so this covers
// what v2 does without them; its own subtree is the "root", so no cgroup
// made by others is written to.
const unified = isRoot ? cgroupLayout().hierarchies.find((h) => h.fstype === 'cgroup2') : undefined;
const canV2 = !!unified && existsSync(`${unified.mountPoint}/cgroup.procs`);

describe.skipIf(!canV2)('v2 manager on a private cgroup2 subtree', () => {
  const top = `${unified?.mountPoint}/tsrunc-v2test-${process.pid}`;
  let child: ChildProcess;
  beforeAll(() => {
    mkdirSync(top);
    child = spawn('sleep', ['100'], { stdio: 'ignore' });
  });
  afterAll(() => {
    child.kill('SIGKILL');
    try {
      rmdirSync(`${top}/a/c`);
    } catch {}
    try {
      rmdirSync(`${top}/a`);
    } catch {}
    rmdirSync(top);
  });

  it('creates the path, moves a process in, freezes, thaws, sets cgroup.* limits, reports, kills and removes', async () => {
    const dir = `${top}/a/c`;
    const rec: CgroupRecord = { version: 2, paths: { '': dir }, mount: top, owned: [`${top}/a`, dir] };
    const m = new V2Manager(rec);
    m.create({});
    expect(existsSync(dir)).toBe(true);
    expect(m.entry()).toEqual({ cgroupDir: dir });
    writeFileSync(`${dir}/cgroup.procs`, String(child.pid));
    expect(readFileSync(`/proc/${child.pid}/cgroup`, 'utf8')).toMatch(new RegExp(`^0::/tsrunc-v2test-${process.pid}/a/c$`, 'm'));
    expect(m.pids()).toEqual([child.pid]);

    m.freeze();
    expect(m.frozen()).toBe(true);
    expect(readFileSync(`${dir}/cgroup.events`, 'utf8')).toMatch(/^frozen 1$/m);
    expect(cgroupFrozen({ cgroup: rec })).toBe(true);
    m.thaw();
    expect(m.frozen()).toBe(false);
    expect(cgroupFrozen({ cgroup: rec })).toBe(false);

    m.apply({ unified: { 'cgroup.max.descendants': '3' } });
    expect(readFileSync(`${dir}/cgroup.max.descendants`, 'utf8').trim()).toBe('3');
    expect(() => m.apply({ pids: { limit: 10 } })).toThrow('the pids controller is not available');
    expect(() => m.apply({ unified: { 'memory.max': '1M' } })).toThrow('controller "memory" not available');

    const s = v2Stats(m.dir);
    expect(s.cpu.usage).toHaveProperty('user');
    expect(JSON.parse(toJson(s))).toHaveProperty('hugetlb');

    m.destroy();
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(`${top}/a`)).toBe(false);
    // cgroup.kill took the process with it.
    await new Promise<void>((res) => (child.exitCode !== null || child.signalCode ? res() : child.once('exit', () => res())));
    expect(child.signalCode).toBe('SIGKILL');
  });
});
