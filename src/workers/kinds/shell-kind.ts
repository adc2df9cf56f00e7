/**
 * The shell kind: the packet's command (or the run's `--worker`) in a detached shell through a worker
 * driver, found again by its files after an engine crash. It runs every packet no other kind claims.
 */
import { createShellDriver } from '../shell-driver.js';
import type { WorkerDriver } from '../worker-driver.js';
import type { KindSession, WorkerHost, WorkerKind, WorkerView } from './worker-kind.js';

class ShellSession implements KindSession {
  constructor(private readonly driver: WorkerDriver) {}

  async start(worker: WorkerHost): Promise<void> {
    const view = worker.view();
    const { workerId, attempt, command } = view;
    if (command === null) {
      await worker.report([{ type: 'process.spawn_failed', payload: { error: 'the packet has no command and no --worker was given' } }]);
      return;
    }
    const logDir = view.run.runDir;
    const earlier = await this.driver.find({ workerId, attempt, logDir });
    if (earlier !== null) {
      await worker.report([{ type: 'process.started', payload: { ...earlier, attempt } }]);
      worker.watchExit(this.driver.reattach(earlier));
      return;
    }
    const started = await this.driver.start({
      runId: view.run.runId,
      workerId,
      attempt,
      command,
      cwd: view.cwd,
      env: view.env,
      packet: view.packet,
      objective: view.objective,
      logDir,
    });
    if (!started.ok) {
      await worker.report([{ type: 'process.spawn_failed', payload: { error: started.error } }]);
      return;
    }
    // Its exit is watched before its start is stored: the start waits for company (`shareAppend`),
    // and the exit, if it comes first, is stored after it all the same.
    const recorded = worker.report([{ type: 'process.started', payload: { ...started.process, attempt } }], { shareAppend: true });
    worker.watchExit(started.exited);
    await recorded;
  }

  reattach: KindSession['reattach'] = (_worker, process) => this.driver.reattach(process);

  /**
   * The machine names the pid alone; the worker's record adds its start time, so a process that ended
   * (a worker cancelled while verifying or retrying) is told apart from a later one given its pid.
   */
  async kill(worker: WorkerView, pid: number | null): Promise<void> {
    const recorded = worker.process;
    if (recorded !== null && recorded.pid === pid) await this.driver.kill(recorded);
  }
}

/** A shell kind whose processes go through `driver` (tests give their own; by default detached shells). */
export function shellKind(driver: WorkerDriver = createShellDriver()): WorkerKind {
  return {
    name: 'shell',
    runs: () => true,
    trust: 'policy',
    open: () => new ShellSession(driver),
  };
}
