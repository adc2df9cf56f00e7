import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // A timeout here only catches a hang: CLI tests on a busy 2-core machine can take many times their idle time.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
