/**
 * The seed's flow through Overseer with the example services, unchanged: each service's requests are
 * recorded on their way in (tee), so the test sees exactly the call sequence a service received.
 * Then each way a planner can misbehave, asserting the event written, the exit code and the message.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, type TestTarget } from '../support/backends.js';
import { overseer } from '../support/cli.js';
import { EXAMPLE_COMMANDS, peerCommand, REPO_ROOT } from '../support/service-peers.js';

interface Request {
  method: string;
  params: Record<string, unknown>;
}
interface EventLine {
  type: string;
  workerId: string | null;
  stateAfter: unknown;
  payload: Record<string, unknown>;
}

async function requests(file: string): Promise<Request[]> {
  return (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Request);
}

// Misbehaviours need one store, not two: Postgres when there is one (many engines at once, so the
// cases can run concurrently), else the embedded store, one case at a time.
const backends = testBackends();
const first = backends.find((b) => b.name === 'pg') ?? backends[0];
const concurrently = first?.name === 'pg';

describe.each(testBackends())('the seed flow on $name', (backend) => {
  let target: TestTarget;
  let cwd: string;
  beforeAll(async () => {
    target = await backend.newTarget();
    cwd = await mkdtemp(join(tmpdir(), 'overseer-services-'));
  });
  afterAll(async () => {
    await target.dispose();
    await rm(cwd, { recursive: true, force: true });
  });

  it('runs "add dark mode to the dashboard" through planner, bootstrap and worker service', async () => {
    // Absolute paths, so the run works from its own folder like a user's would.
    const recorded = (name: string, command: string) => `tee -a ${join(cwd, `${name}.calls`)} | ${command.replace('examples/', join(REPO_ROOT, 'examples/'))}`;
    const run = await overseer(
      [
        'run', 'add dark mode to the dashboard',
        '--planner', recorded('planner', EXAMPLE_COMMANDS.planner),
        '--bootstrap', recorded('bootstrap', EXAMPLE_COMMANDS.bootstrap),
        '--worker-service', recorded('worker', EXAMPLE_COMMANDS.worker),
        '--auto-approve', '--json', '--db', target.db,
      ],
      { cwd },
    );
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { runId: string; status: string; workers: Array<{ workerId: string }> };
    expect(result.status).toBe('completed');

    const planner = await requests(join(cwd, 'planner.calls'));
    expect(planner.map((r) => r.method)).toEqual(['decompose']);
    expect(planner[0]?.params).toEqual({ objective: 'add dark mode to the dashboard', context: {} });

    const bootstrap = await requests(join(cwd, 'bootstrap.calls'));
    expect(bootstrap.map((r) => [r.method, r.params['phase']])).toEqual([
      ['execute_phase', 'system_prompt_fastpath'],
      ['execute_phase', 'mcp_fastpath'],
    ]);

    const worker = await requests(join(cwd, 'worker.calls'));
    const packets = result.workers.map((w) => w.workerId);
    expect(worker.filter((r) => r.method === 'spawn_worker').map((r) => (r.params['task_packet'] as { id: string }).id).sort()).toEqual([...packets].sort());
    // Per worker: check_trust, then mark_trusted with the approval source, then run_worker.
    const log = (await overseer(['events', result.runId, '--json', '--db', target.db], { cwd })).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as EventLine);
    for (const packet of packets) {
      const id = log.find((e) => e.type === 'service.worker_spawned' && e.workerId === packet)?.payload['serviceWorkerId'];
      const mine = worker.filter((r) => r.params['worker_id'] === id).map((r) => r.method);
      expect(mine).toEqual(['check_trust', 'mark_trusted', 'run_worker']);
      const marked = worker.find((r) => r.method === 'mark_trusted' && r.params['worker_id'] === id);
      expect(marked?.params['approval_source']).toBe('flag:--auto-approve');
    }
    // The packets' own fields reached the worker service untouched.
    const spawned = worker.find((r) => r.method === 'spawn_worker')?.params['task_packet'] as Record<string, unknown>;
    expect(Object.keys(spawned)).toEqual(expect.arrayContaining(['objective', 'scope', 'acceptance_criteria', 'reporting_contract']));
    expect(Object.keys(spawned)).not.toContain('recipes');
    expect(log.find((e) => e.type === 'bootstrap.completed')?.payload['phases']).toEqual(['system_prompt_fastpath', 'mcp_fastpath']);
  });
});

describe.runIf(first !== undefined)('misbehaving services', { concurrent: concurrently }, () => {
  let target: TestTarget;
  let cwd: string;
  beforeAll(async () => {
    target = await (first as NonNullable<typeof first>).newTarget();
    cwd = await mkdtemp(join(tmpdir(), 'overseer-misbehave-'));
  });
  afterAll(async () => {
    await target.dispose();
    await rm(cwd, { recursive: true, force: true });
  });

  // A service that dies before it ever answered is reported as one that could not start. Only the
  // hang depends on a timeout: every other case has a generous one, so a planner that is slow to start
  // on a busy machine still shows its own misbehaviour, never a timeout in its place.
  const GENEROUS = '60s';
  const cases: Array<[string, string, string, RegExp, RegExp]> = [
    ['a command that does not exist', 'no-such-planner-command', GENEROUS, /^spawn_failed$/, /planner: .*exit code 127: .*not found/i],
    ['a service that exits mid-call', peerCommand('exit-mid-call'), GENEROUS, /^(exited|spawn_failed)$/, /planner: .*exit code 3: fatal: lost my mind during decompose/],
    ['a service that hangs past its timeout', peerCommand('hang'), '500ms', /^timeout$/, /planner: .*did not answer decompose within 500 ms/],
    ['a line that is not JSON', peerCommand('non-json'), GENEROUS, /^bad_reply$/, /planner: .*not JSON.*Loading model weights/i],
    ['a reply with the wrong id', peerCommand('wrong-id'), GENEROUS, /^bad_reply$/, /planner: .*unknown id "req_\d+_elsewhere"/],
    ['a reply of the wrong shape', peerCommand('wrong-shape'), GENEROUS, /^bad_reply$/, /planner: .*neither a result nor an error/],
    ['a result that is not a list of packets', peerCommand('reply', '{"not": "a list"}'), GENEROUS, /^bad_reply$/, /planner: .*expected a list of task packets/],
    ['an error reply', peerCommand('error'), GENEROUS, /^error_reply$/, /planner: .*out of ideas for decompose/],
  ];

  it.each(cases)('%s: service.error events, then the run fails with one line (exit 1)', async (_name, command, timeout, code, message) => {
    const run = await overseer(['run', 'plan something', '--planner', command, '--service-timeout', timeout, '--json', '--db', target.db], { cwd, timeoutMs: 120_000 });
    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout) as { runId: string; status: string; reason: string };
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(message);
    expect(result.reason.split('\n')).toHaveLength(1);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const log = (await overseer(['events', result.runId, '--json', '--db', target.db], { cwd })).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as EventLine);
    const errors = log.filter((e) => e.type === 'service.error');
    expect(errors.map((e) => e.payload['attempt'])).toEqual([1, 2, 3]);
    for (const error of errors) expect(error.payload).toMatchObject({ service: 'planner', method: 'decompose', code: expect.stringMatching(code) as unknown });
    expect(errors.at(-1)?.payload['retryInMs']).toBeNull();
    expect(log.at(-1)).toMatchObject({ type: 'plan.failed', stateAfter: 'failed' });
  }, 120_000);

  it('a worker service that crashes mid-call: a person decides at the gate, then the service_error recipe', async () => {
    const plan = join(cwd, 'one.json');
    await writeFile(plan, JSON.stringify({ packets: [{ id: 'only', objective: 'through the service' }] }));
    const cli = (args: string[]) => overseer([...args, '--db', target.db], { cwd, timeoutMs: 60_000 });
    const detached = await cli(['run', '--plan', plan, '--worker-service', peerCommand('exit-mid-call'), '--auto-approve', '--detach', '--json']);
    // Trust could not be checked (spawn_worker failed): nothing runs without a yes.
    expect(detached.code).toBe(3);
    const { runId } = JSON.parse(detached.stdout) as { runId: string };
    expect((await cli(['approve', runId, 'only'])).code).toBe(0);
    const resumed = await cli(['resume', runId, '--json']);
    expect(resumed.code).toBe(1);
    const result = JSON.parse(resumed.stdout) as { workers: Array<{ workerId: string; state: string; failure: string }> };
    expect(result.workers[0]).toMatchObject({ workerId: 'only', state: 'failed', failure: expect.stringMatching(/^service_error: spawn_worker: /) as unknown });
    const log = (await cli(['events', runId, '--json'])).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as EventLine);
    expect(log.find((e) => e.type === 'trust.decided')?.payload['source']).toMatch(/^service:spawn_worker failed/);
    // One service.error per try; the worker's recipe (3 attempts by default) made the tries, durably.
    expect(log.filter((e) => e.type === 'recovery.attempted').map((e) => e.payload['kind'])).toEqual(['service_error', 'service_error']);
    expect(log.filter((e) => e.type === 'service.error').length).toBeGreaterThanOrEqual(4);
  }, 60_000);

  it('a seed worker service without run_worker counts a trusted worker as done', async () => {
    const plan = join(cwd, 'seed.json');
    await writeFile(plan, JSON.stringify({ packets: [{ id: 'a', objective: 'a' }, { id: 'b', objective: 'b', dependsOn: ['a'] }] }));
    const run = await overseer(['run', '--plan', plan, '--worker-service', peerCommand('seed-worker'), '--auto-approve', '--json', '--db', target.db], { cwd, timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { runId: string; tasks: Record<string, number> };
    expect(result.tasks).toMatchObject({ total: 2, done: 2 });
    const log = (await overseer(['events', result.runId, '--json', '--db', target.db], { cwd })).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as EventLine);
    expect(log.find((e) => e.type === 'service.run_reported')?.payload['detail']).toMatch(/^done once trusted \(no run_worker/);
  }, 60_000);
});
