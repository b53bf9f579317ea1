// runc's command line (urfave/cli over Go's flag package): `-flag` and
// `--flag` alike, `--flag value` or `--flag=value`, flags end at the first
// positional argument or `--`; for a verb's own flags, after urfave/cli's
// reordering (reorder below).
import { RuntimeError } from '../util/errors.ts';
import { isDigits } from '../util/text.ts';

export interface FlagSpec {
  /** names without dashes; the first is the key in the result */
  names: string[];
  type: 'string' | 'bool' | 'int' | 'strings';
}

export type Parsed = {
  flags: Record<string, string | boolean | number | string[] | undefined>;
  rest: string[];
};

/** The spec one of whose names is `name`. A scan, not a Map built first: a verb has a few dozen flags at most, and every run parses. */
function specOf(specs: FlagSpec[], name: string): FlagSpec | undefined {
  for (let i = 0; i < specs.length; i++) if (specs[i].names.includes(name)) return specs[i];
  return undefined;
}

/** `-name`, `--name` or `--name=value` split at its `=` (eq: -1 without one). Not a regex: each regex's first use compiles it (~0.06 ms under Bun), on every run. */
function flagParts(a: string): { body: string; eq: number; name: string } {
  const body = a.slice(a.startsWith('--') ? 2 : 1);
  const eq = body.indexOf('=');
  return { body, eq, name: eq >= 0 ? body.slice(0, eq) : body };
}

/** Whether `a` names one of the flags, as urfave/cli's argIsFlag decides it. */
function isFlag(a: string, specs: FlagSpec[]): boolean {
  return a !== '-' && a !== '--' && a.startsWith('-') && specOf(specs, flagParts(a).name) !== undefined;
}

/**
 * urfave/cli's reorderArgs (runc 1.1's), which every runc verb but exec and
 * ps goes through: a flag of the verb's after its arguments counts as if it
 * came first (`delete ID --force`, `kill ID KILL --all`), and so does the
 * word after it, as its value, unless that word is a flag of the verb's too
 * (even after a flag that takes none: runc's `kill ID --all KILL` kills a
 * container named KILL). A word that is no flag of the verb's stays where it
 * is, an argument like the others; `--` ends the flags, before the
 * arguments met so far.
 */
function reorder(argv: string[], specs: FlagSpec[]): string[] {
  const front: string[] = [];
  const rest: string[] = [];
  let valueNext = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (valueNext && !isFlag(a, specs)) {
      valueNext = false;
      front.push(a);
    } else if (a === '--') {
      front.push('--');
      for (let j = 0; j < rest.length; j++) front.push(rest[j]);
      for (let j = i + 1; j < argv.length; j++) front.push(argv[j]);
      return front;
    } else if (isFlag(a, specs)) {
      front.push(a);
      valueNext = !a.includes('=');
    } else rest.push(a);
  }
  for (let j = 0; j < rest.length; j++) front.push(rest[j]);
  return front;
}

export function parseArgs(argv: string[], specs: FlagSpec[], what: string, reordered = false): Parsed {
  if (reordered) argv = reorder(argv, specs);
  const flags: Parsed['flags'] = {};
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    const { body, eq, name } = flagParts(a);
    const spec = specOf(specs, name);
    if (!spec) throw new RuntimeError(`${what}: flag provided but not defined: -${name}`);
    const key = spec.names[0];
    if (spec.type === 'bool') {
      flags[key] = eq >= 0 ? body.slice(eq + 1) !== 'false' : true;
      continue;
    }
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else if (i + 1 < argv.length) value = argv[++i];
    else throw new RuntimeError(`${what}: flag needs an argument: -${name}`);
    if (spec.type === 'int') {
      if (!isDigits(value[0] === '-' ? value.slice(1) : value)) throw new RuntimeError(`${what}: invalid value "${value}" for flag -${name}`);
      flags[key] = Number(value);
    } else if (spec.type === 'strings') {
      flags[key] = [...((flags[key] as string[]) ?? []), value];
    } else flags[key] = value;
  }
  return { flags, rest: argv.slice(i) };
}
