/**
 * The layout's import rules are lint rules (import-rules.js); these lint a wrong-way import placed
 * in a folder, with the repository's own eslint.config.js, so the rules cannot quietly stop applying.
 * Each snippet is linted as the text of an existing file of that folder: nothing is written to disk.
 */
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: root });

async function restrictedImports(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  const messages = result?.messages ?? [];
  expect(messages.filter((m) => m.ruleId !== 'no-restricted-imports')).toEqual([]);
  return messages.map((m) => m.message);
}

const wrongWay: [string, string, string][] = [
  ['machines/ importing the store', 'machines/workflow.ts', "import type { EventStore } from '../src/store/event-store.js';\nexport type X = EventStore;\n"],
  ['the store importing the engine', 'src/store/event-store.ts', "import type { RunEngine } from '../engine/run-engine.js';\nexport type X = RunEngine;\n"],
  ['the store importing workers', 'src/store/embedded/file-lock.ts', "import type { WorkerDriver } from '../../workers/worker-driver.js';\nexport type X = WorkerDriver;\n"],
  ['the pure fold importing the engine', 'src/fold/run-batch.ts', "import type { RunServices } from '../engine/run-services.js';\nexport type X = RunServices;\n"],
  ['the engine importing inspection', 'src/engine/run-engine.ts', "import type { ReplayStep } from '../inspect/replay.js';\nexport type X = ReplayStep;\n"],
  ['planning importing gates', 'src/planning/plan.ts', "import type { PolicyLoad } from '../gates/policy-file.js';\nexport type X = PolicyLoad;\n"],
  ['rpc importing workers', 'src/rpc/service-process.ts', "import type { WorkerDriver } from '../workers/worker-driver.js';\nexport type X = WorkerDriver;\n"],
  ['os importing machines', 'src/os/duration.ts', "import type { FailureKind } from '../../machines/recovery.js';\nexport type X = FailureKind;\n"],
  ['the viewer importing the CLI', 'src/web/viewer-app.ts', "import type { UsageError } from '../cli/usage-error.js';\nexport type X = UsageError;\n"],
  ['the CLI reaching into the embedded store', 'src/cli/store-command.ts', "import type { EmbeddedStoreStatus } from '../store/embedded/store-status.js';\nexport type X = EmbeddedStoreStatus;\n"],
  ['one command importing another', 'src/cli/replay-command.ts', "import { eventsCommand } from './events-command.js';\nexport const x = eventsCommand;\n"],
];

// The first lint starts TypeScript's project service, which takes seconds on a busy machine.
describe('import rules', { timeout: 120_000 }, () => {
  it.each(wrongWay)('lint fails on %s', async (_name, filePath, code) => {
    const messages = await restrictedImports(filePath, code);
    expect(messages).toHaveLength(1);
  });

  it('lets imports run the right way', async () => {
    expect(await restrictedImports('src/fold/run-batch.ts', "import type { EventStore } from '../store/event-store.js';\nexport type X = EventStore;\n")).toEqual([]);
    expect(await restrictedImports('src/cli/serve-command.ts', "import type { EventStore } from '../store/event-store.js';\nimport type { RunEngine } from '../engine/run-engine.js';\nimport type { Viewer } from '../web/viewer-server.js';\nexport type X = [EventStore, RunEngine, Viewer];\n")).toEqual([]);
    expect(await restrictedImports('src/rpc/service-process.ts', "import { killProcessTree } from '../os/kill-process-tree.js';\nexport const x = killProcessTree;\n")).toEqual([]);
    expect(await restrictedImports('src/cli/main.ts', "import { eventsCommand } from './events-command.js';\nexport const x = eventsCommand;\n")).toEqual([]);
  });
});
