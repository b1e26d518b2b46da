import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each run spawns up to 4 rank threads; on a 2-core machine, test files run one at a time
    // so that heartbeat timeouts measure the code, not the oversubscription.
    fileParallelism: false,
    reporters: ['default', './test/summary-reporter.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
