/** The printed table: figures of both sides, the ratio, its target and PASS/MISS. */

export interface Row {
  id: string;
  measure: string;
  overseer: string;
  baseline: string;
  /** The ratio as measured (NaN: not measured here, see the notes); `direction` says how to read it. */
  ratio: number;
  direction: 'higher' | 'lower';
  /** The bound the ratio must meet; null for a reference row, printed and never judged. */
  target: number | null;
  /** Printed against its target but not judged (a target meant for another store). */
  reference?: boolean;
  /** What the ratio column holds: a ratio (default), or an absolute figure in MiB or seconds. */
  unit?: 'x' | 'MiB' | 's';
}

/** A row that is judged: it has a target, is not for reference, and was measured. */
export function isJudged(row: Row): boolean {
  return row.target !== null && row.reference !== true && Number.isFinite(row.ratio);
}

export function misses(row: Row): boolean {
  if (!isJudged(row) || row.target === null) return false;
  return row.direction === 'higher' ? row.ratio < row.target : row.ratio > row.target;
}

export function perSec(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 100) return `${Math.round(value).toLocaleString('en-US')}/s`;
  return `${value.toFixed(2)}/s`;
}

export function ms(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(0)} ms` : 'n/a';
}

function verdict(row: Row): string {
  if (!Number.isFinite(row.ratio)) return '(n/a)';
  if (row.target === null) return '(ref)';
  const pass = row.direction === 'higher' ? row.ratio >= row.target : row.ratio <= row.target;
  if (row.reference === true) return pass ? '(ref, within)' : '(ref, over)';
  return pass ? 'PASS' : 'MISS';
}

function figure(value: number, unit: Row['unit']): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (unit === 'MiB') return `${value.toFixed(0)} MiB`;
  if (unit === 's') return `${value.toFixed(2)} s`;
  return `${value.toFixed(2)}x`;
}

export function formatTable(title: string, rows: readonly Row[]): string {
  const header = ['#', 'measure', 'Overseer', 'raw / bare', 'ratio', 'target', 'result'];
  const body = rows.map((row) => [
    row.id,
    row.measure,
    row.overseer,
    row.baseline,
    figure(row.ratio, row.unit),
    row.target === null ? '-' : `${row.direction === 'higher' ? '>=' : '<='} ${figure(row.target, row.unit)}`,
    verdict(row),
  ]);
  const widths = header.map((cell, column) => Math.max(cell.length, ...body.map((line) => (line[column] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => {
        const width = widths[column] ?? cell.length;
        // Figures right-aligned, words left-aligned.
        return column >= 2 && column <= 5 ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [title, line(header), rule, ...body.map(line)].join('\n');
}

/** A small duration with a unit of work, e.g. `12.6 ms/task`, `21 us/event`. */
export function per(value: number | null, unit: 'ms' | 'us', of: string): string {
  if (value === null || !Number.isFinite(value)) return 'n/a';
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${unit}/${of}`;
}
