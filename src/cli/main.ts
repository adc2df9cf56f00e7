/** The `overseer` command: dispatches to a subcommand; usage problems become one line and exit 2. */
import { cliFailure } from './cli-failure.js';
import { usageText, type CommandName } from './command-table.js';
import { EXIT, UsageError } from './usage-error.js';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * `--schema NAME` (or `--schema=NAME`), taken by every command: the tables and notification channels
 * of the store live in that schema (docs/scaling.md). It is OVERSEER_SCHEMA spelt on the command line,
 * so it is set there and every command's store sees it.
 */
function takeSchemaOption(argv: readonly string[]): string[] {
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (word !== '--schema' && !word.startsWith('--schema=')) {
      rest.push(word);
      continue;
    }
    const value = word === '--schema' ? argv[++i] : word.slice('--schema='.length);
    if (value === undefined || !SCHEMA_NAME.test(value)) {
      throw new UsageError(`overseer: --schema needs a name of lower-case letters, digits and _ (got ${JSON.stringify(value ?? '')})`);
    }
    process.env.OVERSEER_SCHEMA = value;
  }
  return rest;
}

// Loaded on demand: a command pays start-up only for the modules it uses.
const commands: Record<CommandName, (args: string[]) => Promise<number>> = {
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
  fork: async (args) => (await import('./fork-command.js')).forkCommand(args),
  mcp: async (args) => (await import('./mcp-command.js')).mcpCommand(args),
  worker: async (args) => (await import('./worker-command.js')).workerCommand(args),
};

export async function main(argv: string[]): Promise<number> {
  // `overseer events RUN | head` closes our stdout early: that is the reader's choice, not a failure.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  let args: string[];
  try {
    args = takeSchemaOption(argv);
  } catch (error) {
    process.stderr.write(`${cliFailure(error, 'overseer').message}\n`);
    return EXIT.usage;
  }
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usageText()}\n`);
    return name === undefined ? EXIT.usage : 0;
  }
  const command = Object.hasOwn(commands, name) ? commands[name as CommandName] : undefined;
  try {
    if (command === undefined) throw new UsageError(`overseer: unknown command "${name}" (try: ${Object.keys(commands).join(', ')})`);
    return await command(rest);
  } catch (error) {
    const failure = cliFailure(error, name);
    process.stderr.write(`${failure.message}\n`);
    return failure.exitCode;
  }
}
