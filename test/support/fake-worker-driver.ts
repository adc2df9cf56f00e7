/**
 * A worker driver for engine tests that must choose every outcome themselves: processes "start"
 * at once and never exit on their own; the test commits `process.exited` when it wants.
 */
import type { StartSpec, WorkerDriver } from '../../src/workers/worker-driver.js';

export function fakeWorkerDriver(): WorkerDriver & { started: StartSpec[]; killed: number[] } {
  let nextPid = 1000;
  const started: StartSpec[] = [];
  const killed: number[] = [];
  return {
    started,
    killed,
    start: (spec) => {
      started.push(spec);
      const pid = nextPid++;
      const file = `${spec.logDir}/${spec.workerId}.${String(spec.attempt)}`;
      return Promise.resolve({
        ok: true,
        process: { pid, processStartTime: '1', logFile: `${file}.log`, statusFile: `${file}.status` },
        exited: new Promise(() => undefined),
      });
    },
    kill: (pid) => {
      killed.push(pid);
      return Promise.resolve();
    },
    reattach: () => new Promise(() => undefined),
    find: () => Promise.resolve(null),
  };
}

/** A clock that only moves when the test says; timers never fire by themselves. */
export function manualClock(start = Date.UTC(2026, 0, 1)) {
  let now = start;
  return {
    now: () => now,
    setTimer: () => Symbol('timer'),
    clearTimer: () => undefined,
    advance: (ms: number) => {
      now += ms;
    },
  };
}
