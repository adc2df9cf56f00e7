/**
 * `overseer events RUN_ID --follow`: prints a run's new events as they are stored, through the store's
 * subscription (filtered to the run's stream), until the workflow reaches a final state or the user
 * presses Ctrl-C. When the store's server goes away (stopped, or killed), the follower opens the store
 * again, which starts the server again, and carries on from the last event it printed.
 */
import { endsRun } from '../fold/run-end.js';
import { START, type Checkpoint, type EventStore, type StoredEvent } from '../store/event-store.js';
import { openCliStore } from './cli-store.js';

export type FollowEnd = 'ended' | 'interrupted';

const RELOOK_MS = 500;
const MAX_LOST = 20;

export interface Interruption {
  promise: Promise<'interrupted'>;
  dispose: () => void;
}

/** Ctrl-C (or SIGTERM) ends following instead of the process; listen before the first read. */
export function interruption(): Interruption {
  let onSignal: () => void = () => undefined;
  const promise = new Promise<'interrupted'>((resolvePromise) => {
    onSignal = () => resolvePromise('interrupted');
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  return {
    promise,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Delivers the run's events after `version`, in order and once each; returns how it stopped. */
export async function followEvents(
  db: string | undefined,
  runId: string,
  version: number,
  deliver: (event: StoredEvent) => void,
  interrupted: Interruption = interruption(),
): Promise<FollowEnd> {
  let seen = version;
  let ended = false;
  const take = (event: StoredEvent) => {
    if (event.version <= seen) return;
    seen = event.version;
    deliver(event);
    if (endsRun(event)) ended = true;
  };
  let lost = 0;
  try {
    for (;;) {
      const store = await openCliStore(db);
      try {
        const outcome = await followWith(store, runId, () => seen, take, () => ended, interrupted.promise);
        if (outcome !== 'again') return outcome;
        lost = 0;
      } catch (error) {
        // The server went away mid-query: look again (a bounded number of times in a row, so a store
        // that is really gone still ends the command).
        if (++lost > MAX_LOST) throw error;
      } finally {
        // Closing a connection whose server is gone can fail too; there is nothing left to release.
        await store.close().catch(() => undefined);
      }
      const pause = await Promise.race([new Promise<'again'>((r) => setTimeout(() => r('again'), RELOOK_MS)), interrupted.promise]);
      if (pause === 'interrupted') return pause;
    }
  } finally {
    interrupted.dispose();
  }
}

async function followWith(
  store: EventStore,
  runId: string,
  seen: () => number,
  take: (event: StoredEvent) => void,
  ended: () => boolean,
  interrupted: Promise<'interrupted'>,
): Promise<FollowEnd | 'again'> {
  const catchUp = async () => {
    for (const event of await store.readStream(runId, { fromVersion: seen() + 1 })) take(event);
  };
  await catchUp();
  if (ended()) return 'ended';
  // Within one stream a later version always has a later transaction id: start from the last event seen.
  const [last] = await store.readStream(runId, { fromVersion: seen(), toVersion: seen() });
  const from: Checkpoint = last === undefined ? START : { txId: last.txId, position: last.position };
  let settle: (outcome: FollowEnd | 'again') => void = () => undefined;
  const outcome = new Promise<FollowEnd | 'again'>((r) => (settle = r));
  const subscription = store.subscribe(
    from,
    (events) => {
      for (const event of events) take(event);
      if (ended()) settle('ended');
    },
    // The store's server went away: open the store again (which starts it again).
    { streamId: runId, onError: () => settle('again') },
  );
  const end = await Promise.race([outcome, interrupted]);
  await subscription.close();
  // The events stored with the final one (worker.cancel …) are committed with it: print them too.
  if (end === 'ended') await catchUp();
  return end;
}
