// @vitest-environment jsdom
/**
 * `overseer viz` Mermaid is read back by Mermaid itself (its own parser, which needs a DOM for its
 * sanitiser: jsdom), and what Mermaid reads is what we meant: every state, every transition with its
 * label, the current-state marks, even for packet ids full of Mermaid's own syntax.
 */
import mermaid from 'mermaid';
import { describe, expect, it } from 'vitest';
import { toMermaid } from '../../src/inspect/diagram-mermaid.js';
import { transitionLabel, type MachineDiagram } from '../../src/inspect/machine-diagram.js';
import { overseerDiagram, runDiagram } from '../../src/inspect/run-diagram.js';
import { AWKWARD_IDS, logOf, retriedWorker } from '../support/synthetic-run.js';

/** What Mermaid's layout gets from the parse: nodes (states, in their composite parents) and edges. */
interface StateDb {
  getData(): {
    nodes: Array<{ id: string; label?: string; cssClasses?: string; description?: string[] | null; parentId?: string | null }>;
    edges: Array<{ start: string; end: string; label?: string }>;
  };
}

/** Mermaid keeps entity codes as placeholders until it renders; turn them back into characters. */
function decode(text: string | undefined): string {
  return (text ?? '').replace(/ﬂ°°(\d+)¶ß/g, (_, code: string) => String.fromCodePoint(Number(code)));
}

async function parsed(text: string): Promise<StateDb> {
  await expect(mermaid.parse(text)).resolves.toMatchObject({ diagramType: 'stateDiagram' });
  const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
  return diagram.db as unknown as StateDb;
}

function relations(db: StateDb): string[] {
  return db.getData().edges.map((e) => `${e.start} -> ${e.end}: ${decode(e.label)}`);
}

function node(db: StateDb, id: string) {
  const found = db.getData().nodes.find((n) => n.id === id);
  return found === undefined ? undefined : { ...found, current: (found.cssClasses ?? '').split(' ').includes('current'), description: (found.description ?? []).map(decode) };
}

function expectedRelations(diagram: MachineDiagram, id: (state: string) => string, suffix: (index: number) => string = () => ''): string[] {
  return diagram.transitions.map((t, index) => `${id(t.source)} -> ${id(t.target)}: ${transitionLabel(t)}${suffix(index)}`);
}

describe('Mermaid from viz', () => {
  it.each(['workflow', 'worker'] as const)('the %s machine parses, with every transition and label', async (name) => {
    const diagram = overseerDiagram(name);
    const db = await parsed(toMermaid([diagram]));
    expect(relations(db)).toEqual(expect.arrayContaining(expectedRelations(diagram, (s) => `${name}_${s}`)));
    for (const state of diagram.states) expect(node(db, `${name}_${state.id}`)?.label).toBe(state.key);
  });

  it('a run with awkward worker ids parses, marks where each is and counts what fired', async () => {
    const log = logOf([['workflow', null, 'run.started', 'planning'], ['workflow', null, 'plan.ready', 'bootstrapping'], ...AWKWARD_IDS.flatMap(retriedWorker)]);
    const drawn = [runDiagram(overseerDiagram('workflow'), log), runDiagram(overseerDiagram('worker'), log)];
    const text = toMermaid(drawn);
    const db = await parsed(text);
    const worker = drawn[1]!;
    const fired = (index: number) => ((worker.fired[index] ?? 0) > 0 ? ` ×${String(worker.fired[index])}` : '');
    expect(relations(db)).toEqual(expect.arrayContaining(expectedRelations(worker, (s) => `worker_${s}`, fired)));
    expect(relations(db)).toContain(`worker_trusted -> worker_running: process.started ×${String(2 * AWKWARD_IDS.length)}`);

    expect(node(db, 'worker_done')).toMatchObject({ current: true, description: [`● ${AWKWARD_IDS.join(', ')}`], parentId: 'machine_worker' });
    expect(node(db, 'workflow_bootstrapping')).toMatchObject({ current: true, description: ['● workflow'], parentId: 'machine_workflow' });
    expect(node(db, 'worker_running')?.current).toBe(false);
    // Nothing a packet id holds reaches the text unescaped.
    expect(text).not.toContain('"hi"');
    expect(text).not.toContain('%%');
  });
});
