/**
 * Every command's words and flags, with what each means: each command parses its flags from here
 * (Node's parseArgs ignores `value`, `help` and `hidden`), and `overseer --help` is printed from here,
 * so a flag cannot be accepted without being listed. Plain data: main.ts reads it without loading
 * any command.
 */

export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** What a string flag's value is, in the usage line: `--plan FILE`. */
  value?: string;
  help: string;
  /** Not for people to type (Overseer passes it to itself): accepted, not listed. */
  hidden?: boolean;
}

export interface CommandSpec {
  /** The positionals as the usage line shows them, each with what it means. */
  args: readonly { name: string; help: string }[];
  flags: Readonly<Record<string, FlagSpec>>;
}

const db = { type: 'string', value: 'URL|DIR', help: 'the store: a postgres:// URL or a folder (default $OVERSEER_DB, then ./.overseer)' } as const;
const json = { type: 'boolean', help: 'print JSON on stdout' } as const;
const RUN_ID = { name: 'RUN_ID', help: 'the run' } as const;

export const COMMANDS = {
  run: {
    args: [{ name: '[OBJECTIVE...]', help: 'what to do: one packet run by --worker, or what --planner splits into packets' }],
    flags: {
      plan: { type: 'string', value: 'FILE', help: 'a plan file (YAML or JSON): packets, defaults, policy, bootstrap' },
      planner: { type: 'string', value: 'CMD', help: 'a planner service that turns the objective into packets' },
      bootstrap: { type: 'string', value: 'CMD', help: "a bootstrap service that runs the plan's bootstrap phases" },
      worker: { type: 'string', value: 'CMD', help: 'the command that works on packets without a command of their own' },
      'worker-service': { type: 'string', value: 'CMD', help: 'a worker service that spawns and trusts workers' },
      'service-timeout': { type: 'string', value: 'DURATION', help: 'how long a service call may take (default 30s)' },
      policy: { type: 'string', value: 'FILE', help: "trust rules (wins over the plan's policy)" },
      'auto-approve': { type: 'boolean', help: "trust every packet the policy's deny rules do not refuse" },
      concurrency: { type: 'string', value: 'N', help: 'how many workers run at once (default 4)' },
      db,
      json,
      detach: { type: 'boolean', help: 'exit 3 when the run waits for a person instead of waiting too' },
      submit: { type: 'boolean', help: 'record the run for `overseer worker` to run, print its id and exit 0' },
    },
  },
  worker: {
    args: [],
    flags: {
      db,
      lease: { type: 'string', value: 'DURATION', help: "how long a run stays this engine's without a heartbeat (default 15s)" },
      'max-runs': { type: 'string', value: 'N', help: 'run at most N runs at a time (default: no limit)' },
    },
  },
  status: {
    args: [{ name: '[RUN_ID]', help: 'one run with its workers; without it, the runs newest first' }],
    flags: { limit: { type: 'string', value: 'N', help: 'how many runs to list (default 50)' }, db, json },
  },
  events: {
    args: [RUN_ID],
    flags: {
      worker: { type: 'string', multiple: true, value: 'ID', help: "only this worker's events (repeatable)" },
      type: { type: 'string', multiple: true, value: 'PREFIX', help: 'only events whose type starts so (repeatable)' },
      since: { type: 'string', value: 'POSITION|ISO-TIME', help: 'only events from there on' },
      follow: { type: 'boolean', short: 'f', help: 'keep printing new events until the run ends' },
      db,
      json,
    },
  },
  resume: {
    args: [RUN_ID],
    flags: { db, json, detach: { type: 'boolean', help: 'exit 3 when the run waits for a person' } },
  },
  approve: {
    args: [RUN_ID, { name: 'WORKER_ID', help: 'the worker, or its packet id' }],
    flags: {
      deny: { type: 'boolean', help: 'refuse instead (at an escalation: give up)' },
      reason: { type: 'string', value: 'TEXT', help: 'why, recorded with the decision' },
      db,
    },
  },
  cancel: {
    args: [RUN_ID],
    flags: { reason: { type: 'string', value: 'TEXT', help: 'why, recorded with the cancel' }, db },
  },
  replay: {
    args: [RUN_ID],
    flags: { to: { type: 'string', value: 'POSITION', help: 'the states right after this global position' }, db, json },
  },
  viz: {
    args: [{ name: '[workflow|worker|RUN_ID]', help: "a machine's diagram, or a run's with its current states" }],
    flags: { format: { type: 'string', value: 'mermaid|dot|json', help: 'the output (default mermaid)' }, db },
  },
  verify: {
    args: [RUN_ID],
    flags: { db, json },
  },
  serve: {
    args: [],
    flags: { port: { type: 'string', value: 'N', help: 'the port on 127.0.0.1 (default 4680; 0 picks a free one)' }, db },
  },
  store: {
    args: [{ name: 'status|stop', help: 'where the store is and who uses it; stop the embedded server' }],
    flags: {
      force: { type: 'boolean', help: 'stop even while clients are connected' },
      idle: { type: 'string', value: 'N', help: "the idle keeper's quiet period (store keep)", hidden: true },
      db,
      json,
    },
  },
  export: {
    args: [RUN_ID],
    flags: { db },
  },
  import: {
    args: [{ name: 'FILE', help: 'a log printed by export (or events --json): the run is loaded with its id, order, times and hashes' }],
    flags: { db, json },
  },
  fork: {
    args: [{ name: 'RUN_ID', help: 'the run to start from; its settings are kept unless a flag below overrides them' }],
    flags: {
      at: { type: 'string', value: 'POSITION', help: "the event (its global position, as events shows) whose state the new run starts from" },
      'auto-approve': { type: 'boolean', help: "trust every packet the policy's deny rules do not refuse (default: as the run did)" },
      policy: { type: 'string', value: 'FILE', help: "trust rules instead of the run's" },
      concurrency: { type: 'string', value: 'N', help: "how many workers run at once (default: the run's)" },
      db,
      json,
      detach: { type: 'boolean', help: 'exit 3 when the new run waits for a person instead of waiting too' },
    },
  },
  mcp: {
    args: [],
    flags: { db },
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

function flagWords(name: string, flag: FlagSpec): string {
  const words = `--${name}${flag.value === undefined ? '' : ` ${flag.value}`}`;
  return flag.multiple === true ? `${words}...` : words;
}

/** `overseer --help`: each command's usage line, then what its words and flags mean. */
export function usageText(): string {
  const lines = [
    'usage: overseer <command> [options]',
    '',
    '  every command also takes --schema NAME: the store\'s tables and channels in that schema (default $OVERSEER_SCHEMA, then public)',
  ];
  for (const [command, spec] of Object.entries(COMMANDS) as [string, CommandSpec][]) {
    const flags = Object.entries(spec.flags).filter(([, flag]) => flag.hidden !== true);
    lines.push('', `  ${[command, ...spec.args.map((a) => a.name), ...flags.map(([name, flag]) => `[${flagWords(name, flag)}]`)].join(' ')}`);
    const rows = [...spec.args.map((a) => [a.name, a.help] as const), ...flags.map(([name, flag]) => [`${flag.short === undefined ? '' : `-${flag.short}, `}${flagWords(name, flag)}`, flag.help] as const)];
    const width = Math.max(...rows.map(([words]) => words.length));
    for (const [words, help] of rows) lines.push(`      ${words.padEnd(width)}  ${help}`);
  }
  return lines.join('\n');
}
