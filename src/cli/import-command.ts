/**
 * `overseer import FILE [--db URL|DIR] [--json]`: loads a run's exported log (`overseer export`,
 * `overseer events --json`) into the store with its run id, times and hashes. Anything wrong with
 * it is one line naming the file's line, exit 2, and nothing written (src/inspect/run-import.ts).
 */
import { readFile } from 'node:fs/promises';
import { ImportError, importRun } from '../inspect/run-import.js';
import { openCliStore } from './cli-store.js';
import { COMMANDS } from './command-table.js';
import { parseFlags } from './parse-flags.js';
import { UsageError } from './usage-error.js';

const flags = COMMANDS.import.flags;

export async function importCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('import', args, flags);
  const [file, extra] = positionals;
  if (file === undefined || extra !== undefined) throw new UsageError('overseer import: usage: overseer import FILE [--db URL|DIR] [--json]');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`overseer import: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  // Importing is writing: like `run`, it makes the embedded store when there is none yet.
  const store = await openCliStore(values.db, { create: true });
  try {
    const imported = await importRun(store, text);
    if (values.json === true) process.stdout.write(`${JSON.stringify(imported)}\n`);
    else process.stdout.write(`imported run ${imported.runId}: ${String(imported.events)} events (${imported.status})\n`);
    return 0;
  } catch (error) {
    if (error instanceof ImportError) throw new UsageError(`overseer import: ${file}: ${error.message}`);
    throw error;
  } finally {
    await store.close();
  }
}
