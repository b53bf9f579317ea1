// Conformance tests for the OCI runtime-spec's config.md ("Configuration",
// v1.2 as amended up to v1.2.1: prestart hooks belong to create), one test
// per MUST / SHOULD that can be checked from outside the runtime, plus the
// definitions a runtime has to honour for a field to mean anything. See
// README.md for every requirement of config.md and which test checks it.
//
// The runtime is driven ONLY through its runc-compatible CLI, and only exit
// codes and observable effects are checked (what the container's process
// sees, written to a bind-mounted /out by a busybox "probe" script; /proc of
// the container's processes; files hooks write), never error wording:
//   TSRUNC_BIN=/usr/sbin/runc vitest run spec-tests
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  alive,
  capMask,
  hasAppArmor,
  hasPython,
  hasSELinux,
  isRoot,
  leftovers,
  nsOf,
  parseMountinfo,
  rootfs,
  runtime,
  sleep,
  specContext,
  tsruncKnownFailure,
  uid,
  until,
  type MountEntry,
} from './lib/probe.ts';

const ctx = specContext();
const { q, makeBundle, expectRefused, outDir, bundleWith, create, createOk, start, del, run, probe, sh, ownRootfs, stateOf, exists, waitStopped } = ctx;

/**
 * A host directory with a marker file and a tmpfs mounted at sub/ (with its
 * own marker, mounted with `subOptions`), unmounted after the file.
 */
function hostTree(subOptions = ''): string {
  const dir = mkdtempSync(join(ctx.scratch, 'tree-'));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'marker'), 'top\n');
  mkdirSync(join(dir, 'sub'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=1m${subOptions ? ',' + subOptions : ''}`, 'spec-sub', join(dir, 'sub')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount ${subOptions}: ${r.stderr}`);
  if (!subOptions.includes('ro')) writeFileSync(join(dir, 'sub/marker'), 'sub\n');
  ctx.teardown.push(() => spawnSync('umount', ['-l', join(dir, 'sub')]));
  return dir;
}

/** Our process's effective capabilities (this host's root may lack some, e.g. CAP_SYS_RESOURCE in a container). */
const OWN_CAPS = BigInt('0x' + /^CapEff:\s*(\w+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
const hasCapSysResource = (OWN_CAPS & (1n << 24n)) !== 0n;
const NO_PYTHON = 'needs python3 with socket.recv_fds, for the console socket (test/lib/pty_tools.py)';

// ---------------------------------------------------------------------------

describe.skipIf(!isRoot)('config.md Specification version', () => {
  it('config.md Specification version: ociVersion (REQUIRED) MUST be in SemVer v2.0.0 format: a config without one, or with a non-SemVer one, is invalid and MUST be refused [MUST]', () => {
    for (const v of [undefined, '', '1.0', 'v1.0.0', '1.0.0.0', 'latest']) {
      expectRefused(makeBundle(['true'], (c) => (v === undefined ? delete c.ociVersion : (c.ociVersion = v))), `ociVersion ${JSON.stringify(v)}`);
    }
  });

  it('config.md Specification version: configurations of earlier 1.x releases are compatible with a runtime of a later one (1.0.0, 1.0.2, 1.1.0, 1.2.0 all run) [definition]', () => {
    for (const v of ['1.0.0', '1.0.2', '1.1.0', '1.2.0']) {
      const p = probe((c) => (c.ociVersion = v));
      expect(p.ok, `${v}: ${p.run.stderr}`).toBe(true);
    }
  });
});

describe.skipIf(!isRoot)('config.md Root', () => {
  it('config.md Root: root is REQUIRED on Linux: a config without root, or without root.path, MUST be refused [REQUIRED]', () => {
    expectRefused(makeBundle(['true'], (c) => delete c.root), 'no root');
    expectRefused(makeBundle(['true'], (c) => delete c.root.path), 'no root.path');
  });

  it('config.md Root: path may be relative to the bundle (resolved against the bundle, not the caller\'s directory) [definition]', () => {
    const out = outDir();
    const fs = ownRootfs();
    const bundle = dirname(fs);
    const config = JSON.parse(readFileSync(join(makeBundle(['sh', '-c', 'echo ran > /out/ran'], (c) => c.mounts.push(out.mount)), 'config.json'), 'utf8'));
    config.root.path = basename(fs);
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
    const r = q(['run', '--bundle', bundle, uid('spec')], { cwd: '/' });
    expect(r.code, r.stderr).toBe(0);
    expect(out.read('ran')).toBe('ran\n');
  });

  it('config.md Root: a directory MUST exist at path (a missing path, or a file, is refused) [MUST]', () => {
    expectRefused(makeBundle(['true'], (c) => (c.root.path = join(ctx.scratch, 'no-such-rootfs'))), 'missing');
    const file = join(ctx.scratch, 'rootfs-file');
    writeFileSync(file, '');
    expectRefused(makeBundle(['true'], (c) => (c.root.path = file)), 'a file');
  });

  it('config.md Root: readonly true: the root filesystem MUST be read-only inside the container [MUST]', () => {
    const fs = ownRootfs();
    const { run: r, out } = sh('touch /spec-written 2>/dev/null; echo $? > /out/rc; cat /proc/self/mountinfo > /out/mountinfo', (c) => (c.root = { path: fs, readonly: true }));
    expect(r.code, r.stderr).toBe(0);
    expect(out.read('rc')).not.toBe('0\n');
    expect(existsSync(join(fs, 'spec-written'))).toBe(false);
    expect(parseMountinfo(out.read('mountinfo')!).filter((m) => m.point === '/').at(-1)!.opts).toContain('ro');
  });

  it('config.md Root: readonly defaults to false: without it the root filesystem is writable [definition]', () => {
    const fs = ownRootfs();
    const { run: r, out } = sh('touch /spec-written; echo $? > /out/rc', (c) => (c.root = { path: fs }));
    expect(r.code, r.stderr).toBe(0);
    expect(out.read('rc')).toBe('0\n');
    expect(existsSync(join(fs, 'spec-written'))).toBe(true);
  });
});

describe.skipIf(!isRoot)('config.md Mounts', () => {
  it('config.md Mounts: the runtime MUST mount entries in the listed order [MUST]', () => {
    const a = mkdtempSync(join(ctx.scratch, 'a-'));
    const b = mkdtempSync(join(ctx.scratch, 'b-'));
    writeFileSync(join(a, 'marker'), 'a\n');
    writeFileSync(join(b, 'marker'), 'b\n');
    const tmpfs = (dest: string, mode: string) => ({ destination: dest, type: 'tmpfs', source: 'tmpfs', options: [`mode=${mode}`] });
    const bind = (src: string, dest: string) => ({ destination: dest, type: 'bind', source: src, options: ['rbind'] });
    const { run: r, out } = sh(
      'cat /tmp/same/marker > /out/same; ls /tmp > /out/tmp; cat /proc/self/mountinfo > /out/mountinfo',
      (c) =>
        c.mounts.push(
          tmpfs('/tmp', '701'),
          bind(a, '/tmp/same'),
          bind(b, '/tmp/same'), // on top of the previous one
          tmpfs('/tmp/nested', '702'),
          bind(a, '/tmp/hidden'),
          tmpfs('/tmp', '703'), // hides everything mounted under /tmp so far
          tmpfs('/tmp/late', '704'),
          bind(a, '/tmp/same'),
          bind(b, '/tmp/same'),
        ),
    );
    expect(r.code, r.stderr).toBe(0);
    // Mounted in this order, the last /tmp tmpfs hides /tmp/nested and /tmp/hidden, and b is on top at /tmp/same.
    expect(out.read('tmp')!.trim().split('\n').sort()).toEqual(['late', 'same']);
    expect(out.read('same')).toBe('b\n');
    // The mount table lists them in the order they were made.
    const order = parseMountinfo(out.read('mountinfo')!)
      .filter((m) => m.point.startsWith('/tmp'))
      .map((m) => `${m.point}:${m.superOpts.find((o) => o.startsWith('mode=')) ?? m.root}`);
    const expected = ['/tmp:mode=701', '/tmp/same', '/tmp/same', '/tmp/nested:mode=702', '/tmp/hidden', '/tmp:mode=703', '/tmp/late:mode=704', '/tmp/same', '/tmp/same'];
    expect(order.map((o) => o.replace(/:\/.*$/, ''))).toEqual(expected);
  });

  it('config.md Mounts: destination: a relative destination MAY be given (deprecated) and MUST then be interpreted as relative to "/" [MUST]', () => {
    const p = probe((c) => c.mounts.push({ destination: 'tmp', type: 'tmpfs', source: 'tmpfs', options: ['mode=705'] }));
    expect(p.ok, p.run.stderr).toBe(true);
    expect(p.mount('/tmp')?.superOpts).toContain('mode=705');
  });

  it('config.md Mounts: source: the path of a bind mount may be relative to the bundle [definition]', () => {
    const out = outDir();
    const bundle = bundleWith(out, ['sh', '-c', 'cat /tmp/marker > /out/seen'], (c) => c.mounts.push({ destination: '/tmp', type: 'bind', source: 'data', options: ['rbind', 'ro'] }));
    mkdirSync(join(bundle, 'data'));
    writeFileSync(join(bundle, 'data/marker'), 'bundle data\n');
    const r = q(['run', '--bundle', bundle, uid('spec')], { cwd: '/' });
    expect(r.code, r.stderr).toBe(0);
    expect(out.read('seen')).toBe('bundle data\n');
  });

  it('config.md Mounts: a mount is a bind mount if it has bind or rbind in its options (whatever its type: "none", or none given) [definition]', () => {
    const a = mkdtempSync(join(ctx.scratch, 'a-'));
    writeFileSync(join(a, 'marker'), 'bound\n');
    const { run: r, out } = sh('cat /tmp/x/marker /tmp/y/marker > /out/seen', (c) =>
      c.mounts.push(
        { destination: '/tmp', type: 'tmpfs', source: 'tmpfs' },
        { destination: '/tmp/x', type: 'none', source: a, options: ['bind'] },
        { destination: '/tmp/y', source: a, options: ['rbind'] },
      ),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(out.read('seen')).toBe('bound\nbound\n');
  });

  // Linux mount options: each MUST (and SHOULD) option string of the table,
  // on a tmpfs (where a runtime that passed it to mount(2) as filesystem data
  // would fail: tmpfs refuses unknown options) or on an rbind of a host
  // directory with a submount (for bind and propagation options, and the
  // recursive ones). The check is what /proc/self/mountinfo then says.
  type Check = (top: MountEntry, sub?: MountEntry) => void;
  const has = (o: string): Check => (top) => expect(top.opts).toContain(o);
  const lacks = (o: string): Check => (top) => expect(top.opts).not.toContain(o);
  const superHas = (o: string): Check => (top) => expect(top.superOpts).toContain(o);
  const superLacks = (o: string): Check => (top) => expect(top.superOpts).not.toContain(o);
  const fine: Check = () => {};
  const both = (f: Check): Check => (top, sub) => {
    f(top);
    expect(sub, 'submount').toBeDefined();
    f(sub!);
  };
  const tagged = (tag: string): Check => (m) => expect(m.optional.some((o) => o === tag || o.startsWith(tag + ':'))).toBe(true);
  const untagged = (...tags: string[]): Check => (m) => expect(m.optional.filter((o) => tags.some((t) => o === t || o.startsWith(t + ':')))).toEqual([]);
  const strict: Check = (m) => expect(m.opts.filter((o) => o === 'relatime' || o === 'noatime')).toEqual([]);

  /** tmpfs, or a bind / rbind of hostTree(), 'rbind:OPTS' with its submount mounted with OPTS */
  type Kind = 'tmpfs' | 'bind' | `rbind${string}`;
  const MUST_OPTIONS: Array<[string, Kind, string[], Check]> = [
    ['async', 'tmpfs', ['sync', 'async'], superLacks('sync')],
    ['atime', 'tmpfs', ['noatime', 'atime'], lacks('noatime')],
    ['bind', 'bind', ['bind'], fine], // checked below: the submount is not there
    ['defaults', 'tmpfs', ['defaults'], has('rw')],
    ['dev', 'tmpfs', ['nodev', 'dev'], lacks('nodev')],
    ['diratime', 'tmpfs', ['nodiratime', 'diratime'], lacks('nodiratime')],
    ['dirsync', 'tmpfs', ['dirsync'], superHas('dirsync')],
    ['exec', 'tmpfs', ['noexec', 'exec'], lacks('noexec')],
    ['iversion', 'tmpfs', ['iversion'], fine],
    ['lazytime', 'tmpfs', ['lazytime'], superHas('lazytime')],
    ['loud', 'tmpfs', ['silent', 'loud'], fine],
    ['noatime', 'tmpfs', ['noatime'], has('noatime')],
    ['nodev', 'tmpfs', ['nodev'], has('nodev')],
    ['nodiratime', 'tmpfs', ['nodiratime'], has('nodiratime')],
    ['noexec', 'tmpfs', ['noexec'], has('noexec')],
    ['noiversion', 'tmpfs', ['noiversion'], fine],
    ['nolazytime', 'tmpfs', ['lazytime', 'nolazytime'], superLacks('lazytime')],
    ['norelatime', 'tmpfs', ['norelatime'], fine],
    ['nostrictatime', 'tmpfs', ['strictatime', 'nostrictatime'], has('relatime')],
    ['nosuid', 'tmpfs', ['nosuid'], has('nosuid')],
    ['private', 'rbind', ['shared', 'private'], untagged('shared', 'master')],
    ['rbind', 'rbind', ['rbind'], fine], // checked below: the submount is there
    ['relatime', 'tmpfs', ['relatime'], has('relatime')],
    ['ro', 'tmpfs', ['ro'], has('ro')],
    ['rprivate', 'rbind', ['rshared', 'rprivate'], both(untagged('shared', 'master'))],
    ['rshared', 'rbind', ['rshared'], both(tagged('shared'))],
    ['rslave', 'rbind', ['rshared', 'rslave'], both(untagged('shared'))],
    ['runbindable', 'rbind', ['runbindable'], both(tagged('unbindable'))],
    ['rw', 'tmpfs', ['ro', 'rw'], has('rw')],
    ['shared', 'rbind', ['shared'], tagged('shared')],
    ['silent', 'tmpfs', ['silent'], fine],
    ['slave', 'rbind', ['shared', 'slave'], untagged('shared')],
    ['strictatime', 'tmpfs', ['strictatime'], strict],
    ['suid', 'tmpfs', ['nosuid', 'suid'], lacks('nosuid')],
    ['sync', 'tmpfs', ['sync'], superHas('sync')],
    ['unbindable', 'rbind', ['unbindable'], tagged('unbindable')],
  ];

  // The clearing ones (ratime, rdev, ...) on an rbind whose host submount has the flag they clear.
  const FLAGGED = 'rbind:ro,nosuid,nodev,noexec,noatime,nodiratime,nosymfollow';
  const SHOULD_OPTIONS: Array<[string, Kind, string[], Check]> = [
    ['nosymfollow', 'tmpfs', ['nosymfollow'], has('nosymfollow')],
    ['symfollow', 'tmpfs', ['nosymfollow', 'symfollow'], lacks('nosymfollow')],
    ['ratime', FLAGGED, ['ratime'], both(lacks('noatime'))],
    ['rdev', FLAGGED, ['rdev'], both(lacks('nodev'))],
    ['rdiratime', FLAGGED, ['rdiratime'], both(lacks('nodiratime'))],
    ['rexec', FLAGGED, ['rexec'], both(lacks('noexec'))],
    ['rnoatime', 'rbind', ['rnoatime'], both(has('noatime'))],
    ['rnodiratime', 'rbind', ['rnodiratime'], both(has('nodiratime'))],
    ['rnoexec', 'rbind', ['rnoexec'], both(has('noexec'))],
    ['rnorelatime', 'tmpfs', ['rnorelatime'], fine],
    ['rnostrictatime', 'rbind:strictatime', ['rnostrictatime'], both(has('relatime'))],
    ['rnosuid', 'rbind', ['rnosuid'], both(has('nosuid'))],
    ['rnosymfollow', 'rbind', ['rnosymfollow'], both(has('nosymfollow'))],
    ['rrelatime', FLAGGED, ['rrelatime'], both(has('relatime'))],
    ['rro', 'rbind', ['rro'], both(has('ro'))],
    ['rrw', FLAGGED, ['rrw'], both(has('rw'))],
    ['rstrictatime', 'rbind', ['rstrictatime'], both(strict)],
    ['rsuid', FLAGGED, ['rsuid'], both(lacks('nosuid'))],
    ['rsymfollow', FLAGGED, ['rsymfollow'], both(lacks('nosymfollow'))],
  ];

  function mountWith(kind: Kind, options: string[]): { top?: MountEntry; sub?: MountEntry; stderr: string; code: number } {
    const m =
      kind === 'tmpfs'
        ? { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', ...options] }
        : { destination: '/tmp', type: 'bind', source: hostTree(kind.split(':')[1]), options: [...(kind === 'bind' ? [] : ['rbind']), ...options] };
    const p = probe((c) => c.mounts.push(m));
    if (!p.ok) return { code: p.run.code, stderr: p.run.stderr };
    return { top: p.mount('/tmp'), sub: p.mount('/tmp/sub'), code: 0, stderr: '' };
  }

  it.each(MUST_OPTIONS)('config.md Mounts: Linux mount options: runtimes MUST implement "%s" [MUST]', (name, kind, options, check) => {
    const r = mountWith(kind, options);
    expect(r.code, r.stderr).toBe(0);
    expect(r.top).toBeDefined();
    check(r.top!, r.sub);
    if (name === 'bind') expect(r.sub).toBeUndefined();
    if (name === 'rbind') expect(r.sub).toBeDefined();
  });

  it.each(SHOULD_OPTIONS)('config.md Mounts: Linux mount options: runtimes SHOULD implement "%s" [SHOULD]', (_name, kind, options, check) => {
    const r = mountWith(kind, options);
    expect(r.code, r.stderr).toBe(0);
    expect(r.top).toBeDefined();
    check(r.top!, r.sub);
  });

  it('config.md Mounts: Linux mount options: runtimes SHOULD pass unknown options as filesystem-specific data to mount(2) [SHOULD]', () => {
    const p = probe((c) => c.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=0713', 'nr_inodes=1234'] }));
    expect(p.ok, p.run.stderr).toBe(true);
    expect(p.mount('/tmp')!.superOpts).toEqual(expect.arrayContaining(['mode=713', 'nr_inodes=1234']));
  });

  it('config.md Mounts: Linux mount options: runtimes SHOULD implement "idmap"; uidMappings/gidMappings of the mount MUST then be used for its mapping [SHOULD]', () => {
    const a = mkdtempSync(join(ctx.scratch, 'idmap-'));
    chmodSync(a, 0o755);
    writeFileSync(join(a, 'owned-by-0'), '');
    const { run: r, out } = sh('stat -c %u:%g /tmp/owned-by-0 > /out/owner', (c) =>
      c.mounts.push({
        destination: '/tmp',
        type: 'bind',
        source: a,
        options: ['rbind', 'idmap'],
        uidMappings: [{ containerID: 0, hostID: 4321, size: 1 }],
        gidMappings: [{ containerID: 0, hostID: 4322, size: 1 }],
      }),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(out.read('owner')).toBe('4321:4322\n');
  });

  it('config.md Mounts: Linux mount options: runtimes SHOULD implement "ridmap" (the mapping applies to submounts too) [SHOULD]', () => {
    const tree = hostTree();
    const { run: r, out } = sh('stat -c %u:%g /tmp/marker /tmp/sub/marker > /out/owners', (c) =>
      c.mounts.push({
        destination: '/tmp',
        type: 'bind',
        source: tree,
        options: ['rbind', 'ridmap'],
        uidMappings: [{ containerID: 0, hostID: 4321, size: 1 }],
        gidMappings: [{ containerID: 0, hostID: 4322, size: 1 }],
      }),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(out.read('owners')).toBe('4321:4322\n4321:4322\n');
  });

  it('config.md Mounts: idmap / ridmap without uidMappings and gidMappings in a container without a user namespace: an error MUST be returned [MUST]', () => {
    for (const opt of ['idmap', 'ridmap']) {
      expectRefused(makeBundle(['true'], (c) => c.mounts.push({ destination: '/tmp', type: 'bind', source: ctx.scratch, options: ['rbind', opt] })), opt);
    }
  });
});

describe.skipIf(!isRoot)('config.md Process', () => {
  describe('terminal', () => {
    it('config.md Process: terminal true: a pseudoterminal pair is allocated and its pty is the process\'s stdin, stdout and stderr; consoleSize is its size [definition]', async (t) => {
      t.skip(!hasPython, NO_PYTHON);
      const out = await ctx.onTerminal('for fd in 0 1 2; do [ -t $fd ] && echo $fd >&3; done 3> /out/ttys; tty > /out/tty; stty size > /out/size; echo > /out/done', (c) => (c.process.consoleSize = { height: 33, width: 101 }));
      expect(out.read('ttys')).toBe('0\n1\n2\n');
      expect(out.read('tty')).toMatch(/^\/dev\/pts\/\d+\n$/);
      expect(out.read('size')).toBe('33 101\n');
    });
  });

  it('config.md Process: terminal defaults to false: without it the process\'s stdio is no terminal [definition]', () => {
    const { run: r, out } = sh('for fd in 0 1 2; do [ -t $fd ] && echo $fd >&3; done 3> /out/ttys; echo > /out/done', (c) => delete c.process.terminal);
    expect(r.code, r.stderr).toBe(0);
    expect(out.read('ttys')).toBe('');
  });

  it('config.md Process: runtimes MUST ignore consoleSize if terminal is false or unset [MUST]', () => {
    for (const terminal of [false, undefined]) {
      const { run: r, out } = sh('for fd in 0 1 2; do [ -t $fd ] && echo $fd >&3; done 3> /out/ttys; echo > /out/done', (c) => {
        c.process.terminal = terminal;
        c.process.consoleSize = { height: 7, width: 9 };
      });
      expect(r.code, `terminal ${terminal}: ${r.stderr}`).toBe(0);
      expect(out.read('ttys')).toBe('');
    }
  });

  it('config.md Process: cwd is the working directory set for the executable [definition]', () => {
    const p = probe((c) => (c.process.cwd = '/etc'));
    expect(p.ok, p.run.stderr).toBe(true);
    expect(p.line('cwd')).toBe('/etc');
  });

  it('config.md Process: cwd MUST be an absolute path (a relative cwd is refused) [MUST]', () => {
    expectRefused(makeBundle(['true'], (c) => (c.process.cwd = 'etc')));
  });

  it('config.md Process: env has the semantics of environ: the process gets each KEY=value as given [definition]', () => {
    const env = ['PATH=/bin:/sbin', 'SPEC_A=1', 'SPEC_B=with spaces = and "quotes"', 'SPEC_EMPTY=', 'SPEC_UNICODE=é'];
    const p = probe((c) => (c.process.env = env));
    expect(p.ok, p.run.stderr).toBe(true);
    for (const e of env) expect(p.env).toContain(e);
  });

  it('config.md Process: args has execvp semantics: args[0] without a slash is looked up in PATH, and argv is exactly args [definition]', () => {
    const args = ['sh', '-c', 'cat /proc/$$/cmdline > /out/cmdline; exit 0', 'arg 0', 'two words', '', '"quoted"'];
    const { run: r, out } = sh('', (c) => {
      c.process.args = args;
      c.process.env = ['PATH=/spec-nowhere:/bin'];
    });
    expect(r.code, r.stderr).toBe(0);
    expect(out.read('cmdline')).toBe(args.join('\0') + '\0');
  });

  it('config.md Process: args: at least one entry is REQUIRED (empty or missing args are refused) [REQUIRED]', () => {
    expectRefused(makeBundle(['true'], (c) => (c.process.args = [])), 'args []');
    expectRefused(makeBundle(['true'], (c) => delete c.process.args), 'no args');
  });
});

describe.skipIf(!isRoot)('config.md POSIX process (rlimits)', () => {
  it('config.md POSIX process: rlimits: for each entry getrlimit(type) MUST succeed, and rlim_cur MUST match soft and rlim_max MUST match hard [MUST]', () => {
    // All within the hard limits the runtime itself runs with.
    const rlimits: Array<[string, number, number]> = [
      ['RLIMIT_NOFILE', 321, 654],
      ['RLIMIT_CORE', 0, 4096],
      ['RLIMIT_CPU', 1000, 2000],
      ['RLIMIT_FSIZE', 1 << 30, 2 ** 31],
      ['RLIMIT_STACK', 8 << 20, 16 << 20],
      ['RLIMIT_MEMLOCK', 65536, 131072],
      ['RLIMIT_MSGQUEUE', 8192, 16384],
      ['RLIMIT_SIGPENDING', 1000, 2000],
      ['RLIMIT_LOCKS', 100, 200],
      ['RLIMIT_NICE', 0, 0],
    ];
    const p = probe((c) => (c.process.rlimits = rlimits.map(([type, soft, hard]) => ({ type, soft, hard }))));
    expect(p.ok, p.run.stderr).toBe(true);
    for (const [type, soft, hard] of rlimits) expect(p.limit(type), type).toEqual([BigInt(soft), BigInt(hard)]);
  });

  it('config.md POSIX process: rlimits: rlim_max MUST match hard also where hard is above the runtime\'s own hard limit (a privileged runtime can raise it) [MUST]', (t) => {
    t.skip(!hasCapSysResource, "this host's root lacks CAP_SYS_RESOURCE (it runs in a container): no runtime here can raise a hard limit, so the test above (MUST generate an error) is what applies");
    const above = (type: string, v: number) => {
      const cur = spawnSync('sh', ['-c', `ulimit -H ${type === 'RLIMIT_NICE' ? '-e' : '-r'}`], { encoding: 'utf8' }).stdout.trim();
      expect(Number(cur), `${type}: the caller's hard limit is below ${v}`).toBeLessThan(v);
      return { type, soft: v, hard: v };
    };
    const p = probe((c) => (c.process.rlimits = [above('RLIMIT_NICE', 10), above('RLIMIT_RTPRIO', 5)]));
    expect(p.ok, p.run.stderr).toBe(true);
    expect(p.limit('RLIMIT_NICE')).toEqual([10n, 10n]);
    expect(p.limit('RLIMIT_RTPRIO')).toEqual([5n, 5n]);
  });

  it('config.md POSIX process: rlimits: the runtime MUST generate an error for a type that cannot be mapped to a kernel interface [MUST]', () => {
    expectRefused(makeBundle(['true'], (c) => (c.process.rlimits = [{ type: 'RLIMIT_SPEC_NO_SUCH', soft: 1, hard: 1 }])));
  });

  it('config.md POSIX process: rlimits: duplicated entries with the same type MUST generate an error [MUST]', () => {
    expectRefused(
      makeBundle(['true'], (c) =>
        (c.process.rlimits = [
          { type: 'RLIMIT_NOFILE', soft: 100, hard: 100 },
          { type: 'RLIMIT_NOFILE', soft: 200, hard: 200 },
        ]),
      ),
    );
  });

  it('config.md POSIX process: rlimits: a limit the runtime cannot set (a hard RLIMIT_NOFILE above fs.nr_open) MUST generate an error, as rlim_max could not match hard [MUST]', () => {
    const nrOpen = Number(readFileSync('/proc/sys/fs/nr_open', 'utf8'));
    expectRefused(makeBundle(['true'], (c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: nrOpen * 2 }])));
  });
});

describe.skipIf(!isRoot)('config.md Linux Process', () => {
  it('config.md Linux Process: capabilities: the sets are kept for the process as configured (bounding, inheritable, ambient exactly; effective and permitted as execve(2) hands them on) [definition]', () => {
    const sets = ['CAP_KILL', 'CAP_CHOWN', 'CAP_NET_RAW', 'CAP_SETUID'];
    const asRoot = probe((c) => (c.process.capabilities = { bounding: sets, effective: sets, permitted: sets, inheritable: [], ambient: [] }));
    expect(asRoot.ok, asRoot.run.stderr).toBe(true);
    expect(asRoot.cap('CapBnd')).toBe(capMask(sets));
    expect(asRoot.cap('CapPrm')).toBe(capMask(sets));
    expect(asRoot.cap('CapEff')).toBe(capMask(sets));
    expect(asRoot.cap('CapInh')).toBe(0n);
    expect(asRoot.cap('CapAmb')).toBe(0n);
    // Not root: after execve only the ambient set stays permitted and effective.
    const user = probe((c) => {
      c.process.user = { uid: 1000, gid: 1000 };
      c.process.capabilities = {
        bounding: ['CAP_KILL', 'CAP_CHOWN', 'CAP_NET_RAW'],
        effective: ['CAP_KILL', 'CAP_CHOWN'],
        permitted: ['CAP_KILL', 'CAP_CHOWN'],
        inheritable: ['CAP_KILL', 'CAP_CHOWN'],
        ambient: ['CAP_KILL'],
      };
    });
    expect(user.ok, user.run.stderr).toBe(true);
    expect(user.cap('CapBnd')).toBe(capMask(['CAP_KILL', 'CAP_CHOWN', 'CAP_NET_RAW']));
    expect(user.cap('CapInh')).toBe(capMask(['CAP_KILL', 'CAP_CHOWN']));
    expect(user.cap('CapAmb')).toBe(capMask(['CAP_KILL']));
    expect(user.cap('CapPrm')).toBe(capMask(['CAP_KILL']));
    expect(user.cap('CapEff')).toBe(capMask(['CAP_KILL']));
  });

  const unknownCap = (c: any) => {
    for (const set of ['bounding', 'effective', 'permitted'] as const) c.process.capabilities[set].push('CAP_SPEC_NO_SUCH_CAPABILITY');
  };

  it('config.md Linux Process: capabilities: a value that cannot be mapped to a kernel interface MUST be logged as a warning [MUST]', () => {
    const log = join(ctx.scratch, `log-${uid()}`);
    const r = q(['--log', log, 'run', '--bundle', makeBundle(['true'], unknownCap), uid('spec')]);
    const said = `${r.stdout}${r.stderr}${existsSync(log) ? readFileSync(log, 'utf8') : ''}`;
    expect(said).toContain('CAP_SPEC_NO_SUCH_CAPABILITY');
  });

  it('config.md Linux Process: capabilities: runtimes SHOULD NOT fail if the configuration requests capabilities that cannot be granted [SHOULD NOT]', () => {
    const p = probe(unknownCap);
    expect(p.ok, p.run.stderr).toBe(true);
    expect(p.cap('CapBnd')).toBe(capMask(['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']));
  });

  it('config.md Linux Process: noNewPrivileges true prevents the process from gaining privileges (no_new_privs set); false or unset leaves it clear [definition]', () => {
    const on = probe((c) => (c.process.noNewPrivileges = true));
    expect(on.ok, on.run.stderr).toBe(true);
    expect(on.status('NoNewPrivs')).toBe('1');
    for (const v of [false, undefined]) {
      const off = probe((c) => (c.process.noNewPrivileges = v));
      expect(off.ok, off.run.stderr).toBe(true);
      expect(off.status('NoNewPrivs'), String(v)).toBe('0');
    }
  });

  it('config.md Linux Process: if oomScoreAdj is set, the runtime MUST set oom_score_adj to the given value [MUST]', () => {
    // Lowering it below the caller's needs CAP_SYS_RESOURCE, which root may lack (in a container).
    for (const v of hasCapSysResource ? [321, -123] : [321, 999]) {
      const p = probe((c) => (c.process.oomScoreAdj = v));
      expect(p.ok, p.run.stderr).toBe(true);
      expect(p.line('oom_score_adj')).toBe(String(v));
    }
  });

  it('config.md Linux Process: if oomScoreAdj is not set, the runtime MUST NOT change the value of oom_score_adj (the container keeps its caller\'s) [MUST NOT]', () => {
    const mine = readFileSync('/proc/self/oom_score_adj', 'utf8');
    writeFileSync('/proc/self/oom_score_adj', '456');
    try {
      const p = probe((c) => delete c.process.oomScoreAdj);
      expect(p.ok, p.run.stderr).toBe(true);
      expect(p.line('oom_score_adj')).toBe('456');
    } finally {
      writeFileSync('/proc/self/oom_score_adj', mine);
    }
  });

  it('config.md Linux Process: scheduler sets the scheduling policy and nice value of the process [definition]', () => {
    const p = probe((c) => (c.process.scheduler = { policy: 'SCHED_BATCH', nice: 7 }));
    expect(p.ok, p.run.stderr).toBe(true);
    const stat = p.line('stat');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    expect({ nice: f[16], policy: f[38] }).toEqual({ nice: '7', policy: '3' });
  });

  it('config.md Linux Process: ioPriority sets the I/O scheduling class and priority of the process [definition]', () => {
    const { run: r, out } = sh('ionice -p $$ > /out/ionice', (c) => (c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 6 }));
    expect(r.code, r.stderr).toBe(0);
    expect(out.read('ionice')).toBe('best-effort: prio 6\n');
  });

  it('config.md Linux Process: apparmorProfile is the name of the AppArmor profile of the process [definition]', (t) => {
    t.skip(!hasAppArmor, 'no AppArmor on this host (/sys/kernel/security/apparmor)');
    const { run: r, out } = sh('cat /proc/self/attr/apparmor/current /proc/self/attr/current > /out/label 2>/dev/null; true', (c) => (c.process.apparmorProfile = 'unconfined'));
    expect(r.code, r.stderr).toBe(0);
    expect(out.read('label')).toMatch(/^unconfined/);
  });

  it('config.md Linux Process: apparmorProfile on a host without AppArmor cannot be applied: the runtime MUST generate an error (Valid values; runtime.md Create) [MUST]', (t) => {
    t.skip(hasAppArmor, 'AppArmor is enabled on this host: a profile can be applied');
    expectRefused(makeBundle(['true'], (c) => (c.process.apparmorProfile = 'spec-profile')));
  });

  it('config.md Linux Process: selinuxLabel is the SELinux label of the process [definition]', (t) => {
    t.skip(!hasSELinux, 'no SELinux on this host (/sys/fs/selinux)');
    const label = readFileSync('/proc/self/attr/current', 'utf8').replace(/\0/g, '').trim();
    const { run: r, out } = sh('cat /proc/self/attr/current > /out/label', (c) => (c.process.selinuxLabel = label));
    expect(r.code, r.stderr).toBe(0);
    expect(out.read('label')!.replace(/\0/g, '').trim()).toBe(label);
  });

  it('config.md Linux Process: selinuxLabel on a host without SELinux cannot be applied: the runtime MUST generate an error (Valid values; runtime.md Create) [MUST]', (t) => {
    t.skip(hasSELinux, 'SELinux is enabled on this host: a label can be applied');
    expectRefused(makeBundle(['true'], (c) => (c.process.selinuxLabel = 'system_u:system_r:container_t:s0:c1,c2')));
  });
});

describe.skipIf(!isRoot)('config.md User', () => {
  it('config.md User: uid and gid are the user and group ids of the process in the container namespace [definition]', () => {
    const p = probe((c) => (c.process.user = { uid: 1234, gid: 2345 }));
    expect(p.ok, p.run.stderr).toBe(true);
    expect(p.ids).toMatchObject({ uid: 1234, gid: 2345 });
    expect(p.status('Uid').split(/\s+/)).toEqual(['1234', '1234', '1234', '1234']);
  });

  it('config.md User: additionalGids are added to the process (and no other supplementary group) [definition]', () => {
    const p = probe((c) => (c.process.user = { uid: 1234, gid: 2345, additionalGids: [5, 3456] }));
    expect(p.ok, p.run.stderr).toBe(true);
    expect(p.status('Groups').split(/\s+/).map(Number).sort((a, b) => a - b)).toEqual([5, 3456]);
  });

  it('config.md User: uid and gid are REQUIRED: a user without uid or without gid is refused [REQUIRED]', () => {
    expectRefused(makeBundle(['true'], (c) => (c.process.user = { gid: 0 })), 'no uid');
    expectRefused(makeBundle(['true'], (c) => (c.process.user = { uid: 0 })), 'no gid');
  });

  it('config.md User: umask is the umask of the process [definition]', () => {
    const p = probe((c) => (c.process.user = { uid: 0, gid: 0, umask: 0o027 }));
    expect(p.ok, p.run.stderr).toBe(true);
    expect(p.line('umask')).toBe('0027');
  });

  it('config.md User: without umask, the umask should not be changed from the calling process\' umask [should]', () => {
    const mine = process.umask(0o077);
    try {
      const p = probe((c) => (c.process.user = { uid: 0, gid: 0 }));
      expect(p.ok, p.run.stderr).toBe(true);
      expect(p.line('umask')).toBe('0077');
    } finally {
      process.umask(mine);
    }
  });
});

describe.skipIf(!isRoot)('config.md Hostname and Domainname', () => {
  it('config.md Hostname: hostname is the container\'s hostname as seen by processes in the container [definition]', () => {
    const p = probe((c) => (c.hostname = 'spec-hostname'));
    expect(p.ok, p.run.stderr).toBe(true);
    expect(p.line('hostname')).toBe('spec-hostname');
  });

  it('config.md Domainname: domainname is the container\'s domainname as seen by processes in the container [definition]', () => {
    const p = probe((c) => (c.domainname = 'spec.example.org'));
    expect(p.ok, p.run.stderr).toBe(true);
    expect(p.line('domainname')).toBe('spec.example.org');
  });
});

// ---------------------------------------------------------------------------
// Hooks: one container goes through create, start, stop and delete with two
// hooks of each kind; each hook records its stdin, namespaces and what it
// sees of the container; the test marks in the same log when each operation
// returned. The tests below read that record.

const HOOK = `#!/bin/sh
n=$1
d=$SPEC_DIR
cat > "$d/state.$n"
echo "$n" >> "$d/order"
pid=$(sed -n 's/.*"pid": *\\([0-9][0-9]*\\).*/\\1/p' "$d/state.$n")
{
  for t in mnt net uts ipc pid; do echo "ns.$t $(readlink /proc/self/ns/$t)"; echo "parent-ns.$t $(readlink /proc/$PPID/ns/$t 2>/dev/null)"; done
  echo "argv $(tr '\\0' '|' < /proc/$$/cmdline)"
  echo "env $(tr '\\0' '|' < /proc/$$/environ)"
  echo "own-root-is-rootfs $(test -e /spec-rootfs-marker && echo yes || echo no)"
  echo "own-mounts-prepivot $(grep -c " $SPEC_ROOTFS/out " /proc/self/mountinfo)"
  if [ -n "$pid" ]; then
    echo "target-mounts-prepivot $(grep -c " $SPEC_ROOTFS/out " /proc/$pid/mountinfo 2>/dev/null)"
    echo "target-exe $(stat -L -c %d:%i /proc/$pid/exe 2>/dev/null)"
    echo "target-alive $([ "$pid" -gt 0 ] && kill -0 $pid 2>/dev/null && echo yes || echo no)"
    for t in mnt net uts ipc pid; do echo "target.$t $(readlink /proc/$pid/ns/$t 2>/dev/null)"; done
  fi
} > "$d/info.$n"
exit 0
`;

describe.skipIf(!isRoot)('config.md POSIX-platform Hooks', () => {
  const KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
  const r: any = {};
  const info = (name: string): Record<string, string> => {
    const text = r.out.read(`info.${name}`);
    if (text === undefined) throw new Error(`hook ${name} did not run`);
    return Object.fromEntries(text.trim().split('\n').map((l: string) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)]));
  };
  const order = (): string[] => (r.out.read('order') ?? '').trim().split('\n');
  const pos = (name: string) => {
    const i = order().indexOf(name);
    if (i < 0) throw new Error(`${name} not in ${order().join(' ')}`);
    return i;
  };
  const HOST_NS = Object.fromEntries(['mnt', 'net', 'uts', 'ipc', 'pid'].map((t) => [t, nsOf('self', t)]));

  beforeAll(async () => {
    const out = outDir();
    const fs = ownRootfs();
    writeFileSync(join(fs, 'spec-rootfs-marker'), '');
    const hook = out.write('hook.sh', HOOK, 0o755);
    r.out = out;
    r.rootfs = fs;
    r.hostEnv = ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', `SPEC_DIR=${out.host}`, `SPEC_ROOTFS=${fs}`, 'SPEC_X=two words'];
    const host = (name: string) => ({ path: hook, args: [hook, name], env: r.hostEnv, timeout: 10 });
    r.id = uid('spec');
    const bundle = makeBundle(['sh', '-c', 'echo user >> /out/order; while [ ! -e /out/go ]; do sleep 0.05; done'], (c) => {
      c.root = { path: fs, readonly: true };
      c.mounts.push(out.mount);
      c.hooks = {
        prestart: [host('prestart.0'), host('prestart.1')],
        // execv semantics: args[0] is the program's argv[0], whatever path is.
        createRuntime: [{ path: '/bin/sh', args: ['spec-hook-argv0', hook, 'createRuntime.0'], env: r.hostEnv, timeout: 10 }, host('createRuntime.1')],
        createContainer: [host('createContainer.0'), host('createContainer.1')],
        // Resolved in the container: /out/hook.sh exists there only.
        startContainer: ['startContainer.0', 'startContainer.1'].map((n) => ({ path: '/out/hook.sh', args: ['/out/hook.sh', n], env: ['PATH=/bin', 'SPEC_DIR=/out', 'SPEC_ROOTFS=/nowhere'], timeout: 10 })),
        poststart: [host('poststart.0'), host('poststart.1')],
        poststop: [host('poststop.0'), host('poststop.1')],
      };
    });
    r.bundle = realpathSync(bundle);
    const mark = (m: string) => writeFileSync(out.file('order'), `${m}\n`, { flag: 'a' });
    r.create = create(r.id, bundle);
    mark('create-returned');
    if (r.create.code !== 0) return;
    r.pid = stateOf(r.id).pid;
    r.ns = Object.fromEntries(['mnt', 'net', 'uts', 'ipc', 'pid'].map((t) => [t, nsOf(r.pid, t)]));
    r.start = start(r.id);
    mark('start-returned');
    writeFileSync(out.file('go'), '');
    await waitStopped(r.id).catch(() => {});
    mark('stopped');
    r.delete = del(r.id, false);
    mark('delete-returned');
    const bb = statSync(join(fs, 'bin/busybox'));
    r.busybox = `${bb.dev}:${bb.ino}`;
  });

  it('config.md POSIX-platform Hooks: the lifecycle with hooks of every kind succeeds (create, start, delete) [precondition]', () => {
    expect(r.create.code, r.create.stderr).toBe(0);
    expect(r.start.code, r.start.stderr).toBe(0);
    expect(r.delete.code, r.delete.stderr).toBe(0);
  });

  it('config.md POSIX-platform Hooks: hooks MUST be called in the listed order [MUST]', () => {
    for (const k of KINDS) expect(pos(`${k}.0`), k).toBeLessThan(pos(`${k}.1`));
  });

  it('config.md POSIX-platform Hooks: the state of the container MUST be passed to hooks over stdin [MUST]', () => {
    for (const k of KINDS)
      for (const i of [0, 1]) {
        const s = JSON.parse(r.out.read(`state.${k}.${i}`) ?? 'null');
        expect(s, `${k}.${i}`).toMatchObject({ id: r.id, ociVersion: expect.any(String), status: expect.stringMatching(/^(creating|created|running|stopped)$/) });
        expect(realpathSync(s.bundle), `${k}.${i}`).toBe(r.bundle);
        if (k !== 'poststop') expect(s.pid, `${k}.${i}`).toBe(r.pid);
      }
  });

  it('config.md POSIX-platform Hooks: path, args and env have execv semantics (args[0] is argv[0]; env is the whole environment) [definition]', () => {
    const i = info('createRuntime.0');
    expect(i.argv.split('|').slice(0, 3)).toEqual(['spec-hook-argv0', join(r.out.host, 'hook.sh'), 'createRuntime.0']);
    expect(i.env.split('|').filter(Boolean)).toEqual(r.hostEnv);
  });

  // The runtime namespace is the runtime process's: the hook's parent's (a
  // runtime may itself run in a mount namespace of its own, as crun does
  // behind the runner's unshare wrapper). It must not be the container's.
  const inRuntimeNs = (name: string) => {
    const i = info(name);
    for (const t of ['mnt', 'net', 'uts', 'ipc', 'pid']) {
      expect(i[`ns.${t}`], `${name} ${t}`).toBe(i[`parent-ns.${t}`]);
      if (t !== 'mnt' || r.ns[t] !== HOST_NS[t]) expect(i[`ns.${t}`], `${name} ${t} is not the container's`).not.toBe(r.ns[t]);
    }
  };
  const inContainerNs = (name: string) => {
    const i = info(name);
    for (const t of ['mnt', 'net', 'uts', 'ipc', 'pid']) expect(i[`ns.${t}`], `${name} ${t}`).toBe(r.ns[t]);
  };

  it('config.md POSIX-platform Hooks: prestart: path MUST resolve in the runtime namespace and the hooks MUST be executed in the runtime namespace [MUST]', () => {
    inRuntimeNs('prestart.0');
    inRuntimeNs('prestart.1');
  });

  it('config.md POSIX-platform Hooks: prestart hooks MUST be called as part of create, after the runtime environment has been created but before pivot_root, and before the createRuntime hooks [MUST]', () => {
    expect(pos('prestart.1')).toBeLessThan(pos('createRuntime.0'));
    expect(pos('prestart.1')).toBeLessThan(pos('create-returned'));
    for (const n of ['prestart.0', 'prestart.1']) {
      const i = info(n);
      expect(i['target.net'], `${n}: namespaces made`).not.toBe(HOST_NS.net);
      expect(Number(i['target-mounts-prepivot']), `${n}: mounts made, root not yet pivoted`).toBeGreaterThan(0);
    }
  });

  it('config.md POSIX-platform Hooks: createRuntime: path MUST resolve in the runtime namespace and the hooks MUST be executed in the runtime namespace [MUST]', () => {
    inRuntimeNs('createRuntime.0');
    inRuntimeNs('createRuntime.1');
  });

  it('config.md POSIX-platform Hooks: createRuntime hooks MUST be called as part of create, after the runtime environment has been created but before pivot_root [MUST]', () => {
    expect(pos('createRuntime.1')).toBeLessThan(pos('create-returned'));
    for (const n of ['createRuntime.0', 'createRuntime.1']) {
      const i = info(n);
      expect(i['target.net'], `${n}: namespaces made`).not.toBe(HOST_NS.net);
      expect(Number(i['target-mounts-prepivot']), `${n}: mounts made, root not yet pivoted`).toBeGreaterThan(0);
    }
  });

  it('config.md POSIX-platform Hooks: createContainer: path MUST resolve in the runtime namespace and the hooks MUST be executed in the container namespace [MUST]', () => {
    inContainerNs('createContainer.0');
    inContainerNs('createContainer.1');
  });

  it('config.md POSIX-platform Hooks: createContainer hooks MUST be called as part of create, after the createRuntime hooks, after the runtime environment has been created but before pivot_root [MUST]', () => {
    expect(pos('createRuntime.1')).toBeLessThan(pos('createContainer.0'));
    expect(pos('createContainer.1')).toBeLessThan(pos('create-returned'));
    for (const n of ['createContainer.0', 'createContainer.1']) {
      const i = info(n);
      expect(Number(i['own-mounts-prepivot']), `${n}: mounts made`).toBeGreaterThan(0);
      expect(i['own-root-is-rootfs'], `${n}: root not yet pivoted`).toBe('no');
    }
  });

  it('config.md POSIX-platform Hooks: startContainer: path MUST resolve in the container namespace and the hooks MUST be executed in the container namespace [MUST]', () => {
    inContainerNs('startContainer.0');
    inContainerNs('startContainer.1');
    expect(info('startContainer.0')['own-root-is-rootfs']).toBe('yes');
  });

  it('config.md POSIX-platform Hooks: startContainer hooks MUST be called as part of start, before the user-specified process is executed [MUST]', () => {
    expect(pos('create-returned')).toBeLessThan(pos('startContainer.0'));
    expect(pos('startContainer.1')).toBeLessThan(pos('user'));
    expect(pos('startContainer.1')).toBeLessThan(pos('start-returned'));
  });

  it('config.md POSIX-platform Hooks: poststart: path MUST resolve in the runtime namespace and the hooks MUST be executed in the runtime namespace [MUST]', () => {
    inRuntimeNs('poststart.0');
    inRuntimeNs('poststart.1');
  });

  it('config.md POSIX-platform Hooks: poststart hooks MUST be called after the user-specified process is executed but before start returns [MUST]', () => {
    for (const n of ['poststart.0', 'poststart.1']) {
      expect(info(n)['target-exe'], `${n}: the container process is the user's program`).toBe(r.busybox);
      expect(pos(n)).toBeGreaterThan(pos('create-returned'));
      expect(pos(n)).toBeLessThan(pos('start-returned'));
    }
  });

  it('config.md POSIX-platform Hooks: poststop: path MUST resolve in the runtime namespace and the hooks MUST be executed in the runtime namespace [MUST]', () => {
    inRuntimeNs('poststop.0');
    inRuntimeNs('poststop.1');
  });

  it('config.md POSIX-platform Hooks: poststop hooks MUST be called after the container is deleted but before delete returns [MUST]', () => {
    for (const n of ['poststop.0', 'poststop.1']) {
      expect(pos(n)).toBeGreaterThan(pos('stopped'));
      expect(pos(n)).toBeLessThan(pos('delete-returned'));
      expect(info(n)['target-alive'] ?? 'no', `${n}: container process gone`).toBe('no');
    }
    expect(exists(r.id)).toBe(false);
  });
});

describe.skipIf(!isRoot)('config.md POSIX-platform Hooks (failures and timeouts, runtime.md Lifecycle)', () => {
  const failing = (out: ReturnType<typeof outDir>) => ({
    path: out.write('fail.sh', '#!/bin/sh\ncat > /dev/null\necho spec-hook-failed >&2\nexit 3\n', 0o755),
    args: ['fail.sh'],
    timeout: 10,
  });

  it.each([
    ['prestart', 3],
    ['createRuntime', 4],
    ['createContainer', 5],
  ])('config.md POSIX-platform Hooks: a failing %s hook: the runtime MUST generate an error and stop and destroy the container (runtime.md Lifecycle %i) [MUST]', async (kind) => {
    const out = outDir();
    const id = uid('spec');
    const bundle = bundleWith(out, ['sh', '-c', 'echo ran > /out/ran'], (c) => (c.hooks = { [kind]: [failing(out)] }));
    const r = create(id, bundle);
    expect(r.code).not.toBe(0);
    expect(exists(id)).toBe(false);
    await until(() => leftovers(out.token).length === 0, 2000, 'no leftovers').catch(() => {});
    expect(leftovers(out.token)).toEqual([]);
    expect(out.read('ran')).toBeUndefined();
  });

  it('config.md POSIX-platform Hooks: a failing startContainer hook: start MUST generate an error, the container is stopped and the program never runs (runtime.md Lifecycle 7) [MUST]', async () => {
    const out = outDir();
    const id = uid('spec');
    const s = createOk(id, bundleWith(out, ['sh', '-c', 'echo ran > /out/ran; sleep 30'], (c) => (c.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 3'] }] })));
    expect(start(id).code).not.toBe(0);
    await until(() => !alive(s.pid), 5000, 'container process gone').catch(() => {});
    expect(alive(s.pid)).toBe(false);
    if (exists(id)) expect(stateOf(id).status).toBe('stopped');
    await sleep(100);
    expect(out.read('ran')).toBeUndefined();
    del(id);
  });

  it('config.md POSIX-platform Hooks: a failing poststart hook: the runtime MUST log a warning and carry on: start succeeds and the program keeps running (runtime.md Lifecycle 9, Warnings) [MUST]', async () => {
    const out = outDir();
    const id = uid('spec');
    const log = join(ctx.scratch, `log-${id}`);
    createOk(id, bundleWith(out, ['sh', '-c', 'echo ran > /out/ran; sleep 30'], (c) => (c.hooks = { poststart: [failing(out)] })), []);
    const s = q(['--log', log, 'start', id]);
    expect(s.code, s.stderr).toBe(0);
    expect(`${s.stdout}${s.stderr}${existsSync(log) ? readFileSync(log, 'utf8') : ''}`.trim()).not.toBe('');
    await until(() => (out.read('ran') ?? '') !== '', 5000, 'program ran');
    expect(stateOf(id).status).toBe('running');
    del(id);
  });

  it('config.md POSIX-platform Hooks: a failing poststop hook: the runtime MUST log a warning and carry on: delete succeeds and the container is gone (runtime.md Lifecycle 13, Warnings) [MUST]', async () => {
    const out = outDir();
    const id = uid('spec');
    const log = join(ctx.scratch, `log-${id}`);
    createOk(id, bundleWith(out, ['true'], (c) => (c.hooks = { poststop: [failing(out)] })));
    expect(start(id).code).toBe(0);
    await waitStopped(id);
    const d = q(['--log', log, 'delete', id]);
    expect(d.code, d.stderr).toBe(0);
    expect(`${d.stdout}${d.stderr}${existsSync(log) ? readFileSync(log, 'utf8') : ''}`.trim()).not.toBe('');
    expect(exists(id)).toBe(false);
  });

  it('config.md POSIX-platform Hooks: timeout is the number of seconds before aborting the hook (a hook that outlives it fails create) [definition]', () => {
    const out = outDir();
    const id = uid('spec');
    const t0 = Date.now();
    const r = create(id, bundleWith(out, ['true'], (c) => (c.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'cat > /dev/null; exec sleep 20'], timeout: 1 }] })));
    expect(r.code).not.toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(exists(id)).toBe(false);
  });
});

describe.skipIf(!isRoot)('config.md Annotations', () => {
  it('config.md Annotations: runtimes MUST handle unknown annotation keys like any other unknown property (accepted, and kept in the state); values MAY be empty [MUST]', () => {
    const annotations = { 'com.example.spec.unknown': 'value', 'org.example.empty': '', 'no-dots-at-all': 'x y' };
    const id = uid('spec');
    const s = createOk(id, makeBundle(['true'], (c) => (c.annotations = annotations)));
    expect(s.annotations).toEqual(annotations);
    del(id);
  });
});

describe.skipIf(!isRoot)('config.md Extensibility', () => {
  const places: Array<[string, (c: any, v: any) => void]> = [
    ['top level', (c, v) => (c.specUnknownProperty = v)],
    ['root', (c, v) => (c.root.specUnknownProperty = v)],
    ['process', (c, v) => (c.process.specUnknownProperty = v)],
    ['process.user', (c, v) => (c.process.user.specUnknownProperty = v)],
    ['process.capabilities', (c, v) => (c.process.capabilities.specUnknownSet = ['CAP_SYS_ADMIN'])],
    ['process.rlimits[]', (c, v) => (c.process.rlimits[0].specUnknownProperty = v)],
    ['mounts[]', (c, v) => (c.mounts[0].specUnknownProperty = v)],
    ['hooks (an unknown kind is not run)', (c) => (c.hooks = { specUnknownHookKind: [{ path: '/bin/false' }] })],
    ['hooks.createRuntime[]', (c, v) => (c.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'cat > /dev/null'], specUnknownProperty: v }] })],
    ['linux', (c, v) => (c.linux.specUnknownProperty = v)],
    ['linux.namespaces[]', (c, v) => (c.linux.namespaces[0].specUnknownProperty = v)],
    ['linux.resources', (c, v) => (c.linux.resources.specUnknownProperty = v)],
    ['linux.resources.devices[]', (c, v) => (c.linux.resources.devices[0].specUnknownProperty = v)],
    ['linux.devices[]', (c, v) => (c.linux.devices = [{ path: '/dev/spec-zero', type: 'c', major: 1, minor: 5, specUnknownProperty: v }])],
  ];

  it.each(places)('config.md Extensibility: runtimes MUST ignore unknown properties, and not generate an error (%s) [MUST]', (_where, add) => {
    const p = probe((c) => add(c, { nested: [1, 'two', { three: null }] }));
    expect(p.ok, p.run.stderr).toBe(true);
    expect(p.cap('CapBnd')).toBe(capMask(['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']));
  });
});

describe.skipIf(!isRoot)('config.md Valid values', () => {
  const invalid: Array<[string, (c: any) => void]> = [
    ['annotations value not a string', (c) => (c.annotations = { 'org.example.n': 1 })],
    ['annotations key empty ("Keys MUST NOT be an empty string")', (c) => (c.annotations = { '': 'x' })],
    ['annotations not a map', (c) => (c.annotations = ['org.example.a=b'])],
    ['hooks path not absolute ("path MUST be absolute")', (c) => (c.hooks = { createRuntime: [{ path: 'bin/true' }] })],
    ['hooks timeout 0 ("timeout MUST be greater than zero")', (c) => (c.hooks = { createRuntime: [{ path: '/bin/true', timeout: 0 }] })],
    ['mounts[] without destination', (c) => c.mounts.push({ type: 'tmpfs', source: 'tmpfs' })],
    ['mounts[] uidMappings without gidMappings ("MUST be specified along with gidMappings")', (c) => c.mounts.push({ destination: '/tmp', type: 'bind', source: '/tmp', options: ['rbind', 'idmap'], uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] })],
    ['process.rlimits[] without hard', (c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 10 }])],
    ['process.user.uid negative', (c) => (c.process.user = { uid: -1, gid: 0 })],
    ['process.env not an array of strings', (c) => (c.process.env = 'PATH=/bin')],
    ['process.noNewPrivileges not a boolean', (c) => (c.process.noNewPrivileges = 'yes')],
  ];

  it.each(invalid)('config.md Valid values: runtimes MUST generate an error when invalid values are encountered (%s) [MUST]', (what, mutate) => {
    expectRefused(makeBundle(['true'], mutate), what);
  });

  // A 1.x runtime cannot know what a 2.0 configuration means (compatibility
  // is only promised within a major version).
  it('config.md Valid values: runtimes MUST generate an error when unsupported values are encountered (ociVersion of a major version the runtime does not implement: 2.0.0) [MUST]', () => {
    expectRefused(makeBundle(['true'], (c) => (c.ociVersion = '2.0.0')));
  });
});
