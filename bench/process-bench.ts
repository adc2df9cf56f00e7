/**
 * Child entry of the bench (see `benchProcessesInChild` in cli-bench.ts): the 200-task CLI run against
 * the bare pool, then start-up, spawned from a small Node process. Prints one JSON result on stdout.
 * It imports nothing that loads a store, so it stays small.
 */
import { benchCliRun, benchStartup, type ProcessBenchRequest, type ProcessBenchResult } from './cli-bench.js';

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? '{}') as ProcessBenchRequest;
  process.stderr.write(`bench:        ${String(request.run.tasks)}-task CLI run vs bare pool (from a small child process)\n`);
  const run = await benchCliRun(request.db, request.workDir, request.run);
  process.stderr.write('bench:        start-up\n');
  const startup = await benchStartup(request.db, request.workDir, request.startupRounds);
  const result: ProcessBenchResult = { run, startup };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`process-bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
