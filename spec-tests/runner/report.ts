// The report: results of one or more runtimes side by side, per spec file,
// rendered for the terminal, as Markdown, and as JSON.
import { findKnownDifference, type KnownDifference } from './known.ts';
import type { LevelClass } from './names.ts';
import { repo, type Runtime } from './runtimes.ts';
import type { Outcome, SuiteRun } from './suite.ts';

export const REPORT_SCHEMA = 'tsrunc-spec-tests/1';

export interface Cell {
  result: Outcome;
  /** skip reason */
  reason?: string;
  error?: string;
  declaredFailure?: boolean;
  /** a failure that is a known difference (known-differences.json, or it.fails in the test file) */
  known?: { reason: string; links?: string[]; source: 'known-differences.json' | 'it.fails' };
}

export interface Row {
  file: string;
  name: string;
  specFile: string;
  section: string;
  requirement: string;
  level: string;
  levelClass: LevelClass;
  /** label → result; a runtime without the test (a filter, a file that did not load) has none */
  results: Record<string, Cell>;
}

export interface Summary {
  tests: number;
  pass: number;
  fail: number;
  skip: number;
  /** failures that are known differences */
  known: number;
  /** MUST-class failures that are not known differences: these fail the run */
  mustFailures: number;
  /** SHOULD-class failures that are not known differences */
  shouldFailures: number;
}

export interface RuntimeReport {
  label: string;
  name: string;
  version: string;
  specVersion: string;
  path: string;
  invoke: string;
  wrapper?: { path: string; why: string };
  ociVersion?: string;
  preflight?: { ok: boolean; error?: string };
  notes: string[];
  durationMs: number;
  endReason: string;
  fileErrors: { file: string; error: string }[];
  unhandledErrors: string[];
  summary: Summary;
}

export interface Report {
  schema: typeof REPORT_SCHEMA;
  generatedAt: string;
  command: string;
  host: { kernel: string; os: string; cgroups: string };
  strict: boolean;
  runtimes: RuntimeReport[];
  tests: Row[];
  /** names that do not follow `<spec file> <Section>: <requirement> [<level>]` */
  unconventionalNames: string[];
  exitStatus: number;
}

export function buildReport(
  runs: { runtime: Runtime; run: SuiteRun }[],
  known: KnownDifference[],
  meta: { command: string; host: Report['host']; strict: boolean; generatedAt?: string },
): Report {
  const rows = new Map<string, Row>();
  const unconventional = new Set<string>();
  const runtimes: RuntimeReport[] = [];
  for (const { runtime, run } of runs) {
    const summary: Summary = { tests: 0, pass: 0, fail: 0, skip: 0, known: 0, mustFailures: 0, shouldFailures: 0 };
    for (const t of run.tests) {
      const key = `${t.file}\0${t.name}`;
      let row = rows.get(key);
      if (!row) {
        row = {
          file: t.file,
          name: t.name,
          specFile: t.parsed.specFile,
          section: t.parsed.section,
          requirement: t.parsed.requirement,
          level: t.parsed.level,
          levelClass: t.parsed.levelClass,
          results: {},
        };
        rows.set(key, row);
      }
      if (!t.parsed.conventional) unconventional.add(t.name);
      const cell: Cell = { result: t.result };
      if (t.reason) cell.reason = t.reason;
      if (t.error) cell.error = t.error;
      if (t.declaredFailure) cell.declaredFailure = true;
      if (t.result === 'fail') {
        const k = findKnownDifference(known, runtime, t.name);
        if (k) cell.known = { reason: k.reason, links: k.links, source: 'known-differences.json' };
        else if (t.declaredFailure)
          cell.known = { reason: `declared with it.fails in ${t.file} (its reason belongs in spec-tests/runner/known-differences.json)`, source: 'it.fails' };
      }
      row.results[runtime.label] = cell;
      summary.tests++;
      summary[t.result]++;
      if (cell.known) summary.known++;
      else if (t.result === 'fail' && t.parsed.levelClass === 'must') summary.mustFailures++;
      else if (t.result === 'fail' && t.parsed.levelClass === 'should') summary.shouldFailures++;
    }
    runtimes.push({
      label: runtime.label,
      name: runtime.name,
      version: runtime.version,
      specVersion: runtime.specVersion,
      path: runtime.path,
      invoke: runtime.invoke,
      wrapper: runtime.wrapper,
      ociVersion: runtime.ociVersion,
      preflight: runtime.preflight,
      notes: runtime.notes,
      durationMs: run.durationMs,
      endReason: run.endReason,
      fileErrors: run.fileErrors,
      unhandledErrors: run.unhandledErrors,
      summary,
    });
  }
  const report: Report = {
    schema: REPORT_SCHEMA,
    generatedAt: meta.generatedAt ?? new Date().toISOString(),
    command: meta.command,
    host: meta.host,
    strict: meta.strict,
    runtimes,
    tests: sortRows([...rows.values()]),
    unconventionalNames: [...unconventional],
    exitStatus: 0,
  };
  report.exitStatus = exitStatusOf(report);
  return report;
}

/** Spec files in a fixed order (runtime.md, config.md, config-*.md, others), tests in file order within. */
function sortRows(rows: Row[]): Row[] {
  const rank = (f: string) => (f === 'runtime.md' ? 0 : f === 'config.md' ? 1 : f.startsWith('config-') ? 2 : f === '?' ? 4 : 3);
  const order = new Map(rows.map((r, i) => [r, i]));
  return rows.sort((a, b) => rank(a.specFile) - rank(b.specFile) || a.specFile.localeCompare(b.specFile) || order.get(a)! - order.get(b)!);
}

/**
 * 0: no MUST failed (other than known differences); 1: a MUST failed (with
 * --strict: known differences too); 2: the suite itself broke (a test file did
 * not load, an unhandled error, an interrupted run, no test at all).
 */
export function exitStatusOf(r: Report): number {
  if (r.runtimes.some((rt) => rt.fileErrors.length || rt.unhandledErrors.length || rt.endReason === 'interrupted' || rt.summary.tests === 0)) return 2;
  const mustFailed = r.tests.some((row) =>
    Object.values(row.results).some((c) => c.result === 'fail' && row.levelClass === 'must' && (r.strict || !c.known)),
  );
  return mustFailed ? 1 : 0;
}

export function groupBySpecFile(rows: Row[]): Map<string, Row[]> {
  const m = new Map<string, Row[]>();
  for (const r of rows) {
    if (!m.has(r.specFile)) m.set(r.specFile, []);
    m.get(r.specFile)!.push(r);
  }
  return m;
}

// ---------------------------------------------------------------------------
// notes shared by the terminal and Markdown renderings

interface Notes {
  /** known-difference reasons, numbered K1, K2, … */
  known: Map<string, string>;
  /** failure details, F1, F2, … (one per failing cell without a known difference) */
  failures: { id: string; label: string; row: Row; error: string }[];
  /** skip reasons, S1, … */
  skips: Map<string, string>;
}

function noteId(map: Map<string, string>, prefix: string, text: string): string {
  let id = map.get(text);
  if (!id) map.set(text, (id = `${prefix}${map.size + 1}`));
  return id;
}

function collectNotes(r: Report): { notes: Notes; cellNote: (row: Row, label: string) => string | undefined } {
  const notes: Notes = { known: new Map(), failures: [], skips: new Map() };
  const ids = new Map<string, string>();
  for (const row of r.tests)
    for (const rt of r.runtimes) {
      const c = row.results[rt.label];
      if (!c) continue;
      let id: string | undefined;
      if (c.result === 'fail' && c.known) id = noteId(notes.known, 'K', knownText(c.known));
      else if (c.result === 'fail') {
        id = `F${notes.failures.length + 1}`;
        notes.failures.push({ id, label: rt.label, row, error: c.error ?? 'failed' });
      } else if (c.result === 'skip') id = noteId(notes.skips, 'S', c.reason ?? 'skipped');
      if (id) ids.set(`${row.file}\0${row.name}\0${rt.label}`, id);
    }
  return { notes, cellNote: (row, label) => ids.get(`${row.file}\0${row.name}\0${label}`) };
}

function knownText(k: NonNullable<Cell['known']>): string {
  return k.links?.length ? `${k.reason} (${k.links.join(', ')})` : k.reason;
}

function cellWord(c: Cell | undefined): string {
  if (!c) return '—';
  if (c.result === 'pass') return 'pass';
  if (c.result === 'skip') return 'skip';
  return c.known ? 'known' : 'FAIL';
}

function summaryLine(s: Summary): string {
  const parts = [`${s.pass} passed`];
  if (s.fail) parts.push(`${s.fail} failed${s.known ? ` (${s.known} known difference${s.known === 1 ? '' : 's'})` : ''}`);
  if (s.skip) parts.push(`${s.skip} skipped`);
  return `${s.tests} tests: ${parts.join(', ')}`;
}

function verdict(rt: RuntimeReport, strict: boolean): string {
  if (rt.fileErrors.length || rt.unhandledErrors.length) return 'suite error';
  if (rt.summary.tests === 0) return 'no tests ran';
  const must = rt.summary.mustFailures + (strict ? rt.summary.known : 0);
  if (must) return `${rt.summary.mustFailures} MUST failure${rt.summary.mustFailures === 1 ? '' : 's'}`;
  return rt.summary.known ? 'conforms, except known differences' : 'conforms';
}

function duration(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

// ---------------------------------------------------------------------------
// terminal

const ansi = { red: '\x1b[31m', green: '\x1b[32m', yellow: '\x1b[33m', dim: '\x1b[2m', bold: '\x1b[1m', reset: '\x1b[0m' };

function trunc(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, Math.max(0, n - 1))}…`;
}

export function renderTerminal(r: Report, opts: { color: boolean; width: number }): string {
  const paint = (code: keyof typeof ansi, s: string) => (opts.color ? `${ansi[code]}${s}${ansi.reset}` : s);
  const { notes, cellNote } = collectNotes(r);
  const out: string[] = [];
  const labels = r.runtimes.map((x) => x.label);
  const colW = labels.map((l) => Math.max(l.length, 10));
  for (const [specFile, rows] of groupBySpecFile(r.tests)) {
    const secW = Math.min(28, Math.max(7, ...rows.map((x) => x.section.length)));
    const lvlW = Math.max(5, ...rows.map((x) => x.level.length));
    const fixed = 2 + secW + 2 + 2 + lvlW + colW.reduce((a, w) => a + 2 + w, 0);
    const reqW = Math.max(24, opts.width - fixed);
    out.push('', paint('bold', `${specFile === '?' ? 'tests not named <spec file> <Section>: …' : specFile} (${rows.length} tests)`));
    out.push(
      paint(
        'dim',
        `  ${'Section'.padEnd(secW)}  ${'Requirement'.padEnd(reqW)}  ${'Level'.padEnd(lvlW)}${labels.map((l, i) => `  ${l.padEnd(colW[i])}`).join('')}`,
      ),
    );
    for (const row of rows) {
      const cells = labels.map((l, i) => {
        const c = row.results[l];
        const id = cellNote(row, l);
        const word = cellWord(c) + (id ? ` ${id}` : '');
        const text = i === labels.length - 1 ? word : word.padEnd(colW[i]);
        const color = !c ? 'dim' : c.result === 'pass' ? 'green' : c.result === 'skip' ? 'dim' : c.known ? 'yellow' : 'red';
        return `  ${paint(color, text)}`;
      });
      out.push(`  ${trunc(row.section, secW).padEnd(secW)}  ${trunc(row.requirement, reqW).padEnd(reqW)}  ${row.level.padEnd(lvlW)}${cells.join('')}`);
    }
  }
  if (notes.known.size) {
    out.push('', paint('bold', 'Known differences'));
    for (const [text, id] of notes.known) out.push(`  ${paint('yellow', id)} ${text}`);
  }
  if (notes.skips.size) {
    out.push('', paint('bold', 'Skipped'));
    for (const [text, id] of notes.skips) out.push(`  ${id} ${text}`);
  }
  if (notes.failures.length) {
    out.push('', paint('bold', 'Failures'));
    for (const f of notes.failures) {
      out.push(`  ${paint('red', f.id)} ${f.label}: ${f.row.name} ${paint('dim', `(${f.row.file})`)}`);
      for (const l of f.error.split('\n').slice(0, 3)) out.push(`     ${paint('dim', trunc(l, Math.max(40, opts.width - 5)))}`);
    }
  }
  out.push('', paint('bold', 'Summary'));
  const lw = Math.max(...labels.map((l) => l.length), 7);
  for (const rt of r.runtimes) {
    const v = verdict(rt, r.strict);
    const color = v.startsWith('conforms') ? (rt.summary.known ? 'yellow' : 'green') : 'red';
    out.push(`  ${rt.label.padEnd(lw)}  ${summaryLine(rt.summary)} in ${duration(rt.durationMs)}: ${paint(color, v)}`);
    for (const n of rt.notes) out.push(`  ${''.padEnd(lw)}  ${paint('dim', `note: ${n}`)}`);
    for (const e of rt.fileErrors) out.push(`  ${''.padEnd(lw)}  ${paint('red', `${e.file} did not load: ${e.error.split('\n')[0]}`)}`);
    for (const e of rt.unhandledErrors) out.push(`  ${''.padEnd(lw)}  ${paint('red', `unhandled error: ${e.split('\n')[0]}`)}`);
  }
  if (r.unconventionalNames.length)
    out.push('', paint('yellow', `${r.unconventionalNames.length} test name(s) do not follow "<spec file> <Section>: <requirement> [<level>]":`), ...r.unconventionalNames.map((n) => `  ${n}`));
  return out.join('\n') + '\n';
}

// ---------------------------------------------------------------------------
// Markdown

/** A Markdown code span (no backticks inside). */
function code(s: string): string {
  return `\`${s.replaceAll('`', "'").replaceAll('\n', ' ')}\``;
}

function md(s: string): string {
  return s.replaceAll('\\', '\\\\').replaceAll('|', '\\|').replaceAll('\n', ' ').replaceAll('<', '&lt;').replaceAll('`', '\\`');
}

export function renderSummaryMarkdown(r: Report): string {
  const out = ['| runtime | tests | passed | failed (known differences) | skipped | result |', '|---|---:|---:|---:|---:|---|'];
  for (const rt of r.runtimes) {
    const s = rt.summary;
    out.push(`| ${md(rt.label)} | ${s.tests} | ${s.pass} | ${s.fail}${s.known ? ` (${s.known})` : ''} | ${s.skip} | ${verdict(rt, r.strict)} |`);
  }
  return out.join('\n') + '\n';
}

export function renderMarkdown(r: Report): string {
  const { notes, cellNote } = collectNotes(r);
  const labels = r.runtimes.map((x) => x.label);
  const out: string[] = [];
  out.push('# OCI runtime-spec conformance results', '');
  out.push(`Generated by ${code(r.command)} on ${r.generatedAt.slice(0, 10)}: ${md(r.host.os)}, kernel ${md(r.host.kernel)}, ${md(r.host.cgroups)}. Do not edit by hand; see spec-tests/README.md ("The runner").`, '');
  out.push(renderSummaryMarkdown(r));
  out.push('Runtimes:', '');
  for (const rt of r.runtimes) {
    out.push(`- **${md(rt.label)}** (${code(rt.path.startsWith(`${repo}/`) ? rt.path.slice(repo.length + 1) : rt.path)}${rt.specVersion ? `, runtime-spec ${md(rt.specVersion)}` : ''})${rt.notes.length ? ':' : ''}`);
    for (const n of rt.notes) out.push(`  - ${md(n)}`);
    for (const e of rt.fileErrors) out.push(`  - ${md(e.file)} did not load: ${md(e.error.split('\n')[0])}`);
  }
  out.push('', 'Cells: `pass`; `FAIL` (a failure, see F*n*); `known` (a failure that is a known difference, see K*n*); `skip` (see S*n*).');
  for (const [specFile, rows] of groupBySpecFile(r.tests)) {
    out.push('', `## ${specFile === '?' ? 'Tests not named by the convention' : md(specFile)}`, '');
    out.push(`| Section | Requirement | Level | ${labels.map(md).join(' | ')} |`);
    out.push(`|---|---|---|${labels.map(() => '---').join('|')}|`);
    for (const row of rows) {
      const cells = labels.map((l) => {
        const c = row.results[l];
        const id = cellNote(row, l);
        const w = cellWord(c);
        return (w === 'FAIL' ? '**FAIL**' : w) + (id ? ` ${id}` : '');
      });
      out.push(`| ${md(row.section)} | ${md(row.requirement)} | ${md(row.level)} | ${cells.join(' | ')} |`);
    }
  }
  if (notes.known.size) {
    out.push('', '## Known differences', '');
    for (const [text, id] of notes.known) out.push(`- **${id}**: ${md(text)}`);
  }
  if (notes.failures.length) {
    out.push('', '## Failures', '');
    for (const f of notes.failures) out.push(`- **${f.id}** ${md(f.label)}, ${code(f.row.name)}: ${md(f.error.split('\n').slice(0, 3).join(' / '))}`);
  }
  if (notes.skips.size) {
    out.push('', '## Skipped', '');
    for (const [text, id] of notes.skips) out.push(`- **${id}**: ${md(text)}`);
  }
  return out.join('\n') + '\n';
}

/** Replaces the text between `<!-- spec-tests:summary -->` and `<!-- /spec-tests:summary -->` in `doc`. */
export function replaceSummaryBlock(doc: string, summary: string): string {
  const start = '<!-- spec-tests:summary -->';
  const end = '<!-- /spec-tests:summary -->';
  const i = doc.indexOf(start);
  const j = doc.indexOf(end, i);
  if (i < 0 || j < 0) throw new Error(`no ${start} … ${end} block`);
  return `${doc.slice(0, i + start.length)}\n${summary}${doc.slice(j)}`;
}
