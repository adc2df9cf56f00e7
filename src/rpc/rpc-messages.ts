/**
 * The seed's wire format: one JSON object per line. Requests are `{"id","method","params"}`; replies
 * are `{"id","result"}` or `{"id","error"}`, optionally with `"jsonrpc":"2.0"`. Replies are read
 * leniently where the seed's services differ from JSON-RPC 2.0 (a string `error`, JSON-RPC 1.0's
 * `"error": null` beside a result) and strictly where a wrong guess would mix calls up (the id).
 */
import * as z from 'zod';
import { TOO_DEEP, tooDeep } from './json-nesting.js';
import type { ReplyProblem } from './service-errors.js';

export const RpcId = z.union([z.string(), z.number()]);
export type RpcId = z.infer<typeof RpcId>;

/** JSON-RPC 2.0's code for a method the service does not have. */
export const METHOD_NOT_FOUND = -32601;

/** An `error` as the service sent it, normalised: the seed's services may send a bare string. */
export interface RpcErrorObject {
  message: string;
  code: number | string | null;
  /** Whatever else the service put in its error (JSON-RPC's `data`, or its own fields). */
  data?: unknown;
}

const RpcErrorValue = z.union([
  z.string(),
  z.looseObject({
    code: z.union([z.number(), z.string()]).optional(),
    message: z.string().optional(),
    data: z.unknown().optional(),
  }),
]);

const ReplyEnvelope = z.looseObject({
  id: RpcId,
  jsonrpc: z.literal('2.0').optional(),
  error: z.union([RpcErrorValue, z.null()]).optional(),
});

export type RpcOutcome = { ok: true; result: unknown } | { ok: false; error: RpcErrorObject };

/** What one line from the service turned out to be. */
export type ReplyLine =
  /** A reply to call `id` (which may or may not be waiting). */
  | { kind: 'reply'; id: RpcId; outcome: RpcOutcome }
  /** It names an id but is not a reply; the call with that id cannot be answered by it. */
  | { kind: 'malformed'; id: RpcId; problem: string }
  /** No call can be told from it. */
  | { kind: 'unreadable'; reason: 'not_json' | 'wrong_shape'; problem: string };

export function encodeRequest(id: string, method: string, params: unknown, withJsonRpcField: boolean): string {
  const request = withJsonRpcField ? { jsonrpc: '2.0', id, method, params } : { id, method, params };
  return `${JSON.stringify(request)}\n`;
}

export function readReplyLine(line: string): ReplyLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { kind: 'unreadable', reason: 'not_json', problem: `a line that is not JSON (${(error as Error).message})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'unreadable', reason: 'wrong_shape', problem: `a line that is not a reply (expected an object, got ${describeJson(value)})` };
  }
  const id = RpcId.safeParse((value as Record<string, unknown>)['id']);
  if (!id.success) return { kind: 'unreadable', reason: 'wrong_shape', problem: 'a reply without an id (a string or a number)' };
  // What a service sends is kept in events: it may nest only so deep (json-nesting.ts).
  const deep = tooDeep(value);
  if (deep !== null) return { kind: 'malformed', id: id.data, problem: `a reply ${TOO_DEEP}, at ${replyPath(deep.path, '')}${deep.cut ? '…' : ''}` };

  const envelope = ReplyEnvelope.safeParse(value);
  if (!envelope.success) return { kind: 'malformed', id: id.data, problem: describeIssues(envelope.error, 'reply') };
  const reply = envelope.data;
  const error = reply.error ?? null;
  const hasResult = 'result' in reply && reply['result'] !== undefined;
  if (error !== null) {
    if (hasResult && reply['result'] !== null) return { kind: 'malformed', id: id.data, problem: 'a reply with both a result and an error' };
    return { kind: 'reply', id: id.data, outcome: { ok: false, error: normaliseError(error) } };
  }
  if (!hasResult) return { kind: 'malformed', id: id.data, problem: 'a reply with neither a result nor an error' };
  return { kind: 'reply', id: id.data, outcome: { ok: true, result: reply['result'] } };
}

function normaliseError(error: z.infer<typeof RpcErrorValue>): RpcErrorObject {
  if (typeof error === 'string') return { message: error, code: null };
  const { code, message, data, ...rest } = error;
  const normalised: RpcErrorObject = { message: message ?? JSON.stringify(error), code: code ?? null };
  // JSON-RPC's `data` as sent; a seed-style service's own extra fields are kept beside it.
  if (Object.keys(rest).length > 0) normalised.data = data === undefined ? rest : { data, ...rest };
  else if (data !== undefined) normalised.data = data;
  return normalised;
}

/** Each issue at its path under `root`: `result.worker_id`, `result[1].objective`. */
export function issueProblems(error: z.ZodError, root: string): ReplyProblem[] {
  return error.issues.map((issue) => ({ path: replyPath(issue.path, root), message: issue.message }));
}

function replyPath(path: ReadonlyArray<PropertyKey>, root: string): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${String(key)}]` : out === '' ? String(key) : `${out}.${String(key)}`), root);
}

/** One line: `result.worker_id: expected string, received number; ...`. */
export function describeProblems(problems: readonly ReplyProblem[]): string {
  return problems.map((problem) => (problem.path === '' ? problem.message : `${problem.path}: ${problem.message}`)).join('; ');
}

/** One line for a schema failure, as `describeProblems` writes it. */
export function describeIssues(error: z.ZodError, root: string): string {
  return describeProblems(issueProblems(error, root));
}

export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a string';
  return `${typeof value} ${JSON.stringify(value)}`;
}
