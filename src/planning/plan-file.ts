/**
 * Reading a plan file (`--plan FILE`). Every way it can go wrong (missing, unreadable, bad syntax, bad
 * plan) comes back as problems in the same result `parsePlan` gives, named by the path as the user
 * typed it.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { jsonErrorLine } from './json-error-line.js';
import { parsePlan, type PlanResult } from './plan.js';

type Syntax = { ok: true; value: unknown } | { ok: false; message: string };

export async function loadPlanFile(path: string): Promise<PlanResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return failed(readFailure(error));
  }
  const syntax = parseText(text, extname(path).toLowerCase());
  if (!syntax.ok) return failed(syntax.message);
  return parsePlan(syntax.value, path);
}

function failed(message: string): PlanResult {
  return { ok: false, problems: [{ path: '', message }] };
}

function readFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'file not found';
    case 'EISDIR':
      return 'is a directory, not a plan file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      // Anything else is not a plan problem we can explain better than the system did.
      throw error;
  }
}

function parseText(text: string, extension: string): Syntax {
  if (extension === '.json') return parseJson(text);
  if (extension === '.yaml' || extension === '.yml') return parseYamlText(text);
  const json = parseJson(text);
  if (json.ok) return json;
  const yaml = parseYamlText(text);
  if (yaml.ok) return yaml;
  return /^\s*[[{]/.test(text) ? json : yaml;
}

function parseJson(text: string): Syntax {
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

function parseYamlText(text: string): Syntax {
  try {
    return { ok: true, value: parseYaml(text) as unknown };
  } catch (error) {
    if (!(error instanceof YAMLParseError)) throw error;
    const reason =
      error.code === 'MULTIPLE_DOCS'
        ? 'a plan file holds one YAML document, this one has several'
        : (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    const line = error.linePos?.[0].line;
    return {
      ok: false,
      message: line === undefined ? `YAML syntax error: ${reason}` : `YAML syntax error at line ${String(line)}: ${reason}`,
    };
  }
}
