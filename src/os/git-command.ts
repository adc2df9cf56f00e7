/**
 * Runs one git command and gives back how it ended, as a value: agent lanes ask git many questions
 * whose "no" is an answer (is this a repository, is this commit in that branch), not an error.
 */
import { execFile } from 'node:child_process';

export interface GitResult {
  ok: boolean;
  code: number;
  stdout: string;
  stderr: string;
}

/** Locale and prompts fixed, so its words can be read and it never waits on a terminal. */
const GIT_ENV = { LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0', GIT_EDITOR: 'true', GIT_MERGE_AUTOEDIT: 'no' };

export function git(cwd: string, args: readonly string[], env: Record<string, string> = {}): Promise<GitResult> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, env: { ...process.env, ...GIT_ENV, ...env }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 128;
      resolve({ ok: code === 0, code, stdout: stdout.trim(), stderr: stderr.trim() || (error?.message ?? '') });
    });
  });
}

/** stdout of a command that must succeed; throws with git's own words otherwise. */
export async function gitOutput(cwd: string, args: readonly string[], env: Record<string, string> = {}): Promise<string> {
  const result = await git(cwd, args, env);
  if (!result.ok) throw new Error(`git ${args.join(' ')} (in ${cwd}): ${result.stderr}`);
  return result.stdout;
}
