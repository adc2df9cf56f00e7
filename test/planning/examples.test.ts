import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatProblems, type Plan } from '../../src/planning/plan.js';
import { loadPlanFile } from '../../src/planning/plan-file.js';
import { topologicalOrder } from '../../src/planning/topological-order.js';
import { startShellWorker } from '../../src/workers/shell-worker.js';

const examples = join(import.meta.dirname, '..', '..', 'examples');
const scratch = mkdtempSync(join(tmpdir(), 'overseer-examples-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function load(name: string): Promise<Plan> {
  const result = await loadPlanFile(join(examples, name));
  if (!result.ok) throw new Error(formatProblems(result.problems, name));
  return result.plan;
}

function order(plan: Plan): string[] {
  const result = topologicalOrder(plan.packets);
  if (!result.ok) throw new Error('cycle');
  return result.order;
}

describe('the example plans', () => {
  it('hello.yaml is a small graph of quick commands', async () => {
    const plan = await load('hello.yaml');
    expect(plan.packets.length).toBeGreaterThanOrEqual(5);
    expect(plan.packets.some((p) => p.dependsOn.length > 1)).toBe(true);
    expect(plan.packets.every((p) => typeof p.command === 'string' && p.timeoutMs !== undefined)).toBe(true);
  });

  it('diamond.json runs a first, b and c between, d last', async () => {
    const plan = await load('diamond.json');
    expect(order(plan)).toEqual(['a', 'b', 'c', 'd']);
    expect(plan.packets.find((p) => p.id === 'd')?.dependsOn).toEqual(['b', 'c']);
  });

  it.each(['hello.yaml', 'diamond.json'])('%s: every command succeeds and writes nothing where it runs', async (name) => {
    const plan = await load(name);
    const workDir = mkdtempSync(join(scratch, 'cwd-'));
    const logDir = join(scratch, `logs-${name}`);
    for (const id of order(plan)) {
      const packet = plan.packets.find((p) => p.id === id);
      if (packet?.command === undefined) throw new Error(`no command for ${id}`);
      const started = await startShellWorker({
        command: packet.command,
        cwd: workDir,
        env: packet.env ?? {},
        runId: 'example',
        workerId: id,
        attempt: 1,
        packet,
        objective: packet.objective,
        logDir,
      });
      if (!started.ok) throw new Error(started.error);
      expect([id, await started.exited]).toEqual([id, { code: 0, signal: null }]);
    }
    expect(readdirSync(workDir)).toEqual([]);
  });
});
