/** Bad input gets one clear line on stderr and exit 2, and nothing is written anywhere. */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { overseer } from '../support/cli.js';

let cwd: string;
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'overseer-bad-'));
  await writeFile(join(cwd, 'broken.yaml'), 'packets:\n  - objective: a\n    command: [unclosed\n');
  await writeFile(join(cwd, 'cycle.yaml'), 'packets:\n  - {id: a, objective: a, command: "true", dependsOn: [b]}\n  - {id: b, objective: b, command: "true", dependsOn: [a]}\n');
  await writeFile(join(cwd, 'unknown-dep.yaml'), 'packets:\n  - {id: a, objective: a, command: "true", dependsOn: [ghost]}\n');
  await writeFile(join(cwd, 'two-problems.yaml'), 'colour: blue\npackets:\n  - {id: a, command: "true"}\n');
  await writeFile(join(cwd, 'no-command.yaml'), 'packets:\n  - {id: a, objective: a}\n');
  await writeFile(join(cwd, 'typo.yaml'), 'packets:\n  - {id: a, objective: a, command: "true", recipes: {exit_nonzero: {max_attempts: 2}}}\n');
  await writeFile(join(cwd, 'good.yaml'), 'packets:\n  - {id: a, objective: a, command: "true"}\n');
  await writeFile(join(cwd, 'typo-policy.yaml'), 'rules:\n  - {match: {id: a}, outcome: trust, nmae: mine}\n');
  await writeFile(join(cwd, 'forever.yaml'), 'packets:\n  - {id: a, objective: a, command: "true", timeout: 1000000000000h}\n');
  // Deeper than a recursive walk (the event hash, JSON.stringify) survives.
  const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
  await writeFile(join(cwd, 'deep.json'), `{"packets": [{"id": "a", "objective": "a", "command": "true", "repo": ${deep}}]}`);
  await writeFile(join(cwd, 'deep.yaml'), `packets:\n  - id: a\n    objective: a\n    command: "true"\n    repo: ${deep}\n`);
  await writeFile(join(cwd, 'deep-policy.json'), `{"rules": [{"match": {"id": ${deep}}, "outcome": "trust"}]}`);
  const ring = Array.from({ length: 5000 }, (_, i) => ({ id: `p${String(i)}`, objective: 'o', command: 'true', dependsOn: [`p${String((i + 1) % 5000)}`] }));
  await writeFile(join(cwd, 'ring.json'), JSON.stringify({ packets: ring }));
});
afterAll(() => rm(cwd, { recursive: true, force: true }));

const cases: Array<[string, string[], RegExp]> = [
  ['a missing plan file', ['run', '--plan', 'nope.yaml'], /nope\.yaml: file not found/],
  ['a malformed plan file', ['run', '--plan', 'broken.yaml'], /broken\.yaml: .*line/i],
  ['a dependency cycle', ['run', '--plan', 'cycle.yaml'], /cycle.*a -> b -> a|b -> a -> b/],
  ['a dependency cycle through 5,000 packets', ['run', '--plan', 'ring.json'], /^ring\.json: packets\[0\]\.dependsOn: dependency cycle p0 -> p1 -> .* -> p4999 -> p0$/],
  ['an unknown key in a packet', ['run', '--plan', 'typo.yaml'], /^typo\.yaml: packets\[0\]\.recipes: unknown key$/],
  ['an unknown key in a policy rule', ['run', '--plan', 'good.yaml', '--policy', 'typo-policy.yaml'], /^typo-policy\.yaml: rules\[0\]\.nmae: unknown key/],
  ['an unknown dependsOn', ['run', '--plan', 'unknown-dep.yaml'], /packets\[0\]\.dependsOn\[0\].*ghost/],
  ['every problem at once', ['run', '--plan', 'two-problems.yaml'], /colour.*packets\[0\]\.objective|packets\[0\]\.objective.*colour/],
  ['a packet nobody can run', ['run', '--plan', 'no-command.yaml'], /without a command.*: a$/],
  ['an unknown flag', ['run', '--plan', 'cycle.yaml', '--frobnicate'], /unknown option '--frobnicate'/i],
  ['a bad --concurrency', ['run', 'x', '--worker', 'true', '--concurrency', '0'], /^--concurrency: expected a positive whole number, got "0"$/],
  // A value starting with "-" is the flag's value, checked as any other (parseArgs alone calls it ambiguous).
  ['a negative --concurrency', ['run', 'x', '--worker', 'true', '--concurrency', '-1'], /^--concurrency: expected a positive whole number, got "-1"$/],
  ['a negative --concurrency=', ['run', 'x', '--worker', 'true', '--concurrency=-1'], /^--concurrency: expected a positive whole number, got "-1"$/],
  ['a --concurrency in another notation', ['run', 'x', '--worker', 'true', '--concurrency', '1e1'], /^--concurrency: expected a positive whole number, got "1e1"$/],
  ['a flag without its value', ['run', 'x', '--worker', 'true', '--concurrency'], /^overseer run: --concurrency needs a value$/],
  ['a flag followed by another flag', ['run', '--plan', '--json'], /^overseer run: --plan needs a value, got the flag --json$/],
  ['a bad --service-timeout', ['run', 'x', '--worker', 'true', '--service-timeout', '-5s'], /^--service-timeout: expected a duration like .+, got "-5s"$/],
  ['a bad status --limit', ['status', '--limit', '-1'], /^--limit: expected a positive whole number, got "-1"$/],
  ['a bad serve --port', ['serve', '--port', '-1'], /^--port: expected a port number from 0 to 65535 \(0 picks a free one\), got "-1"$/],
  ['a negative replay --to', ['replay', 'somerun', '--to', '-5'], /^--to: expected an event position \(a whole number, as `overseer events` shows\), got "-5"$/],
  ['an events --since in another notation', ['events', 'somerun', '--since', '1e3'], /^--since: expected an event position .* or an ISO time .*, got "1e3"$/],
  ['a timeout longer than ten years', ['run', '--plan', 'forever.yaml'], /^forever\.yaml: packets\[0\]\.timeout: expected a duration like .+, at most 87600h \(ten years\)$/],
  ['a --service-timeout longer than ten years', ['run', 'x', '--worker', 'true', '--service-timeout', '1000000000000h'], /^--service-timeout: expected a duration like .+, at most 87600h \(ten years\), got "1000000000000h"$/],
  ['a JSON plan nested 5,000 levels deep', ['run', '--plan', 'deep.json'], /^deep\.json: packets\[0\]\.repo\[0\]\[0\]\[0\]\[0\]\[0\]…: nested more than 128 levels deep$/],
  ['a YAML plan nested 5,000 levels deep', ['run', '--plan', 'deep.yaml'], /^deep\.yaml: line 5: nested more than 128 levels deep$/],
  ['a policy nested 5,000 levels deep', ['run', '--plan', 'good.yaml', '--policy', 'deep-policy.json'], /^deep-policy\.json: rules\[0\]\.match\.id\[0\]\[0\]\[0\]\[0\]…: nested more than 128 levels deep$/],
  ['an objective with no worker', ['run', 'do things'], /needs --worker/],
  ['an unknown command', ['frob'], /unknown command "frob"/],
  ['status where nothing has run', ['status', 'nosuchrun'], /no Overseer store at .*nothing has run here/],
  ['events where nothing has run', ['events', 'nosuchrun'], /no Overseer store at /],
];

describe('bad input', () => {
  it.each(cases)('%s: one line, exit 2, nothing written', async (_name, args, message) => {
    const result = await overseer(args, { cwd });
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    // Not even the store is created.
    expect(existsSync(join(cwd, '.overseer'))).toBe(false);
  });

  it('an unreachable --db URL: one line naming it, exit 2, quickly', async () => {
    const started = Date.now();
    const result = await overseer(['run', 'x', '--worker', 'true', '--db', 'postgres://postgres@127.0.0.1:9/none'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/127\.0\.0\.1:9/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
