/**
 * The diagrams are the machines: every state and transition the definitions declare is drawn
 * (eventless and machine-level ones too), and a run's log is laid over them transition by transition.
 */
import { describe, expect, it } from 'vitest';
import { and, not, or } from 'xstate';
import { workerMachine } from '../../machines/worker.js';
import { workflowMachine } from '../../machines/workflow.js';
import { guardText, machineDiagram, transitionLabel, type MachineDiagram } from '../../src/inspect/machine-diagram.js';
import { runDiagram } from '../../src/inspect/run-diagram.js';
import { logOf, retriedWorker } from '../support/synthetic-run.js';

const workflow = machineDiagram(workflowMachine);
const worker = machineDiagram(workerMachine);

function edges(diagram: MachineDiagram): string[] {
  return diagram.transitions.map((t) => `${t.source} -> ${t.target}: ${transitionLabel(t)}`);
}

function firedEdges(diagram: ReturnType<typeof runDiagram>): Record<string, number> {
  return Object.fromEntries(diagram.transitions.flatMap((t, i) => { const n = diagram.fired[i] ?? 0; return n > 0 ? [[`${t.source} -> ${t.target}: ${transitionLabel(t)}`, n] as const] : []; }));
}

describe('machine diagrams', () => {
  it('has every state of each machine, with its initial and final states', () => {
    expect(workflow.states.map((s) => s.id)).toEqual(Object.keys(workflowMachine.root.states));
    expect(worker.states.map((s) => s.id)).toEqual(Object.keys(workerMachine.root.states));
    expect(worker.states.filter((s) => s.initial).map((s) => s.id)).toEqual(['spawned']);
    expect(worker.states.filter((s) => s.type === 'final').map((s) => s.id)).toEqual(['done', 'failed', 'denied', 'cancelled']);
  });

  it('draws eventless transitions, which the directed graph leaves out', () => {
    expect(edges(workflow)).toEqual(
      expect.arrayContaining(['dispatching -> verifying: always [allSettled]', 'verifying -> completed: always [allDone]', 'verifying -> failed: always']),
    );
  });

  it('draws a machine-level transition from every state that is not final', () => {
    expect(workflow.transitions.filter((t) => t.event === 'run.cancel').map((t) => t.source)).toEqual(['planning', 'bootstrapping', 'dispatching', 'verifying']);
    // worker@2: merging is one more state a worker can be cancelled in.
    expect(worker.transitions.filter((t) => t.event === 'worker.cancel')).toHaveLength(8);
  });

  it('names guards with their parameters and delays by name', () => {
    expect(edges(worker)).toEqual(
      expect.arrayContaining([
        'spawned -> trusted: trust.decided [isDecision(trust)]',
        'running -> retrying: after attemptTimeout [canRetry(timeout)]',
        'retrying -> trusted: after retryBackoff',
        'verifying -> verifying: gate.passed',
      ]),
    );
    expect(worker.transitions.find((t) => t.delay === 'retryBackoff')?.event).toBe('xstate.after.retryBackoff.worker.retrying');
    expect(guardText(and(['exitedClean', or(['hasGates', not('skipGates')])]))).toBe('exitedClean && (hasGates || !skipGates)');
  });
});

describe('a run laid over the diagrams', () => {
  const log = logOf([
    ['workflow', null, 'run.started', 'planning'],
    ['workflow', null, 'plan.ready', 'bootstrapping'],
    ['workflow', null, 'bootstrap.completed', 'dispatching'],
    ...retriedWorker('build'),
    ['workflow', null, 'task.finished', 'dispatching'],
    ['worker', 'test', 'worker.spawned', 'spawned'],
    ['worker', 'test', 'trust.decided', 'awaitingTrust'],
  ]);

  it('marks the state each instance is in now', () => {
    expect(runDiagram(workflow, log).current).toEqual({ dispatching: ['workflow'] });
    expect(runDiagram(worker, log).current).toEqual({ done: ['build'], awaitingTrust: ['test'] });
  });

  it('counts each transition, a fired timer by the event it carried and records as no transition at all', () => {
    const drawn = runDiagram(worker, log);
    expect(drawn.started).toBe(2);
    expect(drawn.unexplained).toBe(0);
    expect(firedEdges(drawn)).toEqual({
      'spawned -> trusted: trust.decided [isDecision(trust)]': 1,
      'spawned -> awaitingTrust: trust.decided [isDecision(ask)]': 1,
      'trusted -> running: process.started': 2,
      'running -> retrying: process.exited [canRetry(exit_nonzero)]': 1,
      'retrying -> trusted: after retryBackoff': 1,
      'running -> done: process.exited [exitedClean]': 1,
    });
  });

  it('follows one event through the eventless transitions it set off', () => {
    const finished = logOf([
      ['workflow', null, 'run.started', 'planning'],
      ['workflow', null, 'plan.ready', 'bootstrapping'],
      ['workflow', null, 'bootstrap.completed', 'dispatching'],
      ['workflow', null, 'task.finished', 'dispatching'],
      ['workflow', null, 'task.finished', 'completed'],
    ]);
    expect(firedEdges(runDiagram(workflow, finished))).toEqual({
      'planning -> bootstrapping: plan.ready': 1,
      'bootstrapping -> dispatching: bootstrap.completed': 1,
      'dispatching -> dispatching: task.finished': 2,
      'dispatching -> verifying: always [allSettled]': 1,
      'verifying -> completed: always [allDone]': 1,
    });
  });

  it('counts a state change no transition explains', () => {
    const odd = logOf([
      ['workflow', null, 'run.started', 'planning'],
      ['workflow', null, 'plan.ready', 'completed'],
    ]);
    expect(runDiagram(workflow, odd).unexplained).toBe(1);
  });
});
