/**
 * One worker per task packet, after Claw Code's worker boot:
 * spawned → awaitingTrust → trusted → running → verifying → done | failed, with retrying and denied.
 * Pure: it declares effects by name (startProcess, killProcess, runGates, decideTrust, reportOutcome)
 * and the runtime performs them; time reaches it only as timer events the runtime fires from the log.
 */
import { and, assign, setup } from 'xstate';
import type { TrustDecision, WorkerEvent, WorkerOutcome, WorkerProcess } from './events.js';
import { backoffDelayMs, DEFAULT_RECIPES, type Escalation, type FailureKind, type RecoveryRecipes } from './recovery.js';

export interface WorkerInput {
  workerId: string;
  /** Per-attempt time limit; null for none. */
  timeoutMs: number | null;
  hasGates: boolean;
  recipes?: RecoveryRecipes | undefined;
  /** Seeds the back-off jitter so the schedule is the same live and on replay. */
  seed: number;
}

export interface WorkerContext {
  workerId: string;
  attempt: number;
  timeoutMs: number | null;
  hasGates: boolean;
  recipes: RecoveryRecipes;
  seed: number;
  trustSource: string | null;
  process: WorkerProcess | null;
  exitCode: number | null;
  failure: { kind: FailureKind; detail: string } | null;
  retryDelayMs: number;
  escalation: Escalation | null;
}

const NO_TIMEOUT = Number.POSITIVE_INFINITY;

function failureDetail(event: WorkerEvent): string {
  switch (event.type) {
    case 'process.exited':
      return event.signal === null ? `exit code ${String(event.code)}` : `killed by ${event.signal}`;
    case 'process.spawn_failed':
      return event.error;
    case 'worker.lost':
      return event.detail;
    case 'gates.failed':
      return `gate ${event.gate}: ${event.detail}`;
    case 'trust.denied':
      return `denied by ${event.by}${event.reason === undefined ? '' : `: ${event.reason}`}`;
    case 'trust.decided':
      return `denied by ${event.source}`;
    default:
      return 'no time left';
  }
}

export const workerMachine = setup({
  types: {
    context: {} as WorkerContext,
    events: {} as WorkerEvent,
    input: {} as WorkerInput,
  },
  delays: {
    attemptTimeout: ({ context }) => context.timeoutMs ?? NO_TIMEOUT,
    retryBackoff: ({ context }) => context.retryDelayMs,
  },
  guards: {
    isDecision: ({ event }, params: { decision: TrustDecision }) =>
      event.type === 'trust.decided' && event.decision === params.decision,
    exitedClean: ({ event }) => event.type === 'process.exited' && event.code === 0,
    hasGates: ({ context }) => context.hasGates,
    canRetry: ({ context }, params: { kind: FailureKind }) => context.attempt < context.recipes[params.kind].maxAttempts,
  },
  actions: {
    decideTrust: () => {},
    startProcess: () => {},
    killProcess: (_, _params: { pid: number | null }) => {},
    runGates: () => {},
    reportOutcome: (_, _params: { outcome: WorkerOutcome; escalation: Escalation | null }) => {},
    recordFailure: assign(({ context, event }, params: { kind: FailureKind }) => {
      const recipe = context.recipes[params.kind];
      return {
        failure: { kind: params.kind, detail: failureDetail(event) },
        exitCode: event.type === 'process.exited' ? event.code : context.exitCode,
        retryDelayMs: backoffDelayMs(recipe, context.attempt, context.seed),
        escalation: recipe.escalation,
      };
    }),
  },
}).createMachine({
  id: 'worker',
  context: ({ input }) => ({
    workerId: input.workerId,
    attempt: 0,
    timeoutMs: input.timeoutMs,
    hasGates: input.hasGates,
    recipes: input.recipes ?? DEFAULT_RECIPES,
    seed: input.seed,
    trustSource: null,
    process: null,
    exitCode: null,
    failure: null,
    retryDelayMs: 0,
    escalation: null,
  }),
  initial: 'spawned',
  on: {
    'worker.cancel': {
      target: '.cancelled',
      actions: [{ type: 'killProcess', params: ({ context }) => ({ pid: context.process?.pid ?? null }) }],
    },
  },
  states: {
    spawned: {
      entry: 'decideTrust',
      on: {
        'trust.decided': [
          {
            guard: { type: 'isDecision', params: { decision: 'trust' } },
            target: 'trusted',
            actions: assign({ trustSource: ({ event }) => event.source }),
          },
          { guard: { type: 'isDecision', params: { decision: 'ask' } }, target: 'awaitingTrust' },
          { target: 'denied', actions: { type: 'recordFailure', params: { kind: 'trust_denied' } } },
        ],
      },
    },
    awaitingTrust: {
      on: {
        'trust.approved': { target: 'trusted', actions: assign({ trustSource: ({ event }) => `${event.source}:${event.by}` }) },
        'trust.denied': { target: 'denied', actions: { type: 'recordFailure', params: { kind: 'trust_denied' } } },
      },
    },
    trusted: {
      entry: [assign({ attempt: ({ context }) => context.attempt + 1, process: null }), 'startProcess'],
      on: {
        'process.started': {
          target: 'running',
          actions: assign({
            process: ({ event }) => ({
              pid: event.pid,
              processStartTime: event.processStartTime,
              logFile: event.logFile,
              statusFile: event.statusFile,
            }),
          }),
        },
        'process.spawn_failed': [
          { guard: { type: 'canRetry', params: { kind: 'spawn_failed' } }, target: 'retrying', actions: { type: 'recordFailure', params: { kind: 'spawn_failed' } } },
          { target: 'failed', actions: { type: 'recordFailure', params: { kind: 'spawn_failed' } } },
        ],
      },
    },
    running: {
      after: {
        attemptTimeout: [
          {
            guard: { type: 'canRetry', params: { kind: 'timeout' } },
            target: 'retrying',
            actions: [{ type: 'recordFailure', params: { kind: 'timeout' } }, { type: 'killProcess', params: ({ context }) => ({ pid: context.process?.pid ?? null }) }],
          },
          {
            target: 'failed',
            actions: [{ type: 'recordFailure', params: { kind: 'timeout' } }, { type: 'killProcess', params: ({ context }) => ({ pid: context.process?.pid ?? null }) }],
          },
        ],
      },
      on: {
        'process.exited': [
          { guard: and(['exitedClean', 'hasGates']), target: 'verifying', actions: assign({ exitCode: 0 }) },
          { guard: 'exitedClean', target: 'done', actions: assign({ exitCode: 0 }) },
          { guard: { type: 'canRetry', params: { kind: 'exit_nonzero' } }, target: 'retrying', actions: { type: 'recordFailure', params: { kind: 'exit_nonzero' } } },
          { target: 'failed', actions: { type: 'recordFailure', params: { kind: 'exit_nonzero' } } },
        ],
        'worker.lost': [
          { guard: { type: 'canRetry', params: { kind: 'worker_lost' } }, target: 'retrying', actions: { type: 'recordFailure', params: { kind: 'worker_lost' } } },
          { target: 'failed', actions: { type: 'recordFailure', params: { kind: 'worker_lost' } } },
        ],
      },
    },
    verifying: {
      entry: 'runGates',
      on: {
        'gates.passed': { target: 'done' },
        'gates.failed': [
          { guard: { type: 'canRetry', params: { kind: 'gate_red' } }, target: 'retrying', actions: { type: 'recordFailure', params: { kind: 'gate_red' } } },
          { target: 'failed', actions: { type: 'recordFailure', params: { kind: 'gate_red' } } },
        ],
      },
    },
    retrying: {
      after: { retryBackoff: { target: 'trusted' } },
    },
    done: { type: 'final', entry: { type: 'reportOutcome', params: { outcome: 'done', escalation: null } } },
    failed: {
      type: 'final',
      entry: { type: 'reportOutcome', params: ({ context }) => ({ outcome: 'failed' as const, escalation: context.escalation }) },
    },
    denied: {
      type: 'final',
      entry: { type: 'reportOutcome', params: ({ context }) => ({ outcome: 'denied' as const, escalation: context.escalation }) },
    },
    cancelled: { type: 'final', entry: { type: 'reportOutcome', params: { outcome: 'cancelled', escalation: null } } },
  },
});
