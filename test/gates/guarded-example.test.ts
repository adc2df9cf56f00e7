import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runGate } from '../../src/gates/gate-runner.js';
import { loadPolicy } from '../../src/gates/policy-file.js';
import { requiredGates } from '../../src/gates/quality-gates.js';
import { policyTrustResolver } from '../../src/gates/trust-policy.js';
import { formatProblems, type Plan } from '../../src/planning/plan.js';
import { loadPlanFile } from '../../src/planning/plan-file.js';
import type { ResolvedTaskPacket } from '../../src/planning/task-packet.js';
import { startShellWorker } from '../../src/workers/shell-worker.js';

const planFile = join(import.meta.dirname, '..', '..', 'examples', 'guarded.yaml');
const scratch = mkdtempSync(join(tmpdir(), 'overseer-guarded-'));
const workDir = mkdtempSync(join(scratch, 'cwd-'));
const logDir = join(scratch, 'logs');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function plan(): Promise<Plan> {
  const result = await loadPlanFile(planFile);
  if (!result.ok) throw new Error(formatProblems(result.problems, 'guarded.yaml'));
  return result.plan;
}

function packet(p: Plan, id: string): ResolvedTaskPacket {
  const found = p.packets.find((candidate) => candidate.id === id);
  if (found === undefined) throw new Error(`no packet ${id}`);
  return found;
}

describe('examples/guarded.yaml', () => {
  it("trusts the local shell work, asks before publishing, and denies what its policy forbids", async () => {
    const p = await plan();
    if (typeof p.policy !== 'string') throw new Error('expected a policy file');
    const loaded = await loadPolicy(p.policy, dirname(planFile));
    if (!loaded.ok) throw new Error(loaded.message);
    const trust = policyTrustResolver(loaded.policy, loaded.name);
    const decide = (pk: ResolvedTaskPacket, autoApprove = false): unknown => trust({ packet: pk, autoApprove, cwd: workDir });

    expect(decide(packet(p, 'fetch'))).toEqual({ decision: 'trust', source: 'policy:guarded-policy.yaml#rules[3] (local-shell-work)' });
    expect(decide(packet(p, 'build'))).toEqual({ decision: 'trust', source: 'policy:guarded-policy.yaml#rules[3] (local-shell-work)' });
    expect(decide(packet(p, 'publish'))).toEqual({
      decision: 'ask',
      source: 'policy:guarded-policy.yaml#rules[2] (publishing-needs-a-person)',
    });
    const wipe = { ...packet(p, 'build'), command: 'rm -rf dist' };
    expect(decide(wipe, true)).toEqual({ decision: 'deny', source: 'policy:guarded-policy.yaml#rules[0] (no-rm-rf)' });
    const secrets = { ...packet(p, 'build'), scope_path: 'config/secrets/token' };
    expect(decide(secrets)).toEqual({ decision: 'deny', source: 'policy:guarded-policy.yaml#rules[1] (no-secrets)' });
  });

  it('fetch fails on its first attempt, succeeds on its second, and its recipe allows three', async () => {
    const p = await plan();
    const fetch = packet(p, 'fetch');
    expect(fetch.recipes.exit_nonzero).toEqual({ maxAttempts: 3, initialDelayMs: 200, factor: 2, maxDelayMs: 2000, jitter: 0.2, escalation: 'skip' });
    expect(fetch.recipes.worker_lost.escalation).toBe('fail_run');
    expect(packet(p, 'build').recipes.gate_red).toMatchObject({ maxAttempts: 2, escalation: 'ask_human' });

    const runId = `guarded-${String(process.pid)}`;
    const exits = [];
    for (const attempt of [1, 2]) {
      const started = await startShellWorker({
        command: fetch.command ?? '',
        cwd: workDir,
        env: { TMPDIR: scratch },
        runId,
        workerId: 'fetch',
        attempt,
        packet: fetch,
        objective: fetch.objective,
        logDir,
      });
      if (!started.ok) throw new Error(started.error);
      const exit = await started.exited;
      exits.push(exit === 'lost' ? 'lost' : exit.code);
    }
    expect(exits).toEqual([1, 0]);
    expect(readFileSync(join(logDir, 'fetch.1.log'), 'utf8')).toBe('network hiccup on attempt 1\n');
    expect(readFileSync(join(logDir, 'fetch.2.log'), 'utf8')).toBe('fetched on attempt 2\n');
    expect(existsSync(join(scratch, `overseer-guarded-fetch-${runId}`))).toBe(false);
  });

  it('build is green when its targeted_tests and package gates pass; merge_ready is not run', async () => {
    const build = packet(await plan(), 'build');
    const gates = requiredGates(build);
    expect(gates.map((gate) => [gate.name, gate.level])).toEqual([
      ['unit', 'targeted_tests'],
      ['package-check', 'package'],
    ]);
    for (const gate of gates) {
      const result = await runGate(gate, { runId: 'guarded', workerId: 'build', attempt: 1, cwd: workDir, logDir, packet: build });
      expect(result).toMatchObject({ gate: gate.name, passed: true, exitCode: 0 });
    }
    expect(readFileSync(join(logDir, 'build.gate-package-check.1.log'), 'utf8')).toBe('package package check green for build\n');
    expect(readdirSync(workDir)).toEqual([]);
  });
});
