/**
 * A run's events as the viewer's index keeps them: a few columns (typed arrays for the numbers, one
 * shared string per distinct type and state), not an object per event. A fleet's 50,000 events as
 * objects were what the collector copied, again and again, while the index was built on the first open.
 */
import type { MachineKind } from '../store/event-store.js';

export interface IndexedEvent {
  version: number;
  position: bigint;
  /** Milliseconds since the epoch. */
  at: number;
  type: string;
  machine: MachineKind;
  workerId: string | null;
  state: string;
  /** The event as its machine saw it (a fired timer delivers the event it carries). */
  machineEvent: string;
  /** The machine instance's state before this event; null for its first event. */
  before: string | null;
}

const FIRST_CAPACITY = 1024;

/** One string per distinct text, for texts repeated across many rows: the rows of a read each bring their own copy. */
export function sharedTexts(): (text: string) => string {
  const texts = new Map<string, string>();
  return (text) => {
    const known = texts.get(text);
    if (known !== undefined) return known;
    texts.set(text, text);
    return text;
  };
}

export class EventColumns {
  #length = 0;
  #positions = new BigInt64Array(FIRST_CAPACITY);
  #at = new Float64Array(FIRST_CAPACITY);
  readonly #types: string[] = [];
  readonly #machines: MachineKind[] = [];
  readonly #workerIds: (string | null)[] = [];
  readonly #states: string[] = [];
  readonly #machineEvents: string[] = [];
  readonly #befores: (string | null)[] = [];
  /** The shared copy of a type or state. */
  readonly shared = sharedTexts();

  get length(): number {
    return this.#length;
  }

  push(event: Omit<IndexedEvent, 'version'>): void {
    if (this.#length === this.#positions.length) this.#grow();
    const i = this.#length;
    this.#positions[i] = event.position;
    this.#at[i] = event.at;
    this.#types.push(this.shared(event.type));
    this.#machines.push(event.machine);
    this.#workerIds.push(event.workerId);
    this.#states.push(this.shared(event.state));
    this.#machineEvents.push(this.shared(event.machineEvent));
    this.#befores.push(event.before);
    this.#length += 1;
  }

  /** The event at a stream version (1 is the first). */
  at(version: number): IndexedEvent | undefined {
    const i = version - 1;
    if (i < 0 || i >= this.#length) return undefined;
    return {
      version,
      position: this.#positions[i]!,
      at: this.#at[i]!,
      type: this.#types[i]!,
      machine: this.#machines[i]!,
      workerId: this.#workerIds[i]!,
      state: this.#states[i]!,
      machineEvent: this.#machineEvents[i]!,
      before: this.#befores[i]!,
    };
  }

  /** The version of the first event of this type, or undefined. */
  firstOfType(type: string): number | undefined {
    const i = this.#types.indexOf(type);
    return i < 0 ? undefined : i + 1;
  }

  /** The version of the last event at or before a global position: 0 when there is none. */
  versionAtPosition(position: bigint): number {
    let low = 0;
    let high = this.#length - 1;
    let found = 0;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (this.#positions[middle]! <= position) {
        found = middle + 1;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found;
  }

  /** Each event's step up to `version`, in order, without an object per event. */
  forEachStep(version: number, step: (machine: MachineKind, before: string | null, state: string, machineEvent: string) => void): void {
    const last = Math.min(version, this.#length);
    for (let i = 0; i < last; i += 1) step(this.#machines[i]!, this.#befores[i]!, this.#states[i]!, this.#machineEvents[i]!);
  }

  #grow(): void {
    const positions = new BigInt64Array(this.#positions.length * 2);
    positions.set(this.#positions);
    this.#positions = positions;
    const at = new Float64Array(this.#at.length * 2);
    at.set(this.#at);
    this.#at = at;
  }
}
