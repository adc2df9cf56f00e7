/**
 * Machine diagrams as Mermaid `stateDiagram-v2` text. One diagram is drawn flat; several (a run's
 * workflow and worker machines) each get a composite state of their own. State ids are the machine
 * name and the state's path, made of letters, digits and `_` only; every text a person reads (state
 * names, transition labels, worker ids) goes through `mermaidText`, which writes anything outside a
 * plain set of characters as a Mermaid entity code (`#34;`), so no event name, guard or packet id can
 * end a label, open a comment or inject a statement.
 */
import type { DiagramState, MachineDiagram } from './machine-diagram.js';
import { transitionLabel } from './machine-diagram.js';
import type { RunDiagram } from './run-diagram.js';

const PLAIN = /[\p{L}\p{N} ._\-()[\]!|,+=/*'@×●]/u;

export function mermaidText(text: string): string {
  let out = '';
  for (const char of text) out += PLAIN.test(char) ? char : `#${String(char.codePointAt(0))};`;
  return out;
}

function idPart(text: string): string {
  return text.replace(/[^A-Za-z0-9_]/g, (c) => `_${String(c.codePointAt(0))}_`);
}

export function mermaidId(machine: string, stateId: string): string {
  return `${idPart(machine)}_${idPart(stateId)}`;
}

function isRunDiagram(diagram: MachineDiagram): diagram is RunDiagram {
  return 'fired' in diagram;
}

function firedSuffix(count: number | undefined): string {
  return count === undefined || count === 0 ? '' : ` ×${String(count)}`;
}

function drawScope(diagram: MachineDiagram, parent: string | null, indent: string, lines: string[]): void {
  const id = (stateId: string) => mermaidId(diagram.machine, stateId);
  const run = isRunDiagram(diagram) ? diagram : undefined;
  const children = diagram.states.filter((s) => s.parent === parent);
  for (const state of children) drawState(diagram, state, indent, lines);
  for (const state of children) {
    if (state.initial) {
      const started = parent === null && run !== undefined ? `${mermaidText(`${String(run.started)} started`)}` : '';
      lines.push(`${indent}[*] --> ${id(state.id)}${started === '' ? '' : ` : ${started}`}`);
    }
  }
  diagram.transitions.forEach((t, index) => {
    if (!children.some((s) => s.id === t.source)) return;
    lines.push(`${indent}${id(t.source)} --> ${id(t.target)} : ${mermaidText(transitionLabel(t) + firedSuffix(run?.fired[index]))}`);
  });
  for (const state of children) if (state.type === 'final') lines.push(`${indent}${id(state.id)} --> [*]`);
}

function drawState(diagram: MachineDiagram, state: DiagramState, indent: string, lines: string[]): void {
  const id = mermaidId(diagram.machine, state.id);
  const hasChildren = diagram.states.some((s) => s.parent === state.id);
  if (!hasChildren) {
    lines.push(`${indent}state "${mermaidText(state.key)}" as ${id}`);
  } else {
    lines.push(`${indent}state "${mermaidText(state.key)}" as ${id} {`);
    drawScope(diagram, state.id, `${indent}  `, lines);
    lines.push(`${indent}}`);
  }
  const here = isRunDiagram(diagram) ? diagram.current[state.id] : undefined;
  if (here !== undefined) lines.push(`${indent}${id} : ${mermaidText(`● ${here.join(', ')}`)}`);
}

function currentClasses(diagram: MachineDiagram): string[] {
  if (!isRunDiagram(diagram)) return [];
  return Object.keys(diagram.current).map((stateId) => `  class ${mermaidId(diagram.machine, stateId)} current`);
}

/** A `stateDiagram-v2` of one machine, or of several side by side (a run's workflow and workers). */
export function toMermaid(diagrams: readonly MachineDiagram[]): string {
  const lines = ['stateDiagram-v2'];
  if (diagrams.length === 1 && diagrams[0] !== undefined) {
    drawScope(diagrams[0], null, '  ', lines);
  } else {
    for (const diagram of diagrams) {
      lines.push(`  state "${mermaidText(diagram.machine)}" as machine_${idPart(diagram.machine)} {`);
      drawScope(diagram, null, '    ', lines);
      lines.push('  }');
    }
  }
  const marks = diagrams.flatMap(currentClasses);
  if (marks.length > 0) lines.push('  classDef current fill:#ffd966,stroke:#b58900,stroke-width:2px', ...marks);
  return `${lines.join('\n')}\n`;
}
