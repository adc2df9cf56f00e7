/**
 * Live updates of one run as server-sent events, fed by the store's subscription filtered to the
 * run's stream. The subscription starts at the beginning of the log: its catch-up is the read that is
 * safe against writers committing out of order, and it gives the whole stream, which the fold needs.
 * Events the page already has (stream versions up to `since`, or the browser's Last-Event-ID after a
 * reconnect) are not sent again. Each `update` carries the new events and the fold after them; once
 * the run has ended, `end` is sent and the stream closes.
 */
import type { SSEStreamingApi } from 'hono/streaming';
import { START, type StoredEvent } from '../store/event-store.js';
import { endsRun } from '../fold/run-end.js';
import { eventView, foldView } from './run-view.js';
import { isGoneServer } from '../store/store-errors.js';
import type { ViewerStore } from './viewer-store.js';

/** Events arriving within this window go out as one update (one fold). */
const COALESCE_MS = 50;
const KEEPALIVE_MS = 15_000;
const RECONNECT_MS = 1000;

export interface RunStreamOptions {
  store: ViewerStore;
  runId: string;
  since: number;
  onWarning: (message: string) => void;
  /** Registers a way to end this stream when the viewer stops; returns the unregister function. */
  track: (stop: () => void) => () => void;
}

function hasEnded(events: readonly StoredEvent[]): boolean {
  return events.some(endsRun);
}

export async function streamRun(stream: SSEStreamingApi, options: RunStreamOptions): Promise<void> {
  const { runId, onWarning } = options;
  const events: StoredEvent[] = [];
  let sent = options.since;
  let stopped = false;
  let stop!: () => void;
  const done = new Promise<void>((resolve) => (stop = resolve));
  const finish = (): void => {
    stopped = true;
    stop();
  };

  // Writes are chained so that updates go out whole and in order.
  let writing = Promise.resolve();
  let flushTimer: NodeJS.Timeout | undefined;
  const write = (send: () => Promise<void>): void => {
    writing = writing.then(send).catch((error: unknown) => {
      // The browser went away mid-write: nothing to tell it any more.
      if (!stream.aborted && !stream.closed) onWarning(`live update of run ${runId}: ${String(error)}`);
      finish();
    });
  };
  const flush = (): void => {
    flushTimer = undefined;
    if (stopped) return;
    const fresh = events.filter((e) => e.version > sent);
    if (fresh.length > 0) {
      const view = foldView(events);
      sent = view.version;
      const data = JSON.stringify({ events: fresh.map(eventView), ...view });
      write(() => stream.writeSSE({ event: 'update', id: String(sent), data, retry: RECONNECT_MS }));
    }
    if (hasEnded(events)) {
      write(() => stream.writeSSE({ event: 'end', data: '{}' }));
      write(() => {
        finish();
        return Promise.resolve();
      });
    }
  };

  const store = await options.store.get();
  const subscription = store.subscribe(
    START,
    (batch) => {
      events.push(...batch);
      flushTimer ??= setTimeout(flush, COALESCE_MS);
    },
    {
      streamId: runId,
      onError: (error) => {
        if (!isGoneServer(error)) return onWarning(`live updates of run ${runId}: ${String(error)}`);
        // The engine serving the store exited: the page reconnects (Last-Event-ID) to a store opened again.
        options.store.discard(store);
        finish();
      },
    },
  );
  const keepalive = setInterval(() => write(() => stream.writeSSE({ event: 'ping', data: '' })), KEEPALIVE_MS);
  stream.onAbort(finish);
  const untrack = options.track(finish);
  write(() => stream.writeSSE({ event: 'ready', data: JSON.stringify({ since: sent }), retry: RECONNECT_MS }));
  try {
    await done;
  } finally {
    untrack();
    clearInterval(keepalive);
    clearTimeout(flushTimer);
    await subscription.close();
    await writing;
  }
}
