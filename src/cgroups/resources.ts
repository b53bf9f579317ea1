// The conversions from linux.resources values to what the kernel files take,
// shared by both managers (runc's names for them in comments).

/** pids.max for linux.resources.pids.limit: > 0 itself, < 0 "max", 0 → 1 (as runc: systemd cannot set 0 either). */
export function pidsMax(limit: number): string {
  return limit > 0 ? String(limit) : limit < 0 ? 'max' : '1';
}

/** swappiness is set unless absent or one of Go's "unset" values (2^64-1, arriving as 2^64; or -1). */
export function isSwappiness(v: number | undefined): boolean {
  return v !== undefined && v !== -1 && v < 2 ** 64;
}

/** ConvertCPUSharesToCgroupV2Value: cpu.shares [2, 262144] → cpu.weight [1, 10000], linearly. */
export function sharesToWeight(shares: number): number {
  return shares === 0 ? 0 : 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** ConvertBlkIOToIOWeightValue: blkio weight [10, 1000] → io.weight [1, 10000]. */
export function blkioToIoWeight(weight: number): number {
  return weight === 0 ? 0 : 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/**
 * ConvertMemorySwapToCgroupV2Value: the spec's swap is memory+swap (v1's
 * memsw), v2's memory.swap.max is swap alone.
 */
export function swapToV2(swap: number, memory: number): number {
  if (memory === -1 && swap === 0) return -1; // unlimited memory means unlimited swap, as on v1
  if (swap === -1 || swap === 0) return swap;
  if (memory === -1) return swap;
  if (memory === 0) throw new Error('unable to set swap limit without memory limit');
  if (memory < 0) throw new Error(`invalid memory value: ${memory}`);
  if (swap < memory) throw new Error('memory+swap limit should be >= memory limit');
  return swap - memory;
}

/** v2's spelling of a v1-style number: 0 is unset (''), -1 is "max". */
export const numToStr = (v: number): string => (v === 0 ? '' : v === -1 ? 'max' : String(v));
