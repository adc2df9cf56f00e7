/**
 * Decides, for a worker about to start, whether it is trusted, must wait for a person, or is denied,
 * and names the source of that decision (it is recorded on the `trust.decided` event).
 */
import type { TrustDecision } from '../../machines/events.js';

export interface TrustVerdict {
  decision: TrustDecision;
  source: string;
}

export interface TrustInput {
  packet: { id: string; objective: string; trusted?: boolean | undefined } & Record<string, unknown>;
  autoApprove: boolean;
  /** The directory the run started from; a packet's relative `cwd` is resolved against it. */
  cwd?: string | undefined;
  /**
   * The name of the worker kind that will run the worker (src/workers/kinds/); `shell` when not given
   * (the only kind there was at first). A policy's `worker:` names one of WORKER_KINDS.
   */
  workerKind?: string | undefined;
}

export type TrustResolver = (input: TrustInput) => TrustVerdict | Promise<TrustVerdict>;

export const defaultTrustResolver: TrustResolver = ({ packet, autoApprove }) => {
  if (autoApprove) return { decision: 'trust', source: 'flag:--auto-approve' };
  if (packet.trusted === true) return { decision: 'trust', source: 'plan:trusted' };
  return { decision: 'ask', source: 'default:ask' };
};
