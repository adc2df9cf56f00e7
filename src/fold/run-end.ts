/** Whether an event ends its run: the workflow entered one of its final states (read from the machine). */
import { workflowMachine } from '../../machines/workflow.js';
import type { StoredEvent } from '../store/event-store.js';
import { stateText } from './state-value.js';

const FINAL_STATES: ReadonlySet<string> = new Set(
  Object.values(workflowMachine.root.states)
    .filter((state) => state.type === 'final')
    .map((state) => state.key),
);

export function endsRun(event: StoredEvent): boolean {
  return event.machine === 'workflow' && FINAL_STATES.has(stateText(event.stateAfter));
}
