// JSON.parse for config.json, keeping the seccomp argument values that a
// double cannot hold.
//
// JSON.parse makes every number a double, exact only up to 2^53. Elsewhere in
// a config that is harmless (2^64-1, "unlimited", is what it rounds to), but a
// seccomp rule compares a syscall argument with its value bit for bit: a rule
// for 2^63-1 (0x7fffffffffffffff) would be compiled for 2^63. runc (Go's
// uint64) keeps such values exact, and so must we.
//
// Such a value becomes a JSON.rawJSON object holding its digits: the schema
// checks its range (config/schema.ts, seccompArgValue), the seccomp plan reads
// it as a BigInt (container/seccomp.ts), and JSON.stringify writes the digits
// back unchanged into the config create keeps for exec. No zod here: the
// state layer reads that config with this too.

/** A seccomp argument value above 2^53, as JSON.rawJSON keeps it. */
export interface ExactInteger {
  readonly rawJSON: string;
}

interface RawJSONApi {
  rawJSON(text: string): ExactInteger;
  isRawJSON(v: unknown): v is ExactInteger;
}
const RAW = JSON as unknown as RawJSONApi;

export const isExactInteger = (v: unknown): v is ExactInteger => RAW.isRawJSON(v);

// 16 digits or more after "value" or "valueTwo": the reviver (which costs a
// call per value of a 20 kB profile) only when a value may be that large.
const MAYBE_LARGE = /"value(?:Two)?"\s*:\s*\d{16}/;

function keepExact(this: Record<string, unknown>, key: string, v: unknown, context?: { source?: string }): unknown {
  if (
    typeof v === 'number' &&
    !Number.isSafeInteger(v) &&
    (key === 'value' || key === 'valueTwo') &&
    'op' in this &&
    context?.source !== undefined &&
    /^\d+$/.test(context.source)
  )
    return RAW.rawJSON(context.source);
  return v;
}

/** JSON.parse, with large seccomp argument values kept exact (above). */
export function parseConfigJson(text: string): unknown {
  return MAYBE_LARGE.test(text) ? JSON.parse(text, keepExact as (key: string, v: unknown) => unknown) : JSON.parse(text);
}
