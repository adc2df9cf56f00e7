/**
 * The run indexes `serve` keeps: one per run looked at lately (the least recently used is dropped past
 * KEPT), each brought up to date with the events written since before it answers, by one read of
 * what follows its last version. Reads of one run are chained, so two requests never add the same
 * events twice. Until a run's index is first read, the run at its newest event comes from the store's
 * aggregates instead (first-view.ts). The packets (objective, command) come from the run's
 * `plan.ready`, read once.
 */
import type { RunRow } from '../store/event-store.js';
import { RunNotFoundError } from '../fold/rebuild-run.js';
import { eventView, type EventView } from './event-view.js';
import { firstRunAt } from './first-view.js';
import { INDEX_PAYLOADS, RunIndex, type RunAt } from './run-index.js';
import type { LaneAt } from './run-lanes.js';
import { budgetSchema } from '../fold/run-events.js';
import type { PacketLookup, PacketText } from './run-view.js';
import type { ViewerStore } from './viewer-store.js';

const KEPT = 4;
const PAGES_KEPT = 64;
const PLAN_READY = 'plan.ready';

interface Indexed {
  run: RunRow;
  index: RunIndex;
  /** The chain of catch-up reads. */
  reading: Promise<void>;
}

interface Entry {
  runId: string;
  /** The run's row and its index, once the log has been read. */
  opening: Promise<Indexed>;
  indexed?: Indexed | undefined;
  packets?: Promise<Map<string, PacketText>> | undefined;
  /** Whole pages of events (they never change once written), by first version. */
  eventPages: Map<number, EventView[]>;
}

export interface IndexedRun {
  run: RunRow;
  index: RunIndex;
  packets: PacketLookup;
}

/** The run at its newest event, with its row and packets. */
export interface NewestRun {
  run: RunRow;
  at: RunAt;
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

const lookup = (packets: Map<string, PacketText>): PacketLookup => (workerId) => packets.get(workerId);

export class RunIndexes {
  readonly #store: ViewerStore;
  readonly #entries = new Map<string, Entry>();

  constructor(store: ViewerStore) {
    this.#store = store;
  }

  /** The run's row and its index, up to date with the log as of this call. Throws RunNotFoundError. */
  async get(runId: string): Promise<IndexedRun> {
    const entry = this.#entry(runId);
    const indexed = await entry.opening;
    await this.#catchUp(entry, indexed);
    const packets = await this.#packets(entry, indexed.index.firstOfType(PLAN_READY));
    return { run: indexed.run, index: indexed.index, packets: lookup(packets) };
  }

  /**
   * The run at its newest event, when `version` (the one asked for, if any) is not older: a run not
   * indexed yet is answered from the store while its index is read beside it; undefined once the
   * index is read, or for an older version (the index answers those). `shown` picks the lanes a view
   * shows (first-view.ts). Throws RunNotFoundError.
   */
  async newest(runId: string, version: number | undefined, shown: (lanes: readonly LaneAt[]) => readonly LaneAt[]): Promise<NewestRun | undefined> {
    const entry = this.#entry(runId);
    if (entry.indexed !== undefined) return undefined;
    const [run, at, packets] = await this.#store.use(async (s) => {
      const packetsRead = s.firstVersionOfType(runId, PLAN_READY).then((planned) => this.#packets(entry, planned));
      return Promise.all([s.getRun(runId), firstRunAt(s, runId, version, shown), packetsRead]);
    });
    if (run === undefined) throw new RunNotFoundError(runId);
    return at === undefined ? undefined : { run, at, packets: lookup(packets) };
  }

  /**
   * Events `from` on, `limit` of them, with a preview of each payload (and the payload when asked).
   * A whole page without payloads is kept: the first pages carry the plan's packets, megabytes to
   * read for a line of preview each.
   */
  async events(runId: string, from: number, limit: number, withPayloads: boolean): Promise<{ total: number; events: EventView[] }> {
    const { index } = await this.get(runId);
    const entry = this.#entries.get(runId);
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

  /** The run's entry, its index read started on first sight; most recently used last. */
  #entry(runId: string): Entry {
    let entry = this.#entries.get(runId);
    if (entry !== undefined) {
      this.#entries.delete(runId);
      this.#entries.set(runId, entry);
      return entry;
    }
    const created: Entry = { runId, opening: this.#open(runId, (indexed) => this.#catchUp(created, indexed)), eventPages: new Map() };
    created.opening.then(
      (indexed) => (created.indexed = indexed),
      () => {
        if (this.#entries.get(runId) === created) this.#entries.delete(runId);
      },
    );
    entry = created;
    this.#entries.set(runId, entry);
    while (this.#entries.size > KEPT) this.#entries.delete(this.#entries.keys().next().value!);
    return entry;
  }

  async #open(runId: string, read: (indexed: Indexed) => Promise<void>): Promise<Indexed> {
    const run = await this.#store.use((s) => s.getRun(runId));
    if (run === undefined) throw new RunNotFoundError(runId);
    const indexed: Indexed = { run, index: new RunIndex(runId, run.machineVersion), reading: Promise.resolve() };
    await read(indexed);
    if (indexed.index.version === 0) throw new RunNotFoundError(runId);
    return indexed;
  }

  #catchUp(entry: Entry, indexed: Indexed): Promise<void> {
    indexed.reading = indexed.reading.then(async () => {
      const { index } = indexed;
      // A read cut short (its server gone) leaves the index whole up to where it got: the retry goes on from there.
      const [run] = await this.#store.use((s) =>
        Promise.all([
          index.version === 0 ? Promise.resolve(indexed.run) : s.getRun(index.runId),
          s.readOutlines(index.runId, { fromVersion: index.version + 1, payloadTypes: INDEX_PAYLOADS }, (event) => {
            index.add(event);
            // The plan's packets (a megabyte for a fleet) are read beside the rest of the log, not after it.
            if (event.type === PLAN_READY) void this.#packets(entry, index.firstOfType(PLAN_READY));
          }),
        ]),
      );
      if (run !== undefined) indexed.run = run;
    });
    return indexed.reading;
  }

  /** The packets of the plan at `planned`, the run's first `plan.ready` (none before it). */
  #packets(entry: Entry, planned: number | undefined): Promise<Map<string, PacketText>> {
    if (planned === undefined) return Promise.resolve(new Map<string, PacketText>());
    entry.packets ??= this.#store
      .use((s) => s.readStream(entry.runId, { fromVersion: planned, toVersion: planned }))
      .then(([event]) => {
        const packets = (event?.payload as { packets?: unknown } | undefined)?.packets;
        return new Map<string, PacketText>((Array.isArray(packets) ? packets : []).flatMap((p) => { const text = packetText(p); return text === undefined ? [] : [text]; }));
      });
    // A failed read is tried again by the next request.
    void entry.packets.catch(() => (entry.packets = undefined));
    return entry.packets;
  }
}
