// The JSON `runc events` prints for a container's statistics (runc's
// types.Stats, with Go's encoding rules: fields tagged omitempty disappear
// when zero, struct fields never do). Both managers fill it in.
import { readdirSync } from '../util/fs.ts';
import type { U64 } from './fs.ts';
import { isDigits } from '../util/text.ts';

export interface MemoryEntry {
  limit: U64;
  usage?: U64;
  max?: U64;
  failcnt: U64;
}

export interface BlkioEntry {
  major?: U64;
  minor?: U64;
  op?: string;
  value?: U64;
}

export interface Stats {
  cpu: {
    usage: { total?: U64; percpu?: U64[]; percpu_kernel?: U64[]; percpu_user?: U64[]; kernel: U64; user: U64 };
    throttling: { periods?: U64; throttledPeriods?: U64; throttledTime?: U64 };
  };
  cpuset: {
    cpus?: number[];
    cpu_exclusive: U64;
    mems?: number[];
    mem_hardwall: U64;
    mem_exclusive: U64;
    memory_migrate: U64;
    memory_spread_page: U64;
    memory_spread_slab: U64;
    memory_pressure: U64;
    sched_load_balance: U64;
    sched_relax_domain_level: number;
  };
  memory: {
    cache?: U64;
    usage: MemoryEntry;
    swap: MemoryEntry;
    kernel: MemoryEntry;
    kernelTCP: MemoryEntry;
    raw?: Record<string, U64>;
  };
  pids: { current?: U64; limit?: U64 };
  blkio: {
    ioServiceBytesRecursive?: BlkioEntry[];
    ioServicedRecursive?: BlkioEntry[];
    ioQueueRecursive?: BlkioEntry[];
    ioServiceTimeRecursive?: BlkioEntry[];
    ioWaitTimeRecursive?: BlkioEntry[];
    ioMergedRecursive?: BlkioEntry[];
    ioTimeRecursive?: BlkioEntry[];
    sectorsRecursive?: BlkioEntry[];
  };
  hugetlb: Record<string, { usage?: U64; max?: U64; failcnt: U64 }>;
  intel_rdt: Record<string, never>;
  network_interfaces: null;
}

const memEntry = (): MemoryEntry => ({ limit: 0, failcnt: 0 });

export function emptyStats(): Stats {
  return {
    cpu: { usage: { kernel: 0, user: 0 }, throttling: {} },
    cpuset: {
      cpu_exclusive: 0,
      mem_hardwall: 0,
      mem_exclusive: 0,
      memory_migrate: 0,
      memory_spread_page: 0,
      memory_spread_slab: 0,
      memory_pressure: 0,
      sched_load_balance: 0,
      sched_relax_domain_level: 0,
    },
    memory: { usage: memEntry(), swap: memEntry(), kernel: memEntry(), kernelTCP: memEntry() },
    pids: {},
    blkio: {},
    hugetlb: {},
    intel_rdt: {},
    network_interfaces: null,
  };
}

/** Go's omitempty for numbers: zero becomes absent. */
export const nz = (v: U64 | undefined): U64 | undefined => (v === 0 || v === 0n ? undefined : v);

/** "0-2,7" → [0, 1, 2, 7] */
export function cpuList(text: string): number[] | undefined {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    if (!part) continue;
    // Not split('-').map(Number): map's first use costs ~60-95 us with the interpreter only.
    const dash = part.indexOf('-');
    const a = Number(dash < 0 ? part : part.slice(0, dash));
    const b = dash < 0 ? a : Number(part.slice(dash + 1));
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out.length ? out : undefined;
}

/** Huge page sizes the kernel has, in the spec's spelling ("2MB", "1GB"), from /sys/kernel/mm/hugepages. */
export function hugePageSizes(names: string[]): string[] {
  const out: string[] = [];
  for (const n of names) {
    const digits = n.startsWith('hugepages-') && n.endsWith('kB') ? n.slice(10, -2) : '';
    if (!isDigits(digits)) continue;
    const kb = Number(digits);
    out.push(kb >= 1 << 20 ? `${kb >> 20}GB` : kb >= 1 << 10 ? `${kb >> 10}MB` : `${kb}KB`);
  }
  return out;
}

let hostSizes: string[] | undefined;

/** This host's huge page sizes (runc's HugePageSizes). */
export function hostHugePageSizes(): string[] {
  if (!hostSizes) {
    try {
      hostSizes = hugePageSizes(readdirSync('/sys/kernel/mm/hugepages'));
    } catch {
      hostSizes = [];
    }
  }
  return hostSizes;
}
