/**
 * Live updates of one run as server-sent events, woken by the store's subscription filtered to the
 * run's stream, from the run's newest event on (the index has everything before). Each `update` is the
 * run at its newest event — status, counts by state, the workers waiting — never the events or the
 * lanes themselves: the page asks again for the rows it shows. Events the page already has (versions
 * up to `since`, or the browser's Last-Event-ID after a reconnect) give no update; once the run has
 * ended, `end` is sent and the stream closes.
 */
import type { SSEStreamingApi } from 'hono/streaming';
import { START } from '../store/event-store.js';
import { isFinalWorkflowState } from '../../machines/state-sets.js';
import { isGoneServer } from '../store/store-errors.js';
import type { RunIndexes } from './run-indexes.js';
import { foldView } from './run-view.js';
import type { ViewerStore } from './viewer-store.js';

/** Events arriving within this window go out as one update. */
const COALESCE_MS = 50;
const KEEPALIVE_MS = 15_000;
const RECONNECT_MS = 1000;

export interface RunStreamOptions {
  store: ViewerStore;
  indexes: RunIndexes;
  runId: string;
  since: number;
  onWarning: (message: string) => void;
  /** Registers a way to end this stream when the viewer stops; returns the unregister function. */
  track: (stop: () => void) => () => void;
}

export async function streamRun(stream: SSEStreamingApi, options: RunStreamOptions): Promise<void> {
  const { runId, onWarning, indexes } = options;
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
    write(async () => {
      const { index, packets } = await indexes.get(runId);
      if (index.version > sent) {
        sent = index.version;
        await stream.writeSSE({ event: 'update', id: String(sent), data: JSON.stringify(foldView(index.at(index.version), packets)), retry: RECONNECT_MS });
      }
      if (isFinalWorkflowState(index.workflowStateAt(index.version))) {
        await stream.writeSSE({ event: 'end', data: '{}' });
        finish();
      }
    });
  };

  const { index } = await indexes.get(runId);
  const store = await options.store.get();
  const [newest] = await store.readStream(runId, { fromVersion: index.version, toVersion: index.version, payloadTypes: [] });
  const subscription = store.subscribe(
    newest === undefined ? START : { txId: newest.txId, position: newest.position },
    () => {
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
  // What the page missed before this stream (or an ended run) is told at once.
  flush();
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
