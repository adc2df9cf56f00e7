// A list of any length that keeps only the rows in view (and a margin) in the DOM: a spacer gives the
// scroll box its full height, each row is placed at index × rowHeight, and rows are fetched a page at
// a time as they come into view. `reset` starts a new generation (another moment, another filter):
// answers for an older one are dropped, and the old rows stay until the new ones arrive.

const MARGIN_ROWS = 10;

export class VirtualList {
  /**
   * @param {object} options
   * @param {HTMLElement} options.box the scroll box (fixed height, overflow auto)
   * @param {number} options.rowHeight pixels
   * @param {number} options.maxHeight pixels: the box grows with its rows up to this, then scrolls
   * @param {number} options.pageSize rows per fetch
   * @param {(offset: number, limit: number) => Promise<{total: number, rows: object[]}>} options.fetchPage
   * @param {(row: object, index: number) => HTMLElement} options.renderRow
   * @param {(generation: number) => void} [options.onRendered] called once the rows in view are those of the newest generation
   */
  constructor(options) {
    Object.assign(this, options);
    this.total = 0;
    this.generation = 0;
    this.pages = new Map();
    this.loading = new Map();
    this.box.classList.add('virtual');
    this.spacer = document.createElement('div');
    this.spacer.className = 'virtual-spacer';
    this.box.replaceChildren(this.spacer);
    this.shown = new Map();
    this.box.addEventListener('scroll', () => this.render(), { passive: true });
  }

  /** The rows in view now: [first, end). */
  range() {
    const first = Math.max(0, Math.floor(this.box.scrollTop / this.rowHeight) - MARGIN_ROWS);
    const count = Math.ceil(this.box.clientHeight / this.rowHeight) + 2 * MARGIN_ROWS;
    return [first, Math.min(this.total, first + count)];
  }

  /** Forgets every fetched row; `seed` ({offset, total, rows}) is a page the caller already has. */
  reset(seed) {
    this.generation += 1;
    this.pages = new Map();
    this.loading = new Map();
    if (seed !== undefined) this.seed(seed);
    // Not known until the first page comes: at least one row, so that the page in view is asked for.
    else this.total = Math.max(this.total, 1);
    this.render();
  }

  seed({ offset, total, rows }) {
    this.total = total;
    for (let i = 0; i < rows.length; i += this.pageSize) {
      const page = Math.floor((offset + i) / this.pageSize);
      if ((offset + i) % this.pageSize === 0) this.pages.set(page, rows.slice(i, i + this.pageSize));
    }
  }

  setTotal(total) {
    this.total = total;
    this.render();
  }

  /** Sizes the spacer and the box for `total` rows, fetching nothing (to scroll before the first fetch). */
  resize(total) {
    this.total = total;
    this.spacer.style.height = `${this.total * this.rowHeight}px`;
    this.box.style.height = `${Math.min(this.maxHeight, Math.max(this.total, 1) * this.rowHeight + 2)}px`;
  }

  render() {
    this.resize(this.total);
    const [first, end] = this.range();
    let complete = true;
    for (let page = Math.floor(first / this.pageSize); page * this.pageSize < end; page += 1) {
      if (!this.pages.has(page)) {
        complete = false;
        this.load(page);
      }
    }
    if (!complete && this.shown.size > 0 && this.shownGeneration !== this.generation) return;
    const keep = new Set();
    for (let index = first; index < end; index += 1) {
      const row = this.pages.get(Math.floor(index / this.pageSize))?.[index % this.pageSize];
      if (row === undefined) continue;
      keep.add(index);
      const old = this.shown.get(index);
      if (old !== undefined && old.row === row) continue;
      const element = this.renderRow(row, index);
      element.style.top = `${index * this.rowHeight}px`;
      element.style.height = `${this.rowHeight}px`;
      element.classList.add('virtual-row');
      if (old !== undefined) old.element.replaceWith(element);
      else this.box.append(element);
      this.shown.set(index, { row, element });
    }
    for (const [index, { element }] of this.shown) {
      if (keep.has(index)) continue;
      element.remove();
      this.shown.delete(index);
    }
    this.shownGeneration = this.generation;
    if (complete) this.onRendered?.(this.generation);
  }

  async load(page) {
    if (this.loading.has(page)) return;
    const generation = this.generation;
    this.loading.set(page, true);
    try {
      const { total, rows } = await this.fetchPage(page * this.pageSize, this.pageSize);
      if (generation !== this.generation) return;
      this.total = total;
      this.pages.set(page, rows);
      this.render();
    } catch (failure) {
      if (failure.name !== 'AbortError') console.error(failure);
      if (generation === this.generation) this.loading.delete(page);
    }
  }

  /** Scrolls the box so that row `index` is in view. */
  reveal(index) {
    const top = index * this.rowHeight;
    if (top < this.box.scrollTop) this.box.scrollTop = top;
    else if (top + this.rowHeight > this.box.scrollTop + this.box.clientHeight) this.box.scrollTop = top + this.rowHeight - this.box.clientHeight;
  }

  /** Row elements in view, to restyle them without fetching again. */
  elements() {
    return [...this.shown.entries()].map(([index, { row, element }]) => ({ index, row, element }));
  }
}
