/**
 * The worker service (`--worker-service CMD`), the seed's worker methods plus our optional
 * `run_worker`:
 *
 *   spawn_worker {task_packet}                 → {worker_id}
 *   check_trust {worker_id}                    → {requires_approval}
 *   mark_trusted {worker_id, approval_source}  → anything
 *   run_worker {worker_id}                     → {status: "done" | "failed", output?, error?}
 *
 * A service written for the seed does not know `run_worker`. When it says so ("method not found": a
 * JSON-RPC -32601 error, or an error whose message says the method is unknown or not implemented),
 * `runWorker` reports `supported: false` and the caller counts the worker as done once trusted, as the
 * seed does; the answer is remembered, so the service is asked once. Any other error reply to
 * `run_worker` is an `error_reply`: treating it as success would hide a real failure.
 *
 * Results keep their extra fields, and `worker_id` is passed back exactly as the service gave it
 * (string or number), as the seed does.
 */
import * as z from 'zod';
import { METHOD_NOT_FOUND, type RpcErrorObject } from '../rpc/rpc-messages.js';
import type { CallOptions, RpcCaller } from '../rpc/service-client.js';
import { succeeded, type ServiceResult } from '../rpc/service-errors.js';
import { callWithSchema } from '../rpc/typed-call.js';

export const ServiceWorkerId = z.union([z.string().min(1), z.number()]);
export type ServiceWorkerId = z.infer<typeof ServiceWorkerId>;

export const SpawnWorkerReply = z.looseObject({ worker_id: ServiceWorkerId });
export type SpawnWorkerReply = z.infer<typeof SpawnWorkerReply>;

export const CheckTrustReply = z.looseObject({ requires_approval: z.boolean() });
export type CheckTrustReply = z.infer<typeof CheckTrustReply>;

export const RunWorkerReply = z.looseObject({
  status: z.enum(['done', 'failed']),
  output: z.unknown().optional(),
  error: z.unknown().optional(),
});
export type RunWorkerReply = z.infer<typeof RunWorkerReply>;

export type RunWorkerOutcome =
  | { supported: true; reply: RunWorkerReply }
  /** `reason` is the service's own words (`Method not found`), for the event that records it. */
  | { supported: false; reason: string };

export interface WorkerService {
  spawnWorker(taskPacket: Record<string, unknown>, options?: CallOptions): Promise<ServiceResult<SpawnWorkerReply>>;
  checkTrust(workerId: ServiceWorkerId, options?: CallOptions): Promise<ServiceResult<CheckTrustReply>>;
  markTrusted(workerId: ServiceWorkerId, approvalSource: string, options?: CallOptions): Promise<ServiceResult<unknown>>;
  /** A run lasts as long as the work does: pass `timeoutMs: null` and a `signal` that ends it when the worker's own timeout passes. */
  runWorker(workerId: ServiceWorkerId, options?: CallOptions): Promise<ServiceResult<RunWorkerOutcome>>;
  /** Null until `run_worker` has been asked (or answered "method not found"). */
  readonly runWorkerSupported: boolean | null;
}

export function workerService(caller: RpcCaller): WorkerService {
  let runWorkerSupported: boolean | null = null;
  let unsupportedReason = '';
  return {
    get runWorkerSupported() {
      return runWorkerSupported;
    },
    spawnWorker: (taskPacket, options) => callWithSchema(caller, 'spawn_worker', { task_packet: taskPacket }, SpawnWorkerReply, options),
    checkTrust: (workerId, options) => callWithSchema(caller, 'check_trust', { worker_id: workerId }, CheckTrustReply, options),
    markTrusted: (workerId, approvalSource, options) =>
      caller.call('mark_trusted', { worker_id: workerId, approval_source: approvalSource }, options),
    async runWorker(workerId, options) {
      if (runWorkerSupported === false) return succeeded({ supported: false, reason: unsupportedReason });
      const reply = await callWithSchema(caller, 'run_worker', { worker_id: workerId }, RunWorkerReply, options);
      if (!reply.ok && reply.error.detail.code === 'error_reply' && isMethodNotFound(reply.error.detail.error)) {
        runWorkerSupported = false;
        unsupportedReason = reply.error.detail.error.message;
        return succeeded({ supported: false, reason: unsupportedReason });
      }
      if (!reply.ok) return reply;
      runWorkerSupported = true;
      return succeeded({ supported: true, reply: reply.value });
    },
  };
}

const NOT_FOUND_WORDS = /\b(method not found|unknown method|no such method|method not supported|unsupported method|not implemented)\b/i;

/** How services say they have no such method: JSON-RPC's -32601, or in words. */
export function isMethodNotFound(error: RpcErrorObject): boolean {
  return error.code === METHOD_NOT_FOUND || error.code === String(METHOD_NOT_FOUND) || NOT_FOUND_WORDS.test(error.message);
}

/** One line for a failed run: the service's `error`, else its output, else a plain statement. */
export function runFailureReason(reply: RunWorkerReply): string {
  const said = reply.error ?? reply.output;
  if (said === undefined || said === null) return 'the worker service reported the run failed';
  return typeof said === 'string' ? said : JSON.stringify(said);
}
