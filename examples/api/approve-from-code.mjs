// Overseer from a program: start a run whose second packet waits at a trust gate, approve it from
// code, wait for the end, read the approval back from the log. Prints one JSON object on stdout.
//
//   node examples/api/approve-from-code.mjs
//
// The store is chosen as the CLI chooses it: OVERSEER_DB (a postgres:// URL or a folder), else the
// embedded store in ./.overseer. The packets' commands run in the current folder.
import { approve, openStore, readEvents, resolveDbTarget, RunRequestError, startRun } from 'overseer';

const plan = `
objective: build, then deploy after a yes
packets:
  - id: build
    objective: build it
    command: echo built
    trusted: true
  - id: deploy
    objective: deploy it
    command: echo deployed
    dependsOn: [build]
`;

const store = await openStore(resolveDbTarget(undefined, process.env, process.cwd()));
try {
  const run = await startRun(store, { plan });
  console.error(`run ${run.runId} started`);

  // Settled: the run ended, or it waits for a person.
  const settled = await run.settled();
  for (const worker of settled.workers.filter((w) => w.state === 'awaitingTrust')) {
    const decided = await approve(store, run.runId, worker.workerId, { reason: 'approved by the example' });
    console.error(`${decided.decision} for ${decided.workerId}`);
  }

  const done = await run.finished;
  const approvals = await readEvents(store, run.runId, { types: ['trust.approved'] });
  console.log(JSON.stringify({ runId: run.runId, status: done.status, approvals: approvals.map((e) => ({ workerId: e.workerId, ...e.payload })) }));
} catch (error) {
  // A plan with problems lists every one of them, each with its path.
  if (error instanceof RunRequestError) console.error(error.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  throw error;
} finally {
  await store.close();
}
