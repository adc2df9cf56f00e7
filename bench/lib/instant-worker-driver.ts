/**
 * A worker driver whose processes "start" and exit at once (exit 1 for the workers named in `failing`,
 * else 0): the engine does all its bookkeeping, and no process runs. Pids are made up, never reused.
 */
import { join } from 'node:path';
import type { WorkerDriver } from '../../src/workers/worker-driver.js';

export function instantWorkerDriver(failing: ReadonlySet<string> = new Set(), firstPid = 100_000): WorkerDriver {
  let nextPid = firstPid;
  return {
    start: (spec) => {
      const pid = nextPid++;
      const file = join(spec.logDir, `${spec.workerId}.${String(spec.attempt)}`);
      return Promise.resolve({
        ok: true as const,
        process: { pid, processStartTime: String(pid), logFile: `${file}.log`, statusFile: `${file}.status` },
        exited: Promise.resolve({ code: failing.has(spec.workerId) ? 1 : 0, signal: null }),
      });
    },
    kill: () => Promise.resolve(),
    reattach: () => Promise.resolve('lost' as const),
    find: () => Promise.resolve(null),
  };
}
