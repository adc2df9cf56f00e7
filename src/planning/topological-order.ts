/**
 * Dependency order over packets. Ties are broken by plan order, so the order a person wrote is the
 * order independent packets run in. Dependencies on ids that are not in the list are ignored here;
 * plan validation reports them.
 */

export interface DependencyNode {
  id: string;
  dependsOn: readonly string[];
}

export type TopologicalOrder = { ok: true; order: string[] } | { ok: false; cycles: string[][] };

export function topologicalOrder(nodes: readonly DependencyNode[]): TopologicalOrder {
  const known = new Set(nodes.map((n) => n.id));
  const waitingOn = new Map(nodes.map((n) => [n.id, new Set(n.dependsOn.filter((d) => known.has(d)))]));
  const order: string[] = [];
  const placed = new Set<string>();
  let progressed = true;
  while (progressed) {
    progressed = false;
    for (const node of nodes) {
      if (placed.has(node.id)) continue;
      const waiting = waitingOn.get(node.id);
      if (waiting !== undefined && [...waiting].every((d) => placed.has(d))) {
        order.push(node.id);
        placed.add(node.id);
        progressed = true;
        // Restart from the top so an earlier packet that just became ready goes before later ones.
        break;
      }
    }
  }
  if (order.length === known.size) return { ok: true, order };
  return { ok: false, cycles: dependencyCycles(nodes) };
}

/**
 * One cycle per strongly connected component, each as the ids along it (`[a, b]` for a -> b -> a),
 * starting at the member that comes first in plan order. A self-dependency is a cycle of one.
 */
export function dependencyCycles(nodes: readonly DependencyNode[]): string[][] {
  const position = new Map<string, number>();
  nodes.forEach((n, i) => {
    if (!position.has(n.id)) position.set(n.id, i);
  });
  const edges = new Map<string, string[]>();
  for (const n of nodes) {
    const list = edges.get(n.id) ?? [];
    list.push(...n.dependsOn.filter((d) => position.has(d)));
    edges.set(n.id, list);
  }

  const cycles: string[][] = [];
  for (const component of stronglyConnected([...position.keys()], edges)) {
    const start = component.reduce((a, b) => ((position.get(a) ?? 0) <= (position.get(b) ?? 0) ? a : b));
    if (component.length === 1 && !(edges.get(start) ?? []).includes(start)) continue;
    cycles.push(shortestCycle(start, new Set(component), edges));
  }
  return cycles.sort((a, b) => (position.get(a[0] ?? '') ?? 0) - (position.get(b[0] ?? '') ?? 0));
}

/** Tarjan's algorithm; plans are small enough for recursion. */
function stronglyConnected(ids: readonly string[], edges: ReadonlyMap<string, readonly string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];

  const visit = (id: string): void => {
    index.set(id, counter);
    low.set(id, counter);
    counter += 1;
    stack.push(id);
    onStack.add(id);
    for (const next of edges.get(id) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(id, Math.min(low.get(id) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) {
        low.set(id, Math.min(low.get(id) ?? 0, index.get(next) ?? 0));
      }
    }
    if (low.get(id) === index.get(id)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop();
        if (member === undefined) break;
        onStack.delete(member);
        component.push(member);
      } while (member !== id);
      components.push(component);
    }
  };

  for (const id of ids) if (!index.has(id)) visit(id);
  return components;
}

/** Breadth-first inside one component, so the cycle named is a shortest one through `start`. */
function shortestCycle(start: string, members: ReadonlySet<string>, edges: ReadonlyMap<string, readonly string[]>): string[] {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i += 1) {
    const id = queue[i] as string;
    for (const next of edges.get(id) ?? []) {
      if (next === start) {
        const path = [id];
        let step = id;
        while (step !== start) {
          step = cameFrom.get(step) as string;
          path.push(step);
        }
        return path.reverse();
      }
      if (members.has(next) && !cameFrom.has(next)) {
        cameFrom.set(next, id);
        queue.push(next);
      }
    }
  }
  return [start];
}
