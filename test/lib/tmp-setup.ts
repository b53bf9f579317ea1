// vitest setupFiles: each test file gets a TMPDIR of its own, removed after
// its tests (and their own afterAll cleanups: hooks run as a stack), so that the bundles, roots and files tests make under
// os.tmpdir() do not pile up in /tmp run after run.
//
// Removal is skipped, with a line on stderr, if anything is still mounted
// under it (a test that failed half-way may leave a bind mount of a real
// directory there, and a recursive remove would go through it).
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll } from 'vitest';

// The worker's original TMPDIR, kept under a key of this process's own: a
// nested vitest (spec-tests' runner tests start some) sees only our TMPDIR and
// makes its dirs inside it, so they go when ours does.
const key = `TSRUNC_TEST_TMP_PARENT_${process.pid}`;
const parent = (process.env[key] ??= process.env.TMPDIR ?? '/tmp');
const dir = mkdtempSync(join(parent, 'tsrunc-test-'));
// Searchable by all, as /tmp is: containers in user namespaces run as other
// uids, and their bind mounts' sources lie below.
chmodSync(dir, 0o711);
process.env.TMPDIR = dir;

afterAll(() => {
  // mountinfo's 5th field is the mount point, with spaces as \040.
  const mounted = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((m) => m === dir || m?.startsWith(`${dir}/`));
  if (mounted.length) {
    process.stderr.write(`tmp-setup: leaving ${dir}: still mounted there: ${mounted.join(', ')}\n`);
    return;
  }
  rmSync(dir, { recursive: true, force: true });
});
