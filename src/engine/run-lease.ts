/**
 * One engine owns a run at a time. Its lease is a row in the store with a heartbeat; a second engine
 * is refused while the owner is alive, and takes over at once when the owner is a dead process on
 * this machine (SIGKILL, power loss) or when its lease has expired (another machine that went quiet).
 */
import type { EventStore, LeaseHolder } from '../store/event-store.js';
import { hostId } from '../os/host-id.js';
import { isSameProcessAlive, processStartTime } from '../os/process-identity.js';
import { OverseerError } from '../errors.js';

export const LEASE_TTL_MS = 15_000;

export class LeaseHeldError extends OverseerError {
  readonly code = 'LEASE_HELD' as const;
}

/** `host:pid:start-time`: enough to tell on this machine whether the owner is still the same process. */
export function engineOwnerId(): string {
  return `${hostId()}:${String(process.pid)}:${processStartTime(process.pid) ?? ''}`;
}

/** The host part of an owner id (a host id may itself hold ':'): the fields after it are pid and start time. */
function ownerHost(ownerId: string): string {
  return ownerId.split(':').slice(0, -2).join(':');
}

function ownerIsDeadHere(holder: LeaseHolder): boolean {
  const [pid, start] = holder.ownerId.split(':').slice(-2);
  if (ownerHost(holder.ownerId) !== hostId() || pid === undefined) return false;
  return !isSameProcessAlive(Number(pid), start === undefined || start === '' ? null : start);
}

function describeHolder(runId: string, holder: LeaseHolder): string {
  const host = ownerHost(holder.ownerId);
  const [pid] = holder.ownerId.split(':').slice(-2);
  const ago = holder.heartbeatAt === null ? 'no heartbeat' : `last heartbeat ${String(Math.max(0, Math.round((Date.now() - holder.heartbeatAt.getTime()) / 1000)))}s ago`;
  return `run ${runId} is owned by a live engine (pid ${pid ?? '?'} on ${host ?? '?'}, ${ago}); stop it or wait for it to finish`;
}

export class RunLease {
  private timer: NodeJS.Timeout | null = null;
  /**
   * Until when, by this process's monotonic clock, the lease is surely still ours: the time the last
   * successful renewal was SENT plus the TTL (the database counted from later). Past it, another
   * engine may hold the run, so this one starts nothing more (see `isValid`).
   */
  private validUntil: number;

  private constructor(
    private readonly store: EventStore,
    readonly runId: string,
    readonly ownerId: string,
    readonly epoch: bigint,
    readonly ttlMs: number,
    takenAt: number,
  ) {
    this.validUntil = takenAt + ttlMs;
  }

  static async take(store: EventStore, runId: string, ttlMs = LEASE_TTL_MS): Promise<RunLease> {
    const ownerId = engineOwnerId();
    const takenAt = performance.now();
    const result = await store.acquireLease(runId, ownerId, ttlMs, ownerIsDeadHere);
    if (result === undefined) throw new LeaseHeldError(`no run ${runId}`);
    if (!result.acquired) throw new LeaseHeldError(describeHolder(runId, result.holder));
    return new RunLease(store, runId, ownerId, result.epoch, ttlMs, takenAt);
  }

  /** The lease of a run `overseer worker` claimed (store.claimRun, asked at `claimedAt` by performance.now()). */
  static claimed(store: EventStore, claim: { runId: string; epoch: bigint }, ownerId: string, ttlMs: number, claimedAt: number): RunLease {
    return new RunLease(store, claim.runId, ownerId, claim.epoch, ttlMs, claimedAt);
  }

  /**
   * False once the lease may have passed to another engine: an engine paused (SIGSTOP, a long GC, a
   * suspended VM) past its lease must not start a process or a gate before it has heard that it
   * lost the run. Its appends are refused anyway (fencing); this keeps it from acting before one.
   */
  isValid(): boolean {
    return performance.now() < this.validUntil;
  }

  /** Renews a third of the way through each period; `onLost` when another engine took the run. */
  keepAlive(onLost: (error: Error) => void): void {
    const renew = (): void => {
      const sentAt = performance.now();
      this.store.renewLease(this.runId, this.ownerId, this.epoch, this.ttlMs).then(
        (ok) => {
          if (!ok) onLost(new LeaseHeldError(`lost the lease of run ${this.runId} to another engine`));
          else this.validUntil = Math.max(this.validUntil, sentAt + this.ttlMs);
        },
        (error: unknown) => onLost(error instanceof Error ? error : new Error(String(error))),
      );
    };
    this.timer = setInterval(renew, this.ttlMs / 3);
    this.timer.unref();
    // Rebuilding a long run (or a busy machine) may have used up a good part of a short lease already.
    if (this.validUntil - performance.now() < (this.ttlMs * 2) / 3) renew();
  }

  async release(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.store.releaseLease(this.runId, this.ownerId, this.epoch);
  }
}
