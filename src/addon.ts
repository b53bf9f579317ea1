// The native half: loaded once, from prebuilds/<platform>-<arch>/ at the
// package root (the bundle lives in dist/, the sources in src/: both one level
// down), where the build puts it (addon/CMakeLists.txt) and the package ships
// it: the layout of N-API prebuilds. One fixed path, not node-gyp-build's
// search (a readdir and a require on every run), because the build and the
// install (scripts/install.mjs) make sure it is the one there.
//
// This module is what src/util/fs.ts stands on: it touches no file itself
// before the addon is loaded (process.dlopen), and loads neither node:fs nor
// node:url (under Bun each costs every run: src/util/fs.ts).
import { dirname } from './util/path.ts';

// The shipped bundle is CommonJS (see scripts/bundle.mjs), the sources ESM.
declare const __dirname: string | undefined;
declare const Bun: { main: string } | undefined;
// A Bun standalone executable (dist/tsrunc, scripts/bundle.mjs) carries its
// code inside itself (Bun.main under /$bunfs/), and its __dirname is where the
// build ran: the binary's own directory is the one to go by. Worked out at
// the addon's load, not as this module is: Bun.main and process.execPath are
// ~0.05 ms under Bun, which a verb that never loads the addon need not pay.
function here(): string {
  return typeof Bun !== 'undefined' && Bun.main.startsWith('/$bunfs/')
    ? dirname(process.execPath)
    : typeof __dirname === 'string'
      ? __dirname
      : // the sources run as ESM (tsx, vitest): a file: URL, decoded by hand (node:url costs ~0.5 ms under Bun)
        decodeURIComponent(new URL('.', import.meta.url).pathname);
}

export interface ChildFailure {
  step: number;
  errno: number;
  index: number;
}

export interface ExitStatus {
  code: number | null;
  signal: number | null;
}

export interface SpawnHandle {
  pid: number;
  syncFd: number;
  errorFd: number;
  /** our end of the console socketpair (plan.consolePair) */
  consoleFd?: number;
  /** the memfd whose content the hooks get as state (write it before release) */
  stateFd?: number;
  /** linux.seccomp listener: the memfd for the container process state (write it before release, close it) */
  seccompStateFd?: number;
}

/** The addon's functions (addon/src/addon.cc's table); fs.cc's are typed in src/util/fs.ts, dbus.cc's in src/cgroups/systemd-dbus.ts. */
export interface Addon {
  spawn(plan: unknown): SpawnHandle;
  release(syncFd: number, errorFd: number, pid: number): { pid: number; failure: ChildFailure | null; checkpoint: boolean };
  /** text to /proc/<pid>/<name>, through a procfs verified as such (no symlink, no mount crossed) */
  procWrite(pid: number, name: string, text: string): void;
  /** linux.seccomp -> BPF (see addon/src/seccomp.cc) */
  seccompCompile(spec: unknown): { bpf: Buffer; flags: number; notify: boolean; skipped: string[] };
  seccompInfo(): { version: string; archs: string[]; actions: string[]; operators: string[]; knownFlags: string[]; supportedFlags: string[] };
  recvFd(sock: number): number;
  setWinsize(fd: number, rows: number, cols: number): void;
  ttyRaw(fd: number): Buffer | undefined;
  copyInThread(from: number, to: number): void;
  ttyRestore(fd: number, saved: Buffer): void;
  getWinsize(fd: number): { rows: number; cols: number } | undefined;
  /** a host program (looked up in PATH) run to its end: stdin /dev/null, stdout and stderr together; -errno if it could not start */
  runProgram(file: string, args: string[]): { status: number | null; signal: number | null; output: string } | number;
  /** names the executable's entry stub added to the environment for Bun, taken out of environ as the addon loaded (addon/src/environ.cc) */
  stubEnv(): string[];
  flock(fd: number, exclusive: boolean, wait: boolean): boolean;
  /** whether path still names the file fd is open on (same inode and device); false if path cannot be stat'ed */
  sameFile(fd: number, path: string): boolean;
  mkfifo(path: string, mode: number): void;
  /** true: started; a string: why the startContainer hooks failed; false: init died */
  openExecFifo(path: string, pid: number): boolean | string;
  /** our own child gone (true) or still there after timeoutMs; another process's pid: pidfdOpen */
  pidfdWait(pid: number, timeoutMs: number): boolean;
  /** a pidfd on the process with that pid now, -1 if none (check it is the one meant, then signal through it) */
  pidfdOpen(pid: number): number;
  /** pidfd_send_signal: false when the process has exited */
  pidfdSignal(pidfd: number, signal: number): boolean;
  /** true when the pidfd's process is gone, false after timeoutMs */
  pidfdPoll(pidfd: number, timeoutMs: number): boolean;
  tryWait(pid: number): ExitStatus | null;
  reap(pid: number): void;
  /** _exit(2): leaves without Node's teardown */
  exitNow(code: number): never;
  /** cgroup v2 device control: load the program and attach it to the cgroup dir, replacing older ones */
  attachDeviceFilter(cgroupDirFd: number, insns: Buffer): void;
  /** the name of a child's setup step (addon/src/plan.h), undefined for a number it does not know */
  stepName(step: number): string | undefined;
}

// The package root is here's parent. Not join(here, '../prebuilds'): its
// normalizing (split, push, join) is ~0.15 ms of first-use builtins under Bun,
// on every run.
let dir: string | undefined;
function buildDir(): string {
  if (dir === undefined) {
    const packageRoot = dirname(here());
    dir = `${packageRoot === '/' ? '' : packageRoot}/prebuilds/${process.platform}-${process.arch}/`;
  }
  return dir;
}

/** tsrunc-init, the created container's waiting process (addon/init/). */
export function initPath(): string {
  return buildDir() + 'tsrunc-init';
}

let loaded: { fn(name: string): unknown } | undefined;

function load(): { fn(name: string): unknown } {
  if (!loaded) {
    // process.dlopen, not require(): the same load without the module
    // resolution around it (~0.3 ms of every run).
    const module = { exports: {} as { fn(name: string): unknown } };
    try {
      process.dlopen(module, buildDir() + 'tsrunc.napi.node');
    } catch (e) {
      // An install on a platform the package has no prebuilds for (scripts/install.mjs refuses those), or a broken one.
      const platform = `${process.platform}-${process.arch}`;
      const hint =
        platform === 'linux-x64'
          ? 'the install is incomplete: reinstall tsrunc'
          : `tsrunc ships prebuilt binaries for linux-x64 only: on ${platform} build it from source (README, "Install")`;
      throw new Error(`cannot load tsrunc's native addon: ${(e as Error).message}; ${hint}`);
    }
    loaded = module.exports;
  }
  return loaded;
}

// The addon exports one function, fn(name), which makes the one asked for:
// made all at its load, its ~50 functions and ~20 numbers cost ~50 us of
// every verb under Bun (addon/src/functions.h), and a verb calls a handful.
// Each is made once, here (no prototype: the names are the addon's only).
const made = Object.create(null) as Record<string, unknown>;

/** The addon's function `name` (loading the addon, the first time): its functions keep no `this`. */
export function nativeFunction(name: string): unknown {
  return (made[name] ??= load().fn(name));
}

/** One of the functions of `Addon`. */
export function addon<K extends keyof Addon>(name: K): Addon[K] {
  return nativeFunction(name) as Addon[K];
}

/** Loads the addon, or throws why it cannot be. */
export function loadAddon(): void {
  load();
}

/** Whether something has loaded the addon already (loading it costs ~0.2 ms). */
export function addonLoaded(): boolean {
  return loaded !== undefined;
}
