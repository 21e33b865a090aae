/**
 * Prints the cost model's tables (markdown) and writes docs/cost-chart.svg.
 *
 *   npx ts-node --project test/tsconfig.json bench/cost/run.ts               # print + chart
 *   npx ts-node --project test/tsconfig.json bench/cost/run.ts --update-doc  # also docs/COST.md
 *
 * `--update-doc` replaces the text between the GENERATED markers of docs/COST.md.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ChartPanel, renderChart } from './chart';
import {
  BreakEven, breakEvenItemBytes, costOf, CostBreakdown, KB, Layout, LAYOUTS, splitSizes, Workload,
} from './model';
import { PriceTable, US_EAST_1 } from './prices';

/** A read/write mix: reads per write. */
export interface Mix {
  readonly name: string;
  readonly readsPerWrite: number;
}

export const MIXES: readonly Mix[] = [
  { name: 'read-heavy 100:1', readsPerWrite: 100 },
  { name: 'balanced 10:1', readsPerWrite: 10 },
  { name: 'write-heavy 1:1', readsPerWrite: 1 },
];

/** Item sizes of the tables, in KB. */
export const SIZES_KB: readonly number[] = [1, 4, 10, 40, 100, 200, 400];

/** Everything but the size and the mix. */
export const BASE: Omit<Workload, 'itemBytes' | 'readsPerMonth' | 'listPagesPerMonth'> = {
  items: 1_000_000,
  indexRowBytes: 200,
  parts: 2,
  writesPerMonth: 1_000_000,
  rowsPerPage: 50,
  retentionDays: 7,
  overwriteFraction: 0.9,
  readConsistency: 'strong',
};

/** One list page per this many item reads. */
export const READS_PER_LIST_PAGE = 10;

/** The workload of a mix, without its item size. */
export function mixWorkload(mix: Mix, base = BASE): Omit<Workload, 'itemBytes'> {
  const readsPerMonth = base.writesPerMonth * mix.readsPerWrite;
  return { ...base, readsPerMonth, listPagesPerMonth: readsPerMonth / READS_PER_LIST_PAGE };
}

export const LAYOUT_LABEL: Record<Layout, string> = {
  dynamodb: 'all in DynamoDB',
  s3: 'all in S3',
  split: 'split (this store)',
};

const LAYOUT_STYLE: Record<Layout, { color: string; dash?: string }> = {
  dynamodb: { color: '#1f77b4' },
  s3: { color: '#d62728', dash: '7 4' },
  split: { color: '#2ca02c' },
};

export function usd(n: number): string {
  return '$' + n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

export function describeBreakEven(b: BreakEven): string {
  switch (b.kind) {
    case 'never': return 'never (all-DynamoDB stays cheaper up to 400 KB)';
    case 'always': return `always (already at ${b.itemBytes} B)${b.staysCheaper ? '' : ', but not at every larger size'}`;
    case 'at': return `${(b.itemBytes! / KB).toFixed(2)} KB (${b.itemBytes!.toLocaleString('en-US')} B)${b.staysCheaper ? '' : ', not cheaper at every larger size'}`;
  }
}

function cell(b: CostBreakdown): string {
  return `${usd(b.requests)} / ${usd(b.storage)} / ${usd(b.backups)}`;
}

/** The markdown tables and the SVG chart, from one price table. */
export function buildReport(prices: PriceTable = US_EAST_1): { markdown: string; svg: string; breakEvens: BreakEven[] } {
  const md: string[] = [];
  const breakEvens: BreakEven[] = [];
  const b = BASE;
  md.push(`Workload: ${b.items.toLocaleString('en-US')} items; index row ${b.indexRowBytes} B of list attributes; `
    + `${b.parts} parts of equal size; ${b.writesPerMonth.toLocaleString('en-US')} writes/month `
    + `(${b.overwriteFraction * 100} % overwrites, every part rewritten); one list page of ${b.rowsPerPage} rows `
    + `per ${READS_PER_LIST_PAGE} reads; retention ${b.retentionDays} days; `
    + `all-DynamoDB reads ${b.readConsistency === 'eventual' ? 'eventually' : 'strongly'} consistent, the split's row read strongly consistent, `
    + `lists eventually consistent. Prices: ${prices.region}, on-demand. `
    + 'Cells are requests / storage / backups; the bold figure is the monthly total in USD.');
  md.push('');
  for (const mix of MIXES) {
    const w = mixWorkload(mix);
    md.push(`#### ${mix.name}: ${w.readsPerMonth.toLocaleString('en-US')} reads, ${w.writesPerMonth.toLocaleString('en-US')} writes, `
      + `${w.listPagesPerMonth.toLocaleString('en-US')} list pages per month`);
    md.push('');
    md.push('| Item size | all in DynamoDB | all in S3 | split (this store) | cheapest | split ÷ DynamoDB |');
    md.push('|---:|---|---|---|---|---:|');
    for (const kb of SIZES_KB) {
      const bills = LAYOUTS.map(l => costOf(l, { ...w, itemBytes: kb * KB }, prices));
      const cheapest = bills.reduce((a, c) => (c.total < a.total ? c : a));
      const [ddb, , split] = bills;
      md.push(`| ${kb} KB | ${bills.map(x => `**${usd(x.total)}** (${cell(x)})`).join(' | ')} | ${LAYOUT_LABEL[cheapest.layout]} | ${(split.total / ddb.total).toFixed(2)} |`);
    }
    md.push('');
    const be = breakEvenItemBytes(w, prices);
    breakEvens.push(be);
    md.push(`Split cheaper than all-DynamoDB from: **${describeBreakEven(be)}**.`);
    md.push('');
  }

  // Sensitivity of the break-even.
  md.push('#### Break-even item size under other assumptions');
  md.push('');
  md.push(`| Assumption changed from the workload above | ${MIXES.map(m => m.name).join(' | ')} |`);
  md.push(`|---|${MIXES.map(() => '---').join('|')}|`);
  const variants: Array<[string, Partial<Workload>]> = [
    ['none (the workload above)', {}],
    ['all-DynamoDB reads eventually consistent', { readConsistency: 'eventual' }],
    ['no list traffic', { listPagesPerMonth: 0 }],
    ['1 part per item', { parts: 1 }],
    ['4 parts, 1 rewritten per write', { parts: 4, partsChangedPerWrite: 1 }],
    ['10 million items (same traffic)', { items: 10_000_000 }],
    ['retention 35 days', { retentionDays: 35 }],
  ];
  for (const [label, change] of variants) {
    const row = MIXES.map(mix => describeBreakEven(breakEvenItemBytes({ ...mixWorkload(mix), ...change }, prices)));
    md.push(`| ${label} | ${row.join(' | ')} |`);
  }
  md.push('');

  // One bill in full.
  const exampleMix = MIXES[1];
  const exampleKb = 40;
  const example = { ...mixWorkload(exampleMix), itemBytes: exampleKb * KB };
  const sizes = splitSizes(example);
  md.push(`#### One bill line by line: ${exampleMix.name}, ${exampleKb} KB items`);
  md.push('');
  md.push(`Split layout: index row ${sizes.rowBytes} B (${BASE.indexRowBytes} B of list attributes + ${sizes.rowBytes - BASE.indexRowBytes} B of reserved attributes), `
    + `${BASE.parts} parts of ${sizes.partBytes.toFixed(0)} B.`);
  md.push('');
  md.push('| Layout | Service | What | Quantity | Unit | USD |');
  md.push('|---|---|---|---:|---|---:|');
  for (const layout of LAYOUTS) {
    for (const line of costOf(layout, example, prices).lines) {
      const q = line.unit === 'GB-month' ? line.quantity.toFixed(3) : Math.round(line.quantity).toLocaleString('en-US');
      md.push(`| ${LAYOUT_LABEL[layout]} | ${line.service} | ${line.what} | ${q} | ${line.unit} | ${usd(line.usd)} |`);
    }
  }

  // Chart: log-spaced sizes plus the table sizes.
  const sampleBytes = new Set<number>(SIZES_KB.map(k => k * KB));
  const n = 160;
  for (let i = 0; i <= n; i++) sampleBytes.add(Math.round(KB * 400 ** (i / n)));
  const xs = [...sampleBytes].sort((a, c) => a - c);
  const panels: ChartPanel[] = MIXES.map((mix, i) => {
    const w = mixWorkload(mix);
    const be = breakEvens[i];
    return {
      title: mix.name,
      series: LAYOUTS.map(layout => ({
        label: LAYOUT_LABEL[layout],
        ...LAYOUT_STYLE[layout],
        points: xs.map(bytes => [bytes / KB, costOf(layout, { ...w, itemBytes: bytes }, prices).total] as const),
        markAt: [...SIZES_KB],
      })),
      marker: be.kind === 'at' ? { x: be.itemBytes! / KB, label: `split cheaper ≥ ${(be.itemBytes! / KB).toFixed(1)} KB` } : undefined,
    };
  });
  const svg = renderChart(panels, {
    title: 'Monthly cost of one workload by item size: DynamoDB vs S3 vs split',
    subtitle: `${BASE.items.toLocaleString('en-US')} items, ${BASE.writesPerMonth.toLocaleString('en-US')} writes/month, lists of ${BASE.rowsPerPage} rows, `
      + `${prices.region} on-demand prices (see docs/COST.md)`,
    xLabel: 'Item size (KB, log scale)',
    yLabel: 'Monthly cost (USD, log scale)',
    xDomain: [1, 400],
    xTicks: [[1, '1'], [4, '4'], [10, '10'], [40, '40'], [100, '100'], [400, '400']],
    yFormat: v => (v >= 1 ? `$${v.toLocaleString('en-US')}` : `$${v}`),
  });
  return { markdown: md.join('\n'), svg, breakEvens };
}

const BEGIN = '<!-- BEGIN GENERATED by bench/cost/run.ts: do not edit by hand -->';
const END = '<!-- END GENERATED -->';

/** Replaces the generated section of a document; throws when the markers are missing. */
export function replaceGenerated(doc: string, generated: string): string {
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`markers not found: the document must contain "${BEGIN}" then "${END}"`);
  return doc.slice(0, start + BEGIN.length) + '\n\n' + generated + '\n\n' + doc.slice(end);
}

function main(argv: string[]): void {
  const docs = path.join(__dirname, '..', '..', 'docs');
  const { markdown, svg } = buildReport(US_EAST_1);
  console.log(markdown);
  fs.mkdirSync(docs, { recursive: true });
  const chart = path.join(docs, 'cost-chart.svg');
  fs.writeFileSync(chart, svg);
  console.log(`\nwrote ${path.relative(process.cwd(), chart)}`);
  if (argv.includes('--update-doc')) {
    const file = path.join(docs, 'COST.md');
    fs.writeFileSync(file, replaceGenerated(fs.readFileSync(file, 'utf8'), markdown));
    console.log(`updated ${path.relative(process.cwd(), file)}`);
  }
}

if (require.main === module) main(process.argv.slice(2));
