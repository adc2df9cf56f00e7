/**
 * `overseer worker`: a long-running engine that claims submitted runs, and runs whose owner's lease
 * lapsed, and runs each whole (docs/scaling.md). It never polls busily: it sleeps until a run is
 * submitted or handed back (a notification), one of its runs ends, or the next lease held elsewhere
 * is due to expire (asked of the database, whose clock every engine shares).
 *
 * A run taken from it (its append fenced, or its lease lapsed while it was paused) is dropped at once:
 * it starts nothing more there and kills nothing, since those processes are the new owner's now.
 */
import type { EngineDeps, RunEngine } from './run-engine.js';
import { resumeRun } from './resume-run.js';
import { engineOwnerId, RunLease } from './run-lease.js';
import { deriveRunStatus } from '../fold/run-status.js';
import { OverseerError } from '../errors.js';

export interface ClaimerOptions {
  leaseMs: number;
  /** At most this many runs at a time; null: no limit. */
  maxRuns: number | null;
  /** One line for a person (stderr). */
  say: (line: string) => void;
}

/** Past a lease's expiry by this much before looking: the database compares with `<` its own now(). */
const EXPIRY_MARGIN_MS = 50;

export class RunClaimer {
  readonly ownerId = engineOwnerId();
  private readonly engines = new Map<string, RunEngine>();
  /** Runs this engine could not resume (a damaged log): left for a person, not claimed again. */
  private readonly unresumable = new Set<string>();
  private draining = false;
  private stopped = false;
  private wakeLoop: (() => void) | null = null;
  private woken = false;
  private stopListening: (() => Promise<void>) | null = null;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly deps: EngineDeps,
    private readonly options: ClaimerOptions,
  ) {}

  get runIds(): string[] {
    return [...this.engines.keys()];
  }

  /** Settles once the engine has stopped claiming and holds no run (after `drain` or `stop`), or failed. */
  get done(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  /** Starts listening and claiming; resolves once listening, before the first claim. */
  async start(): Promise<void> {
    this.stopListening = await this.deps.store.watchClaimable(() => this.wake());
    this.loop = this.claimLoop();
  }

  /**
   * SIGTERM: claims nothing more; runs waiting for a person are handed back now (another worker takes
   * them at once), the others are finished. Resolves once this engine holds no run.
   */
  async drain(): Promise<void> {
    this.draining = true;
    this.wake();
    await this.loop;
  }

  /** A second signal: every run is handed back now, its processes left running for the next owner. */
  async stop(): Promise<void> {
    this.draining = true;
    this.stopped = true;
    await Promise.all([...this.engines].map(([runId, engine]) => this.handBack(runId, engine)));
    this.wake();
    await this.loop;
  }

  private wake(): void {
    this.woken = true;
    this.wakeLoop?.();
  }

  private async claimLoop(): Promise<void> {
    while (!this.draining || this.engines.size > 0) {
      this.woken = false;
      // Here, not only in drain(): a claim in flight when the signal came lands after it.
      if (this.draining) await this.handBackWaiting();
      let nextLook: number | null = null;
      if (!this.draining) {
        await this.claimWhileRoom();
        nextLook = this.full() ? null : await this.deps.store.nextLeaseExpiry(this.ownerId);
      }
      if (this.stopped) break;
      await this.sleep(nextLook === null ? null : nextLook + EXPIRY_MARGIN_MS);
    }
    await this.stopListening?.();
    this.stopListening = null;
  }

  private full(): boolean {
    return this.options.maxRuns !== null && this.engines.size >= this.options.maxRuns;
  }

  private async claimWhileRoom(): Promise<void> {
    while (!this.draining && !this.full()) {
      const claimedAt = performance.now();
      const claim = await this.deps.store.claimRun(this.ownerId, this.options.leaseMs, [...this.unresumable]);
      if (claim === undefined) return;
      const lease = RunLease.claimed(this.deps.store, claim, this.ownerId, this.options.leaseMs, claimedAt);
      let engine: RunEngine;
      try {
        engine = await resumeRun(this.deps, claim.runId, { lease });
      } catch (error) {
        this.unresumable.add(claim.runId);
        this.options.say(`overseer worker: run ${claim.runId} cannot be resumed, left alone: ${describe(error)}`);
        continue;
      }
      this.options.say(`overseer worker: claimed run ${claim.runId} (epoch ${claim.epoch.toString()})`);
      this.engines.set(claim.runId, engine);
      engine.onCommit((_, state) => {
        if (this.draining && deriveRunStatus(state) === 'waiting') void this.handBack(claim.runId, engine);
      });
      engine.finished.then(
        (state) => this.ended(claim.runId, engine, deriveRunStatus(state)),
        (error: unknown) => this.ended(claim.runId, engine, takenOver(error) ? 'taken over by another engine: stopped working on it' : `stopped: ${describe(error)}`),
      );
    }
  }

  private async handBackWaiting(): Promise<void> {
    for (const [runId, engine] of [...this.engines]) {
      if (deriveRunStatus(engine.current) === 'waiting') await this.handBack(runId, engine);
    }
  }

  private async handBack(runId: string, engine: RunEngine): Promise<void> {
    if (this.engines.get(runId) !== engine) return;
    this.engines.delete(runId);
    // Releasing the lease tells the other workers at once; live worker processes are left to the next owner.
    await engine.stop();
    this.options.say(`overseer worker: handed back run ${runId}`);
    this.wake();
  }

  private ended(runId: string, engine: RunEngine, how: string): void {
    if (this.engines.get(runId) !== engine) return;
    this.engines.delete(runId);
    this.options.say(`overseer worker: run ${runId} ${how}`);
    void engine.stop().finally(() => this.wake());
  }

  /** Until woken, or `ms` (null: only when woken). */
  private sleep(ms: number | null): Promise<void> {
    if (this.woken) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        clearTimeout(timer);
        this.wakeLoop = null;
        resolve();
      };
      if (ms !== null) timer = setTimeout(done, ms);
      this.wakeLoop = done;
    });
  }
}

function takenOver(error: unknown): boolean {
  const code = error instanceof OverseerError ? (error as OverseerError<string>).code : null;
  return code === 'FENCED' || code === 'LEASE_HELD';
}

function describe(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
