/**
 * An immutable array whose `set` copies one path of a 32-way trie (a few dozen slots) instead of the
 * whole array, so every earlier version stays valid and shares all it did not change. The task table
 * keeps one status per task in it: an xstate `assign` must not change the context it was given, and
 * copying a 10,000-entry array on every task event made runs quadratic in their size.
 */
const BITS = 5;
const WIDTH = 1 << BITS;
const MASK = WIDTH - 1;

/** A leaf holds values; an inner node holds the nodes below it. */
type Node<T> = readonly (T | Node<T>)[];

export class PersistentVector<T> {
  readonly #root: Node<T>;
  /** BITS times the number of inner levels above the leaves. */
  readonly #shift: number;
  readonly size: number;

  private constructor(root: Node<T>, shift: number, size: number) {
    this.#root = root;
    this.#shift = shift;
    this.size = size;
  }

  static from<T>(items: readonly T[]): PersistentVector<T> {
    let level: Node<T>[] = chunks<T | Node<T>>(items);
    let shift = 0;
    while (level.length > 1) {
      level = chunks<Node<T>>(level);
      shift += BITS;
    }
    return new PersistentVector<T>(level[0] ?? [], shift, items.length);
  }

  get(index: number): T {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) throw new RangeError(`index ${String(index)} is outside 0..${String(this.size - 1)}`);
    let node = this.#root;
    for (let shift = this.#shift; shift > 0; shift -= BITS) node = node[(index >>> shift) & MASK] as Node<T>;
    return node[index & MASK] as T;
  }

  set(index: number, value: T): PersistentVector<T> {
    if (this.get(index) === value) return this;
    return new PersistentVector<T>(setIn(this.#root, this.#shift, index, value), this.#shift, this.size);
  }

  toArray(): T[] {
    const out: T[] = [];
    collect(this.#root, this.#shift, out);
    return out;
  }
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += WIDTH) out.push(items.slice(start, start + WIDTH));
  return out;
}

function setIn<T>(node: Node<T>, shift: number, index: number, value: T): Node<T> {
  const copy = node.slice();
  const slot = (index >>> shift) & MASK;
  copy[slot] = shift === 0 ? value : setIn(node[slot] as Node<T>, shift - BITS, index, value);
  return copy;
}

function collect<T>(node: Node<T>, shift: number, out: T[]): void {
  if (shift === 0) {
    for (const value of node) out.push(value as T);
    return;
  }
  for (const child of node) collect(child as Node<T>, shift - BITS, out);
}
