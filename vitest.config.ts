import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // Most test time is spent waiting on real processes, servers and leases, not on the CPU: on the
    // 2-core machine vitest's default (one file at a time there) left the suite at 12 minutes.
    maxWorkers: 3,
    // A timeout here only catches a hang: CLI tests on a busy 2-core machine can take many times their idle time.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
