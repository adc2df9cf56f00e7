/**
 * The registry of worker kinds: an ordered list, and the first kind that runs a packet runs it. A new
 * kind is one more file and one more entry here; nothing else learns its name.
 */
import type { WorkerDriver } from '../worker-driver.js';
import { agentKind } from './agent-kind.js';
import { serviceKind } from './service-kind.js';
import { shellKind } from './shell-kind.js';
import type { KindPacket, KindRun, WorkerKind } from './worker-kind.js';

export class WorkerKinds {
  /** `kinds` in the order they are asked; the last should run anything (the shell kind does). */
  constructor(readonly kinds: readonly WorkerKind[]) {
    // Policies and the log tell kinds apart by name.
    if (new Set(kinds.map((kind) => kind.name)).size !== kinds.length) throw new Error('two worker kinds share a name');
  }

  /** The kind that runs this packet in this run. */
  kindFor(packet: KindPacket, run: KindRun): WorkerKind {
    const kind = this.kinds.find((k) => k.runs(packet, run));
    if (kind === undefined) throw new Error(`no worker kind runs packet ${packet.id}`);
    return kind;
  }
}

/**
 * The kinds every run knows: an agent lane for packets with an `agent`, a worker service for packets
 * without a command when the run has one, else a shell.
 */
export function defaultWorkerKinds(options: { driver?: WorkerDriver; agentDriver?: WorkerDriver } = {}): WorkerKinds {
  return new WorkerKinds([agentKind(options.agentDriver), serviceKind, shellKind(options.driver)]);
}
