/**
 * How a shell worker (or gate) is handed its task packet. Linux refuses to start a process with one
 * environment string over 128 KiB (MAX_ARG_STRLEN: spawn fails with E2BIG), and a packet carries its
 * objective whole, so the packet always travels in a file, named by OVERSEER_TASK_PACKET_FILE. The
 * same JSON in OVERSEER_TASK_PACKET, and the objective in OVERSEER_OBJECTIVE, are set as well when
 * each fits in 64 KiB: together well within what one process may be given (ARG_MAX, 2 MiB by default).
 */

/** The most one of the packet's variables may take, its name, `=` and final NUL included. */
export const MAX_PACKET_VARIABLE_BYTES = 64 * 1024;

/** Set only when they fit, so whatever the engine inherited under these names is never passed on. */
export const SIZED_PACKET_VARIABLES = ['OVERSEER_TASK_PACKET', 'OVERSEER_OBJECTIVE'] as const;

export function taskPacketVariables(input: { packetFile: string; packetJson: string; objective: string }): Record<string, string> {
  const variables: Record<string, string> = { OVERSEER_TASK_PACKET_FILE: input.packetFile };
  const sized: Record<(typeof SIZED_PACKET_VARIABLES)[number], string> = { OVERSEER_TASK_PACKET: input.packetJson, OVERSEER_OBJECTIVE: input.objective };
  for (const name of SIZED_PACKET_VARIABLES) {
    const value = sized[name];
    if (Buffer.byteLength(`${name}=${value}`) + 1 <= MAX_PACKET_VARIABLE_BYTES) variables[name] = value;
  }
  return variables;
}
