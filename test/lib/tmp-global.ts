// vitest globalSetup: one TMPDIR for the whole run, made before the workers
// start (they inherit it) and removed when the run ends, so that the bundles,
// roots and files tests make under os.tmpdir() do not pile up in /tmp. A
// nested vitest (spec-tests' runner tests start some) makes its own inside it.
//
// Removal is skipped, with a line on stderr, if anything is still mounted
// under it: a test that failed half-way may leave a bind mount of a real
// directory there, and a recursive remove would go through it.
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export default function setup(): () => void {
  const before = process.env.TMPDIR;
  const dir = mkdtempSync(join(before ?? '/tmp', 'tsrunc-test-'));
  // Searchable by all, as /tmp is: containers in user namespaces run as other
  // uids, and their bind mounts' sources lie below.
  chmodSync(dir, 0o711);
  process.env.TMPDIR = dir;
  return () => {
    // The spec-tests runner starts several runs in one process (--compare).
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
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
