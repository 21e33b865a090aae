/**
 * The doctor's read-only scan against aws-sdk-client-mock: each kind of drift injected into the
 * table's rows and the bucket's listing, the request order that makes a finding true (scan,
 * then list, then re-read each candidate), the races a re-read rules out, pagination, and the
 * scheduled function's metrics.
 */
import { DynamoDBClient, GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { encodeRow, encodeTombstone, Item, marshallKey } from '../../src/runtime/codec';
import { StoreConfig } from '../../src/runtime/config';
import { DoctorIncompleteError, DoctorOptions, DoctorProgress, runDoctor } from '../../src/runtime/doctor';
import { createDoctorHandler } from '../../src/runtime/doctor-handler';
import { PartPin } from '../../src/runtime/types';

const config: StoreConfig = {
  tableName: 'Invoices',
  bucketName: 'parts-bucket',
  keyPrefix: 'items/',
  partitionKey: { name: 'id', type: 'S' },
  indexes: [],
  writerDeadlineMs: 20_000,
};
const NOW = Date.parse('2026-01-01T12:00:00Z');
const OLD = new Date(NOW - 3_600_000);
/** Younger than the writer deadline plus the commit margin (50 s). */
const YOUNG = new Date(NOW - 10_000);

const ddb = mockClient(DynamoDBClient);
const s3 = mockClient(S3Client);
let order: string[];

afterAll(() => {
  ddb.restore();
  s3.restore();
});

const pin = (versionId: string): PartPin => ({ versionId, etag: '"e"', size: 2, contentType: 'application/json' });
const row = (id: string, parts: Record<string, PartPin>, token = `t-${id}`): Item =>
  encodeRow(config, { key: { id }, attributes: { id }, revision: 2, parts }, token);

type Entry = [key: string, versionId: string, kind: 'data' | 'marker', lastModified: Date, latest: boolean];

/** The table: scan pages (each an array of items); GetItem answers from `current` (by id), else from the scan. */
function table(pages: Item[][], current: Record<string, Item | undefined> = {}): void {
  let page = 0;
  ddb.on(ScanCommand).callsFake(async (input) => {
    order.push('Scan');
    expect(input.TableName).toBe('Invoices');
    const index = page++;
    return { Items: pages[index], LastEvaluatedKey: index + 1 < pages.length ? { id: { S: `page-${index}` } } : undefined };
  });
  const scanned = new Map(pages.flat().map((item) => [item.id.S!, item]));
  ddb.on(GetItemCommand).callsFake(async (input) => {
    order.push('GetItem');
    expect(input.ConsistentRead).toBe(true);
    const id = input.Key!.id.S!;
    const item = id in current ? current[id] : scanned.get(id);
    return item ? { Item: item } : {};
  });
}

/** The bucket: listing pages of entries, in S3's order (by key, newest first). */
function bucket(...pages: Entry[][]): void {
  let page = 0;
  s3.on(ListObjectVersionsCommand).callsFake(async (input) => {
    order.push('ListObjectVersions');
    expect(input).toMatchObject({ Bucket: 'parts-bucket', Prefix: 'items/' });
    const index = page++;
    const entries = pages[index] ?? [];
    const toEntry = ([Key, VersionId, , LastModified, IsLatest]: Entry) => ({ Key, VersionId, LastModified, IsLatest });
    const last = entries[entries.length - 1];
    return {
      Versions: entries.filter((e) => e[2] === 'data').map(toEntry),
      DeleteMarkers: entries.filter((e) => e[2] === 'marker').map(toEntry),
      IsTruncated: index + 1 < pages.length,
      NextKeyMarker: last?.[0],
      NextVersionIdMarker: last?.[1],
    };
  });
}

function doctor(options: Partial<DoctorOptions> = {}) {
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  return runDoctor({
    config,
    dynamodb: new DynamoDBClient({ region: 'us-east-1', credentials }),
    s3: new S3Client({ region: 'us-east-1', credentials }),
    repair: false,
    wallClock: () => NOW,
    ...options,
  });
}

beforeEach(() => {
  ddb.reset();
  s3.reset();
  order = [];
});

describe('a healthy store', () => {
  test('reports nothing: every pin current, tombstones and unpinned old versions below the pins are fine', async () => {
    // GIVEN
    table([[
      row('a', { summary: pin('s2'), lines: pin('l1') }),
      encodeTombstone(config, { id: 'b' }, 3, 'tb'),
      // a row as protocol v1 wrote it: no token
      encodeRow(config, { key: { id: 'c' }, attributes: { id: 'c' }, revision: 1, parts: { summary: pin('c1') } }),
    ]]);
    bucket([
      ['items/a/lines', 'l1', 'data', OLD, true],
      ['items/a/summary', 's2', 'data', OLD, true],
      ['items/a/summary', 's1', 'data', OLD, false],
      ['items/b/summary', 'marker-b', 'marker', OLD, true],
      ['items/b/summary', 'b1', 'data', OLD, false],
      ['items/c/summary', 'c1', 'data', OLD, true],
    ]);
    // WHEN
    const report = await doctor();
    // THEN
    expect(report).toMatchObject({
      rowsScanned: 3,
      liveRows: 2,
      tombstones: 1,
      partKeys: 4,
      versionsListed: 6,
      foreignKeys: 0,
      counts: { 'dangling-pin': 0, 'pinned-noncurrent': 0, 'unpinned-current': 0, 'unknown-protocol': 0 },
      findings: [],
      healthy: true,
      truncated: false,
      minAgeMs: 50_000,
    });
    expect(order).toEqual(['Scan', 'ListObjectVersions']);
  });

  test('sends nothing but Scan, ListObjectVersions and GetItem', async () => {
    table([[row('a', { summary: pin('gone') })]]);
    bucket([['items/x/summary', 'x1', 'data', OLD, true]]);
    await doctor();
    const names = [...ddb.calls(), ...s3.calls()].map((call) => (call.args[0] as object).constructor.name);
    expect(new Set(names)).toEqual(new Set(['ScanCommand', 'ListObjectVersionsCommand', 'GetItemCommand']));
  });
});

describe('dangling pins', () => {
  test('a pinned version missing from its key\'s versions, and a key with no version at all', async () => {
    // GIVEN
    table([[row('a', { summary: pin('s2') }), row('b', { lines: pin('l1') })]]);
    bucket([['items/a/summary', 's1', 'data', OLD, true]]);
    // WHEN
    const report = await doctor();
    // THEN
    expect(report.counts['dangling-pin']).toBe(2);
    expect(report.findings).toEqual(expect.arrayContaining([
      { kind: 'dangling-pin', key: { id: 'a' }, part: 'summary', objectKey: 'items/a/summary', versionId: 's2', detail: 'the pinned version is not in the bucket' },
      { kind: 'dangling-pin', key: { id: 'b' }, part: 'lines', objectKey: 'items/b/lines', versionId: 'l1', detail: 'the part key has no version at all' },
    ]));
    expect(report.healthy).toBe(false);
  });

  test('each candidate is read again after the listing, and one whose row moved on is dropped', async () => {
    // GIVEN: by the time of the re-read, b was rewritten (its new pin is current)
    table([[row('a', { summary: pin('s2') }), row('b', { lines: pin('l1') })]], { b: row('b', { lines: pin('l2') }, 't-b2') });
    bucket([['items/a/summary', 's1', 'data', OLD, true], ['items/b/lines', 'l2', 'data', YOUNG, true]]);
    // WHEN
    const report = await doctor();
    // THEN
    expect(report.findings.filter((f) => f.kind === 'dangling-pin').map((f) => f.key)).toEqual([{ id: 'a' }]);
    expect(order.slice(0, 2)).toEqual(['Scan', 'ListObjectVersions']);
    // a's dangling pin, a's unpinned current s1, b's dangling pin: each row read after the listing
    expect(order.slice(2)).toEqual(['GetItem', 'GetItem', 'GetItem']);
    expect(ddb.commandCalls(GetItemCommand).map((c) => c.args[0].input.Key)).toEqual(
      expect.arrayContaining([marshallKey(config, { id: 'a' }), marshallKey(config, { id: 'b' })]),
    );
  });

  test('a deleted item (a tombstone at the re-read) is no longer a finding', async () => {
    table([[row('a', { summary: pin('s2') })]], { a: encodeTombstone(config, { id: 'a' }, 3, 't3') });
    bucket([]);
    expect((await doctor()).counts['dangling-pin']).toBe(0);
  });
});

describe('pinned versions that are noncurrent', () => {
  test('under an old version or an old delete marker: reported (they expire with the retention window)', async () => {
    // GIVEN
    table([[row('a', { summary: pin('s1'), lines: pin('l1') })]]);
    bucket([
      ['items/a/lines', 'marker', 'marker', OLD, true],
      ['items/a/lines', 'l1', 'data', OLD, false],
      ['items/a/summary', 's2', 'data', OLD, true],
      ['items/a/summary', 's1', 'data', OLD, false],
    ]);
    // WHEN
    const report = await doctor();
    // THEN
    expect(report.counts['pinned-noncurrent']).toBe(2);
    expect(report.findings.filter((f) => f.kind === 'pinned-noncurrent')).toEqual([
      expect.objectContaining({ part: 'lines', versionId: 'l1', detail: expect.stringContaining('under a delete marker') }),
      expect.objectContaining({ part: 'summary', versionId: 's1', detail: expect.stringContaining('under version s2') }),
    ]);
    // the old unpinned current version of summary is also an orphan
    expect(report.findings).toContainEqual(expect.objectContaining({ kind: 'unpinned-current', part: 'summary', versionId: 's2' }));
  });

  test('under a young version (a write in flight): not reported', async () => {
    table([[row('a', { summary: pin('s1') })]]);
    bucket([['items/a/summary', 's2', 'data', YOUNG, true], ['items/a/summary', 's1', 'data', OLD, false]]);
    const report = await doctor();
    expect(report.healthy).toBe(true);
    expect(order).toEqual(['Scan', 'ListObjectVersions']);
  });

  test.each([[300_000, 0], [60_000, 1]])('the age that counts is minAgeMs (the reconciler\'s delay): %p ms', async (minAgeMs, found) => {
    table([[row('a', { summary: pin('s1') })]]);
    bucket([['items/a/summary', 's2', 'data', new Date(NOW - 120_000), true], ['items/a/summary', 's1', 'data', OLD, false]]);
    expect((await doctor({ minAgeMs })).counts['pinned-noncurrent']).toBe(found);
  });
});

describe('unpinned current versions', () => {
  test('an old current version no live row pins: under a tombstone, without a row, or of a removed part', async () => {
    // GIVEN
    table([[encodeTombstone(config, { id: 'b' }, 3, 'tb'), row('c', { summary: pin('c1') })]]);
    bucket([
      ['items/a/summary', 'a1', 'data', OLD, true],
      ['items/b/summary', 'b1', 'data', OLD, true],
      ['items/c/lines', 'cl1', 'data', OLD, true],
      ['items/c/summary', 'c1', 'data', OLD, true],
    ]);
    // WHEN
    const report = await doctor();
    // THEN
    expect(report.counts['unpinned-current']).toBe(3);
    expect(report.findings.map((f) => f.objectKey).sort()).toEqual(['items/a/summary', 'items/b/summary', 'items/c/lines']);
  });

  test('a young one is left alone; one the re-read finds pinned is dropped', async () => {
    // GIVEN: a2 is young; b1 was committed between the scan and the listing
    table([[]], { b: row('b', { summary: pin('b1') }) });
    bucket([['items/a/summary', 'a2', 'data', YOUNG, true], ['items/b/summary', 'b1', 'data', OLD, true]]);
    // WHEN
    const report = await doctor();
    // THEN
    expect(report.healthy).toBe(true);
    expect(ddb.commandCalls(GetItemCommand)).toHaveLength(1);
  });

  test('a delete marker on top is no finding (the part is retired)', async () => {
    table([[]]);
    bucket([['items/a/summary', 'm', 'marker', OLD, true], ['items/a/summary', 'a1', 'data', OLD, false]]);
    expect((await doctor()).healthy).toBe(true);
  });
});

describe('rows of an unknown protocol version', () => {
  test('a later protocol version and a v2 row without a token are reported, with their key', async () => {
    // GIVEN
    const later = { ...row('a', {}), _proto: { N: '3' } };
    const broken = row('b', {});
    delete broken._tok;
    table([[later, broken, row('c', {})]]);
    bucket([]);
    // WHEN
    const report = await doctor();
    // THEN
    expect(report.counts['unknown-protocol']).toBe(2);
    expect(report.findings.map((f) => [f.kind, f.key])).toEqual([['unknown-protocol', { id: 'a' }], ['unknown-protocol', { id: 'b' }]]);
    expect(report.liveRows).toBe(1);
  });
});

describe('pages', () => {
  test('every scan page and every listing page, with one key\'s versions across two pages', async () => {
    // GIVEN
    table([[row('a', { summary: pin('s1') })], [row('b', { summary: pin('b1') })]]);
    bucket(
      [['items/a/summary', 's2', 'data', OLD, true]],
      [['items/a/summary', 's1', 'data', OLD, false], ['items/b/summary', 'b1', 'data', OLD, true]],
    );
    const progress: DoctorProgress[] = [];
    // WHEN
    const report = await doctor({ onProgress: (p) => progress.push(p) });
    // THEN: s1 was found on the second page: a noncurrent pin, not a dangling one
    expect(report.counts).toEqual({ 'dangling-pin': 0, 'pinned-noncurrent': 1, 'unpinned-current': 1, 'unknown-protocol': 0 });
    expect(report.partKeys).toBe(2);
    expect(s3.commandCalls(ListObjectVersionsCommand)[1].args[0].input).toMatchObject({ KeyMarker: 'items/a/summary', VersionIdMarker: 's2' });
    expect(ddb.commandCalls(ScanCommand)[1].args[0].input.ExclusiveStartKey).toEqual({ id: { S: 'page-0' } });
    expect(progress.map((p) => p.phase)).toEqual(['scan', 'scan', 'list', 'list', 'check']);
    expect(progress[progress.length - 1]).toEqual({ phase: 'check', rowsScanned: 2, versionsListed: 3, candidates: 2, checked: 2 });
  });

  test('keys under the prefix that are not part keys are counted and left alone', async () => {
    table([[]]);
    bucket([['items/a/b/c/d', 'x', 'data', OLD, true], ['items/a/UPPER', 'y', 'data', OLD, true]]);
    const report = await doctor();
    expect(report).toMatchObject({ foreignKeys: 2, partKeys: 0, healthy: true });
  });

  test('maxFindings bounds the list, not the counts', async () => {
    table([[row('a', { p1: pin('1'), p2: pin('2'), p3: pin('3') })]]);
    bucket([]);
    const report = await doctor({ maxFindings: 2 });
    expect(report.counts['dangling-pin']).toBe(3);
    expect(report.findings).toHaveLength(2);
    expect(report.truncated).toBe(true);
  });
});

describe('refusals and interruptions', () => {
  test('repair is refused: this scan only reads', async () => {
    await expect(doctor({ repair: true as never })).rejects.toThrow('runDoctor: repair must be false');
    expect(ddb.calls()).toHaveLength(0);
  });

  test('a minimum age below the writer deadline plus the commit margin is refused', async () => {
    await expect(doctor({ minAgeMs: 49_999 })).rejects.toThrow('runDoctor: minAgeMs (49999) must be at least the writer deadline plus the commit margin (50000 ms)');
  });

  test('a stopped scan rejects and reports nothing', async () => {
    const controller = new AbortController();
    table([[row('a', { summary: pin('s1') })], [row('b', {})]]);
    bucket([]);
    await expect(doctor({ signal: controller.signal, onProgress: () => controller.abort() })).rejects.toBeInstanceOf(DoctorIncompleteError);
    expect(s3.calls()).toHaveLength(0);
  });
});

describe('the scheduled function', () => {
  const env = {
    SPLIT_STORE_TABLE_NAME: 'Invoices',
    SPLIT_STORE_BUCKET_NAME: 'parts-bucket',
    SPLIT_STORE_KEY_PREFIX: 'items/',
    SPLIT_STORE_PARTITION_KEY: 'id',
    SPLIT_STORE_PARTITION_KEY_TYPE: 'S',
    SPLIT_STORE_WRITER_DEADLINE_MS: '20000',
    SPLIT_STORE_DOCTOR_MIN_AGE_MS: '300000',
  };
  const clients = () => {
    const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
    return { dynamodb: new DynamoDBClient({ region: 'us-east-1', credentials }), s3: new S3Client({ region: 'us-east-1', credentials }) };
  };

  test('publishes every finding count and the rows scanned, then logs the findings', async () => {
    // GIVEN
    table([[row('a', { summary: pin('gone') })]]);
    bucket([]);
    const lines: Array<Record<string, any>> = [];
    // WHEN
    const handler = createDoctorHandler({ ...clients(), env, log: (entry) => lines.push(entry) });
    const summary = await handler({}, { getRemainingTimeInMillis: () => 600_000 });
    // THEN
    expect(summary).toMatchObject({ tableName: 'Invoices', minAgeMs: 300_000, healthy: false, counts: { 'dangling-pin': 1 } });
    const metrics = lines.filter((line) => line._aws);
    expect(metrics.map((line) => [line.Finding ?? 'rows', line.DoctorFindings ?? line.DoctorRowsScanned])).toEqual([
      ['dangling-pin', 1], ['pinned-noncurrent', 0], ['unpinned-current', 0], ['unknown-protocol', 0], ['rows', 1],
    ]);
    const last = lines[lines.length - 1];
    expect(last).toMatchObject({ level: 'warn', msg: 'doctor found drift', findings: [expect.objectContaining({ kind: 'dangling-pin' })] });
  });

  test('a failed scan is logged and thrown, and publishes no metric', async () => {
    ddb.on(ScanCommand).rejects(Object.assign(new Error('no access'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }));
    const lines: Array<Record<string, any>> = [];
    await expect(createDoctorHandler({ ...clients(), env, log: (entry) => lines.push(entry) })({})).rejects.toThrow('no access');
    expect(lines).toEqual([expect.objectContaining({ level: 'error', msg: 'doctor scan failed' })]);
  });

  test('a minimum age that is not a number is refused', async () => {
    await expect(createDoctorHandler({ ...clients(), env: { ...env, SPLIT_STORE_DOCTOR_MIN_AGE_MS: 'soon' } })({})).rejects.toThrow(
      'SPLIT_STORE_DOCTOR_MIN_AGE_MS must be a whole number of milliseconds, got "soon"',
    );
  });
});
