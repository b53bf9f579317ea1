// A v1 container's statistics (`events`), as runc's libcontainer/cgroups/fs
// reads them. Apart from the manager (v1.ts), so that `events` loads this,
// stats.ts and fs.ts rather than the managers' ~60 kB of code: under Bun a
// module's code is set up at each start (events --stats 7.26 -> 7.02 ms).
import { deviceNumbers, keyValues, realIO, u64, type CgroupIO, type U64 } from './fs.ts';
import { isDigits, words } from '../util/text.ts';
import { cpuList, emptyStats, hostHugePageSizes, nz, type BlkioEntry, type MemoryEntry, type Stats } from './stats.ts';
import type { CgroupRecord } from './types.ts';

/** The USER_HZ of cpuacct.stat (100 on every Linux architecture runc supports). */
const CLOCK_TICKS = 100;

/** v1's cpuset may be mounted with noprefix (Android does): "cpus" instead of "cpuset.cpus". */
export function cpusetFile(io: CgroupIO, dir: string, name: string): string {
  return io.exists(`${dir}/cpuset.${name}`) || !io.exists(`${dir}/${name}`) ? `cpuset.${name}` : name;
}

export function v1Stats(record: CgroupRecord, io: CgroupIO = realIO): Stats {
  const at = (controller: string): string | undefined => record.paths[controller];
  const read = (d: string, file: string): string => io.read(`${d}/${file}`);
  const s = emptyStats();
  // Read where the file is there: one system call, not an existence check and then a read.
  const opt = (dir: string | undefined, file: string): string | undefined => (dir ? io.readIfExists(`${dir}/${file}`) : undefined);

  const acct = at('cpuacct');
  const total = opt(acct, 'cpuacct.usage');
  if (total !== undefined) s.cpu.usage.total = nz(u64(total));
  const percpu = opt(acct, 'cpuacct.usage_percpu');
  if (percpu !== undefined) {
    s.cpu.usage.percpu = [];
    for (const n of words(percpu.trim())) s.cpu.usage.percpu.push(u64(n));
  }
  const all = opt(acct, 'cpuacct.usage_all'); // "cpu user system" then one line per cpu
  if (all !== undefined) {
    const user: U64[] = [];
    const kernel: U64[] = [];
    for (const line of all.split('\n')) {
      const f = words(line);
      if (f.length < 3 || !isDigits(f[0]) || !isDigits(f[1]) || !isDigits(f[2])) continue;
      user.push(u64(f[1]));
      kernel.push(u64(f[2]));
    }
    s.cpu.usage.percpu_user = user;
    s.cpu.usage.percpu_kernel = kernel;
  }
  const acctStat = opt(acct, 'cpuacct.stat');
  if (acctStat !== undefined) {
    const kv = keyValues(acctStat);
    const ns = (v: U64 | undefined) => Math.round((Number(v ?? 0) * 1e9) / CLOCK_TICKS);
    s.cpu.usage.user = ns(kv.user);
    s.cpu.usage.kernel = ns(kv.system);
  }
  const cpuStat = opt(at('cpu'), 'cpu.stat');
  if (cpuStat !== undefined) {
    const kv = keyValues(cpuStat);
    s.cpu.throttling = { periods: nz(kv.nr_periods), throttledPeriods: nz(kv.nr_throttled), throttledTime: nz(kv.throttled_time) };
  }

  const cs = at('cpuset');
  if (cs && io.exists(cs)) {
    // The files' names once for all (cpusetFile: "cpuset.cpus", or "cpus" where the hierarchy was mounted with noprefix).
    const file = cpusetFile(io, cs, 'cpus') === 'cpus' ? (name: string) => name : (name: string) => `cpuset.${name}`;
    const num = (name: string): U64 => {
      const t = opt(cs, file(name));
      return t === undefined ? 0 : u64(t);
    };
    s.cpuset = {
      cpus: cpuList(opt(cs, file('cpus')) ?? ''),
      cpu_exclusive: num('cpu_exclusive'),
      mems: cpuList(opt(cs, file('mems')) ?? ''),
      mem_hardwall: num('mem_hardwall'),
      mem_exclusive: num('mem_exclusive'),
      memory_migrate: num('memory_migrate'),
      memory_spread_page: num('memory_spread_page'),
      memory_spread_slab: num('memory_spread_slab'),
      memory_pressure: num('memory_pressure'),
      sched_load_balance: num('sched_load_balance'),
      sched_relax_domain_level: Number(opt(cs, file('sched_relax_domain_level'))?.trim() ?? 0),
    };
  }

  const mem = at('memory');
  if (mem && io.exists(mem)) {
    const raw = keyValues(read(mem, 'memory.stat'));
    s.memory.raw = raw;
    s.memory.cache = nz(raw.cache);
    const entry = (prefix: string): MemoryEntry => {
      const usage = opt(mem, `${prefix}.usage_in_bytes`);
      if (usage === undefined) return { limit: 0, failcnt: 0 };
      const v = (f: string) => u64(read(mem, `${prefix}.${f}`));
      return { limit: v('limit_in_bytes'), usage: nz(u64(usage)), max: nz(v('max_usage_in_bytes')), failcnt: v('failcnt') };
    };
    s.memory.usage = entry('memory');
    s.memory.swap = entry('memory.memsw');
    s.memory.kernel = entry('memory.kmem');
    s.memory.kernelTCP = entry('memory.kmem.tcp');
  }

  const pids = at('pids');
  if (pids && io.exists(pids)) {
    const max = read(pids, 'pids.max').trim();
    s.pids = { current: nz(u64(read(pids, 'pids.current'))), limit: max === 'max' ? undefined : nz(u64(max)) };
  }

  const blk = at('blkio');
  if (blk && io.exists(blk)) s.blkio = blkioStats(io, blk);

  const huge = at('hugetlb');
  if (huge && io.exists(huge)) {
    for (const size of hostHugePageSizes()) {
      const usage = opt(huge, `hugetlb.${size}.usage_in_bytes`);
      if (usage === undefined) continue;
      const v = (name: string) => u64(read(huge, `hugetlb.${size}.${name}`));
      s.hugetlb[size] = { usage: nz(u64(usage)), max: nz(v('max_usage_in_bytes')), failcnt: v('failcnt') };
    }
  }
  return s;
}

/** memory.oom_control's oom_kill count; undefined without the file. */
export function v1OomKills(record: CgroupRecord, io: CgroupIO = realIO): number | undefined {
  const text = record.paths.memory ? io.readIfExists(`${record.paths.memory}/memory.oom_control`) : undefined;
  return text === undefined ? undefined : Number(keyValues(text).oom_kill ?? 0);
}

/** runc's order of preference: BFQ's debug stats, BFQ's, CFQ's, the throttle layer's (recursive, then not). */
function blkioStats(io: CgroupIO, dir: string): Stats['blkio'] {
  const groups: Array<Array<[string, keyof Stats['blkio']]>> = [
    [
      ['blkio.bfq.sectors_recursive', 'sectorsRecursive'],
      ['blkio.bfq.io_service_time_recursive', 'ioServiceTimeRecursive'],
      ['blkio.bfq.io_wait_time_recursive', 'ioWaitTimeRecursive'],
      ['blkio.bfq.io_merged_recursive', 'ioMergedRecursive'],
      ['blkio.bfq.io_queued_recursive', 'ioQueueRecursive'],
      ['blkio.bfq.time_recursive', 'ioTimeRecursive'],
      ['blkio.bfq.io_serviced_recursive', 'ioServicedRecursive'],
      ['blkio.bfq.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
    ],
    [
      ['blkio.bfq.io_serviced_recursive', 'ioServicedRecursive'],
      ['blkio.bfq.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
    ],
    [
      ['blkio.sectors_recursive', 'sectorsRecursive'],
      ['blkio.io_service_time_recursive', 'ioServiceTimeRecursive'],
      ['blkio.io_wait_time_recursive', 'ioWaitTimeRecursive'],
      ['blkio.io_merged_recursive', 'ioMergedRecursive'],
      ['blkio.io_queued_recursive', 'ioQueueRecursive'],
      ['blkio.time_recursive', 'ioTimeRecursive'],
      ['blkio.io_serviced_recursive', 'ioServicedRecursive'],
      ['blkio.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
    ],
    [
      ['blkio.throttle.io_serviced_recursive', 'ioServicedRecursive'],
      ['blkio.throttle.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
    ],
    [
      ['blkio.throttle.io_serviced', 'ioServicedRecursive'],
      ['blkio.throttle.io_service_bytes', 'ioServiceBytesRecursive'],
    ],
  ];
  for (const group of groups) {
    // A group counts when its first file exists; then all of it is used.
    if (!io.exists(`${dir}/${group[0][0]}`)) continue;
    const out: Stats['blkio'] = {};
    for (const [file, key] of group) {
      const text = io.readIfExists(`${dir}/${file}`);
      const entries = text === undefined ? [] : blkioEntries(text);
      if (entries.length) out[key] = entries;
    }
    return out;
  }
  return {};
}

/** "8:0 Read 1282048" (or "8:0 1282048"); "Total N" lines skipped. */
function blkioEntries(text: string): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const f = words(line);
    const dev = f.length === 2 || f.length === 3 ? deviceNumbers(f[0]) : undefined;
    if (!dev || !isDigits(f[f.length - 1])) continue;
    out.push({ major: nz(dev[0]), minor: nz(dev[1]), op: f.length === 3 ? f[1] : undefined, value: nz(u64(f[f.length - 1])) });
  }
  return out;
}
