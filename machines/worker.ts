/**
 * worker@2: one worker per task packet, after Claw Code's worker boot:
 * spawned → awaitingTrust → trusted → running → verifying → (merging →) done | failed, with retrying
 * and denied. Pure: it declares effects by name (startProcess, killProcess, runGates, mergeLane,
 * decideTrust, reportOutcome) and the runtime performs them; time reaches it only as timer events the
 * runtime fires from the log.
 *
 * What worker@2 adds to worker@1 (machines/v1/worker.ts), for agent lanes (docs/agents.md):
 * - a lane's worker merges its branch after its gates (`merging`, the effect `mergeLane`), and a
 *   merge that conflicts is failure kind `merge_conflict`; a person who resolved it and retries
 *   goes back to merging, not to a new attempt of the agent;
 * - `budget.exceeded` while running (the process is killed) or before it starts (the run is over
 *   its budget) is failure kind `budget_exceeded`.
 */
import { assign, setup } from 'xstate';
import type { TrustDecision, WorkerEvent, WorkerOutcome, WorkerProcess } from './events.js';
import { backoffDelayMs, DEFAULT_RECIPES, type Escalation, type FailureKind, type RecoveryRecipes } from './recovery.js';
import { WAITS_FOR_PERSON } from './state-tags.js';

export interface WorkerInput {
  workerId: string;
  /** Per-attempt time limit; null for none. */
  timeoutMs: number | null;
  hasGates: boolean;
  /** An agent lane: its work is merged into the target after the gates (absent: worker@1's inputs). */
  lane?: boolean | undefined;
  /** Runs recorded before a failure kind existed carry no recipe for it: the default applies. */
  recipes?: Partial<RecoveryRecipes> | undefined;
  /** Seeds the back-off jitter so the schedule is the same live and on replay. */
  seed: number;
}

export interface WorkerContext {
  workerId: string;
  attempt: number;
  timeoutMs: number | null;
  hasGates: boolean;
  lane: boolean;
  recipes: RecoveryRecipes;
  seed: number;
  trustSource: string | null;
  process: WorkerProcess | null;
  exitCode: number | null;
  failure: { kind: FailureKind; detail: string } | null;
  retryDelayMs: number;
  escalation: Escalation | null;
  /** Attempts a person granted beyond the recipe's (each `human.retry` adds one). */
  grantedAttempts: number;
  /** Quality gates green in this attempt: a resumed verification does not run them again. */
  gatesPassed: string[];
}

const NO_TIMEOUT = Number.POSITIVE_INFINITY;

/**
 * Where a failure of `kind` leads: another attempt while the recipe allows one, a person when the
 * recipe escalates to ask_human, else failed. `extra` actions run on every branch (e.g. killProcess).
 */
function onFailure<const A extends readonly unknown[]>(kind: FailureKind, extra: A) {
  const record = { type: 'recordFailure', params: { kind } } as const;
  return [
    { guard: { type: 'canRetry', params: { kind } }, target: 'retrying', actions: [record, ...extra] },
    { guard: { type: 'asksHuman', params: { kind } }, target: 'escalated', actions: [record, ...extra] },
    { target: 'failed', actions: [record, ...extra] },
  ] as const;
}

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
    case 'service.failed':
      return `${event.method}: ${event.detail}`;
    case 'budget.exceeded':
      return `${event.scope} budget of ${event.measure} passed: ${String(event.used)} of ${String(event.limit)}`;
    case 'lane.conflicted':
      return event.detail;
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
    exitedCleanWithGates: ({ context, event }) => event.type === 'process.exited' && event.code === 0 && context.hasGates,
    exitedCleanLane: ({ context, event }) => event.type === 'process.exited' && event.code === 0 && context.lane,
    isLane: ({ context }) => context.lane,
    failedAtMerge: ({ context }) => context.failure?.kind === 'merge_conflict',
    canRetry: ({ context }, params: { kind: FailureKind }) => context.attempt < context.recipes[params.kind].maxAttempts + context.grantedAttempts,
    asksHuman: ({ context }, params: { kind: FailureKind }) => context.recipes[params.kind].escalation === 'ask_human',
  },
  actions: {
    decideTrust: () => {},
    startProcess: () => {},
    killProcess: (_, _params: { pid: number | null }) => {},
    runGates: () => {},
    mergeLane: () => {},
    reportOutcome: (_, _params: { outcome: WorkerOutcome; escalation: Escalation | null }) => {},
    /** Records a recovery step as an event of its own (a record, not an input: see RECORD_EVENTS); type null: nothing to say. */
    announce: (_, _params: { type: string | null } & Record<string, unknown>) => {},
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
    lane: input.lane ?? false,
    recipes: { ...DEFAULT_RECIPES, ...input.recipes },
    seed: input.seed,
    trustSource: null,
    process: null,
    exitCode: null,
    failure: null,
    retryDelayMs: 0,
    escalation: null,
    grantedAttempts: 0,
    gatesPassed: [],
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
      tags: [WAITS_FOR_PERSON],
      on: {
        'trust.approved': { target: 'trusted', actions: assign({ trustSource: ({ event }) => `${event.source}:${event.by}` }) },
        'trust.denied': { target: 'denied', actions: { type: 'recordFailure', params: { kind: 'trust_denied' } } },
      },
    },
    trusted: {
      entry: [assign({ attempt: ({ context }) => context.attempt + 1, process: null, gatesPassed: [] }), 'startProcess'],
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
        'process.spawn_failed': onFailure('spawn_failed', []),
        'service.failed': onFailure('service_error', []),
        // The run is over its budget: the lane does not start.
        'budget.exceeded': onFailure('budget_exceeded', []),
      },
    },
    running: {
      after: {
        attemptTimeout: onFailure('timeout', [{ type: 'killProcess', params: ({ context }: { context: WorkerContext }) => ({ pid: context.process?.pid ?? null }) }]),
      },
      on: {
        'process.exited': [
          { guard: 'exitedCleanWithGates', target: 'verifying', actions: assign({ exitCode: 0 }) },
          { guard: 'exitedCleanLane', target: 'merging', actions: assign({ exitCode: 0 }) },
          { guard: 'exitedClean', target: 'done', actions: assign({ exitCode: 0 }) },
          ...onFailure('exit_nonzero', []),
        ],
        'worker.lost': onFailure('worker_lost', []),
        'service.failed': onFailure('service_error', []),
        'budget.exceeded': onFailure('budget_exceeded', [{ type: 'killProcess', params: ({ context }: { context: WorkerContext }) => ({ pid: context.process?.pid ?? null }) }]),
      },
    },
    verifying: {
      entry: 'runGates',
      on: {
        'gate.passed': { actions: assign({ gatesPassed: ({ context, event }) => [...context.gatesPassed, event.gate] }) },
        'gates.passed': [{ guard: 'isLane', target: 'merging' }, { target: 'done' }],
        'gates.failed': onFailure('gate_red', []),
      },
    },
    merging: {
      entry: 'mergeLane',
      on: {
        'lane.merged': { target: 'done' },
        'lane.conflicted': onFailure('merge_conflict', []),
      },
    },
    retrying: {
      entry: {
        type: 'announce',
        params: ({ context }) => ({ type: 'recovery.attempted', kind: context.failure?.kind ?? 'exit_nonzero', attempt: context.attempt + 1, delayMs: context.retryDelayMs }),
      },
      after: { retryBackoff: { target: 'trusted' } },
    },
    escalated: {
      tags: [WAITS_FOR_PERSON],
      entry: {
        type: 'announce',
        params: ({ context }) => ({ type: 'escalated', kind: context.failure?.kind ?? 'exit_nonzero', escalation: 'ask_human' }),
      },
      on: {
        'human.retry': [
          // A person resolved the conflict in the lane's worktree: merge again, the agent's work stands.
          { guard: 'failedAtMerge', target: 'merging', actions: assign({ grantedAttempts: ({ context }) => context.grantedAttempts + 1 }) },
          { target: 'trusted', actions: assign({ grantedAttempts: ({ context }) => context.grantedAttempts + 1 }) },
        ],
        'human.abandon': { target: 'failed', actions: assign({ escalation: 'skip' }) },
      },
    },
    done: {
      type: 'final',
      entry: [
        { type: 'announce', params: ({ context }) => (context.attempt > 1 ? { type: 'recovery.succeeded', attempts: context.attempt } : { type: null }) },
        { type: 'reportOutcome', params: { outcome: 'done', escalation: null } },
      ],
    },
    failed: {
      type: 'final',
      entry: [
        {
          type: 'announce',
          params: ({ context }) =>
            context.failure === null ? { type: null } : { type: 'recovery.exhausted', kind: context.failure.kind, attempts: context.attempt, escalation: context.escalation },
        },
        { type: 'reportOutcome', params: ({ context }) => ({ outcome: 'failed' as const, escalation: context.escalation }) },
      ],
    },
    denied: {
      type: 'final',
      entry: { type: 'reportOutcome', params: ({ context }) => ({ outcome: 'denied' as const, escalation: context.escalation }) },
    },
    cancelled: { type: 'final', entry: { type: 'reportOutcome', params: { outcome: 'cancelled', escalation: null } } },
  },
});
