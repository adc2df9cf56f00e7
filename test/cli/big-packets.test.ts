/**
 * A packet of any size reaches its worker: it is always in the file OVERSEER_TASK_PACKET_FILE names,
 * and in variables only when they fit (Linux limits one environment string to 128 KiB). A command too
 * long to be one argument can never start, so the plan is refused before anything is written.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, type TestTarget } from '../support/backends.js';
import { overseer } from '../support/cli.js';

/** Prints the objective's length as the packet file holds it, and whether the variables were set. */
const READ_PACKET = `const fs = require('node:fs');
const packet = JSON.parse(fs.readFileSync(process.env.OVERSEER_TASK_PACKET_FILE, 'utf8'));
const set = (name) => (process.env[name] === undefined ? 'unset' : 'set');
fs.writeFileSync('seen.txt', [packet.objective.length, set('OVERSEER_OBJECTIVE'), set('OVERSEER_TASK_PACKET')].join(' '));`;

describe.each(testBackends())('big packets on $name', (backend) => {
  let target: TestTarget;
  let cwd: string;
  const cli = (args: string[]) => overseer([...args, '--db', target.db], { cwd, timeoutMs: 120_000 });

  beforeAll(async () => {
    target = await backend.newTarget();
    cwd = await mkdtemp(join(tmpdir(), 'overseer-big-'));
  });
  afterAll(async () => {
    await target.dispose();
    await rm(cwd, { recursive: true, force: true });
  });

  it('a 131,000-character objective runs, and the worker reads it from the packet file', async () => {
    const plan = join(cwd, 'big-objective.json');
    const command = `${JSON.stringify(process.execPath)} -e ${shellQuote(READ_PACKET)}`;
    await writeFile(plan, JSON.stringify({ packets: [{ id: 'big', objective: 'o'.repeat(131_000), command }] }));
    const run = await cli(['run', '--plan', plan, '--auto-approve', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'completed' });
    expect(readFileSync(join(cwd, 'seen.txt'), 'utf8')).toBe('131000 unset unset');
  });

  it('a small packet still has its variables, and the file too', async () => {
    const plan = join(cwd, 'small.json');
    const command = `${JSON.stringify(process.execPath)} -e ${shellQuote(READ_PACKET)}`;
    await writeFile(plan, JSON.stringify({ packets: [{ id: 'small', objective: 'tiny', command }] }));
    const run = await cli(['run', '--plan', plan, '--auto-approve', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(join(cwd, 'seen.txt'), 'utf8')).toBe('4 set set');
  });

  it('a command over the one-argument limit is bad input, named by its path, and nothing is written', async () => {
    const runsBefore = (await cli(['status', '--json'])).stdout;
    const plan = join(cwd, 'big-command.json');
    const long = `echo ${'x'.repeat(200 * 1024)}`;
    await writeFile(plan, JSON.stringify({ packets: [{ id: 'ok', objective: 'fine', command: 'true' }, { id: 'huge', objective: 'too long', command: long, gates: [long] }] }));
    const run = await cli(['run', '--plan', plan, '--auto-approve', '--json']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/packets\[1\]\.command: .*204805 bytes.*131071.*script file/);
    expect(run.stderr).toMatch(/packets\[1\]\.gates\[0\]\.command: /);
    expect((await cli(['status', '--json'])).stdout).toBe(runsBefore);
  });
});

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
