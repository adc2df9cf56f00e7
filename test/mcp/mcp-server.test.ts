/**
 * `overseer mcp` driven by the MCP SDK's own client over stdio, as an agent would: tools listed, a run
 * started that waits at its trust gate, approved (recorded with source mcp), completed; unknown runs,
 * workers and bad plans as tool errors that write nothing; a run that goes on after its client left.
 * Waiting is on the server's resource notifications (the run's log grew), never on sleeps. On each
 * store backend.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ResourceUpdatedNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, type TestTarget } from '../support/backends.js';
import { OVERSEER_BIN } from '../support/cli.js';

interface Summary {
  runId: string;
  status: string;
  objective: string;
  workers: { workerId: string; state: string }[];
}

interface Connected {
  client: Client;
  transport: StdioClientTransport;
  call(name: string, args: Record<string, unknown>): Promise<CallToolResult>;
  /** Resolves with the run's status once `wanted` holds, re-reading it each time the server says the run changed. */
  untilRun(runId: string, wanted: (s: Summary) => boolean, what: string): Promise<Summary>;
}

const GATED_PLAN = `
packets:
  - id: build
    objective: trusted by the plan
    command: echo built
    trusted: true
  - id: deploy
    objective: needs a yes
    command: echo deployed
    dependsOn: [build]
`;

async function connect(db: string, cwd: string): Promise<Connected> {
  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  const transport = new StdioClientTransport({ command: process.execPath, args: [OVERSEER_BIN, 'mcp', '--db', db], cwd, env, stderr: 'pipe' });
  const client = new Client({ name: 'overseer-test', version: '1.0.0' });
  const changed = new Set<() => void>();
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, () => {
    for (const wake of changed) wake();
  });
  await client.connect(transport);
  const call = async (name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as CallToolResult;
  return {
    client,
    transport,
    call,
    async untilRun(runId, wanted, what) {
      let wake = (): void => undefined;
      const wakeUp = () => wake();
      changed.add(wakeUp);
      try {
        await client.subscribeResource({ uri: `overseer://runs/${runId}` });
        const until = Date.now() + 60_000;
        for (;;) {
          const next = new Promise<void>((resolve) => (wake = resolve));
          const summary = (await call('run_status', { runId })).structuredContent as unknown as Summary;
          if (wanted(summary)) return summary;
          const left = until - Date.now();
          if (left <= 0) throw new Error(`timed out waiting for ${what}; the run is ${JSON.stringify(summary)}`);
          await Promise.race([next, new Promise((resolve) => setTimeout(resolve, left))]);
        }
      } finally {
        changed.delete(wakeUp);
      }
    },
  };
}

const text = (result: CallToolResult) => result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');

describe.each(testBackends())('overseer mcp on $name', (backend) => {
  let target: TestTarget;
  let cwd: string;
  let mcp: Connected;

  beforeAll(async () => {
    target = await backend.newTarget();
    cwd = await mkdtemp(join(tmpdir(), 'overseer-mcp-'));
    mcp = await connect(target.db, cwd);
  });
  afterAll(async () => {
    await mcp.client.close();
    await target.dispose();
    await rm(cwd, { recursive: true, force: true });
  });

  it('lists its tools, each with an input and an output schema', async () => {
    const { tools } = await mcp.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['approve_worker', 'cancel_run', 'list_runs', 'resume_run', 'run_events', 'run_status', 'start_run']);
    for (const tool of tools) expect(tool.outputSchema, tool.name).toBeDefined();
  });

  it('starts a run that waits at a trust gate, approves it with a reason, and sees it complete', async () => {
    const started = await mcp.call('start_run', { plan: GATED_PLAN, objective: 'ship it' });
    expect(started.isError).not.toBe(true);
    const { runId } = started.structuredContent as { runId: string };
    expect(runId).toMatch(/^\w+$/);

    const waiting = await mcp.untilRun(runId, (s) => s.status === 'waiting', 'the trust gate');
    expect(waiting.workers).toContainEqual(expect.objectContaining({ workerId: 'deploy', state: 'awaitingTrust' }));
    const { runs } = (await mcp.call('list_runs', {})).structuredContent as { runs: { runId: string }[] };
    expect(runs.map((r) => r.runId)).toContain(runId);
    const { resources } = await mcp.client.listResources();
    expect(resources.map((r) => r.uri)).toContain(`overseer://runs/${runId}`);

    const approved = await mcp.call('approve_worker', { runId, worker: 'deploy', reason: 'reviewed by the agent' });
    expect(approved.isError).not.toBe(true);
    expect(approved.structuredContent).toMatchObject({ decision: 'trust.approved', workerId: 'deploy' });

    const done = await mcp.untilRun(runId, (s) => ['completed', 'failed', 'cancelled'].includes(s.status), 'the run to end');
    expect(done.status).toBe('completed');

    const trust = (await mcp.call('run_events', { runId, type: 'trust.' })).structuredContent as { events: { type: string; workerId: string; payload: Record<string, unknown> }[] };
    expect(trust.events.every((e) => e.type.startsWith('trust.'))).toBe(true);
    expect(trust.events.find((e) => e.type === 'trust.approved')).toMatchObject({
      workerId: 'deploy',
      payload: { source: 'mcp', by: userInfo().username, reason: 'reviewed by the agent' },
    });
    const resource = await mcp.client.readResource({ uri: `overseer://runs/${runId}` });
    const [content] = resource.contents;
    expect(JSON.parse(content !== undefined && 'text' in content ? content.text : '{}')).toMatchObject({ runId, status: 'completed' });
  });

  it('answers an unknown run or worker, and a plan with errors, with tool errors that write nothing', async () => {
    const before = (await mcp.call('list_runs', {})).structuredContent as { runs: unknown[] };

    for (const [name, args] of [
      ['run_status', { runId: 'nosuchrun' }],
      ['run_events', { runId: 'nosuchrun' }],
      ['approve_worker', { runId: 'nosuchrun', worker: 'deploy' }],
      ['cancel_run', { runId: 'nosuchrun' }],
      ['resume_run', { runId: 'nosuchrun' }],
    ] as const) {
      const result = await mcp.call(name, args);
      expect(result.isError, name).toBe(true);
      expect(text(result), name).toMatch(/no run nosuchrun/);
    }

    const bad = await mcp.call('start_run', {
      plan: JSON.stringify({ packets: [{ id: 'a', objective: 'x', command: 'true', dependsOn: ['ghost'] }, { objective: 'no command' }, { id: 'c', objectve: 'typo', command: 'true' }] }),
    });
    expect(bad.isError).toBe(true);
    expect(text(bad)).toMatch(/packets\[0\]\.dependsOn\[0\]/);
    expect(text(bad)).toMatch(/packets\[2\]\.objectve/);
    const missing = await mcp.call('start_run', { planFile: 'no-such-plan.yaml' });
    expect(missing.isError).toBe(true);
    expect(text(missing)).toMatch(/file not found/);
    const neither = await mcp.call('start_run', {});
    expect(neither.isError).toBe(true);

    const after = (await mcp.call('list_runs', {})).structuredContent as { runs: unknown[] };
    expect(after.runs).toHaveLength(before.runs.length);

    const started = await mcp.call('start_run', { plan: GATED_PLAN });
    const { runId } = started.structuredContent as { runId: string };
    await mcp.untilRun(runId, (s) => s.status === 'waiting', 'the trust gate');
    const ghost = await mcp.call('approve_worker', { runId, worker: 'ghost' });
    expect(ghost.isError).toBe(true);
    expect(text(ghost)).toMatch(/has no worker ghost/);
    const ghostEvents = await mcp.call('run_events', { runId, worker: 'ghost' });
    expect(ghostEvents.isError).toBe(true);
    const cancelled = await mcp.call('cancel_run', { runId, reason: 'test over' });
    expect(cancelled.structuredContent).toMatchObject({ runId, status: 'cancelled' });
    const again = await mcp.call('resume_run', { runId });
    expect(again.isError).toBe(true);
  });

  it('leaves a run going when its client disconnects mid-run; the run completes later', async () => {
    const gate = join(cwd, 'go');
    const first = await connect(target.db, cwd);
    const plan = { packets: [{ id: 'slow', objective: 'waits for a file', command: `while [ ! -f '${gate}' ]; do sleep 0.05; done; echo through`, trusted: true }] };
    const started = await first.call('start_run', { plan });
    const { runId } = started.structuredContent as { runId: string };
    await first.untilRun(runId, (s) => s.workers.some((w) => w.workerId === 'slow' && w.state === 'running'), 'the worker to run');

    const serverPid = first.transport.pid;
    await first.client.close();
    expect(serverPid).not.toBeNull();
    expect(() => process.kill(serverPid ?? 0, 0)).toThrow();

    await writeFile(gate, '');
    const done = await mcp.untilRun(runId, (s) => ['completed', 'failed', 'cancelled'].includes(s.status), 'the run to end');
    expect(done.status).toBe('completed');
    // A plan given as text with no objective is called by its one packet's.
    expect(done.objective).toBe('waits for a file');
    expect(existsSync(join(cwd, '.overseer', 'runs', runId, 'engine.log'))).toBe(true);
  });

  it('resumes a run whose detached engine was killed, refusing while that engine lives', async () => {
    const started = await mcp.call('start_run', { plan: GATED_PLAN });
    const { runId, enginePid } = started.structuredContent as { runId: string; enginePid: number };
    const waiting = await mcp.untilRun(runId, (s) => s.status === 'waiting', 'the trust gate');
    expect(waiting.objective).toBe('a plan of 2 packets');

    const owned = await mcp.call('resume_run', { runId });
    expect(owned.isError).toBe(true);
    expect(text(owned)).toMatch(new RegExp(`owned by a live engine \\(pid ${String(enginePid)} `));

    process.kill(enginePid, 'SIGKILL');
    await gone(enginePid);
    const resumed = await mcp.call('resume_run', { runId });
    expect(resumed.isError).not.toBe(true);
    const { enginePid: second } = resumed.structuredContent as { enginePid: number };
    expect(second).not.toBe(enginePid);

    // The new engine takes the run over; an approval is what it carries on from.
    await mcp.call('approve_worker', { runId, worker: 'deploy' });
    const done = await mcp.untilRun(runId, (s) => ['completed', 'failed', 'cancelled'].includes(s.status), 'the run to end');
    expect(done.status).toBe('completed');
    await gone(second);
  });
});

/** Resolves once the process has exited (its pid no longer answers signal 0). */
async function gone(pid: number): Promise<void> {
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > until) throw new Error(`process ${String(pid)} did not exit`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
