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
  const value = (): void => {
    skip();
    const char = text[at];
    if (char === '{') return members('}', () => {
      skip();
      if (!token(STRING)) throw new Stop(at);
      expect(':');
      value();
    });
    if (char === '[') return members(']', value);
    if (token(STRING) || token(NUMBER)) return;
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, at)) {
        at += literal.length;
        return;
      }
    }
    throw new Stop(at);
  };
  const members = (close: string, member: () => void): void => {
    at += 1;
    skip();
    if (text[at] === close) {
      at += 1;
      return;
    }
    for (;;) {
      member();
      skip();
      if (text[at] === close) {
        at += 1;
        return;
      }
      expect(',');
    }
  };

  try {
    value();
    skip();
    return at < text.length ? at : null;
  } catch (stop) {
    if (stop instanceof Stop) return Math.min(stop.offset, text.length);
    throw stop;
  }
}
