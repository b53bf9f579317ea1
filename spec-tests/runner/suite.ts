// Runs the conformance suite (spec-tests/*.test.ts) once, for one runtime,
// through vitest's Node API, and returns one record per test.
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Reporter, TestCase, TestModule } from 'vitest/node';
import { parseTestName, skipReason, type ParsedName } from './names.ts';
import { repo } from './runtimes.ts';

/**
 * The conformance files: spec-tests/*.test.ts, not spec-tests/runner/ (the
 * runner's own tests); compiled to .test.js in the tsrunc-spec-tests package,
 * where Node would not strip types (it refuses to under node_modules).
 */
export const CONFORMANCE_INCLUDE = ['spec-tests/*.test.ts', 'spec-tests/*.test.js'];
const globalSetup = existsSync(join(repo, 'test/lib/tmp-global.ts')) ? 'test/lib/tmp-global.ts' : 'test/lib/tmp-global.js';

export type Outcome = 'pass' | 'fail' | 'skip';

export interface TestRecord {
  /** test file, relative to the repository */
  file: string;
  /** the test's full name (its `it` title) */
  name: string;
  parsed: ParsedName;
  result: Outcome;
  /** skip reason */
  reason?: string;
  /** first lines of the failure */
  error?: string;
  /** declared with it.fails (tsruncKnownFailure) in the test file */
  declaredFailure?: boolean;
  durationMs?: number;
}

export interface SuiteRun {
  tests: TestRecord[];
  /** files that could not be collected (syntax errors, failing imports, failing hooks) */
  fileErrors: { file: string; error: string }[];
  unhandledErrors: string[];
  /** vitest's reason for the end of the run: passed, failed, interrupted */
  endReason: string;
  durationMs: number;
}

export interface SuiteOptions {
  env: Record<string, string | undefined>;
  include?: string[];
  /** file filters (vitest's positional filters) */
  filters?: string[];
  /** only tests whose name matches (vitest -t) */
  grep?: string;
  workers?: number;
  isRoot: boolean;
  onResult?: (t: TestRecord) => void;
}

function errorText(e: { message?: string; name?: string } | undefined, lines = 4): string {
  if (!e) return 'failed';
  const msg = (e.message ?? String(e)).split('\n').filter((l) => l.trim() !== '');
  return msg.slice(0, lines).join('\n');
}

export function recordOf(tc: TestCase, isRoot: boolean): TestRecord {
  const r = tc.result();
  const name = tc.name;
  const base = { file: relative(repo, tc.module.moduleId), name, parsed: parseTestName(name), durationMs: tc.diagnostic()?.duration };
  const fails = tc.options.fails === true;
  switch (r.state) {
    case 'passed':
      // it.fails: vitest reports "passed" when the body failed: the requirement is not met.
      return fails
        ? { ...base, result: 'fail', declaredFailure: true, error: 'fails, as declared in the test file (it.fails)' }
        : { ...base, result: 'pass' };
    case 'failed': {
      const first = r.errors?.[0];
      // it.fails whose body passed: vitest says "Expect test to fail"; the requirement is met.
      if (fails && r.errors?.length === 1 && /^Expect test to fail/.test(first?.message ?? ''))
        return { ...base, result: 'pass', declaredFailure: true };
      return { ...base, result: 'fail', error: errorText(first), declaredFailure: fails || undefined };
    }
    case 'skipped':
      return { ...base, result: 'skip', reason: skipReason(r.note, tc.options.mode, isRoot) };
    default:
      return { ...base, result: 'fail', error: 'did not finish (the run was interrupted)' };
  }
}

class Collector implements Reporter {
  modules: readonly TestModule[] = [];
  unhandled: string[] = [];
  reason = '';
  // (no parameter properties: Node runs this file by stripping types)
  isRoot: boolean;
  onResult?: (t: TestRecord) => void;
  grep?: RegExp;
  constructor(isRoot: boolean, onResult?: (t: TestRecord) => void, grep?: RegExp) {
    this.isRoot = isRoot;
    this.onResult = onResult;
    this.grep = grep;
  }
  onTestCaseResult(tc: TestCase): void {
    if (tc.options.mode === 'skip' && this.grep && !this.grep.test(tc.name)) return;
    this.onResult?.(recordOf(tc, this.isRoot));
  }
  onTestRunEnd(modules: readonly TestModule[], unhandled: readonly { message?: string }[], reason: string): void {
    this.modules = modules;
    this.unhandled = unhandled.map((e) => errorText(e));
    this.reason = reason;
  }
}

export async function runSuite(opts: SuiteOptions): Promise<SuiteRun> {
  const { createVitest } = await import('vitest/node');
  const collector = new Collector(opts.isRoot, opts.onResult, opts.grep ? new RegExp(opts.grep) : undefined);
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(opts.env)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  const started = Date.now();
  const exitCode = process.exitCode;
  try {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.env)) if (v !== undefined) env[k] = v;
    const vitest = await createVitest(
      'test',
      {
        config: false,
        root: repo,
        watch: false,
        include: opts.include ?? CONFORMANCE_INCLUDE,
        // Real containers: a few files at a time, as in vitest.config.ts.
        pool: 'forks',
        maxWorkers: opts.workers ?? 2,
        // one TMPDIR for the run, removed at its end, as in vitest.config.ts
        globalSetup: [globalSetup],
        testTimeout: 30_000,
        hookTimeout: 30_000,
        reporters: [collector],
        testNamePattern: opts.grep,
        env,
        passWithNoTests: true,
      },
      { logLevel: 'error' },
    );
    try {
      await vitest.start(opts.filters ?? []);
    } finally {
      await vitest.close();
    }
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    // vitest sets a failing exit code for failing tests; the runner decides its own.
    process.exitCode = exitCode;
  }
  const grep = opts.grep ? new RegExp(opts.grep) : undefined;
  const tests: TestRecord[] = [];
  const fileErrors: SuiteRun['fileErrors'] = [];
  for (const m of collector.modules) {
    const file = relative(repo, m.moduleId);
    for (const e of m.errors()) fileErrors.push({ file, error: errorText(e, 6) });
    for (const tc of m.children.allTests()) {
      // With a name filter, vitest reports the other tests as skipped: leave them out.
      if (grep && tc.options.mode === 'skip' && !grep.test(tc.name) && !grep.test(tc.fullName.replaceAll(' > ', ' '))) continue;
      tests.push(recordOf(tc, opts.isRoot));
    }
  }
  return { tests, fileErrors, unhandledErrors: collector.unhandled, endReason: collector.reason, durationMs: Date.now() - started };
}
