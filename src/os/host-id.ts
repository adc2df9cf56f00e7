/**
 * Which machine this process runs on, as recorded with leases and worker processes: a pid means
 * something only on its own host. OVERSEER_HOST_ID overrides the hostname, for containers that share
 * one (or get a new one per start) and for tests that play several hosts on one machine.
 */
import { hostname } from 'node:os';

/** Asked once: every worker's start names its host, and each ask is a system call. */
let ownHostname: string | undefined;

export function hostId(env: NodeJS.ProcessEnv = process.env): string {
  const chosen = env.OVERSEER_HOST_ID?.trim();
  if (chosen !== undefined && chosen !== '') return chosen;
  ownHostname ??= hostname();
  return ownHostname;
}
