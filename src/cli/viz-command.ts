/**
 * `overseer viz [workflow|worker|RUN_ID] [--format mermaid|dot|json]`: a machine's states and
 * transitions, read from its definition; for a run, both machines with the states its workflow and
 * workers are in now and how many times each transition fired.
 */
import { COMMANDS } from './command-table.js';
import { toDot } from '../inspect/diagram-dot.js';
import { toMermaid } from '../inspect/diagram-mermaid.js';
import type { MachineDiagram } from '../inspect/machine-diagram.js';
import { MachineVersionError } from '../fold/rebuild-run.js';
import { MACHINE_NAMES, overseerDiagram, runDiagrams, type MachineName } from '../inspect/run-diagram.js';
import { LogMismatchError } from '../fold/run-state.js';
import { withStore } from './cli-store.js';
import { findRun } from './find-run.js';
import { flagValue, oneOf, parseFlags } from './parse-flags.js';
import { UsageError } from './usage-error.js';

const flags = COMMANDS.viz.flags;
const FORMATS = ['mermaid', 'dot', 'json'] as const;
type Format = (typeof FORMATS)[number];
const FORMAT = oneOf(FORMATS);
const USAGE = 'usage: overseer viz [workflow|worker|RUN_ID] [--format mermaid|dot|json]';

function isMachineName(value: string): value is MachineName {
  return (MACHINE_NAMES as readonly string[]).includes(value);
}

function render(diagrams: MachineDiagram[], format: Format, runId: string | null): string {
  if (format === 'mermaid') return toMermaid(diagrams);
  if (format === 'dot') return toDot(diagrams);
  const [only] = diagrams;
  return `${JSON.stringify(runId === null && diagrams.length === 1 ? only : { runId, machines: diagrams })}\n`;
}

async function runDiagramsOf(db: string | undefined, runId: string): Promise<MachineDiagram[]> {
  const events = await withStore(db, async (store) => {
    await findRun(store, runId);
    return store.readStream(runId);
  });
  try {
    const diagrams = runDiagrams(events);
    const unexplained = diagrams.reduce((n, d) => n + d.unexplained, 0);
    if (unexplained > 0) process.stderr.write(`overseer viz: ${String(unexplained)} state change(s) in run ${runId} follow no transition of these machines\n`);
    return diagrams;
  } catch (error) {
    if (error instanceof MachineVersionError || error instanceof LogMismatchError) throw new UsageError(`overseer viz: run ${runId}: ${error.message}`);
    throw error;
  }
}

export async function vizCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('viz', args, flags);
  const [target = 'workflow', extra] = positionals;
  if (extra !== undefined) throw new UsageError(`overseer viz: one machine or run at a time, got "${extra}" too; ${USAGE}`);
  const format = flagValue('--format', values.format, FORMAT) ?? 'mermaid';
  const diagrams = isMachineName(target) ? [overseerDiagram(target)] : await runDiagramsOf(values.db, target);
  process.stdout.write(render(diagrams, format, isMachineName(target) ? null : target));
  return 0;
}
