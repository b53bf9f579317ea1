// The native half: loaded once, from build/Release next to the package root
// (the bundle lives in dist/, the sources in src/: both one level down).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface ChildFailure {
  step: number;
  errno: number;
  index: number;
}

export interface SpawnHandle {
  pid: number;
  syncFd: number;
  errorFd: number;
}

export interface Addon {
  spawn(plan: unknown): SpawnHandle;
  release(syncFd: number, errorFd: number): ChildFailure | null;
  flock(fd: number, exclusive: boolean, wait: boolean): boolean;
  mkfifo(path: string, mode: number): void;
  openExecFifo(path: string, pid: number): boolean;
  pidfdWait(pid: number, timeoutMs: number): boolean;
  waitpid(pid: number): Promise<{ code: number | null; signal: number | null }>;
  reap(pid: number): void;
  steps: string[];
}

export const buildDir = fileURLToPath(new URL('../build/Release/', import.meta.url));
export const initPath = buildDir + 'tsrunc-init';

let loaded: Addon | undefined;

export function addon(): Addon {
  loaded ??= createRequire(import.meta.url)(buildDir + 'tsrunc.node') as Addon;
  return loaded;
}
