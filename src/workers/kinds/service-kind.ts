/**
 * The service kind: a packet with no command of its own, in a run given `--worker-service`, is run by
 * that JSON-RPC service (spawn_worker, check_trust, mark_trusted, and our optional run_worker). Every
 * answer and every failure becomes an event; a failure that outlasts its retries becomes the worker's
 * failure, never an exception. The service is this engine's child: it dies with it, so a worker found
 * running after a crash is lost, and its "process" is its attempt's call, never the shared service.
 */
import { RunServices, serviceErrorPayload, type FailureReport } from '../run-services.js';
import { succeeded, type ServiceResult } from '../../rpc/service-errors.js';
import { runFailureReason, type ServiceWorkerId } from '../worker-service.js';
import type { KindSession, WorkerHost, WorkerKind } from './worker-kind.js';

function reporter(worker: WorkerHost): FailureReport {
  return (failure) => worker.report([{ type: 'service.error', payload: serviceErrorPayload(failure) }]);
}

/** The packet as the worker service receives it: as planned, plus the bootstrap artifacts as context. */
function servicePacket(worker: WorkerHost): Record<string, unknown> {
  const { packet, artifacts } = worker.view();
  return 'context' in packet ? packet : { ...packet, context: { bootstrap: artifacts } };
}

class ServiceSession implements KindSession {
  constructor(private readonly services: RunServices) {}

  /**
   * The trust gate with a worker service: the policy's deny still denies; a worker the service says
   * needs no approval is trusted (source `service:check_trust`); one that needs it asks a person unless
   * the policy trusts it.
   */
  async decideTrust(worker: WorkerHost): Promise<void> {
    const service = this.services.worker();
    const checked = await this.withServiceWorker(worker, 'check_trust', (id, on) => service.checkTrust(id, on));
    if (!checked.ok) {
      // Trust could not be checked: nothing runs without a yes, so a person decides.
      const method = checked.error.method ?? 'check_trust';
      await worker.report([{ type: 'trust.decided', payload: { decision: 'ask', source: `service:${method} failed (${checked.error.code})` } }]);
      return;
    }
    const verdict = await worker.policyVerdict();
    const requiresApproval = checked.value.requires_approval;
    const decided = verdict.decision !== 'deny' && !requiresApproval ? { decision: 'trust' as const, source: 'service:check_trust' } : verdict;
    await worker.report([
      { type: 'service.trust_checked', payload: { requiresApproval } },
      { type: 'trust.decided', payload: { decision: decided.decision, source: decided.source } },
    ]);
  }

  /** After the trust gate: mark_trusted, then run_worker when the service has it (else done, as in the seed). */
  start(worker: WorkerHost): Promise<void> {
    const { workerId } = worker.view();
    return this.services.duringAttempt(workerId, (attemptEnded) => this.runAttempt(worker, attemptEnded));
  }

  /** The service died with the engine that started it, and the worker's attempt with it. */
  reattach(): Promise<'lost'> {
    return Promise.resolve('lost');
  }

  /** Ends the attempt's run_worker call, never the service, which other workers' calls are using. */
  kill(worker: { workerId: string }): Promise<void> {
    this.services.endAttempt(worker.workerId);
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return this.services.stop();
  }

  private async runAttempt(worker: WorkerHost, attemptEnded: AbortSignal): Promise<void> {
    const { attempt, trustSource } = worker.view();
    const approvalSource = trustSource ?? 'overseer';
    const service = this.services.worker();
    let started = false;
    // One try per attempt: the worker's service_error recipe retries the attempt, durably, with its back-off.
    const ran = await this.withServiceWorker(
      worker,
      'run_worker',
      async (id, on) => {
        const marked = await service.markTrusted(id, approvalSource, on);
        if (!marked.ok) return marked;
        // Once per attempt: when the process is replaced before run_worker is sent, the attempt goes on
        // on the new one, and the machine, already running, takes no second start.
        if (!started) {
          started = true;
          const { pid, logFile } = this.services.workerProcess();
          await worker.report([{ type: 'process.started', payload: { pid, processStartTime: null, logFile, statusFile: '', attempt } }]);
        }
        // A run lasts as long as the work: no per-call limit. The packet's timeout, the machine's attempt
        // timer, ends the attempt and with it this call, so it is the worker's timeout, not a hung service.
        return service.runWorker(id, { ...on, timeoutMs: null, signal: attemptEnded });
      },
      1,
    );
    // The attempt ended first (timed out, cancelled): the machine has recorded why; a late answer belongs to no attempt.
    if (attemptEnded.aborted) return;
    if (!ran.ok) {
      await worker.report([{ type: 'service.failed', payload: { method: ran.error.method ?? 'run_worker', detail: ran.error.message } }]);
      return;
    }
    const outcome = ran.value;
    const done = !outcome.supported || outcome.reply.status === 'done';
    const said = outcome.supported ? (done ? 'done' : runFailureReason(outcome.reply)) : `done once trusted (no run_worker: ${outcome.reason})`;
    // The service's own words are kept; the outcome then goes through the machine like a process exit.
    await worker.report([
      { type: 'service.run_reported', payload: { status: done ? 'done' : 'failed', detail: said } },
      { type: 'process.exited', payload: { code: done ? 0 : 1, signal: null } },
    ]);
  }

  /**
   * This worker's id on the worker-service process of `incarnation`. An id belongs to the process that
   * gave it: one from an earlier process (before a restart, or before the engine resumed, when
   * services start afresh) is replaced by spawning the worker again on this one, with the same packet,
   * and the new id is recorded. The request is recorded first, so the log shows one a crash left
   * unanswered; the same task_packet (same id) goes out every time (see docs/protocol.md). The spawn
   * is bound to that process too, so the id is recorded with the process that really gave it.
   */
  private async serviceWorkerOn(worker: WorkerHost, incarnation: number): Promise<ServiceResult<ServiceWorkerId>> {
    const { workerId } = worker.view();
    const known = this.services.workerIdOn(workerId, incarnation);
    if (known !== null) return succeeded(known);
    await worker.report([{ type: 'service.spawn_requested', payload: { packetId: workerId } }]);
    const spawned = await this.services.worker().spawnWorker(servicePacket(worker), { incarnation });
    if (!spawned.ok) return spawned;
    await worker.report([{ type: 'service.worker_spawned', payload: { serviceWorkerId: spawned.value.worker_id } }]);
    this.services.workerSpawned(workerId, incarnation, spawned.value.worker_id);
    return succeeded(spawned.value.worker_id);
  }

  /**
   * `call` with the worker's id on the worker service as it runs now, spawning the worker there first
   * when it holds none. `call` passes `on` to every call naming the id, binding it to the process that
   * gave the id: if that process is replaced meanwhile, the call is not sent, and the worker is spawned
   * again on the new one and the call made there, as after any restart.
   */
  private withServiceWorker<T>(
    worker: WorkerHost,
    method: string,
    call: (id: ServiceWorkerId, on: { incarnation: number }) => Promise<ServiceResult<T>>,
    attempts?: number,
  ): Promise<ServiceResult<T>> {
    const onProcess = async (incarnation: number): Promise<ServiceResult<T>> => {
      const id = await this.serviceWorkerOn(worker, incarnation);
      return id.ok ? call(id.value, { incarnation }) : id;
    };
    return this.services.withRetries('worker service', method, onProcess, reporter(worker), attempts);
  }
}

export const serviceKind: WorkerKind = {
  name: 'service',
  runs: (packet, run) => packet.command === undefined && run.services.workerService !== null,
  trust: 'session',
  open: (run, environment) => new ServiceSession(new RunServices(run, environment)),
};
