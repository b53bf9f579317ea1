// Once per `npm run test:engines`: install the engines (scripts/engines/setup.sh,
// apt-get only the first time), check the runtime under test, and make the
// busybox image files every engine imports (scripts/engines/make-image.sh).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { type Images, IS_ROOT, RUNTIME, repo } from './lib/env.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    engineImages: Images;
  }
}

function step(what: string, cmd: string, args: string[]): void {
  const t = Date.now();
  const r = spawnSync(cmd, args, { cwd: repo, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`${what} failed (${r.error ?? `exit ${r.status}`})`);
  process.stderr.write(`engines: ${what}: ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
}

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync('/tmp/tsrunc-engines-images-');
  if (IS_ROOT) {
    // ENGINES_SETUP=0: use whatever is installed (the tests of a missing engine skip)
    if (process.env.ENGINES_SETUP !== '0') {
      try {
        step('scripts/engines/setup.sh', 'bash', ['scripts/engines/setup.sh']);
      } catch (e) {
        process.stderr.write(`engines: ${(e as Error).message}; engines that are not installed are skipped\n`);
      }
    }
    if (!existsSync(join(repo, 'bundles/busybox/rootfs/bin/busybox'))) step('scripts/setup.sh (busybox rootfs)', 'bash', ['scripts/setup.sh']);
    step('scripts/engines/make-image.sh', 'bash', ['scripts/engines/make-image.sh', 'bundles/busybox/rootfs', dir]);
  }
  process.stderr.write(`engines: the runtime under test is ${RUNTIME.name} (${RUNTIME.path})\n`);
  project.provide('engineImages', { rootfsTar: join(dir, 'rootfs.tar'), imageTar: join(dir, 'image.tar') });
  return () => rmSync(dir, { recursive: true, force: true });
}
