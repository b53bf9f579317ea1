#!/usr/bin/env node
// scripts/engines/results.mjs RUNC.json TSRUNC.json [OUT.md]
// Makes the engine x feature table of test/engines/RESULTS.md from two vitest
// JSON reports of `npm run test:engines` (ENGINE_RUNTIME=runc and =tsrunc).
// Test names start with "[feature]"; a cell is ✓ when every test of that
// feature passed, ✗ when one failed, "skip" when they were skipped, n/a when the
// engine has no such test. Whatever follows the line "<!-- notes -->" in an
// existing OUT.md is kept.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const [runcPath, tsruncPath, out = 'test/engines/RESULTS.md'] = process.argv.slice(2);
if (!runcPath || !tsruncPath) {
  console.error('usage: results.mjs RUNC.json TSRUNC.json [OUT.md]');
  process.exit(2);
}

const FEATURES = {
  'exit-code': 'run: exit status',
  'missing-command': 'run: a command not in the image (127, "no such file")',
  stdio: 'run: stdout and stderr apart',
  stdin: 'run -i: stdin, EOF',
  tty: 'run -t: terminal, its size, interactive shell',
  env: 'run -e: environment',
  workdir: 'run -w: working directory (made when missing)',
  user: 'run -u: uid, gid, groups, names',
  'read-only': 'run --read-only',
  tmpfs: 'run --tmpfs with options',
  bind: 'bind volume, rw and ro',
  hostname: 'run --hostname',
  detached: 'run -d',
  exec: 'exec (-u/-w/-e, -i, -d)',
  'exec-tty': 'exec -t: terminal, size, interactive',
  logs: 'logs',
  top: 'top / task ps',
  'stop-term': 'stop: SIGTERM obeyed',
  'stop-kill': 'stop: SIGKILL after the timeout',
  kill: 'kill -s SIGNAL, kill --all',
  rm: 'rm / rm -f',
  pause: 'pause / unpause',
  memory: '--memory: inside, host cgroup, inspect/stats',
  cpu: '--cpus, --cpu-shares',
  pids: '--pids-limit',
  update: 'update: new limits on a running container',
  caps: '--cap-add / --cap-drop',
  privileged: '--privileged',
  'net-none': 'network none (loopback up)',
  'net-default': 'default network (bridge, neighbour reachable)',
  restart: 'start again a stopped container; restart',
  'ten-in-a-row': 'ten containers in a row',
  'five-at-once': 'five containers at once',
  oom: 'OOM kill reported',
  'no-leftovers': 'nothing left after rm (state, cgroups, mounts, processes)',
  'clean-shutdown': 'engine stops clean (no process, no mount)',
};
const ENGINES = ['podman', 'containerd', 'docker'];
// Known causes of failures, recognised in the failure message: the letter
// goes next to the ✗ (see the legend written under the table).
const CAUSES = [
  ['S', /cannot start container: its init process exited/, '`start` reports "its init process exited" for a container that did start (a fast process, reaped by conmon or the shim before `start` opens its pidfd)'],
  ['E', /exec: .*ENOENT/, 'a missing command is reported as `ENOENT`, not runc\'s "no such file or directory", which is what engines map to exit 127'],
  ['T', /tmpcopyup/, 'the `tmpcopyup` mount option (podman\'s --tmpfs and --read-only tmpfs mounts) is refused'],
  ['W', /chdir to cwd/, 'a missing `process.cwd` is not made (runc makes it)'],
  ['L', /lo is up with 127\.0\.0\.1/, 'the loopback interface of a network namespace the runtime makes is left down'],
  ['M', /the tmpfs root has mode=1777/, 'a tmpfs mount does not get its `mode=` (with `tmpcopyup`, the tmpfs takes the mode of the mountpoint the runtime just made; runc keeps `mode=` unless the mountpoint existed before)'],
];
const causeOf = (msg) => CAUSES.find(([, re]) => re.test(msg))?.[0] ?? '';

function load(path) {
  const report = JSON.parse(readFileSync(path, 'utf8'));
  const cells = new Map(); // engine -> feature -> {passed, failed, skipped, tests: []}
  const failures = [];
  const skips = [];
  for (const file of report.testResults ?? []) {
    for (const t of file.assertionResults ?? []) {
      const engine = ENGINES.find((e) => (t.ancestorTitles?.[0] ?? '').startsWith(e));
      const m = t.title.match(/^\[([\w-]+)\]\s*(.*)$/);
      if (!engine || !m) continue;
      const [, feature, what] = m;
      if (!cells.has(engine)) cells.set(engine, new Map());
      const byF = cells.get(engine);
      if (!byF.has(feature)) byF.set(feature, { passed: 0, failed: 0, skipped: 0, causes: new Set() });
      const c = byF.get(feature);
      if (t.status === 'passed') c.passed++;
      else if (t.status === 'failed') {
        c.failed++;
        const msg = (t.failureMessages?.[0] ?? '').replace(/\x1b\[[0-9;]*m/g, '');
        failures.push({ engine, feature, what, msg });
        c.causes.add(causeOf(msg) || '?');
      } else {
        c.skipped++;
        skips.push({ engine, feature, what, title: t.ancestorTitles?.[0] ?? '' });
      }
    }
  }
  return { cells, failures, skips, start: report.startTime, success: report.success };
}

const runs = { runc: load(runcPath), tsrunc: load(tsruncPath) };
const features = Object.keys(FEATURES);
for (const r of Object.values(runs))
  for (const byF of r.cells.values()) for (const f of byF.keys()) if (!features.includes(f)) features.push(f);

function cell(run, engine, feature) {
  const c = run.cells.get(engine)?.get(feature);
  if (!c) return run.cells.has(engine) ? 'n/a' : '?';
  if (c.failed) return `✗ ${[...c.causes].sort().join(',')}`;
  if (c.passed) return c.skipped ? '✓ (part skipped)' : '✓';
  return 'skip';
}

const lines = [];
lines.push('# tsrunc under podman, containerd and dockerd');
lines.push('');
lines.push('Generated by `scripts/engines/results.mjs` from `npm run test:engines` run with');
lines.push('`ENGINE_RUNTIME=runc` (Debian 12\'s /usr/sbin/runc 1.1.5, the reference) and with tsrunc');
lines.push('(`bash scripts/engines/matrix.sh` runs both and writes this file). Engines: podman 4.3.1,');
lines.push('containerd 1.6.20 (driven with ctr), dockerd 20.10.24 on a private containerd, all Debian 12');
lines.push('packages, on a 2-core Debian 12 VM with hybrid cgroups (v1 controllers).');
lines.push('');
lines.push('✓ every test of the row passed, ✗ one failed, skip: skipped (see below), n/a: the engine has no');
lines.push('such feature (ctr has no --user, --hostname, --pids-limit, default network).');
lines.push('');
lines.push(`| feature | ${ENGINES.map((e) => `${e} runc | ${e} tsrunc`).join(' | ')} |`);
lines.push(`| --- | ${ENGINES.map(() => '--- | ---').join(' | ')} |`);
for (const f of features) {
  const row = ENGINES.map((e) => `${cell(runs.runc, e, f)} | ${cell(runs.tsrunc, e, f)}`).join(' | ');
  lines.push(`| ${FEATURES[f] ?? f} (\`${f}\`) | ${row} |`);
}
lines.push('');
const seen = new Set(Object.values(runs).flatMap((r) => r.failures.map((f) => causeOf(f.msg) || '?')));
if (seen.size) {
  lines.push('Next to a ✗, what the failure message says went wrong:');
  lines.push('');
  for (const [letter, , what] of CAUSES) if (seen.has(letter)) lines.push(`- ${letter}: ${what}`);
  if (seen.has('?')) lines.push('- ?: none of the known causes (see the failures below)');
  lines.push('');
}
const skipped = [...runs.runc.skips.map((s) => ({ ...s, rt: 'runc' })), ...runs.tsrunc.skips.map((s) => ({ ...s, rt: 'tsrunc' }))];
if (skipped.length) {
  lines.push('## Skipped');
  lines.push('');
  for (const s of skipped) lines.push(`- ${s.rt}, ${s.engine}, [${s.feature}] ${s.what}${/skipped:/.test(s.title) ? ` — ${s.title}` : ''}`);
  lines.push('');
}
for (const [rt, r] of Object.entries(runs)) {
  lines.push(`## Failures with ${rt} (${r.failures.length})`);
  lines.push('');
  for (const f of r.failures) {
    const msg = f.msg.split('\n').filter((l) => l.trim() && !/^\s+at /.test(l)).slice(0, 8).join(' ⏎ ').slice(0, 600);
    lines.push(`- **${f.engine} [${f.feature}]** ${f.what}: \`${msg.replace(/`/g, "'")}\``);
  }
  lines.push('');
}
let notes = '';
if (existsSync(out)) {
  const old = readFileSync(out, 'utf8');
  const i = old.indexOf('<!-- notes -->');
  if (i >= 0) notes = old.slice(i);
}
writeFileSync(out, lines.join('\n') + '\n' + (notes || '<!-- notes -->\n'));
console.error(`results: wrote ${out}`);
