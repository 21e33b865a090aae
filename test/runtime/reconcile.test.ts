/**
 * The reconciler's rules (docs/PROTOCOL.md section 9), branch by branch, at the SDK edge with
 * aws-sdk-client-mock: what it deletes by VersionId (only versions above the pinned one, old
 * enough, and delete markers above the pinned one), what it only hides under a delete marker
 * (a current version no live row pins), what it leaves alone, and the order its proofs rely
 * on (the clock, then the listing, then the row).
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { encodeRow, encodeTombstone, Item } from '../../src/runtime/codec';
import { StoreConfig } from '../../src/runtime/config';
import { SplitStoreClient } from '../../src/runtime/store';
import { LogEntry, PartPin, UnavailableError } from '../../src/runtime/types';

const config: StoreConfig = {
  tableName: 'Invoices',
  bucketName: 'parts-bucket',
  keyPrefix: 'items/',
  partitionKey: { name: 'tenant', type: 'S' },
  sortKey: { name: 'number', type: 'N' },
  indexes: [],
  writerDeadlineMs: 20_000,
};
const objectKey = 'items/acme/7/lines';
const NOW = Date.parse('2026-01-01T12:00:00Z');
/** Older than the writer deadline plus the 30 s commit margin: no writer can still commit it. */
const OLD = new Date(NOW - 3_600_000);
/** Younger than that: a writer may still be committing it. */
const YOUNG = new Date(NOW - 1_000);

const ddb = mockClient(DynamoDBClient);
const s3 = mockClient(S3Client);
let order: string[];
let logs: LogEntry[];

beforeEach(() => {
  ddb.reset();
  s3.reset();
  order = [];
  logs = [];
  s3.on(DeleteObjectCommand).callsFake(input => {
    order.push(input.VersionId ? `DeleteObject ${input.VersionId}` : 'DeleteObject (marker)');
    return input.VersionId ? { VersionId: input.VersionId } : { VersionId: 'new-marker', DeleteMarker: true };
  });
});

afterAll(() => {
  ddb.restore();
  s3.restore();
});

function client(): SplitStoreClient {
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  return new SplitStoreClient({
    config,
    dynamodb: new DynamoDBClient({ region: 'us-east-1', credentials }),
    s3: new S3Client({ region: 'us-east-1', credentials }),
    wallClock: () => NOW,
    log: entry => logs.push(entry),
    retryDelayMs: 1,
  });
}

const pin = (versionId: string): PartPin => ({ versionId, etag: '"e"', size: 2, contentType: 'application/json' });

function liveRow(parts: Record<string, PartPin>, token: string | undefined = 't'): Item {
  return encodeRow(config, { key: { tenant: 'acme', number: 7 }, attributes: { tenant: 'acme', number: 7 }, revision: 3, parts }, token);
}

/** The row the reconciler reads, in order (the last one repeats). */
function rows(...items: Array<Item | undefined>): void {
  let i = 0;
  ddb.on(GetItemCommand).callsFake(() => {
    order.push('GetItem');
    const item = items[Math.min(i++, items.length - 1)];
    return item ? { Item: item } : {};
  });
}

function head(versionId: string | undefined): void {
  s3.on(HeadObjectCommand).callsFake(() => {
    order.push('HeadObject');
    if (versionId) return { VersionId: versionId };
    throw new S3ServiceException({ name: 'NotFound', $fault: 'client', message: 'Not Found', $metadata: { httpStatusCode: 404 } });
  });
}

type Entry = [versionId: string, kind: 'data' | 'marker', lastModified: Date];
/** The key's versions, newest first, for each listing in order (the last one repeats). */
function listings(...lists: Entry[][]): void {
  let i = 0;
  s3.on(ListObjectVersionsCommand).callsFake(input => {
    order.push('ListObjectVersions');
    expect(input).toMatchObject({ Bucket: 'parts-bucket', Prefix: objectKey });
    const list = lists[Math.min(i++, lists.length - 1)];
    const entry = ([versionId, , lastModified]: Entry, index: number) => ({
      Key: objectKey, VersionId: versionId, IsLatest: index === 0, LastModified: lastModified,
    });
    return {
      Versions: list.map(entry).filter((_, index) => list[index][1] === 'data'),
      DeleteMarkers: list.map(entry).filter((_, index) => list[index][1] === 'marker'),
      IsTruncated: false,
    };
  });
}

const deletes = () => s3.commandCalls(DeleteObjectCommand).map(c => c.args[0].input);

describe('fast path: nothing to do', () => {
  test('not a part key: no request at all', async () => {
    await expect(client().reconcile('elsewhere/x', 'v')).resolves.toBe('not-a-part');
    await expect(client().reconcile('items/acme/notanumber/lines', 'v')).resolves.toBe('not-a-part');
    expect(ddb.calls()).toHaveLength(0);
    expect(s3.calls()).toHaveLength(0);
  });

  test('pinned: the event\'s version is pinned and current (a consistent GetItem and a HeadObject)', async () => {
    rows(liveRow({ lines: pin('v2') }));
    head('v2');
    await expect(client().reconcile(objectKey, 'v2')).resolves.toBe('pinned');
    expect(ddb.commandCalls(GetItemCommand)[0].args[0].input).toEqual({
      TableName: 'Invoices', Key: { tenant: { S: 'acme' }, number: { N: '7' } }, ConsistentRead: true,
    });
    expect(s3.commandCalls(ListObjectVersionsCommand)).toHaveLength(0);
    expect(deletes()).toEqual([]);
  });

  test('noncurrent: an older version while the pinned one is current: left alone, it expires with the retention window', async () => {
    rows(liveRow({ lines: pin('v2') }));
    head('v2');
    await expect(client().reconcile(objectKey, 'v1')).resolves.toBe('noncurrent');
    expect(deletes()).toEqual([]);
  });

  test.each<[string, Item | undefined]>([
    ['no row', undefined],
    ['a tombstone', encodeTombstone(config, { tenant: 'acme', number: 7 }, 4, 'tomb')],
    ['a row without the part', liveRow({ summary: pin('s') })],
  ])('retired: %s and nothing current (a delete marker)', async (_name, item) => {
    rows(item);
    head(undefined);
    await expect(client().reconcile(objectKey, 'marker-1')).resolves.toBe('retired');
    expect(deletes()).toEqual([]);
  });
});

describe('the row pins a version of the part', () => {
  test('a crashed writer\'s version above the pin: deleted by VersionId; listing before reading, every round', async () => {
    rows(liveRow({ lines: pin('v1') }));
    head('crashed');
    listings([['crashed', 'data', OLD], ['v1', 'data', OLD]], [['v1', 'data', OLD]]);
    await expect(client().reconcile(objectKey, 'crashed')).resolves.toBe('deleted-unpinned');
    expect(deletes()).toEqual([{ Bucket: 'parts-bucket', Key: objectKey, VersionId: 'crashed' }]);
    expect(order.filter(o => o !== 'HeadObject')).toEqual([
      'GetItem', // fast path
      'ListObjectVersions', 'GetItem', 'DeleteObject crashed',
      'ListObjectVersions', 'GetItem',
    ]);
  });

  test('a version above the pin that is still young: a writer may be committing it: left for its own event', async () => {
    rows(liveRow({ lines: pin('v1') }));
    head('young');
    listings([['young', 'data', YOUNG], ['v1', 'data', OLD]]);
    await expect(client().reconcile(objectKey, 'young')).resolves.toBe('in-flight');
    expect(deletes()).toEqual([]);
  });

  test('a delete marker above the pin (a retirement that raced a re-add): removed by its VersionId', async () => {
    rows(liveRow({ lines: pin('v2') }));
    head(undefined);
    listings([['m1', 'marker', YOUNG], ['v2', 'data', OLD], ['v1', 'data', OLD]], [['v2', 'data', OLD], ['v1', 'data', OLD]]);
    await expect(client().reconcile(objectKey, 'm1')).resolves.toBe('uncovered');
    expect(deletes()).toEqual([{ Bucket: 'parts-bucket', Key: objectKey, VersionId: 'm1' }]);
  });

  test('a marker, then old garbage, above the pin: both removed, one per round', async () => {
    rows(liveRow({ lines: pin('v1') }));
    head(undefined);
    listings(
      [['m1', 'marker', OLD], ['crashed', 'data', OLD], ['v1', 'data', OLD]],
      [['crashed', 'data', OLD], ['v1', 'data', OLD]],
      [['v1', 'data', OLD]],
    );
    await expect(client().reconcile(objectKey, 'm1')).resolves.toBe('deleted-unpinned');
    expect(deletes().map(d => d.VersionId)).toEqual(['m1', 'crashed']);
  });

  test('a v1 row (no token) pins like any live row', async () => {
    rows(liveRow({ lines: pin('v1') }, undefined));
    head('crashed');
    listings([['crashed', 'data', OLD], ['v1', 'data', OLD]], [['v1', 'data', OLD]]);
    await expect(client().reconcile(objectKey, 'crashed')).resolves.toBe('deleted-unpinned');
  });

  test('the pin is not in the first listing (committed between listing and read): listed again, nothing deleted', async () => {
    rows(liveRow({ lines: pin('v2') }));
    head('v1');
    listings([['v1', 'data', OLD]], [['v2', 'data', YOUNG], ['v1', 'data', OLD]]);
    await expect(client().reconcile(objectKey, 'v1')).resolves.toBe('noncurrent');
    expect(deletes()).toEqual([]);
  });

  test('the pinned version is gone (a dangling pointer): reported, nothing deleted', async () => {
    rows(liveRow({ lines: pin('gone') }));
    head('other');
    listings([['other', 'data', OLD]]);
    await expect(client().reconcile(objectKey, 'other')).resolves.toBe('dangling');
    expect(deletes()).toEqual([]);
    expect(logs).toContainEqual(expect.objectContaining({ level: 'error', versionId: 'gone' }));
  });
});

describe('no live row pins the part: a current version is hidden, never deleted', () => {
  test.each<[string, Item | undefined]>([
    ['no row', undefined],
    ['a tombstone (the item was deleted and a retirement failed)', encodeTombstone(config, { tenant: 'acme', number: 7 }, 4, 'tomb')],
    ['a row without the part (it was removed and its retirement failed)', liveRow({ summary: pin('s') })],
  ])('%s: a delete marker (no VersionId), so the version expires with the retention window', async (_name, item) => {
    rows(item);
    head('committed-once');
    listings([['committed-once', 'data', OLD]]);
    await expect(client().reconcile(objectKey, 'committed-once')).resolves.toBe('retired-orphan');
    expect(deletes()).toEqual([{ Bucket: 'parts-bucket', Key: objectKey }]);
  });

  test('a young current version without a pin: a writer may be committing it: left for its own event', async () => {
    rows(undefined);
    head('new');
    listings([['new', 'data', YOUNG]]);
    await expect(client().reconcile(objectKey, 'new')).resolves.toBe('in-flight');
    expect(deletes()).toEqual([]);
  });

  test('the listing says a marker is current after all: nothing to do', async () => {
    rows(undefined);
    head('v1');
    listings([['m', 'marker', OLD], ['v1', 'data', OLD]]);
    await expect(client().reconcile(objectKey, 'v1')).resolves.toBe('retired');
    expect(deletes()).toEqual([]);
  });
});

describe('listing and failures', () => {
  test('follows the listing\'s pages while they are on this key, and ignores longer keys under the same prefix', async () => {
    rows(liveRow({ lines: pin('v1') }));
    head('crashed');
    let calls = 0;
    s3.on(ListObjectVersionsCommand).callsFake(input => {
      calls++;
      if (calls % 2 === 1) {
        expect(input.KeyMarker).toBeUndefined();
        return {
          Versions: [{ Key: objectKey, VersionId: calls === 1 ? 'crashed' : 'v1', IsLatest: true, LastModified: OLD }],
          IsTruncated: true,
          NextKeyMarker: objectKey,
          NextVersionIdMarker: 'page-2',
        };
      }
      expect(input).toMatchObject({ KeyMarker: objectKey, VersionIdMarker: 'page-2' });
      return {
        Versions: [
          { Key: objectKey, VersionId: 'v1', IsLatest: false, LastModified: OLD },
          { Key: `${objectKey}2`, VersionId: 'other-key', IsLatest: true, LastModified: OLD },
        ],
        IsTruncated: true,
        NextKeyMarker: `${objectKey}2`,
      };
    });
    await expect(client().reconcile(objectKey, 'crashed')).resolves.toBe('deleted-unpinned');
    expect(deletes().map(d => d.VersionId)).toEqual(['crashed']);
  });

  test('S3 failure: 503 so the event is retried, and no AWS message in it', async () => {
    rows(undefined);
    s3.on(HeadObjectCommand).rejects(new S3ServiceException({ name: 'InternalError', $fault: 'server', message: 'arn:aws:s3:::secret', $metadata: { httpStatusCode: 500 } }));
    const error = await client().reconcile(objectKey, 'v').catch(e => e);
    expect(error).toEqual(new UnavailableError('S3 HeadObject failed (InternalError); the event is retried'));
  });

  test('a row of a later protocol version: refused, nothing touched', async () => {
    rows({ ...liveRow({ lines: pin('v1') }), _proto: { N: '3' } });
    head('crashed');
    await expect(client().reconcile(objectKey, 'crashed')).rejects.toMatchObject({ code: 'UnsupportedRow' });
    expect(deletes()).toEqual([]);
  });
});
