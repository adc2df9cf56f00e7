/**
 * The run indexes `serve` keeps: one per run looked at lately (the least recently used is dropped past
 * KEPT), each brought up to date with the events written since before it answers, by one read of
 * what follows its last version. Reads of one run are chained, so two requests never add the same
 * events twice. The packets (objective, command) come from the run's `plan.ready`, read once.
 */
import type { RunRow } from '../store/event-store.js';
import { RunNotFoundError } from '../fold/rebuild-run.js';
import { eventView, type EventView } from './event-view.js';
import { INDEX_PAYLOADS, RunIndex } from './run-index.js';
import { budgetSchema } from '../fold/run-events.js';
import type { PacketLookup, PacketText } from './run-view.js';
import type { ViewerStore } from './viewer-store.js';

const KEPT = 4;
const PAGES_KEPT = 64;

interface Entry {
  run: RunRow;
  index: RunIndex;
  /** The chain of catch-up reads. */
  reading: Promise<void>;
  packets?: Promise<Map<string, PacketText>> | undefined;
  /** Whole pages of events (they never change once written), by first version. */
  eventPages: Map<number, EventView[]>;
}

export interface IndexedRun {
  run: RunRow;
  index: RunIndex;
  packets: PacketLookup;
}

function packetText(packet: unknown): [string, PacketText] | undefined {
  if (typeof packet !== 'object' || packet === null) return undefined;
  const { id, objective, command, budget } = packet as Record<string, unknown>;
  if (typeof id !== 'string') return undefined;
  // Most packets have no budget: zod is not asked about those (a failed parse builds its issues, 10,000 times for a fleet).
  const parsedBudget = budget === undefined ? undefined : budgetSchema.safeParse(budget);
  return [id, { objective: typeof objective === 'string' ? objective : '', command: typeof command === 'string' ? command : null, budget: parsedBudget?.success === true ? parsedBudget.data : null }];
}

export class RunIndexes {
  readonly #store: ViewerStore;
  readonly #entries = new Map<string, Promise<Entry>>();

  constructor(store: ViewerStore) {
    this.#store = store;
  }

  /** The run's row and its index, up to date with the log as of this call. Throws RunNotFoundError. */
  async get(runId: string): Promise<IndexedRun> {
    let entry = this.#entries.get(runId);
    if (entry === undefined) {
      entry = this.#open(runId);
      this.#entries.set(runId, entry);
      entry.catch(() => this.#entries.delete(runId));
      while (this.#entries.size > KEPT) this.#entries.delete(this.#entries.keys().next().value!);
    } else {
      // Most recently used last.
      this.#entries.delete(runId);
      this.#entries.set(runId, entry);
    }
    const opened = await entry;
    await this.#catchUp(opened);
    const packets = await this.#packets(opened);
    return { run: opened.run, index: opened.index, packets: (workerId) => packets.get(workerId) };
  }

  async #open(runId: string): Promise<Entry> {
    const run = await this.#store.use((s) => s.getRun(runId));
    if (run === undefined) throw new RunNotFoundError(runId);
    const entry: Entry = { run, index: new RunIndex(runId, run.machineVersion), reading: Promise.resolve(), eventPages: new Map() };
    await this.#catchUp(entry);
    if (entry.index.version === 0) throw new RunNotFoundError(runId);
    return entry;
  }

  /**
   * Events `from` on, `limit` of them, with a preview of each payload (and the payload when asked).
   * A whole page without payloads is kept: the first pages carry the plan's packets, megabytes to
   * read for a line of preview each.
   */
  async events(runId: string, from: number, limit: number, withPayloads: boolean): Promise<{ total: number; events: EventView[] }> {
    const { index } = await this.get(runId);
    const entry = await this.#entries.get(runId);
    const kept = withPayloads ? undefined : entry?.eventPages.get(from);
    if (kept !== undefined && kept.length >= limit) return { total: index.version, events: kept.slice(0, limit) };
    const read = await this.#store.use((s) => s.readStream(runId, { fromVersion: from, toVersion: from + limit - 1 }));
    const events = read.map((e) => eventView(e, withPayloads));
    if (!withPayloads && events.length === limit && entry !== undefined) {
      if (entry.eventPages.size >= PAGES_KEPT) entry.eventPages.delete(entry.eventPages.keys().next().value!);
      entry.eventPages.set(from, events);
    }
    return { total: index.version, events };
  }

  #catchUp(entry: Entry): Promise<void> {
    entry.reading = entry.reading.then(async () => {
      const { index } = entry;
      // A read cut short (its server gone) leaves the index whole up to where it got: the retry goes on from there.
      const [run] = await this.#store.use((s) =>
        Promise.all([
          index.version === 0 ? Promise.resolve(entry.run) : s.getRun(index.runId),
          s.readOutlines(index.runId, { fromVersion: index.version + 1, payloadTypes: INDEX_PAYLOADS }, (event) => {
            index.add(event);
            // The plan's packets (a megabyte for a fleet) are read beside the rest of the log, not after it.
            if (event.type === 'plan.ready') void this.#packets(entry);
          }),
        ]),
      );
      if (run !== undefined) entry.run = run;
    });
    return entry.reading;
  }

  #packets(entry: Entry): Promise<Map<string, PacketText>> {
    const planned = entry.index.firstOfType('plan.ready');
    if (planned === undefined) return Promise.resolve(new Map<string, PacketText>());
    entry.packets ??= this.#store
      .use((s) => s.readStream(entry.index.runId, { fromVersion: planned, toVersion: planned }))
      .then(([event]) => {
        const packets = (event?.payload as { packets?: unknown } | undefined)?.packets;
        return new Map<string, PacketText>((Array.isArray(packets) ? packets : []).flatMap((p) => { const text = packetText(p); return text === undefined ? [] : [text]; }));
      });
    // A failed read is tried again by the next request.
    void entry.packets.catch(() => (entry.packets = undefined));
    return entry.packets;
  }
}
