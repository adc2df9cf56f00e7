/**
 * The green contract for one worker: its required quality gates run one after another, each verdict
 * an event with its provenance (command, exit code, log file). A gate already green in this attempt
 * (recorded before a crash) is not run again, one still running from before a crash is waited for
 * (see gate-runner.ts); the first red gate ends the verification.
 */
import { runGate } from '../gates/gate-runner.js';
import { requiredGates, type GreenContractPacket } from '../gates/quality-gates.js';
import { packetCwd, packetOf } from '../fold/packet-spec.js';
import type { RunEvent } from '../fold/run-events.js';
import type { RunState } from '../fold/run-state.js';

export interface VerifyHost {
  commit(events: RunEvent[]): Promise<void>;
  current(): RunState;
  /** Aborted when the worker is cancelled: the running gate is stopped with everything it started. */
  abort?: AbortSignal;
}

export async function verifyWorker(workerId: string, state: RunState, host: VerifyHost): Promise<void> {
  const raw = state.packets[workerId] as Record<string, unknown> & GreenContractPacket;
  const packet = packetOf(state, workerId);
  const attempt = state.workers[workerId]?.context.attempt ?? 1;
  const stillVerifying = () => {
    const worker = host.current().workers[workerId];
    return worker?.value === 'verifying' && worker.context.attempt === attempt;
  };
  const event = (type: string, payload: Record<string, unknown>): RunEvent => ({ type, machine: 'worker', workerId, payload });

  for (const gate of requiredGates(raw)) {
    if (!stillVerifying()) return;
    if (host.current().workers[workerId]?.context.gatesPassed.includes(gate.name) === true) continue;
    const result = await runGate(gate, {
      runId: state.run.runId,
      workerId,
      attempt,
      cwd: packetCwd(state.run, packet),
      env: packet.env,
      logDir: state.run.runDir,
      packet,
      abort: host.abort,
    });
    const provenance = { gate: result.gate, level: result.level, command: result.command, exitCode: result.exitCode, logFile: result.logFile };
    if (!result.passed) {
      await host.commit([event('gates.failed', { ...provenance, detail: result.detail ?? 'red' })]);
      return;
    }
    await host.commit([event('gate.passed', provenance)]);
  }
  if (stillVerifying()) await host.commit([event('gates.passed', {})]);
}
