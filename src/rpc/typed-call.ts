/**
 * A call whose result is parsed with a zod schema: the step every service facade shares. A result of
 * the wrong shape is a `bad_reply` (`wrong_shape`) naming each field and what was wrong with it.
 */
import type * as z from 'zod';
import { describeProblems, issueProblems } from './rpc-messages.js';
import type { CallOptions, RpcCaller } from './service-client.js';
import { failed, ServiceError, shownLine, succeeded, type ReplyProblem, type ServiceResult } from './service-errors.js';

export async function callWithSchema<S extends z.ZodType>(
  caller: RpcCaller,
  method: string,
  params: unknown,
  schema: S,
  options?: CallOptions,
): Promise<ServiceResult<z.output<S>>> {
  const reply = await caller.call(method, params, options);
  if (!reply.ok) return reply;
  const parsed = schema.safeParse(reply.value);
  if (parsed.success) return succeeded(parsed.data);
  return failed(wrongShape(caller.name, method, reply.value, issueProblems(parsed.error, 'result')));
}

/**
 * A `bad_reply` for a result that came in a well-formed reply but is not what the method promises.
 * `what` names the kind of wrongness for the message (`a result of the wrong shape`).
 */
export function wrongShape(
  service: string,
  method: string,
  result: unknown,
  problems: ReplyProblem[],
  what = 'a result of the wrong shape',
): ServiceError {
  const shown = shownLine(JSON.stringify(result) ?? 'undefined');
  return new ServiceError(
    service,
    method,
    { code: 'bad_reply', reason: 'wrong_shape', line: shown, problems },
    `${service} answered ${method} with ${what} (${describeProblems(problems)}): ${shown}`,
  );
}
