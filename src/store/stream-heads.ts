/** A stream's last event as far as this process knows: enough to chain the next append. */
export interface StreamHead {
  version: number;
  hash: string;
}

/**
 * The last (version, hash) this process wrote or read per stream, so the common append is one
 * INSERT. It may be stale, never wrong: an event's version and hash never change, so a cached head
 * whose version equals the caller's expected version is exactly the row the new event must follow;
 * if another writer got there first, the unique (stream_id, version) constraint says so.
 */
export class StreamHeads {
  readonly #heads = new Map<string, StreamHead>();
  readonly #capacity: number;

  constructor(capacity = 10_000) {
    this.#capacity = capacity;
  }

  get(streamId: string): StreamHead | undefined {
    return this.#heads.get(streamId);
  }

  set(streamId: string, head: StreamHead): void {
    const known = this.#heads.get(streamId);
    if (known !== undefined && known.version > head.version) return;
    // Re-inserting keeps the Map's order least-recently-written first, so eviction drops old runs.
    this.#heads.delete(streamId);
    this.#heads.set(streamId, head);
    if (this.#heads.size > this.#capacity) {
      const oldest = this.#heads.keys().next();
      if (oldest.done !== true) this.#heads.delete(oldest.value);
    }
  }

  forget(streamId: string): void {
    this.#heads.delete(streamId);
  }
}
