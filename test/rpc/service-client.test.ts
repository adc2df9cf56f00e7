import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServiceClient } from '../../src/rpc/service-client.js';
import type { ServiceError, ServiceResult } from '../../src/rpc/service-errors.js';
import { eventually } from '../support/cli.js';
import { peerCommand, serviceTestContext, type ServiceTestContext } from '../support/service-peers.js';
import { groupMembers, isRunning, waitFor } from '../workers/proc.js';

let ctx: ServiceTestContext;
beforeEach(async () => {
  ctx = await serviceTestContext();
});
afterEach(async () => {
  await ctx.dispose();
});

async function started(command: string, options: Parameters<ServiceTestContext['client']>[1] = {}): Promise<ServiceClient> {
  const client = ctx.client(command, options);
  const start = await client.start();
  if (!start.ok) throw start.error;
  return client;
}

function failure(result: ServiceResult<unknown>): ServiceError {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`);
  return result.error;
}

function value(result: ServiceResult<unknown>): unknown {
  if (!result.ok) throw result.error;
  return result.value;
}

describe('a service that cannot start', () => {
  it('reports a command that does not exist as spawn_failed, with the shell\'s reason', async () => {
    const client = ctx.client('overseer-no-such-service --serve');
    const error = failure(await client.start());
    expect(error.code).toBe('spawn_failed');
    expect(error.detail).toMatchObject({ exitCode: 127 });
    expect(error.message).toMatch(/^peer exited before answering any call: exit code 127: .*overseer-no-such-service.*not found$/);
    expect(client.state).toBe('exited');
    // Later calls get the same failure instead of waiting for a reply that cannot come.
    expect(failure(await client.call('decompose', {})).code).toBe('spawn_failed');
  });

  it('reports a working directory that does not exist as spawn_failed', async () => {
    const client = ctx.client(peerCommand('echo'), { cwd: '/nonexistent/overseer' });
    const error = failure(await client.start());
    expect(error.code).toBe('spawn_failed');
    expect(error.message).toBe('peer could not be started: working directory /nonexistent/overseer does not exist');
    expect(failure(await client.call('decompose', {})).message).toBe(error.message);
  });

  it('reports a service that crashes on start as spawn_failed, with its last stderr line', async () => {
    const client = ctx.client(peerCommand('crash-on-start'), { startupMs: 10_000 });
    const error = failure(await client.start());
    expect(error.code).toBe('spawn_failed');
    expect(error.message).toBe('peer exited before answering any call: exit code 1: RuntimeError: cannot load configuration');
  });

  it('reports a crash before the first answer as spawn_failed even when start() did not wait for it', async () => {
    const client = await started(peerCommand('crash-on-start'), { startupMs: 0 });
    const error = failure(await client.call('decompose', { objective: 'x' }));
    expect(error.code).toBe('spawn_failed');
    expect(error.message).toBe('peer exited before answering any call (decompose unanswered): exit code 1: RuntimeError: cannot load configuration');
  });
});

describe('a service that misbehaves mid-session', () => {
  it('exits mid-call: exited, with the exit code and its last stderr line', async () => {
    const client = await started(peerCommand('exit-mid-call'));
    expect(value(await client.call('ping', {}))).toMatchObject({ pong: true });
    const error = failure(await client.call('decompose', { objective: 'x' }));
    expect(error.code).toBe('exited');
    expect(error.method).toBe('decompose');
    expect(error.detail).toEqual({ code: 'exited', exitCode: 3, signal: null, lastStderrLine: 'fatal: lost my mind during decompose' });
    expect(error.message).toBe('peer exited (decompose unanswered): exit code 3: fatal: lost my mind during decompose');
    expect(client.state).toBe('exited');
    expect(failure(await client.call('ping', {})).code).toBe('exited');
  });

  it('hangs: timeout after the call\'s own limit, and a restart brings it back', async () => {
    const client = await started(peerCommand('hang'));
    const began = Date.now();
    const error = failure(await client.call('decompose', { objective: 'x' }, { timeoutMs: 300 }));
    expect(Date.now() - began).toBeGreaterThanOrEqual(290);
    expect(error.code).toBe('timeout');
    expect(error.detail).toEqual({ code: 'timeout', timeoutMs: 300 });
    expect(error.message).toBe('peer did not answer decompose within 300ms');

    const oldPid = client.pid;
    const restarted = await client.restart();
    expect(restarted.ok).toBe(true);
    expect(client.pid).not.toBe(oldPid);
    expect(oldPid !== null && isRunning(oldPid)).toBe(false);
    expect(value(await client.call('ping', {}))).toMatchObject({ pong: true });
  });

  it('prints a line that is not JSON: bad_reply not_json, and the client is broken until restarted', async () => {
    const client = await started(peerCommand('non-json'));
    const error = failure(await client.call('decompose', { objective: 'x' }));
    expect(error.code).toBe('bad_reply');
    expect(error.detail).toMatchObject({ reason: 'not_json', line: 'Loading model weights...' });
    expect(error.message).toMatch(/^peer printed a line that is not JSON \(.*\) while decompose was waiting: Loading model weights\.\.\.$/);
    expect(client.state).toBe('broken');

    const refused = failure(await client.call('ping', {}));
    expect(refused.code).toBe('bad_reply');
    expect(refused.message).toMatch(/^peer cannot be trusted since it printed a line that is not JSON .*; restart it: Loading model weights\.\.\.$/);

    expect((await client.restart()).ok).toBe(true);
    expect(value(await client.call('ping', {}))).toMatchObject({ pong: true });
  });

  it('answers with an id nobody asked: bad_reply unknown_id, naming both ids', async () => {
    const client = await started(peerCommand('wrong-id'));
    const error = failure(await client.call('decompose', { objective: 'x' }));
    expect(error.code).toBe('bad_reply');
    expect(error.detail).toMatchObject({ reason: 'unknown_id' });
    expect(error.message).toMatch(/^peer printed a reply to unknown id "req_1_elsewhere" \(waiting for req_1\) while decompose was waiting: /);
  });

  it('answers with neither result nor error: bad_reply wrong_shape for that call only', async () => {
    const client = await started(peerCommand('wrong-shape'));
    const error = failure(await client.call('decompose', { objective: 'x' }));
    expect(error.code).toBe('bad_reply');
    expect(error.detail).toMatchObject({ reason: 'wrong_shape' });
    expect(error.message).toBe('peer answered decompose with a reply with neither a result nor an error: {"id": "req_1", "answer": 42}');
    // The reply named its call, so the stream is still in step.
    expect(client.state).toBe('running');
    expect(value(await client.call('ping', {}))).toMatchObject({ pong: true });
  });

  it('answers with a reply nested deeper than 128 levels: bad_reply wrong_shape for that call only, naming where', async () => {
    const client = await started(peerCommand('deep', '126'));
    const error = failure(await client.call('decompose', { objective: 'x' }));
    expect(error.code).toBe('bad_reply');
    expect(error.detail).toMatchObject({ reason: 'wrong_shape' });
    expect(error.message).toMatch(/^peer answered decompose with a reply nested more than 128 levels deep, at result\[0\]\.repo\[0\]\[0\]\[0\]\[0\]\[0\]…: \{"id": "req_1", "result": \[\{"objective": "deep", "repo": \[\[\[/);
    expect(client.state).toBe('running');
    // 128 levels, counting the reply's own object, are kept as sent.
    const kept = value(await (await started(peerCommand('deep', '125'))).call('decompose', { objective: 'x' }));
    expect(JSON.stringify(kept)).toBe(`[{"objective":"deep","repo":${'['.repeat(125)}${']'.repeat(125)}}]`);
  });

  it('prints null (a seed-style handler with no answer): bad_reply wrong_shape', async () => {
    const client = await started(peerCommand('null'));
    const error = failure(await client.call('run_worker', { worker_id: 'w1' }));
    expect(error.code).toBe('bad_reply');
    expect(error.detail).toMatchObject({ reason: 'wrong_shape', line: 'null' });
    expect(error.message).toBe('peer printed a line that is not a reply (expected an object, got null) while run_worker was waiting: null');
  });

  it('answers with an error: error_reply keeping its message and code', async () => {
    const client = await started(peerCommand('error'));
    const error = failure(await client.call('decompose', { objective: 'x' }));
    expect(error.code).toBe('error_reply');
    expect(error.detail).toEqual({ code: 'error_reply', error: { code: -32000, message: 'out of ideas for decompose' } });
    expect(error.message).toBe('peer answered decompose with an error: out of ideas for decompose (code -32000)');
    expect(client.state).toBe('running');
  });

  it('survives writing to a service that closed its stdin (EPIPE) and times the call out', async () => {
    const client = await started('exec 0<&-; sleep 30');
    const error = failure(await client.call('decompose', { objective: 'x'.repeat(200_000) }, { timeoutMs: 300 }));
    expect(error.code).toBe('timeout');
  });
});

describe('replies', () => {
  it('are matched by id when they come out of order', async () => {
    const client = await started(peerCommand('reverse', '3'));
    const results = await Promise.all(['a', 'b', 'c'].map((name) => client.call('echo', { name })));
    expect(results.map(value)).toEqual(['a', 'b', 'c'].map((name) => ({ method: 'echo', params: { name } })));
  });

  it('may carry "jsonrpc": "2.0"', async () => {
    const client = await started(peerCommand('echo', 'jsonrpc'));
    expect(value(await client.call('decompose', { objective: 'x' }))).toEqual({ method: 'decompose', params: { objective: 'x' } });
  });

  it('from a call that timed out are dropped when they come late, and the client carries on', async () => {
    const client = await started(peerCommand('reverse', '2'));
    const first = failure(await client.call('slow', {}, { timeoutMs: 200 }));
    expect(first.code).toBe('timeout');
    // The second request releases both replies, the late one last.
    expect(value(await client.call('echo', { n: 2 }))).toEqual({ method: 'echo', params: { n: 2 } });
    await eventually(async () => ((await readFile(client.logFile, 'utf8')).includes('dropped a late reply to req_1') ? true : undefined), 5000, 'the note');
    expect(client.state).toBe('running');
    expect(value(await client.call('ping', {}))).toMatchObject({ pong: true });
  });

  it('to a call its caller abandoned are dropped too: the call ends at once with abandoned, the service in good standing', async () => {
    const sent: string[] = [];
    const client = await started(peerCommand('reverse', '2'), { trace: (direction, line) => (direction === 'sent' ? sent.push(line) : undefined) });
    const caller = new AbortController();
    // No limit of its own: only the caller ends it.
    const waiting = client.call('run_worker', { worker_id: 'w1' }, { timeoutMs: null, signal: caller.signal });
    caller.abort();
    const error = failure(await waiting);
    expect(error.code).toBe('abandoned');
    expect(error.message).toBe('the wait for peer to answer run_worker was abandoned by its caller');
    // The second request releases both replies, the abandoned one last.
    expect(value(await client.call('echo', { n: 2 }))).toEqual({ method: 'echo', params: { n: 2 } });
    await eventually(async () => ((await readFile(client.logFile, 'utf8')).includes('dropped a late reply to req_1') ? true : undefined), 5000, 'the note');
    expect(await readFile(client.logFile, 'utf8')).toContain('run_worker (req_1) was abandoned by its caller');
    expect(client.state).toBe('running');
    // A signal aborted already: nothing is sent.
    expect(failure(await client.call('run_worker', {}, { signal: caller.signal })).code).toBe('abandoned');
    expect(sent.filter((line) => line.includes('"run_worker"'))).toHaveLength(1);
  });
});

describe('the service log', () => {
  it('keeps the service\'s stderr, appended across restarts', async () => {
    const client = await started(peerCommand('echo'));
    value(await client.call('decompose', { objective: 'dark mode' }));
    await client.restart();
    value(await client.call('execute_phase', { phase: 'mcp_fastpath' }));
    await client.stop();
    const log = await readFile(join(ctx.dir, 'peer.log'), 'utf8');
    expect(log).toContain('echo: decompose {"objective": "dark mode"}');
    expect(log).toContain('echo: execute_phase {"phase": "mcp_fastpath"}');
    expect(log.match(/^--- overseer: peer started, pid \d+/gm)).toHaveLength(2);
    expect(log.indexOf('decompose')).toBeLessThan(log.indexOf('execute_phase'));
  });
});

describe('stop', () => {
  it('kills the service\'s whole process group', async () => {
    const client = await started(peerCommand('grandchild'));
    const pgid = client.pid;
    const { child_pid: grandchild } = value(await client.call('ping', {})) as { child_pid: number };
    expect(isRunning(grandchild)).toBe(true);
    await client.stop();
    expect(client.state).toBe('stopped');
    expect(isRunning(grandchild)).toBe(false);
    expect(pgid === null ? [] : groupMembers(pgid)).toEqual([]);
  });

  it('uses SIGKILL on a service that ignores SIGTERM, after the grace', async () => {
    const client = await started(peerCommand('stubborn'), { stopGraceMs: 300 });
    const { child_pid: grandchild } = value(await client.call('ping', {})) as { child_pid: number };
    const pid = client.pid;
    const began = Date.now();
    await client.stop();
    expect(Date.now() - began).toBeGreaterThanOrEqual(300);
    expect(pid !== null && isRunning(pid)).toBe(false);
    await waitFor(() => !isRunning(grandchild), 2000);
  });

  it('during start wins: start reports stopped and nothing is left running', async () => {
    const client = ctx.client('sleep 30', { startupMs: 2000 });
    const starting = client.start();
    await client.stop();
    const error = failure(await starting);
    expect(error.code).toBe('stopped');
    expect(error.message).toBe('peer was stopped while it started');
    expect(client.state).toBe('stopped');
    expect(client.pid).toBeNull();
  });

  it('fails waiting calls with stopped, and later calls too', async () => {
    const client = await started(peerCommand('hang'));
    const waiting = client.call('decompose', { objective: 'x' });
    await client.stop();
    const error = failure(await waiting);
    expect(error.code).toBe('stopped');
    expect(error.message).toBe('peer was stopped before it answered decompose');
    expect(failure(await client.call('ping', {})).code).toBe('stopped');
    // Stopping twice is harmless.
    await client.stop();
  });
});

describe('many callers at once', () => {
  const starts = async (client: ServiceClient) => (await readFile(client.logFile, 'utf8')).match(/^--- overseer: peer started, pid \d+/gm)?.length ?? 0;

  it('starting the service at the same moment share one start and one process', async () => {
    const client = ctx.client(peerCommand('echo'));
    const results = await Promise.all(Array.from({ length: 6 }, () => client.start()));
    expect(new Set(results.map((r) => JSON.stringify(value(r))))).toEqual(new Set([JSON.stringify({ pid: client.pid, incarnation: 1 })]));
    expect(await starts(client)).toBe(1);
  });

  it('all get answers from a service that sleeps before it reads its input, started once', async () => {
    const client = ctx.client(`sleep 1.5; exec ${peerCommand('echo')}`);
    const replies = await Promise.all(
      Array.from({ length: 6 }, async (_, n) => {
        value(await client.start());
        return value(await client.call('echo', { n }));
      }),
    );
    expect(replies).toEqual(Array.from({ length: 6 }, (_, n) => ({ method: 'echo', params: { n } })));
    expect(await starts(client)).toBe(1);
  });

  it('restarting the same process replace it once, and a later restart of it keeps the new one', async () => {
    const client = await started(peerCommand('echo'));
    const first = client.pid;
    const results = await Promise.all(Array.from({ length: 6 }, () => client.restart(1)));
    const second = client.pid;
    expect(second).not.toBe(first);
    expect(results.map(value)).toEqual(Array.from({ length: 6 }, () => ({ pid: second, incarnation: 2 })));
    // Someone else already replaced incarnation 1: the process that runs now is kept.
    expect(value(await client.restart(1))).toEqual({ pid: second, incarnation: 2 });
    expect(await starts(client)).toBe(2);
  });

  it('a call made while the service restarts waits for it and is answered by the new process', async () => {
    const client = await started(peerCommand('echo'));
    const restarting = client.restart();
    expect(client.state).toBe('starting');
    expect(value(await client.call('ping', {}))).toMatchObject({ pong: true });
    expect(value(await restarting)).toMatchObject({ incarnation: 2 });
  });

  it('ready: one start for all, one restart for all after an exit, and a stopped service stays stopped', async () => {
    const client = ctx.client(peerCommand('exit-mid-call'));
    const up = await Promise.all(Array.from({ length: 3 }, () => client.ready()));
    expect(up.map((r) => (value(r) as { incarnation: number }).incarnation)).toEqual([1, 1, 1]);
    expect(failure(await client.call('decompose', {})).code).toBe('spawn_failed');
    const again = await Promise.all(Array.from({ length: 3 }, () => client.ready()));
    expect(again.map((r) => (value(r) as { incarnation: number }).incarnation)).toEqual([2, 2, 2]);
    expect(await starts(client)).toBe(2);
    await client.stop();
    expect(failure(await client.ready()).code).toBe('stopped');
    expect(client.state).toBe('stopped');
  });

  it('ready with the incarnation of a process that hung replaces that process once', async () => {
    const client = await started(peerCommand('hang'));
    expect(failure(await client.call('decompose', {}, { timeoutMs: 200 })).code).toBe('timeout');
    const replaced = await Promise.all(Array.from({ length: 3 }, () => client.ready(1)));
    expect(replaced.map((r) => (value(r) as { incarnation: number }).incarnation)).toEqual([2, 2, 2]);
    expect(value(await client.ready(1))).toMatchObject({ incarnation: 2 });
    expect(await starts(client)).toBe(2);
  });
});

// What a service hands out (a worker id) means something to the process that gave it only: a call
// naming it is bound to that process, and must never reach another one, however the two interleave.
describe('calls bound to an incarnation', () => {
  it('a call bound to the process being restarted is never sent to the new one: stale_incarnation at once', async () => {
    const sent: string[] = [];
    const client = await started(peerCommand('echo'), { trace: (direction, line) => direction === 'sent' && sent.push(line) });
    const restarting = client.restart(1);
    expect(client.state).toBe('starting');
    const error = failure(await client.call('check_trust', { worker_id: 'worker_1' }, { incarnation: 1 }));
    expect(error.code).toBe('stale_incarnation');
    expect(error.detail).toEqual({ code: 'stale_incarnation', incarnation: 1 });
    expect(error.message).toBe('peer: check_trust was meant for process 1, which no longer runs; not sent');
    expect(value(await restarting)).toMatchObject({ incarnation: 2 });
    // Once process 2 is up, a call bound to 1 still goes nowhere, and one bound to 2 is answered by it.
    expect(failure(await client.call('check_trust', { worker_id: 'worker_1' }, { incarnation: 1 })).code).toBe('stale_incarnation');
    expect(value(await client.call('check_trust', { worker_id: 'worker_2' }, { incarnation: 2 }))).toEqual({ method: 'check_trust', params: { worker_id: 'worker_2' } });
    expect(sent.filter((line) => line.includes('check_trust')).map((line) => (JSON.parse(line) as { params: unknown }).params)).toEqual([{ worker_id: 'worker_2' }]);
  });

  it('a call bound to a process that exited fails as that exit; once another runs, as stale_incarnation; once stopped, as stopped', async () => {
    const client = await started(peerCommand('exit-mid-call'));
    expect(value(await client.call('ping', {}, { incarnation: 1 }))).toMatchObject({ pong: true });
    expect(failure(await client.call('decompose', {}, { incarnation: 1 })).code).toBe('exited');
    // Its own process is gone: that is the service's failure, as for any call.
    expect(failure(await client.call('ping', {}, { incarnation: 1 })).code).toBe('exited');
    expect(value(await client.ready())).toMatchObject({ incarnation: 2 });
    expect(failure(await client.call('ping', {}, { incarnation: 1 })).code).toBe('stale_incarnation');
    await client.stop();
    expect(failure(await client.call('ping', {}, { incarnation: 2 })).code).toBe('stopped');
  });
});
