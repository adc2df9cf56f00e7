/**
 * What a plan says about agent lanes (docs/agents.md): a packet's `agent` (a preset name, or a
 * command template and the format of its output), its `budget` and `merge`, and the plan's `repo`,
 * `target` and run-wide `budget`. Presets are expanded here, once, so the log records the very
 * command that ran.
 */
import * as z from 'zod';
import { LANE_MERGE_MODES } from '../../machines/events.js';
import { DURATION_HINT, parseDuration } from '../os/duration.js';

/** How an agent's output is read as it arrives (src/workers/agent-output.ts). */
export const AGENT_OUTPUTS = ['text', 'claude-stream-json', 'codex-json'] as const;
export type AgentOutput = (typeof AGENT_OUTPUTS)[number];

/**
 * Agent CLIs run without a person, as their own documentation gives it: Claude Code's print mode with
 * its line-by-line JSON (`-p --output-format stream-json --verbose`; it reads the prompt on stdin),
 * and Codex's `exec --json` (`-` reads the prompt on stdin). Both edit files in their working
 * directory, which is the lane's worktree.
 */
const AGENT_PRESETS = {
  claude: {
    command: 'claude -p --output-format stream-json --verbose --permission-mode acceptEdits < {prompt_file}',
    output: 'claude-stream-json',
  },
  codex: { command: 'codex exec --json --full-auto - < {prompt_file}', output: 'codex-json' },
} as const satisfies Record<string, AgentSpec>;

export interface AgentSpec {
  /** A shell template: `{prompt_file}` is replaced by the prompt file's path (quoted). */
  command: string;
  output: AgentOutput;
}

const PRESET_NAMES = Object.keys(AGENT_PRESETS);

/** A preset's name becomes its command and format; any other name stays a string, refused below with the presets named. */
const AgentField = z.preprocess(
  (value) => (typeof value === 'string' ? ((AGENT_PRESETS as Record<string, AgentSpec>)[value] ?? value) : value),
  z.strictObject(
    {
      command: z.string().min(1),
      output: z.enum(AGENT_OUTPUTS, { error: `expected an output format: ${AGENT_OUTPUTS.join(', ')}` }).default('text'),
    },
    {
      error: (issue) =>
        typeof issue.input === 'string'
          ? `unknown agent preset "${issue.input}" (presets: ${PRESET_NAMES.join(', ')}; or give { command, output })`
          : `expected an agent preset (${PRESET_NAMES.join(', ')}) or { command, output }`,
    },
  ),
);

const positive = z.number({ error: 'expected a positive number' }).positive({ error: 'expected a positive number' });

/** A budget as written (`time` a duration), read into numbers: tokens, US dollars, milliseconds. */
const BudgetField = z
  .strictObject({
    tokens: positive.optional(),
    usd: positive.optional(),
    time: z.custom<string | number>((value) => (typeof value === 'string' || typeof value === 'number') && parseDuration(value) !== null, { error: `expected ${DURATION_HINT}` }).optional(),
  })
  .transform(({ tokens, usd, time }) => ({
    ...(tokens === undefined ? {} : { tokens }),
    ...(usd === undefined ? {} : { usd }),
    ...(time === undefined ? {} : { timeMs: parseDuration(time) ?? 0 }),
  }));
export type Budget = z.infer<typeof BudgetField>;

const MergeField = z.enum(LANE_MERGE_MODES, { error: `expected one of ${LANE_MERGE_MODES.join(', ')}` });

/** The plan's own lane settings. */
export const LANE_PLAN_FIELDS = {
  repo: z.string().min(1).optional(),
  target: z.string().min(1).optional(),
  budget: BudgetField.optional(),
};

/** A packet's lane settings. */
export const LANE_PACKET_FIELDS = {
  agent: AgentField.optional(),
  budget: BudgetField.optional(),
  merge: MergeField.optional(),
};
