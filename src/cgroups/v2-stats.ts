// A v2 container's statistics (`events`), as runc's libcontainer/cgroups/fs2
// reads them, apart from the manager (v2.ts; see v1-stats.ts for why).
import { deviceNumbers, keyValues, realIO, u64, type CgroupIO, type U64 } from './fs.ts';
import { isDigits, words } from '../util/text.ts';
import { emptyStats, hostHugePageSizes, nz, type BlkioEntry, type Stats } from './stats.ts';

const MAX_U64 = 18446744073709551615n;

/** The statistics of the cgroup at dir. */
export function v2Stats(dir: string, io: CgroupIO = realIO): Stats {
  const s = emptyStats();
  const opt = (file: string) => io.readIfExists(`${dir}/${file}`);
  const cpu = opt('cpu.stat');
  if (cpu !== undefined) {
    const kv = keyValues(cpu);
    const ns = (k: string): U64 => {
      const v = kv[k] ?? 0;
      return typeof v === 'bigint' ? v * 1000n : Number.isSafeInteger(v * 1000) ? v * 1000 : BigInt(v) * 1000n;
    };
    s.cpu.usage = { total: nz(ns('usage_usec')), kernel: ns('system_usec'), user: ns('user_usec') };
    s.cpu.throttling = { periods: nz(kv.nr_periods), throttledPeriods: nz(kv.nr_throttled), throttledTime: nz(ns('throttled_usec')) };
  }
  const memStat = opt('memory.stat');
  if (memStat !== undefined) {
    const raw = keyValues(memStat);
    s.memory.raw = raw;
    s.memory.cache = nz(raw.file);
    const data = (prefix: string) => {
      const current = opt(`${prefix}.current`);
      if (current === undefined) return undefined;
      const peak = opt(`${prefix}.peak`); // 5.19+ (swap: 6.5+)
      return { usage: u64(current), limit: u64(opt(`${prefix}.max`) ?? 'max'), max: peak === undefined ? 0 : u64(peak) };
    };
    const mem = data('memory');
    if (mem) s.memory.usage = { limit: mem.limit, usage: nz(mem.usage), max: nz(mem.max), failcnt: 0 };
    const swap = data('memory.swap');
    if (mem && swap) {
      // v1 reports swap as memory+swap: so does runc on v2.
      const usage = BigInt(swap.usage) + BigInt(mem.usage);
      const limit = BigInt(swap.limit) === MAX_U64 ? MAX_U64 : BigInt(swap.limit) + BigInt(mem.limit);
      s.memory.swap = { limit: small(limit), usage: nz(small(usage)), failcnt: 0 };
    }
  }
  const pidsCurrent = opt('pids.current');
  if (pidsCurrent !== undefined) {
    const max = (opt('pids.max') ?? 'max').trim();
    s.pids = { current: nz(u64(pidsCurrent)), limit: max === 'max' ? undefined : nz(u64(max)) };
  }
  const ioStat = opt('io.stat');
  if (ioStat !== undefined) s.blkio = ioStats(ioStat);
  for (const size of hostHugePageSizes()) {
    const current = opt(`hugetlb.${size}.current`);
    if (current === undefined) continue;
    const events = keyValues(opt(`hugetlb.${size}.events`) ?? '');
    s.hugetlb[size] = { usage: nz(u64(current)), failcnt: events.max ?? 0 };
  }
  return s;
}

/** memory.events' oom_kill count; undefined without the file. */
export function v2OomKills(dir: string, io: CgroupIO = realIO): number | undefined {
  const text = io.readIfExists(`${dir}/memory.events`);
  return text === undefined ? undefined : Number(keyValues(text).oom_kill ?? 0);
}

/** A bigint back to a number when exact. */
function small(v: bigint): U64 {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** io.stat ("8:0 rbytes=1 wbytes=2 rios=3 wios=4 …") in v1's tables, as runc maps it. */
function ioStats(text: string): Stats['blkio'] {
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const f = words(line);
    const dev = f.length >= 2 ? deviceNumbers(f[0]) : undefined;
    if (!dev) continue;
    for (let k = 1; k < f.length; k++) {
      // rbytes=, wbytes=, rios=, wios= (and dbytes=, dios=, …, not taken)
      const eq = f[k].indexOf('=');
      const name = f[k].slice(0, eq);
      const value = f[k].slice(eq + 1);
      const list = name === 'rbytes' || name === 'wbytes' ? bytes : name === 'rios' || name === 'wios' ? ios : undefined;
      if (list && eq > 0 && isDigits(value)) list.push({ major: nz(dev[0]), minor: nz(dev[1]), op: name[0] === 'r' ? 'Read' : 'Write', value: nz(u64(value)) });
    }
  }
  return { ioServiceBytesRecursive: bytes.length ? bytes : undefined, ioServicedRecursive: ios.length ? ios : undefined };
}
