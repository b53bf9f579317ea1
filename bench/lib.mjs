// bench/lib.mjs — what bench/run.mjs and bench/verbs.mjs share: finding the
// three runtimes, a private rootfs and bundles, running and timing a command,
// and the statistics and table formatting. No dependencies.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const log = (s) => process.stderr.write(s + '\n');

export function which(name) {
  const dirs = (process.env.PATH || '').split(':').concat(['/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin']);
  for (const d of dirs) {
    if (!d) continue;
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {}
  }
  return null;
}

export function sh(cmd, args, { stdio = ['ignore', 'pipe', 'pipe'], timeout = 60_000, input } = {}) {
  const r = spawnSync(cmd, args, { stdio, timeout, encoding: 'utf8', input });
  return {
    ok: !r.error && r.status === 0,
    status: r.status,
    signal: r.signal,
    error: r.error,
    stdout: r.stdout || '',
    stderr: r.stderr || '',
  };
}

/** sh(), timed: { ...result, ms } (wall time of the whole spawn). */
export function timed(cmd, args, opts) {
  const t0 = process.hrtime.bigint();
  const r = sh(cmd, args, opts);
  return { ...r, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
}

/** The last line of a failure, runc's logrus `msg="…"` unwrapped. */
export function why(r) {
  if (r.error) return r.error.code === 'ETIMEDOUT' ? 'timed out' : r.error.message;
  const lines = (r.stderr || '').trim().split('\n').filter(Boolean);
  let last = lines.length ? lines[lines.length - 1] : '';
  const m = last.match(/msg="(.*)"/);
  if (m) last = m[1];
  const code = r.signal ? `signal ${r.signal}` : `exit ${r.status}`;
  return last ? `${code}: ${last}`.slice(0, 200) : code;
}

export function stats(xs) {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const pct = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
  return {
    n: s.length,
    median: s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2,
    p90: pct(90),
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    min: s[0],
    max: s[s.length - 1],
  };
}

export const fmt = (x, d = 2) => (x == null || !Number.isFinite(x) ? '-' : x.toFixed(d));
export const pad = (s, w, left = false) => (left ? String(s).padEnd(w) : String(s).padStart(w));
export const tick = () => new Promise((r) => setImmediate(r));

// crun 1.8 refuses hybrid cgroups (v1 + v2 at /sys/fs/cgroup/unified) for
// the verbs that make a cgroup (create, run); on such a host those are run as
//   unshare -m sh -c 'umount /sys/fs/cgroup/unified; exec crun …'
// and the wrapper alone is timed too, so that its cost can be subtracted.
export function isHybridCgroups() {
  try {
    const mounts = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' '));
    const at = (p) => mounts.filter((m) => m[1] === p).map((m) => m[2]);
    return at('/sys/fs/cgroup/unified').includes('cgroup2') && !at('/sys/fs/cgroup').includes('cgroup2');
  } catch {
    return false;
  }
}
export const hybrid = isHybridCgroups();
export const unshareBin = which('unshare');
export const WRAP_SCRIPT = 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$@"';

export function cgroupsKind() {
  if (hybrid) return 'hybrid (v1 + v2 unified)';
  return fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'v2' : 'v1';
}

/** A copy of the busybox rootfs under `work` (built if the repo has none). */
export function prepareRootfs(work) {
  const src = path.join(repo, 'bundles/busybox/rootfs');
  const rootfs = path.join(work, 'rootfs');
  if (fs.existsSync(path.join(src, 'bin/busybox'))) {
    const r = sh('cp', ['-a', src, rootfs]);
    if (!r.ok) throw new Error(`copying rootfs: ${why(r)}`);
  } else {
    log(`bench: ${src} missing, building a temporary one (run scripts/setup.sh to keep it)`);
    const r = sh('bash', [path.join(repo, 'scripts/make-rootfs.sh'), rootfs]);
    if (!r.ok) throw new Error(`make-rootfs.sh: ${why(r)}`);
  }
  return rootfs;
}

/** bundles/busybox/config.json with `args`, the rootfs read-only, no cgroupsPath. */
export function makeBundle(dir, rootfs, args, tweak = () => {}) {
  const cfg = JSON.parse(fs.readFileSync(path.join(repo, 'bundles/busybox/config.json'), 'utf8'));
  cfg.process.args = args;
  cfg.process.terminal = false;
  cfg.root = { ...(cfg.root || {}), path: rootfs, readonly: true };
  if (cfg.linux) delete cfg.linux.cgroupsPath;
  tweak(cfg);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg, null, 2) + '\n');
  return dir;
}

/**
 * tsrunc (this repo's dist/tsrunc unless given), runc and crun as found on
 * PATH: [{ name, bin, wrap, version, error }]; `error` says why one is left out.
 */
export function findRuntimes(tsruncPath, also = []) {
  const list = [
    { name: 'tsrunc', bin: fs.existsSync(tsruncPath) ? tsruncPath : null, missing: `not built (${tsruncPath} missing)` },
    ...also.map((a) => ({ name: a.name, bin: fs.existsSync(a.bin) ? a.bin : null, missing: `not built (${a.bin} missing)` })),
    { name: 'runc', bin: which('runc'), missing: 'not installed (apt-get install runc)' },
    { name: 'crun', bin: which('crun'), missing: 'not installed (apt-get install crun)', wrap: hybrid },
  ];
  return list.map(({ missing, wrap = false, ...rt }) => {
    const out = { ...rt, wrap, version: null, error: null };
    if (!rt.bin) out.error = missing;
    else if (wrap && !unshareBin) out.error = 'unshare(1) not found (needed for hybrid cgroups)';
    else {
      const v = sh(rt.bin, ['--version'], { timeout: 10_000 });
      out.version = (v.stdout || v.stderr).trim().split('\n')[0] || null;
    }
    return out;
  });
}

/**
 * The files a runtime runs from: its executable, and for a tsrunc build what
 * it loads from beside it (prebuilds/, and dist/node for the Node build).
 */
export function runtimeFiles(bin, tsrunc) {
  const files = [fs.realpathSync(bin)];
  if (!tsrunc) return files;
  const beside = [path.join(path.dirname(bin), 'node'), path.join(path.dirname(path.dirname(bin)), 'prebuilds', `${process.platform}-${process.arch}`)];
  for (const p of beside) {
    if (!fs.existsSync(p)) continue;
    if (fs.statSync(p).isDirectory()) for (const f of fs.readdirSync(p)) files.push(fs.realpathSync(path.join(p, f)));
    else files.push(fs.realpathSync(p));
  }
  return [...new Set(files)];
}

/**
 * Puts files in the page cache the same way for every runtime, since how
 * they got there changes how fast a large executable starts. tsrunc's is Bun
 * (~110 MB), and a start maps ~1,300 of its pages: where the kernel holds
 * them in large folios, as a file just written gets (an install, a build)
 * and, in part, one read through (a copy), a `state` in Bun's own layout took ~1.1 ms less
 * here than where it holds them page by page, as the faults of a first exec
 * leave them (after a boot) and as reclaim leaves them. The layout
 * scripts/elf-hugetext.mjs makes narrows that (README, "Huge pages for the
 * executable") without closing it. runc's 10 MB took the same either way.
 *   exec: dropped from the cache (dd iflag=nocache; pages a live process maps
 *         stay), to be read back by the runs themselves: the state after a boot
 *   read: dropped, then read through once in 1 MiB reads, as a copy or a
 *         backup leaves them. Not an install: an install or a build writes
 *         tsrunc's executable whole, which leaves it in 2 MiB folios as the
 *         exec state does since that layout (67.5 MB of it mapped by PMD in
 *         both, against 53 MB after this read, on Linux 6.18 with ext4).
 */
export function settlePageCache(files, how) {
  for (const f of files) {
    const r = sh('dd', [`if=${f}`, 'iflag=nocache', 'count=0', 'status=none']);
    if (!r.ok) throw new Error(`dd iflag=nocache ${f}: ${why(r)}`);
  }
  if (how !== 'read') return;
  const buf = Buffer.alloc(1 << 20);
  for (const f of files) {
    const fd = fs.openSync(f, 'r');
    try {
      while (fs.readSync(fd, buf, 0, buf.length, null) > 0);
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** crun 1.8 rejects ociVersion 1.2.0: its copy of the config says 1.1.0. */
export function configTweak(name) {
  return name === 'crun'
    ? (cfg) => {
        if (/^1\.2/.test(cfg.ociVersion || '')) cfg.ociVersion = '1.1.0';
      }
    : () => {};
}

/** argv for `RUNTIME --root R <args…>`, in the unshare wrapper when asked. */
export function runtimeArgv(rt, root, args, wrap = false) {
  const direct = [rt.bin, '--root', root, ...args];
  return wrap ? [unshareBin, '-m', 'sh', '-c', WRAP_SCRIPT, 'sh', ...direct] : direct;
}

/** The wrapper alone (`… exec true`), timed. */
export function timedWrapper() {
  return timed(unshareBin, ['-m', 'sh', '-c', WRAP_SCRIPT, 'sh', 'true'], { stdio: ['ignore', 'ignore', 'pipe'] });
}
