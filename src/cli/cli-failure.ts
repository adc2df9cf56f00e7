/**
 * The one mapping from an error to what the CLI says and its exit code. Bad usage, bad input, and a
 * run that cannot be acted on as it is (not found, cut short, of other machines, owned by a live
 * engine) exit 2 with the error's one line; anything else is a failure (exit 1).
 */
import { OverseerError, type ErrorCode } from '../errors.js';
import { EXIT } from './usage-error.js';

const REFUSALS: ReadonlySet<string> = new Set<ErrorCode>([
  'USAGE',
  'NOT_FOUND',
  'NOT_APPLICABLE',
  'TRUNCATED',
  'LOG_MISMATCH',
  'INVALID_EVENT',
  'MACHINE_VERSION',
  'LEASE_HELD',
  'STORE_UNAVAILABLE',
]);

/** Errors whose message does not name what refused: the command's name goes first. */
const NAMED_BY_COMMAND: ReadonlySet<string> = new Set<ErrorCode>(['TRUNCATED']);

export interface CliFailure {
  exitCode: number;
  /** One line for stderr. */
  message: string;
}

export function cliFailure(error: unknown, command: string): CliFailure {
  const code = error instanceof OverseerError ? (error as OverseerError<string>).code : null;
  if (error instanceof Error && code !== null && REFUSALS.has(code)) {
    return { exitCode: EXIT.usage, message: NAMED_BY_COMMAND.has(code) ? `overseer ${command}: ${error.message}` : error.message };
  }
  return { exitCode: EXIT.failed, message: `overseer: ${error instanceof Error ? error.message : String(error)}` };
}
