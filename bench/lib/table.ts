/**
 * Tables as the benchmarks print them: GitHub-flavoured Markdown, so the output can be
 * pasted into docs/BENCHMARKS.md exactly as printed.
 */

/** Column alignment. */
export type Align = 'left' | 'right';

/** A column: its header and alignment (numbers right, text left). */
export interface Column {
  readonly header: string;
  /** @default 'left' */
  readonly align?: Align;
}

/**
 * Renders a Markdown table with padded columns. Every row must have one cell per column;
 * a pipe inside a cell is escaped so it cannot break the table.
 */
export function renderTable(columns: readonly (Column | string)[], rows: readonly (readonly string[])[]): string {
  const cols: Column[] = columns.map((c) => (typeof c === 'string' ? { header: c } : c));
  rows.forEach((row, i) => {
    if (row.length !== cols.length) {
      throw new RangeError(`row ${i} has ${row.length} cells, the table has ${cols.length} columns`);
    }
  });
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  const headers = cols.map((c) => escape(c.header));
  const body = rows.map((row) => row.map(escape));
  const widths = cols.map((_, i) => Math.max(3, headers[i].length, ...body.map((row) => row[i].length)));
  const pad = (cell: string, i: number) =>
    (cols[i].align === 'right' ? cell.padStart(widths[i]) : cell.padEnd(widths[i]));
  const line = (cells: string[]) => `| ${cells.map(pad).join(' | ')} |`;
  const rule = `|${cols.map((c, i) => (c.align === 'right' ? `${'-'.repeat(widths[i] + 1)}:` : '-'.repeat(widths[i] + 2))).join('|')}|`;
  return [line(headers), rule, ...body.map(line)].join('\n');
}

/** Milliseconds with one decimal ("12.3"). */
export function ms(value: number): string {
  return value.toFixed(1);
}

/** A ratio with two decimals and a multiplication sign ("1.07×"). */
export function times(value: number): string {
  return `${value.toFixed(2)}×`;
}

/** A byte count in KiB with one decimal ("123.4 KiB"), or bytes below 1 KiB. */
export function bytes(value: number): string {
  return value < 1024 ? `${value} B` : `${(value / 1024).toFixed(1)} KiB`;
}
