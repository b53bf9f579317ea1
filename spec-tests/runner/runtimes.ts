// The runtimes under test: finding them, naming them, wrapping crun on hybrid
// cgroup hosts, and a preflight `run` of the busybox bundle (which also picks
// the bundle's ociVersion for runtimes that refuse the current one).
import { spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, delimiter, isAbsolute, join, resolve } from 'node:path';

export const repo = resolve(import.meta.dirname, '../..');
export const busyboxConfig = join(repo, 'bundles/busybox/config.json');
export const busyboxRootfs = join(repo, 'bundles/busybox/rootfs');
// test/lib/harness.js in the tsrunc-spec-tests package (scripts/pack-spec-tests.mjs)
export const harnessFile = join(repo, existsSync(join(repo, 'test/lib/harness.ts')) ? 'test/lib/harness.ts' : 'test/lib/harness.js');
export const makeRootfsScript = join(repo, 'scripts/make-rootfs.sh');

/** The env var the harness reads to override the bundles' ociVersion. */
export const OCI_VERSION_ENV = 'SPEC_TESTS_OCI_VERSION';
/** ociVersions tried, in order, when a runtime refuses the bundle's own. */
export const FALLBACK_OCI_VERSIONS = ['1.1.0', '1.0.2'];

export type WrapMode = 'auto' | 'always' | 'never';

export interface Runtime {
  /** what was asked for: "runc", "/usr/bin/crun", … */
  spec: string;
  /** the real executable */
  path: string;
  /** runtime name: first word of `--version` ("runc", "crun", "tsrunc", "youki"), else the file name */
  name: string;
  /** version from `--version`, "" if none */
  version: string;
  /** column label: "runc 1.1.5+ds1" (made unique by the caller) */
  label: string;
  /** the runtime-spec version it reports (`spec: …` line of --version), "" if none */
  specVersion: string;
  /** what the tests run (TSRUNC_BIN): the executable, or the generated wrapper */
  invoke: string;
  /** why and how the runtime is wrapped, if it is */
  wrapper?: { path: string; why: string };
  /** ociVersion the bundles are given (SPEC_TESTS_OCI_VERSION), if not their own */
  ociVersion?: string;
  /** things the report should say about this runtime */
  notes: string[];
  /** preflight: can it `run` the busybox bundle (`true`) at all? */
  preflight?: { ok: boolean; error?: string };
}

export function which(cmd: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']);
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  return undefined;
}

/**
 * "tsrunc" is this repository's dist/tsrunc, or where there is none (the
 * tsrunc-spec-tests package) tsrunc in PATH; another bare name is looked up in
 * PATH (runc, crun, youki, …); anything with a slash is a path.
 */
export function resolveRuntimePath(spec: string): string {
  if (spec === 'tsrunc') {
    const p = join(repo, 'dist/tsrunc');
    if (existsSync(p)) return p;
    const inPath = which('tsrunc');
    if (!inPath) throw new Error(`${p} does not exist (build tsrunc first: npm run build) and there is no tsrunc in PATH`);
    return inPath;
  }
  if (!spec.includes('/')) {
    const p = which(spec);
    if (!p) throw new Error(`runtime ${spec} not found in PATH`);
    return p;
  }
  const p = isAbsolute(spec) ? spec : resolve(spec);
  try {
    accessSync(p, constants.X_OK);
  } catch {
    throw new Error(`runtime ${p} is not an executable file`);
  }
  return p;
}

/** Name, version and spec version from `--version` (runc, crun, youki and tsrunc all print "<name> version <v>"). */
export function parseVersionOutput(text: string, fallbackName: string): { name: string; version: string; specVersion: string } {
  const lines = text.split('\n').map((l) => l.trim());
  const first = /^(\S+)\s+version\s+(\S+)/i.exec(lines.find((l) => /\bversion\b/i.test(l)) ?? '');
  const spec = /^spec(?:\s+version)?:\s*(\S+)/i.exec(lines.find((l) => /^spec\b/i.test(l)) ?? '');
  return { name: first ? first[1].toLowerCase() : fallbackName, version: first ? first[2] : '', specVersion: spec ? spec[1] : '' };
}

export type CgroupMode = 'v1' | 'hybrid' | 'v2' | 'none';

/** mountinfo → cgroup mode: v2 (unified at /sys/fs/cgroup), hybrid (v1 plus cgroup2 at /sys/fs/cgroup/unified), v1. */
export function cgroupModeOf(mountinfo: string): CgroupMode {
  const fsAt = (point: string) =>
    mountinfo
      .split('\n')
      .filter((l) => l.split(' ')[4] === point)
      .map((l) => l.slice(l.indexOf(' - ') + 3).split(' ')[0]);
  if (fsAt('/sys/fs/cgroup').includes('cgroup2')) return 'v2';
  const anyV1 = mountinfo.split('\n').some((l) => l.includes(' - cgroup '));
  if (fsAt('/sys/fs/cgroup/unified').includes('cgroup2')) return anyV1 ? 'hybrid' : 'v2';
  return anyV1 ? 'v1' : 'none';
}

export function hostCgroupMode(): CgroupMode {
  try {
    return cgroupModeOf(readFileSync('/proc/self/mountinfo', 'utf8'));
  } catch {
    return 'none';
  }
}

/** An id that test/lib/harness.ts uid() makes: `spec-<pid>-<tag><n>`, `c-<pid>-<tag><n>` (the tag: a few letters and digits per test file). */
export const HARNESS_ID = /^(spec|c)-\d+-[0-9a-z]+$/;

/** The cgroup directories named as `name` (the harness's ids by default) within three levels of any cgroup mount. */
export function harnessCgroups(name: RegExp = HARNESS_ID): string[] {
  const mounts: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (sep > 0 && (f[sep + 1] === 'cgroup' || f[sep + 1] === 'cgroup2')) mounts.push(f[4]);
  }
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const path = join(dir, e.name);
      if (name.test(e.name)) found.push(path);
      if (depth < 3) walk(path, depth + 1);
    }
  };
  for (const m of mounts)
    try {
      walk(m, 1);
    } catch {}
  return found;
}

/**
 * Cgroups the suite's containers were left with after their delete: those
 * harnessCgroups(name) finds that were not there `before` the run (a list of
 * it, made then; not mtimes, which cgroupfs sets when a directory's inode is
 * first looked up rather than when it was made). rmdir takes only empty ones,
 * so nothing in use goes. Returns what it removed, for the log: runtime.md
 * says delete MUST remove what create made.
 */
export function sweepLeftCgroups(before: ReadonlySet<string>, name: RegExp = HARNESS_ID): string[] {
  const removed: string[] = [];
  // Deepest first: a left cgroup's sub-cgroups before it.
  for (const path of harnessCgroups(name).reverse()) {
    if (before.has(path)) continue;
    try {
      rmdirSync(path);
      removed.push(path);
    } catch {}
  }
  return removed;
}

export function describeCgroups(mode: CgroupMode): string {
  switch (mode) {
    case 'v2':
      return 'cgroup v2 (unified)';
    case 'hybrid': {
      let ctrls = '';
      try {
        ctrls = readFileSync('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8').trim();
      } catch {}
      return `cgroup v1 (hybrid: cgroup2 also at /sys/fs/cgroup/unified, ${ctrls ? `controllers: ${ctrls}` : 'no controllers'})`;
    }
    case 'v1':
      return 'cgroup v1';
    default:
      return 'no cgroup filesystem';
  }
}

/**
 * Wraps `bin` so that it runs in a private mount namespace where the cgroup2
 * mount at /sys/fs/cgroup/unified is gone. crun (1.8) refuses hybrid hosts
 * outright ("cgroups in hybrid mode not supported, drop all controllers from
 * cgroupv2") even when the v2 hierarchy has no controllers; without that mount
 * it sees a plain cgroup v1 host, which is what runc and tsrunc use here too.
 * The wrapper is named like the runtime, so a test that looks at the
 * runtime's file name sees "crun".
 */
export function makeHybridWrapper(bin: string, dir: string): string {
  const unshare = which('unshare');
  if (!unshare) throw new Error('unshare(1) not found: needed to run crun on a hybrid cgroup host');
  const path = join(dir, basename(bin));
  writeFileSync(
    path,
    [
      '#!/bin/sh',
      '# Generated by spec-tests/runner (see runtimes.ts makeHybridWrapper): this host has',
      '# hybrid cgroups (v1 + cgroup2 at /sys/fs/cgroup/unified), which this runtime refuses;',
      '# run it in a private mount namespace without the cgroup2 mount.',
      `exec ${shq(unshare)} -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$0" "$@"' ${shq(bin)} "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(path, 0o755);
  return path;
}

function shq(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** Does this runtime need the hybrid wrapper? auto: crun on a hybrid host. */
export function needsHybridWrapper(name: string, mode: WrapMode, cgroups: CgroupMode): boolean {
  if (mode === 'never') return false;
  if (mode === 'always') return true;
  return cgroups === 'hybrid' && name === 'crun';
}

export function describeRuntime(spec: string, opts: { wrap: WrapMode; cgroups: CgroupMode; workDir: string }): Runtime {
  const path = resolveRuntimePath(spec);
  const v = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const { name, version, specVersion } = parseVersionOutput(`${v.stdout ?? ''}\n${v.stderr ?? ''}`, basename(path));
  const rt: Runtime = { spec, path, name, version, specVersion, label: version ? `${name} ${version}` : name, invoke: path, notes: [] };
  if (needsHybridWrapper(name, opts.wrap, opts.cgroups)) {
    const why =
      opts.cgroups === 'hybrid'
        ? 'this host has hybrid cgroups, which crun refuses ("cgroups in hybrid mode not supported"): run as unshare -m sh -c \'umount /sys/fs/cgroup/unified; exec crun "$@"\''
        : 'wrapped on request (--hybrid-wrapper always)';
    rt.wrapper = { path: makeHybridWrapper(path, mkdtempSync(join(opts.workDir, 'wrap-'))), why };
    rt.invoke = rt.wrapper.path;
    rt.notes.push(`run through a generated wrapper: ${why}`);
  }
  return rt;
}

function baseConfig(): any {
  return JSON.parse(readFileSync(busyboxConfig, 'utf8'));
}

export function bundleOciVersion(): string {
  return String(baseConfig().ociVersion ?? '');
}

/** Does test/lib/harness.ts read SPEC_TESTS_OCI_VERSION? */
export function harnessHonorsOciVersion(): boolean {
  try {
    return readFileSync(harnessFile, 'utf8').includes(OCI_VERSION_ENV);
  } catch {
    return false;
  }
}

/** `run` busybox `true` with the given ociVersion; undefined when it worked, else the error. */
export function tryRun(invoke: string, ociVersion: string | undefined, workDir: string): string | undefined {
  const dir = mkdtempSync(join(workDir, 'preflight-'));
  const root = join(dir, 'root');
  const bundle = join(dir, 'bundle');
  const id = `spec-preflight-${process.pid}`;
  try {
    const c = baseConfig();
    c.root.path = busyboxRootfs;
    c.process.args = ['true'];
    c.process.terminal = false;
    if (ociVersion) c.ociVersion = ociVersion;
    mkdirSync(bundle, { recursive: true });
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(c, null, 2));
    const out = join(dir, 'out');
    // stdio in a file, not a pipe: the container inherits it.
    const r = spawnSync('sh', ['-c', `exec "$@" >${shq(out)} 2>&1 </dev/null`, 'sh', invoke, '--root', root, 'run', '--bundle', bundle, id], {
      timeout: 30_000,
    });
    spawnSync(invoke, ['--root', root, 'delete', '--force', id], { stdio: 'ignore', timeout: 10_000 });
    if (r.status === 0) return undefined;
    const text = existsSync(out) ? readFileSync(out, 'utf8').trim() : '';
    const why = r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`;
    return `${why}${text ? `: ${lastLines(text)}` : ''}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function lastLines(text: string): string {
  // runc/crun/tsrunc log errors as logrus or JSON lines; keep the message.
  const lines = text.split('\n').filter(Boolean).slice(-3);
  return lines
    .map((l) => {
      try {
        const j = JSON.parse(l);
        if (j && typeof j.msg === 'string') return j.msg;
      } catch {}
      const m = /\bmsg="((?:[^"\\]|\\.)*)"/.exec(l);
      return m ? m[1].replace(/\\"/g, '"') : l;
    })
    .join(' | ');
}

/**
 * Preflight: can the runtime run the busybox bundle? With `ociVersion` 'auto',
 * if it cannot with the bundle's own ociVersion but can with an older one
 * (crun 1.8 refuses 1.2.0: "unknown version specified"), that one is used
 * for the whole suite through SPEC_TESTS_OCI_VERSION.
 */
export function preflight(rt: Runtime, ociVersion: string | 'auto', workDir: string): void {
  const own = bundleOciVersion();
  if (ociVersion !== 'auto') {
    rt.ociVersion = ociVersion;
    const err = tryRun(rt.invoke, ociVersion, workDir);
    rt.preflight = err ? { ok: false, error: err } : { ok: true };
  } else {
    const err = tryRun(rt.invoke, undefined, workDir);
    if (!err) rt.preflight = { ok: true };
    else {
      rt.preflight = { ok: false, error: err };
      for (const v of FALLBACK_OCI_VERSIONS) {
        if (v === own) continue;
        if (!tryRun(rt.invoke, v, workDir)) {
          rt.ociVersion = v;
          rt.preflight = { ok: true };
          rt.notes.push(`refuses the bundle's ociVersion ${own} (${err}); the suite gives it ociVersion ${v} (${OCI_VERSION_ENV}=${v})`);
          break;
        }
      }
    }
  }
  if (rt.ociVersion && rt.ociVersion !== own && !harnessHonorsOciVersion())
    rt.notes.push(`test/lib/harness.ts does not read ${OCI_VERSION_ENV} yet, so the tests' bundles keep ociVersion ${own}: expect create failures`);
  if (!rt.preflight?.ok) rt.notes.push(`preflight: cannot run the busybox bundle: ${rt.preflight?.error}`);
}
