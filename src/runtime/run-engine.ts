/**
 * The host of one run: it feeds events to the machines (through the fold), appends them to the store
 * BEFORE acting (write-ahead), then performs the effects the machines asked for and reports their
 * outcomes back as new events. One commit at a time, so the stream version is always ours to expect.
 */
import type { EventStore, NewEvent, RunStatus } from '../store/event-store.js';
import type { TrustResolver } from '../gates/trust-resolver.js';
import type { Clock } from './clock.js';
import { parseRunEvent, type RunEvent } from './run-events.js';
import { applyEvent, type MachineAction, type RunState } from './run-state.js';
import { deriveRunStatus } from './run-status.js';
import { packetSpecSchema, type PacketSpec } from './packet-spec.js';
import type { WorkerDriver, WorkerExit } from '../workers/worker-driver.js';
import { join } from 'node:path';

export interface EngineDeps {
  store: EventStore;
  clock: Clock;
  driver: WorkerDriver;
  trust: TrustResolver;
  /** Seeds back-off jitter per worker; recorded in the log, so replays do not call it. */
  random: () => number;
}

export interface CommittedEvent extends RunEvent {
  stateAfter: unknown;
  at: Date;
}

export type EngineListener = (events: readonly CommittedEvent[], state: RunState) => void;

export class RunEngine {
  private state: RunState;
  private status: RunStatus;
  private chain: Promise<void> = Promise.resolve();
  private readonly armed = new Map<string, unknown>();
  private readonly listeners = new Set<EngineListener>();
  private settle!: { resolve: (s: RunState) => void; reject: (e: unknown) => void };
  private failed = false;
  private inFlight = 0;
  readonly finished: Promise<RunState>;

  constructor(
    private readonly deps: EngineDeps,
    initial: RunState,
  ) {
    this.state = initial;
    this.status = deriveRunStatus(initial);
    this.finished = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // A caller that only listens for events must not see an unhandled rejection from `finished`.
    this.finished.catch(() => undefined);
  }

  get current(): RunState {
    return this.state;
  }

  get runId(): string {
    return this.state.run.runId;
  }

  onCommit(listener: EngineListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Appends the events (and the follow-ups the machines derive from them in the same batch), then acts. */
  commit(events: RunEvent[]): Promise<void> {
    const next = this.chain.then(() => this.commitNow(events));
    this.chain = next.catch((error: unknown) => this.fail(error));
    return next;
  }

  /** Performs the given effects as if they had just been asked for: used at start and on resume. */
  perform(actions: readonly MachineAction[]): void {
    for (const action of actions) this.performOne(action);
  }

  /**
   * After a crash: performs again what each machine's current state is waiting on (effects are
   * idempotent or guarded), reattaches to processes that outlived the old engine, re-arms timers.
   */
  resumeEffects(): void {
    const workflow = this.state.workflow;
    const own = (type: string, workerId: string | null = null): MachineAction => ({ machine: workerId === null ? 'workflow' : 'worker', workerId, type, params: {} });
    if (workflow.status === 'done') this.perform([own('runFinished')]);
    else if (workflow.value === 'planning') this.perform([own('startPlanning')]);
    else if (workflow.value === 'bootstrapping') this.perform([own('startBootstrap')]);
    for (const [workerId, worker] of Object.entries(this.state.workers)) {
      if (worker.status !== 'active') continue;
      if (worker.value === 'spawned') this.perform([own('decideTrust', workerId)]);
      else if (worker.value === 'trusted') this.perform([own('startProcess', workerId)]);
      else if (worker.value === 'verifying') this.perform([own('runGates', workerId)]);
      else if (worker.value === 'running' && worker.context.process !== null) {
        this.watchExit(workerId, this.deps.driver.reattach(worker.context.process));
      }
    }
    this.syncTimers();
  }

  /** Resolves once no commit is queued and no effect is running (timers and live processes aside). */
  async idle(): Promise<void> {
    for (;;) {
      const chain = this.chain;
      await chain;
      await new Promise((resolve) => setImmediate(resolve));
      if (chain === this.chain && this.inFlight === 0) return;
    }
  }

  /** Stops timers; the run itself stays as the log says. */
  stop(): void {
    for (const handle of this.armed.values()) this.deps.clock.clearTimer(handle);
    this.armed.clear();
  }

  private fail(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.stop();
    this.settle.reject(error);
  }

  private async commitNow(inputs: RunEvent[]): Promise<void> {
    if (this.failed) return;
    const at = new Date(this.deps.clock.now());
    const queue = [...inputs];
    const batch: NewEvent[] = [];
    const committed: CommittedEvent[] = [];
    const effects: MachineAction[] = [];
    let state = this.state;
    while (queue.length > 0) {
      const event = parseRunEvent(queue.shift() as RunEvent);
      const applied = applyEvent(state, event, at);
      if (applied === null) continue;
      state = applied.state;
      batch.push({ ...event, stateAfter: applied.stateAfter, createdAt: at });
      committed.push({ ...event, stateAfter: applied.stateAfter, at });
      for (const action of applied.actions) {
        const followUps = this.followUps(action, state);
        if (followUps === null) effects.push(action);
        else queue.push(...followUps);
      }
    }
    if (batch.length === 0) return;
    const status = deriveRunStatus(state);
    await this.deps.store.append(this.runId, this.state.version, batch, status === this.status ? {} : { runStatus: status });
    this.state = state;
    this.status = status;
    this.syncTimers();
    for (const listener of this.listeners) listener(committed, state);
    this.perform(effects);
  }

  /** Actions that only produce more events are expanded inside the same atomic batch; null = an effect. */
  private followUps(action: MachineAction, state: RunState): RunEvent[] | null {
    switch (action.type) {
      case 'spawnWorkers':
        return (action.params['taskIds'] as string[]).map((taskId) => this.spawnEvent(taskId, state));
      case 'cancelWorkers':
        return (action.params['taskIds'] as string[])
          .filter((id) => state.workers[id]?.status === 'active')
          .map((id) => ({ type: 'worker.cancel', machine: 'worker', workerId: id, payload: { reason: 'run stopped' } }));
      case 'reportOutcome': {
        const worker = action.workerId === null ? undefined : state.workers[action.workerId];
        const failure = worker?.context.failure ?? null;
        return [
          {
            type: 'task.finished',
            machine: 'workflow',
            workerId: null,
            payload: {
              taskId: action.workerId,
              outcome: action.params['outcome'],
              escalation: action.params['escalation'],
              detail: failure === null ? null : `${failure.kind}: ${failure.detail}`,
            },
          },
        ];
      }
      default:
        return null;
    }
  }

  private spawnEvent(taskId: string, state: RunState): RunEvent {
    const packet = this.packet(taskId, state);
    return {
      type: 'worker.spawned',
      machine: 'worker',
      workerId: taskId,
      payload: {
        input: {
          workerId: taskId,
          timeoutMs: packet.timeoutMs ?? null,
          hasGates: (packet.gates?.length ?? 0) > 0,
          seed: Math.floor(this.deps.random() * 2 ** 31),
        },
      },
    };
  }

  private packet(taskId: string, state: RunState = this.state): PacketSpec {
    return packetSpecSchema.parse(state.packets[taskId]);
  }

  private performOne(action: MachineAction): void {
    const run = async (): Promise<void> => {
      switch (action.type) {
        case 'startPlanning':
          return this.plan();
        case 'startBootstrap':
          return this.commit([{ type: 'bootstrap.completed', machine: 'workflow', workerId: null, payload: { phases: [], artifacts: {} } }]);
        case 'runFinished':
          return this.finish();
        case 'decideTrust':
          return this.decideTrust(action.workerId as string);
        case 'startProcess':
          return this.startProcess(action.workerId as string);
        case 'killProcess': {
          const pid = action.params['pid'];
          return typeof pid === 'number' ? this.deps.driver.kill(pid) : undefined;
        }
        case 'runGates':
          return this.commit([{ type: 'gates.passed', machine: 'worker', workerId: action.workerId, payload: {} }]);
        default:
          throw new Error(`no effect for action ${action.type}`);
      }
    };
    this.inFlight++;
    run()
      .catch((error: unknown) => this.fail(error))
      .finally(() => this.inFlight--);
  }

  private async plan(): Promise<void> {
    const packets = this.state.run.packets;
    if (packets === null) {
      await this.commit([{ type: 'plan.failed', machine: 'workflow', workerId: null, payload: { reason: 'no plan and no planner' } }]);
      return;
    }
    await this.commit([{ type: 'plan.ready', machine: 'workflow', workerId: null, payload: { packets } }]);
  }

  private async finish(): Promise<void> {
    await this.chain;
    this.stop();
    this.settle.resolve(this.state);
  }

  private async decideTrust(workerId: string): Promise<void> {
    const packet = this.packet(workerId);
    const verdict = await this.deps.trust({ packet, autoApprove: this.state.run.autoApprove });
    await this.commit([{ type: 'trust.decided', machine: 'worker', workerId, payload: { decision: verdict.decision, source: verdict.source } }]);
  }

  private async startProcess(workerId: string): Promise<void> {
    const packet = this.packet(workerId);
    const worker = this.state.workers[workerId];
    const command = packet.command ?? this.state.run.workerCommand;
    if (worker === undefined) return;
    if (command === undefined || command === null) {
      await this.commit([{ type: 'process.spawn_failed', machine: 'worker', workerId, payload: { error: 'the packet has no command and no --worker was given' } }]);
      return;
    }
    const attempt = worker.context.attempt;
    const logDir = this.state.run.runDir;
    const earlier = await this.deps.driver.find({ workerId, attempt, logDir });
    if (earlier !== null) {
      await this.commit([{ type: 'process.started', machine: 'worker', workerId, payload: { ...earlier, attempt } }]);
      this.watchExit(workerId, this.deps.driver.reattach(earlier));
      return;
    }
    const started = await this.deps.driver.start({
      runId: this.runId,
      workerId,
      attempt,
      command,
      cwd: packet.cwd === undefined ? this.state.run.cwd : join(this.state.run.cwd, packet.cwd),
      env: packet.env ?? {},
      packet,
      objective: packet.objective,
      logDir,
    });
    if (!started.ok) {
      await this.commit([{ type: 'process.spawn_failed', machine: 'worker', workerId, payload: { error: started.error } }]);
      return;
    }
    await this.commit([{ type: 'process.started', machine: 'worker', workerId, payload: { ...started.process, attempt } }]);
    this.watchExit(workerId, started.exited);
  }

  /** A live process is not an effect in flight: `idle()` must not wait for workers to finish. */
  private watchExit(workerId: string, exited: Promise<WorkerExit | 'lost'>): void {
    exited
      .then((exit) =>
        this.commit([
          exit === 'lost'
            ? { type: 'worker.lost', machine: 'worker', workerId, payload: { detail: 'the process is gone and left no exit status' } }
            : { type: 'process.exited', machine: 'worker', workerId, payload: { code: exit.code, signal: exit.signal } },
        ]),
      )
      .catch((error: unknown) => this.fail(error));
  }

  private syncTimers(): void {
    const pending = this.state.timers;
    for (const [key, handle] of this.armed) {
      if (!(key in pending)) {
        this.deps.clock.clearTimer(handle);
        this.armed.delete(key);
      }
    }
    for (const [key, timer] of Object.entries(pending)) {
      if (this.armed.has(key)) continue;
      const fire = (): void => {
        this.armed.delete(key);
        void this.commit([{ type: 'timer.fired', machine: timer.machine, workerId: timer.workerId, payload: { timerId: timer.timerId, event: timer.event } }]).catch(() => undefined);
      };
      this.armed.set(key, this.deps.clock.setTimer(fire, timer.dueAt - this.deps.clock.now()));
    }
  }
}
