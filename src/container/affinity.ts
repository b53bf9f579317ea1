// CPU affinity of a container's processes.
//
// Every process tsrunc starts in a container, init and exec'd alike, ends its
// setup with its affinity reset to every CPU, which the kernel narrows to the
// cpuset of the container's cgroup (cpuReset). Without that it would keep the
// CPUs of tsrunc's caller: an engine run by a systemd unit with CPUAffinity=
// would pin its containers there. Moving into a cpuset cgroup used to reset a
// process's affinity, but since Linux 6.2 (da019032819a, "sched: Enforce user
// requested affinity") the kernel keeps what the process asked for. runc
// (since 1.3.1, runc#4858, and its 1.2 branch's backport) and crun (since late
// 2023, crun#1315) reset it too; runc 1.1.5 and crun 1.8.1, this host's, do
// not.
//
// process.execCPUAffinity (runtime-spec 1.2) sets it for an exec'd process
// instead. Not for the container's init (the spec makes it not applicable
// there, so create accepts it and leaves init with the reset). The spec means
// `initial` for the runtime's work before the process enters the container's
// cgroup; tsrunc's child does none (it is born in the cgroup on v2, and writes
// itself into it first on v1), so `initial` holds for its setup (namespaces,
// mounts, user) and `final` from just before its exec on (addon/src/child.cc).
// With `initial` alone the setup ends with the reset, as with runc.
import type { Process } from '../config/schema.ts';
import { RuntimeError } from '../util/errors.ts';

/** The kernel's cpu_set_t holds CPUs 0..1023 (glibc's CPU_SETSIZE), as runc's unix.CPUSet does. */
const CPU_SETSIZE = 1024;

/** "0-3,7" as CPU numbers; undefined for an empty list (the field unset). */
export function parseCpuList(text: string, what: string): number[] | undefined {
  const cpus: number[] = [];
  const bad = (why: string) => new RuntimeError(`${what}: ${JSON.stringify(text)}: ${why}`);
  for (const part of text.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const dash = item.indexOf('-');
    const first = Number(dash < 0 ? item : item.slice(0, dash).trim());
    const last = dash < 0 ? first : Number(item.slice(dash + 1).trim());
    if (!Number.isInteger(first) || !Number.isInteger(last) || first < 0 || last < first) throw bad(`invalid CPU range ${JSON.stringify(item)}`);
    if (last >= CPU_SETSIZE) throw bad(`CPU ${last} is above ${CPU_SETSIZE - 1}`);
    for (let c = first; c <= last; c++) cpus.push(c);
  }
  return cpus.length ? cpus : undefined;
}

/** The exec child's affinity: cpuInitial from its start, then cpuFinal before its exec, or else the reset. */
export function planExecCpuAffinity(aff: Process['execCPUAffinity']): { cpuInitial?: number[]; cpuFinal?: number[]; cpuReset?: true } {
  const cpuInitial = aff?.initial === undefined ? undefined : parseCpuList(aff.initial, 'process.execCPUAffinity.initial');
  const cpuFinal = aff?.final === undefined ? undefined : parseCpuList(aff.final, 'process.execCPUAffinity.final');
  return cpuFinal ? { cpuInitial, cpuFinal } : { cpuInitial, cpuReset: true };
}
