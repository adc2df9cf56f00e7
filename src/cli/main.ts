/** The `overseer` command: dispatches to a subcommand; usage problems become one line and exit 2. */
import { EXIT, UsageError } from './usage-error.js';

// Loaded on demand: a command pays start-up only for the modules it uses.
const commands: Record<string, (args: string[]) => Promise<number>> = {
  run: async (args) => (await import('./run-command.js')).runCommand(args),
  status: async (args) => (await import('./status-command.js')).statusCommand(args),
  events: async (args) => (await import('./events-command.js')).eventsCommand(args),
  resume: async (args) => (await import('./resume-command.js')).resumeCommand(args),
  approve: async (args) => (await import('./approve-command.js')).approveCommand(args),
  cancel: async (args) => (await import('./cancel-command.js')).cancelCommand(args),
  replay: async (args) => (await import('./replay-command.js')).replayCommand(args),
  viz: async (args) => (await import('./viz-command.js')).vizCommand(args),
  verify: async (args) => (await import('./verify-command.js')).verifyCommand(args),
  serve: async (args) => (await import('./serve-command.js')).serveCommand(args),
  store: async (args) => (await import('./store-command.js')).storeCommand(args),
  export: async (args) => (await import('./export-command.js')).exportCommand(args),
  import: async (args) => (await import('./import-command.js')).importCommand(args),
};

const USAGE = `usage: overseer <command> [options]
  run [OBJECTIVE...] [--plan FILE] [--planner CMD] [--bootstrap CMD] [--worker CMD] [--worker-service CMD] [--policy FILE] [--auto-approve] [--concurrency N] [--db URL|DIR] [--json] [--detach]
  status [RUN_ID] [--json]
  events RUN_ID [--worker ID] [--type PREFIX] [--since POSITION|ISO-TIME] [--follow] [--json]
  resume RUN_ID [--json] [--detach]
  approve RUN_ID WORKER_ID [--deny] [--reason TEXT]
  cancel RUN_ID [--reason TEXT]
  replay RUN_ID [--to POSITION] [--json]
  viz [workflow|worker|RUN_ID] [--format mermaid|dot|json]
  verify RUN_ID [--json]
  serve [--port N] [--db URL|DIR]
  store status|stop [--db URL|DIR] [--json] [--force]`;

export async function main(argv: string[]): Promise<number> {
  // `overseer events RUN | head` closes our stdout early: that is the reader's choice, not a failure.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? EXIT.usage : 0;
  }
  const command = commands[name];
  try {
    if (command === undefined) throw new UsageError(`overseer: unknown command "${name}" (try: ${Object.keys(commands).join(', ')})`);
    return await command(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`overseer: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.failed;
  }
}
