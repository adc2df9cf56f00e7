/**
 * The seed's services for one engine: planner, bootstrap and worker service, started on first use
 * from the commands the run recorded, and stopped with the engine. A call that fails (the service
 * crashed, hung, or answered nonsense) is reported and tried again per the `service_error` recipe, on
 * a restarted service when it exited, broke or hung; only when the attempts are spent does the caller
 * see the failure. Only a call that outlasts the service's per-call limit counts as a hang: a
 * worker's `run_worker` is bounded by that worker's own timeout, which ends the call (`endAttempt`)
 * and fails the worker's attempt, never the shared service.
 */
import { join } from 'node:path';
import { backoffDelayMs, DEFAULT_RECIPES, type RecoveryRecipe } from '../../machines/recovery.js';
import { ServiceClient } from '../rpc/service-client.js';
import type { ServiceError, ServiceResult } from '../rpc/service-errors.js';
import { bootstrapService, type BootstrapService } from '../planning/bootstrap-service.js';
import { plannerService, type PlannerService } from '../planning/planner-service.js';
import { workerService, type ServiceWorkerId, type WorkerService } from './worker-service.js';

export type ServiceName = 'planner' | 'bootstrap' | 'worker service';

/** What of the run its services need (the run.started event has it all). */
export interface ServicedRun {
  runId: string;
  cwd: string;
  runDir: string;
  services: { planner?: string | null; bootstrap?: string | null; workerService: string | null; callTimeoutMs: number };
}

/** Waits out a back-off: the engine's clock, so tests can fake it. */
export interface ServiceTimer {
  setTimer(fn: () => void, ms: number): unknown;
}

export interface ServiceFailure {
  service: ServiceName;
  method: string;
  attempt: number;
  error: ServiceError;
  /** Null when no attempt is left. */
  retryInMs: number | null;
}

/** Records each failed attempt (as a `service.error` event). */
export type FailureReport = (failure: ServiceFailure) => Promise<void>;

/** The payload of the `service.error` event that records one failed attempt. */
export function serviceErrorPayload(failure: ServiceFailure) {
  return {
    service: failure.service,
    method: failure.method,
    attempt: failure.attempt,
    code: failure.error.code,
    message: failure.error.message,
    retryInMs: failure.retryInMs,
  };
}

export class RunServices {
  private readonly clients = new Map<ServiceName, ServiceClient>();
  // One facade for the run: it remembers whether the service has run_worker.
  private workerFacade: WorkerService | null = null;
  /** The process (incarnation) of each service whose call timed out: replaced before the next call. */
  private readonly unfit = new Map<ServiceName, number>();
  /**
   * The worker-service process (incarnation) that gave each worker its service worker id, and the id.
   * Ids belong to one process; these processes die with the engine, so after a resume none is known.
   */
  private readonly workerIds = new Map<string, { incarnation: number; id: ServiceWorkerId }>();
  /** The worker attempts under way on the worker service, each with the signal that ends its calls. */
  private readonly attempts = new Map<string, AbortController>();
  private stopped = false;

  constructor(
    private readonly run: ServicedRun,
    private readonly clock: ServiceTimer,
    private readonly recipe: RecoveryRecipe = DEFAULT_RECIPES.service_error,
  ) {}

  has(name: ServiceName): boolean {
    return this.command(name) !== null;
  }

  planner(): PlannerService {
    return plannerService(this.client('planner'));
  }

  bootstrap(): BootstrapService {
    return bootstrapService(this.client('bootstrap'));
  }

  worker(): WorkerService {
    this.workerFacade ??= workerService(this.client('worker service'));
    return this.workerFacade;
  }

  /** The worker service's process and log, which stand for a service worker's process in events. */
  workerProcess(): { pid: number; logFile: string } {
    const client = this.client('worker service');
    return { pid: client.pid ?? 0, logFile: client.logFile };
  }

  /** This worker's id on the worker-service process of `incarnation`, if that process spawned it. */
  workerIdOn(workerId: string, incarnation: number): ServiceWorkerId | null {
    const known = this.workerIds.get(workerId);
    return known?.incarnation === incarnation ? known.id : null;
  }

  /** Notes that the worker-service process of `incarnation` spawned this worker, as `id`. */
  workerSpawned(workerId: string, incarnation: number, id: ServiceWorkerId): void {
    this.workerIds.set(workerId, { incarnation, id });
  }

  /**
   * Runs one attempt of a service worker; `attempt` gets the signal `endAttempt(workerId)` aborts,
   * to pass to the calls that last as long as the work (run_worker).
   */
  async duringAttempt<T>(workerId: string, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    this.attempts.set(workerId, controller);
    try {
      return await attempt(controller.signal);
    } finally {
      if (this.attempts.get(workerId) === controller) this.attempts.delete(workerId);
    }
  }

  /**
   * The worker's attempt ended before the service answered (its timeout passed, it was cancelled):
   * its calls under way are abandoned. The service is shared, so it is left running and in good
   * standing: other workers' calls go on, and a late answer is dropped.
   */
  endAttempt(workerId: string): void {
    this.attempts.get(workerId)?.abort();
    this.attempts.delete(workerId);
  }

  /**
   * Calls `call` until it succeeds or `attempts` are spent (the `service_error` recipe's by default),
   * on a service that is up: started on first use (once, however many calls want it at the same
   * moment), restarted when it exited, broke or a call outlasted its per-call limit. `call` is told
   * which process (incarnation) it talks to. Worker calls pass 1: the worker machine's recipe retries
   * them as durable attempts instead. A call its caller abandoned is returned as it is: nothing failed.
   * A call bound to a process another caller has replaced meanwhile (`stale_incarnation`) was not
   * sent, so nothing failed either: it goes again, on the process that runs now, as the same attempt.
   */
  async withRetries<T>(
    name: ServiceName,
    method: string,
    call: (incarnation: number) => Promise<ServiceResult<T>>,
    report: FailureReport,
    attempts = this.recipe.maxAttempts,
  ): Promise<ServiceResult<T>> {
    const client = this.client(name);
    let attempt = 1;
    for (;;) {
      const started = await client.ready(this.unfit.get(name));
      const result = started.ok ? await call(started.value.incarnation) : started;
      // Once the engine stops its services, nothing is reported or retried.
      if (result.ok || this.stopped || result.error.code === 'abandoned') return result;
      // Stale only when another caller replaced the process since ready(): one more round per restart.
      if (result.error.code === 'stale_incarnation') continue;
      if (started.ok && result.error.code === 'timeout') this.unfit.set(name, started.value.incarnation);
      if (await this.failed({ name, method: result.error.method ?? method, attempt, attempts, error: result.error, report })) return result;
      attempt += 1;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.clients.values()].map((client) => client.stop()));
  }

  /** Reports a failed attempt; true when it was the last, else waits the back-off. */
  private async failed(at: { name: ServiceName; method: string; attempt: number; attempts: number; error: ServiceError; report: FailureReport }): Promise<boolean> {
    const { name, method, attempt, attempts, error, report } = at;
    const retryInMs = attempt >= attempts ? null : backoffDelayMs(this.recipe, attempt, attempt);
    await report({ service: name, method, attempt, error, retryInMs });
    if (retryInMs === null) return true;
    await new Promise<void>((resolve) => this.clock.setTimer(() => resolve(), retryInMs));
    return false;
  }

  private command(name: ServiceName): string | null {
    const services = this.run.services;
    if (name === 'planner') return services.planner ?? null;
    if (name === 'bootstrap') return services.bootstrap ?? null;
    return services.workerService;
  }

  private client(name: ServiceName): ServiceClient {
    let client = this.clients.get(name);
    if (client !== undefined) return client;
    const command = this.command(name);
    if (command === null) throw new Error(`no ${name} was given for run ${this.run.runId}`);
    client = new ServiceClient({
      name,
      command,
      cwd: this.run.cwd,
      logFile: join(this.run.runDir, `${name.replace(' ', '-')}.log`),
      callTimeoutMs: this.run.services.callTimeoutMs,
    });
    this.clients.set(name, client);
    return client;
  }
}
