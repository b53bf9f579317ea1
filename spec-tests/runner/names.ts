// Test names of the conformance suite, and what the runner reads from them.
//
//   <spec file> <Section>: <requirement> [<level>]
//   runtime.md Operations/Delete: deleting a running container … MUST generate an error [MUST]
//
// The spec file is the runtime-spec document (runtime.md, config.md,
// config-linux.md, …); the section runs up to the first ": "; the level is the
// bracketed suffix (MUST, MUST NOT, REQUIRED, SHOULD, SHOULD NOT, MAY, or a
// word like "definition" for text without an RFC 2119 keyword).

export interface ParsedName {
  /** the spec document, e.g. "runtime.md"; "?" when the name does not follow the convention */
  specFile: string;
  section: string;
  requirement: string;
  /** the bracketed level as written, e.g. "MUST NOT"; "" when there is none */
  level: string;
  /** MUST-class (MUST, MUST NOT, REQUIRED, SHALL, SHALL NOT): a failure makes the run fail */
  levelClass: LevelClass;
  /** false when the name does not follow the convention (the runner warns) */
  conventional: boolean;
}

export type LevelClass = 'must' | 'should' | 'may' | 'other';

const NAME = /^(?<spec>[A-Za-z0-9_.-]+\.md) (?<section>[^:]+?): (?<req>.*?)(?: \[(?<level>[^\][]+)\])?$/;

export function parseTestName(name: string): ParsedName {
  const m = NAME.exec(name.trim());
  if (!m?.groups) {
    return { specFile: '?', section: '', requirement: name, level: '', levelClass: 'other', conventional: false };
  }
  const level = (m.groups.level ?? '').trim();
  return {
    specFile: m.groups.spec,
    section: m.groups.section.trim(),
    requirement: m.groups.req.trim(),
    level,
    levelClass: classifyLevel(level),
    conventional: level !== '',
  };
}

/**
 * The strongest RFC 2119 keyword in a level: "MUST NOT" and "REQUIRED" are
 * MUST-class, "SHOULD NOT" and "RECOMMENDED" SHOULD-class, "MAY" and
 * "OPTIONAL" MAY-class; anything else ("definition", "") is 'other'.
 */
export function classifyLevel(level: string): LevelClass {
  const l = level.toUpperCase();
  if (/\b(MUST|REQUIRED|SHALL)\b/.test(l)) return 'must';
  if (/\b(SHOULD|RECOMMENDED)\b/.test(l)) return 'should';
  if (/\b(MAY|OPTIONAL)\b/.test(l)) return 'may';
  return 'other';
}

/**
 * The reason of a skipped test. Convention: a test that cannot run somewhere
 * skips itself at run time with a reason, `ctx.skip('needs cgroup v2')` or
 * `ctx.skip(!hasV2, 'needs cgroup v2')`; vitest keeps it as the result's note.
 * A leading "skip:" is dropped. Static skips (`it.skip`, `it.skipIf`,
 * `describe.skipIf`) carry no reason; the runner says so.
 */
export function skipReason(note: string | undefined, mode: string, isRoot: boolean): string {
  const n = note?.trim().replace(/^skip(ped)?\s*:\s*/i, '').trim();
  if (n) return n;
  if (mode === 'todo') return 'todo: not written yet';
  if (!isRoot) return 'not root (the suite needs root)';
  return 'skipped statically (it.skip / skipIf: no reason recorded)';
}
