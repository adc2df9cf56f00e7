/**
 * Stopping what a run left running when no engine may be alive to do it (`overseer cancel` of a run
 * whose engine crashed or was detached): each running worker through its own kind, found by the
 * identity the log recorded, and each verifying worker's gates by their pid files. Killing twice is
 * harmless, so a live engine doing the same meanwhile is no trouble.
 */
import { stopGates } from '../gates/gate-runner.js';
import { requiredGates, type GreenContractPacket } from '../gates/quality-gates.js';
import type { RunState } from '../fold/run-state.js';
import { workerKindOf, workerView } from '../fold/worker-kind-of.js';
import type { KindSession, WorkerKind } from '../workers/kinds/worker-kind.js';
import { defaultWorkerKinds, type WorkerKinds } from '../workers/kinds/worker-kinds.js';
import { DEFAULT_KILL_GRACE_MS } from '../os/kill-process-tree.js';
import { systemClock } from './clock.js';

export async function stopRunProcesses(state: RunState, kinds: WorkerKinds = defaultWorkerKinds()): Promise<void> {
  const sessions = new Map<WorkerKind, KindSession>();
  try {
    for (const [workerId, worker] of Object.entries(state.workers)) {
      const process = worker.context.process;
      const view = workerView(state, workerId);
      if (worker.value === 'running' && process !== null && view !== null) {
        const kind = workerKindOf(state, workerId, kinds);
        let session = sessions.get(kind);
        if (session === undefined) {
          session = kind.open(state.run, systemClock);
          sessions.set(kind, session);
        }
        await session.kill(view, process.pid);
      }
      if (worker.value !== 'verifying') continue;
      const gates = requiredGates(state.packets[workerId] as GreenContractPacket);
      await stopGates(gates, { logDir: state.run.runDir, workerId, attempt: worker.context.attempt }, DEFAULT_KILL_GRACE_MS);
    }
  } finally {
    await Promise.all([...sessions.values()].map((session) => session.stop?.() ?? Promise.resolve()));
  }
}
