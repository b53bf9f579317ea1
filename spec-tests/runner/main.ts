// tsrunc-spec-tests: runs the OCI runtime-spec conformance suite (spec-tests/*.test.ts)
// against one or more runc-compatible runtimes and reports per requirement.
//
//   npm run spec-tests -- --runtime /abs/path/to/runtime
//   npm run spec-tests -- --compare tsrunc,runc,crun --markdown spec-tests/RESULTS.md
//
// See spec-tests/README.md, "The runner".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { knownDifferencesFile, loadKnownDifferences } from './known.ts';
import { buildReport, renderMarkdown, renderSummaryMarkdown, renderTerminal, replaceSummaryBlock } from './report.ts';
import {
  OCI_VERSION_ENV,
  busyboxRootfs,
  makeRootfsScript,
  describeCgroups,
  describeRuntime,
  hostCgroupMode,
  preflight,
  harnessCgroups,
  sweepLeftCgroups,
  type Runtime,
  type WrapMode,
} from './runtimes.ts';
import { runSuite, type SuiteRun, type TestRecord } from './suite.ts';

const USAGE = `usage: tsrunc-spec-tests [options] [file filters…]
       npm run spec-tests -- [options] [file filters…]

Runs the OCI runtime-spec conformance suite (spec-tests/*.test.ts) against
runc-compatible runtimes, as root, and prints a table per spec file.

  -r, --runtime RT         runtime to test (repeatable): "tsrunc" (this repo's
                           dist/tsrunc, or tsrunc in PATH), a name in PATH (runc,
                           crun, youki) or a path. Default: $TSRUNC_BIN, else tsrunc
  -c, --compare RT,RT,…    several runtimes, side by side
      --json FILE          write the report as JSON
      --markdown FILE      write the report as Markdown
      --summary-into FILE  replace the <!-- spec-tests:summary --> block of FILE
                           with the summary table
      --strict             known differences fail the run too
      --known FILE         known differences (default spec-tests/runner/known-differences.json)
      --oci-version V      ociVersion for the tests' bundles (${OCI_VERSION_ENV}):
                           a version, or "auto" (default: the bundle's own, or an
                           older one for a runtime that refuses it)
      --hybrid-wrapper M   auto|always|never: run the runtime under unshare without
                           /sys/fs/cgroup/unified (auto: crun on a hybrid host)
  -t, --grep PATTERN       only tests whose name matches (a regex)
      --workers N          test files run in parallel (default 2)
      --include GLOB       test files (default spec-tests/*.test.ts)
      --allow-non-root     run anyway when not root (every test skips itself)
      --no-color, --width N
  -h, --help

Exit status: 0 when every MUST holds (known differences aside), 1 when a MUST
fails, 2 when the suite itself broke (a test file did not load) or on bad usage.
`;

interface Options {
  runtimes: string[];
  json?: string;
  markdown?: string;
  summaryInto?: string;
  strict: boolean;
  known: string;
  ociVersion: string;
  wrap: WrapMode;
  grep?: string;
  workers: number;
  include?: string[];
  allowNonRoot: boolean;
  color: boolean;
  width: number;
  filters: string[];
}

class UsageError extends Error {}

export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): Options | 'help' {
  const o: Options = {
    runtimes: [],
    strict: false,
    known: knownDifferencesFile,
    ociVersion: env[OCI_VERSION_ENV] || 'auto',
    wrap: 'auto',
    workers: 2,
    allowNonRoot: false,
    color: Boolean(process.stdout.isTTY) && !env.NO_COLOR,
    width: process.stdout.columns || 160,
    filters: [],
  };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let inline: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) [a, inline] = [a.slice(0, eq), a.slice(eq + 1)];
    const val = (): string => {
      if (inline !== undefined) return inline;
      if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '-r':
      case '--runtime':
        o.runtimes.push(val());
        break;
      case '-c':
      case '--compare':
        o.runtimes.push(...val().split(',').map((s) => s.trim()).filter(Boolean));
        break;
      case '--json':
        o.json = resolve(val());
        break;
      case '--markdown':
      case '--md':
        o.markdown = resolve(val());
        break;
      case '--summary-into':
        o.summaryInto = resolve(val());
        break;
      case '--strict':
        o.strict = true;
        break;
      case '--known':
        o.known = resolve(val());
        break;
      case '--oci-version':
        o.ociVersion = val();
        break;
      case '--hybrid-wrapper': {
        const v = val();
        if (v !== 'auto' && v !== 'always' && v !== 'never') throw new UsageError('--hybrid-wrapper: auto, always or never');
        o.wrap = v;
        break;
      }
      case '-t':
      case '--grep':
        o.grep = val();
        break;
      case '--workers':
        o.workers = Number(val());
        if (!Number.isInteger(o.workers) || o.workers < 1) throw new UsageError('--workers: a positive integer');
        break;
      case '--include':
        (o.include ??= []).push(val());
        break;
      case '--allow-non-root':
        o.allowNonRoot = true;
        break;
      case '--no-color':
        o.color = false;
        break;
      case '--color':
        o.color = true;
        break;
      case '--width':
        o.width = Number(val());
        break;
      case '-h':
      case '--help':
        return 'help';
      default:
        if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
        o.filters.push(a);
    }
  }
  if (o.runtimes.length === 0) o.runtimes.push(env.TSRUNC_BIN || 'tsrunc');
  return o;
}

function hostInfo(): { kernel: string; os: string; cgroups: string } {
  let os = 'Linux';
  try {
    os = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os;
  } catch {}
  return { kernel: release(), os, cgroups: describeCgroups(hostCgroupMode()) };
}

const mark = { pass: '.', fail: 'F', skip: 's' } as const;

export async function main(argv: string[]): Promise<number> {
  let o: Options | 'help';
  try {
    o = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`tsrunc-spec-tests: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (o === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const isRoot = process.getuid?.() === 0;
  const say = (s: string) => process.stderr.write(`${s}\n`);
  if (!isRoot && !o.allowNonRoot) {
    say('tsrunc-spec-tests: the conformance tests create real containers and need root (--allow-non-root runs them anyway: every test skips itself)');
    return 2;
  }
  if (!existsSync(join(busyboxRootfs, 'bin/busybox'))) {
    // The installed tool ships no busybox (a GPL binary of this machine's
    // architecture): it makes the rootfs from the host's, as setup.sh does.
    say(`tsrunc-spec-tests: making ${busyboxRootfs} from the host's static busybox (scripts/make-rootfs.sh)`);
    const r = spawnSync('bash', [makeRootfsScript, busyboxRootfs], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) {
      say(`tsrunc-spec-tests: ${busyboxRootfs} is missing and could not be made (install busybox-static, or set BUSYBOX to a static busybox)`);
      return 2;
    }
  }
  const known = loadKnownDifferences(o.known);
  const cgroups = hostCgroupMode();
  const workDir = mkdtempSync(join(tmpdir(), 'spec-tests-runner-'));
  try {
    const runtimes: Runtime[] = [];
    for (const spec of o.runtimes) {
      try {
        runtimes.push(describeRuntime(spec, { wrap: o.wrap, cgroups, workDir }));
      } catch (e) {
        say(`tsrunc-spec-tests: ${(e as Error).message}`);
        return 2;
      }
    }
    // Unique column labels (the same runtime twice, or two builds of one version).
    const seen = new Map<string, number>();
    for (const rt of runtimes) {
      const n = (seen.get(rt.label) ?? 0) + 1;
      seen.set(rt.label, n);
      if (n > 1) rt.label = `${rt.label} (${n})`;
    }
    const runs: { runtime: Runtime; run: SuiteRun }[] = [];
    for (const rt of runtimes) {
      preflight(rt, o.ociVersion, workDir);
      say(`\n▶ ${rt.label}  ${rt.path}${rt.wrapper ? `  (via ${rt.wrapper.path})` : ''}`);
      for (const n of rt.notes) say(`  note: ${n}`);
      let col = 0;
      const onResult = (t: TestRecord) => {
        process.stderr.write(mark[t.result]);
        if (++col % 60 === 0) process.stderr.write('\n');
      };
      const before = new Set(harnessCgroups());
      const run = await runSuite({
        env: { TSRUNC_BIN: rt.invoke, [OCI_VERSION_ENV]: rt.ociVersion },
        include: o.include,
        filters: o.filters,
        grep: o.grep,
        workers: o.workers,
        isRoot,
        onResult,
      });
      const s = { pass: 0, fail: 0, skip: 0 };
      for (const t of run.tests) s[t.result]++;
      say(`\n  ${run.tests.length} tests in ${(run.durationMs / 1000).toFixed(1)} s: ${s.pass} passed, ${s.fail} failed, ${s.skip} skipped`);
      for (const e of run.fileErrors) say(`  ${e.file} did not load: ${e.error}`);
      // Left by the runtime, not the suite: removed so they do not pile up on the host.
      const left = sweepLeftCgroups(before);
      if (left.length)
        say(`  note: ${rt.label} left ${left.length} cgroup directories after delete (removed): ${[...new Set(left.map((p) => basename(p)))].join(', ')}`);
      runs.push({ runtime: rt, run });
    }
    const report = buildReport(runs, known, {
      // The tool (bin.mjs, or the installed package) or this checkout's npm script.
      command: `${/bin\.mjs$/.test(process.argv[1] ?? '') || import.meta.filename.endsWith('.mjs') ? 'tsrunc-spec-tests' : 'npm run spec-tests --'} ${argv.join(' ')}`.trim(),
      host: hostInfo(),
      strict: o.strict,
    });
    process.stdout.write(renderTerminal(report, { color: o.color, width: o.width }));
    if (o.json) {
      writeFileSync(o.json, JSON.stringify(report, null, 2) + '\n');
      say(`wrote ${o.json}`);
    }
    if (o.markdown) {
      writeFileSync(o.markdown, renderMarkdown(report));
      say(`wrote ${o.markdown}`);
    }
    if (o.summaryInto) {
      writeFileSync(o.summaryInto, replaceSummaryBlock(readFileSync(o.summaryInto, 'utf8'), renderSummaryMarkdown(report)));
      say(`updated the summary block in ${o.summaryInto}`);
    }
    if (report.runtimes.some((x) => x.summary.tests === 0)) say('no tests ran (a filter that matches nothing?)');
    if (report.exitStatus === 1) say(`a MUST failed (known differences: ${o.known}${o.strict ? ', ignored with --strict' : ''})`);
    return report.exitStatus;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

// Run when executed (node spec-tests/runner/main.ts); bin.mjs calls main() itself.
if (process.argv[1] && resolve(process.argv[1]) === import.meta.filename) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`tsrunc-spec-tests: ${e?.stack ?? e}\n`);
      process.exit(2);
    },
  );
}
