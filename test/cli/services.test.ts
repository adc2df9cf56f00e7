/**
 * The seed's flow through Overseer with the example services, unchanged: each service's requests are
 * recorded on their way in (tee), so the test sees exactly the call sequence a service received.
 * Then each way a planner can misbehave, asserting the event written, the exit code and the message.
 * Then a worker service shared by many workers: packets ready at once (one start for all), and worker
 * ids after the service restarts or the engine is killed and resumed (spawned again on the new process),
 * and a worker's own timeout, which fails that worker and leaves the shared service and its other calls alone.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, type TestTarget } from '../support/backends.js';
import { eventually, overseer, overseerProcess } from '../support/cli.js';
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

interface RecordedRequest extends Request {
  pid: number;
}

const RECORDING_WORKER = fileURLToPath(new URL('../support/services/recording_worker.py', import.meta.url));

/** The recording worker service (test/support/services/recording_worker.py) as a shell command. */
function recordingWorker(calls: string, ...options: string[]): string {
  return ['python3', RECORDING_WORKER, calls, ...options].map((word) => `'${word}'`).join(' ');
}

/** What each worker-service process received, in order, one list per process in the order they started. */
async function requestsByProcess(file: string): Promise<RecordedRequest[][]> {
  const byPid = new Map<number, RecordedRequest[]>();
  for (const request of (await requests(file)) as RecordedRequest[]) byPid.set(request.pid, [...(byPid.get(request.pid) ?? []), request]);
  return [...byPid.values()];
}

/**
 * The calls of one recording-worker process that named a worker id it had not given out yet: it
 * numbers `worker_1`, `worker_2`, … in the order packets are first spawned on it.
 */
function namedBeforeGiven(process: RecordedRequest[]): string[] {
  const packets: string[] = [];
  const wrong: string[] = [];
  for (const [index, request] of process.entries()) {
    if (request.method === 'spawn_worker') {
      const packet = (request.params['task_packet'] as { id: string }).id;
      if (!packets.includes(packet)) packets.push(packet);
    } else if (!packets.some((_, n) => request.params['worker_id'] === `worker_${String(n + 1)}`)) {
      wrong.push(`#${String(index)} ${request.method} ${JSON.stringify(request.params['worker_id'])}`);
    }
  }
  return wrong;
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
    ['a service that hangs past its timeout', peerCommand('hang'), '500ms', /^timeout$/, /planner: .*did not answer decompose within 500ms/],
    ['a line that is not JSON', peerCommand('non-json'), GENEROUS, /^bad_reply$/, /planner: .*not JSON.*Loading model weights/i],
    ['a reply with the wrong id', peerCommand('wrong-id'), GENEROUS, /^bad_reply$/, /planner: .*unknown id "req_\d+_elsewhere"/],
    ['a reply of the wrong shape', peerCommand('wrong-shape'), GENEROUS, /^bad_reply$/, /planner: .*neither a result nor an error/],
    ['a result that is not a list of packets', peerCommand('reply', '{"not": "a list"}'), GENEROUS, /^bad_reply$/, /planner: .*expected a list of task packets/],
    ['an error reply', peerCommand('error'), GENEROUS, /^error_reply$/, /planner: .*out of ideas for decompose/],
    // Deeper than a recursive walk of the packets would survive: refused where it comes in.
    ['packets nested 5,000 levels deep', peerCommand('deep', '5000'), GENEROUS, /^bad_reply$/, /planner: .*a reply nested more than 128 levels deep, at result\[0\]\.repo\[0\]\[0\]\[0\]\[0\]\[0\]…/],
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

/** A fresh store and folder for runs with a worker service; `cli` adds the store, `at` names a file in the folder. */
function workerServiceSuite(backend: NonNullable<typeof first>) {
  let target: TestTarget | undefined;
  let cwd = '';
  beforeAll(async () => {
    target = await backend.newTarget();
    cwd = await mkdtemp(join(tmpdir(), 'overseer-shared-service-'));
  });
  afterAll(async () => {
    await target?.dispose();
    await rm(cwd, { recursive: true, force: true });
  });
  const at = (name: string) => join(cwd, name);
  const withStore = (args: string[]) => [...args, '--db', target?.db ?? ''];
  const cli = (args: string[]) => overseer(withStore(args), { cwd, timeoutMs: 120_000 });
  const engine = (args: string[]) => overseerProcess(withStore(args), { cwd });
  const eventsOf = async (runId: string): Promise<EventLine[]> =>
    (await cli(['events', runId, '--json'])).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as EventLine);
  async function planOf(name: string, packets: Array<Record<string, unknown>>): Promise<string> {
    await writeFile(at(`${name}.json`), JSON.stringify({ packets }));
    return at(`${name}.json`);
  }
  return { at, cli, engine, eventsOf, planOf };
}

const independent = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `p${String(i + 1)}`, objective: `task ${String(i + 1)}` }));

// Packets ready at once ask for the worker service at the same moment: it must come up once for all.
describe.each(testBackends())('many workers at once on $name', (backend) => {
  const { at, cli, planOf } = workerServiceSuite(backend);

  it('six packets ready at once all go through the example worker service, started once', async () => {
    const plan = await planOf('six', independent(6));
    const calls = at('six.calls');
    const worker = `tee -a ${calls} | node ${join(REPO_ROOT, 'examples/services/worker.js')}`;
    const run = await cli(['run', '--plan', plan, '--worker-service', worker, '--auto-approve', '--concurrency', '6', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'completed', tasks: { total: 6, done: 6 } });
    const spawned = (await requests(calls)).filter((r) => r.method === 'spawn_worker').map((r) => (r.params['task_packet'] as { id: string }).id);
    expect(spawned.sort()).toEqual(['p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
  }, 120_000);

  it('a worker service that sleeps before it reads its input serves six packets ready at once, from one process', async () => {
    const plan = await planOf('slow', independent(6));
    const calls = at('slow.calls');
    const run = await cli(['run', '--plan', plan, '--worker-service', `sleep 1.5; exec ${recordingWorker(calls)}`, '--auto-approve', '--concurrency', '6', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'completed', tasks: { total: 6, done: 6 } });
    const processes = await requestsByProcess(calls);
    expect(processes).toHaveLength(1);
    expect(processes[0]?.filter((r) => r.method === 'spawn_worker')).toHaveLength(6);
  }, 120_000);
});

describe.runIf(first !== undefined)('worker ids after the worker service restarts', { concurrent: concurrently }, () => {
  const { at, cli, engine: start, eventsOf, planOf } = workerServiceSuite(first as NonNullable<typeof first>);

  it('after the worker service restarts, each unfinished worker is spawned again on the new process before it is trusted and run', async () => {
    const plan = await planOf('restart', independent(3));
    const calls = at('restart.calls');
    // The first process exits on the first run_worker it gets, with the other workers' calls in flight or still to come.
    const worker = recordingWorker(calls, '--exit-once', at('restart.exited'));
    const run = await cli(['run', '--plan', plan, '--worker-service', worker, '--auto-approve', '--concurrency', '3', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { runId: string; status: string };
    expect(result).toMatchObject({ status: 'completed', tasks: { total: 3, done: 3 } });

    const processes = await requestsByProcess(calls);
    expect(processes).toHaveLength(2);
    // No call reached a process before that process gave out the worker id it named, however the
    // exit, the restart and the workers' calls interleaved.
    expect(processes.map(namedBeforeGiven)).toEqual([[], []]);
    const second = processes[1] ?? [];
    const events = await eventsOf(result.runId);
    for (const packet of ['p1', 'p2', 'p3']) {
      // The first process answered no run_worker, so every worker ran on the second: spawned there
      // first (same packet), then trusted and run under the id that process gave, recorded as new.
      const spawnedAt = second.findIndex((r) => r.method === 'spawn_worker' && (r.params['task_packet'] as { id: string }).id === packet);
      expect(spawnedAt, `${packet} spawned again on the new process`).toBeGreaterThanOrEqual(0);
      const newId = events.filter((e) => e.type === 'service.worker_spawned' && e.workerId === packet).at(-1)?.payload['serviceWorkerId'];
      const used = second.flatMap((r, index) => (r.params['worker_id'] === newId ? [{ index, method: r.method }] : []));
      expect(used.map((u) => u.method).slice(-2)).toEqual(['mark_trusted', 'run_worker']);
      expect(Math.min(...used.map((u) => u.index)), `${packet}'s id ${JSON.stringify(newId)} used only after it was spawned`).toBeGreaterThan(spawnedAt);
    }
    // No call reached a process that had not given out the worker id it named.
    expect(events.filter((e) => e.type === 'service.error' && /no worker/.test(String(e.payload['message'])))).toEqual([]);
  }, 120_000);

  it('an engine killed with SIGKILL while the service is inside run_worker resumes, and the new service process spawns the worker again', async () => {
    const plan = await planOf('killed', [{ id: 'only', objective: 'outlive a crash' }]);
    const calls = at('killed.calls');
    const release = at('killed.release');
    const worker = recordingWorker(calls, '--hold', release);
    const engine = start(['run', '--plan', plan, '--worker-service', worker, '--auto-approve']);
    const inRun = async () => (await requests(calls).catch(() => [])).some((r) => r.method === 'run_worker') || undefined;
    await eventually(inRun, 60_000, 'run_worker to reach the service');
    engine.kill('SIGKILL');
    await engine.done;
    const runId = /run (\w+) started/.exec(engine.output().stderr)?.[1];
    expect(runId, engine.output().stderr).toBeDefined();
    await writeFile(release, '');

    const resumed = await cli(['resume', runId as string, '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ status: 'completed', tasks: { total: 1, done: 1 } });
    const processes = await requestsByProcess(calls);
    expect(processes.map((p) => p.map((r) => r.method))).toEqual([
      ['spawn_worker', 'check_trust', 'mark_trusted', 'run_worker'],
      // The worker id of the killed engine's service means nothing to the new process.
      ['spawn_worker', 'mark_trusted', 'run_worker'],
    ]);
    const events = await eventsOf(runId as string);
    expect(events.filter((e) => e.type === 'service.worker_spawned' && e.workerId === 'only')).toHaveLength(2);
    expect(events.find((e) => e.type === 'worker.lost')).toBeDefined();
  }, 120_000);
});

describe.runIf(first !== undefined)('a worker timeout on the shared worker service', { concurrent: concurrently }, () => {
  const { at, engine: start, eventsOf, planOf } = workerServiceSuite(first as NonNullable<typeof first>);

  it('fails that worker with timeout per its recipe, while another worker\'s run_worker in flight completes on the same process', async () => {
    const plan = await planOf('timeout', [
      { id: 'slow', objective: 'outlast its timeout', timeout: '2s', recovery: { timeout: { max_attempts: 2 } } },
      { id: 'held', objective: 'finish once the other has timed out' },
    ]);
    const calls = at('timeout.calls');
    const release = at('timeout.release');
    // Every run_worker waits for the release: slow's outlast its timeout twice, held's is in flight all along.
    const worker = recordingWorker(calls, '--hold', release);
    const engine = start(['run', '--plan', plan, '--worker-service', worker, '--auto-approve', '--concurrency', '2', '--json']);
    const runId = await eventually(() => /run (\w+) started/.exec(engine.output().stderr)?.[1], 60_000, 'the run to start');
    const slowFinished = async () => (await eventsOf(runId)).find((e) => e.type === 'task.finished' && e.payload['taskId'] === 'slow');
    await eventually(slowFinished, 90_000, 'the slow worker to finish');
    await writeFile(release, '');

    const run = await engine.done;
    expect(run.code, run.stderr).toBe(1);
    const result = JSON.parse(run.stdout) as { workers: Array<{ workerId: string; state: string; failure: string | null }> };
    expect(result.workers.find((w) => w.workerId === 'held')).toMatchObject({ state: 'done' });
    expect(result.workers.find((w) => w.workerId === 'slow')).toMatchObject({ state: 'failed', failure: expect.stringMatching(/^timeout: /) as unknown });
    const events = await eventsOf(runId);
    const slow = events.filter((e) => e.workerId === 'slow');
    expect(slow.filter((e) => e.type === 'recovery.attempted').map((e) => e.payload['kind'])).toEqual(['timeout']);
    expect(slow.find((e) => e.type === 'recovery.exhausted')?.payload).toMatchObject({ kind: 'timeout', attempts: 2 });
    // The service did nothing wrong: no call of any worker failed.
    expect(events.filter((e) => e.type === 'service.error' || e.type === 'service.failed')).toEqual([]);

    // One process all along (no restart), and held's one run_worker, sent before slow's second, was answered by it.
    const processes = await requestsByProcess(calls);
    expect(processes).toHaveLength(1);
    const idOf = (packet: string) => events.find((e) => e.type === 'service.worker_spawned' && e.workerId === packet)?.payload['serviceWorkerId'];
    const runs = (processes[0] ?? []).filter((r) => r.method === 'run_worker').map((r) => r.params['worker_id']);
    expect(runs.filter((id) => id === idOf('held'))).toHaveLength(1);
    expect(runs.filter((id) => id === idOf('slow'))).toHaveLength(2);
    expect(runs.indexOf(idOf('held'))).toBeLessThan(runs.lastIndexOf(idOf('slow')));
    // The service's log says which calls Overseer stopped waiting for: slow's two, not held's.
    const log = await readFile(at(`.overseer/runs/${runId}/worker-service.log`), 'utf8');
    expect(log.match(/run_worker \(req_\d+\) was abandoned by its caller/g)).toHaveLength(2);
  }, 120_000);
});
