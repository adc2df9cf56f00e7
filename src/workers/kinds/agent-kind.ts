/**
 * The agent kind: a coding agent's CLI in its own lane — a git worktree on its own branch — run
 * detached like a shell worker (found again after an engine crash, never started twice), its output
 * captured to a file and read as it arrives into usage events, its budgets enforced while it runs,
 * its work committed, checked by the gates in the worktree, and merged into the target. docs/agents.md.
 */
import { writeFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { LaneUsage, WorkerProcess } from '../../../machines/events.js';
import { AGENT_OUTPUTS, type AgentOutput } from '../../planning/agent-plan.js';
import type { LaneBudget } from '../../planning/agent-repository.js';
import { readAgentLine, NO_PROGRESS, type AgentProgress } from '../agent-output.js';
import { alreadyMerged, advanceTarget, commitLeftovers, dirtyReason, ensureWorktree, headOf, laneCommit, rebaseOntoTarget, removeWorktree, targetCheckout, type LaneIds } from '../lane-git.js';
import { lanePlace } from '../lane-paths.js';
import { promptFile, promptText } from '../lane-prompt.js';
import { followOutput } from '../output-tail.js';
import { createShellDriver } from '../shell-driver.js';
import type { WorkerDriver, WorkerExit } from '../worker-driver.js';
import type { KindEnvironment, KindRun, KindSession, LaneView, Prepared, WorkerHost, WorkerKind, WorkerReport, WorkerView } from './worker-kind.js';

/** How often a merge waiting for a dirty checkout looks again. */
const DIRTY_POLL_MS = 1000;

function agentOf(packet: Record<string, unknown>): { command: string; output: AgentOutput } {
  const agent = packet['agent'] as { command?: unknown; output?: unknown } | undefined;
  const output = AGENT_OUTPUTS.find((format) => format === agent?.output) ?? 'text';
  return { command: typeof agent?.command === 'string' ? agent.command : '', output };
}

function laneIds(view: WorkerView): LaneIds | null {
  const settings = view.run.lanes;
  if (settings === undefined) return null;
  return { repo: settings.repo, runId: view.run.runId, packetId: view.workerId, target: settings.target, place: lanePlace(settings.repo, view.run.runId, view.workerId) };
}

const shellQuote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

/** The first budget passed, if any: the lane's own, then the run's. */
function overBudget(view: WorkerView): WorkerReport | null {
  const lane = view.packet['budget'] as LaneBudget | undefined;
  const run = view.run.lanes?.budget ?? undefined;
  const checks: Array<['lane' | 'run', LaneBudget | undefined, LaneUsage]> = [
    ['lane', lane, view.lane?.usage ?? { tokens: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 }],
    ['run', run, view.runUsage],
  ];
  const runTime = view.run.lanes?.budget?.timeMs;
  const runStartedAt = view.run.lanes?.startedAt;
  if (runTime !== undefined && runStartedAt !== undefined && Date.now() - runStartedAt > runTime) return exceeded('run', 'time', Date.now() - runStartedAt, runTime);
  for (const [scope, budget, usage] of checks) {
    if (budget?.tokens !== undefined && usage.tokens > budget.tokens) return exceeded(scope, 'tokens', usage.tokens, budget.tokens);
    if (budget?.usd !== undefined && usage.costUsd > budget.usd) return exceeded(scope, 'usd', usage.costUsd, budget.usd);
  }
  return null;
}

function exceeded(scope: 'lane' | 'run', measure: 'tokens' | 'usd' | 'time', used: number, limit: number): WorkerReport {
  return { type: 'budget.exceeded', payload: { scope, measure, used, limit } };
}

/** The attempt's progress as the log left it, so a resumed reading carries on from there. */
function progressFrom(lane: LaneView | null, attempt: number): { progress: AgentProgress; offset: number } {
  if (lane === null || lane.attempt !== attempt) return { progress: NO_PROGRESS, offset: 0 };
  const { usage, earlier } = lane;
  return {
    progress: { ...NO_PROGRESS, sessionId: lane.sessionId, turns: lane.turns, inputTokens: usage.inputTokens - earlier.inputTokens, outputTokens: usage.outputTokens - earlier.outputTokens, costUsd: usage.costUsd - earlier.costUsd },
    offset: lane.offset,
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

class AgentSession implements KindSession {
  /** Merges into a target one at a time: each moves the target another lane may be merging into. */
  private merges: Promise<void> = Promise.resolve();
  private readonly stops = new Set<() => void>();

  constructor(
    private readonly driver: WorkerDriver,
    private readonly environment: KindEnvironment,
  ) {}

  async prepare(worker: WorkerHost): Promise<Prepared> {
    const view = worker.view();
    const lane = laneIds(view);
    if (lane === null) return { ok: false, error: 'an agent packet needs a git repository: start the run inside one (or give the plan\'s repo:)' };
    try {
      const base = await ensureWorktree(lane);
      if (view.lane?.worktree == null) {
        await worker.report([{ type: 'lane.worktree_created', payload: { path: lane.place.worktree, branch: lane.place.branch, base, target: lane.target } }]);
      }
      const file = promptFile(view);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, promptText(view, lane, base));
      return { ok: true };
    } catch (error) {
      return { ok: false, error: `cannot make the lane's worktree: ${errorText(error)}` };
    }
  }

  async start(worker: WorkerHost): Promise<void> {
    const view = worker.view();
    // A run over its budget starts no more lanes.
    const over = overBudget(view);
    if (over !== null) return worker.report([over]);
    const { workerId, attempt } = view;
    const logDir = view.run.runDir;
    const earlier = await this.driver.find({ workerId, attempt, logDir });
    if (earlier !== null) {
      await worker.report([{ type: 'process.started', payload: { ...earlier, attempt } }]);
      worker.watchExit(this.follow(worker, earlier, this.driver.reattach(earlier)));
      return;
    }
    const file = promptFile(view);
    const agent = agentOf(view.packet);
    const started = await this.driver.start({
      runId: view.run.runId,
      workerId,
      attempt,
      command: agent.command.replaceAll('{prompt_file}', shellQuote(file)),
      cwd: view.cwd,
      env: { ...view.env, OVERSEER_PROMPT_FILE: file },
      packet: view.packet,
      objective: view.objective,
      logDir,
    });
    if (!started.ok) return worker.report([{ type: 'process.spawn_failed', payload: { error: started.error } }]);
    await writeFile(`${started.process.logFile}.started`, String(Date.now()));
    await worker.report([{ type: 'process.started', payload: { ...started.process, attempt } }]);
    worker.watchExit(this.follow(worker, started.process, started.exited));
  }

  reattach(worker: WorkerHost, process: WorkerProcess): Promise<WorkerExit | 'lost'> {
    return this.follow(worker, process, this.driver.reattach(process));
  }

  /**
   * Reads the agent's captured output from where the log says it stopped, reporting its progress and
   * checking its budgets, until the process has ended and every line of it is read.
   */
  private follow(worker: WorkerHost, process: WorkerProcess, exited: Promise<WorkerExit | 'lost'>): Promise<WorkerExit | 'lost'> {
    const view = worker.view();
    const attempt = view.attempt;
    const format = agentOf(view.packet).output;
    const resumed = progressFrom(view.lane, attempt);
    let progress = resumed.progress;
    let failed: Error | null = null;
    let budgetReported = false;
    /** A budget is reported once, and only while this attempt runs. */
    const mayReportBudget = (now: WorkerView): boolean => !budgetReported && now.state === 'running' && now.attempt === attempt;

    const checkBudget = async (): Promise<void> => {
      const now = worker.view();
      if (!mayReportBudget(now)) return;
      const over = overBudget(now);
      if (over === null) return;
      budgetReported = true;
      await worker.report([over]);
    };

    const tail = followOutput(
      process.logFile,
      resumed.offset,
      async (lines, offset) => {
        const before = progress;
        for (const line of lines) progress = readAgentLine(format, progress, line);
        const events: WorkerReport[] = [];
        if (progress.sessionId !== null && progress.sessionId !== before.sessionId) events.push({ type: 'agent.session', payload: { attempt, sessionId: progress.sessionId } });
        const { inputTokens, outputTokens, costUsd, turns } = progress;
        events.push({ type: 'agent.usage', payload: { attempt, tokens: inputTokens + outputTokens, inputTokens, outputTokens, costUsd, turns, offset } });
        if (progress.result !== null && progress.result !== before.result) events.push({ type: 'agent.result', payload: { attempt, ...progress.result } });
        await worker.report(events);
        await checkBudget();
      },
      { onError: (error) => (failed = asError(error)) },
    );

    const laneTime = (view.packet['budget'] as LaneBudget | undefined)?.timeMs;
    const runTime = view.run.lanes?.budget?.timeMs;
    const runStartedAt = view.run.lanes?.startedAt;
    // The lane's timer is armed once its start time is read; the exit waits for that.
    let laneTimerArmed: Promise<void> | null = null;
    const handles: NodeJS.Timeout[] = [];
    const stopTimer = (): void => handles.forEach((handle) => clearTimeout(handle));
    const arm = (scope: 'lane' | 'run', startedAt: number, limit: number): void => {
      const fire = (): void => {
        if (!mayReportBudget(worker.view())) return;
        budgetReported = true;
        void worker.report([exceeded(scope, 'time', Date.now() - startedAt, limit)]).catch((error: unknown) => (failed = asError(error)));
      };
      handles.push(setTimeout(fire, Math.max(0, startedAt + limit - Date.now())));
    };
    if (runTime !== undefined && runStartedAt !== undefined) arm('run', runStartedAt, runTime);
    if (laneTime !== undefined) laneTimerArmed = this.startedAt(process).then((startedAt) => arm('lane', startedAt, laneTime));
    const stop = (): void => {
      tail.stop();
      stopTimer();
    };
    this.stops.add(stop);

    return exited.then(async (exit) => {
      await laneTimerArmed;
      stopTimer();
      this.stops.delete(stop);
      await tail.drain();
      if (failed !== null) throw failed;
      return exit;
    });
  }

  /** When the attempt's process started (a file beside its log), for its time budget; now if unknown. */
  private async startedAt(process: WorkerProcess): Promise<number> {
    try {
      const value = Number(await readFile(`${process.logFile}.started`, 'utf8'));
      return Number.isFinite(value) && value > 0 ? value : Date.now();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return Date.now();
      throw error;
    }
  }

  /** A clean exit: what the agent left uncommitted is committed on the lane's branch. */
  async finish(worker: WorkerHost, exit: WorkerExit): Promise<WorkerExit> {
    const view = worker.view();
    const lane = laneIds(view);
    if (exit.code !== 0 || view.state !== 'running' || lane === null) return exit;
    const { commit, head } = await commitLeftovers(lane, view.objective.split('\n')[0] ?? view.workerId);
    if (commit !== null || view.lane?.head !== head) await worker.report([{ type: 'lane.committed', payload: { commit, head } }]);
    return exit;
  }

  merge(worker: WorkerHost): Promise<void> {
    const merged = this.merges.then(() => this.mergeNow(worker));
    this.merges = merged.catch(() => undefined);
    return merged;
  }

  private async mergeNow(worker: WorkerHost): Promise<void> {
    const view = worker.view();
    const lane = laneIds(view);
    if (view.state !== 'merging' || lane === null) return;
    const mode = (view.packet['merge'] as 'merge' | 'squash' | 'none' | undefined) ?? 'merge';
    if (mode === 'none') {
      await removeWorktree(lane, true);
      await worker.report([
        { type: 'lane.worktree_removed', payload: { path: lane.place.worktree, branchKept: true } },
        { type: 'lane.merged', payload: { mode, target: lane.target, commit: null } },
      ]);
      return;
    }
    const base = view.lane?.base ?? (await headOf(lane.repo, `refs/heads/${lane.target}`));
    for (let waitingFor: string | null = null; ; ) {
      if (worker.view().state !== 'merging') return;
      const done = await alreadyMerged(lane, base);
      if (done !== null) return this.finishMerge(worker, lane, mode, done);
      const targetHead = await headOf(lane.repo, `refs/heads/${lane.target}`);
      const rebased = await rebaseOntoTarget(lane, targetHead);
      if (!rebased.ok) return worker.report([{ type: 'lane.conflicted', payload: { target: lane.target, detail: rebased.detail, files: rebased.files } }]);
      if (rebased.rebased) await worker.report([{ type: 'lane.rebased', payload: { onto: targetHead, head: rebased.head } }]);
      const checkout = await targetCheckout(lane);
      let blocked = checkout === null ? null : await dirtyReason(checkout);
      if (blocked === null) {
        const commit = await laneCommit(lane, mode, targetHead, rebased.head, view.objective);
        const advanced = await advanceTarget(lane, checkout, targetHead, commit);
        if (advanced === 'done') return this.finishMerge(worker, lane, mode, commit);
        // 'moved': the target moved meanwhile (another run, a person): rebase onto its new head and try again.
        if (advanced === 'moved') continue;
        blocked = advanced.blocked;
      }
      // The user's checkout is never left dirty, nor merged into while it has changes of its own.
      if (blocked !== waitingFor) await worker.report([{ type: 'lane.merge_waiting', payload: { reason: blocked } }]);
      waitingFor = blocked;
      await new Promise((resolve) => this.environment.setTimer(() => resolve(undefined), DIRTY_POLL_MS));
    }
  }

  private async finishMerge(worker: WorkerHost, lane: LaneIds, mode: 'merge' | 'squash', commit: string): Promise<void> {
    // A merged branch is in the target's history; a squashed one is kept, as the detail of its commit.
    await removeWorktree(lane, mode === 'squash');
    await worker.report([
      { type: 'lane.worktree_removed', payload: { path: lane.place.worktree, branchKept: mode === 'squash' } },
      { type: 'lane.merged', payload: { mode, target: lane.target, commit } },
    ]);
  }

  async kill(worker: WorkerView, pid: number | null): Promise<void> {
    const recorded = worker.process;
    if (recorded !== null && recorded.pid === pid) await this.driver.kill(recorded);
  }

  stop(): Promise<void> {
    for (const stop of this.stops) stop();
    this.stops.clear();
    return Promise.resolve();
  }
}

/** The agent kind: it runs every packet with an `agent`. */
export function agentKind(driver: WorkerDriver = createShellDriver()): WorkerKind {
  return {
    name: 'agent',
    runs: (packet: Record<string, unknown>, _run: KindRun) => packet['agent'] !== undefined,
    trust: 'policy',
    open: (_run, environment) => new AgentSession(driver, environment),
  };
}
