/**
 * The store `serve` keeps for as long as it runs. When the store's server goes away under it (stopped
 * with `overseer store stop --force`, or killed), a use that fails for that reason drops the store and
 * runs once more on a store opened afresh, which starts the server again (docs/store.md).
 */
import type { EventStore } from '../store/event-store.js';
import { isGoneServer } from '../store/store-errors.js';

interface Opening {
  promise: Promise<EventStore>;
  /** Set once open: lets `discard` tell, synchronously, whether the failed store is still current. */
  store?: EventStore;
}

export class ViewerStore {
  readonly #open: () => Promise<EventStore>;
  readonly #onWarning: (message: string) => void;
  #current: Opening | undefined;
  #closed = false;

  constructor(open: () => Promise<EventStore>, onWarning: (message: string) => void) {
    this.#open = open;
    this.#onWarning = onWarning;
  }

  get(): Promise<EventStore> {
    if (this.#closed) return Promise.reject(new Error('the viewer is stopping'));
    if (this.#current === undefined) {
      const opening: Opening = { promise: this.#open() };
      opening.promise.then(
        (store) => (opening.store = store),
        // A failed open is not kept: the next request tries again.
        () => {
          if (this.#current === opening) this.#current = undefined;
        },
      );
      this.#current = opening;
    }
    return this.#current.promise;
  }

  /** Runs `fn` on the store; when its server went away, once more on a store opened again. */
  async use<T>(fn: (store: EventStore) => Promise<T>): Promise<T> {
    const store = await this.get();
    try {
      return await fn(store);
    } catch (error) {
      if (!isGoneServer(error)) throw error;
      this.discard(store);
      return fn(await this.get());
    }
  }

  /** Forgets `store` (its server went away) if it is still the current one; the next get() opens anew. */
  discard(store: EventStore): void {
    if (this.#current?.store !== store) return;
    this.#current = undefined;
    this.#onWarning('the store server went away; opening the store again');
    store.close().catch((error: unknown) => this.#onWarning(`closing the old store connection: ${String(error)}`));
  }

  async close(): Promise<void> {
    this.#closed = true;
    const current = this.#current;
    this.#current = undefined;
    if (current === undefined) return;
    const store = await current.promise.catch(() => undefined);
    await store?.close();
  }
}
