/**
 * The store's part of many engines on one Postgres (docs/scaling.md), against every backend: leases
 * with epochs, appends fenced by them in the same statement, claims of submitted runs that engines
 * racing for them never share, the wake-up for new work, and installations kept apart by schema.
 */
import { describe, expect, it } from 'vitest';
import type { EventStore, NewEvent } from '../../src/store/event-store.js';
import { openStore } from '../../src/store/open-store.js';
import { FencedError } from '../../src/store/store-errors.js';
import { testBackends, useStore } from '../support/backends.js';

function event(type: string): NewEvent {
  return { type, payload: {}, machine: 'workflow', workerId: null, stateAfter: null };
}

function run(runId: string) {
  return { runId, objective: `objective of ${runId}`, cwd: '/tmp/project', machineVersion: 'v1', status: 'running' as const };
}

const takeOver = () => true;
const never = () => false;

describe.each(testBackends())('run ownership on $name', (backend) => {
  const held = useStore(backend);

  it('records each event under its epoch and refuses, in the same statement, an append from an epoch the run moved past', async () => {
    const { store } = held;
    await store.startRun(run('fenced'), [event('run.started')]);
    const first = await store.acquireLease('fenced', 'engine-a', 60_000, never);
    expect(first).toEqual({ acquired: true, epoch: 1n });
    await store.append('fenced', 1, [event('a.1')], { epoch: 1n });

    // Engine B judges A gone and takes the run over: the epoch moves on.
    const second = await store.acquireLease('fenced', 'engine-b', 60_000, takeOver);
    expect(second).toEqual({ acquired: true, epoch: 2n });
    expect((await store.getRun('fenced'))?.epoch).toBe(2n);

    // A, not knowing, writes at the right version: refused, and neither the log nor the status moves.
    const refused = await store.append('fenced', 2, [event('a.2')], { epoch: 1n, runStatus: 'completed' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(FencedError);
    expect((await store.getRun('fenced'))?.status).toBe('running');
    await store.append('fenced', 2, [event('b.1')], { epoch: 2n, runStatus: 'waiting' });
    expect((await store.getRun('fenced'))?.status).toBe('waiting');

    const log = await store.readStream('fenced');
    expect(log.map((e) => [e.type, e.epoch])).toEqual([
      ['run.started', 0n],
      ['a.1', 1n],
      ['b.1', 2n],
    ]);
    // A renewal or release by the old owner changes nothing either.
    expect(await store.renewLease('fenced', 'engine-a', 1n, 60_000)).toBe(false);
    await store.releaseLease('fenced', 'engine-a', 1n);
    expect((await store.acquireLease('fenced', 'engine-c', 60_000, never))?.acquired).toBe(false);
  });

  it('holds a fenced append until a takeover in flight commits, then refuses it', async () => {
    const { store, target } = held;
    await store.startRun(run('in-flight'), [event('run.started')]);
    expect(await store.acquireLease('in-flight', 'engine-a', 60_000, never)).toEqual({ acquired: true, epoch: 1n });
    const takeover = await target.client();
    try {
      await takeover.query('begin');
      await takeover.query("update runs set owner_id = 'engine-b', owner_epoch = owner_epoch + 1 where run_id = 'in-flight'");
      const append = store.append('in-flight', 1, [event('late')], { epoch: 1n }).then(
        () => 'appended',
        (error: unknown) => error,
      );
      // The append must wait on the takeover's row lock: it has not landed while the takeover is open.
      await waitFor(async () => (await target.query("select 1 from pg_locks where not granted and locktype in ('transactionid', 'tuple')")).length > 0);
      await takeover.query('commit');
      expect(await append).toBeInstanceOf(FencedError);
    } finally {
      await takeover.end();
    }
    expect((await store.readStream('in-flight')).map((e) => e.type)).toEqual(['run.started']);
  });

  it('lets workers claim only submitted runs that have not ended, oldest first, each by one worker, again once its lease expires', async () => {
    const { store, target } = held;
    await store.startRun(run('foreground'), [event('run.started')]);
    await store.startRun(run('sub-1'), [event('run.started')], { submit: true });
    await store.startRun(run('sub-2'), [event('run.started')], { submit: true });
    await store.startRun(run('sub-done'), [event('run.started')], { submit: true });
    await store.append('sub-done', 1, [event('run.completed')], { runStatus: 'completed' });

    const a = await store.claimRun('worker-a', 60_000);
    const b = await store.claimRun('worker-b', 60_000);
    expect([a, b]).toEqual([
      { runId: 'sub-1', epoch: 1n },
      { runId: 'sub-2', epoch: 1n },
    ]);
    expect(await store.claimRun('worker-c', 60_000)).toBeUndefined();
    const untilExpiry = await store.nextLeaseExpiry();
    expect(untilExpiry).toBeGreaterThan(50_000);

    // worker-b's lease lapses (by the database clock): worker-c claims the run at the next epoch.
    await target.query("update runs set lease_expires_at = now() - interval '1 second' where run_id = 'sub-2'");
    expect(await store.nextLeaseExpiry()).toBe(0);
    expect(await store.claimRun('worker-c', 60_000)).toEqual({ runId: 'sub-2', epoch: 2n });
    expect(await store.renewLease('sub-2', 'worker-b', 1n, 60_000)).toBe(false);
  });

  it('gives one run to exactly one of many workers claiming at once, and wakes a listening worker when a run is submitted or handed back', async () => {
    const { target } = held;
    const stores: EventStore[] = await Promise.all([1, 2, 3, 4].map(() => target.open()));
    const [first] = stores as [EventStore, ...EventStore[]];
    let wakes = 0;
    const stop = await first.watchClaimable(() => {
      wakes += 1;
    });
    try {
      await first.startRun(run('contested'), [event('run.started')], { submit: true });
      await waitFor(() => wakes >= 1);
      const claims = await Promise.all(stores.map((store, index) => store.claimRun(`racer-${String(index)}`, 60_000)));
      const winners = claims.filter((claim) => claim?.runId === 'contested');
      expect(winners).toEqual([{ runId: 'contested', epoch: 1n }]);

      const owner = `racer-${String(claims.findIndex((claim) => claim?.runId === 'contested'))}`;
      await first.releaseLease('contested', owner, 1n);
      await waitFor(() => wakes >= 2);
      expect(await first.claimRun('after', 60_000)).toEqual({ runId: 'contested', epoch: 2n });
    } finally {
      await stop();
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('keeps installations in different schemas of one database apart: runs, claims and notifications', async () => {
    const { target } = held;
    const teamA = await openStore(target.db, { schema: 'team_a' });
    const teamB = await openStore(target.db, { schema: 'team_b' });
    let wokenB = 0;
    const stopB = await teamB.watchClaimable(() => {
      wokenB += 1;
    });
    try {
      await teamA.startRun(run('only-a'), [event('run.started')], { submit: true });
      expect((await teamA.getRun('only-a'))?.runId).toBe('only-a');
      expect(await teamB.getRun('only-a')).toBeUndefined();
      expect(await teamB.claimRun('worker-b', 60_000)).toBeUndefined();
      expect(await teamA.claimRun('worker-a', 60_000)).toEqual({ runId: 'only-a', epoch: 1n });

      const seen: string[] = [];
      const subscription = teamB.subscribe({ txId: '0', position: 0n }, (events) => void seen.push(...events.map((e) => e.streamId)));
      await teamB.startRun(run('only-b'), [event('run.started')], { submit: true });
      await waitFor(() => wokenB >= 1 && seen.includes('only-b'));
      await subscription.close();
      expect(seen).toEqual(['only-b']);
    } finally {
      await stopB();
      await teamA.close();
      await teamB.close();
    }
  });
});

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
