/** Whether an event ends its run: the workflow entered one of its final states (read from the machine). */
import { isFinalWorkflowState } from '../../machines/state-sets.js';
import type { StoredEvent } from '../store/event-store.js';
import { stateText } from './state-value.js';

export function endsRun(event: StoredEvent): boolean {
  return event.machine === 'workflow' && isFinalWorkflowState(stateText(event.stateAfter));
}
