/**
 * A run whose log was cut short behind the store's back: detached at its trust gate (the plan's
 * `risky` packet waits there), approved and resumed to its end, then its events after the gate
 * deleted with SQL. The log alone says it still waits; its snapshot and runs row say it completed.
 */
import { expect } from 'vitest';
import type { TestTarget } from './backends.js';
import type { CliResult } from './cli.js';

export interface CutShortRun {
  runId: string;
  /** The version the log now ends at (where `risky` waited). */
  waitedAt: number;
  /** The version the run had reached before the cut. */
  reached: number;
}

/** The version a run's log ends at, read with SQL. */
export async function lastVersion(target: TestTarget, runId: string): Promise<number> {
  return (await target.query<{ last: number }>('select max(version)::int as last from events where stream_id = $1', [runId]))[0]!.last;
}

export async function cutShortRun(cli: (args: string[]) => Promise<CliResult>, target: TestTarget, plan: string): Promise<CutShortRun> {
  const detached = await cli(['run', '--plan', plan, '--detach', '--json']);
  expect(detached.code).toBe(3);
  const { runId } = JSON.parse(detached.stdout) as { runId: string };
  const waitedAt = await lastVersion(target, runId);
  expect((await cli(['approve', runId, 'risky'])).code).toBe(0);
  expect((await cli(['resume', runId])).code).toBe(0);
  const reached = await lastVersion(target, runId);
  await target.query('delete from events where stream_id = $1 and version > $2', [runId, waitedAt]);
  return { runId, waitedAt, reached };
}
