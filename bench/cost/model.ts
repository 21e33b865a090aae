/**
 * A monthly cost model of one workload kept in three layouts:
 *
 * - `dynamodb`: every item whole in one DynamoDB table (on-demand, Standard class, PITR on);
 * - `s3`: every item as one object in a versioned S3 Standard bucket;
 * - `split`: this store: the index row (the attributes a list needs plus the store's
 *   reserved attributes) in DynamoDB, the rest of the item as parts in versioned S3.
 *
 * Pure functions, no I/O. Sizes are bytes; 1 KB = 1,024 bytes (DynamoDB's rounding unit);
 * 1 GB = 2^30 bytes (how AWS bills GB-months); a month is 730 hours (AWS's billing month).
 * The formulas are written out in docs/COST.md and checked by hand in
 * test/bench/cost-model.test.ts.
 */
import { PriceTable } from './prices';
import { PARTS_ATTRIBUTE, PIN_FIELDS, PROTOCOL_ATTRIBUTE, REVISION_ATTRIBUTE, TOKEN_ATTRIBUTE } from '../../src/runtime/codec';

export const KB = 1024;
export const GB = 1024 ** 3;
/** DynamoDB's item size limit (attribute names and values). */
export const DYNAMODB_MAX_ITEM_BYTES = 400 * KB;
/** Storage overhead DynamoDB bills for every item (indexing), on top of its size. */
export const DYNAMODB_ITEM_OVERHEAD_BYTES = 100;
/** One Query response holds at most 1 MB of items. */
export const DYNAMODB_QUERY_PAGE_BYTES = 1024 * KB;
/** ListObjectsV2 returns at most 1,000 keys per request. */
export const S3_LIST_MAX_KEYS = 1000;
/** AWS bills a month as 730 hours. */
export const DAYS_PER_MONTH = 730 / 24;
/** Lambda response streaming: the first 6 MB of each response are not billed as streamed bytes. */
export const LAMBDA_STREAM_FREE_BYTES = 6 * 1024 * KB;
/** Lambda's memory range, MB. */
export const LAMBDA_MIN_MEMORY_MB = 128;
export const LAMBDA_MAX_MEMORY_MB = 10_240;

/** The three layouts compared. */
export type Layout = 'dynamodb' | 's3' | 'split';
export const LAYOUTS: readonly Layout[] = ['dynamodb', 's3', 'split'];

/** Read consistency of a DynamoDB GetItem. */
export type Consistency = 'strong' | 'eventual';

/**
 * The split layout's reads and list pages through the reference reader Lambda (its
 * Function URL, streamed), instead of application code calling DynamoDB and S3 itself.
 */
export interface ReaderUsage {
  /** Share of the reads and list pages served by the reader, 0 to 1. */
  readonly share: number;
  /** Memory of the reader in MB (the construct's default is 512). */
  readonly memoryMb: number;
  /** Duration of one split read in ms; Lambda bills it rounded up to the next 1 ms. */
  readonly readMs: number;
  /** Duration of one list page in ms, rounded up the same way. */
  readonly listMs: number;
}

/** What is stored and how it is used, per month. */
export interface Workload {
  /** Number of items stored. */
  readonly items: number;
  /**
   * Average size of a whole item as DynamoDB would count it (attribute names and values:
   * the list attributes plus the detail), 1 byte to 400 KB for the `dynamodb` layout.
   */
  readonly itemBytes: number;
  /**
   * Size of what a list screen needs (key and list attributes, as DynamoDB counts them),
   * e.g. 200 bytes. Part of `itemBytes`. The split layout stores this plus the reserved
   * attributes in DynamoDB and the remaining `itemBytes - indexRowBytes` in S3.
   */
  readonly indexRowBytes: number;
  /** Parts the detail is split into in the split layout (equal sizes). */
  readonly parts: number;
  /**
   * Parts rewritten by one write in the split layout.
   * @default parts (every write replaces the whole detail: the worst case for the split)
   */
  readonly partsChangedPerWrite?: number;
  /** Reads of a whole item (index row and every part) per month. */
  readonly readsPerMonth: number;
  /** Writes (create or overwrite) of an item per month. */
  readonly writesPerMonth: number;
  /** List pages served per month. */
  readonly listPagesPerMonth: number;
  /** Rows on one list page. */
  readonly rowsPerPage: number;
  /**
   * Backup window in days: how long S3 keeps noncurrent versions (the store ties the
   * PITR recovery period to it). PITR's price does not depend on it.
   */
  readonly retentionDays: number;
  /** Fraction of writes that replace an existing item (0 to 1); the rest create items. */
  readonly overwriteFraction: number;
  /**
   * Consistency of the `dynamodb` layout's GetItem. The split layout always reads its
   * index row strongly consistent (as the store does); lists are eventually consistent
   * Query in both DynamoDB layouts (a global secondary index offers nothing else).
   * @default 'strong' (same read-after-write guarantee as the store)
   */
  readonly readConsistency?: Consistency;
  /**
   * Average length of a part name in bytes, for the reserved attributes' size.
   * @default 8
   */
  readonly partNameBytes?: number;
  /**
   * Reads and list pages of the split layout served by the reference reader Lambda.
   * @default - none: application code reads DynamoDB and S3 itself
   */
  readonly reader?: ReaderUsage;
  /**
   * S3 request metrics the split layout's bucket publishes (the store's metrics
   * configuration on the key prefix), each billed as a CloudWatch custom metric for the
   * month. A fixed charge per store, whatever the traffic.
   * @default 0
   */
  readonly requestMetrics?: number;
}

/** Which bucket of the bill a line belongs to. */
export type CostCategory = 'requests' | 'storage' | 'backups' | 'monitoring';

/** One line of a bill. */
export interface CostLine {
  readonly category: CostCategory;
  readonly service: 'DynamoDB' | 'S3' | 'Lambda' | 'CloudWatch';
  /** What is counted, e.g. 'GetItem (reads)'. */
  readonly what: string;
  readonly quantity: number;
  /** Unit of `quantity`: 'RRU', 'WRU', 'requests', 'GB-month', 'GB-s', 'GB', 'metric-months'. */
  readonly unit: string;
  readonly usd: number;
}

/** A layout's monthly bill. */
export interface CostBreakdown {
  readonly layout: Layout;
  readonly requests: number;
  readonly storage: number;
  readonly backups: number;
  readonly monitoring: number;
  readonly total: number;
  readonly lines: readonly CostLine[];
}

// ---------------------------------------------------------------------------------------
// Validation

function check(condition: boolean, field: string, value: unknown, expected: string): void {
  if (!condition) {
    throw new RangeError(`workload.${field} must be ${expected}, got ${JSON.stringify(value)}`);
  }
}

function nonNegative(field: string, value: number): void {
  check(Number.isFinite(value) && value >= 0, field, value, 'a finite number >= 0');
}

function positiveInteger(field: string, value: number): void {
  check(Number.isInteger(value) && value >= 1, field, value, 'an integer >= 1');
}

/** Throws a RangeError naming the field when a workload is not a valid input. */
export function validateWorkload(w: Workload): void {
  nonNegative('items', w.items);
  nonNegative('readsPerMonth', w.readsPerMonth);
  nonNegative('writesPerMonth', w.writesPerMonth);
  nonNegative('listPagesPerMonth', w.listPagesPerMonth);
  nonNegative('retentionDays', w.retentionDays);
  check(Number.isFinite(w.itemBytes) && w.itemBytes >= 1, 'itemBytes', w.itemBytes, 'a finite number >= 1');
  check(Number.isFinite(w.indexRowBytes) && w.indexRowBytes >= 1 && w.indexRowBytes <= w.itemBytes,
    'indexRowBytes', w.indexRowBytes, `a number from 1 to itemBytes (${w.itemBytes})`);
  positiveInteger('parts', w.parts);
  positiveInteger('rowsPerPage', w.rowsPerPage);
  if (w.partsChangedPerWrite !== undefined) {
    check(Number.isInteger(w.partsChangedPerWrite) && w.partsChangedPerWrite >= 1 && w.partsChangedPerWrite <= w.parts,
      'partsChangedPerWrite', w.partsChangedPerWrite, `an integer from 1 to parts (${w.parts})`);
  }
  check(Number.isFinite(w.overwriteFraction) && w.overwriteFraction >= 0 && w.overwriteFraction <= 1,
    'overwriteFraction', w.overwriteFraction, 'a number from 0 to 1');
  if (w.readConsistency !== undefined) {
    check(w.readConsistency === 'strong' || w.readConsistency === 'eventual',
      'readConsistency', w.readConsistency, "'strong' or 'eventual'");
  }
  if (w.partNameBytes !== undefined) positiveInteger('partNameBytes', w.partNameBytes);
  if (w.requestMetrics !== undefined) {
    check(Number.isInteger(w.requestMetrics) && w.requestMetrics >= 0, 'requestMetrics', w.requestMetrics, 'an integer >= 0');
  }
  if (w.reader !== undefined) {
    const r = w.reader;
    check(Number.isFinite(r.share) && r.share >= 0 && r.share <= 1, 'reader.share', r.share, 'a number from 0 to 1');
    check(Number.isInteger(r.memoryMb) && r.memoryMb >= LAMBDA_MIN_MEMORY_MB && r.memoryMb <= LAMBDA_MAX_MEMORY_MB,
      'reader.memoryMb', r.memoryMb, `an integer from ${LAMBDA_MIN_MEMORY_MB} to ${LAMBDA_MAX_MEMORY_MB}`);
    check(Number.isFinite(r.readMs) && r.readMs > 0, 'reader.readMs', r.readMs, 'a finite number > 0');
    check(Number.isFinite(r.listMs) && r.listMs > 0, 'reader.listMs', r.listMs, 'a finite number > 0');
  }
}

// ---------------------------------------------------------------------------------------
// DynamoDB units and sizes (AWS developer guide, "DynamoDB item sizes and formats" and
// the on-demand pricing page's definitions of read and write request units)

/** WRU of one standard write of an item: one per started KB, at least one. */
export function writeRequestUnits(itemBytes: number): number {
  return Math.max(1, Math.ceil(itemBytes / KB));
}

/**
 * RRU of one GetItem: one per started 4 KB, at least one block, halved when eventually
 * consistent (an eventually consistent read of up to 4 KB is half a unit).
 */
export function readRequestUnits(itemBytes: number, consistency: Consistency): number {
  const blocks = Math.max(1, Math.ceil(itemBytes / (4 * KB)));
  return consistency === 'strong' ? blocks : blocks / 2;
}

/**
 * RRU of a Query returning items of `totalBytes` in all: DynamoDB adds up the sizes of the
 * items it returns and rounds up to 4 KB per response. A response holds at most 1 MB
 * (a multiple of 4 KB), so splitting the page into several responses changes the count by
 * at most one block per extra response; we ignore that.
 */
export function queryReadRequestUnits(totalBytes: number, consistency: Consistency): number {
  return readRequestUnits(totalBytes, consistency);
}

/** Number of Query responses needed to return `totalBytes` of items. */
export function queryResponses(totalBytes: number): number {
  return Math.max(1, Math.ceil(totalBytes / DYNAMODB_QUERY_PAGE_BYTES));
}

/** Size of a string attribute: name bytes + UTF-8 value bytes. */
export function stringAttributeBytes(nameBytes: number, valueBytes: number): number {
  return nameBytes + valueBytes;
}

/** Size of a number attribute: name bytes + 1 byte per two significant digits + 1. */
export function numberAttributeBytes(nameBytes: number, digits: number): number {
  return nameBytes + Math.ceil(digits / 2) + 1;
}

/**
 * Size of a map attribute: name bytes + 3 bytes of overhead + for each element its own
 * size (key name + value) + 1 byte.
 */
export function mapAttributeBytes(nameBytes: number, elementBytes: readonly number[]): number {
  return nameBytes + 3 + elementBytes.reduce((sum, e) => sum + e + 1, 0);
}

/** Significant digits of a non-negative integer (trailing zeros trimmed, as DynamoDB does). */
export function significantDigits(n: number): number {
  const digits = String(Math.max(0, Math.round(n))).replace(/0+$/, '');
  return Math.max(1, digits.length);
}

/** Assumptions about the reserved attributes' values. */
export interface ReservedAttributeOptions {
  /** @default 8 */
  readonly partNameBytes?: number;
  /** S3 VersionId length. @default 32 */
  readonly versionIdBytes?: number;
  /** ETag length, quotes included (MD5 hex in quotes). @default 34 */
  readonly etagBytes?: number;
  /** Content type length ('application/json'). @default 16 */
  readonly contentTypeBytes?: number;
  /** Significant digits of the revision number. @default 4 */
  readonly revisionDigits?: number;
}

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/** A commit token: 16 random bytes in base64url, 22 characters (src/runtime/commit.ts). */
const COMMIT_TOKEN_BYTES = 22;

/**
 * Bytes the store's reserved attributes add to an index row, as DynamoDB counts them:
 * `_rev` (number), `_tok` (the 22-character commit token), `_proto` (the number 2) and
 * `_parts` (map of part name to map {v: versionId, e: etag, s: size, t: contentType}), with
 * the attribute names of the runtime's codec (src/runtime/codec.ts).
 */
export function reservedAttributeBytes(parts: number, partBytes: number, options: ReservedAttributeOptions = {}): number {
  const partName = options.partNameBytes ?? 8;
  const pin = mapAttributeBytes(partName, [
    stringAttributeBytes(utf8(PIN_FIELDS.versionId), options.versionIdBytes ?? 32),
    stringAttributeBytes(utf8(PIN_FIELDS.etag), options.etagBytes ?? 34),
    numberAttributeBytes(utf8(PIN_FIELDS.size), significantDigits(partBytes)),
    stringAttributeBytes(utf8(PIN_FIELDS.contentType), options.contentTypeBytes ?? 16),
  ]);
  const rev = numberAttributeBytes(utf8(REVISION_ATTRIBUTE), options.revisionDigits ?? 4);
  const token = stringAttributeBytes(utf8(TOKEN_ATTRIBUTE), COMMIT_TOKEN_BYTES);
  const proto = numberAttributeBytes(utf8(PROTOCOL_ATTRIBUTE), 1);
  const pins = mapAttributeBytes(utf8(PARTS_ATTRIBUTE), new Array(parts).fill(pin));
  return rev + token + proto + pins;
}

// ---------------------------------------------------------------------------------------
// Lambda (AWS Lambda pricing: requests, duration in GB-seconds rounded up to 1 ms, streamed
// bytes beyond 6 MB per response)

/** GB-seconds of one invocation: memory in GB (MB / 1,024) times the duration rounded up to 1 ms. */
export function lambdaGbSeconds(memoryMb: number, durationMs: number): number {
  return (memoryMb / 1024) * (Math.ceil(durationMs) / 1000);
}

/** Bytes of one streamed response that Lambda bills: those beyond the first 6 MB. */
export function streamedBillableBytes(responseBytes: number): number {
  return Math.max(0, responseBytes - LAMBDA_STREAM_FREE_BYTES);
}

/**
 * Average bytes of noncurrent versions kept, by Little's law: versions become noncurrent
 * at `overwritesPerMonth` per month and each stays `retentionDays` days.
 */
export function noncurrentBytes(bytesPerOverwrite: number, overwritesPerMonth: number, retentionDays: number): number {
  return (overwritesPerMonth / DAYS_PER_MONTH) * retentionDays * bytesPerOverwrite;
}

// ---------------------------------------------------------------------------------------
// Bills

class Bill {
  private readonly lines: CostLine[] = [];
  constructor(private readonly layout: Layout) {}

  add(category: CostCategory, service: CostLine['service'], what: string, quantity: number, unit: string, usd: number): this {
    this.lines.push({ category, service, what, quantity, unit, usd });
    return this;
  }

  done(): CostBreakdown {
    const sum = (c: CostCategory) => this.lines.filter(l => l.category === c).reduce((s, l) => s + l.usd, 0);
    const requests = sum('requests');
    const storage = sum('storage');
    const backups = sum('backups');
    const monitoring = sum('monitoring');
    return { layout: this.layout, requests, storage, backups, monitoring, total: requests + storage + backups + monitoring, lines: this.lines };
  }
}

const wruUsd = (p: PriceTable, units: number) => units * p.dynamoWriteRequestUnit.usd / 1e6;
const rruUsd = (p: PriceTable, units: number) => units * p.dynamoReadRequestUnit.usd / 1e6;
const putUsd = (p: PriceTable, n: number) => n * p.s3PutCopyPostListPer1000.usd / 1000;
const getUsd = (p: PriceTable, n: number) => n * p.s3GetPer1000.usd / 1000;

function dynamoStorage(bill: Bill, p: PriceTable, items: number, rowBytes: number): void {
  const gbMonths = items * (rowBytes + DYNAMODB_ITEM_OVERHEAD_BYTES) / GB;
  bill.add('storage', 'DynamoDB', 'table storage (item + 100 B overhead)', gbMonths, 'GB-month', gbMonths * p.dynamoStorageGbMonth.usd);
  bill.add('backups', 'DynamoDB', 'PITR (charged on table size)', gbMonths, 'GB-month', gbMonths * p.dynamoPitrGbMonth.usd);
}

/** Layout 1: every item whole in DynamoDB. Refuses items over 400 KB. */
export function costAllDynamo(w: Workload, p: PriceTable): CostBreakdown {
  validateWorkload(w);
  if (w.itemBytes > DYNAMODB_MAX_ITEM_BYTES) {
    throw new RangeError(`workload.itemBytes ${w.itemBytes} exceeds DynamoDB's item limit of ${DYNAMODB_MAX_ITEM_BYTES} bytes (400 KB): the dynamodb layout cannot store it`);
  }
  const bill = new Bill('dynamodb');
  const consistency = w.readConsistency ?? 'strong';
  const wru = w.writesPerMonth * writeRequestUnits(w.itemBytes);
  const rru = w.readsPerMonth * readRequestUnits(w.itemBytes, consistency);
  const listRru = w.listPagesPerMonth * queryReadRequestUnits(w.rowsPerPage * w.itemBytes, 'eventual');
  bill.add('requests', 'DynamoDB', 'PutItem (writes)', wru, 'WRU', wruUsd(p, wru));
  bill.add('requests', 'DynamoDB', `GetItem, ${consistency} (reads)`, rru, 'RRU', rruUsd(p, rru));
  bill.add('requests', 'DynamoDB', 'Query of whole items (lists)', listRru, 'RRU', rruUsd(p, listRru));
  dynamoStorage(bill, p, w.items, w.itemBytes);
  return bill.done();
}

/**
 * Layout 2: one S3 object per item. A list page is the simplest honest design: one
 * ListObjectsV2 per 1,000 rows for the keys, then one GET per row for the attributes a
 * list shows (S3 has no query; an index object would need its own concurrency control).
 * Versioning keeps noncurrent versions for the retention window.
 */
export function costAllS3(w: Workload, p: PriceTable): CostBreakdown {
  validateWorkload(w);
  const bill = new Bill('s3');
  const lists = w.listPagesPerMonth * Math.ceil(w.rowsPerPage / S3_LIST_MAX_KEYS);
  const listGets = w.listPagesPerMonth * w.rowsPerPage;
  bill.add('requests', 'S3', 'PUT (writes)', w.writesPerMonth, 'requests', putUsd(p, w.writesPerMonth));
  bill.add('requests', 'S3', 'GET (reads)', w.readsPerMonth, 'requests', getUsd(p, w.readsPerMonth));
  bill.add('requests', 'S3', 'LIST (lists)', lists, 'requests', putUsd(p, lists));
  bill.add('requests', 'S3', 'GET per row (lists)', listGets, 'requests', getUsd(p, listGets));
  const current = w.items * w.itemBytes / GB;
  bill.add('storage', 'S3', 'current versions', current, 'GB-month', current * p.s3StorageGbMonth.usd);
  const noncurrent = noncurrentBytes(w.itemBytes, w.writesPerMonth * w.overwriteFraction, w.retentionDays) / GB;
  bill.add('backups', 'S3', 'noncurrent versions', noncurrent, 'GB-month', noncurrent * p.s3StorageGbMonth.usd);
  return bill.done();
}

/** Sizes of the split layout's two halves. */
export interface SplitSizes {
  /** Index row as DynamoDB counts it: list attributes + reserved attributes. */
  readonly rowBytes: number;
  /** Bytes of one part in S3. */
  readonly partBytes: number;
  /** Bytes of all parts of an item. */
  readonly detailBytes: number;
}

/** How an item of the workload is split by the store. */
export function splitSizes(w: Workload): SplitSizes {
  const detailBytes = w.itemBytes - w.indexRowBytes;
  const partBytes = detailBytes / w.parts;
  const rowBytes = w.indexRowBytes + reservedAttributeBytes(w.parts, partBytes, { partNameBytes: w.partNameBytes });
  return { rowBytes, partBytes, detailBytes };
}

/**
 * Layout 3: this store. A write reads the row first (strongly consistent GetItem: the state
 * its commit conditions on), PUTs each changed part and writes the index row (conditional
 * PutItem of the row's size); the reconciler reads the row (strongly consistent GetItem)
 * and HEADs the part's key once per new object version. A read is a strongly consistent
 * GetItem of the row and one GET per part. A list is an eventually consistent Query of
 * index rows and touches no S3. Backups: PITR on the (small) table, noncurrent part
 * versions for the retention window. (Deletes are not in the workload: each would write a
 * tombstone, place a delete marker per part and raise one reconciler event per marker.)
 */
export function costSplit(w: Workload, p: PriceTable): CostBreakdown {
  validateWorkload(w);
  const { rowBytes, partBytes, detailBytes } = splitSizes(w);
  if (rowBytes > DYNAMODB_MAX_ITEM_BYTES) {
    throw new RangeError(`index row of ${rowBytes} bytes exceeds DynamoDB's item limit of ${DYNAMODB_MAX_ITEM_BYTES} bytes`);
  }
  const changed = w.partsChangedPerWrite ?? w.parts;
  const bill = new Bill('split');
  const puts = w.writesPerMonth * changed;
  const wru = w.writesPerMonth * writeRequestUnits(rowBytes);
  const readFirstRru = w.writesPerMonth * readRequestUnits(rowBytes, 'strong');
  const reconcileRru = puts * readRequestUnits(rowBytes, 'strong');
  const rru = w.readsPerMonth * readRequestUnits(rowBytes, 'strong');
  const gets = w.readsPerMonth * w.parts;
  const listRru = w.listPagesPerMonth * queryReadRequestUnits(w.rowsPerPage * rowBytes, 'eventual');
  bill.add('requests', 'S3', 'PUT per changed part (writes)', puts, 'requests', putUsd(p, puts));
  bill.add('requests', 'DynamoDB', 'GetItem of the row before the commit, strong (writes)', readFirstRru, 'RRU', rruUsd(p, readFirstRru));
  bill.add('requests', 'DynamoDB', 'conditional PutItem of the row (writes)', wru, 'WRU', wruUsd(p, wru));
  bill.add('requests', 'DynamoDB', 'reconciler GetItem per new version (writes)', reconcileRru, 'RRU', rruUsd(p, reconcileRru));
  bill.add('requests', 'S3', 'reconciler HEAD per new version (writes)', puts, 'requests', getUsd(p, puts));
  bill.add('requests', 'DynamoDB', 'GetItem of the row, strong (reads)', rru, 'RRU', rruUsd(p, rru));
  bill.add('requests', 'S3', 'GET per part (reads)', gets, 'requests', getUsd(p, gets));
  bill.add('requests', 'DynamoDB', 'Query of index rows (lists)', listRru, 'RRU', rruUsd(p, listRru));
  dynamoStorage(bill, p, w.items, rowBytes);
  const current = w.items * detailBytes / GB;
  bill.add('storage', 'S3', 'current part versions', current, 'GB-month', current * p.s3StorageGbMonth.usd);
  const noncurrent = noncurrentBytes(changed * partBytes, w.writesPerMonth * w.overwriteFraction, w.retentionDays) / GB;
  bill.add('backups', 'S3', 'noncurrent part versions', noncurrent, 'GB-month', noncurrent * p.s3StorageGbMonth.usd);
  if (w.reader) readerLines(bill, w, p, w.reader, rowBytes);
  const metrics = w.requestMetrics ?? 0;
  if (metrics > 0) {
    bill.add('monitoring', 'CloudWatch', 'S3 request metrics of the key prefix', metrics, 'metric-months', metrics * p.cloudWatchMetricMonth.usd);
  }
  return bill.done();
}

/**
 * The reference reader's share of the split layout's bill: one invocation per read and per
 * list page it serves; GB-seconds at its memory and duration; streamed bytes beyond 6 MB
 * per response (a read streams the index row and every part, about the item's size; a
 * list page its rows). The DynamoDB and S3 requests it makes are those of the read or list
 * itself, already counted.
 */
function readerLines(bill: Bill, w: Workload, p: PriceTable, reader: ReaderUsage, rowBytes: number): void {
  const reads = w.readsPerMonth * reader.share;
  const pages = w.listPagesPerMonth * reader.share;
  const invocations = reads + pages;
  bill.add('requests', 'Lambda', 'reader invocations (reads, lists)', invocations, 'requests', invocations * p.lambdaRequestPerMillion.usd / 1e6);
  const gbSeconds = reads * lambdaGbSeconds(reader.memoryMb, reader.readMs) + pages * lambdaGbSeconds(reader.memoryMb, reader.listMs);
  bill.add('requests', 'Lambda', `reader duration (${reader.memoryMb} MB; ${reader.readMs} ms a read, ${reader.listMs} ms a list page)`,
    gbSeconds, 'GB-s', gbSeconds * p.lambdaGbSecondX86.usd);
  const streamed = (reads * streamedBillableBytes(w.itemBytes) + pages * streamedBillableBytes(w.rowsPerPage * rowBytes)) / GB;
  bill.add('requests', 'Lambda', 'reader streamed bytes beyond 6 MB a response', streamed, 'GB', streamed * p.lambdaStreamedGb.usd);
}

/** The bill of one layout. */
export function costOf(layout: Layout, w: Workload, p: PriceTable): CostBreakdown {
  switch (layout) {
    case 'dynamodb': return costAllDynamo(w, p);
    case 's3': return costAllS3(w, p);
    case 'split': return costSplit(w, p);
    default: throw new RangeError(`unknown layout ${JSON.stringify(layout)}: expected one of ${LAYOUTS.join(', ')}`);
  }
}

// ---------------------------------------------------------------------------------------
// Break-even

/** Where the split starts to be cheaper than keeping items whole in DynamoDB. */
export interface BreakEven {
  /**
   * `at`: the split is cheaper from `itemBytes` on; `always`: already at the smallest size
   * searched; `never`: not even at 400 KB.
   */
  readonly kind: 'at' | 'always' | 'never';
  /** Smallest item size (bytes) at which the split is cheaper; absent for `never`. */
  readonly itemBytes?: number;
  /**
   * True when the split also stays cheaper at every 1 KB step above `itemBytes` up to
   * 400 KB (the costs are step functions, so a single crossing is not guaranteed).
   */
  readonly staysCheaper: boolean;
}

/**
 * Finds by bisection over whole bytes the item size at which the split layout becomes
 * cheaper than the all-DynamoDB layout, for a workload whose other parameters are fixed.
 * The search runs from `max(indexRowBytes, minBytes)` to 400 KB.
 */
export function breakEvenItemBytes(w: Omit<Workload, 'itemBytes'>, p: PriceTable, minBytes = 1): BreakEven {
  const savings = (itemBytes: number) => {
    const workload = { ...w, itemBytes };
    return costAllDynamo(workload, p).total - costSplit(workload, p).total;
  };
  let lo = Math.max(Math.ceil(w.indexRowBytes), Math.ceil(minBytes));
  let hi = DYNAMODB_MAX_ITEM_BYTES;
  validateWorkload({ ...w, itemBytes: lo });
  const staysCheaperFrom = (from: number) => {
    for (let s = from; s <= DYNAMODB_MAX_ITEM_BYTES; s += KB) {
      if (savings(s) <= 0) return false;
    }
    return savings(DYNAMODB_MAX_ITEM_BYTES) > 0;
  };
  if (savings(hi) <= 0) return { kind: 'never', staysCheaper: false };
  if (savings(lo) > 0) return { kind: 'always', itemBytes: lo, staysCheaper: staysCheaperFrom(lo) };
  // Invariant: split not cheaper at lo, cheaper at hi.
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (savings(mid) > 0) hi = mid; else lo = mid;
  }
  return { kind: 'at', itemBytes: hi, staysCheaper: staysCheaperFrom(hi) };
}
