/**
 * The run indexes `serve` keeps: one per run looked at lately (the least recently used is dropped past
 * KEPT), each brought up to date with the events written since before it answers, by one read of
 * what follows its last version. Reads of one run are chained, so two requests never add the same
 * events twice. The packets (objective, command) come from the run's `plan.ready`, read once.
 *
 * A run's first answer does not wait for its index: the run at its newest event comes from the
 * store's aggregates (first-view.ts), read ahead while the page loads its scripts. The log is read
 * into the index by the first request that needs it (the page asks for events and diagrams right
 * after drawing its first answer), or after a first answer nobody read ahead for (a client of the
 * API alone). Read beside the first answer, the log took the same two cores from it and from the
 * browser drawing it.
 */
import type { RunRow } from '../store/event-store.js';
import { RunNotFoundError } from '../fold/rebuild-run.js';
import { eventView, type EventView } from './event-view.js';
import { firstRunAt, readRunHeads, type RunHeads, type ShownLanes } from './first-view.js';
import { INDEX_PAYLOADS, RunIndex, type RunAt } from './run-index.js';
import { budgetSchema } from '../fold/run-events.js';
import { LANE_PAGE_MAX, runViewLanes, type PacketLookup, type PacketText } from './run-view.js';
import type { ViewerStore } from './viewer-store.js';

const KEPT = 4;
const PAGES_KEPT = 64;
const PLAN_READY = 'plan.ready';
/** The lanes read whole ahead: those of any first screen of the page before it is filtered. */
const FIRST_SCREEN: ShownLanes = runViewLanes({}, 0, LANE_PAGE_MAX);

interface Indexed {
  run: RunRow;
  index: RunIndex;
  /** The chain of catch-up reads. */
  reading: Promise<void>;
}

interface Entry {
  runId: string;
  /** The read of the log into the index, once started. */
  opening?: Promise<Indexed> | undefined;
  /** The run's row and its index, once the log has been read. */
  indexed?: Indexed | undefined;
  /** The run in brief, read ahead for its first answer. */
  ahead?: Promise<RunHeads> | undefined;
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
    // A log read by this call is up to date as of it already: only an index read before catches up.
    const readBefore = entry.opening !== undefined;
    const indexed = await this.#index(entry);
    if (readBefore) await this.#catchUp(entry, indexed);
    const packets = await this.#packets(entry, indexed.index.firstOfType(PLAN_READY));
    return { run: indexed.run, index: indexed.index, packets: lookup(packets) };
  }

  /** The run's page is asked for: what its first answer needs is read meanwhile (the run in brief, or new events into its index). */
  readAhead(runId: string): void {
    const entry = this.#entry(runId);
    if (entry.opening !== undefined) {
      this.get(runId).catch(() => undefined);
      return;
    }
    entry.ahead ??= this.#store.use((s) => readRunHeads(s, runId, FIRST_SCREEN));
    entry.ahead.catch(() => undefined);
    this.#planPackets(entry).catch(() => undefined);
  }

  /**
   * The run at its newest event, when `version` (the one asked for, if any) is not older: before the
   * run's index is read, from the store (first-view.ts), the lanes `shown` picks read whole. Undefined
   * once the index is read, or for an older version: the index answers those. Throws RunNotFoundError.
   */
  async newest(runId: string, version: number | undefined, shown: ShownLanes): Promise<NewestRun | undefined> {
    const entry = this.#entry(runId);
    if (entry.indexed !== undefined) return undefined;
    const readAhead = entry.ahead !== undefined;
    const [run, heads, packets] = await Promise.all([this.#store.use((s) => s.getRun(runId)), this.#heads(entry, shown), this.#planPackets(entry)]);
    if (run === undefined) throw new RunNotFoundError(runId);
    if (version !== undefined && version < heads.newest.version) return undefined;
    const at = await this.#store.use((s) => firstRunAt(s, runId, heads, shown));
    if (!readAhead) this.#index(entry).catch(() => undefined);
    return { run, at, packets: lookup(packets) };
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

  /** The run's entry, most recently used last. */
  #entry(runId: string): Entry {
    let entry = this.#entries.get(runId);
    if (entry !== undefined) {
      this.#entries.delete(runId);
    } else {
      entry = { runId, eventPages: new Map() };
      while (this.#entries.size >= KEPT) this.#entries.delete(this.#entries.keys().next().value!);
    }
    this.#entries.set(runId, entry);
    return entry;
  }

  /** The run's index, its log read on first call. */
  #index(entry: Entry): Promise<Indexed> {
    if (entry.opening !== undefined) return entry.opening;
    const opening = this.#open(entry.runId, (indexed) => this.#catchUp(entry, indexed));
    entry.opening = opening;
    entry.ahead = undefined;
    opening.then(
      (indexed) => (entry.indexed = indexed),
      () => {
        if (this.#entries.get(entry.runId) === entry) this.#entries.delete(entry.runId);
      },
    );
    return opening;
  }

  /** The run in brief: as read ahead, unless the log has grown since; else read now with the lanes `shown` picks. */
  async #heads(entry: Entry, shown: ShownLanes): Promise<RunHeads> {
    const { ahead } = entry;
    entry.ahead = undefined;
    if (ahead !== undefined) {
      const [heads, newest] = await Promise.all([ahead.catch(() => undefined), this.#store.use((s) => s.readLastOutline(entry.runId))]);
      if (heads !== undefined && heads.newest.version === newest?.version) return heads;
    }
    return this.#store.use((s) => readRunHeads(s, entry.runId, shown));
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

  /** The packets of the run's plan, found by the store before the index is read. */
  #planPackets(entry: Entry): Promise<Map<string, PacketText>> {
    return entry.packets ?? this.#store.use((s) => s.firstVersionOfType(entry.runId, PLAN_READY)).then((planned) => this.#packets(entry, planned));
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
