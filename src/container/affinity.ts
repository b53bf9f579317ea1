// process.execCPUAffinity (runtime-spec 1.2): the CPUs an exec'd process runs
// on. Not for the container's init (the spec makes it not applicable there,
// so create accepts it and leaves init alone). The spec means `initial` for
// the runtime's work before the process enters the container's cgroup;
// tsrunc's child does none (it is born in the cgroup on v2, and writes itself
// into it first on v1), so `initial` holds for its setup (namespaces, mounts,
// user) and `final` from just before its exec on (addon/src/child.cc). With
// `initial` alone the setting ends there too: the process may then run on
// every CPU its cgroup allows, as with runc. Without the field, an exec'd
// process keeps the CPUs tsrunc's caller gave it, as with runc 1.1.
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

/** The exec child's masks: cpuInitial from its start, cpuFinal before its exec. */
export function planExecCpuAffinity(aff: Process['execCPUAffinity']): { cpuInitial?: number[]; cpuFinal?: number[] } {
  if (!aff) return {};
  const cpuInitial = aff.initial === undefined ? undefined : parseCpuList(aff.initial, 'process.execCPUAffinity.initial');
  let cpuFinal = aff.final === undefined ? undefined : parseCpuList(aff.final, 'process.execCPUAffinity.final');
  if (cpuInitial && !cpuFinal) {
    // Every CPU: the kernel keeps those of the cgroup's cpuset.
    cpuFinal = [];
    for (let c = 0; c < CPU_SETSIZE; c++) cpuFinal.push(c);
  }
  return { cpuInitial, cpuFinal };
}
