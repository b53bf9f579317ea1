import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'spec-tests/**/*.test.ts'],
    // one TMPDIR for the run, removed at its end
    globalSetup: ['test/lib/tmp-global.ts'],
    // Real containers on a 2-core machine: a few files at a time.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
