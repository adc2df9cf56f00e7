/** Bad usage or bad input: the CLI prints the message as one line on stderr and exits 2. */
import { OverseerError } from '../errors.js';

export class UsageError extends OverseerError {
  readonly code = 'USAGE' as const;
}

export const EXIT = Object.freeze({ completed: 0, failed: 1, usage: 2, waiting: 3, interrupted: 130 });
