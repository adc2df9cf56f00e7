/**
 * The green contract, after Claw Code: gate levels are ordered
 * `targeted_tests < package < workspace < merge_ready`; a packet requires a level (its `green_level`,
 * or else the highest level among its gates) and is green when every gate up to that level passes.
 * Gates above the required level are not run.
 */
import { parseDuration } from '../os/duration.js';
import { GATE_LEVELS, type GateLevel, type QualityGate } from '../planning/task-packet.js';

export { GATE_LEVELS, type GateLevel } from '../planning/task-packet.js';

/** A gate ready to run: a name unique within its packet, and its time limit (null: none). */
export interface RequiredGate {
  name: string;
  command: string;
  level: GateLevel;
  timeoutMs: number | null;
}

/** The part of a packet the green contract reads. */
export interface GreenContractPacket {
  gates?: readonly QualityGate[] | undefined;
  green_level?: GateLevel | undefined;
}

/** Lower levels first: `levelRank('targeted_tests') < levelRank('merge_ready')`. */
export function levelRank(level: GateLevel): number {
  return GATE_LEVELS.indexOf(level);
}

/** The level a packet must reach; null for a packet with no gates and no `green_level`. */
export function requiredLevel(packet: GreenContractPacket): GateLevel | null {
  if (packet.green_level !== undefined) return packet.green_level;
  let highest: GateLevel | null = null;
  for (const gate of packet.gates ?? []) {
    if (highest === null || levelRank(gate.level) > levelRank(highest)) highest = gate.level;
  }
  return highest;
}

/**
 * The gates to run, lowest level first (gates of one level keep their order in the packet). An
 * unnamed gate is called `<level>-<n>`, n counting that level's gates in the packet from 1, so its
 * name, and so its log file, does not change when `green_level` does.
 */
export function requiredGates(packet: GreenContractPacket): RequiredGate[] {
  const required = requiredLevel(packet);
  if (required === null) return [];
  const named = nameGates(packet.gates ?? []);
  return named
    .filter((gate) => levelRank(gate.level) <= levelRank(required))
    .sort((a, b) => levelRank(a.level) - levelRank(b.level));
}

function nameGates(gates: readonly QualityGate[]): RequiredGate[] {
  const perLevel = new Map<GateLevel, number>();
  const taken = new Set(gates.flatMap((gate) => (gate.name === undefined ? [] : [gate.name])));
  const used = new Set<string>();
  return gates.map((gate) => {
    const n = (perLevel.get(gate.level) ?? 0) + 1;
    perLevel.set(gate.level, n);
    let name = gate.name ?? `${gate.level}-${String(n)}`;
    // A plan rejects duplicate names; a packet from elsewhere still gets distinct log files.
    if (used.has(name) || (gate.name === undefined && taken.has(name))) name = freeName(name, used, taken);
    used.add(name);
    return { name, command: gate.command, level: gate.level, timeoutMs: gateTimeoutMs(gate) };
  });
}

function freeName(name: string, used: ReadonlySet<string>, taken: ReadonlySet<string>): string {
  for (let suffix = 2; ; suffix += 1) {
    const candidate = `${name}-${String(suffix)}`;
    if (!used.has(candidate) && !taken.has(candidate)) return candidate;
  }
}

function gateTimeoutMs(gate: QualityGate): number | null {
  if (typeof gate.timeoutMs === 'number') return gate.timeoutMs;
  return gate.timeout === undefined ? null : parseDuration(gate.timeout);
}
