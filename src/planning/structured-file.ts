/**
 * Reading a YAML or JSON file a person wrote (a plan, a trust policy): every way it can fail to read
 * or parse becomes one short message, with the line of a syntax error, never a stack trace. What it
 * holds may nest at most MAX_JSON_DEPTH levels, as what a service sends (see json-nesting.ts).
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { TOO_DEEP, tooDeep } from '../rpc/json-nesting.js';
import { jsonErrorLine } from './json-error-line.js';
import { formatPath } from './plan-problem.js';

export type StructuredFile = { ok: true; value: unknown } | { ok: false; message: string };

/** `what` names the kind of file in messages: `a plan file holds one YAML document…`. */
export async function readStructuredFile(path: string, what: string): Promise<StructuredFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return { ok: false, message: readFailure(error, what) };
  }
  return parseStructuredText(text, what, extname(path).toLowerCase());
}

/**
 * The same checks for text that came without a file (a plan handed over MCP or the library):
 * `extension` (`.json`, `.yaml`) picks the syntax, or none tries JSON, then YAML.
 */
export function parseStructuredText(text: string, what: string, extension = ''): StructuredFile {
  // Editors on Windows save UTF-8 with a byte-order mark; YAML skips it, JSON.parse refuses it.
  const parsed = parseText(text.replace(/^\uFEFF/, ''), extension, what);
  if (!parsed.ok) return parsed;
  const deep = tooDeep(parsed.value);
  if (deep === null) return parsed;
  return { ok: false, message: `${formatPath(deep.path)}${deep.cut ? '…' : ''}: ${TOO_DEEP}` };
}

function readFailure(error: unknown, what: string): string {
  switch ((error as NodeJS.ErrnoException | undefined)?.code) {
    case 'ENOENT':
      return 'file not found';
    case 'EISDIR':
      return `is a directory, not a ${what} file`;
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      // Anything else is not a problem with the file we can explain better than the system did.
      throw error;
  }
}

/** JSON for `.json`, YAML for `.yaml`/`.yml`; anything else: whichever parses. */
function parseText(text: string, extension: string, what: string): StructuredFile {
  if (extension === '.json') return parseJson(text);
  if (extension === '.yaml' || extension === '.yml') return parseYamlText(text, what);
  const json = parseJson(text);
  if (json.ok) return json;
  const yaml = parseYamlText(text, what);
  if (yaml.ok) return yaml;
  return /^\s*[[{]/.test(text) ? json : yaml;
}

function parseJson(text: string): StructuredFile {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    // V8 quotes a snippet of the text after a comma; on one line, that is noise.
    const reason = error.message
      .replace(/ at position \d+.*$/s, '')
      .replace(/ in JSON$/, '')
      .replace(/, (?:\.\.\.)?".*" is not valid JSON$/s, '');
    const line = jsonErrorLine(text);
    return { ok: false, message: line === null ? `JSON syntax error: ${reason}` : `JSON syntax error at line ${String(line)}: ${reason}` };
  }
}

function parseYamlText(text: string, what: string): StructuredFile {
  try {
    return { ok: true, value: parseYaml(text) as unknown };
  } catch (error) {
    // Aliases that expand without end (a "billion laughs" file): the yaml library's own guard.
    if (error instanceof ReferenceError && /alias/i.test(error.message)) return { ok: false, message: `YAML error: ${error.message}` };
    if (!(error instanceof YAMLParseError)) throw error;
    const line = error.linePos?.[0].line;
    // The yaml library reports its own stack overflow this way, some 800 levels down.
    if (error.code === 'RESOURCE_EXHAUSTION') return { ok: false, message: line === undefined ? TOO_DEEP : `line ${String(line)}: ${TOO_DEEP}` };
    const reason =
      error.code === 'MULTIPLE_DOCS'
        ? `a ${what} file holds one YAML document, this one has several`
        : (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    return { ok: false, message: line === undefined ? `YAML syntax error: ${reason}` : `YAML syntax error at line ${String(line)}: ${reason}` };
  }
}
