/**
 * Unit tests of the cost model (bench/cost/). Every expected figure is worked out by hand
 * in the comment above it, from the round price table P below (the us-east-1 figures of
 * bench/cost/prices.ts as read on 2026-11-24, repeated here so that a price update does
 * not silently change what these tests check).
 */
import { decadeDomain, logScale, renderChart } from '../../bench/cost/chart';
import {
  breakEvenItemBytes, costAllDynamo, costAllS3, costOf, costSplit, DAYS_PER_MONTH, GB, KB,
  lambdaGbSeconds, mapAttributeBytes, noncurrentBytes, numberAttributeBytes, queryReadRequestUnits, queryResponses,
  readRequestUnits, reservedAttributeBytes, significantDigits, splitSizes, streamedBillableBytes, stringAttributeBytes,
  validateWorkload, Workload, writeRequestUnits,
} from '../../bench/cost/model';
import { Price, PriceTable, US_EAST_1 } from '../../bench/cost/prices';
import { buildReport, MIXES, mixWorkload, READER, replaceGenerated, SIZES_KB, STORE_REQUEST_METRICS } from '../../bench/cost/run';

function price(usd: number): Price {
  return { usd, unit: 'test', sources: ['test'], readOn: '2026-11-24', confidence: 'aws' };
}

/** Round prices: WRU $0.625/M, RRU $0.125/M, DynamoDB $0.25/GB-month, PITR $0.20/GB-month,
 * S3 $0.023/GB-month, PUT/LIST $0.005 per 1,000, GET $0.0004 per 1,000, Lambda $0.20/M
 * requests and $0.0000166667/GB-s, streamed $0.008/GB, a CloudWatch metric $0.30/month. */
const P: PriceTable = {
  region: 'test-1',
  dynamoWriteRequestUnit: price(0.625),
  dynamoReadRequestUnit: price(0.125),
  dynamoStorageGbMonth: price(0.25),
  dynamoPitrGbMonth: price(0.20),
  s3StorageGbMonth: price(0.023),
  s3PutCopyPostListPer1000: price(0.005),
  s3GetPer1000: price(0.0004),
  s3DeletePer1000: price(0),
  dataTransferInRegionGb: price(0),
  lambdaRequestPerMillion: price(0.20),
  lambdaGbSecondX86: price(0.0000166667),
  lambdaStreamedGb: price(0.008),
  cloudWatchMetricMonth: price(0.30),
};

/** A workload that costs nothing; each test turns on what it checks. */
const NOTHING: Workload = {
  items: 0,
  itemBytes: 1 * KB,
  indexRowBytes: 200,
  parts: 1,
  readsPerMonth: 0,
  writesPerMonth: 0,
  listPagesPerMonth: 0,
  rowsPerPage: 50,
  retentionDays: 7,
  overwriteFraction: 0,
};

/** The balanced mix (10 reads a write, a list page per 10 reads) at 40 KB, two parts. */
const BALANCED_40KB: Workload = {
  ...NOTHING,
  items: 1_000_000,
  itemBytes: 40 * KB,
  parts: 2,
  readsPerMonth: 10_000_000,
  writesPerMonth: 1_000_000,
  listPagesPerMonth: 1_000_000,
  overwriteFraction: 0.9,
};

const line = (bill: { lines: readonly { what: string; quantity: number; unit: string; usd: number }[] }, what: string) => {
  const found = bill.lines.find(l => l.what.startsWith(what));
  if (!found) throw new Error(`no line "${what}" in ${bill.lines.map(l => l.what).join(', ')}`);
  return found;
};

describe('DynamoDB request units', () => {
  test('a write is billed one WRU per started KB, at least one', () => {
    // 3.5 KB = 3,584 B -> ceil(3.5) = 4 WRU; exactly 1 KB -> 1; one byte more -> 2; tiny -> 1.
    expect(writeRequestUnits(3.5 * KB)).toBe(4);
    expect(writeRequestUnits(1024)).toBe(1);
    expect(writeRequestUnits(1025)).toBe(2);
    expect(writeRequestUnits(1)).toBe(1);
    expect(writeRequestUnits(400 * KB)).toBe(400);
  });

  test('a read is billed one RRU per started 4 KB when strong, half when eventual', () => {
    // 3,500 B -> 1 block: strong 1, eventual 0.5. 8 KB -> 2 blocks: strong 2, eventual 1.
    // 8 KB + 1 B -> 3 blocks: strong 3, eventual 1.5.
    expect(readRequestUnits(3500, 'strong')).toBe(1);
    expect(readRequestUnits(3500, 'eventual')).toBe(0.5);
    expect(readRequestUnits(8 * KB, 'strong')).toBe(2);
    expect(readRequestUnits(8 * KB, 'eventual')).toBe(1);
    expect(readRequestUnits(8 * KB + 1, 'strong')).toBe(3);
    expect(readRequestUnits(8 * KB + 1, 'eventual')).toBe(1.5);
  });

  test('a Query is billed on the sum of the returned items, rounded up to 4 KB', () => {
    // 50 rows x 426 B = 21,300 B -> ceil(21,300 / 4,096) = 6 blocks -> 3 RRU eventual.
    expect(queryReadRequestUnits(50 * 426, 'eventual')).toBe(3);
    // 50 rows x 40 KB = 2,000 KB -> 500 blocks -> 250 RRU eventual, in 2 responses of <= 1 MB.
    expect(queryReadRequestUnits(50 * 40 * KB, 'eventual')).toBe(250);
    expect(queryResponses(50 * 40 * KB)).toBe(2);
    expect(queryResponses(0)).toBe(1);
  });
});

describe('DynamoDB item sizes', () => {
  test('attribute sizes follow the developer guide', () => {
    // String: name + value. Number: name + ceil(digits / 2) + 1. Map: name + 3 + sum(element + 1).
    expect(stringAttributeBytes(1, 32)).toBe(33);
    expect(numberAttributeBytes(4, 4)).toBe(7); // '_rev' = 1234: 4 + 2 + 1
    expect(numberAttributeBytes(1, 5)).toBe(5); // 1 + 3 + 1
    expect(mapAttributeBytes(6, [])).toBe(9);
    expect(mapAttributeBytes(6, [10, 20])).toBe(6 + 3 + 11 + 21);
  });

  test('significant digits drop trailing zeros', () => {
    expect(significantDigits(20380)).toBe(4); // '2038'
    expect(significantDigits(100000)).toBe(1);
    expect(significantDigits(0)).toBe(1);
    expect(significantDigits(123)).toBe(3);
  });

  test('reserved attributes of a two-part row', () => {
    // One pin (part name of 8 B) = 8 + 3 + (1+32 +1) + (1+34 +1) + (1 + [20380: 4 digits -> 2+1] +1)
    //   + (1+16 +1) = 11 + 34 + 36 + 5 + 18 = 104.
    // _rev (4 digits) = 4 + 2 + 1 = 7. _tok = 4 + 22 = 26. _proto (1 digit) = 6 + 1 + 1 = 8.
    // _parts = 6 + 3 + 2 x (104 + 1) = 219. Total 260.
    expect(reservedAttributeBytes(2, 20380)).toBe(260);
    // Each further part adds a pin + 1: 105 B.
    expect(reservedAttributeBytes(3, 20380) - reservedAttributeBytes(2, 20380)).toBe(105);
    // A longer part name costs its extra bytes once per part.
    expect(reservedAttributeBytes(2, 20380, { partNameBytes: 10 })).toBe(264);
  });

  test('the split layout puts list attributes plus reserved attributes in the row', () => {
    // 40 KB item, 200 B list attributes: detail 40,760 B in 2 parts of 20,380 B; row 200 + 260.
    expect(splitSizes({ ...NOTHING, itemBytes: 40 * KB, parts: 2 })).toEqual({ rowBytes: 460, partBytes: 20380, detailBytes: 40760 });
  });
});

describe('noncurrent versions', () => {
  test('kept bytes follow Little\'s law over a 730-hour month', () => {
    // 1,460 overwrites per month / (730 / 24 days) = 48 per day; kept 7 days = 336 versions
    // of 1,024 B = 344,064 B.
    expect(DAYS_PER_MONTH).toBeCloseTo(30.4167, 4);
    expect(noncurrentBytes(1024, 1460, 7)).toBeCloseTo(336 * 1024, 6);
    expect(noncurrentBytes(1024, 1460, 0)).toBe(0);
  });
});

describe('all in DynamoDB', () => {
  test('1 million writes of a 3.5 KB item cost 4 million WRU', () => {
    // 4 WRU each x 1,000,000 = 4,000,000 WRU x $0.625 / million = $2.50.
    const bill = costAllDynamo({ ...NOTHING, itemBytes: 3.5 * KB, writesPerMonth: 1_000_000 }, P);
    expect(line(bill, 'PutItem').quantity).toBe(4_000_000);
    expect(bill.requests).toBeCloseTo(2.5, 10);
    expect(bill.total).toBeCloseTo(2.5, 10);
  });

  test('reads, lists, storage and PITR of a 40 KB item (balanced mix)', () => {
    // Reads: 10 M x ceil(40/4) = 100 M RRU strong -> $12.50.
    // Writes: 1 M x 40 WRU = 40 M WRU -> $25.00.
    // Lists: 1 M pages x (50 x 40 KB / 4 KB = 500 blocks x 0.5) = 250 M RRU -> $31.25.
    // Storage: 1 M x (40,960 + 100) B = 41,060,000,000 B / 2^30 = 38.2401 GB x $0.25 = $9.5600;
    // PITR: 38.2401 x $0.20 = $7.6480.
    const w: Workload = {
      ...NOTHING,
      items: 1_000_000,
      itemBytes: 40 * KB,
      readsPerMonth: 10_000_000,
      writesPerMonth: 1_000_000,
      listPagesPerMonth: 1_000_000,
    };
    const bill = costAllDynamo(w, P);
    expect(line(bill, 'GetItem').quantity).toBe(100_000_000);
    expect(line(bill, 'Query').quantity).toBe(250_000_000);
    expect(bill.requests).toBeCloseTo(12.5 + 25 + 31.25, 10);
    const gb = 41_060_000_000 / GB;
    expect(gb).toBeCloseTo(38.2401, 4);
    expect(bill.storage).toBeCloseTo(gb * 0.25, 10);
    expect(bill.backups).toBeCloseTo(gb * 0.20, 10);
    expect(bill.total).toBeCloseTo(bill.requests + bill.storage + bill.backups, 10);
  });

  test('eventually consistent reads cost half', () => {
    // 10 M reads of a 3.5 KB item: strong 10 M RRU ($1.25), eventual 5 M RRU ($0.625).
    const w = { ...NOTHING, itemBytes: 3.5 * KB, readsPerMonth: 10_000_000 };
    expect(costAllDynamo(w, P).requests).toBeCloseTo(1.25, 10);
    expect(costAllDynamo({ ...w, readConsistency: 'eventual' }, P).requests).toBeCloseTo(0.625, 10);
  });

  test('PITR is charged on table size whatever the retention window', () => {
    const w = { ...NOTHING, items: 1000, itemBytes: 10 * KB };
    expect(costAllDynamo({ ...w, retentionDays: 35 }, P).backups).toBe(costAllDynamo({ ...w, retentionDays: 1 }, P).backups);
  });

  test('fails when the item is over 400 KB', () => {
    expect(() => costAllDynamo({ ...NOTHING, itemBytes: 400 * KB + 1 }, P)).toThrow(/exceeds DynamoDB's item limit of 409600 bytes/);
    expect(() => costOf('dynamodb', { ...NOTHING, itemBytes: 400 * KB }, P)).not.toThrow();
  });
});

describe('all in S3', () => {
  test('requests, storage and noncurrent versions', () => {
    // 1,048,576 items of 1,024 B = exactly 1 GB -> $0.023.
    // 2,920 PUT -> 2.92 x $0.005 = $0.0146. 10,000 GET -> 10 x $0.0004 = $0.004.
    // Lists: 100 pages of 50 rows -> 100 LIST ($0.0005) + 5,000 GET ($0.002).
    // Noncurrent: 2,920 x 0.5 = 1,460 overwrites/month = 48/day x 7 days = 336 x 1,024 B.
    const w: Workload = {
      ...NOTHING,
      items: 1_048_576,
      itemBytes: 1024,
      indexRowBytes: 100,
      writesPerMonth: 2920,
      overwriteFraction: 0.5,
      readsPerMonth: 10_000,
      listPagesPerMonth: 100,
      rowsPerPage: 50,
    };
    const bill = costAllS3(w, P);
    expect(line(bill, 'LIST').quantity).toBe(100);
    expect(line(bill, 'GET per row').quantity).toBe(5000);
    expect(bill.requests).toBeCloseTo(0.0146 + 0.004 + 0.0005 + 0.002, 12);
    expect(bill.storage).toBeCloseTo(0.023, 12);
    expect(bill.backups).toBeCloseTo(336 * 1024 / GB * 0.023, 12);
  });

  test('a page of more than 1,000 rows needs a second LIST', () => {
    const bill = costAllS3({ ...NOTHING, listPagesPerMonth: 10, rowsPerPage: 1001 }, P);
    expect(line(bill, 'LIST').quantity).toBe(20);
  });

  test('stores items over 400 KB', () => {
    expect(costAllS3({ ...NOTHING, itemBytes: 5 * 1024 * KB, items: 1 }, P).total).toBeGreaterThan(0);
  });
});

describe('split (this store)', () => {
  // Balanced mix at 40 KB: row 426 B, 2 parts of 20,380 B (see "reserved attributes").
  const w = BALANCED_40KB;

  test('requests of writes, reads and lists', () => {
    // Writes: 1 M x 1 RRU read first ($0.125) + 2 M PUT ($10.00) + 1 M x 1 WRU ($0.625)
    //   + reconciler 2 M x 1 RRU ($0.25) + 2 M HEAD ($0.80).
    // Reads: 10 M x 1 RRU strong ($1.25) + 20 M GET ($8.00).
    // Lists: 1 M pages x (50 x 460 B = 23,000 B -> 6 blocks x 0.5 = 3 RRU) = 3 M RRU ($0.375).
    const bill = costSplit(w, P);
    expect(line(bill, 'GetItem of the row before the commit').quantity).toBe(1_000_000);
    expect(line(bill, 'PUT per changed part').quantity).toBe(2_000_000);
    expect(line(bill, 'reconciler GetItem').quantity).toBe(2_000_000);
    expect(line(bill, 'reconciler HEAD').quantity).toBe(2_000_000);
    expect(line(bill, 'GET per part').quantity).toBe(20_000_000);
    expect(line(bill, 'Query of index rows').quantity).toBe(3_000_000);
    expect(bill.requests).toBeCloseTo(0.125 + 10 + 0.625 + 0.25 + 0.8 + 1.25 + 8 + 0.375, 10);
  });

  test('a list never touches S3', () => {
    const bill = costSplit(w, P);
    const listLines = bill.lines.filter(l => l.what.includes('(lists)'));
    expect(listLines.length).toBeGreaterThan(0);
    expect(listLines.every(l => l.service === 'DynamoDB')).toBe(true);
  });

  test('storage and backups', () => {
    // DynamoDB: 1 M x (460 + 100) B = 560,000,000 B; x $0.25 storage, x $0.20 PITR.
    // S3: 1 M x 40,760 B at $0.023.
    // Noncurrent: 900,000 overwrites / 30.4167 days x 7 days x 2 parts x 20,380 B at $0.023.
    const bill = costSplit(w, P);
    expect(bill.storage).toBeCloseTo(560_000_000 / GB * 0.25 + 40_760_000_000 / GB * 0.023, 10);
    const noncurrent = 900_000 / (730 / 24) * 7 * 40_760;
    expect(bill.backups).toBeCloseTo(560_000_000 / GB * 0.20 + noncurrent / GB * 0.023, 10);
  });

  test('a write that changes one part of four PUTs one part and keeps one noncurrent part', () => {
    const four = { ...w, parts: 4, partsChangedPerWrite: 1 };
    const bill = costSplit(four, P);
    expect(line(bill, 'PUT per changed part').quantity).toBe(1_000_000);
    // Each part is 40,760 / 4 = 10,190 B.
    expect(line(bill, 'noncurrent part versions').quantity).toBeCloseTo(900_000 / (730 / 24) * 7 * 10_190 / GB, 10);
  });
});

describe('the reference reader (Lambda)', () => {
  test('GB-seconds: memory in GB times the duration rounded up to 1 ms', () => {
    // 512 MB = 0.5 GB; 49.4 ms is billed 50 ms: 0.5 x 0.050 = 0.025 GB-s.
    expect(lambdaGbSeconds(512, 49.4)).toBeCloseTo(0.025, 12);
    expect(lambdaGbSeconds(512, 49)).toBeCloseTo(0.0245, 12);
    // 128 MB for 1 ms: 0.125 x 0.001.
    expect(lambdaGbSeconds(128, 0.2)).toBeCloseTo(0.000125, 12);
    expect(lambdaGbSeconds(10_240, 1000)).toBe(10);
  });

  test('streamed bytes are billed beyond the first 6 MB of a response only', () => {
    expect(streamedBillableBytes(400 * KB)).toBe(0);
    expect(streamedBillableBytes(6 * 1024 * KB)).toBe(0);
    expect(streamedBillableBytes(6 * 1024 * KB + 1)).toBe(1);
    expect(streamedBillableBytes(7 * 1024 * KB)).toBe(1024 * KB);
  });

  // Balanced mix at 40 KB, every read and list page through a 512 MB reader.
  const w = BALANCED_40KB;
  const reader = { share: 1, memoryMb: 512, readMs: 49.4, listMs: 11 };

  test('adds an invocation per read and list page, their GB-seconds, and no streamed bytes under 6 MB', () => {
    // Invocations: 10 M + 1 M = 11 M x $0.20/M = $2.20.
    // GB-s: 10 M x 0.5 x 0.050 = 250,000 + 1 M x 0.5 x 0.011 = 5,500 -> 255,500 x $0.0000166667 = $4.2583.
    const direct = costSplit(w, P);
    const viaReader = costSplit({ ...w, reader }, P);
    expect(line(viaReader, 'reader invocations').quantity).toBe(11_000_000);
    expect(line(viaReader, 'reader invocations').usd).toBeCloseTo(2.2, 10);
    expect(line(viaReader, 'reader duration').quantity).toBeCloseTo(255_500, 6);
    expect(line(viaReader, 'reader duration').usd).toBeCloseTo(255_500 * 0.0000166667, 10);
    expect(line(viaReader, 'reader streamed bytes').quantity).toBe(0);
    // The reads' own DynamoDB and S3 requests are the same either way.
    expect(viaReader.requests - direct.requests).toBeCloseTo(2.2 + 255_500 * 0.0000166667, 10);
    expect(direct.lines.some(l => l.service === 'Lambda')).toBe(false);
  });

  test('a share of the traffic scales every reader line', () => {
    const half = costSplit({ ...w, reader: { ...reader, share: 0.5 } }, P);
    expect(line(half, 'reader invocations').quantity).toBe(5_500_000);
    expect(line(half, 'reader duration').quantity).toBeCloseTo(127_750, 6);
  });

  test('a response over 6 MB pays for its streamed bytes beyond 6 MB', () => {
    // One read of a 7 MB item: 1 MB = 1/1,024 GB x $0.008.
    const big = costSplit({ ...NOTHING, itemBytes: 7 * 1024 * KB, readsPerMonth: 1, reader }, P);
    expect(line(big, 'reader streamed bytes').quantity).toBeCloseTo(1 / 1024, 12);
    expect(line(big, 'reader streamed bytes').usd).toBeCloseTo(0.008 / 1024, 12);
  });
});

describe('S3 request metrics', () => {
  test('each metric is billed as a CloudWatch custom metric, a fixed monthly charge', () => {
    // 11 metrics x $0.30 = $3.30, with or without traffic.
    const idle = costSplit({ ...NOTHING, requestMetrics: 11 }, P);
    expect(idle.monitoring).toBeCloseTo(3.3, 12);
    expect(idle.total).toBeCloseTo(3.3, 12);
    expect(line(idle, 'S3 request metrics').unit).toBe('metric-months');
    const busy = costSplit({ ...NOTHING, requestMetrics: 11, readsPerMonth: 1_000_000 }, P);
    expect(busy.monitoring).toBeCloseTo(3.3, 12);
  });

  test('none when the workload publishes none', () => {
    expect(costSplit(NOTHING, P).monitoring).toBe(0);
    expect(costSplit(NOTHING, P).lines.some(l => l.service === 'CloudWatch')).toBe(false);
  });

  test('the report\'s store publishes the 11 metrics its traffic produces', () => {
    expect(STORE_REQUEST_METRICS).toBe(11);
    expect(mixWorkload(MIXES[0]).requestMetrics).toBe(11);
  });
});

describe('input validation', () => {
  test.each([
    ['items', { items: -1 }],
    ['readsPerMonth', { readsPerMonth: -5 }],
    ['writesPerMonth', { writesPerMonth: Number.NaN }],
    ['listPagesPerMonth', { listPagesPerMonth: -1 }],
    ['retentionDays', { retentionDays: -1 }],
    ['itemBytes', { itemBytes: 0 }],
    ['indexRowBytes', { indexRowBytes: 2 * KB }],
    ['parts', { parts: 0 }],
    ['parts', { parts: 1.5 }],
    ['rowsPerPage', { rowsPerPage: 0 }],
    ['partsChangedPerWrite', { partsChangedPerWrite: 2 }],
    ['overwriteFraction', { overwriteFraction: 1.5 }],
    ['readConsistency', { readConsistency: 'linearizable' as never }],
    ['partNameBytes', { partNameBytes: 0 }],
    ['requestMetrics', { requestMetrics: -1 }],
    ['requestMetrics', { requestMetrics: 1.5 }],
    ['reader.share', { reader: { share: 1.5, memoryMb: 512, readMs: 1, listMs: 1 } }],
    ['reader.memoryMb', { reader: { share: 1, memoryMb: 64, readMs: 1, listMs: 1 } }],
    ['reader.readMs', { reader: { share: 1, memoryMb: 512, readMs: 0, listMs: 1 } }],
    ['reader.listMs', { reader: { share: 1, memoryMb: 512, readMs: 1, listMs: Number.NaN } }],
  ])('fails when %s is out of range', (field, change) => {
    const w = { ...NOTHING, ...change } as Workload;
    expect(() => validateWorkload(w)).toThrow(new RegExp(`workload\\.${field} must be`));
    for (const layout of ['dynamodb', 's3', 'split'] as const) {
      expect(() => costOf(layout, w, P)).toThrow(RangeError);
    }
  });

  test('fails on an unknown layout', () => {
    expect(() => costOf('sqlite' as never, NOTHING, P)).toThrow(/unknown layout "sqlite"/);
  });
});

describe('break-even', () => {
  // Reads only, one part: all-DynamoDB pays $0.125/M per started 4 KB; the split pays
  // $0.125/M for its row (< 4 KB) + $0.40/M for one GET = $0.525/M. DynamoDB costs more
  // once it needs 5 blocks (5 x 0.125 = 0.625 > 0.525), i.e. from 4 x 4,096 + 1 = 16,385 B.
  const readsOnly: Omit<Workload, 'itemBytes'> = { ...NOTHING, readsPerMonth: 1_000_000, parts: 1 };

  test('finds the exact byte where the split becomes cheaper', () => {
    expect(breakEvenItemBytes(readsOnly, P)).toEqual({ kind: 'at', itemBytes: 16_385, staysCheaper: true });
  });

  test('with eventually consistent DynamoDB reads the crossing moves to 9 blocks', () => {
    // Eventual: 0.0625/M per block; 9 blocks = 0.5625 > 0.525 -> from 8 x 4,096 + 1 = 32,769 B.
    expect(breakEvenItemBytes({ ...readsOnly, readConsistency: 'eventual' }, P)).toEqual({ kind: 'at', itemBytes: 32_769, staysCheaper: true });
  });

  test('never, when a GET costs more than reading 400 KB from DynamoDB', () => {
    // GET at $1 per 1,000 = $1,000/M > 100 blocks x $0.125/M.
    expect(breakEvenItemBytes(readsOnly, { ...P, s3GetPer1000: price(1) })).toEqual({ kind: 'never', staysCheaper: false });
  });

  test('always, when the search starts above the crossing', () => {
    expect(breakEvenItemBytes(readsOnly, P, 100 * KB)).toEqual({ kind: 'always', itemBytes: 100 * KB, staysCheaper: true });
  });

  test('the reported size separates the two sides for every default mix', () => {
    for (const mix of MIXES) {
      const w = mixWorkload(mix);
      const be = breakEvenItemBytes(w, US_EAST_1);
      expect(be.kind).toBe('at');
      const before = { ...w, itemBytes: be.itemBytes! - 1 };
      const at = { ...w, itemBytes: be.itemBytes! };
      expect(costSplit(before, US_EAST_1).total).toBeGreaterThanOrEqual(costAllDynamo(before, US_EAST_1).total);
      expect(costSplit(at, US_EAST_1).total).toBeLessThan(costAllDynamo(at, US_EAST_1).total);
    }
  });
});

describe('price table', () => {
  test('every us-east-1 figure has a unit, a source and the date it was read', () => {
    const entries = Object.entries(US_EAST_1).filter(([k]) => k !== 'region') as Array<[string, Price]>;
    expect(entries).toHaveLength(13);
    for (const [name, p] of entries) {
      expect({ name, ok: Number.isFinite(p.usd) && p.usd >= 0 }).toEqual({ name, ok: true });
      expect(p.sources.length).toBeGreaterThan(0);
      expect(p.readOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(['aws', 'corroborated', 'secondary', 'unverified']).toContain(p.confidence);
    }
  });

  test('no figure of the report depends on an unverified price', () => {
    // The streamed-bytes rate is the one unverified figure: a thousand times it changes nothing.
    const unverified = Object.entries(US_EAST_1).filter(([, p]) => (p as Price).confidence === 'unverified').map(([k]) => k);
    expect(unverified).toEqual(['lambdaStreamedGb']);
    const scaled = { ...US_EAST_1, lambdaStreamedGb: { ...US_EAST_1.lambdaStreamedGb, usd: 8 } };
    expect(buildReport(scaled).markdown).toBe(buildReport(US_EAST_1).markdown);
  });

  test('DynamoDB on-demand throughput is the post-2024-11-01 price (half the old $1.25 / $0.25)', () => {
    expect(US_EAST_1.dynamoWriteRequestUnit.usd).toBe(1.25 / 2);
    expect(US_EAST_1.dynamoReadRequestUnit.usd).toBe(0.25 / 2);
  });
});

describe('chart', () => {
  test('log scale maps decades evenly', () => {
    const x = logScale([1, 100], [0, 100]);
    expect(x(1)).toBe(0);
    expect(x(10)).toBeCloseTo(50, 10);
    expect(x(100)).toBeCloseTo(100, 10);
    expect(() => x(0)).toThrow(/cannot place 0/);
    expect(() => logScale([0, 10], [0, 1])).toThrow(/domain/);
  });

  test('the y domain encloses the data in whole decades', () => {
    expect(decadeDomain([1.3, 4796.7])).toEqual([1, 10000]);
    expect(decadeDomain([0.02, 0.5])).toEqual([0.01, 1]);
    expect(decadeDomain([10, 10])).toEqual([10, 100]);
    expect(() => decadeDomain([0, -1])).toThrow(/no positive values/);
  });

  test('renders one path per series and panel, with title, labels and marker', () => {
    const series = (label: string, k: number) => ({ label, color: '#000', points: [[1, k], [10, 10 * k]] as Array<[number, number]> });
    const svg = renderChart(
      [
        { title: 'A & B', series: [series('one', 1), series('two', 2)], marker: { x: 5, label: 'here' } },
        { title: 'C', series: [series('one', 3), series('two', 4)] },
      ],
      { title: 'T <1>', xLabel: 'size', yLabel: 'cost', xDomain: [1, 10], xTicks: [[1, '1'], [10, '10']], yFormat: v => `$${v}` },
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(4);
    expect(svg).toContain('T &lt;1&gt;');
    expect(svg).toContain('A &amp; B');
    expect(svg).toContain('>here<');
    expect(svg).toContain('>$100<');
    expect(() => renderChart([], { title: '', xLabel: '', yLabel: '', xDomain: [1, 10], xTicks: [], yFormat: String })).toThrow(/at least one panel/);
  });
});

describe('report', () => {
  test('has a table row per size and mix, and a break-even per mix', () => {
    const { markdown, svg, breakEvens } = buildReport(US_EAST_1);
    for (const mix of MIXES) expect(markdown).toContain(`#### ${mix.name}`);
    // One row per size in each mix's table, and one in the reader's table.
    for (const kb of SIZES_KB) expect(markdown.match(new RegExp(`^\\| ${kb} KB \\|`, 'gm'))).toHaveLength(MIXES.length + 1);
    expect(markdown).toContain('#### Reads through the reference reader');
    expect(markdown).toContain(`${READER.memoryMb} MB`);
    expect(breakEvens).toHaveLength(MIXES.length);
    expect(svg.match(/<path /g)).toHaveLength(MIXES.length * 3);
  });

  test('replaces only the generated section of a document', () => {
    const doc = 'intro\n<!-- BEGIN GENERATED by bench/cost/run.ts: do not edit by hand -->\nold\n<!-- END GENERATED -->\noutro\n';
    const out = replaceGenerated(doc, 'new');
    expect(out).toContain('intro\n');
    expect(out).toContain('\n\nnew\n\n<!-- END GENERATED -->\noutro');
    expect(out).not.toContain('old');
    expect(() => replaceGenerated('no markers', 'x')).toThrow(/markers not found/);
  });
});
