// The systemd driver's pure parts (src/cgroups/systemd-props.ts): runc's
// cgroupsPath format, systemd's slice nesting, the cpuset bitmasks, resources
// as unit properties, device rules as DeviceAllow. No systemd needed; the
// driver itself is tested where systemd runs (test/systemd.test.ts); the
// choice of manager's auto rule for root of a user namespace there too
// (test/systemd-rootless.test.ts: rootless podman).
import { describe, expect, it } from 'vitest';
import { configDeviceRules } from '../src/cgroups/devices.ts';
import { rootlessSystemd } from '../src/container/rootless.ts';
import { runningInUserNs } from '../src/util/userns.ts';
import { cpusetBits, deviceProperties, expandSlice, INFINITY, parseSystemdPath, resourceProperties, unitName } from '../src/cgroups/systemd-props.ts';

const props = (p: ReturnType<typeof resourceProperties>) => Object.fromEntries(p.map(([n, , v]) => [n, v]));

describe('systemd driver: cgroupsPath and slices', () => {
  it('parses slice:prefix:name, with runc\'s default and error', () => {
    expect(parseSystemdPath('machine.slice:libpod:abc', 'x', false)).toEqual({ slice: 'machine.slice', prefix: 'libpod', name: 'abc' });
    expect(parseSystemdPath(undefined, 'c1', false)).toEqual({ slice: 'system.slice', prefix: 'tsrunc', name: 'c1' });
    expect(parseSystemdPath(undefined, 'c1', true).slice).toBe('user.slice');
    expect(parseSystemdPath(':docker:abc', 'x', false).slice).toBe('system.slice');
    expect(() => parseSystemdPath('/a/b', 'x', false)).toThrow('expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "/a/b" instead');
    expect(() => parseSystemdPath('a.slice:p:', 'x', false)).toThrow('name part is empty');
    expect(() => parseSystemdPath('a.slice:p:pod.slice', 'x', false)).toThrow('only scopes');
    expect(unitName({ slice: 's.slice', prefix: 'docker', name: 'abc' })).toBe('docker-abc.scope');
    expect(unitName({ slice: 's.slice', prefix: '', name: 'abc' })).toBe('abc.scope');
  });

  it('expands slice names as systemd nests them', () => {
    expect(expandSlice('system.slice')).toBe('/system.slice');
    expect(expandSlice('a-b-c.slice')).toBe('/a.slice/a-b.slice/a-b-c.slice');
    expect(expandSlice('-.slice')).toBe('/');
    for (const bad of ['foo', '.slice', 'a/b.slice', 'a--b.slice', '-a.slice', 'a-.slice']) expect(() => expandSlice(bad)).toThrow(`invalid slice name: ${bad}`);
  });
});

describe('systemd driver: resources as unit properties', () => {
  it('cpusets as byte bitmasks (bit i of byte j: CPU 8j+i)', () => {
    expect([...cpusetBits('0')]).toEqual([1]);
    expect([...cpusetBits('0-3,8')]).toEqual([15, 1]);
    expect([...cpusetBits('1,3,9-10')]).toEqual([10, 6]);
    expect(() => cpusetBits('3-1')).toThrow('invalid cpuset range');
  });

  it('memory, cpu, pids, io, with -1 as infinity and runc\'s quota rounding', () => {
    const p = props(resourceProperties({ memory: { limit: 100, reservation: 50, swap: 300 }, cpu: { shares: 1024, quota: 12345, period: 100000, cpus: '0-1', mems: '0' }, pids: { limit: -1 }, blockIO: { weight: 10 } }));
    expect(p).toMatchObject({ MemoryMax: 100, MemoryLow: 50, MemorySwapMax: 200, CPUWeight: 39, CPUQuotaPeriodUSec: 100000, CPUQuotaPerSecUSec: 130000, TasksMax: INFINITY, IOWeight: 1 });
    expect([...(p.AllowedCPUs as Buffer)]).toEqual([3]);
    // memory == memory+swap: no swap, given to systemd as 0 (runc leaves it out, and systemd then undoes the file's 0).
    expect(props(resourceProperties({ memory: { limit: 100, swap: 100 } })).MemorySwapMax).toBe(0);
    expect(props(resourceProperties({ memory: { limit: -1 } })).MemoryMax).toBe(INFINITY);
    // A period alone: the quota stays unlimited.
    expect(props(resourceProperties({ cpu: { period: 50000 } }))).toEqual({ CPUQuotaPeriodUSec: 50000, CPUQuotaPerSecUSec: INFINITY });
    expect(resourceProperties({ pids: { limit: 0 } })).toEqual([]);
    expect(props(resourceProperties({ unified: { 'memory.high': '1000', 'pids.max': 'max', 'io.weight': 'default 300', 'cpu.max': '20000 100000', 'memory.oom.group': '1' } }))).toEqual({ MemoryHigh: 1000, TasksMax: INFINITY, IOWeight: 300, CPUQuotaPeriodUSec: 100000, CPUQuotaPerSecUSec: 200000 });
  });

  it('device rules as DevicePolicy=strict and DeviceAllow, in systemd\'s syntax', () => {
    const procDevices = 'Character devices:\n  1 mem\n136 pts\n\nBlock devices:\n  8 sd\n';
    const p = deviceProperties(configDeviceRules([{ allow: false, access: 'rwm' }, { allow: true, type: 'b', major: 8, minor: -1, access: 'r' }, { allow: true, type: 'c', major: 99, minor: -1, access: 'rw' }]), procDevices);
    expect(p[0]).toEqual(['DevicePolicy', 's', 'strict']);
    const allow = p.at(-1)![2] as Array<[string, string]>;
    expect(allow).toContainEqual(['/dev/char/1:3', 'rwm']);
    expect(allow).toContainEqual(['char-pts', 'rwm']);
    expect(allow).toContainEqual(['block-sd', 'r']);
    expect(allow).toContainEqual(['char-*', 'm']);
    // 99 is in no group of /proc/devices: skipped with runc's warning.
    expect(allow.some(([path]) => path.includes('99'))).toBe(false);
    // A black-list: deny-all for systemd.
    expect(deviceProperties([{ type: 'a', major: -1, minor: -1, access: 'rwm', allow: true }], procDevices)).toEqual([['DevicePolicy', 's', 'strict'], ['DeviceAllow', 'a(ss)', []]]);
  });
});

describe('systemd driver: which manager (runc\'s shouldUseRootlessCgroupManager)', () => {
  it('--rootless decides when given; root outside a user namespace uses the system manager', () => {
    expect(rootlessSystemd('true')).toBe(true);
    expect(rootlessSystemd('false')).toBe(false);
    expect(() => rootlessSystemd('maybe')).toThrow('invalid syntax');
    // auto: a non-root euid is rootless; root in the initial user namespace is not,
    // without asking any bus (root of another namespace: the session bus owner, in the guest)
    if (process.geteuid?.() === 0 && !runningInUserNs()) expect(rootlessSystemd(undefined)).toBe(false);
    else if (process.geteuid?.() !== 0) expect(rootlessSystemd('auto')).toBe(true);
  });
});
