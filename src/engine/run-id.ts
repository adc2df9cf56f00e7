import { randomBytes } from 'node:crypto';

/** Short and typeable: a letter then seven of [a-z0-9], e.g. `k3m9x2qa`. Collisions fail the append and retry. */
export function newRunId(): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
  const bytes = randomBytes(8);
  let id = alphabet[bytes[0]! % 24]!;
  for (let i = 1; i < 8; i++) id += alphabet[bytes[i]! % alphabet.length]!;
  return id;
}
