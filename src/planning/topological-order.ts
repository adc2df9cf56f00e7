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

/**
 * Tarjan's algorithm with its call stack written out: a plan chooses how deep the search goes (a
 * cycle through 5,000 packets is 5,000 frames), so the depth must not be the JavaScript stack's.
 */
function stronglyConnected(ids: readonly string[], edges: ReadonlyMap<string, readonly string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  /** The search path: each packet with how many of its edges it has followed. */
  const path: Array<{ id: string; next: number }> = [];

  const enter = (id: string): void => {
    index.set(id, counter);
    low.set(id, counter);
    counter += 1;
    stack.push(id);
    onStack.add(id);
    path.push({ id, next: 0 });
  };

  const leave = (id: string): void => {
    if (low.get(id) !== index.get(id)) return;
    const component: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop();
      if (member === undefined) break;
      onStack.delete(member);
      component.push(member);
    } while (member !== id);
    components.push(component);
  };

  for (const root of ids) {
    if (index.has(root)) continue;
    enter(root);
    while (path.length > 0) {
      const frame = path[path.length - 1] as { id: string; next: number };
      const next = (edges.get(frame.id) ?? [])[frame.next];
      if (next !== undefined) {
        frame.next += 1;
        if (!index.has(next)) enter(next);
        else if (onStack.has(next)) low.set(frame.id, Math.min(low.get(frame.id) ?? 0, index.get(next) ?? 0));
        continue;
      }
      path.pop();
      leave(frame.id);
      const parent = path[path.length - 1];
      if (parent !== undefined) low.set(parent.id, Math.min(low.get(parent.id) ?? 0, low.get(frame.id) ?? 0));
    }
  }
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
