/**
 * The doctor's scan: reads every index row and every part version of a store and reports the
 * drift the protocol's invariants rule out at rest (docs/PROTOCOL.md, I2 and I5), without
 * writing anything:
 *
 * - `dangling-pin`: a live row pins a version S3 does not have (reads of that part fail);
 * - `pinned-noncurrent`: a live row pins a version that is not current: it expires after the
 *   retention window, and a restore after that finds it gone;
 * - `unpinned-current`: a current version that no live row pins, older than `minAgeMs`: an
 *   orphan the reconciler missed (a lost S3 event, notifications changed by hand);
 * - `unknown-protocol`: a row this code cannot read (a later protocol version, or not a row of
 *   the store at all).
 *
 * The order of the requests is what makes each finding true (the reconciler's argument,
 * docs/PROTOCOL.md section 9.3): the table is scanned first, the bucket listed after, and
 * every candidate finding is checked with a consistent read of its row after the listing.
 * A committed pin's version was put before its commit, so a version missing from a later
 * listing is really gone; and a version older than the writer deadline plus the commit
 * margin can no longer be committed by a writer in flight, so a row read after the listing
 * tells whether it is pinned.
 *
 * Repairs are not made here: `repair` must be `false`.
 *
 * No CDK import here: this module is bundled into the Lambda assets.
 */
import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { decodeState, Item, marshallKey } from './codec';
import { COMMIT_MARGIN_MS, StoreConfig } from './config';
import { keyAttributes, parsePartKey, partKey } from './keys';
import { DEFAULT_DYNAMODB_TIMEOUT_MS, DEFAULT_S3_TIMEOUT_MS, REQUEST_ATTEMPTS } from './limits';
import { DOCTOR_FINDINGS, DoctorFindingKind, METRIC_DIMENSIONS, METRIC_NAMES, metricEntry } from './metrics';
import { SdkClient, send } from './send';
import type { ItemKey, KeyValue } from './types';

export type { DoctorFindingKind };

/** Candidate findings checked (re-read) at once. */
const CONFIRM_CONCURRENCY = 8;

/** Findings kept in a report by default (the counts are always complete). */
export const DEFAULT_MAX_FINDINGS = 1000;

/** What the doctor needs. */
export interface DoctorOptions {
  /** The store: table, bucket, key prefix, key schema, writer deadline. */
  readonly config: StoreConfig;
  readonly dynamodb: SdkClient;
  readonly s3: SdkClient;
  /** Whether to repair what it finds. This scan only reads: `false`. */
  readonly repair: false;
  /**
   * Age (ms) from which a current version that no row pins, or one that hides a pinned
   * version, counts as drift; younger ones may belong to a write in flight. At least the
   * writer deadline plus the commit margin; the construct passes the reconciler's delay.
   * @default config.writerDeadlineMs + COMMIT_MARGIN_MS
   */
  readonly minAgeMs?: number;
  /** Wall clock, ms since the epoch, compared with S3's LastModified. @default Date.now */
  readonly wallClock?: () => number;
  /** Findings kept in the report (the counts are always complete). @default 1000 */
  readonly maxFindings?: number;
  /** Called after every page read and every batch of checks. */
  readonly onProgress?: (progress: DoctorProgress) => void;
  /** Stops the scan: it then rejects with {@link DoctorIncompleteError}. */
  readonly signal?: AbortSignal;
  /** Per-attempt timeout of each DynamoDB request, ms. @default 5000 */
  readonly dynamodbTimeoutMs?: number;
  /** Per-attempt timeout of each S3 request, ms. @default 10000 */
  readonly s3TimeoutMs?: number;
}

/** How far a scan is. */
export interface DoctorProgress {
  readonly phase: 'scan' | 'list' | 'check';
  readonly rowsScanned: number;
  readonly versionsListed: number;
  readonly candidates: number;
  readonly checked: number;
}

/** One piece of drift. */
export interface DoctorFinding {
  readonly kind: DoctorFindingKind;
  /** The item's key, when it could be read. */
  readonly key?: ItemKey;
  /** The part, for findings about a part key. */
  readonly part?: string;
  /** The S3 key of the part. */
  readonly objectKey?: string;
  /** The version the finding is about: the pinned one, or the unpinned current one. */
  readonly versionId?: string;
  /** What was found, for a human. */
  readonly detail: string;
}

/** What one scan found. */
export interface DoctorReport {
  readonly tableName: string;
  readonly bucketName: string;
  readonly keyPrefix: string;
  /** Index rows read (live rows, tombstones and unreadable rows). */
  readonly rowsScanned: number;
  readonly liveRows: number;
  readonly tombstones: number;
  /** Part keys listed (keys under the prefix that are part keys of this store). */
  readonly partKeys: number;
  /** Versions and delete markers listed under the prefix. */
  readonly versionsListed: number;
  /** Keys under the prefix that are not part keys of this store (left alone). */
  readonly foreignKeys: number;
  /** Findings of each kind. */
  readonly counts: Readonly<Record<DoctorFindingKind, number>>;
  /** The findings, up to `maxFindings`. */
  readonly findings: readonly DoctorFinding[];
  /** Whether findings were left out of `findings` (the counts have them all). */
  readonly truncated: boolean;
  /** Whether every finding kind counted 0. */
  readonly healthy: boolean;
  /** The minimum age (ms) a version needed to count as drift. */
  readonly minAgeMs: number;
}

/** The scan was stopped by its signal before it finished: nothing it saw is reported. */
export class DoctorIncompleteError extends Error {
  constructor(phase: string) {
    super(`the doctor's scan was stopped during its ${phase} phase, before it could report: give it more time (a longer Lambda timeout), or run the command line scan`);
    this.name = 'DoctorIncomplete';
  }
}

/** A live row's pin, found by the scan. */
interface PinRef {
  readonly key: ItemKey;
  readonly part: string;
  readonly versionId: string;
  /** Whether the listing had the key at all. */
  listed: boolean;
}

/** One entry of the listing. */
interface Listed {
  readonly key: string;
  readonly versionId: string;
  readonly isDeleteMarker: boolean;
  readonly isLatest: boolean;
  readonly lastModified?: Date;
}

/** A finding to check against the row read after the listing. */
interface Candidate {
  readonly kind: 'dangling-pin' | 'pinned-noncurrent' | 'unpinned-current';
  readonly key: ItemKey;
  readonly part: string;
  readonly objectKey: string;
  readonly versionId: string;
  readonly detail: string;
}

/**
 * Scans a store and reports its drift. Read-only: DynamoDB `Scan` and `GetItem`, S3
 * `ListObjectVersions` under the key prefix.
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  if (options.repair !== false) {
    throw new Error('runDoctor: repair must be false: this scan only reads (the command line doctor repairs)');
  }
  const { config } = options;
  const minAgeMs = options.minAgeMs ?? config.writerDeadlineMs + COMMIT_MARGIN_MS;
  if (!(minAgeMs >= config.writerDeadlineMs + COMMIT_MARGIN_MS)) {
    throw new Error(
      `runDoctor: minAgeMs (${minAgeMs}) must be at least the writer deadline plus the commit margin ` +
      `(${config.writerDeadlineMs + COMMIT_MARGIN_MS} ms): a younger version may belong to a write still committing`,
    );
  }
  const wallClock = options.wallClock ?? Date.now;
  const maxFindings = options.maxFindings ?? DEFAULT_MAX_FINDINGS;
  const ddb = { timeoutMs: options.dynamodbTimeoutMs ?? DEFAULT_DYNAMODB_TIMEOUT_MS, attempts: REQUEST_ATTEMPTS, signal: options.signal };
  const s3 = { timeoutMs: options.s3TimeoutMs ?? DEFAULT_S3_TIMEOUT_MS, attempts: REQUEST_ATTEMPTS, signal: options.signal };

  const counts = Object.fromEntries(DOCTOR_FINDINGS.map((kind) => [kind, 0])) as Record<DoctorFindingKind, number>;
  const findings: DoctorFinding[] = [];
  const report = (finding: DoctorFinding) => {
    counts[finding.kind]++;
    if (findings.length < maxFindings) findings.push(finding);
  };
  let rowsScanned = 0;
  let liveRows = 0;
  let tombstones = 0;
  let partKeys = 0;
  let versionsListed = 0;
  let foreignKeys = 0;
  let checked = 0;
  const candidates: Candidate[] = [];
  const progress = (phase: DoctorProgress['phase']) => {
    options.onProgress?.({ phase, rowsScanned, versionsListed, candidates: candidates.length, checked });
  };
  const stopIfAsked = (phase: string) => {
    if (options.signal?.aborted) throw new DoctorIncompleteError(phase);
  };

  // 1. Every row, and the pins of the live ones (by part key).
  const pins = new Map<string, PinRef>();
  let startKey: Item | undefined;
  do {
    stopIfAsked('scan');
    const page: { Items?: Item[]; LastEvaluatedKey?: Item } = await send(options.dynamodb, 'Scan', () => new ScanCommand({
      TableName: config.tableName,
      ExclusiveStartKey: startKey,
    }), ddb);
    for (const item of page.Items ?? []) {
      rowsScanned++;
      let state: ReturnType<typeof decodeState>;
      try {
        state = decodeState(config, item);
      } catch (e) {
        report({ kind: 'unknown-protocol', key: rawKey(config, item), detail: (e as Error).message });
        continue;
      }
      if (state.kind === 'tombstone') tombstones++;
      if (state.kind !== 'live') continue;
      liveRows++;
      for (const [part, pin] of Object.entries(state.row.parts)) {
        let objectKey: string;
        try {
          objectKey = partKey(config, state.row.key, part);
        } catch (e) {
          report({ kind: 'unknown-protocol', key: state.row.key, part, detail: `no part key for this row: ${(e as Error).message}` });
          continue;
        }
        pins.set(objectKey, { key: state.row.key, part, versionId: pin.versionId, listed: false });
      }
    }
    startKey = page.LastEvaluatedKey;
    progress('scan');
  } while (startKey);

  // 2. Every version under the prefix, one key at a time (a key's entries are contiguous).
  const now = wallClock();
  const old = (entry: Listed) => entry.lastModified !== undefined && now - entry.lastModified.getTime() >= minAgeMs;
  const examine = (objectKey: string, entries: Listed[]) => {
    const parsed = parsePartKey(config, objectKey);
    if (!parsed) {
      foreignKeys++;
      return;
    }
    partKeys++;
    const current = entries.find((entry) => entry.isLatest);
    const pin = pins.get(objectKey);
    if (pin) {
      pin.listed = true;
      const pinned = entries.find((entry) => !entry.isDeleteMarker && entry.versionId === pin.versionId);
      if (!pinned) {
        candidates.push({ ...pinRefOf(pin, objectKey), kind: 'dangling-pin', detail: 'the pinned version is not in the bucket' });
      } else if (current && current.versionId !== pin.versionId && old(current)) {
        candidates.push({
          ...pinRefOf(pin, objectKey),
          kind: 'pinned-noncurrent',
          detail: `the pinned version is noncurrent under ${current.isDeleteMarker ? 'a delete marker' : `version ${current.versionId}`}: it expires after the retention window`,
        });
      }
    }
    if (current && !current.isDeleteMarker && current.versionId !== pin?.versionId && old(current)) {
      candidates.push({
        kind: 'unpinned-current',
        key: parsed.key,
        part: parsed.part,
        objectKey,
        versionId: current.versionId,
        detail: 'a current version that no live row pins',
      });
    }
  };
  let group: { key: string; entries: Listed[] } | undefined;
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    stopIfAsked('listing');
    const page: ListPage = await send(options.s3, 'ListObjectVersions', () => new ListObjectVersionsCommand({
      Bucket: config.bucketName,
      Prefix: config.keyPrefix,
      KeyMarker: keyMarker,
      VersionIdMarker: versionIdMarker,
    }), s3);
    for (const entry of entriesOf(page)) {
      versionsListed++;
      if (group && group.key !== entry.key) examine(group.key, group.entries);
      if (!group || group.key !== entry.key) group = { key: entry.key, entries: [] };
      group.entries.push(entry);
    }
    progress('list');
    if (!page.IsTruncated) break;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
  if (group) examine(group.key, group.entries);
  for (const [objectKey, pin] of pins) {
    if (!pin.listed) candidates.push({ ...pinRefOf(pin, objectKey), kind: 'dangling-pin', detail: 'the part key has no version at all' });
  }

  // 3. Each candidate against its row, read (consistently) after the listing.
  for (let i = 0; i < candidates.length; i += CONFIRM_CONCURRENCY) {
    stopIfAsked('check');
    const batch = candidates.slice(i, i + CONFIRM_CONCURRENCY);
    const rows = await Promise.all(batch.map(async (candidate) => {
      const out: { Item?: Item } = await send(options.dynamodb, 'GetItem', () => new GetItemCommand({
        TableName: config.tableName,
        Key: marshallKey(config, candidate.key),
        ConsistentRead: true,
      }), ddb);
      return out?.Item;
    }));
    batch.forEach((candidate, j) => {
      let pinned: string | undefined;
      try {
        const state = decodeState(config, rows[j]);
        pinned = state.kind === 'live' ? state.row.parts[candidate.part]?.versionId : undefined;
      } catch {
        return; // the row changed into one this code cannot read: the scan reported such rows it met
      }
      const stillTrue = candidate.kind === 'unpinned-current' ? pinned !== candidate.versionId : pinned === candidate.versionId;
      if (stillTrue) {
        report({
          kind: candidate.kind,
          key: candidate.key,
          part: candidate.part,
          objectKey: candidate.objectKey,
          versionId: candidate.versionId,
          detail: candidate.detail,
        });
      }
    });
    checked += batch.length;
    progress('check');
  }

  return {
    tableName: config.tableName,
    bucketName: config.bucketName,
    keyPrefix: config.keyPrefix,
    rowsScanned,
    liveRows,
    tombstones,
    partKeys,
    versionsListed,
    foreignKeys,
    counts,
    findings,
    truncated: Object.values(counts).reduce((a, b) => a + b, 0) > findings.length,
    healthy: Object.values(counts).every((count) => count === 0),
    minAgeMs,
  };
}

/**
 * The report as metrics (Embedded Metric Format entries, one per line): `DoctorFindings` for
 * every kind (0 included, so an alarm sees the scan ran), and `DoctorRowsScanned`.
 */
export function doctorMetricEntries(report: DoctorReport, timestamp = Date.now()): Array<Record<string, unknown>> {
  return [
    ...DOCTOR_FINDINGS.map((kind) => metricEntry(report.tableName, {
      name: METRIC_NAMES.doctorFindings, value: report.counts[kind], dimension: [METRIC_DIMENSIONS.finding, kind],
    }, timestamp)),
    metricEntry(report.tableName, { name: METRIC_NAMES.doctorRowsScanned, value: report.rowsScanned }, timestamp),
  ];
}

/** One page of ListObjectVersions, as the doctor reads it. */
interface ListPage {
  readonly Versions?: ReadonlyArray<{ Key?: string; VersionId?: string; IsLatest?: boolean; LastModified?: Date }>;
  readonly DeleteMarkers?: ReadonlyArray<{ Key?: string; VersionId?: string; IsLatest?: boolean; LastModified?: Date }>;
  readonly IsTruncated?: boolean;
  readonly NextKeyMarker?: string;
  readonly NextVersionIdMarker?: string;
}

/** A page's versions and delete markers, in key order (stable: each key's entries stay together). */
function entriesOf(page: ListPage): Listed[] {
  const entries: Listed[] = [];
  for (const [list, isDeleteMarker] of [[page.Versions, false], [page.DeleteMarkers, true]] as const) {
    for (const v of list ?? []) {
      if (!v.Key || !v.VersionId) continue;
      entries.push({ key: v.Key, versionId: v.VersionId, isDeleteMarker, isLatest: v.IsLatest === true, lastModified: v.LastModified });
    }
  }
  // S3 lists keys in UTF-8 binary order; compare the same way, not by UTF-16 code units.
  return entries.sort((a, b) => Buffer.compare(Buffer.from(a.key, 'utf8'), Buffer.from(b.key, 'utf8')));
}

function pinRefOf(pin: PinRef, objectKey: string) {
  return { key: pin.key, part: pin.part, objectKey, versionId: pin.versionId };
}

/** The key attributes of a row this code cannot decode, as far as they are strings or numbers. */
function rawKey(config: StoreConfig, item: Item): ItemKey | undefined {
  const key: Record<string, KeyValue> = {};
  for (const attribute of keyAttributes(config)) {
    const value = item[attribute.name];
    if (value?.S !== undefined) key[attribute.name] = value.S;
    else if (value?.N !== undefined) key[attribute.name] = Number(value.N);
    else return undefined;
  }
  return key;
}
