/**
 * Machine diagrams as Graphviz DOT. Every id and label is a double-quoted DOT string written by
 * `dotString` (backslash and quote escaped, line breaks as DOT's `\n`), so event names with dots,
 * `xstate.after.*` delays, guards and packet ids are always plain text. A run's machines become one
 * cluster each; the states its instances are in now are filled, and fired transitions are drawn
 * heavier with their count while the others are greyed.
 */
import type { DiagramState, MachineDiagram } from './machine-diagram.js';
import { transitionLabel } from './machine-diagram.js';
import type { RunDiagram } from './run-diagram.js';

export function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`;
}

function isRunDiagram(diagram: MachineDiagram): diagram is RunDiagram {
  return 'fired' in diagram;
}

function nodeId(machine: string, stateId: string): string {
  return dotString(`${machine}/${stateId}`);
}

/** Compound states are clusters; edges to and from them meet at the point their initial arrow leaves. */
function anchorId(machine: string, stateId: string | null): string {
  return dotString(`${machine}/${stateId ?? ''}/[*]`);
}

function drawStates(diagram: MachineDiagram, parent: string | null, indent: string, lines: string[]): void {
  const run = isRunDiagram(diagram) ? diagram : undefined;
  for (const state of diagram.states.filter((s) => s.parent === parent)) {
    if (diagram.states.some((s) => s.parent === state.id)) {
      lines.push(`${indent}subgraph ${dotString(`cluster_${diagram.machine}/${state.id}`)} {`, `${indent}  label=${dotString(state.key)};`);
      lines.push(`${indent}  ${anchorId(diagram.machine, state.id)} [shape=point, label=""];`);
      drawStates(diagram, state.id, `${indent}  `, lines);
      lines.push(`${indent}}`);
    } else {
      lines.push(`${indent}${nodeId(diagram.machine, state.id)} [${stateAttributes(state, run?.current[state.id]).join(', ')}];`);
    }
  }
}

function stateAttributes(state: DiagramState, here: string[] | undefined): string[] {
  const label = here === undefined ? state.key : `${state.key}\n● ${here.join(', ')}`;
  const attributes = [`label=${dotString(label)}`];
  if (state.type === 'final') attributes.push('peripheries=2');
  if (here !== undefined) attributes.push('style="rounded,filled"', 'fillcolor="#ffd966"', 'color="#b58900"');
  return attributes;
}

function endpoint(diagram: MachineDiagram, stateId: string): string {
  return diagram.states.some((s) => s.parent === stateId) ? anchorId(diagram.machine, stateId) : nodeId(diagram.machine, stateId);
}

function drawTransitions(diagram: MachineDiagram, indent: string, lines: string[]): void {
  const run = isRunDiagram(diagram) ? diagram : undefined;
  for (const state of diagram.states.filter((s) => s.initial)) {
    const label = state.parent === null && run !== undefined ? ` [label=${dotString(`${String(run.started)} started`)}]` : '';
    lines.push(`${indent}${anchorId(diagram.machine, state.parent)} -> ${endpoint(diagram, state.id)}${label};`);
  }
  diagram.transitions.forEach((t, index) => {
    const fired = run?.fired[index] ?? 0;
    const attributes = [`label=${dotString(fired > 0 ? `${transitionLabel(t)} ×${String(fired)}` : transitionLabel(t))}`];
    if (t.event === null) attributes.push('style=dashed');
    if (fired > 0) attributes.push('penwidth=2');
    else if (run !== undefined) attributes.push('color="#aaaaaa"', 'fontcolor="#888888"');
    lines.push(`${indent}${endpoint(diagram, t.source)} -> ${endpoint(diagram, t.target)} [${attributes.join(', ')}];`);
  });
}

function drawMachine(diagram: MachineDiagram, indent: string, lines: string[]): void {
  lines.push(`${indent}${anchorId(diagram.machine, null)} [shape=point, label=""];`);
  drawStates(diagram, null, indent, lines);
  drawTransitions(diagram, indent, lines);
}

/** A `digraph` of one machine, or of several side by side, one cluster each. */
export function toDot(diagrams: readonly MachineDiagram[]): string {
  const name = diagrams.map((d) => d.machine).join('+');
  const lines = [
    `digraph ${dotString(name)} {`,
    '  rankdir=LR;',
    '  node [shape=box, style=rounded, fontname="Helvetica"];',
    '  edge [fontname="Helvetica", fontsize=10];',
  ];
  if (diagrams.length === 1 && diagrams[0] !== undefined) {
    drawMachine(diagrams[0], '  ', lines);
  } else {
    for (const diagram of diagrams) {
      lines.push(`  subgraph ${dotString(`cluster_${diagram.machine}`)} {`, `    label=${dotString(diagram.machine)};`);
      drawMachine(diagram, '    ', lines);
      lines.push('  }');
    }
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
