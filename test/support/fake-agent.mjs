#!/usr/bin/env node
/**
 * A scripted stand-in for a coding agent CLI (never a real one): it reads its prompt file, edits
 * files in its working directory step by step, and prints its progress in the output format asked
 * for, as Claude Code (`stream-json`), Codex (`exec --json`) or plain text would.
 *
 *   fake-agent.mjs FORMAT PROMPT_FILE [--steps N] [--tokens N] [--cost USD] [--step-ms MS]
 *                  [--write FILE=TEXT]... [--commit] [--exit CODE] [--starts FILE] [--wait-for FILE]
 *
 * Each step writes `step-N.txt` (so a test sees how far it got) and reports `--tokens` tokens in and
 * as many out; `--write`s happen after the last step; `--commit` commits them itself; `--starts`
 * appends one line per start (a test counts them); `--wait-for` waits for a file before the steps.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

const [format, promptFile, ...rest] = process.argv.slice(2);
const options = { steps: 1, tokens: 100, cost: 0.01, stepMs: 0, writes: [], commit: false, exit: 0, starts: null, waitFor: null };
for (let i = 0; i < rest.length; i += 1) {
  const flag = rest[i];
  const value = rest[i + 1];
  if (flag === '--commit') { options.commit = true; continue; }
  i += 1;
  if (flag === '--steps') options.steps = Number(value);
  else if (flag === '--tokens') options.tokens = Number(value);
  else if (flag === '--cost') options.cost = Number(value);
  else if (flag === '--step-ms') options.stepMs = Number(value);
  else if (flag === '--write') options.writes.push(value);
  else if (flag === '--exit') options.exit = Number(value);
  else if (flag === '--starts') options.starts = value;
  else if (flag === '--wait-for') options.waitFor = value;
  else throw new Error(`fake-agent: unknown flag ${flag}`);
}

const prompt = readFileSync(promptFile, 'utf8');
if (process.env.OVERSEER_PROMPT_FILE !== promptFile) throw new Error('fake-agent: OVERSEER_PROMPT_FILE is not the prompt file');
if (options.starts !== null) appendFileSync(options.starts, `${process.env.OVERSEER_WORKER_ID} ${process.pid}\n`);
const say = (value) => process.stdout.write(`${typeof value === 'string' ? value : JSON.stringify(value)}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const session = `fake-${process.env.OVERSEER_WORKER_ID}-${process.pid}`;

if (format === 'claude-stream-json') say({ type: 'system', subtype: 'init', session_id: session, cwd: process.cwd() });
else if (format === 'codex-json') say({ type: 'thread.started', thread_id: session });
else say(`working on: ${prompt.split('\n')[2] ?? ''}`);

while (options.waitFor !== null && !existsSync(options.waitFor)) await sleep(50);

for (let step = 1; step <= options.steps; step += 1) {
  writeFileSync(`step-${step}.txt`, `step ${step}\n`);
  const usage = { input_tokens: options.tokens, output_tokens: options.tokens };
  if (format === 'claude-stream-json') say({ type: 'assistant', session_id: session, message: { id: `msg-${step}`, role: 'assistant', content: [{ type: 'text', text: `step ${step}` }], usage } });
  else if (format === 'codex-json') {
    say({ type: 'turn.started' });
    say({ type: 'item.completed', item: { id: `item-${step}`, type: 'agent_message', text: `step ${step} done` } });
    say({ type: 'turn.completed', usage: { ...usage, cached_input_tokens: 0 } });
  } else say(`step ${step} done`);
  if (options.stepMs > 0) await sleep(options.stepMs);
}

for (const write of options.writes) {
  const at = write.indexOf('=');
  writeFileSync(write.slice(0, at), `${write.slice(at + 1)}\n`);
}
if (options.commit) {
  execFileSync('git', ['add', '-A']);
  execFileSync('git', ['-c', 'user.name=agent', '-c', 'user.email=agent@example.com', 'commit', '-q', '-m', 'agent work']);
}

const total = options.tokens * options.steps;
if (format === 'claude-stream-json') {
  say({ type: 'result', subtype: options.exit === 0 ? 'success' : 'error_during_execution', is_error: options.exit !== 0, result: 'all done', session_id: session, num_turns: options.steps, total_cost_usd: options.cost * options.steps, usage: { input_tokens: total, output_tokens: total } });
} else if (format === 'codex-json') {
  say({ type: 'item.completed', item: { id: 'final', type: 'agent_message', text: 'all done' } });
} else say('all done');
process.exit(options.exit);
