/**
 * Where a JSON text stops being JSON. V8 names a position only for some errors ("Unexpected token
 * ']', ..." carries none), so plan files would lose the line number for the commonest slip, a
 * trailing comma; this small scanner finds it for every error. It only locates; JSON.parse decides.
 */

/** 1-based line of the first syntax error, or null if the scanner finds none. */
export function jsonErrorLine(text: string): number | null {
  const offset = firstErrorOffset(text);
  return offset === null ? null : text.slice(0, offset).split('\n').length;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// eslint-disable-next-line no-control-regex -- JSON forbids raw control characters inside strings
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const WHITESPACE = /[ \t\n\r]*/y;

/** Unwinds the scanner to its caller; never escapes this module. */
class Stop extends Error {
  constructor(readonly offset: number) {
    super(`JSON stops at offset ${String(offset)}`);
  }
}

/**
 * Iterative, with the open brackets kept in a list: a file chooses how deeply it nests, so the depth
 * must not be the JavaScript stack's (a plan of 200,000 `[` would overflow it).
 */
function firstErrorOffset(text: string): number | null {
  let at = 0;
  const skip = (): void => {
    WHITESPACE.lastIndex = at;
    WHITESPACE.exec(text);
    at = WHITESPACE.lastIndex;
  };
  const token = (pattern: RegExp): boolean => {
    pattern.lastIndex = at;
    if (!pattern.test(text)) return false;
    at = pattern.lastIndex;
    return true;
  };
  const expect = (char: string): void => {
    skip();
    if (text[at] !== char) throw new Stop(at);
    at += 1;
  };
  const key = (): void => {
    skip();
    if (!token(STRING)) throw new Stop(at);
    expect(':');
  };
  const scalar = (): boolean => {
    if (token(STRING) || token(NUMBER)) return true;
    const literal = ['true', 'false', 'null'].find((word) => text.startsWith(word, at));
    if (literal === undefined) return false;
    at += literal.length;
    return true;
  };
  /** The brackets that close the containers we are in, innermost last. */
  const open: Array<'}' | ']'> = [];

  try {
    for (;;) {
      // A value starts here: a container that opens (and is not empty) is entered; anything else is read whole.
      skip();
      const char = text[at];
      if (char === '{' || char === '[') {
        const close = char === '{' ? '}' : ']';
        at += 1;
        skip();
        if (text[at] !== close) {
          open.push(close);
          if (close === '}') key();
          continue;
        }
        at += 1;
      } else if (!scalar()) {
        throw new Stop(at);
      }
      // A value ended: close what it ended, until a comma asks for the next member.
      for (;;) {
        skip();
        const close = open.at(-1);
        if (close === undefined) return at < text.length ? at : null;
        if (text[at] === close) {
          at += 1;
          open.pop();
          continue;
        }
        if (text[at] !== ',') throw new Stop(at);
        at += 1;
        if (close === '}') key();
        break;
      }
    }
  } catch (stop) {
    if (stop instanceof Stop) return Math.min(stop.offset, text.length);
    throw stop;
  }
}
