import type { FlagSpec, Parsed } from './args.ts';
import { RuntimeError } from '../util/errors.ts';

export interface Globals {
  root: string;
  debug: boolean;
  /** --rootless as given (container/rootless.ts reads it; runc: only where a container is made) */
  rootless?: string;
  /** --systemd-cgroup: create and run make the container's cgroup a systemd scope (later verbs read the record) */
  systemdCgroup?: boolean;
}

export interface Command {
  flags: FlagSpec[];
  /** resolves to the exit status */
  run(globals: Globals, args: Parsed): Promise<number> | number;
}

/** Flags before the verb; boot.ts reads them too, to find the verb. */
export const GLOBAL_FLAGS: FlagSpec[] = [
  { names: ['root'], type: 'string' },
  { names: ['log'], type: 'string' },
  { names: ['log-format'], type: 'string' },
  { names: ['debug'], type: 'bool' },
  { names: ['systemd-cgroup'], type: 'bool' },
  { names: ['rootless'], type: 'string' },
  { names: ['criu'], type: 'string' },
  { names: ['help', 'h'], type: 'bool' },
  { names: ['version', 'v'], type: 'bool' },
];

export const HELP: FlagSpec = { names: ['help', 'h'], type: 'bool' };

/** The container id argument, with runc's error when it is missing. */
export function requireArgs(args: Parsed, verb: string, count = 1): string {
  if (args.rest.length < count)
    throw new RuntimeError(`"${verb}" requires a minimum of ${count} argument${count > 1 ? 's' : ''}`);
  return args.rest[0];
}
