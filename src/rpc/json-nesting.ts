/**
 * How deep JSON from outside may nest: plan and policy files, and every reply a service sends. Such
 * data is kept (a packet's `repo`, a phase's `artifacts`) and recorded in events, and what handles
 * events has limits of its own, measured here: JSON.stringify and structuredClone give up some
 * 3,000–5,000 levels down; jsonb takes about 13,000 on Postgres 15 and 16,000 on 18 (then `stack
 * depth limit exceeded`, with the default 2MB max_stack_depth); the embedded PGlite 0.4 store skips
 * an insert past about 5,700 without a word. So data is refused where it enters, at a depth no packet
 * needs (serde_json's default limit is the same), and what is let in stays far from all of them.
 */

/** Arrays and objects count a level each; the outermost value is level 1. */
export const MAX_JSON_DEPTH = 128;

export type JsonPath = Array<string | number>;

interface Entry {
  value: object;
  depth: number;
  key: string | number;
  parent: Entry | null;
}

/** Where a value nests too deep: the first keys of the path to its first too-deep array or object. */
export interface TooDeep {
  /** Enough keys to name the field, not 128 `[0]`s. */
  path: JsonPath;
  /** The path goes on past `path`: a message shows `…`. */
  cut: boolean;
}

const SHOWN_KEYS = 8;

export const TOO_DEEP = `nested more than ${String(MAX_JSON_DEPTH)} levels deep`;

/** Where `value` first nests deeper than MAX_JSON_DEPTH, or null when it does not. */
export function tooDeep(value: unknown): TooDeep | null {
  if (typeof value !== 'object' || value === null) return null;
  // A stack of our own: a value deeper than the call stack goes is exactly what this is for.
  const stack: Entry[] = [{ value, depth: 1, key: '', parent: null }];
  for (let entry = stack.pop(); entry !== undefined; entry = stack.pop()) {
    if (entry.depth > MAX_JSON_DEPTH) {
      const path = pathOf(entry);
      return { path: path.slice(0, SHOWN_KEYS), cut: path.length > SHOWN_KEYS };
    }
    const members: Array<[string | number, unknown]> = Array.isArray(entry.value) ? entry.value.map((member, index) => [index, member]) : Object.entries(entry.value);
    // Pushed last to first, so the first too-deep value in the text is the one found.
    for (let i = members.length - 1; i >= 0; i -= 1) {
      const [key, member] = members[i] as [string | number, unknown];
      if (typeof member === 'object' && member !== null) stack.push({ value: member, depth: entry.depth + 1, key, parent: entry });
    }
  }
  return null;
}

function pathOf(entry: Entry): JsonPath {
  const path: JsonPath = [];
  for (let at: Entry | null = entry; at !== null && at.parent !== null; at = at.parent) path.push(at.key);
  return path.reverse();
}
