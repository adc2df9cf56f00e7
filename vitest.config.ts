import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // Vitest's default on 2 cores is one file at a time, but most of a file's time is spent waiting on
    // the processes it starts (engines, Postgres): two at once took 340 s against 400 s for one, while
    // other work loaded the machine.
    maxWorkers: 2,
    // A timeout here only catches a hang: CLI tests on a busy 2-core machine can take many times their idle time.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
