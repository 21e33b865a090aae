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
  BreakEven, breakEvenItemBytes, costOf, CostBreakdown, CostLine, costSplit, KB, lambdaGbSeconds, Layout, LAYOUTS, ReaderUsage, splitSizes, Workload,
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

/**
 * S3 request metrics a store publishes: of S3's 16, those its traffic produces (AllRequests,
 * GetRequests, PutRequests, DeleteRequests, HeadRequests, BytesDownloaded, BytesUploaded,
 * 4xxErrors, 5xxErrors, FirstByteLatency, TotalRequestLatency). No POST, SELECT or LIST:
 * S3 publishes an operation's metric only when such requests happen.
 */
export const STORE_REQUEST_METRICS = 11;

/**
 * The reference reader at its defaults, every read and list page through it. Durations from
 * docs/BENCHMARKS.md, measured on local emulators with injected latency (DynamoDB 5 ms, S3
 * 40 ms), not on AWS: a split read 49.4 ms p50 inside the function (billed 50 ms), a 50-row
 * list page 11.0 ms p50 as its caller saw it.
 */
export const READER: ReaderUsage = { share: 1, memoryMb: 512, readMs: 49.4, listMs: 11 };

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
  requestMetrics: STORE_REQUEST_METRICS,
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
  return `${usd(b.requests)} / ${usd(b.storage)} / ${usd(b.backups)} / ${usd(b.monitoring)}`;
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
    + 'lists eventually consistent; the split\'s reads made by application code (not the reference reader: see below), '
    + `its bucket publishing ${b.requestMetrics} S3 request metrics. Prices: ${prices.region}, on-demand. `
    + 'Cells are requests / storage / backups / monitoring; the bold figure is the monthly total in USD.');
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
    ['every read and list page through the reference reader', { reader: READER }],
  ];
  for (const [label, change] of variants) {
    const row = MIXES.map(mix => describeBreakEven(breakEvenItemBytes({ ...mixWorkload(mix), ...change }, prices)));
    md.push(`| ${label} | ${row.join(' | ')} |`);
  }
  md.push('');

  // The reference reader and the request metrics.
  const perRead = prices.lambdaRequestPerMillion.usd + 1e6 * lambdaGbSeconds(READER.memoryMb, READER.readMs) * prices.lambdaGbSecondX86.usd;
  md.push('#### Reads through the reference reader');
  md.push('');
  md.push(`Every read and list page through the reader (${READER.memoryMb} MB, ${READER.readMs} ms a read and ${READER.listMs} ms a list page, `
    + `billed rounded up to the next 1 ms): one read costs the reader **${usd(perRead)} per million** `
    + `(${usd(prices.lambdaRequestPerMillion.usd)} of requests + ${usd(perRead - prices.lambdaRequestPerMillion.usd)} of duration), on top of the `
    + 'DynamoDB and S3 requests the read makes either way; no response reaches the 6 MB beyond which streamed bytes are billed. '
    + `The ${b.requestMetrics} S3 request metrics cost ${usd((b.requestMetrics ?? 0) * prices.cloudWatchMetricMonth.usd)} a month per store whatever the traffic.`);
  md.push('');
  md.push(`| Item size | ${MIXES.map(m => `${m.name}: application reads | ${m.name}: through the reader`).join(' | ')} |`);
  md.push(`|---:|${MIXES.map(() => '---:|---:').join('|')}|`);
  for (const kb of SIZES_KB) {
    const cells = MIXES.flatMap(mix => {
      const w = { ...mixWorkload(mix), itemBytes: kb * KB };
      const direct = costSplit(w, prices).total;
      const viaReader = costSplit({ ...w, reader: READER }, prices).total;
      return [usd(direct), `${usd(viaReader)} (+${((viaReader / direct - 1) * 100).toFixed(0)} %)`];
    });
    md.push(`| ${kb} KB | ${cells.join(' | ')} |`);
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
  const fractional = new Set(['GB-month', 'GB']);
  const billRows = (label: string, bill: CostBreakdown, only?: CostLine['service']) => {
    for (const line of bill.lines.filter(l => !only || l.service === only)) {
      const q = fractional.has(line.unit) ? line.quantity.toFixed(3) : Math.round(line.quantity).toLocaleString('en-US');
      md.push(`| ${label} | ${line.service} | ${line.what} | ${q} | ${line.unit} | ${usd(line.usd)} |`);
    }
  };
  for (const layout of LAYOUTS) billRows(LAYOUT_LABEL[layout], costOf(layout, example, prices));
  billRows('split, reads through the reader: in addition', costSplit({ ...example, reader: READER }, prices), 'Lambda');

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
