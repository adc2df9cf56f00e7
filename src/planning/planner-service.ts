/**
 * The planner service (`--planner CMD`): `decompose {objective, context}` → a list of task packets.
 * The list is checked exactly as a plan file's `packets:` would be (parsePlan), so a packet without an
 * objective, a duplicate id or a dependency cycle is reported with its path into the result. Every
 * field a packet carries is kept, on the parsed plan and in the packets as sent.
 */
import { describeJson } from '../rpc/rpc-messages.js';
import type { CallOptions, RpcCaller } from '../rpc/service-client.js';
import { failed, succeeded, type ServiceResult } from '../rpc/service-errors.js';
import { wrongShape } from '../rpc/typed-call.js';
import { parsePlan, type Plan } from './plan.js';

export interface DecomposeRequest {
  objective: string;
  /** Sent as given; the seed sends `{}`. */
  context?: Record<string, unknown>;
}

export interface DecomposedPlan {
  /** The packets parsed and resolved as a plan; its `source` is the service's name. */
  plan: Plan;
  /** The packets exactly as the service sent them, for the event log and for worker services. */
  packets: Record<string, unknown>[];
}

export interface PlannerService {
  /**
   * `bad_reply` (`wrong_shape`) when the result is not a list, or when its packets do not make a
   * valid plan; `problems` then lists each one (`result[1].objective: required`).
   */
  decompose(request: DecomposeRequest, options?: CallOptions): Promise<ServiceResult<DecomposedPlan>>;
}

export function plannerService(caller: RpcCaller): PlannerService {
  return {
    async decompose({ objective, context = {} }, options) {
      const reply = await caller.call('decompose', { objective, context }, options);
      if (!reply.ok) return reply;
      const result = reply.value;
      if (!Array.isArray(result)) {
        const problem = { path: 'result', message: `expected a list of task packets, got ${describeJson(result)}` };
        return failed(wrongShape(caller.name, 'decompose', result, [problem]));
      }
      // The service's own fields are kept: its workers may rely on them (the seed's `priority`).
      const parsed = parsePlan({ objective, packets: result }, caller.name, { unknownKeys: 'keep' });
      if (!parsed.ok) {
        // The service sent the list itself: its paths start at the result, not at a plan's `packets`.
        const problems = parsed.problems.map((p) => ({ ...p, path: p.path.replace(/^packets/, 'result') }));
        return failed(wrongShape(caller.name, 'decompose', result, problems, 'packets that do not make a valid plan'));
      }
      return succeeded({ plan: parsed.plan, packets: result as Record<string, unknown>[] });
    },
  };
}
