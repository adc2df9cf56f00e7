/**
 * `overseer --help` lists every flag every command accepts, under that command: the help is printed
 * from the same tables the commands parse their flags with, and no command keeps a table of its own.
 */
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS, type CommandSpec } from '../../src/cli/command-table.js';
import { overseer } from '../support/cli.js';

const CLI_DIR = join(import.meta.dirname, '..', '..', 'src', 'cli');

/** The help's usage line of each command: the line that starts with its name. */
function usageLines(help: string): Map<string, string> {
  const lines = new Map<string, string>();
  for (const line of help.split('\n')) {
    const [name] = line.trim().split(' ');
    if (/^ {2}\S/.test(line) && name !== undefined && name in COMMANDS) lines.set(name, line);
  }
  return lines;
}

describe('overseer --help', () => {
  it('lists every flag of every command on its usage line', async () => {
    const result = await overseer(['--help'], { cwd: tmpdir() });
    expect(result.code).toBe(0);
    const lines = usageLines(result.stdout);
    for (const [command, spec] of Object.entries(COMMANDS) as [string, CommandSpec][]) {
      const line = lines.get(command);
      expect(line, command).toBeDefined();
      for (const [flag, { hidden }] of Object.entries(spec.flags)) {
        if (hidden !== true) expect(line, `${command} --${flag}`).toMatch(new RegExp(`\\[--${flag}[ \\]]`));
      }
    }
    // The ones the hand-written usage once left out.
    expect(lines.get('run')).toContain('[--service-timeout DURATION]');
    expect(lines.get('status')).toContain('[--limit N]');
    for (const command of Object.keys(COMMANDS)) expect(lines.get(command), command).toContain('[--db URL|DIR]');
  });

  it('is where every command takes its flags from', async () => {
    for (const command of Object.keys(COMMANDS)) {
      const source = await readFile(join(CLI_DIR, `${command}-command.ts`), 'utf8');
      expect(source, command).toContain(`parseFlags('${command}', args, flags)`);
      expect(source, command).toContain(`const flags = COMMANDS.${command}.flags;`);
      expect(source, command).not.toMatch(/type: '(?:string|boolean)'/);
    }
  });
});
