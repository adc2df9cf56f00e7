/**
 * `overseer viz` as a user runs it: the machines by name, and a real run (a task that fails twice and
 * then succeeds, and one held at its trust gate) drawn with where each worker is and what fired.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDiagram } from '../../src/inspect/run-diagram.js';
import { transitionLabel } from '../../src/inspect/machine-diagram.js';
import { testBackends, type TestTarget } from '../support/backends.js';
import { overseer } from '../support/cli.js';

describe.each(testBackends())('overseer viz on $name', (backend) => {
  let target: TestTarget;
  let cwd: string;
  let runId: string;
  const cli = (args: string[]) => overseer([...args, '--db', target.db], { cwd });

  beforeAll(async () => {
    target = await backend.newTarget();
    cwd = await mkdtemp(join(tmpdir(), 'overseer-viz-'));
    const plan = join(cwd, 'retry.json');
    await writeFile(
      plan,
      JSON.stringify({
        packets: [
          {
            id: 'flaky',
            objective: 'fails twice, then works',
            trusted: true,
            command: '[ "$OVERSEER_ATTEMPT" -ge 3 ] || exit 1',
            recovery: { exit_nonzero: { max_attempts: 3, backoff: { initial: '20ms', jitter: 0 }, escalate: 'skip' } },
          },
          { id: 'later', objective: 'waits for a person', command: 'echo later', dependsOn: ['flaky'] },
        ],
      }),
    );
    const run = await cli(['run', '--plan', plan, '--detach', '--json']);
    expect(run.code).toBe(3);
    runId = (JSON.parse(run.stdout) as { runId: string }).runId;
  });
  afterAll(async () => {
    await target.dispose();
    await rm(cwd, { recursive: true, force: true });
  });

  it('draws the workflow by default, as Mermaid', async () => {
    const result = await overseer(['viz'], { cwd });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^stateDiagram-v2\n/);
    expect(result.stdout).toContain('workflow_planning --> workflow_bootstrapping : plan.ready');
    const dot = await overseer(['viz', 'worker', '--format', 'dot'], { cwd });
    expect(dot.stdout).toMatch(/^digraph "worker" \{/);
    expect(dot.stdout).toContain('"worker/retrying" -> "worker/trusted" [label="after retryBackoff"];');
  });

  it('marks where a run is and counts a transition that fired twice', async () => {
    const json = await cli(['viz', runId, '--format', 'json']);
    expect(json.code).toBe(0);
    const { machines } = JSON.parse(json.stdout) as { runId: string; machines: RunDiagram[] };
    const [workflow, worker] = machines;
    expect(workflow?.current).toEqual({ dispatching: ['workflow'] });
    expect(worker?.current).toEqual({ done: ['flaky'], awaitingTrust: ['later'] });
    expect(worker?.started).toBe(2);
    const fired = (label: string, from: string, to: string) => worker!.fired[worker!.transitions.findIndex((t) => t.source === from && t.target === to && transitionLabel(t) === label)];
    expect(fired('process.exited [canRetry(exit_nonzero)]', 'running', 'retrying')).toBe(2);
    expect(fired('after retryBackoff', 'retrying', 'trusted')).toBe(2);
    expect(fired('process.started', 'trusted', 'running')).toBe(3);
    expect(fired('process.exited [exitedClean]', 'running', 'done')).toBe(1);

    const mermaid = await cli(['viz', runId]);
    expect(mermaid.stdout).toContain('worker_running --> worker_retrying : process.exited [canRetry(exit_nonzero)] ×2');
    expect(mermaid.stdout).toContain('worker_awaitingTrust : ● later');
    expect(mermaid.stdout).toContain('class worker_awaitingTrust current');
    expect(mermaid.stdout).toContain('class workflow_dispatching current');

    const dot = await cli(['viz', runId, '--format', 'dot']);
    expect(dot.stdout).toContain('"worker/running" -> "worker/retrying" [label="process.exited [canRetry(exit_nonzero)] ×2", penwidth=2];');
    expect(dot.stdout).toContain('"worker/awaitingTrust" [label="awaitingTrust\\n● later", style="rounded,filled"');
  });

  it('says what is wrong with a bad target or format', async () => {
    const missing = await cli(['viz', 'nosuchrun']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('no run nosuchrun in this store\n');
    const format = await overseer(['viz', '--format', 'png'], { cwd });
    expect(format.code).toBe(2);
    expect(format.stderr).toBe('--format: expected one of mermaid, dot, json, got "png"\n');
  });
});
