/**
 * The peer side of the process row: the same job through DBOS Transact, as its own process.
 *
 *   node dist/bench/dbos-peer.js '{"systemDatabaseUrl": "...", "tasks": 500, "concurrency": 16, "command": "true"}'
 *
 * One workflow whose steps each spawn `sh -c COMMAND`, `concurrency` of them at a time (lanes that
 * start their steps in a fixed order, as DBOS asks of concurrent steps). DBOS checkpoints every
 * step's outcome in its system database, as Overseer records every worker's events in its log.
 * Timed by the caller from spawning this process to its exit, like the Overseer CLI it is set beside.
 */
import { spawn } from 'node:child_process';
import { DBOS } from '@dbos-inc/dbos-sdk';

interface PeerRequest {
  systemDatabaseUrl: string;
  tasks: number;
  concurrency: number;
  command: string;
}

function runOnce(command: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(code) : reject(new Error(`sh -c '${command}' exited ${String(code)}`))));
  });
}

const job = DBOS.registerWorkflow(
  async (tasks: number, concurrency: number, command: string): Promise<number> => {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < tasks) {
        const index = next++;
        await DBOS.runStep(() => runOnce(command), { name: `task-${String(index + 1)}` });
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    return tasks;
  },
  { name: 'overseerBenchJob' },
);

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? '{}') as PeerRequest;
  DBOS.setConfig({ name: 'overseer-bench', systemDatabaseUrl: request.systemDatabaseUrl, logLevel: 'error' });
  await DBOS.launch();
  try {
    const handle = await DBOS.startWorkflow(job)(request.tasks, request.concurrency, request.command);
    const done = await handle.getResult();
    if (done !== request.tasks) throw new Error(`the DBOS workflow ran ${String(done)} of ${String(request.tasks)} tasks`);
  } finally {
    await DBOS.shutdown();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`dbos-peer failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
