/**
 * A machine's state value as people and diagrams name it: a dotted path per active leaf state
 * (`running`, or `verifying.gates` once a machine nests states), several for parallel states.
 */
export function stateLeaves(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, child]) => {
    const below = stateLeaves(child);
    return below.length === 0 ? [key] : below.map((leaf) => `${key}.${leaf}`);
  });
}

export function stateText(value: unknown): string {
  // Flat machines have string values: the common case, asked for on every step of a replay.
  return typeof value === 'string' ? value : stateLeaves(value).join(', ');
}
