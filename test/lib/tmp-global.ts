// vitest globalSetup: one TMPDIR for the whole run, made before the workers
// start (they inherit it) and removed when the run ends, so that the bundles,
// roots and files tests make under os.tmpdir() do not pile up in /tmp. A
// nested vitest (spec-tests' runner tests start some) makes its own inside it.
//
// The run's TMPDIR also gets its own copy of the busybox rootfs
// ($TSRUNC_TEST_ROOTFS, which test/lib/harness.ts points every bundle at): a
// container in a user namespace runs as a mapped uid that the host treats as
// "others", and it must be able to search every directory above its rootfs
// and above its bind mounts' sources. A checkout under /root (0700) is not;
// the TMPDIR is made where it is (see reachableBase).
//
// Removal is skipped, with a line on stderr, if anything is still mounted
// under it: a test that failed half-way may leave a bind mount of a real
// directory there, and a recursive remove would go through it.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { unsearchableDir } from './reach.ts';

const repoRootfs = resolve(import.meta.dirname, '../../bundles/busybox/rootfs');

/**
 * $TMPDIR, or /tmp where $TMPDIR lies below a directory that others cannot
 * search (a TMPDIR under a 0700 home would leave the mapped uids out).
 */
function reachableBase(before: string | undefined): string {
  const want = before ?? '/tmp';
  const denied = unsearchableDir(want);
  if (!denied) return want;
  const fallback = '/tmp';
  const fallbackDenied = unsearchableDir(fallback);
  process.stderr.write(
    `tmp-global: TMPDIR ${want} is below ${denied}, which other uids cannot search (user-namespace tests need that): using ${fallback}` +
      (fallbackDenied ? ` (but ${fallbackDenied} is not searchable either: those tests will skip)` : '') +
      '\n',
  );
  return fallback;
}

export default function setup(): () => void {
  const before = process.env.TMPDIR;
  const beforeRootfs = process.env.TSRUNC_TEST_ROOTFS;
  const dir = mkdtempSync(join(reachableBase(before), 'tsrunc-test-'));
  // Searchable by all, as /tmp is: containers in user namespaces run as other
  // uids, and their bind mounts' sources lie below.
  chmodSync(dir, 0o711);
  process.env.TMPDIR = dir;
  // cp -a keeps the modes, owners and symlinks as make-rootfs.sh made them.
  const source = beforeRootfs ?? repoRootfs;
  if (existsSync(join(source, 'bin/busybox'))) {
    const copy = join(dir, 'rootfs');
    const r = spawnSync('cp', ['-a', source, copy], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmp-global: cp -a ${source} ${copy}: ${r.stderr || r.error}`);
    chmodSync(copy, 0o755);
    // The mount target of the tests' `/out` binds, made here: root of a user
    // namespace (a mapped uid) cannot create it in a rootfs that host root
    // owns, and otherwise it exists only once a test without one has run.
    mkdirSync(join(copy, 'out'), { recursive: true, mode: 0o755 });
    process.env.TSRUNC_TEST_ROOTFS = copy;
  }
  return () => {
    // The spec-tests runner starts several runs in one process (--compare).
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    if (beforeRootfs === undefined) delete process.env.TSRUNC_TEST_ROOTFS;
    else process.env.TSRUNC_TEST_ROOTFS = beforeRootfs;
    // mountinfo's 5th field is the mount point, with spaces as \040.
    const mounted = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4]?.replace(/\\040/g, ' '))
      .filter((m) => m === dir || m?.startsWith(`${dir}/`));
    if (mounted.length) {
      process.stderr.write(`tmp-global: leaving ${dir}: still mounted there: ${mounted.join(', ')}\n`);
      return;
    }
    rmSync(dir, { recursive: true, force: true });
  };
}
