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
  /**
   * The arguments the verb takes, as runc counts them: `none`; `id` alone
   * (the default); the id and at most a signal (kill); the id and words of
   * the process's command (exec) or ps(1)'s options (ps), which are theirs,
   * flags or not: no reordering after the id (runc's SkipArgReorder).
   */
  args?: 'none' | 'id' | 'id+signal' | 'id+command';
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

/** runc's checkArgs, in its words (exit status 1): the count the verb takes (Command.args). */
export function checkArgCount(verb: string, cmd: Command, rest: string[]): void {
  const kind = cmd.args ?? 'id';
  const exactly = kind === 'none' ? 0 : kind === 'id' ? 1 : -1;
  if (exactly >= 0 && rest.length !== exactly) throw new RuntimeError(`tsrunc: "${verb}" requires exactly ${exactly} argument(s)`);
  if (rest.length < 1 && exactly < 0) throw new RuntimeError(`tsrunc: "${verb}" requires a minimum of 1 argument(s)`);
  if (kind === 'id+signal' && rest.length > 2) throw new RuntimeError(`tsrunc: "${verb}" requires a maximum of 2 argument(s)`);
}

/** The container id: the first argument (runVerb has checked the count). */
export function idArg(args: Parsed): string {
  return args.rest[0];
}
