// Known differences: requirements a runtime is known to fail, and why.
// Data in known-differences.json (an array of entries):
//
//   { "runtime": "runc",            runtime name (first word of `--version`), or "*"
//     "version": "1.1.*",           optional glob on its version (default: any)
//     "test": "runtime.md Operations/Delete: deleting a created container*",
//                                   glob (* = any text) on the full test name, or /regex/
//     "reason": "…",                why: shown in every report
//     "links": ["https://…"] }      optional
//
// A failing test that matches an entry is reported as a known difference; it
// does not make the run fail (unless --strict).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface KnownDifference {
  runtime: string;
  version?: string;
  test: string;
  reason: string;
  links?: string[];
}

export const knownDifferencesFile = join(import.meta.dirname, 'known-differences.json');

export function loadKnownDifferences(file = knownDifferencesFile): KnownDifference[] {
  const data: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(data)) throw new Error(`${file}: expected an array of entries`);
  return data.map((e, i) => {
    const where = `${file}[${i}]`;
    if (typeof e !== 'object' || e === null) throw new Error(`${where}: not an object`);
    for (const k of ['runtime', 'test', 'reason'] as const)
      if (typeof e[k] !== 'string' || e[k] === '') throw new Error(`${where}.${k}: a non-empty string is required`);
    if (e.version !== undefined && typeof e.version !== 'string') throw new Error(`${where}.version: must be a string`);
    if (e.links !== undefined && (!Array.isArray(e.links) || e.links.some((l: unknown) => typeof l !== 'string')))
      throw new Error(`${where}.links: must be an array of strings`);
    toRegExp(e.test); // throws on a bad /regex/
    return e as KnownDifference;
  });
}

/** A glob (`*` any text, `?` one character) or a /regex/flags as an anchored RegExp. */
export function toRegExp(pattern: string): RegExp {
  const re = /^\/(.*)\/([a-z]*)$/s.exec(pattern);
  if (re) return new RegExp(re[1], re[2]);
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.');
  return new RegExp(`^${body}$`, 's');
}

export function findKnownDifference(
  list: KnownDifference[],
  runtime: { name: string; version: string },
  testName: string,
): KnownDifference | undefined {
  return list.find(
    (e) =>
      (e.runtime === '*' || e.runtime === runtime.name) &&
      (e.version === undefined || toRegExp(e.version).test(runtime.version)) &&
      toRegExp(e.test).test(testName),
  );
}
