import { describe, expect, it } from 'vitest';
import { dependencyCycles, topologicalOrder } from '../../src/planning/topological-order.js';

const node = (id: string, ...dependsOn: string[]) => ({ id, dependsOn });

describe('dependency order', () => {
  it('puts every packet after what it depends on, ties in plan order', () => {
    const order = topologicalOrder([node('d', 'b', 'c'), node('c', 'a'), node('b', 'a'), node('a'), node('z')]);
    expect(order).toEqual({ ok: true, order: ['a', 'c', 'b', 'd', 'z'] });
  });

  it('ignores dependencies on packets it was not given', () => {
    expect(topologicalOrder([node('a', 'elsewhere'), node('b', 'a')])).toEqual({ ok: true, order: ['a', 'b'] });
  });

  it('names the cycles instead of an order', () => {
    const result = topologicalOrder([node('a'), node('b', 'a', 'd'), node('c', 'b'), node('d', 'c'), node('e', 'e')]);
    expect(result).toEqual({ ok: false, cycles: [['b', 'd', 'c'], ['e']] });
  });

  it('names a shortest cycle through the first packet of a tangle', () => {
    expect(dependencyCycles([node('a', 'b'), node('b', 'c', 'a'), node('c', 'a')])).toEqual([['a', 'b']]);
  });

  it('names a cycle through 100,000 packets (the plan chooses the depth, not the call stack)', () => {
    const count = 100_000;
    const ring = Array.from({ length: count }, (_, i) => node(`p${String(i)}`, `p${String((i + 1) % count)}`));
    const cycles = dependencyCycles(ring);
    expect(cycles).toHaveLength(1);
    expect(cycles[0]).toHaveLength(count);
    expect(cycles[0]?.slice(0, 3)).toEqual(['p0', 'p1', 'p2']);
  });
});
