// `npm run test:engines`: podman, containerd and dockerd from Debian 12, each a
// private instance, running containers with the runtime under test
// (ENGINE_RUNTIME=tsrunc, the default, or runc). See test/engines/README.md.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/engines/**/*.test.ts'],
    globalSetup: ['test/lib/tmp-global.ts', 'test/engines/global-setup.ts'],
    // the gate in lib/env.ts: plain `npm test` collects these files but skips them
    env: { TSRUNC_ENGINES_SUITE: '1' },
    pool: 'forks',
    // one engine at a time: timing checks (stop -t) stay meaningful on 2 cores
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 180_000,
  },
});
