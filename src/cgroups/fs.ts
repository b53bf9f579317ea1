// Reading and writing cgroup files, for both versions.
//
// A value is one write(2) on a fresh open without O_CREAT: the kernel parses
// each write as a whole, and a missing file then fails with ENOENT instead of
// the EPERM/EACCES that O_CREAT gets from cgroupfs. Errors name the value and
// the file as runc's do: `failed to write "…": write <path>: <reason>`.
//
// The managers take a CgroupIO so that tests can record what they would
// write without a cgroup filesystem (as runc's unit tests do).
import { isDigits, words } from '../util/text.ts';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileIfExists, readFileSync, rmdirSync, writeSync, constants as fsc } from '../util/fs.ts';
import { RuntimeError } from '../util/errors.ts';

export class CgroupError extends RuntimeError {
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

export interface CgroupIO {
  read(path: string): string;
  /** read, but undefined for a file the kernel does not have (an optional controller file) */
  readIfExists(path: string): string | undefined;
  write(path: string, value: string): void;
  exists(path: string): boolean;
  mkdir(path: string): void;
  rmdir(path: string): void;
  /** names of the subdirectories (sub-cgroups) of a cgroup */
  subdirs(path: string): string[];
  chown(path: string, uid: number, gid: number): void;
}

/** "EINVAL: invalid argument, open '/x'" → "invalid argument" */
export function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const m = /^[A-Z0-9]+: ([^,]+)/.exec(err?.message ?? '');
  return m ? m[1] : String(err?.message ?? e);
}

export const realIO: CgroupIO = {
  read(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      throw new CgroupError(`read ${path}: ${reason(e)}`, (e as NodeJS.ErrnoException).code);
    }
  },
  readIfExists(path) {
    try {
      return readFileIfExists(path, 'utf8');
    } catch (e) {
      throw new CgroupError(`read ${path}: ${reason(e)}`, (e as NodeJS.ErrnoException).code);
    }
  },
  write(path, value) {
    let fd = -1;
    try {
      fd = openSync(path, fsc.O_WRONLY | fsc.O_TRUNC);
    } catch (e) {
      throw new CgroupError(`open ${path}: ${reason(e)}`, (e as NodeJS.ErrnoException).code);
    }
    try {
      writeSync(fd, value);
    } catch (e) {
      // runc's wording: the value, then the path error.
      throw new CgroupError(`failed to write ${JSON.stringify(value)}: write ${path}: ${reason(e)}`, (e as NodeJS.ErrnoException).code);
    } finally {
      closeSync(fd);
    }
  },
  exists: (path) => existsSync(path),
  mkdir(path) {
    try {
      mkdirSync(path, 0o755);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return;
      throw new CgroupError(`mkdir ${path}: ${reason(e)}`, (e as NodeJS.ErrnoException).code);
    }
  },
  chown(path, uid, gid) {
    try {
      chownSync(path, uid, gid);
    } catch (e) {
      throw new CgroupError(`chown ${path}: ${reason(e)}`, (e as NodeJS.ErrnoException).code);
    }
  },
  rmdir(path) {
    try {
      rmdirSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new CgroupError(`rmdir ${path}: ${reason(e)}`, (e as NodeJS.ErrnoException).code);
    }
  },
  subdirs(path) {
    try {
      const out: string[] = [];
      for (const d of readdirSync(path, { withFileTypes: true })) if (d.isDirectory()) out.push(d.name);
      return out;
    } catch {
      return [];
    }
  },
};

/** A synchronous pause: the CLI has nothing else to do meanwhile. */
export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Asks done() until it says true or about limitMs have been slept, and
 * returns its last answer. The sleeps start at 0.1 ms and double up to 10:
 * what the kernel finishes after a write (tasks entering the v2 freezer,
 * killed processes leaving a cgroup) mostly takes well under a millisecond
 * here (a frozen cgroup.events right after the write in about half the
 * tries), and a first sleep of 10 ms (tsrunc's before) made most of `pause`.
 */
export function pollUntil(done: () => boolean, limitMs: number): boolean {
  for (let slept = 0, ms = 0.1; ; ms = Math.min(ms * 2, 10)) {
    if (done()) return true;
    if (slept >= limitMs) return false;
    sleepMs(ms);
    slept += ms;
  }
}

/**
 * An unsigned kernel counter. Numbers while they are exact; above 2^53 (a
 * v1 "unlimited" memory limit is 2^63-4096) a bigint, which toJson() prints
 * digit for digit as Go would.
 */
export type U64 = number | bigint;

export function u64(text: string): U64 {
  const s = text.trim();
  // The common case without a regex (util/text.ts): a number that prints back as itself.
  const n = Number(s);
  if (n >= 0 && Number.isSafeInteger(n) && String(n) === s) return n;
  if (s === 'max') return 18446744073709551615n; // runc reports "max" as MaxUint64
  if (!isDigits(s)) throw new CgroupError(`not a number: ${JSON.stringify(s)}`);
  return Number.isSafeInteger(n) ? n : BigInt(s);
}

/** "major:minor" as two numbers, or undefined. */
export function deviceNumbers(field: string): [U64, U64] | undefined {
  const colon = field.indexOf(':');
  if (colon < 0) return undefined;
  const major = field.slice(0, colon);
  const minor = field.slice(colon + 1);
  return isDigits(major) && isDigits(minor) ? [u64(major), u64(minor)] : undefined;
}

/**
 * JSON.stringify that writes bigints as plain numbers. Through a toJSON on
 * BigInt's prototype for the call, not a replacer: JSON.stringify asks a
 * bigint (only) for its toJSON, where a replacer is a JavaScript call for
 * every value of the stats (~250; ~0.05 ms with the interpreter only).
 */
export function toJson(value: unknown): string {
  const proto = BigInt.prototype as { toJSON?: () => string };
  const had = Object.getOwnPropertyDescriptor(proto, 'toJSON');
  proto.toJSON = function (this: bigint) {
    return `\u0001bigint:${this}`;
  };
  let json: string;
  try {
    json = JSON.stringify(value);
  } finally {
    if (had) Object.defineProperty(proto, 'toJSON', had);
    else delete proto.toJSON;
  }
  // Each "\u0001bigint:DIGITS" string (as JSON.stringify escapes it) by its digits.
  const mark = '"\\u0001bigint:';
  let out = '';
  let from = 0;
  for (let at = json.indexOf(mark); at >= 0; at = json.indexOf(mark, from)) {
    const end = json.indexOf('"', at + mark.length);
    out += json.slice(from, at) + json.slice(at + mark.length, end);
    from = end + 1;
  }
  return from ? out + json.slice(from) : json;
}

/**
 * "key value" lines (memory.stat, cpu.stat, memory.events …) → an object
 * (memory.raw as it is printed; not a Map, whose iteration is JavaScript
 * builtins too); a line whose second field is not a number is skipped.
 */
export function keyValues(text: string): Record<string, U64> {
  const out: Record<string, U64> = Object.create(null);
  for (const line of text.split('\n')) {
    const f = words(line);
    if (f.length >= 2 && isDigits(f[1])) out[f[0]] = u64(f[1]);
  }
  return out;
}

/** The pids of a cgroup and of its sub-cgroups (runc's GetAllPids). */
export function allPids(io: CgroupIO, dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string) => {
    let text = '';
    try {
      text = io.read(`${d}/cgroup.procs`);
    } catch (e) {
      // A threaded cgroup refuses cgroup.procs (ENOTSUP); its threads' pids will do.
      if ((e as CgroupError).code === 'ENOTSUP' || (e as CgroupError).code === 'EOPNOTSUPP') text = io.read(`${d}/cgroup.threads`);
      else if ((e as CgroupError).code !== 'ENOENT' && (e as CgroupError).code !== 'ENODEV') throw e;
    }
    for (const l of text.split('\n')) if (l) out.push(Number(l));
    for (const sub of io.subdirs(d)) walk(`${d}/${sub}`);
  };
  walk(dir);
  const seen = new Set<number>();
  const unique: number[] = [];
  for (const pid of out) {
    if (seen.has(pid)) continue;
    seen.add(pid);
    unique.push(pid);
  }
  return unique;
}

/**
 * Removes a cgroup and its sub-cgroups (runc's RemovePath): leaves first,
 * retrying EBUSY a while (about 2 s in all, then the error), since processes
 * that were just killed take a moment to leave.
 */
export function removeTree(io: CgroupIO, dir: string): void {
  if (!io.exists(dir)) return;
  for (const sub of io.subdirs(dir)) removeTree(io, `${dir}/${sub}`);
  for (let delay = 1; ; delay *= 2) {
    try {
      io.rmdir(dir);
      return;
    } catch (e) {
      if ((e as CgroupError).code !== 'EBUSY' || delay > 1024) throw e;
      sleepMs(delay);
    }
  }
}

/**
 * rmdir of a cgroup that is already empty, the usual case at delete: true
 * when it is gone, false when processes or sub-cgroups keep it (EBUSY,
 * ENOTEMPTY), and the caller must kill and walk.
 */
export function removeIfEmpty(io: CgroupIO, dir: string): boolean {
  try {
    io.rmdir(dir);
    return true;
  } catch (e) {
    const code = (e as CgroupError).code;
    if (code === 'ENOENT') return true;
    if (code === 'EBUSY' || code === 'ENOTEMPTY') return false;
    throw e;
  }
}

/** Sends a signal to each pid, ignoring the ones that are already gone. */
export function signalAll(pids: number[], signal: NodeJS.Signals | number): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {}
  }
}

/** Removes the parents create made, deepest first, while they are empty (another container may still use one). */
export function removeParents(io: CgroupIO, owned: string[], leaves: string[]): void {
  for (let i = owned.length - 1; i >= 0; i--) {
    const d = owned[i];
    if (leaves.includes(d)) continue;
    try {
      io.rmdir(d);
    } catch {}
  }
}
