/**
 * `overseer viz --format dot` is read back by Graphviz itself (@viz-js/viz, Graphviz compiled to
 * WebAssembly), and what Graphviz reads is what we meant: every state and transition with its label,
 * the current-state marks and counts, even for packet ids full of DOT's own syntax.
 */
import { instance, type Viz } from '@viz-js/viz';
import { beforeAll, describe, expect, it } from 'vitest';
import { toDot } from '../../src/inspect/diagram-dot.js';
import { transitionLabel, type MachineDiagram } from '../../src/inspect/machine-diagram.js';
import { overseerDiagram, runDiagram } from '../../src/inspect/run-diagram.js';
import { AWKWARD_IDS, logOf, retriedWorker } from '../support/synthetic-run.js';

interface GraphJson {
  objects: Array<{ name: string; label?: string; fillcolor?: string; nodes?: number[] }>;
  edges?: Array<{ tail: number; head: number; label?: string; penwidth?: string }>;
}

let viz: Viz;
beforeAll(async () => {
  viz = await instance();
});

/** Graphviz keeps a label's own escapes (`\\`, `\n`) for the renderer to interpret: interpret them. */
function labelText(label: string | undefined): string {
  return (label ?? '').replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function read(dot: string): GraphJson {
  const result = viz.render(dot, { format: 'json0' });
  // The WebAssembly build has no font metrics for non-ASCII (●, ×) and warns; only errors count.
  expect(result.errors.filter((e) => e.level !== 'warning')).toEqual([]);
  expect(result.status).toBe('success');
  return JSON.parse(result.output ?? '{}') as GraphJson;
}

function edgesOf(graph: GraphJson): string[] {
  const name = (index: number) => graph.objects[index]?.name ?? '?';
  return (graph.edges ?? []).map((e) => `${name(e.tail)} -> ${name(e.head)}: ${labelText(e.label)}`);
}

function expectedEdges(diagram: MachineDiagram, suffix: (index: number) => string = () => ''): string[] {
  return diagram.transitions.map((t, index) => `${diagram.machine}/${t.source} -> ${diagram.machine}/${t.target}: ${transitionLabel(t)}${suffix(index)}`);
}

describe('DOT from viz', () => {
  it.each(['workflow', 'worker'] as const)('the %s machine is a graph Graphviz reads, every transition labelled', (name) => {
    const diagram = overseerDiagram(name);
    const graph = read(toDot([diagram]));
    expect(edgesOf(graph)).toEqual(expect.arrayContaining(expectedEdges(diagram)));
    for (const state of diagram.states) expect(graph.objects.find((o) => o.name === `${name}/${state.id}`)?.label).toBe(state.key);
  });

  it('a run with awkward worker ids is read back with its marks and counts', () => {
    const log = logOf([['workflow', null, 'run.started', 'planning'], ...AWKWARD_IDS.flatMap(retriedWorker)]);
    const worker = runDiagram(overseerDiagram('worker'), log);
    const graph = read(toDot([runDiagram(overseerDiagram('workflow'), log), worker]));
    const fired = (index: number) => ((worker.fired[index] ?? 0) > 0 ? ` ×${String(worker.fired[index])}` : '');
    expect(edgesOf(graph)).toEqual(expect.arrayContaining(expectedEdges(worker, fired)));
    expect(edgesOf(graph)).toContain(`worker/trusted -> worker/running: process.started ×${String(2 * AWKWARD_IDS.length)}`);

    const done = graph.objects.find((o) => o.name === 'worker/done');
    expect(labelText(done?.label)).toBe(`done\n● ${AWKWARD_IDS.join(', ')}`);
    expect(done?.fillcolor).toBe('#ffd966');
    expect(graph.objects.find((o) => o.name === 'worker/running')?.fillcolor).toBeUndefined();
    // One cluster per machine.
    expect(graph.objects.filter((o) => o.name.startsWith('cluster_')).map((o) => [o.name, o.label])).toEqual([
      ['cluster_workflow', 'workflow'],
      ['cluster_worker', 'worker'],
    ]);
  });

  it('refuses what is not DOT (the check is real)', () => {
    expect(viz.render('digraph { "a -> b }', { format: 'json0' }).status).toBe('failure');
  });
});
