/** The printed table: figures of both sides, the ratio, its target and PASS/MISS. */

export interface Row {
  id: string;
  measure: string;
  overseer: string;
  baseline: string;
  /** The ratio as measured; `direction` says how to read it. */
  ratio: number;
  direction: 'higher' | 'lower';
  target: number;
  /** Reference figures are printed with their target but not judged. */
  reference?: boolean;
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
  const pass = row.direction === 'higher' ? row.ratio >= row.target : row.ratio <= row.target;
  if (row.reference === true) return pass ? '(ref, within)' : '(ref, over)';
  return pass ? 'PASS' : 'MISS';
}

export function formatTable(title: string, rows: readonly Row[]): string {
  const header = ['#', 'measure', 'Overseer', 'raw / bare', 'ratio', 'target', 'result'];
  const body = rows.map((row) => [
    row.id,
    row.measure,
    row.overseer,
    row.baseline,
    `${row.ratio.toFixed(2)}x`,
    `${row.direction === 'higher' ? '>=' : '<='} ${row.target.toFixed(2)}x`,
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
