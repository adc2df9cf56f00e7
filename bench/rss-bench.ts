/**
 * The engine's peak resident memory during a run of `tasks` packets of `true` at `--concurrency`,
 * through the CLI as a user runs it, read from the process itself at its exit (see rss-probe.ts).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { commandPlan, overseer } from './lib/processes.js';

export interface RssFigures {
  tasks: number;
  peakRssMiB: number;
  seconds: number;
}

export async function benchPeakRss(db: string, workDir: string, options: { tasks: number; concurrency: number }): Promise<RssFigures> {
  const planFile = join(workDir, 'rss-plan.json');
  await writeFile(planFile, commandPlan('true', options.tasks, 'rss'));
  const args = ['run', '--plan', planFile, '--auto-approve', '--concurrency', String(options.concurrency), '--db', db];
  const run = await overseer(args, workDir, { peakRss: true });
  if (run.peakRssMiB === null) throw new Error('the CLI did not report its peak RSS');
  return { tasks: options.tasks, peakRssMiB: run.peakRssMiB, seconds: run.ms / 1000 };
}
