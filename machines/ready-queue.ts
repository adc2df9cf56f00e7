/**
 * An immutable min-queue of plan positions (a leftist heap): tasks are dispatched in plan order, and
 * they become ready in any order. Push and pop are O(log n) and leave the earlier queue intact, as a
 * context value must be.
 */
interface Entry {
  readonly position: number;
  /** Length of the right spine: keeping it the shorter one bounds merges to O(log n). */
  readonly rank: number;
  readonly left: ReadyQueue;
  readonly right: ReadyQueue;
}

export type ReadyQueue = Entry | null;

export const EMPTY_QUEUE: ReadyQueue = null;

function rank(queue: ReadyQueue): number {
  return queue === null ? 0 : queue.rank;
}

function merge(a: ReadyQueue, b: ReadyQueue): ReadyQueue {
  if (a === null) return b;
  if (b === null) return a;
  const [low, high] = a.position <= b.position ? [a, b] : [b, a];
  const merged = merge(low.right, high);
  const [left, right] = rank(low.left) >= rank(merged) ? [low.left, merged] : [merged, low.left];
  return { position: low.position, rank: rank(right) + 1, left, right };
}

export function push(queue: ReadyQueue, position: number): ReadyQueue {
  return merge(queue, { position, rank: 1, left: null, right: null });
}

export function peek(queue: ReadyQueue): number | undefined {
  return queue?.position;
}

export function pop(queue: ReadyQueue): ReadyQueue {
  return queue === null ? null : merge(queue.left, queue.right);
}
