/**
 * Reading what an agent prints, one line at a time as it arrives, into its progress: session id,
 * turns, tokens in and out, cost, and its final result. Three formats:
 * - `claude-stream-json`: Claude Code's `--output-format stream-json` — a `system` line with the
 *   session id, `assistant` lines whose `message.usage` counts tokens (one message may span several
 *   lines: counted once per message id), and a final `result` with `usage`, `total_cost_usd`,
 *   `num_turns` and `is_error`, which is the last word on all of them;
 * - `codex-json`: Codex's `exec --json` — `thread.started` (the session id), `turn.completed` with
 *   `usage` per turn, `item.completed` agent messages (the last is the result), `turn.failed`/`error`;
 * - `text`: no usage; the last line printed is the result.
 * Input tokens include cached ones (both CLIs count them apart; a budget counts what was sent).
 * A line that is not JSON (a warning on stderr, which shares the capture) is skipped.
 */
import type { AgentOutput } from '../planning/agent-plan.js';

export interface AgentProgress {
  sessionId: string | null;
  turns: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  result: { isError: boolean; text: string } | null;
  /** Claude: the message ids already counted. */
  counted: readonly string[];
}

export const NO_PROGRESS: AgentProgress = Object.freeze({ sessionId: null, turns: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, result: null, counted: [] });

type Json = Record<string, unknown>;

const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0);
const obj = (value: unknown): Json => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {});
const text = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value) ?? '');
/** Results are kept for people to read, not whole. */
const MAX_RESULT = 2000;
const clip = (value: string): string => (value.length > MAX_RESULT ? `${value.slice(0, MAX_RESULT)}…` : value);

function parseJson(line: string): Json | null {
  if (!line.startsWith('{')) return null;
  try {
    return obj(JSON.parse(line));
  } catch {
    // Not a line of the format (an agent's warning, a half-written line never completed): skipped.
    return null;
  }
}

function inputTokens(usage: Json): number {
  return num(usage['input_tokens']) + num(usage['cache_creation_input_tokens']) + num(usage['cache_read_input_tokens']) + num(usage['cached_input_tokens']);
}

function claudeLine(progress: AgentProgress, line: Json): AgentProgress {
  const sessionId = typeof line['session_id'] === 'string' ? line['session_id'] : progress.sessionId;
  switch (line['type']) {
    case 'assistant': {
      const message = obj(line['message']);
      const id = typeof message['id'] === 'string' ? message['id'] : null;
      if (id !== null && progress.counted.includes(id)) return { ...progress, sessionId };
      const usage = obj(message['usage']);
      return {
        ...progress,
        sessionId,
        turns: progress.turns + 1,
        inputTokens: progress.inputTokens + inputTokens(usage),
        outputTokens: progress.outputTokens + num(usage['output_tokens']),
        counted: id === null ? progress.counted : [...progress.counted.slice(-50), id],
      };
    }
    case 'result': {
      const usage = obj(line['usage']);
      const hasUsage = 'output_tokens' in usage;
      return {
        ...progress,
        sessionId,
        turns: typeof line['num_turns'] === 'number' ? line['num_turns'] : progress.turns,
        inputTokens: hasUsage ? inputTokens(usage) : progress.inputTokens,
        outputTokens: hasUsage ? num(usage['output_tokens']) : progress.outputTokens,
        costUsd: 'total_cost_usd' in line ? num(line['total_cost_usd']) : progress.costUsd,
        result: { isError: line['is_error'] === true, text: clip(text(line['result'] ?? line['subtype'] ?? '')) },
      };
    }
    default:
      return { ...progress, sessionId };
  }
}

function codexLine(progress: AgentProgress, line: Json): AgentProgress {
  switch (line['type']) {
    case 'thread.started':
      return { ...progress, sessionId: typeof line['thread_id'] === 'string' ? line['thread_id'] : progress.sessionId };
    case 'turn.completed': {
      const usage = obj(line['usage']);
      return { ...progress, turns: progress.turns + 1, inputTokens: progress.inputTokens + inputTokens(usage), outputTokens: progress.outputTokens + num(usage['output_tokens']) };
    }
    case 'item.completed': {
      const item = obj(line['item']);
      const kind = item['type'] ?? item['item_type'];
      if (kind !== 'agent_message' && kind !== 'assistant_message') return progress;
      return { ...progress, result: { isError: false, text: clip(text(item['text'])) } };
    }
    case 'turn.failed':
      return { ...progress, result: { isError: true, text: clip(text(obj(line['error'])['message'] ?? 'turn failed')) } };
    case 'error':
      return { ...progress, result: { isError: true, text: clip(text(line['message'] ?? 'error')) } };
    default:
      return progress;
  }
}

/** The progress after one complete line of output. */
export function readAgentLine(format: AgentOutput, progress: AgentProgress, raw: string): AgentProgress {
  const line = raw.trim();
  if (line === '') return progress;
  if (format === 'text') return { ...progress, result: { isError: false, text: clip(line) } };
  const json = parseJson(line);
  if (json === null) return progress;
  return format === 'claude-stream-json' ? claudeLine(progress, json) : codexLine(progress, json);
}
