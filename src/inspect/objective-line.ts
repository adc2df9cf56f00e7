/**
 * An objective as text for people: control characters written as escapes, so a newline cannot split
 * a row and an escape sequence cannot reach the terminal. Lists (`overseer status`, the viewer's runs)
 * show one line per run, cut to a length a row can hold; a single run's views show it whole.
 */

/** Characters of a list row, the ellipsis included. */
export const OBJECTIVE_LINE_LENGTH = 100;

// C0 and C1 controls and DEL, the line and paragraph separators, and the bidirectional overrides
// (which reorder what a terminal shows after them).
const CONTROL = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;
const CONTROLS = new RegExp(CONTROL.source, 'gu');
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escape(char: string): string {
  if (!CONTROL.test(char)) return char;
  return NAMED[char] ?? `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`;
}

/** The whole objective, its control characters escaped. */
export function objectiveText(objective: string): string {
  return objective.replace(CONTROLS, escape);
}

/** One line of at most OBJECTIVE_LINE_LENGTH characters; reads no further than it shows. */
export function objectiveLine(objective: string): string {
  const pieces: string[] = [];
  let length = 0;
  for (const char of objective) {
    const piece = escape(char);
    if (length + piece.length > OBJECTIVE_LINE_LENGTH) {
      // Whole characters and whole escapes only, and room for the ellipsis.
      while (length + 1 > OBJECTIVE_LINE_LENGTH) length -= pieces.pop()?.length ?? length;
      return `${pieces.join('')}…`;
    }
    pieces.push(piece);
    length += piece.length;
  }
  return pieces.join('');
}
