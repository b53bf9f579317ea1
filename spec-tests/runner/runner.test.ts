// Tests of the conformance runner itself (not conformance tests: the runner
// runs spec-tests/*.test.ts only; vitest.config.ts's spec-tests/**/*.test.ts
// runs this file with the rest of `npm test`). No containers: fast, no root
// needed, except the end-to-end test, which runs the runner on a fixture file.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findKnownDifference, loadKnownDifferences, toRegExp, type KnownDifference } from './known.ts';
import { parseArgs } from './main.ts';
import { classifyLevel, parseTestName, skipReason } from './names.ts';
import { buildReport, renderMarkdown, renderSummaryMarkdown, renderTerminal, replaceSummaryBlock, type Report } from './report.ts';
import { uid } from '../../test/lib/harness.ts';
import { busyboxRootfs, cgroupModeOf, HARNESS_ID, harnessCgroups, needsHybridWrapper, parseVersionOutput, repo, sweepLeftCgroups, type Runtime } from './runtimes.ts';
import type { SuiteRun, TestRecord } from './suite.ts';

const tmp = mkdtempSync(join(tmpdir(), 'spec-runner-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('test names', () => {
  it('parses <spec file> <Section>: <requirement> [<level>]', () => {
    expect(
      parseTestName(
        'runtime.md Operations/Delete: deleting a running container (not stopped) MUST have no effect on the container and MUST generate an error [MUST]',
      ),
    ).toEqual({
      specFile: 'runtime.md',
      section: 'Operations/Delete',
      requirement: 'deleting a running container (not stopped) MUST have no effect on the container and MUST generate an error',
      level: 'MUST',
      levelClass: 'must',
      conventional: true,
    });
    const p = parseTestName('config-linux.md Control groups: cgroupsPath: a relative path MAY be interpreted relative to a runtime-chosen location [MAY]');
    expect(p).toMatchObject({ specFile: 'config-linux.md', section: 'Control groups', level: 'MAY', levelClass: 'may' });
    expect(p.requirement).toBe('cgroupsPath: a relative path MAY be interpreted relative to a runtime-chosen location');
    expect(parseTestName('runtime.md State: annotations … (from config.json) [definition]')).toMatchObject({ level: 'definition', levelClass: 'other', conventional: true });
    expect(parseTestName('runtime.md Lifecycle 2 / Create: updates MUST NOT affect it [MUST NOT]')).toMatchObject({ section: 'Lifecycle 2 / Create', levelClass: 'must' });
  });

  it('keeps names that do not follow the convention, flagged', () => {
    expect(parseTestName('just a test')).toMatchObject({ specFile: '?', requirement: 'just a test', conventional: false });
    expect(parseTestName('runtime.md State: no level')).toMatchObject({ specFile: 'runtime.md', level: '', conventional: false });
  });

  it('classifies levels by their strongest RFC 2119 keyword', () => {
    for (const l of ['MUST', 'MUST NOT', 'REQUIRED', 'SHALL', 'must', 'MUST, SHOULD']) expect(classifyLevel(l), l).toBe('must');
    for (const l of ['SHOULD', 'SHOULD NOT', 'RECOMMENDED']) expect(classifyLevel(l), l).toBe('should');
    for (const l of ['MAY', 'OPTIONAL']) expect(classifyLevel(l), l).toBe('may');
    for (const l of ['definition', '', 'informative']) expect(classifyLevel(l), l).toBe('other');
  });

  it('every conformance test name follows the convention', () => {
    // From the sources, so no containers are run: every single-quoted string that starts like a test name.
    const files = readdirSync(join(repo, 'spec-tests')).filter((f) => f.endsWith('.test.ts'));
    expect(files).toContain('runtime.test.ts');
    for (const f of files)
      for (const name of testNamesIn(readFileSync(join(repo, 'spec-tests', f), 'utf8')))
        if (/^[\w.-]+\.md [^:]+: /.test(name)) expect(parseTestName(name).conventional, `${f}: ${name}`).toBe(true);
  });

  it('skip reasons: the ctx.skip note, without a "skip:" prefix; else why', () => {
    expect(skipReason('skip: needs cgroup v2', 'run', true)).toBe('needs cgroup v2');
    expect(skipReason('needs cgroup v2', 'run', true)).toBe('needs cgroup v2');
    expect(skipReason(undefined, 'skip', false)).toMatch(/not root/);
    expect(skipReason(undefined, 'skip', true)).toMatch(/statically/);
    expect(skipReason(undefined, 'todo', true)).toMatch(/todo/);
  });
});

/** Single-quoted string literals that are the first argument of a call: it('…', it.fails('…', tsruncKnownFailure('…', … */
function testNamesIn(source: string): string[] {
  return [...source.matchAll(/\(\s*'((?:[^'\\\n]|\\.)*)'\s*,/g)].map((m) => m[1].replace(/\\(.)/g, '$1'));
}

describe('known differences', () => {
  const list: KnownDifference[] = [
    { runtime: 'runc', test: 'runtime.md Operations/Delete: deleting a created container*', reason: 'runc#1774' },
    { runtime: 'crun', version: '1.8.*', test: '/^runtime\\.md Operations\\/Create: if the ID is not valid/', reason: 'old crun' },
    { runtime: '*', test: 'config.md Hooks: *', reason: 'nobody' },
  ];
  const name = 'runtime.md Operations/Delete: deleting a created container (not stopped) MUST have no effect on the container and MUST generate an error [MUST]';

  it('matches runtime name, version glob and test glob or /regex/', () => {
    expect(findKnownDifference(list, { name: 'runc', version: '1.1.5' }, name)?.reason).toBe('runc#1774');
    expect(findKnownDifference(list, { name: 'tsrunc', version: '0.1.0' }, name)).toBeUndefined();
    const id = 'runtime.md Operations/Create: if the ID is not valid, MUST generate an error [MUST]';
    expect(findKnownDifference(list, { name: 'crun', version: '1.8.1' }, id)?.reason).toBe('old crun');
    expect(findKnownDifference(list, { name: 'crun', version: '1.21' }, id)).toBeUndefined();
    expect(findKnownDifference(list, { name: 'youki', version: '0.5.0' }, 'config.md Hooks: poststart [MUST]')?.reason).toBe('nobody');
  });

  it('globs are anchored and escape regex characters', () => {
    expect(toRegExp('a (b)*').test('a (b) c')).toBe(true);
    expect(toRegExp('a (b)*').test('xa (b)')).toBe(false);
    expect(toRegExp('1.1.*').test('1.1.5+ds1')).toBe(true);
    expect(toRegExp('1.1.*').test('101.5')).toBe(false);
  });

  it('known-differences.json is valid, and every entry matches a test that exists', () => {
    const entries = loadKnownDifferences();
    expect(entries.length).toBeGreaterThan(0);
    // The names as vitest collects them (it.each expanded), the last part of each.
    const files = readdirSync(join(repo, 'spec-tests')).filter((f) => f.endsWith('.test.ts')).map((f) => join(repo, 'spec-tests', f));
    const out = join(tmp, 'list.json');
    const r = spawnSync(process.execPath, [join(repo, 'node_modules/vitest/vitest.mjs'), 'list', `--json=${out}`, ...files], { cwd: repo, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const names = (JSON.parse(readFileSync(out, 'utf8')) as Array<{ name: string }>).map((t) => t.name.split(' > ').pop()!);
    for (const e of entries) expect(names.some((n) => toRegExp(e.test).test(n)), `${e.runtime}: ${e.test}`).toBe(true);
  });

  it('refuses malformed entries', () => {
    const f = join(tmp, 'bad.json');
    writeFileSync(f, JSON.stringify([{ runtime: 'runc', test: 'x' }]));
    expect(() => loadKnownDifferences(f)).toThrow(/reason/);
    writeFileSync(f, JSON.stringify({ runtime: 'runc' }));
    expect(() => loadKnownDifferences(f)).toThrow(/array/);
  });
});

describe('runtimes', () => {
  it('reads name, version and spec version from --version', () => {
    expect(parseVersionOutput('runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\ngo: go1.19.8\n', 'x')).toEqual({
      name: 'runc',
      version: '1.1.5+ds1',
      specVersion: '1.0.2-dev',
    });
    expect(parseVersionOutput('crun version 1.8.1\ncommit: f8a0\nrundir: /run/crun\nspec: 1.0.0\n+SYSTEMD', 'x')).toEqual({ name: 'crun', version: '1.8.1', specVersion: '1.0.0' });
    expect(parseVersionOutput('tsrunc version 0.1.0\nspec: 1.2.0\nnode: v24.9.0\n', 'x')).toMatchObject({ name: 'tsrunc', version: '0.1.0' });
    expect(parseVersionOutput('youki version 0.5.3\ncommit: 0.5.3-0-g123\n', 'x')).toMatchObject({ name: 'youki', version: '0.5.3', specVersion: '' });
    expect(parseVersionOutput('', 'myrt')).toEqual({ name: 'myrt', version: '', specVersion: '' });
  });

  const line = (id: number, point: string, fs: string, opts = 'rw') => `${id} 23 0:${id} / ${point} rw,relatime - ${fs} ${fs} ${opts}`;
  it('tells cgroup v1, hybrid and v2 hosts apart', () => {
    const v1 = [line(31, '/sys/fs/cgroup', 'tmpfs'), line(32, '/sys/fs/cgroup/cpu', 'cgroup', 'rw,cpu'), line(40, '/sys/fs/cgroup/systemd', 'cgroup', 'rw,name=systemd')];
    expect(cgroupModeOf(v1.join('\n'))).toBe('v1');
    expect(cgroupModeOf([...v1, line(41, '/sys/fs/cgroup/unified', 'cgroup2')].join('\n'))).toBe('hybrid');
    expect(cgroupModeOf(line(30, '/sys/fs/cgroup', 'cgroup2'))).toBe('v2');
    expect(cgroupModeOf('')).toBe('none');
  });

  it('wraps crun on hybrid hosts only (auto), or as asked', () => {
    expect(needsHybridWrapper('crun', 'auto', 'hybrid')).toBe(true);
    expect(needsHybridWrapper('crun', 'auto', 'v2')).toBe(false);
    expect(needsHybridWrapper('runc', 'auto', 'hybrid')).toBe(false);
    expect(needsHybridWrapper('runc', 'always', 'v2')).toBe(true);
    expect(needsHybridWrapper('crun', 'never', 'hybrid')).toBe(false);
  });
});

describe('what a runtime leaves', () => {
  it("the sweep knows the harness's container ids, and removes an empty cgroup so named that was not there before the run, and nothing else", (ctx) => {
    for (const id of [uid('spec'), uid('c'), 'spec-123-ab1c7', 'c-9-1']) expect(HARNESS_ID.test(id), id).toBe(true);
    for (const id of ['spec-x-1', 'spec-123', 'system.slice', 'spec-123-AB1', 'c-1-a/b']) expect(HARNESS_ID.test(id), id).toBe(false);
    if (process.getuid?.() !== 0) return ctx.skip('needs root (mkdir in a cgroup hierarchy)');
    const mount = ['/sys/fs/cgroup/pids', '/sys/fs/cgroup/unified', '/sys/fs/cgroup'].find((m) => {
      try {
        return readdirSync(m).includes('cgroup.procs');
      } catch {
        return false;
      }
    });
    if (!mount) return ctx.skip('no cgroup hierarchy mounted at /sys/fs/cgroup/pids, /sys/fs/cgroup/unified or /sys/fs/cgroup');
    // Only this test's own names are swept here: other test files' containers run meanwhile.
    const [old, left, busy] = [uid('spec'), uid('spec'), uid('spec')];
    const mine = new RegExp(`^(${old}|${left}|${busy})$`);
    try {
      mkdirSync(join(mount, old));
    } catch (e) {
      return ctx.skip(`cannot make a cgroup under ${mount} (${(e as NodeJS.ErrnoException).code}: a read-only or delegated-away hierarchy)`);
    }
    try {
      const before = new Set(harnessCgroups(mine));
      expect([...before]).toEqual([join(mount, old)]);
      mkdirSync(join(mount, left));
      mkdirSync(join(mount, busy, 'sub'), { recursive: true });
      expect(sweepLeftCgroups(before, mine)).toEqual([join(mount, left)]);
      expect(readdirSync(mount).filter((n) => mine.test(n)).sort()).toEqual([old, busy].sort());
    } finally {
      for (const d of [join(mount, busy, 'sub'), join(mount, busy), join(mount, old), join(mount, left)]) if (existsSync(d)) rmdirSync(d);
    }
  });
});

describe('arguments', () => {
  it('--runtime, --compare and defaults', () => {
    expect(parseArgs([], {})).toMatchObject({ runtimes: ['tsrunc'], ociVersion: 'auto', strict: false, wrap: 'auto' });
    expect(parseArgs([], { TSRUNC_BIN: '/x/rt', SPEC_TESTS_OCI_VERSION: '1.0.2' })).toMatchObject({ runtimes: ['/x/rt'], ociVersion: '1.0.2' });
    expect(parseArgs(['--compare', 'tsrunc,runc', '-r', '/usr/bin/crun', '--strict', '--json=/tmp/r.json'], {})).toMatchObject({
      runtimes: ['tsrunc', 'runc', '/usr/bin/crun'],
      strict: true,
      json: '/tmp/r.json',
    });
    expect(parseArgs(['--help'], {})).toBe('help');
    expect(() => parseArgs(['--bogus'], {})).toThrow(/unknown option/);
    expect(() => parseArgs(['--json'], {})).toThrow(/needs a value/);
    expect(() => parseArgs(['--hybrid-wrapper', 'maybe'], {})).toThrow(/auto, always or never/);
  });
});

// ---------------------------------------------------------------------------
// reports, from synthetic runs

function rtOf(name: string, version: string): Runtime {
  return { spec: name, path: `/usr/bin/${name}`, name, version, label: `${name} ${version}`, specVersion: '', invoke: `/usr/bin/${name}`, notes: [] };
}

function rec(name: string, result: TestRecord['result'], extra: Partial<TestRecord> = {}): TestRecord {
  return { file: 'spec-tests/runtime.test.ts', name, parsed: parseTestName(name), result, ...extra };
}

function runOf(tests: TestRecord[], extra: Partial<SuiteRun> = {}): SuiteRun {
  return { tests, fileErrors: [], unhandledErrors: [], endReason: 'passed', durationMs: 1234, ...extra };
}

const A = 'runtime.md State: ociVersion is REQUIRED [REQUIRED]';
const B = 'runtime.md Operations/Delete: deleting a created container (not stopped) MUST generate an error [MUST]';
const C = 'config.md Hostname: the runtime SHOULD set it | really [SHOULD]';
const D = 'config.md Mounts: skipped one [MUST]';
const known: KnownDifference[] = [{ runtime: 'runc', test: 'runtime.md Operations/Delete: deleting a created container*', reason: 'runc deletes it', links: ['https://github.com/opencontainers/runc/issues/1774'] }];
const meta = { command: 'npm run spec-tests -- --compare tsrunc,runc', host: { kernel: '6.1', os: 'Debian', cgroups: 'cgroup v1' }, strict: false, generatedAt: '2025-01-01T00:00:00Z' };

function sample(strict = false): Report {
  return buildReport(
    [
      { runtime: rtOf('tsrunc', '0.1.0'), run: runOf([rec(A, 'pass'), rec(B, 'fail', { error: 'expected 0 not to be 0' }), rec(C, 'fail', { error: 'no' }), rec(D, 'skip', { reason: 'needs v2' })]) },
      { runtime: rtOf('runc', '1.1.5'), run: runOf([rec(A, 'pass'), rec(B, 'fail', { error: 'expected 0 not to be 0' }), rec(C, 'pass'), rec(D, 'pass')]) },
    ],
    known,
    { ...meta, strict },
  );
}

describe('report', () => {
  it('puts runtimes side by side, marks known differences, counts MUST failures', () => {
    const r = sample();
    expect(r.tests.map((t) => t.name)).toEqual([A, B, C, D]);
    expect(r.tests[1].results['runc 1.1.5']).toMatchObject({ result: 'fail', known: { reason: 'runc deletes it' } });
    expect(r.tests[1].results['tsrunc 0.1.0'].known).toBeUndefined();
    expect(r.runtimes.map((x) => x.summary)).toEqual([
      { tests: 4, pass: 1, fail: 2, skip: 1, known: 0, mustFailures: 1, shouldFailures: 1 },
      { tests: 4, pass: 3, fail: 1, skip: 0, known: 1, mustFailures: 0, shouldFailures: 0 },
    ]);
    expect(r.exitStatus).toBe(1);
  });

  it('exit status: 0 with only known differences and SHOULD failures, 1 with --strict, 2 when a file did not load', () => {
    const only = (runs: { runtime: Runtime; run: SuiteRun }[], strict = false) => buildReport(runs, known, { ...meta, strict }).exitStatus;
    const runc = rtOf('runc', '1.1.5');
    expect(only([{ runtime: runc, run: runOf([rec(A, 'pass'), rec(B, 'fail'), rec(C, 'fail')]) }])).toBe(0);
    expect(only([{ runtime: runc, run: runOf([rec(A, 'pass'), rec(B, 'fail')]) }], true)).toBe(1);
    expect(only([{ runtime: runc, run: runOf([rec(A, 'pass')], { fileErrors: [{ file: 'spec-tests/config.test.ts', error: 'SyntaxError' }] }) }])).toBe(2);
    // A test declared with it.fails counts as known even without an entry.
    expect(only([{ runtime: rtOf('tsrunc', '0.1.0'), run: runOf([rec(A, 'fail', { declaredFailure: true })]) }])).toBe(0);
  });

  it('renders Markdown: one table per spec file, notes for failures, known differences and skips', () => {
    const md = renderMarkdown(sample());
    expect(md).toContain('## runtime.md');
    expect(md).toContain('## config.md');
    expect(md).toContain('| Section | Requirement | Level | tsrunc 0.1.0 | runc 1.1.5 |');
    expect(md).toContain('| Operations/Delete | deleting a created container (not stopped) MUST generate an error | MUST | **FAIL** F1 | known K1 |');
    expect(md).toContain('the runtime SHOULD set it \\| really');
    expect(md).toContain('- **K1**: runc deletes it (https://github.com/opencontainers/runc/issues/1774)');
    expect(md).toContain('- **S1**: needs v2');
    expect(md).toMatch(/\| tsrunc 0\.1\.0 \| 4 \| 1 \| 2 \| 1 \| 1 MUST failure \|/);
    expect(md).toMatch(/\| runc 1\.1\.5 \| 4 \| 3 \| 1 \(1\) \| 0 \| conforms, except known differences \|/);
  });

  it('renders the terminal table within the width', () => {
    const t = renderTerminal(sample(), { color: false, width: 100 });
    for (const l of t.split('\n')) if (l.startsWith('  Operations/Delete')) expect(l.trimEnd().length).toBeLessThanOrEqual(100);
    expect(t).toContain('Known differences');
    expect(t).toMatch(/tsrunc 0\.1\.0 +4 tests: 1 passed, 2 failed, 1 skipped in 1\.2 s: 1 MUST failure/);
  });

  it('replaces the summary block of a README', () => {
    const doc = 'a\n<!-- spec-tests:summary -->\nold\n<!-- /spec-tests:summary -->\nb\n';
    expect(replaceSummaryBlock(doc, renderSummaryMarkdown(sample()))).toMatch(/^a\n<!-- spec-tests:summary -->\n\| runtime \|[^]*\n<!-- \/spec-tests:summary -->\nb\n$/);
    expect(() => replaceSummaryBlock('nothing', 'x')).toThrow();
  });
});

// ---------------------------------------------------------------------------

describe('the runner, end to end', () => {
  it('runs a test file through vitest and reports each kind of result', (ctx) => {
    ctx.skip(!existsSync(join(busyboxRootfs, 'bin/busybox')), 'needs the busybox rootfs (scripts/setup.sh)');
    // A runtime that answers --version and succeeds at everything (the preflight `run`).
    const fake = join(tmp, 'fake');
    writeFileSync(fake, '#!/bin/sh\n[ "$1" = --version ] && printf "fake version 0.0.1\\nspec: 1.2.0\\n"\nexit 0\n');
    chmodSync(fake, 0o755);
    const knownFile = join(tmp, 'known.json');
    writeFileSync(knownFile, JSON.stringify([{ runtime: 'fake', test: 'sample.md Failing: a MUST*', reason: 'the fixture fails it on purpose' }]));
    const json = join(tmp, 'report.json');
    const r = spawnSync(
      process.execPath,
      [join(repo, 'spec-tests/runner/bin.mjs'), '--runtime', fake, '--include', 'spec-tests/runner/fixtures/*.fixture.ts', '--known', knownFile, '--json', json, '--allow-non-root', '--no-color'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const report: Report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report.runtimes[0]).toMatchObject({ label: 'fake 0.0.1', name: 'fake', specVersion: '1.2.0', preflight: { ok: true } });
    const cell = (start: string) => {
      const row = report.tests.find((t) => t.name.startsWith(start));
      expect(row, start).toBeDefined();
      return row!.results['fake 0.0.1'];
    };
    expect(cell('sample.md Passing:')).toEqual({ result: 'pass' });
    expect(cell('sample.md Failing: a MUST')).toMatchObject({ result: 'fail', error: expect.stringContaining('expected 1 to be 2'), known: { reason: 'the fixture fails it on purpose' } });
    expect(cell('sample.md Failing: a SHOULD')).toMatchObject({ result: 'fail' });
    expect(cell('sample.md Failing: a SHOULD').known).toBeUndefined();
    expect(cell('sample.md Declared: a declared failure that fails')).toMatchObject({ result: 'fail', declaredFailure: true, known: { source: 'it.fails' } });
    expect(cell('sample.md Declared: a declared failure that passes')).toMatchObject({ result: 'pass', declaredFailure: true });
    expect(cell('sample.md Skipped: skipped at run time')).toEqual({ result: 'skip', reason: 'needs a feature this host lacks' });
    expect(cell('sample.md Skipped: skipped statically').result).toBe('skip');
    expect(report.unconventionalNames).toEqual(['a test whose name does not follow the convention']);
    expect(report.runtimes[0].summary).toEqual({ tests: 8, pass: 3, fail: 3, skip: 2, known: 2, mustFailures: 0, shouldFailures: 1 });
    expect(r.stdout).toContain('sample.md (7 tests)');
  }, 60_000);
});
