// Loading and validating config.json (and exec's process.json).
//
// Errors are reported as `<json.path>: <reason>`, e.g.
//   process.args: must be a non-empty array of strings
//   linux.namespaces[1].type: must be one of pid, network, mount, ipc, uts, user, cgroup, time
// Only the FIRST problem is reported: the CLI prints one error line per
// failure (like runc), and after fixing one problem the next run names the
// next; a wall of follow-on errors from one typo helps nobody.

import { join } from '../util/path.ts';
import type { ZodMiniType, core } from 'zod/mini';
import { readFileSync } from '../util/fs.ts';
import { configSchema, linuxResourcesSchema, processSchema, type Config, type LinuxResources, type Process } from './schema.ts';
import { parseConfigJson } from './json.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
  /** JSON path of the offending value, e.g. `mounts[2].destination`; the file name for file-level errors. */
  readonly path: string;
  /** Plain-words reason, e.g. `required`. */
  readonly reason: string;
  constructor(path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.path = path;
    this.reason = reason;
  }
}

/** What create/run need: a config with a process to start (runc refuses a config without one). */
export type RunnableConfig = Config & { process: Process };

const IDENT = /^[A-Za-z_$][\w$]*$/;

/** `['linux','namespaces',1,'type']` → `linux.namespaces[1].type`; odd keys (annotations, sysctl) in brackets. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const s = String(seg);
      out += IDENT.test(s) ? (out ? '.' : '') + s : `[${JSON.stringify(s)}]`;
    }
  }
  return out;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean',
  array: 'an array',
  object: 'an object',
  record: 'an object',
};

/**
 * Reasons for the issues whose schema did not carry its own message. Runs as
 * zod's per-parse error map, where the raw issue still has its `input`, which
 * is how a missing key (input undefined) becomes "required".
 */
function reasonFor(iss: core.$ZodRawIssue): string {
  // A missing key reaches the map as invalid_type (or invalid_value, for an enum) with no input.
  if (iss.input === undefined && iss.code !== 'custom') return 'required';
  switch (iss.code) {
    case 'invalid_type':
      return `must be ${TYPE_NAMES[iss.expected] ?? iss.expected}`;
    case 'invalid_value':
      return iss.values.length === 1 ? `must be ${String(iss.values[0])}` : `must be one of ${iss.values.join(', ')}`;
    case 'too_small':
      if (iss.origin === 'array') return `must have at least ${iss.minimum} item${iss.minimum === 1 ? '' : 's'}`;
      if (iss.origin === 'string') return iss.minimum === 1 ? 'must not be empty' : `must be at least ${iss.minimum} characters`;
      return `must be at least ${iss.minimum}`;
    case 'too_big':
      if (iss.origin === 'array') return `must have at most ${iss.maximum} items`;
      if (iss.origin === 'string') return `must be at most ${iss.maximum} characters`;
      return `must be at most ${iss.maximum}`;
    case 'invalid_format':
      return iss.pattern ? `must match ${iss.pattern}` : `must be a valid ${iss.format}`;
    case 'invalid_key':
      return 'has an invalid key';
    default:
      return 'is invalid';
  }
}

/**
 * A null where a value may be absent is taken as absent, as runc takes it
 * (Go's encoding/json leaves a field as it is for a null). The OCI schema
 * has no nulls, but a tool in another language may write one
 * (`"hooks": null`), and a config runc accepts must run here. Keys whose
 * value is null go, at every depth; a null inside an array stays, refused
 * where the array wants something else. Loops, not Object.entries: this
 * walks every create's whole config.
 */
export function nullsAsAbsent(v: unknown): void {
  if (v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) nullsAsAbsent(v[i]);
    return;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) {
    if (o[k] === null) delete o[k];
    else nullsAsAbsent(o[k]);
  }
}

function check<T>(schema: ZodMiniType<T>, json: unknown, prefix: string[], rootLabel: string): T {
  nullsAsAbsent(json);
  // jitless (also set globally in schema.ts): zod's object fast path compiles
  // a validator with new Function on first use; for one parse per process it
  // measured no faster, so skip the eval.
  const r = schema.safeParse(json, { error: reasonFor, jitless: true });
  if (r.success) return r.data;
  const iss = r.error.issues[0]!;
  const path = formatPath([...prefix, ...iss.path]);
  throw new ConfigError(path || rootLabel, iss.message);
}

/** Validate a parsed config.json. Throws ConfigError; the result keeps unknown fields. */
export function parseConfig(json: unknown): RunnableConfig {
  const config = check<Config>(configSchema, json, [], 'config');
  if (config.process === undefined) throw new ConfigError('process', 'required');
  return config as RunnableConfig;
}

/** Validate the linux.resources document given to `update -r`; paths are reported from its top. */
export function parseResources(json: unknown): LinuxResources {
  return check<LinuxResources>(linuxResourcesSchema, json, [], 'resources');
}

/** Validate the object given to `exec --process`; paths are reported as `process.…`. */
export function parseProcess(json: unknown): Process {
  return check<Process>(processSchema, json, ['process'], 'process');
}

/** Read, parse and validate `<bundle>/config.json`. */
export function loadConfig(bundleDir: string): RunnableConfig {
  let text: string;
  try {
    text = readFileSync(join(bundleDir, 'config.json'), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ConfigError('config.json', `no such file in bundle ${bundleDir}`);
    }
    throw new ConfigError('config.json', (e as Error).message);
  }
  let json: unknown;
  try {
    json = parseConfigJson(text);
  } catch (e) {
    throw new ConfigError('config.json', `invalid JSON: ${(e as Error).message}`);
  }
  return parseConfig(json);
}
