/**
 * Node's own parseArgs in strict mode, with its errors turned into one-line usage errors, and the one
 * way every valued flag's text is checked: `--concurrency: expected a positive whole number, got "-1"`.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseLogPosition, POSITION_HINT } from '../inspect/log-position.js';
import { UsageError } from './usage-error.js';

type Options = NonNullable<ParseArgsConfig['options']>;
/** Named, so the build's declaration files can name it. */
type ParsedFlags<T extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>>;

export function parseFlags<T extends Options>(command: string, args: string[], options: T): ParsedFlags<T> {
  const joined = joinDashValues(command, args, options);
  try {
    return parseArgs({ args: joined, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new UsageError(`overseer ${command}: ${message ?? 'bad arguments'}`);
  }
}

/**
 * parseArgs takes the word after a valued flag as its value, but in strict mode refuses one that
 * starts with `-` as "ambiguous" (`--concurrency -1`, `replay --to -5`). Such a word is the value
 * unless it is one of the command's own flags: it is passed on as `--flag=word`, so the flag's own
 * check says what is wrong with it. A valued flag followed by another flag, or by nothing, has no value.
 */
function joinDashValues(command: string, args: readonly string[], options: Options): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] as string;
    if (arg === '--') {
      joined.push(...args.slice(i));
      break;
    }
    const name = valuedFlag(arg, options);
    if (name === undefined) {
      joined.push(arg);
      continue;
    }
    const next = args[i + 1];
    if (next === undefined || next === '--' || isOwnFlag(next, options)) {
      throw new UsageError(`overseer ${command}: ${arg} needs a value${next === undefined ? '' : `, got the flag ${next}`}`);
    }
    if (next.startsWith('-')) {
      joined.push(`--${name}=${next}`);
      i += 1;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

/** The option's name when `arg` is a string option written without `=value` (`--plan`, `-p`). */
function valuedFlag(arg: string, options: Options): string | undefined {
  const long = /^--([^=]+)$/.exec(arg)?.[1];
  if (long !== undefined) return options[long]?.type === 'string' ? long : undefined;
  const short = /^-([^-])$/.exec(arg)?.[1];
  if (short === undefined) return undefined;
  return Object.entries(options).find(([, option]) => option.short === short && option.type === 'string')?.[0];
}

function isOwnFlag(word: string, options: Options): boolean {
  const long = /^--([^=]+)/.exec(word)?.[1];
  if (long !== undefined) return long in options;
  const short = /^-([^-])/.exec(word)?.[1];
  return short !== undefined && Object.values(options).some((option) => option.short === short);
}

/** What a valued flag takes: its description in messages, and how its text is read (null: not one). */
export interface FlagValue<T> {
  expected: string;
  read(text: string): T | null;
}

/** `flag`'s value read as `kind`, or undefined when the flag was not given. */
export function flagValue<T>(flag: string, text: string | undefined, kind: FlagValue<T>): T | undefined {
  if (text === undefined) return undefined;
  const value = kind.read(text);
  if (value === null) throw new UsageError(`${flag}: expected ${kind.expected}, got ${JSON.stringify(text)}`);
  return value;
}

/** Decimal digits only: `1e3`, `0x10`, ` 4` and `4.0` are not how anyone writes a count. */
function wholeNumber(text: string, min: number, max: number): number | null {
  if (!/^\d+$/.test(text)) return null;
  const n = Number(text);
  return n >= min && n <= max ? n : null;
}

export const POSITIVE_WHOLE_NUMBER: FlagValue<number> = {
  expected: 'a positive whole number',
  read: (text) => wholeNumber(text, 1, Number.MAX_SAFE_INTEGER),
};

export const PORT: FlagValue<number> = {
  expected: 'a port number from 0 to 65535 (0 picks a free one)',
  read: (text) => wholeNumber(text, 0, 65535),
};

/** A word from a fixed list, as written (`--format dot`). */
export function oneOf<const T extends string>(words: readonly T[]): FlagValue<T> {
  return {
    expected: `one of ${words.join(', ')}`,
    read: (text) => (words as readonly string[]).includes(text) ? (text as T) : null,
  };
}

export const LOG_POSITION: FlagValue<bigint> = { expected: POSITION_HINT, read: parseLogPosition };
