import type { PGlite } from '@electric-sql/pglite';

/** Extended-protocol messages (Parse, Bind, Describe, Execute, Close, Flush): a statement ends at Sync. */
const MID_STATEMENT = new Set(['P', 'B', 'D', 'E', 'C', 'H'].map((letter) => letter.charCodeAt(0)));
const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]);

/**
 * Serialises socket clients of one PGlite session, in place of pglite-socket's own query queue.
 *
 * PGlite is one Postgres session. pglite-socket 0.1.6 queues each protocol message under PGlite's
 * query mutex one at a time and keeps other clients out while one is inside a transaction, but the
 * owner's in-process queries take the same mutex per query and land in the middle of a client's
 * transaction (measured: the owner's insert was rolled back by the client's ROLLBACK). This gate
 * takes the mutex when a client starts a statement and holds it until the statement is complete
 * (Sync or a simple Query) and no transaction is open, so nobody, in-process or socket, ever runs
 * inside another's statement or transaction.
 */
export class SessionGate {
  readonly #db: PGlite;
  readonly #onError: (error: unknown) => void;
  /** The handler holding the mutex, and the function that lets it go. */
  #holder: { handlerId: number; release: () => void } | undefined;
  /** Each client's messages run one after another, in the order they arrived. */
  readonly #tails = new Map<number, Promise<unknown>>();
  readonly #gone = new Set<number>();

  constructor(db: PGlite, onError: (error: unknown) => void) {
    this.#db = db;
    this.#onError = onError;
  }

  /** Called by PGLiteSocketHandler for every frontend message. */
  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    const previous = this.#tails.get(handlerId) ?? Promise.resolve();
    const result = previous.then(() => this.#run(handlerId, message, onData));
    // The chain only orders messages; each message's failure reaches its own caller through `result`.
    this.#tails.set(
      handlerId,
      result.catch(() => undefined),
    );
    return result;
  }

  getQueueLength(): number {
    return this.#tails.size;
  }

  clearQueueForHandler(handlerId: number): void {
    this.#gone.add(handlerId);
  }

  /** The client went away: finish its statement, roll back its transaction, let the others in. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    try {
      await this.#tails.get(handlerId);
      if (this.#holder?.handlerId === handlerId) {
        await this.#db.execProtocolRawStream(SYNC, { onRawData: () => undefined });
        if (this.#db.isInTransaction()) await this.#db.execProtocolRawStream(simpleQuery('ROLLBACK'), { onRawData: () => undefined });
        this.#release(handlerId);
      }
    } catch (error) {
      // PGLiteSocketHandler does not await this: report, and never leave a rejection unhandled.
      this.#onError(error);
      this.#release(handlerId);
    } finally {
      this.#tails.delete(handlerId);
      this.#gone.delete(handlerId);
    }
  }

  async #run(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    if (this.#gone.has(handlerId)) throw new Error('client disconnected');
    if (this.#holder?.handlerId !== handlerId) await this.#acquire(handlerId);
    if (this.#gone.has(handlerId)) {
      this.#release(handlerId);
      throw new Error('client disconnected');
    }
    let bytes = 0;
    try {
      await this.#db.execProtocolRawStream(message, {
        onRawData: (data) => {
          bytes += data.length;
          onData(data);
        },
      });
    } catch (error) {
      this.#release(handlerId);
      throw error;
    }
    const type = message[0];
    const midStatement = type !== undefined && MID_STATEMENT.has(type);
    if (!midStatement && !this.#db.isInTransaction()) this.#release(handlerId);
    return bytes;
  }

  /** Waits for PGlite's query mutex (shared with in-process queries) and keeps it until released. */
  #acquire(handlerId: number): Promise<void> {
    return new Promise((acquired) => {
      void this.#db.runExclusive(
        () =>
          new Promise<void>((release) => {
            this.#holder = { handlerId, release };
            acquired();
          }),
      );
    });
  }

  #release(handlerId: number): void {
    const holder = this.#holder;
    if (holder?.handlerId !== handlerId) return;
    this.#holder = undefined;
    holder.release();
  }
}

function simpleQuery(text: string): Uint8Array {
  const body = Buffer.from(`${text}\0`, 'utf8');
  const message = Buffer.alloc(5 + body.length);
  message.write('Q', 0, 'ascii');
  message.writeInt32BE(4 + body.length, 1);
  body.copy(message, 5);
  return message;
}
