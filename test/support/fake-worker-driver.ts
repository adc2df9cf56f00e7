/**
 * A worker driver for engine tests that choose every outcome themselves: processes "start" at once
 * and end only when the test says (`exit`), or fail to start when told to (`failNextStart`).
 */
import type { StartSpec, WorkerDriver, WorkerExit } from '../../src/workers/worker-driver.js';

export interface FakeWorkerDriver extends WorkerDriver {
  started: StartSpec[];
  killed: number[];
  /** Ends the latest attempt of a worker with this exit code. */
  exit(workerId: string, code: number): void;
  failNextStart(workerId: string, error: string): void;
  pidOf(workerId: string): number | undefined;
}

export function fakeWorkerDriver(): FakeWorkerDriver {
  let nextPid = 1000;
  const started: StartSpec[] = [];
  const killed: number[] = [];
  const exits = new Map<string, (exit: WorkerExit) => void>();
  const pids = new Map<string, number>();
  const failures = new Map<string, string>();
  return {
    started,
    killed,
    exit: (workerId, code) => exits.get(workerId)?.({ code, signal: null }),
    failNextStart: (workerId, error) => failures.set(workerId, error),
    pidOf: (workerId) => pids.get(workerId),
    start: (spec) => {
      started.push(spec);
      const failure = failures.get(spec.workerId);
      if (failure !== undefined) {
        failures.delete(spec.workerId);
        return Promise.resolve({ ok: false, error: failure });
      }
      const pid = nextPid++;
      pids.set(spec.workerId, pid);
      const file = `${spec.logDir}/${spec.workerId}.${String(spec.attempt)}`;
      return Promise.resolve({
        ok: true,
        process: { pid, processStartTime: '1', logFile: `${file}.log`, statusFile: `${file}.status` },
        exited: new Promise<WorkerExit>((resolve) => exits.set(spec.workerId, resolve)),
      });
    },
    kill: (process) => {
      killed.push(process.pid);
      return Promise.resolve();
    },
    reattach: () => new Promise(() => undefined),
    find: () => Promise.resolve(null),
  };
}

/** A clock that only moves when the test says; `advance` fires the timers that came due, in order. */
export function manualClock(start = Date.UTC(2026, 0, 1)) {
  let now = start;
  let nextId = 0;
  const timers = new Map<number, { due: number; fn: () => void }>();
  return {
    now: () => now,
    setTimer: (fn: () => void, ms: number) => {
      const id = nextId++;
      timers.set(id, { due: now + Math.max(0, ms), fn });
      return id;
    },
    clearTimer: (handle: unknown) => {
      timers.delete(handle as number);
    },
    /** Due times of the timers armed now, soonest first. */
    pending: () => [...timers.values()].map((t) => t.due - now).sort((a, b) => a - b),
    advance: (ms: number) => {
      const until = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.due <= until).sort((a, b) => a[1].due - b[1].due)[0];
        if (due === undefined) break;
        timers.delete(due[0]);
        now = due[1].due;
        due[1].fn();
      }
      now = until;
    },
  };
}
