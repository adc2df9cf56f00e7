/**
 * One engine owns a run at a time. Its lease is a row in the store with a heartbeat; a second engine
 * is refused while the owner is alive, and takes over at once when the owner is a dead process on
 * this machine (SIGKILL, power loss) or when its lease has expired (another machine that went quiet).
 */
import { hostname } from 'node:os';
import type { EventStore, LeaseHolder } from '../store/event-store.js';
import { isSameProcessAlive, processStartTime } from '../os/process-identity.js';
import { OverseerError } from '../errors.js';

export const LEASE_TTL_MS = 15_000;

export class LeaseHeldError extends OverseerError {
  readonly code = 'LEASE_HELD' as const;
}

/** `host:pid:start-time`: enough to tell on this machine whether the owner is still the same process. */
export function engineOwnerId(): string {
  return `${hostname()}:${String(process.pid)}:${processStartTime(process.pid) ?? ''}`;
}

function ownerIsDeadHere(holder: LeaseHolder): boolean {
  const [host, pid, start] = holder.ownerId.split(':');
  if (host !== hostname() || pid === undefined) return false;
  return !isSameProcessAlive(Number(pid), start === undefined || start === '' ? null : start);
}

function describeHolder(runId: string, holder: LeaseHolder): string {
  const [host, pid] = holder.ownerId.split(':');
  const ago = holder.heartbeatAt === null ? 'no heartbeat' : `last heartbeat ${String(Math.max(0, Math.round((Date.now() - holder.heartbeatAt.getTime()) / 1000)))}s ago`;
  return `run ${runId} is owned by a live engine (pid ${pid ?? '?'} on ${host ?? '?'}, ${ago}); stop it or wait for it to finish`;
}

export class RunLease {
  private timer: NodeJS.Timeout | null = null;

  private constructor(
    private readonly store: EventStore,
    readonly runId: string,
    readonly ownerId: string,
    readonly epoch: bigint,
  ) {}

  static async take(store: EventStore, runId: string): Promise<RunLease> {
    const ownerId = engineOwnerId();
    const result = await store.acquireLease(runId, ownerId, LEASE_TTL_MS, ownerIsDeadHere);
    if (result === undefined) throw new LeaseHeldError(`no run ${runId}`);
    if (!result.acquired) throw new LeaseHeldError(describeHolder(runId, result.holder));
    return new RunLease(store, runId, ownerId, result.epoch);
  }

  /** Renews a third of the way through each period; `onLost` when another engine took the run. */
  keepAlive(onLost: (error: Error) => void): void {
    this.timer = setInterval(() => {
      this.store.renewLease(this.runId, this.ownerId, this.epoch, LEASE_TTL_MS).then(
        (ok) => {
          if (!ok) onLost(new LeaseHeldError(`lost the lease of run ${this.runId} to another engine`));
        },
        (error: unknown) => onLost(error instanceof Error ? error : new Error(String(error))),
      );
    }, LEASE_TTL_MS / 3);
    this.timer.unref();
  }

  async release(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.store.releaseLease(this.runId, this.ownerId, this.epoch);
  }
}
