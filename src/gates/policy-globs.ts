/**
 * How a trust rule's patterns meet a packet. Two kinds of glob:
 *
 * - text globs (`id`, `objective`, `command`) cover the whole string, and `*` crosses `/` and line
 *   breaks, so `'*rm -rf*'` finds `rm -rf` anywhere in a command. `objective` ignores case (it is
 *   prose); `id` and `command` do not.
 * - path globs (`cwd`, `scope_path`) are shell-style: `*` stays within one directory, `**` crosses
 *   them, and dot-files are not special. A path is tried in every form a person might write it:
 *   absolute, and relative to the run's directory (the run's own directory is `.`).
 *
 * A field given as a list matches when any of its globs does; a glob that starts with `!` matches
 * what the rest does not.
 */
import { isAbsolute, normalize, relative, resolve } from 'node:path';
// The posix build: patterns and paths use `/` whatever the platform.
import picomatch from 'picomatch/posix.js';
import type { TrustInput } from './trust-resolver.js';

/** A packet as the patterns see it; a missing field matches no pattern. */
export interface PolicySubject {
  id: string;
  objective: string;
  command: string | undefined;
  /** The forms of the worker's directory: absolute, and relative to the run's directory. */
  cwd: string[];
  /** The forms of `scope_path`, empty when the packet has none. */
  scopePath: string[];
  worker: string;
}

export type SubjectTest = (subject: PolicySubject) => boolean;

const TEXT = { bash: true, dot: true, flags: 's' } as const;
const PROSE = { bash: true, dot: true, flags: 'si' } as const;
const PATH = { dot: true } as const;

export function policySubject(input: TrustInput): PolicySubject {
  const { packet } = input;
  const runCwd = resolve(input.cwd ?? process.cwd());
  const cwd = resolve(runCwd, stringField(packet, 'cwd') ?? '.');
  const scope = stringField(packet, 'scope_path');
  return {
    id: packet.id,
    objective: packet.objective,
    command: stringField(packet, 'command'),
    cwd: pathForms(cwd, runCwd),
    scopePath: scope === undefined ? [] : scopeForms(scope, cwd, runCwd),
    worker: input.workerKind ?? 'shell',
  };
}

export function textGlobs(globs: string | readonly string[], pick: (s: PolicySubject) => string | undefined): SubjectTest {
  const test = anyOf(globs, TEXT);
  return (subject) => {
    const value = pick(subject);
    return value !== undefined && test(value);
  };
}

export function proseGlobs(globs: string | readonly string[], pick: (s: PolicySubject) => string): SubjectTest {
  const test = anyOf(globs, PROSE);
  return (subject) => test(pick(subject));
}

export function pathGlobs(globs: string | readonly string[], pick: (s: PolicySubject) => readonly string[]): SubjectTest {
  // `build/` means the directory `build`; picomatch would want a trailing slash in the path too.
  const trimmed = asList(globs).map((glob) => (glob.length > 1 ? glob.replace(/\/+$/, '') : glob));
  const test = anyOf(trimmed, PATH);
  return (subject) => pick(subject).some(test);
}

function anyOf(globs: string | readonly string[], options: picomatch.PicomatchOptions): (value: string) => boolean {
  const matchers = asList(globs).map((glob) => picomatch(glob, options));
  return (value) => matchers.some((matches) => matches(value));
}

function asList(globs: string | readonly string[]): readonly string[] {
  return typeof globs === 'string' ? [globs] : globs;
}

function stringField(packet: Record<string, unknown>, key: string): string | undefined {
  const value = packet[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function pathForms(absolute: string, runCwd: string): string[] {
  return unique([absolute, relative(runCwd, absolute) || '.']);
}

/** `scope_path` is relative to where the worker runs; it is also matched as written. */
function scopeForms(scope: string, cwd: string, runCwd: string): string[] {
  const forms = pathForms(resolve(cwd, scope), runCwd);
  if (!isAbsolute(scope)) forms.push(normalize(scope).replace(/(.)\/+$/, '$1'));
  return unique(forms);
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
