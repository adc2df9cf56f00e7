/**
 * The bootstrap service (`--bootstrap CMD`): `execute_phase {phase, context}` → `{phase, success,
 * artifacts | error}`, once per phase in order. A reply with `success: false` is a well-formed answer
 * (the phase failed), not a service error; the caller fails the bootstrap per its recipe.
 */
import * as z from 'zod';
import type { CallOptions, RpcCaller } from '../rpc/service-client.js';
import type { ServiceResult } from '../rpc/service-errors.js';
import { callWithSchema } from '../rpc/typed-call.js';
import type { BootstrapPhase } from './plan.js';

/** The seed's phases, in the seed's order; a plan's `bootstrap:` list replaces them. */
export const DEFAULT_BOOTSTRAP_PHASES = ['system_prompt_fastpath', 'mcp_fastpath'] as const;

/** Extra fields are kept: a service may report more than the seed's three. */
export const PhaseReply = z.looseObject({
  phase: z.string(),
  success: z.boolean(),
  /** The seed's services send an object (`{system_prompt: ...}`, `{mcp_servers: [...]}`); any JSON is kept. */
  artifacts: z.unknown().optional(),
  error: z.unknown().optional(),
});
export type PhaseReply = z.infer<typeof PhaseReply>;

export interface BootstrapService {
  /**
   * A phase object's other fields travel in the params beside `phase` and `context` (the seed's
   * services ignore fields they do not know).
   */
  executePhase(phase: string | BootstrapPhase, context?: Record<string, unknown>, options?: CallOptions): Promise<ServiceResult<PhaseReply>>;
}

export function bootstrapService(caller: RpcCaller): BootstrapService {
  return {
    executePhase(phase, context = {}, options) {
      const { phase: name, ...extra } = typeof phase === 'string' ? { phase } : phase;
      return callWithSchema(caller, 'execute_phase', { ...extra, phase: name, context }, PhaseReply, options);
    },
  };
}

/** One line for `bootstrap.failed`: `mcp_fastpath failed: no MCP servers configured`. */
export function phaseFailureReason(reply: PhaseReply): string {
  const error = reply.error;
  const why =
    error === undefined || error === null
      ? 'no reason given'
      : typeof error === 'string'
        ? error
        : JSON.stringify(error);
  return `${reply.phase} failed: ${why}`;
}
