/**
 * A worker gets its packet in a file, whatever its size, and in variables only when they fit: Linux
 * refuses to start a process with one environment string over 128 KiB.
 */
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startShellWorker } from '../../src/workers/shell-worker.js';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'overseer-packet-')));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** What the worker saw: the packet file's size and path, and each variable or `unset`. */
const REPORT = `printf '%s %s %s %s' "$(wc -c < "$OVERSEER_TASK_PACKET_FILE")" "$OVERSEER_TASK_PACKET_FILE" "\${OVERSEER_OBJECTIVE-unset}" "\${OVERSEER_TASK_PACKET-unset}"`;

async function run(workerId: string, objective: string): Promise<string> {
  const packet = { id: workerId, objective };
  const started = await startShellWorker({ command: REPORT, cwd: root, runId: 'r', workerId, attempt: 1, packet, objective, logDir: root });
  if (!started.ok) throw new Error(started.error);
  expect(await started.exited).toEqual({ code: 0, signal: null });
  return readFileSync(started.logFile, 'utf8');
}

describe("a worker's task packet", () => {
  it('is in a file beside its log, and in variables when small', async () => {
    const packetFile = join(root, 'small.1.packet.json');
    const seen = await run('small', 'say hi');
    expect(seen).toBe(`35 ${packetFile} say hi {"id":"small","objective":"say hi"}`);
    expect(JSON.parse(readFileSync(packetFile, 'utf8'))).toEqual({ id: 'small', objective: 'say hi' });
  });

  it('of any size starts, the file holding what the variables cannot', async () => {
    const objective = 'o'.repeat(131_000);
    const seen = await run('big', objective);
    const size = JSON.stringify({ id: 'big', objective }).length;
    expect(seen).toBe(`${String(size)} ${join(root, 'big.1.packet.json')} unset unset`);
  });

  it("is never one the engine inherited: a variable left out is left out, not passed on", async () => {
    process.env['OVERSEER_OBJECTIVE'] = 'from an outer run';
    process.env['OVERSEER_TASK_PACKET'] = '{"id":"outer"}';
    try {
      expect(await run('nested', 'x'.repeat(70_000))).toMatch(/ unset unset$/);
    } finally {
      delete process.env['OVERSEER_OBJECTIVE'];
      delete process.env['OVERSEER_TASK_PACKET'];
    }
  });
});
