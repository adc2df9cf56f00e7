import { AsyncLocalStorage } from 'node:async_hooks';
import type { Checkpoint, StoredEvent, SubscribeOptions, Subscription } from './event-store.js';

/** What a subscription needs from its store: the safe global read, and wake-ups after commits. */
export interface SubscriptionSource {
  readAfter(after: Checkpoint, limit: number, streamId: string | undefined): Promise<StoredEvent[]>;
  /** Calls `wake` whenever events (of the subscription's stream, when it has one) may have been committed; returns the unregister function. */
  onWake(wake: () => void, streamId: string | undefined): () => void;
}

const BATCH_SIZE = 500;

/** Lets `close()` called from inside a handler return without waiting for that same handler. */
const runningHandler = new AsyncLocalStorage<PollingSubscription>();

/**
 * Catch-up then live delivery by (tx_id, position). A notification is only a hint that wakes the
 * loop early; the read decides what is delivered, so lost or duplicated notifications are harmless,
 * and the poll covers events held back behind a transaction that was still open at the last read.
 * A handler that throws stops the subscription (its checkpoint stays before the failed batch, so
 * nothing is skipped); a failed read is reported and retried after `pollMs`.
 */
export class PollingSubscription implements Subscription {
  readonly #source: SubscriptionSource;
  readonly #onEvents: (events: StoredEvent[]) => Promise<void> | void;
  readonly #streamId: string | undefined;
  readonly #pollMs: number;
  readonly #coalesceMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #unregister: () => void;
  readonly #done: Promise<void>;
  #checkpoint: Checkpoint;
  #stopped = false;
  #wakeRequested = false;
  #interruptSleep: (() => void) | undefined;
  #stopPause: (() => void) | undefined;
  #lastReadAt = Number.NEGATIVE_INFINITY;

  constructor(
    source: SubscriptionSource,
    after: Checkpoint,
    onEvents: (events: StoredEvent[]) => Promise<void> | void,
    options: SubscribeOptions,
    defaultPollMs: number,
  ) {
    this.#source = source;
    this.#checkpoint = after;
    this.#onEvents = onEvents;
    this.#streamId = options.streamId;
    this.#pollMs = options.pollMs ?? defaultPollMs;
    this.#coalesceMs = options.coalesceMs ?? 0;
    this.#onError = options.onError ?? ((error) => process.emitWarning(`overseer subscription: ${String(error)}`));
    this.#unregister = source.onWake(() => this.#wake(), this.#streamId);
    this.#done = this.#run();
  }

  close(): Promise<void> {
    this.#stopped = true;
    this.#stopPause?.();
    this.#wake();
    if (runningHandler.getStore() === this) return Promise.resolve();
    return this.#done;
  }

  #wake(): void {
    this.#wakeRequested = true;
    this.#interruptSleep?.();
  }

  async #run(): Promise<void> {
    try {
      while (!this.#stopped) {
        const early = this.#lastReadAt + this.#coalesceMs - performance.now();
        if (early > 0) await this.#pause(early);
        this.#lastReadAt = performance.now();
        // Cleared before the read: a commit notified while the read runs wakes the next sleep at once.
        this.#wakeRequested = false;
        let batch: StoredEvent[];
        try {
          batch = await this.#source.readAfter(this.#checkpoint, BATCH_SIZE, this.#streamId);
        } catch (error) {
          if (this.#stopped) break;
          this.#onError(error);
          await this.#sleep();
          continue;
        }
        const last = batch.at(-1);
        if (this.#stopped) break;
        if (last === undefined) {
          await this.#sleep();
          continue;
        }
        try {
          await runningHandler.run(this, () => this.#onEvents(batch));
        } catch (error) {
          this.#onError(error);
          break;
        }
        this.#checkpoint = { txId: last.txId, position: last.position };
        if (batch.length < BATCH_SIZE) await this.#sleep();
      }
    } finally {
      this.#stopped = true;
      this.#unregister();
    }
  }

  /** Waits `ms` whatever wakes it, unless closed: wake-ups meanwhile are served by the next read. */
  #pause(ms: number): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#stopPause = undefined;
        resolve();
      }, ms);
      this.#stopPause = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  #sleep(): Promise<void> {
    if (this.#wakeRequested || this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#interruptSleep = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.#pollMs);
      this.#interruptSleep = done;
    });
  }
}

/**
 * Fans one notification source out to every subscription of a store. The source (a LISTEN
 * connection) is started on the first subscription and stopped on close. A notification names the
 * runs it concerns: a subscription to one run wakes only for that run's events (an engine holding
 * many runs does not read for all of them on every append); an empty one wakes everybody.
 */
export class WakeupHub {
  readonly #listeners = new Map<() => void, string | undefined>();
  readonly #start: (wake: (payload: string) => void) => Promise<() => Promise<void>>;
  #stop: Promise<(() => Promise<void>) | undefined> | undefined;

  constructor(start: (wake: (payload: string) => void) => Promise<() => Promise<void>>) {
    this.#start = start;
  }

  add(listener: () => void, onError: (error: unknown) => void, streamId?: string): () => void {
    this.#listeners.set(listener, streamId);
    this.#stop ??= this.#start((payload) => this.wake(payload)).catch((error: unknown) => {
      // Subscriptions still poll; they only lose the early wake-up.
      onError(error);
      this.#stop = undefined;
      return undefined;
    });
    return () => this.#listeners.delete(listener);
  }

  /** `payload`: the run ids a commit wrote, comma-separated; empty (or left out) wakes every listener. */
  wake(payload = ''): void {
    const runs = payload === '' ? null : new Set(payload.split(','));
    for (const [listener, streamId] of this.#listeners) {
      if (runs === null || streamId === undefined || runs.has(streamId)) listener();
    }
  }

  async close(): Promise<void> {
    const stop = await this.#stop;
    this.#stop = undefined;
    await stop?.();
  }
}
