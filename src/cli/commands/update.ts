// update: changes the limits of a live container, with runc's flags, or from
// a linux.resources JSON document (-r FILE, or -r - for stdin, which is what
// the containerd shim sends; the flags are then ignored, as in runc).
//
// As runc does, the new values are merged into the resources the container
// has (kept in its state), and the whole set is applied again: some values
// only make sense together (memory and swap, quota and period). Device rules
// are never changed by update.
import { closeSync, openSync, readSync } from '../../util/fs.ts';
import { openCgroupfs } from '../../cgroups/open.ts';
import type { Resources } from '../../cgroups/types.ts';
import { cgroupRecord } from '../../cgroups/record.ts';
import { load } from '../../container/load.ts';
import { RuntimeError } from '../../util/errors.ts';
import { logWarn } from '../../util/log.ts';
import { HELP, idArg, type Command } from '../command.ts';

const str = (name: string, ...aliases: string[]) => ({ names: [name, ...aliases], type: 'string' as const });

/** docker/go-units RAMInBytes: "512", "64k", "1.5g", "100MiB" (binary multiples). */
export function ramInBytes(text: string): number {
  const m = /^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(text);
  if (!m) throw new Error(`invalid size: '${text}'`);
  const mul = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 }[(m[3] ?? '').toLowerCase()]!;
  return Math.trunc(parseFloat(m[1]) * mul);
}

/**
 * Reads a whole fd; stdin may be a non-blocking pipe someone else set so.
 * Unbounded on purpose: it is the caller's input (runc waits too), and no
 * lock is held meanwhile (read before `load`).
 */
function readAll(fd: number): string {
  // Uint8Array and TextDecoder, not Buffer: Buffer's first use costs ~0.3 ms under Bun (README, "Why Bun").
  const decoder = new TextDecoder();
  const buf = new Uint8Array(65536);
  let text = '';
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
        continue;
      }
      throw e;
    }
    if (n === 0) break;
    text += decoder.decode(buf.subarray(0, n), { stream: true });
  }
  return text + decoder.decode();
}

async function fromFile(path: string): Promise<Resources> {
  let text: string;
  if (path === '-') text = readAll(0);
  else {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new RuntimeError(`open ${path}: ${(e as Error).message.replace(/^\w+: /, '').replace(/, open .*$/, '')}`);
    }
    try {
      text = readAll(fd);
    } finally {
      closeSync(fd);
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new RuntimeError(`resources: ${(e as Error).message}`);
  }
  // The document null changes nothing, as Go's decoder leaves runc's resources as they were.
  if (json === null) return {};
  // The schema only where a document is given: building zod's schemas costs
  // several ms at load, which an update by flags (runc's CLI) does not pay.
  const { parseResources, ConfigError } = await import('../../config/load.ts');
  try {
    return parseResources(json);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    // runc's form, "resources: <path>: <reason>"; the document itself is the path "resources".
    throw new RuntimeError(`resources${e.path === 'resources' ? '' : `: ${e.path}`}: ${e.reason}`);
  }
}

/** The flags as a partial linux.resources (runc's parsing and errors). */
function fromFlags(f: Record<string, unknown>): Resources {
  const r: Resources = {};
  const value = (name: string) => f[name] as string | undefined;
  const uint = (name: string): number | undefined => {
    const v = value(name);
    if (v === undefined || v === '') return undefined;
    if (!/^\d+$/.test(v)) throw new RuntimeError(`invalid value for ${name}: strconv.ParseUint: parsing ${JSON.stringify(v)}: invalid syntax`);
    return Number(v);
  };
  const int = (name: string): number | undefined => {
    const v = value(name);
    if (v === undefined || v === '') return undefined;
    if (!/^-?\d+$/.test(v)) throw new RuntimeError(`invalid value for ${name}: strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
    return Number(v);
  };
  const bytes = (name: string): number | undefined => {
    const v = value(name);
    if (v === undefined || v === '') return undefined;
    if (v === '-1') return -1;
    try {
      return ramInBytes(v);
    } catch (e) {
      throw new RuntimeError(`invalid value for ${name}: ${(e as Error).message}`);
    }
  };
  const cpu: NonNullable<Resources['cpu']> = {
    shares: uint('cpu-share'),
    period: uint('cpu-period'),
    quota: int('cpu-quota'),
    burst: uint('cpu-burst'),
    realtimePeriod: uint('cpu-rt-period'),
    realtimeRuntime: int('cpu-rt-runtime'),
    idle: int('cpu-idle'),
    cpus: value('cpuset-cpus') || undefined,
    mems: value('cpuset-mems') || undefined,
  };
  r.cpu = cpu;
  r.memory = { limit: bytes('memory'), reservation: bytes('memory-reservation'), swap: bytes('memory-swap') };
  const weight = f['blkio-weight'] as number | undefined;
  if (weight) r.blockIO = { weight };
  const pids = f['pids-limit'] as number | undefined;
  if (pids !== undefined) r.pids = { limit: pids };
  for (const opt of ['kernel-memory', 'kernel-memory-tcp']) if (value(opt)) logWarn(`Setting --${opt} is ignored and will be removed`);
  return r;
}

/** o without its undefined and empty values. A loop: filter and fromEntries are JS builtins whose first use costs ~0.15 ms under Bun. */
function defined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const k in o) if (o[k] !== undefined && (o[k] as unknown) !== '') out[k] = o[k];
  return out;
}

/** runc's merge of an update into the container's resources. */
export function mergeResources(current: Resources, r: Resources): Resources {
  // A shallow copy: what changes below is replaced, never changed in place
  // (structuredClone's first use is ~0.03 ms under Bun).
  const out: Resources = { ...current };
  if (r.blockIO?.weight !== undefined) out.blockIO = { ...out.blockIO, weight: r.blockIO.weight };
  if (r.cpu) {
    const { period, quota, burst, shares, realtimePeriod, realtimeRuntime, idle, cpus, mems } = r.cpu;
    out.cpu = { ...out.cpu, ...defined({ period, quota, burst, shares, realtimePeriod, realtimeRuntime, idle, cpus, mems }) };
  }
  if (r.memory) {
    const { limit, reservation, checkBeforeUpdate } = r.memory;
    let swap = r.memory.swap;
    // Unlimited memory and no word about swap: unlimited swap too, as on v1.
    if (limit === -1 && swap === undefined) swap = -1;
    out.memory = { ...out.memory, ...defined({ limit, reservation, swap, checkBeforeUpdate }) };
  }
  if (r.pids?.limit !== undefined) out.pids = { limit: r.pids.limit };
  if (r.unified !== undefined) out.unified = r.unified;
  return out;
}

/** The update applied to the container: its cgroup, then its state. */
function apply(root: string, id: string, f: Record<string, unknown>, update: Resources): number | Promise<number> {
  const { dir, state, status } = load(root, id);
  // tsrunc has no Intel RDT: runc's errors for a host without it.
  if (f['l3-cache-schema']) throw new RuntimeError('Intel RDT/CAT: l3 cache schema is not enabled');
  if (f['mem-bw-schema']) throw new RuntimeError('Intel RDT/MBA: memory bandwidth schema is not enabled');
  if (status === 'stopped' || status === 'creating') throw new RuntimeError('container not running');
  // None for a rootless container that could make no cgroup (cgroups/rootless.ts).
  const record = cgroupRecord(state);
  if (!record) throw new RuntimeError('cannot update container: cgroups not configured for container');
  const merged = mergeResources(record.resources ?? {}, update);
  if (record.version === 1 && merged.unified && Object.keys(merged.unified).length) throw new RuntimeError('invalid configuration: cannot use unified on cgroup v1');
  // What create refuses on v2 (planCgroup), update refuses too, rather than drop it.
  if (record.version === 2 && (update.cpu?.realtimePeriod || update.cpu?.realtimeRuntime)) throw new RuntimeError('--cpu-rt-period and --cpu-rt-runtime are not supported on cgroup v2');
  const applyWith = (manager: { apply(r: Resources): void }) => {
    try {
      manager.apply(merged);
    } catch (e) {
      // A value the kernel refuses may come after values it took (memory is
      // written before cpu): the limits the container had are applied again,
      // so that a failed update leaves them as its state says. (runc 1.1.5
      // tries too, but with the new values.) A limit the container had never
      // set stays as written.
      try {
        manager.apply(record.resources ?? {});
      } catch (again) {
        logWarn(`setting back the container's limits failed: ${(again as Error).message}; its cgroup and its state may disagree`);
      }
      throw e;
    }
    state.cleanup = { ...state.cleanup, cgroup: { ...record, resources: merged } };
    dir.write(state);
    return 0;
  };
  // The systemd driver's manager (D-Bus, unit properties) only for its containers: cgroups/open.ts.
  if (record.systemd) return import('../../cgroups/systemd.ts').then(({ SystemdManager }) => applyWith(new SystemdManager(record)));
  return applyWith(openCgroupfs(record));
}

const command: Command = {
  flags: [
    HELP,
    str('resources', 'r'),
    { names: ['blkio-weight'], type: 'int' },
    str('cpu-period'),
    str('cpu-quota'),
    str('cpu-burst'),
    // runc's flag is --cpu-share; --cpu-shares is taken too, being what people type.
    str('cpu-share', 'cpu-shares'),
    str('cpu-rt-period'),
    str('cpu-rt-runtime'),
    str('cpuset-cpus'),
    str('cpuset-mems'),
    str('kernel-memory'),
    str('kernel-memory-tcp'),
    str('memory'),
    str('cpu-idle'),
    str('memory-reservation'),
    str('memory-swap'),
    { names: ['pids-limit'], type: 'int' },
    str('l3-cache-schema'),
    str('mem-bw-schema'),
  ],
  run(g, args) {
    const id = idArg(args);
    const f = args.flags;
    // Read (stdin may take as long as its writer likes) before the lock is
    // taken. By flags (runc's CLI), no await: the verb's first await sets up
    // JavaScriptCore's async machinery (~0.05 ms under Bun).
    if (f.resources) return fromFile(f.resources as string).then((update) => apply(g.root, id, f, update));
    return apply(g.root, id, f, fromFlags(f));
  },
};
export default command;
