#!/usr/bin/env node
// bench/verbs.mjs — every verb an engine calls, as an engine calls it: each
// its own process, tsrunc against Debian's runc and crun.
//
//   node_modules/.bin/node bench/verbs.mjs [--n 20] [--tsrunc PATH] [--also NAME=PATH] [--podman] [--page-cache exec|read] [--json FILE]
//
// One round, per runtime, on a container running `sleep`:
//   create, start, state, list, exec true, ps, pause, resume, update
//   --pids-limit, events --stats, kill KILL, delete; then `run` of `true`.
// The runtimes are interleaved verb by verb (the order rotates every round),
// so a load that comes and goes hits all three alike. "lifecycle" is the sum
// of create, start, state, list, kill and delete within a round, the sequence
// containerd's shim drives for a short-lived container.
//
// crun: create and run need the unshare wrapper on a hybrid host (see
// lib.mjs); the wrapper alone is timed alongside and its median subtracted
// from those two verbs. crun has no `events`.
//
// --podman adds `podman run --rm --network none IMAGE true` with each runtime
// (a private podman store under the bench's temp dir; crun through a wrapper
// script on hybrid hosts, whose cost is not subtracted there).
//
// --also NAME=PATH (repeatable) adds another build of tsrunc as a lane of its
// own, interleaved with the rest: an A/B of a change, measured in one run.
//
// --page-cache: every runtime's files start from the same page-cache state
// (lib.mjs, settlePageCache: how they got into the cache moves tsrunc's
// start by ~1 ms, and an A/B of a fresh build against an older file would
// measure that). exec (the default): dropped, then read back by the runs
// themselves, as after a boot (and, for tsrunc, as after an install or a
// build, which write its executable whole: the same pages end up mapped in
// 2 MiB); read: dropped and read through in 1 MiB reads, as a copy or a
// backup leaves them (for tsrunc, fewer 2 MiB folios than either).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  cgroupsKind, configTweak, findRuntimes, fmt, hybrid, log, makeBundle, pad, prepareRootfs, repo,
  runtimeArgv, runtimeFiles, settlePageCache, sh, stats, tick, timed, timedWrapper, unshareBin, which, why, WRAP_SCRIPT,
} from './lib.mjs';

const opts = { n: 20, tsrunc: path.join(repo, 'dist/tsrunc'), also: [], json: null, podman: false, pageCache: 'exec' };
{
  const usage = (code) => {
    (code ? process.stderr : process.stdout).write(
      'usage: bench/verbs.mjs [--n N] [--tsrunc PATH] [--also NAME=PATH]... [--podman] [--page-cache exec|read] [--json FILE]\n' +
        '  --n N          rounds (default 20)\n' +
        '  --tsrunc PATH  tsrunc executable (default dist/tsrunc of this repo)\n' +
        '  --also NAME=PATH  another tsrunc build, as a lane of its own (repeatable)\n' +
        '  --podman       also time `podman run --rm` end to end with each runtime\n' +
        '  --page-cache exec|read  each runtime\'s files dropped from the page cache, then read back by\n' +
        '                 its runs (exec, the default: as after a boot or an install) or read through first (read: as a copy leaves them)\n' +
        '  --json FILE    also write the samples as JSON\n',
    );
    process.exit(code);
  };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    const next = () => (i + 1 < a.length ? a[++i] : usage(2));
    if (a[i] === '--n') opts.n = Number(next());
    else if (a[i] === '--tsrunc') opts.tsrunc = path.resolve(next());
    else if (a[i] === '--json') opts.json = path.resolve(next());
    else if (a[i] === '--also') {
      const m = /^([a-z][a-z0-9-]*)=(.+)$/.exec(next());
      if (!m || ['tsrunc', 'runc', 'crun'].includes(m[1])) usage(2);
      opts.also.push({ name: m[1], bin: path.resolve(m[2]) });
    }
    else if (a[i] === '--podman') opts.podman = true;
    else if (a[i] === '--page-cache') {
      opts.pageCache = next();
      if (!['exec', 'read'].includes(opts.pageCache)) usage(2);
    }
    else if (a[i] === '-h' || a[i] === '--help') usage(0);
    else usage(2);
  }
  if (!Number.isInteger(opts.n) || opts.n < 1) usage(2);
}
if (process.getuid() !== 0) {
  log('bench/verbs.mjs must run as root');
  process.exit(1);
}

const VERBS = ['create', 'start', 'state', 'list', 'exec', 'ps', 'pause', 'resume', 'update', 'events --stats', 'kill', 'delete', 'run'];
const LIFECYCLE = ['create', 'start', 'state', 'list', 'kill', 'delete'];
const WRAPPED = new Set(['create', 'run']);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-bench-verbs-'));
const rootfs = prepareRootfs(work);
const runtimes = findRuntimes(opts.tsrunc, opts.also).map((rt) => {
  if (rt.error) return rt;
  const root = fs.mkdtempSync(path.join(work, `root-${rt.name}-`));
  const sleep = makeBundle(path.join(work, `sleep-${rt.name}`), rootfs, ['sleep', '1000'], configTweak(rt.name));
  const once = makeBundle(path.join(work, `true-${rt.name}`), rootfs, ['true'], configTweak(rt.name));
  return { ...rt, root, sleep, once, samples: Object.fromEntries(VERBS.map((v) => [v, []])), lifecycle: [], failures: {} };
});
const active = runtimes.filter((rt) => !rt.error);
const wrapSamples = [];

// stderr goes to a file, not a pipe: a created container inherits the
// runtime's stdio and keeps it open, and spawnSync would wait for that EOF.
const errFile = path.join(work, 'stderr');

/** One verb, timed; a failure is counted and the round goes on. Stdout only when `capture`. */
function verb(rt, name, args, { wrap = false, capture = false } = {}) {
  const [cmd, ...rest] = runtimeArgv(rt, rt.root, args, wrap && rt.wrap);
  const errFd = fs.openSync(errFile, 'w');
  let r;
  try {
    r = timed(cmd, rest, { stdio: ['ignore', capture ? 'pipe' : 'ignore', errFd] });
  } finally {
    fs.closeSync(errFd);
  }
  if (r.ok) rt.samples[name].push(r.ms);
  else rt.failures[name] = { count: (rt.failures[name]?.count ?? 0) + 1, last: why({ ...r, stderr: fs.readFileSync(errFile, 'utf8') }) };
  return r;
}

/** Waits, untimed, until pid is gone or a zombie (kill's signal has landed). */
async function gone(pid) {
  for (let i = 0; i < 200; i++) {
    let st;
    try {
      st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return;
    }
    if (st.slice(st.lastIndexOf(')') + 2)[0] === 'Z') return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

const rotate = (xs, k) => xs.map((_, i) => xs[(((i + k) % xs.length) + xs.length) % xs.length]);

async function round(k) {
  const ids = new Map(active.map((rt) => [rt, `bv-${rt.name}-${process.pid}-${k}`]));
  const each = async (fn) => {
    for (const rt of rotate(active, k)) await fn(rt, ids.get(rt));
  };
  const pids = new Map();
  const t = new Map(active.map((rt) => [rt, {}]));
  const step = (name, argsOf, opts) =>
    each((rt, id) => {
      const r = verb(rt, name, argsOf(rt, id), opts);
      if (r.ok) t.get(rt)[name] = r.ms;
      return r;
    });
  await step('create', (rt, id) => ['create', '--bundle', rt.sleep, id], { wrap: true });
  if (hybrid && active.some((rt) => rt.wrap)) {
    const w = timedWrapper();
    if (w.ok) wrapSamples.push(w.ms);
  }
  await step('start', (rt, id) => ['start', id]);
  await each((rt, id) => {
    const r = verb(rt, 'state', ['state', id], { capture: true });
    if (r.ok) {
      t.get(rt).state = r.ms;
      pids.set(rt, JSON.parse(r.stdout).pid);
    }
  });
  await step('list', () => ['list']);
  await step('exec', (rt, id) => ['exec', id, 'true']);
  await step('ps', (rt, id) => ['ps', id]);
  await step('pause', (rt, id) => ['pause', id]);
  await step('resume', (rt, id) => ['resume', id]);
  await step('update', (rt, id) => ['update', '--pids-limit', String(100 + k), id]);
  await each((rt, id) => rt.name !== 'crun' && verb(rt, 'events --stats', ['events', '--stats', id]));
  await step('kill', (rt, id) => ['kill', id, 'KILL']);
  await each(async (rt) => pids.has(rt) && (await gone(pids.get(rt))));
  await step('delete', (rt, id) => ['delete', id]);
  for (const rt of active) {
    const s = t.get(rt);
    if (LIFECYCLE.every((v) => s[v] !== undefined)) rt.lifecycle.push(LIFECYCLE.reduce((a, v) => a + s[v], 0));
    // whatever failed midway
    sh(rt.bin, ['--root', rt.root, 'delete', '--force', ids.get(rt)], { timeout: 20_000 });
  }
  await each((rt, id) => verb(rt, 'run', ['run', '--bundle', rt.once, `${id}-run`], { wrap: true }));
}

// ------------------------------------------------------------------ podman
function podmanSetup() {
  const podman = which('podman');
  if (!podman) return { error: 'podman not installed (bash scripts/engines/setup.sh)' };
  const dir = path.join(work, 'podman');
  fs.mkdirSync(dir);
  const img = sh('bash', [path.join(repo, 'scripts/engines/make-image.sh'), rootfs, path.join(dir, 'img')]);
  if (!img.ok) return { error: `make-image.sh: ${why(img)}` };
  // The host's limits, not podman's defaults for nofile and nproc (no runtime can raise them without CAP_SYS_RESOURCE).
  fs.writeFileSync(
    path.join(dir, 'containers.conf'),
    `[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nevents_logfile_path = "${dir}/events.log"\n`,
  );
  const env = { ...process.env, CONTAINERS_CONF: path.join(dir, 'containers.conf') };
  const global = ['--root', `${dir}/root`, '--runroot', `${dir}/runroot`, '--tmpdir', `${dir}/tmp`, '--storage-driver', 'overlay', '--events-backend', 'file'];
  const imp = sh(podman, [...global, 'import', path.join(dir, 'img/rootfs.tar'), 'localhost/bench:1'], { timeout: 120_000 });
  if (!imp.ok) return { error: `podman import: ${why(imp)}` };
  const lanes = active.map((rt) => {
    let bin = rt.bin;
    if (rt.wrap) {
      bin = path.join(dir, `${rt.name}-wrapped`);
      fs.writeFileSync(bin, `#!/bin/sh\nexec ${unshareBin} -m sh -c '${WRAP_SCRIPT}' sh ${rt.bin} "$@"\n`, { mode: 0o755 });
    }
    return { name: rt.name, argv: [podman, ...global, '--runtime', bin, 'run', '--rm', '--network', 'none', 'localhost/bench:1', 'true'], samples: [], failures: 0, last: null };
  });
  return { env, lanes };
}

function podmanRound(p, k) {
  for (const lane of rotate(p.lanes, k)) {
    const [cmd, ...args] = lane.argv;
    const prev = process.env.CONTAINERS_CONF;
    process.env.CONTAINERS_CONF = p.env.CONTAINERS_CONF;
    const r = timed(cmd, args, { timeout: 120_000 });
    if (prev === undefined) delete process.env.CONTAINERS_CONF;
    else process.env.CONTAINERS_CONF = prev;
    if (r.ok) lane.samples.push(r.ms);
    else {
      lane.failures++;
      lane.last = why(r);
    }
  }
}

// ------------------------------------------------------------------ main
let podman = null;
try {
  log(`bench: ${opts.n} rounds x [${active.map((r) => r.name).join(', ')}]${hybrid ? ' (hybrid cgroups: crun create/run via unshare)' : ''}`);
  settlePageCache([...new Set(active.flatMap((rt) => runtimeFiles(rt.bin, rt.name !== 'runc' && rt.name !== 'crun')))], opts.pageCache);
  await round(-1); // warm-up, not counted (with --page-cache exec, it reads the runtimes back)
  for (const rt of active) {
    for (const v of VERBS) rt.samples[v] = [];
    rt.lifecycle = [];
    rt.failures = {};
  }
  wrapSamples.length = 0;
  if (opts.podman) {
    podman = podmanSetup();
    if (!podman.error) podmanRound(podman, 0); // warm-up
    for (const l of podman.lanes ?? []) Object.assign(l, { samples: [], failures: 0, last: null });
  }
  for (let k = 0; k < opts.n; k++) {
    await round(k);
    if (podman && !podman.error) podmanRound(podman, k);
    process.stderr.write(`\rbench: ${k + 1}/${opts.n}`);
    await tick();
  }
  process.stderr.write('\n');
} finally {
  for (const rt of active) for (const id of fs.readdirSync(rt.root)) sh(rt.bin, ['--root', rt.root, 'delete', '--force', id]);
}

// ------------------------------------------------------------------ report
const wrap = stats(wrapSamples)?.median ?? 0;
const net = (rt, v) => (rt.wrap && WRAPPED.has(v) ? rt.samples[v].map((x) => x - wrap) : rt.samples[v]);
const cols = active.map((rt) => rt.name);
const rows = [...VERBS.map((v) => [v, Object.fromEntries(active.map((rt) => [rt.name, stats(net(rt, v))]))])];
rows.push(['lifecycle', Object.fromEntries(active.map((rt) => [rt.name, stats(rt.lifecycle.map((x) => x - (rt.wrap ? wrap : 0)))]))]);
if (podman?.lanes) rows.push(['podman run --rm', Object.fromEntries(podman.lanes.map((l) => [l.name, stats(l.samples)]))]);

const out = [];
// Ratios: tsrunc (and each --also build) to runc, and tsrunc to crun.
const ratios = [...['tsrunc', ...opts.also.map((a) => a.name)].map((a) => [a, 'runc']), ['tsrunc', 'crun']];
out.push(`each verb its own process; ${opts.n} rounds, interleaved; median (p90) wall ms; page cache: ${opts.pageCache === 'read' ? 'runtimes read through first (as a copy leaves them)' : 'runtimes read back by their own runs (as after a boot)'}`);
out.push(pad('verb', 17, true) + cols.map((c) => pad(c, 18)).join('') + ratios.map(([a, b]) => pad(`${a}/${b}`, Math.max(13, a.length + b.length + 3))).join(''));
for (const [name, s] of rows) {
  const cell = (c) => (s[c] ? `${fmt(s[c].median, 1)} (${fmt(s[c].p90, 1)})` : '-');
  const ratio = (a, b) => (s[a] && s[b] ? fmt(s[a].median / s[b].median) + 'x' : '-');
  out.push(pad(name, 17, true) + cols.map((c) => pad(cell(c), 18)).join('') + ratios.map(([a, b]) => pad(ratio(a, b), Math.max(13, a.length + b.length + 3))).join(''));
}
for (const rt of active)
  for (const [v, f] of Object.entries(rt.failures)) out.push(`${rt.name} ${v}: ${f.count} failed, last: ${f.last}`);
for (const l of podman?.lanes ?? []) if (l.failures) out.push(`podman with ${l.name}: ${l.failures} failed, last: ${l.last}`);
if (podman?.error) out.push(`podman: ${podman.error}`);
for (const rt of runtimes) if (rt.error) out.push(`${rt.name}: ${rt.error}`);
if (hybrid) out.push(`crun's create, run and lifecycle are net of the unshare wrapper (median ${fmt(wrap)} ms); podman's crun lane is not`);
out.push(`versions: ${runtimes.map((r) => `${r.name}=${JSON.stringify(r.version)}`).join('  ')}`);
out.push(`host: ${os.release()}, ${os.cpus().length} cpus, cgroups ${cgroupsKind()}, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}, node ${process.version}`);
process.stdout.write(out.join('\n') + '\n');
if (opts.json) {
  const json = { date: new Date().toISOString(), n: opts.n, wrapperMedian: wrap, rows: Object.fromEntries(rows), runtimes: active.map(({ name, version, samples, lifecycle, failures }) => ({ name, version, samples, lifecycle, failures })) };
  fs.writeFileSync(opts.json, JSON.stringify(json, null, 2) + '\n');
}
// podman's store leaves its overlay directory mounted
const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m?.startsWith(work + '/'));
for (const m of mounts.reverse()) sh('umount', ['-l', m]);
fs.rmSync(work, { recursive: true, force: true });
