/**
 * The event store's contract, run against both ways of reaching a server (the embedded one always, a
 * URL when OVERSEER_TEST_DATABASE_URL is set), plus out-of-order commits on a Postgres server. The
 * embedded server's own life (start, stop, kills, damage) is in embedded-server.test.ts.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, findChainBreak, hashEvent, verifyChain } from '../../src/store/event-hash.js';
import { START, type Checkpoint, type EventOutline, type EventStore, type NewEvent, type StoredEvent } from '../../src/store/event-store.js';
import { openStore, resolveDbTarget } from '../../src/store/open-store.js';
import { ConcurrencyError, StoreUnavailableError } from '../../src/store/store-errors.js';
import { testBackends, type TestTarget } from '../support/backends.js';

const backends = testBackends();

function event(type: string, payload: unknown = {}, extra: Partial<NewEvent> = {}): NewEvent {
  return { type, payload, machine: 'workflow', workerId: null, stateAfter: null, ...extra };
}

function run(runId: string) {
  return { runId, objective: `objective of ${runId}`, cwd: '/tmp/project', machineVersion: 'v1', status: 'running' as const };
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe.each(backends)('event store on $name', (backend) => {
  // One database per backend for this file; each test writes streams of its own.
  let target: TestTarget;
  let store: EventStore;

  beforeAll(async () => {
    target = await backend.newTarget();
    store = await target.open();
  });
  afterAll(async () => {
    await target.dispose();
  });

  /** Where a global reader that wants only this test's events starts. */
  async function now(): Promise<Checkpoint> {
    // From the table, not the safe read: on a shared server another session's open transaction holds
    // pg_snapshot_xmin (and the safe read) back, and earlier tests' events would count as this one's.
    const [last] = await target.query<{ tx: string; position: string }>(
      'select tx_id::text as tx, position::text as position from events order by tx_id desc, position desc limit 1',
    );
    return last === undefined ? START : { txId: last.tx, position: BigInt(last.position) };
  }

  /** A second, separately opened store: its own pool, as another process would have. */
  function openAnother(): Promise<EventStore> {
    return target.open();
  }

  it('reads back what was appended: payloads, states, versions 1..n, rising positions, a valid hash chain', async () => {
    const since = await now();
    const payload = { zeta: [3, { b: 2, a: 1 }], alpha: 'é', nested: { y: null, x: true } };
    await store.startRun(run('r1'), [event('run.started', payload, { stateAfter: 'planning' })]);
    await store.append('r1', 1, [
      event('worker.spawned', ['a', 'b'], { machine: 'worker', workerId: 'w1', stateAfter: { worker: 'spawned' } }),
      event('note', 'just a string'),
      event('nothing', null),
    ]);

    const events = await store.readStream('r1');
    expect(events.map((e) => e.version)).toEqual([1, 2, 3, 4]);
    expect(events[0]?.payload).toEqual(payload);
    expect(events[0]?.stateAfter).toBe('planning');
    expect(events[1]).toMatchObject({ machine: 'worker', workerId: 'w1', payload: ['a', 'b'], stateAfter: { worker: 'spawned' } });
    expect(events[2]?.payload).toBe('just a string');
    expect(events[3]?.payload).toBeNull();
    expect(events[0]?.createdAt).toBeInstanceOf(Date);
    const positions = events.map((e) => e.position);
    expect(positions.every((p, i) => typeof p === 'bigint' && (i === 0 || p > (positions[i - 1] ?? 0n)))).toBe(true);
    expect(verifyChain(events)).toBeNull();
    expect(events[1]?.prevHash).toBe(events[0]?.hash);

    expect(await store.readStream('r1', { fromVersion: 2, toVersion: 3 })).toEqual(events.slice(1, 3));
    // A global read stops short of what a transaction still open elsewhere might yet commit before it
    // (another test file's, on a shared server): it reaches these events once that one ends.
    let all: StoredEvent[] = [];
    await waitFor(async () => (all = await store.readAll(since)).length >= events.length, 60_000);
    expect(all).toEqual(events);
    expect(all.every((e) => /^[0-9]+$/.test(e.txId))).toBe(true);
    const rest = await store.readAll({ txId: events[1]?.txId ?? '', position: events[1]?.position ?? 0n });
    expect(rest.map((e) => e.version)).toEqual([3, 4]);

    const again = await openAnother();
    expect(verifyChain(await again.readStream('r1'))).toBeNull();
    await again.close();
  });

  it('keeps runs newest first and updates a run status in the same statement as its events', async () => {
    await store.startRun(run('old'), [event('run.started')]);
    await store.startRun(run('new'), []);
    const listed = (await store.listRuns()).map((r) => r.runId);
    expect(listed.indexOf('new')).toBeGreaterThanOrEqual(0);
    expect(listed.indexOf('new')).toBeLessThan(listed.indexOf('old'));
    expect(await store.getRun('missing')).toBeUndefined();

    await store.append('old', 1, [event('run.completed')], { runStatus: 'completed' });
    const old = await store.getRun('old');
    expect(old).toMatchObject({ runId: 'old', status: 'completed', cwd: '/tmp/project', machineVersion: 'v1' });
    expect(old?.updatedAt.getTime()).toBeGreaterThanOrEqual(old?.createdAt.getTime() ?? Infinity);

    // A writer that loses the race changes neither the stream nor the status.
    const other = await openAnother();
    await other.append('old', 2, [event('run.failed')], { runStatus: 'failed' });
    const error = await rejection(store.append('old', 2, [event('run.cancelled')], { runStatus: 'cancelled' }));
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect((await store.getRun('old'))?.status).toBe('failed');
    expect((await store.readStream('old')).map((e) => e.type)).toEqual(['run.started', 'run.completed', 'run.failed']);
    await other.close();
  });

  it('reads a lean stream and a stream in outline (payloads of named types only) and pages runs by cursor, status and objective text', async () => {
    await store.startRun({ ...run('lean'), objective: 'Nightly 50% refresh' }, [event('run.started', { packets: ['big'] })]);
    await store.append('lean', 1, [event('task.finished', { taskId: 't' }), event('note', 'n', { machine: 'worker', workerId: 'w1', stateAfter: { verifying: 'gates' } })]);
    const lean = await store.readStream('lean', { payloadTypes: ['task.finished'] });
    expect(lean.map((e) => [e.type, e.payload])).toEqual([['run.started', null], ['task.finished', { taskId: 't' }], ['note', null]]);
    expect((await store.readStream('lean', { fromVersion: 2, payloadTypes: [] })).map((e) => e.payload)).toEqual([null, null]);
    // In outline: the same events, their time in milliseconds, no hashes.
    const full = await store.readStream('lean');
    const outlines: EventOutline[] = [];
    await store.readOutlines('lean', { fromVersion: 2, payloadTypes: ['task.finished'] }, (outline) => outlines.push(outline));
    expect(outlines).toEqual(
      full.slice(1).map((e) => ({ position: e.position, version: e.version, type: e.type, machine: e.machine, workerId: e.workerId, stateAfter: e.stateAfter, createdAtMs: e.createdAt.getTime(), payload: e.type === 'task.finished' ? e.payload : null })),
    );
    // A reader that throws stops the read, which fails with its error; the store reads on.
    const stop = new Error('enough');
    let handed = 0;
    const stopped = store.readOutlines('lean', { payloadTypes: [] }, () => {
      handed += 1;
      throw stop;
    });
    await expect(stopped).rejects.toBe(stop);
    expect(handed).toBe(1);
    expect(await store.readStream('lean')).toEqual(full);

    for (const id of ['page-a', 'page-b', 'page-c']) await store.startRun({ ...run(id), objective: `paged ${id}` }, []);
    await store.append('page-b', 'any', [event('x')], { runStatus: 'failed' });
    const first = await store.listRuns(2, { objective: 'PAGED' });
    expect(first.map((r) => r.runId)).toEqual(['page-c', 'page-b']);
    const last = first.at(-1)!;
    expect((await store.listRuns(2, { objective: 'paged', after: { createdAt: last.createdAt, runId: last.runId } })).map((r) => r.runId)).toEqual(['page-a']);
    expect((await store.listRuns(10, { objective: 'paged', status: 'failed' })).map((r) => r.runId)).toEqual(['page-b']);
    // The text is matched as it is: % is no wildcard.
    expect((await store.listRuns(10, { objective: '50%' })).map((r) => r.runId)).toEqual(['lean']);
  });

  it('enforces the expected version: a number, no_stream and any', async () => {
    await store.append('s', 'no_stream', [event('a')]);
    await store.append('s', 1, [event('b'), event('c')]);

    const stale = await rejection(store.append('s', 1, [event('x')]));
    expect(stale).toBeInstanceOf(ConcurrencyError);
    expect(stale).toMatchObject({ code: 'CONCURRENCY', streamId: 's', expected: 1, actual: 3 });
    // Ahead of the stream: would leave a gap.
    expect(await rejection(store.append('s', 7, [event('x')]))).toMatchObject({ code: 'CONCURRENCY', actual: 3 });
    expect(await rejection(store.append('s', 'no_stream', [event('x')]))).toMatchObject({ code: 'CONCURRENCY', expected: 'no_stream', actual: 3 });
    expect(await rejection(store.append('fresh', 2, [event('x')]))).toMatchObject({ code: 'CONCURRENCY', actual: null });
    expect(await rejection(store.startRun(run('s'), [event('run.started')]))).toBeInstanceOf(ConcurrencyError);

    expect(await store.append('s', 'any', [event('d')])).toMatchObject({ nextVersion: 4 });
    expect(await store.append('any-new', 'any', [event('first')])).toMatchObject({ nextVersion: 1 });
    expect(await store.append('s', 4, [])).toMatchObject({ nextVersion: 4 });

    // Another connection's appends are found even though this store remembered an older head.
    const other = await openAnother();
    await other.append('s', 4, [event('e')]);
    expect(await rejection(store.append('s', 4, [event('x')]))).toMatchObject({ code: 'CONCURRENCY', actual: 5 });
    expect(await store.append('s', 'any', [event('f')])).toMatchObject({ nextVersion: 6 });
    expect(await store.append('s', 6, [event('g')])).toMatchObject({ nextVersion: 7 });
    await other.close();
    const events = await store.readStream('s');
    expect(events.map((e) => e.type)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    expect(verifyChain(events)).toBeNull();
  });

  it('lets exactly one of two connections win an append at the same expected version', async () => {
    const other = await openAnother();
    await store.append('race', 'no_stream', [event('start')]);
    for (let round = 1; round <= 8; round += 1) {
      // Both know the head, so each sends one INSERT and the database decides.
      await Promise.all([store.readStream('race'), other.readStream('race')]);
      const results = await Promise.allSettled([
        store.append('race', round, [event(`owner-${round}`)]),
        other.append('race', round, [event(`other-${round}`)]),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]?.reason).toBeInstanceOf(ConcurrencyError);
      // The loser catches up from the store and goes on.
      const loser = results[0]?.status === 'rejected' ? store : other;
      await loser.readStream('race');
    }
    const events = await store.readStream('race');
    expect(events.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(verifyChain(events)).toBeNull();

    // Racing 'any' appends all land, each exactly once.
    await Promise.all([0, 1, 2, 3, 4].flatMap((i) => [store.append('race', 'any', [event(`a${i}`)]), other.append('race', 'any', [event(`b${i}`)])]));
    const after = await other.readStream('race');
    expect(after.map((e) => e.version)).toEqual(Array.from({ length: 19 }, (_, i) => i + 1));
    expect(verifyChain(after)).toBeNull();
    await other.close();
  });

  it('delivers every event to subscribers exactly once, in readAll order, while four writers append', async () => {
    const since = await now();
    const writers = [store, await openAnother(), await openAnother(), await openAnother()];
    const observer = await openAnother();
    const onOwner: StoredEvent[] = [];
    const onOther: StoredEvent[] = [];
    const errors: unknown[] = [];
    const subscriptions = [
      store.subscribe(since, (events) => void onOwner.push(...events), { onError: (e) => errors.push(e) }),
      observer.subscribe(since, (events) => void onOther.push(...events), { pollMs: 20, onError: (e) => errors.push(e) }),
    ];
    const onlyW2: StoredEvent[] = [];
    subscriptions.push(store.subscribe(since, (events) => void onlyW2.push(...events), { streamId: 'w2' }));
    const placesW3: StoredEvent[] = [];
    subscriptions.push(observer.subscribe(since, (events) => void placesW3.push(...events), { streamId: 'w3', placesOnly: true, pollMs: 20 }));

    await Promise.all(
      writers.map(async (writer, w) => {
        let version = 0;
        for (let i = 0; i < 50; i += 1) {
          const events = i % 10 === 9 ? [event('batch', { i }), event('batch', { i })] : [event('one', { i })];
          ({ nextVersion: version } = await writer.append(`w${w}`, version === 0 ? 'no_stream' : version, events));
        }
      }),
    );
    const total = 4 * 55;
    await waitFor(() => onOwner.length >= total && onOther.length >= total && onlyW2.length >= 55 && placesW3.length >= 55);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await Promise.all(subscriptions.map((s) => s.close()));

    const all = await store.readAll(since, 10_000);
    expect(all).toHaveLength(total);
    const key = (e: StoredEvent) => `${e.streamId}:${e.version}`;
    expect(onOwner.map(key)).toEqual(all.map(key));
    expect(onOther.map(key)).toEqual(all.map(key));
    expect(onlyW2.map(key)).toEqual(all.filter((e) => e.streamId === 'w2').map(key));
    // Where each event is, as read in full; what it says left out.
    const place = (e: StoredEvent) => ({ position: e.position, txId: e.txId, streamId: e.streamId, version: e.version, type: e.type, machine: e.machine, workerId: e.workerId, createdAt: e.createdAt, epoch: e.epoch });
    expect(placesW3.map(place)).toEqual(all.filter((e) => e.streamId === 'w3').map(place));
    expect(placesW3.every((e) => e.payload === null && e.stateAfter === null && e.hash === '')).toBe(true);
    expect(errors).toEqual([]);
    for (const writer of [...writers.slice(1), observer]) await writer.close();
  });

  it('stops a subscription on close, also from inside its own handler', async () => {
    await store.append('closing', 'no_stream', [event('a'), event('b')]);
    let calls = 0;
    let subscription: { close(): Promise<void> } | undefined;
    const closed = new Promise<void>((resolve) => {
      subscription = store.subscribe(START, async () => {
        calls += 1;
        await subscription?.close();
        resolve();
      });
    });
    await closed;
    await store.append('closing', 2, [event('c')]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(calls).toBe(1);
  });

  it.runIf(backend.name === 'embedded')('keeps commit order when transaction ids gain a digit (999 to 1000)', async () => {
    // A new cluster's transaction ids are small: use them up to just below the next power of ten.
    const [row] = await target.query<{ xid: string }>('select pg_current_xact_id()::text as xid');
    const xid = Number(row?.xid);
    const toBurn = 10 ** String(xid).length - xid - 3;
    await target.query(`create procedure burn_xids(n int) language plpgsql as $$
      begin perform set_config('synchronous_commit', 'off', false); for i in 1..n loop perform pg_current_xact_id(); commit; end loop; end $$`);
    await target.query(`call burn_xids(${String(toBurn)})`);

    const since = await now();
    const delivered: StoredEvent[] = [];
    const subscription = store.subscribe(since, (events) => void delivered.push(...events), { pollMs: 20 });
    for (let i = 0; i < 6; i += 1) await store.append('digits', i === 0 ? 'no_stream' : i, [event(`e${String(i)}`)]);
    const read = await store.readAll(since);
    expect(new Set(read.map((e) => e.txId.length)).size).toBe(2);
    expect(read.map((e) => e.type)).toEqual(['e0', 'e1', 'e2', 'e3', 'e4', 'e5']);
    await waitFor(() => delivered.length >= 6);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await subscription.close();
    expect(delivered.map((e) => e.type)).toEqual(['e0', 'e1', 'e2', 'e3', 'e4', 'e5']);
  });

  it('stores, reads back and verifies an event nested deeper than the call stack goes', async () => {
    // Overseer's own inputs stop at 128 levels (json-nesting.ts); the store holds what its backends hold.
    const deep = JSON.parse(`${'['.repeat(DEEP)}"bottom"${']'.repeat(DEEP)}`) as unknown;
    await store.startRun(run('deep'), [event('run.started', { repo: deep }), event('run.completed')]);
    const events = await store.readStream('deep');
    expect(events.map((e) => e.type)).toEqual(['run.started', 'run.completed']);
    expect(verifyChain(events)).toBeNull();
  });

  it('finds a tampered event with verifyChain', async () => {
    await store.startRun(run('t'), [event('run.started', { a: 1 }), event('task.done', { ok: true }), event('run.completed')]);
    expect(verifyChain(await store.readStream('t'))).toBeNull();
    await target.query(`update events set payload = '{"ok": false}' where stream_id = 't' and version = 2`);
    const broken = findChainBreak(await store.readStream('t'));
    expect(broken?.event.version).toBe(2);
    expect(broken?.reason).toBe('hash_mismatch');
    expect(verifyChain(await store.readStream('t'))?.version).toBe(2);
  });
});

/**
 * Deeper than a recursive walk survives here (some 3,000 levels), shallower than every backend takes:
 * Postgres some 13,000 levels, PGlite 0.4 about 5,700 (past that it silently skips the insert).
 */
const DEEP = 4500;

describe('event hash', () => {
  it('keeps the hash of every kind of event recorded before, byte for byte', () => {
    // Hashes written by the recursive canonical JSON that recorded the runs so far.
    const base = { streamId: 'run-1', version: 2, type: 'process.started', machine: 'worker', workerId: 'build', createdAt: new Date(Date.UTC(2026, 11, 1, 7, 38, 4, 825)), prevHash: 'a'.repeat(64) };
    const golden: Array<[unknown, unknown, string]> = [
      [{ pid: 4242, processStartTime: '123456', logFile: '/tmp/r/build.1.log', statusFile: '/tmp/r/build.1.status', attempt: 1 }, 'running', '1b73614789d43d960133f435fe3b87ff779034b14da910f64c1c36171dae5bff'],
      [
        { runId: 'run-1', packets: [{ id: 'b', objective: 'ünïcödé "quoted" \\ \n', dependsOn: [], env: { Z: '1', A: '2', '10': 'x', '9': 'y', é: 'e', a: 'lower' } }], policy: null, concurrency: 4 },
        { workflow: 'dispatching', tasks: [] },
        '2ea4354cc3ebab1267cfd7645f8dc2ed795809fdbcea7e3471a1975560884cea',
      ],
      [
        { u: undefined, f: () => 1, arr: [undefined, () => 1, Symbol('s'), NaN, Infinity, -0, 1e21, 5e-7], d: new Date(5), boxed: [new Number(3), new String('s'), new Boolean(false)], nested: { toJSON: (key: string) => ({ key, inner: { toJSON: () => 'deep' } }) } },
        null,
        '96c8356547c54ad7b09f87adc459499d64755a3af66461080f814244bf61b48c',
      ],
      [{ o: {}, a: [], s: '', n: 0, t: true, nul: null }, undefined, 'e7de2a78a2dd81f9ecff7461fa1f840827e0a0573f8430931f790136ea8e2e9b'],
      [[[[[1, [2, { b: [3, { d: 4, c: 5 }], a: 6 }]]]]], 'done', '2f0e61d93d250b44787f407f6f8fa863cadad96b340db31c9a8851f3e51b6f2a'],
    ];
    expect(golden.map(([payload, stateAfter]) => hashEvent({ ...base, payload, stateAfter }))).toEqual(golden.map(([, , hash]) => hash));
  });

  it('writes a value nested deeper than the call stack goes as JSON would, and refuses a cycle', () => {
    expect(canonicalJson(JSON.parse(`${'['.repeat(DEEP)}1${']'.repeat(DEEP)}`))).toBe(`${'['.repeat(DEEP)}1${']'.repeat(DEEP)}`);
    expect(canonicalJson(JSON.parse(`${'{"b":1,"a":'.repeat(DEEP)}null${'}'.repeat(DEEP)}`))).toBe(`${'{"a":'.repeat(DEEP)}null${',"b":1}'.repeat(DEEP)}`);
    const cycle: Record<string, unknown> = { a: [1] };
    (cycle['a'] as unknown[]).push(cycle);
    expect(() => canonicalJson(cycle)).toThrow(/cycle/);
  });


  it('does not depend on key order, and covers every field', () => {
    const base = { streamId: 's', version: 1, type: 't', machine: 'workflow', workerId: null, stateAfter: { b: 1, a: 2 }, createdAt: new Date(0), prevHash: null };
    const one = hashEvent({ ...base, payload: { x: 1, y: { q: [1, { d: 1, c: 2 }], p: 2 } } });
    const two = hashEvent({ ...base, payload: { y: { p: 2, q: [1, { c: 2, d: 1 }] }, x: 1 }, stateAfter: { a: 2, b: 1 } });
    expect(one).toBe(two);
    expect(one).toMatch(/^[0-9a-f]{64}$/);
    expect(hashEvent({ ...base, payload: { x: 1 }, prevHash: 'p' })).not.toBe(hashEvent({ ...base, payload: { x: 1 } }));
    expect(hashEvent({ ...base, payload: { x: 1 }, createdAt: new Date(1) })).not.toBe(hashEvent({ ...base, payload: { x: 1 } }));
  });

  it('is the sha256 of the canonical JSON of the whole record', () => {
    const fields = { streamId: 'r"1', version: 3, type: 'τ', payload: { b: [1, undefined, 'x'], a: { d: new Date(5), c: -0 } }, machine: 'worker', workerId: 'w', stateAfter: 'done', createdAt: new Date(7), prevHash: 'p' };
    const record = { ...fields, createdAt: fields.createdAt.toISOString() };
    expect(hashEvent(fields)).toBe(createHash('sha256').update(canonicalJson(record)).digest('hex'));
    expect(canonicalJson(record.payload)).toBe('{"a":{"c":0,"d":"1970-01-01T00:00:00.005Z"},"b":[1,null,"x"]}');
    expect(JSON.parse(canonicalJson(record))).toEqual(JSON.parse(JSON.stringify(record)));
  });
});

describe('opening a store', () => {
  it('reports an unreachable Postgres quickly, in one line', async () => {
    const started = Date.now();
    const error = await rejection(openStore('postgres://postgres:secret@127.0.0.1:1/overseer'));
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toMatch(/^cannot reach database postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/overseer: ECONNREFUSED$/);
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('resolves --db, then OVERSEER_DB, then ./.overseer/pg', () => {
    expect(resolveDbTarget('postgres://h/db', { OVERSEER_DB: '/x' }, '/work')).toBe('postgres://h/db');
    expect(resolveDbTarget(undefined, { OVERSEER_DB: 'data/db' }, '/work')).toBe('/work/data/db');
    expect(resolveDbTarget('', {}, '/work')).toBe('/work/.overseer/pg');
  });
});

const pgBackend = backends.find((b) => b.name === 'pg');
describe.runIf(pgBackend !== undefined)('on a Postgres server', () => {
  it('does not skip an event whose transaction commits after a later one', async () => {
    const target = await (pgBackend?.newTarget() ?? Promise.reject(new Error('no pg')));
    try {
      const store = await target.open();
      await store.append('a', 'no_stream', [event('first')]);
      const delivered: StoredEvent[] = [];
      const subscription = store.subscribe(START, (events) => void delivered.push(...events), { pollMs: 20 });
      await waitFor(() => delivered.length === 1);

      const slow = new pg.Client({ connectionString: target.db });
      slow.on('error', () => undefined);
      await slow.connect();
      await slow.query('begin');
      const inserted = await slow.query<{ position: string }>(
        `insert into events (stream_id, version, type, payload, machine, created_at, hash)
         values ('late', 1, 'late', '{}', 'workflow', now(), 'h') returning position`,
      );
      const { lastPosition } = await store.append('b', 'no_stream', [event('committed first')]);
      // 'late' has the lower position but commits last: a reader by position alone would skip it.
      expect(BigInt(inserted.rows[0]?.position ?? 0)).toBeLessThan(lastPosition);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(delivered.map((e) => e.streamId)).toEqual(['a']);
      expect((await store.readAll(START)).map((e) => e.streamId)).toEqual(['a']);

      await slow.query('commit');
      await slow.end();
      await waitFor(() => delivered.length === 3);
      await subscription.close();
      expect(delivered.map((e) => e.streamId)).toEqual(['a', 'late', 'b']);
      expect((await store.readAll(START)).map((e) => e.streamId)).toEqual(['a', 'late', 'b']);
      await store.close();
    } finally {
      await target.dispose();
    }
  });
});
