#!/usr/bin/env node
// bench/run.mjs — compare tsrunc with Debian's runc and crun.
//
//   node_modules/.bin/node bench/run.mjs [--n 50] [--tsrunc PATH] [--json FILE]
//
// 1. Latency: `RUNTIME --root R run --bundle B ID` of busybox `true`, N times
//    per runtime, interleaved (the order rotates every iteration), each runtime
//    with its own --root and its own bundle dir. One untimed warm-up run each.
// 2. Memory of a created-but-not-started container: `create` (stdio on
//    /dev/null), pid from `state ID`, VmRSS (/proc/PID/status) and Pss
//    (/proc/PID/smaps_rollup) of that pid, then `delete --force`.
//
// crun 1.8 refuses hybrid cgroups (v1 + v2 at /sys/fs/cgroup/unified); on such
// a host it is run as
//   unshare -m sh -c 'umount /sys/fs/cgroup/unified; exec crun …'
// The wrapper alone (`… exec true`) is timed in the same loop and its median
// is subtracted from every crun sample for the "crun (net)" row.
// crun 1.8 also rejects ociVersion 1.2.0, so crun's copy of the config says
// 1.1.0 (nothing else differs). Needs root. No dependencies.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  cgroupsKind, configTweak, findRuntimes, fmt, hybrid, log, makeBundle, pad, prepareRootfs, repo,
  runtimeArgv, sh, stats, tick, timedWrapper as wrapperRun, unshareBin, why,
} from './lib.mjs';

// ---------------------------------------------------------------- arguments
function usage(code) {
  (code ? process.stderr : process.stdout).write(
    'usage: bench/run.mjs [--n N] [--tsrunc PATH] [--json FILE] [--keep]\n' +
      '  --n N          timed runs per runtime (default 50)\n' +
      '  --tsrunc PATH  tsrunc executable (default dist/tsrunc of this repo)\n' +
      '  --json FILE    also write the results as JSON\n' +
      '  --keep         keep the temp dir (bundles, roots)\n',
  );
  process.exit(code);
}
const opts = { n: 50, tsrunc: path.join(repo, 'dist/tsrunc'), json: null, keep: false };
{
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let v;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) [a, v] = [a.slice(0, eq), a.slice(eq + 1)];
    const val = () => {
      if (v !== undefined) return v;
      if (i + 1 >= argv.length) usage(2);
      return argv[++i];
    };
    switch (a) {
      case '--n': opts.n = Number(val()); break;
      case '--tsrunc': opts.tsrunc = path.resolve(val()); break;
      case '--json': opts.json = path.resolve(val()); break;
      case '--keep': opts.keep = true; break;
      case '-h': case '--help': usage(0); break;
      default: process.stderr.write(`unknown argument: ${a}\n`); usage(2);
    }
  }
  if (!Number.isInteger(opts.n) || opts.n < 1) {
    process.stderr.write('--n must be a positive integer\n');
    process.exit(2);
  }
}
if (process.getuid() !== 0) {
  process.stderr.write('bench/run.mjs must run as root\n');
  process.exit(1);
}

// ---------------------------------------------------------------- helpers
function readProcMem(pid) {
  const out = { vmrss_kb: null, pss_kb: null };
  const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = st.match(/^VmRSS:\s+(\d+)\s+kB/m);
  if (m) out.vmrss_kb = Number(m[1]);
  try {
    const sm = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const p = sm.match(/^Pss:\s+(\d+)\s+kB/m);
    if (p) out.pss_kb = Number(p[1]);
  } catch {}
  try {
    out.cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {}
  return out;
}

// ---------------------------------------------------------------- workspace
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-bench-'));
let rootfs;

// ---------------------------------------------------------------- runtimes
// Each runtime: { name, bin, wrap, bundle, root, error, samples[], failures, lastError }
const runtimes = [];
function addRuntime(found) {
  const rt = { ...found, bundle: null, root: null, samples: [], failures: 0, lastError: null, ids: new Set() };
  runtimes.push(rt);
  if (rt.error) return rt;
  rt.root = fs.mkdtempSync(path.join(work, `root-${rt.name}-`));
  rt.bundle = makeBundle(path.join(work, 'bundle-' + rt.name), rootfs, ['true'], configTweak(rt.name));
  return rt;
}

const argv = (rt, args) => runtimeArgv(rt, rt.root, args, rt.wrap);

function cleanupContainer(rt, id) {
  // delete never needs the wrapper (crun delete works on hybrid hosts)
  sh(rt.bin, ['--root', rt.root, 'delete', '--force', id], { timeout: 20_000 });
  rt.ids.delete(id);
}

let seq = 0;
const runId = (rt) => `bench-${rt.name}-${process.pid}-${seq++}`;

function timedRun(rt) {
  const id = runId(rt);
  rt.ids.add(id);
  const [cmd, ...args] = argv(rt, ['run', '--bundle', rt.bundle, id]);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 60_000 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const res = { ok: !r.error && r.status === 0, status: r.status, signal: r.signal, error: r.error, stderr: r.stderr || '' };
  if (!res.ok) {
    cleanupContainer(rt, id);
    return { ok: false, ms, reason: why(res) };
  }
  rt.ids.delete(id); // `run` removes the container itself
  return { ok: true, ms };
}

// The wrapper alone, as a pseudo-runtime.
const wrapper = { name: 'unshare-wrap', samples: [], failures: 0, lastError: null, error: null };
function timedWrapper() {
  const r = wrapperRun();
  return r.ok ? { ok: true, ms: r.ms } : { ok: false, ms: r.ms, reason: why(r) };
}

function measureMemory(rt) {
  const id = runId(rt);
  rt.ids.add(id);
  try {
    const [cmd, ...args] = argv(rt, ['create', '--bundle', rt.bundle, id]);
    // stdio on /dev/null: nothing may wait on a pipe held by the container init
    const c = spawnSync(cmd, args, { stdio: 'ignore', timeout: 60_000 });
    if (c.error || c.status !== 0) {
      // re-run once with stderr captured, only to learn why
      cleanupContainer(rt, id);
      rt.ids.add(id);
      const again = sh(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      return { error: `create failed: ${again.ok ? why({ ...c, stderr: '' }) : why(again)}` };
    }
    const s = sh(rt.bin, ['--root', rt.root, 'state', id], { timeout: 20_000 });
    if (!s.ok) return { error: `state failed: ${why(s)}` };
    let st;
    try {
      st = JSON.parse(s.stdout);
    } catch {
      return { error: 'state: output is not JSON' };
    }
    if (!Number.isInteger(st.pid) || st.pid <= 0) return { error: `state: no pid (status ${st.status})` };
    const mem = readProcMem(st.pid);
    return { pid: st.pid, status: st.status, ...mem };
  } catch (e) {
    return { error: String(e.message || e) };
  } finally {
    cleanupContainer(rt, id);
  }
}

// ---------------------------------------------------------------- main
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (stopping) process.exit(130);
    stopping = true;
    log(`bench: ${sig}, finishing up`);
  });
}

function finalCleanup() {
  for (const rt of runtimes) for (const id of [...rt.ids]) cleanupContainer(rt, id);
  if (!opts.keep) fs.rmSync(work, { recursive: true, force: true });
  else log(`bench: kept ${work}`);
}

async function main() {
  rootfs = prepareRootfs(work);
  for (const found of findRuntimes(opts.tsrunc)) addRuntime(found);
  const crun = runtimes.find((r) => r.name === 'crun');
  const useWrapper = crun.wrap && !crun.error;

  // warm-up: one untimed run each; a failure here disables the runtime
  for (const rt of runtimes) {
    if (rt.error) continue;
    const r = timedRun(rt);
    if (!r.ok) rt.error = `run failed: ${r.reason}`;
  }
  if (useWrapper) {
    const r = timedWrapper();
    if (!r.ok) wrapper.error = `wrapper failed: ${r.reason}`;
  }

  const active = runtimes.filter((r) => !r.error);
  log(`bench: ${opts.n} iterations x [${active.map((r) => r.name).join(', ')}${useWrapper ? ', unshare-wrap' : ''}]` + (hybrid ? ' (hybrid cgroups: crun via unshare)' : ''));
  const lanes = [...active.map((rt) => ({ rt, fn: () => timedRun(rt) })), ...(useWrapper && !wrapper.error ? [{ rt: wrapper, fn: timedWrapper }] : [])];
  for (let i = 0; i < opts.n && !stopping && lanes.length; i++) {
    for (let k = 0; k < lanes.length; k++) {
      const { rt, fn } = lanes[(i + k) % lanes.length];
      const r = fn();
      if (r.ok) rt.samples.push(r.ms);
      else {
        rt.failures++;
        rt.lastError = r.reason;
      }
    }
    if ((i + 1) % 10 === 0 || i + 1 === opts.n) process.stderr.write(`\rbench: ${i + 1}/${opts.n}`);
    await tick(); // let signal handlers run
  }
  process.stderr.write('\n');

  // memory of a created container
  const memory = {};
  for (const rt of runtimes) {
    if (stopping) break;
    memory[rt.name] = rt.error ? { error: rt.error } : measureMemory(rt);
    await tick();
  }

  // ------------------------------------------------------------ report
  const res = {};
  for (const rt of [...runtimes, wrapper]) {
    res[rt.name] = { stats: stats(rt.samples), samples_ms: rt.samples, failures: rt.failures, lastError: rt.lastError, error: rt.error };
  }
  const wrapMedian = useWrapper ? res['unshare-wrap'].stats?.median : null;
  if (useWrapper && wrapMedian != null && crun.samples.length) {
    res['crun (net)'] = {
      stats: stats(crun.samples.map((x) => x - wrapMedian)),
      note: `crun minus median unshare-wrap (${fmt(wrapMedian)} ms)`,
    };
  }
  const ts = res.tsrunc.stats;
  const ratio = (other) => {
    const o = res[other]?.stats;
    if (!ts || !o) return null;
    return { median: ts.median / o.median, p90: ts.p90 / o.p90, mean: ts.mean / o.mean };
  };
  const ratios = { 'tsrunc/runc': ratio('runc'), 'tsrunc/crun': ratio('crun') };
  if (res['crun (net)']) ratios['tsrunc/crun (net)'] = ratio('crun (net)');

  const order = ['tsrunc', 'runc', 'crun', ...(res['crun (net)'] ? ['crun (net)'] : []), ...(useWrapper ? ['unshare-wrap'] : [])];
  const out = [];
  out.push(`run --bundle B ID of busybox \`true\` — ${opts.n} iterations, interleaved, wall ms per run`);
  out.push(`${pad('runtime', 14, true)}${pad('median', 9)}${pad('p90', 9)}${pad('mean', 9)}${pad('min', 9)}${pad('max', 9)}${pad('ok/n', 9)}${pad('tsrunc/x', 10)}  note`);
  for (const name of order) {
    const r = res[name];
    const s = r.stats;
    const n = name === 'crun (net)' ? '' : `${r.samples_ms.length}/${r.samples_ms.length + r.failures}`;
    let note = r.error || r.note || '';
    if (!r.error && r.failures) note = `${r.failures} failed, last: ${r.lastError}`;
    const x = ts && s && !name.startsWith('tsrunc') && name !== 'unshare-wrap' ? fmt(ts.median / s.median) + 'x' : '';
    if (r.error && !s) out.push(`${pad(name, 14, true)}${pad('-', 9)}${pad('-', 9)}${pad('-', 9)}${pad('-', 9)}${pad('-', 9)}${pad('-', 9)}${pad('', 10)}  ${note}`);
    else out.push(`${pad(name, 14, true)}${pad(fmt(s?.median), 9)}${pad(fmt(s?.p90), 9)}${pad(fmt(s?.mean), 9)}${pad(fmt(s?.min), 9)}${pad(fmt(s?.max), 9)}${pad(n, 9)}${pad(x, 10)}  ${note}`);
  }
  out.push('');
  for (const [k, v] of Object.entries(ratios)) {
    out.push(`${pad(k, 18, true)} ${v ? `median ${fmt(v.median)}x  p90 ${fmt(v.p90)}x  mean ${fmt(v.mean)}x` : 'n/a (needs both rows)'}`);
  }
  out.push('');
  out.push('created-but-not-started container: init process memory');
  out.push(`${pad('runtime', 14, true)}${pad('pid', 9)}${pad('VmRSS kB', 11)}${pad('Pss kB', 10)}  init / note`);
  for (const rt of runtimes) {
    const m = memory[rt.name] || { error: 'skipped (interrupted)' };
    if (m.error) out.push(`${pad(rt.name, 14, true)}${pad('-', 9)}${pad('-', 11)}${pad('-', 10)}  ${m.error}`);
    else out.push(`${pad(rt.name, 14, true)}${pad(m.pid, 9)}${pad(m.vmrss_kb ?? '-', 11)}${pad(m.pss_kb ?? '-', 10)}  ${(m.cmdline || '').slice(0, 60)}`);
  }
  out.push('');
  out.push(`versions: ${runtimes.map((r) => `${r.name}=${r.version ? JSON.stringify(r.version) : '-'}`).join('  ')}`);
  out.push(`host: ${os.release()}, ${os.cpus().length} cpus, cgroups ${cgroupsKind()}, node ${process.version}`);
  process.stdout.write(out.join('\n') + '\n');

  if (opts.json) {
    const json = {
      date: new Date().toISOString(),
      n: opts.n,
      host: { kernel: os.release(), cpus: os.cpus().length, hybridCgroups: hybrid, node: process.version },
      runtimes: Object.fromEntries(
        runtimes.map((r) => [r.name, { path: r.bin, version: r.version, wrappedInUnshare: r.wrap, ...res[r.name] }]),
      ),
      unshareWrapper: useWrapper ? res['unshare-wrap'] : null,
      crunNet: res['crun (net)'] || null,
      ratios,
      memory,
      interrupted: stopping,
    };
    fs.writeFileSync(opts.json, JSON.stringify(json, null, 2) + '\n');
    log(`bench: wrote ${opts.json}`);
  }
}

try {
  await main();
} catch (e) {
  log(`bench: ${e.stack || e}`);
  process.exitCode = 1;
} finally {
  finalCleanup();
}
if (stopping) process.exitCode = 130;
