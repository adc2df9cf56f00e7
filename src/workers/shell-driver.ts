/** The default worker driver: a packet's command in a detached shell, found again by its files after a crash. */
import { DEFAULT_KILL_GRACE_MS, stopProcessGroup } from '../os/kill-process-tree.js';
import { findShellWorker, reattachShellWorker } from './reattach-worker.js';
import { startShellWorker } from './shell-worker.js';
import type { ProcessLauncher } from '../os/process-launcher.js';
import type { WorkerDriver } from './worker-driver.js';

export function createShellDriver(options: { killGraceMs?: number; launcher?: ProcessLauncher } = {}): WorkerDriver {
  const graceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  return {
    async start(spec) {
      const started = await startShellWorker({ ...spec, launcher: options.launcher, graceMs });
      if (!started.ok) return { ok: false, error: started.error };
      // The engine may stop (detach, Ctrl-C) while workers run on; a resume finds them again.
      started.unref();
      const { pid, processStartTime, logFile, statusFile } = started;
      return { ok: true, process: { pid, processStartTime, logFile, statusFile }, exited: started.exited };
    },
    async kill(process) {
      await stopProcessGroup(process, { graceMs });
    },
    reattach: (process) => reattachShellWorker(process, { graceMs }),
    find: (where) => Promise.resolve(findShellWorker(where)),
    close: () => options.launcher?.close(),
  };
}
