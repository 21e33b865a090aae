/**
 * list, presign and reconcile of SplitStoreClient at the SDK edge, with aws-sdk-client-mock.
 */
import { DynamoDBClient, GetItemCommand, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { encodeRow } from '../../src/runtime/codec';
import { StoreConfig } from '../../src/runtime/config';
import { decodeCursor, encodeCursor, SplitStoreClient, SplitStoreClientOptions } from '../../src/runtime/store';
import { IndexRow, NotFoundError, PartPin, ValidationError } from '../../src/runtime/types';

const config: StoreConfig = {
  tableName: 'Invoices',
  bucketName: 'parts-bucket',
  keyPrefix: 'items/',
  partitionKey: { name: 'tenant', type: 'S' },
  sortKey: { name: 'number', type: 'N' },
  indexes: [{ name: 'byCustomer', partitionKey: { name: 'customer', type: 'S' }, sortKey: { name: 'issuedAt', type: 'S' } }],
  writerDeadlineMs: 20_000,
};

const ddb = mockClient(DynamoDBClient);
const s3 = mockClient(S3Client);
let wallClock: number;

beforeEach(() => {
  ddb.reset();
  s3.reset();
  wallClock = Date.parse('2026-01-01T12:00:00Z');
});

afterAll(() => {
  ddb.restore();
  s3.restore();
});

function client(options: Partial<SplitStoreClientOptions> = {}): SplitStoreClient {
  const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' };
  return new SplitStoreClient({
    config,
    dynamodb: new DynamoDBClient({ region: 'us-east-1', credentials }),
    s3: new S3Client({ region: 'us-east-1', credentials }),
    wallClock: () => wallClock,
    log: () => {},
    ...options,
  });
}

const pin = (versionId: string): PartPin => ({ versionId, etag: '"e"', size: 2, contentType: 'application/json' });

function row(number: number, parts: Record<string, PartPin> = {}): IndexRow {
  return {
    key: { tenant: 'acme', number },
    attributes: { tenant: 'acme', number, customer: 'c1', issuedAt: '2026-01-0' + number },
    revision: 1,
    parts,
  };
}

describe('list', () => {
  test('Query on the table with a partition value; decoded rows with pins; an opaque cursor; no S3', async () => {
    const lastKey = { tenant: { S: 'acme' }, number: { N: '2' } };
    ddb.on(QueryCommand).resolves({ Items: [encodeRow(config, row(1, { summary: pin('v1') })), encodeRow(config, row(2))], LastEvaluatedKey: lastKey });
    const page = await client().list({ partitionValue: 'acme', limit: 2, ascending: false });
    expect(ddb.commandCalls(QueryCommand)[0].args[0].input).toEqual({
      TableName: 'Invoices',
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': 'tenant' },
      ExpressionAttributeValues: { ':pk': { S: 'acme' } },
      ScanIndexForward: false,
      Limit: 2,
    });
    expect(page.items).toEqual([row(1, { summary: pin('v1') }), row(2)]);
    expect(page.cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(s3.calls()).toHaveLength(0);

    // The cursor goes back as ExclusiveStartKey.
    ddb.on(QueryCommand).resolves({ Items: [] });
    const next = await client().list({ partitionValue: 'acme', cursor: page.cursor });
    expect(ddb.commandCalls(QueryCommand)[1].args[0].input.ExclusiveStartKey).toEqual(lastKey);
    expect(ddb.commandCalls(QueryCommand)[1].args[0].input.Limit).toBe(50);
    expect(next).toEqual({ items: [], cursor: undefined });
    expect(s3.calls()).toHaveLength(0);
  });

  test('Query on a secondary index', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    await client().list({ index: 'byCustomer', partitionValue: 'c1' });
    expect(ddb.commandCalls(QueryCommand)[0].args[0].input).toMatchObject({
      IndexName: 'byCustomer',
      ExpressionAttributeNames: { '#pk': 'customer' },
      ExpressionAttributeValues: { ':pk': { S: 'c1' } },
      ScanIndexForward: true,
    });
  });

  test('Scan without a partition value', async () => {
    ddb.on(ScanCommand).resolves({ Items: [encodeRow(config, row(3))] });
    const page = await client().list({ limit: 1000 });
    expect(ddb.commandCalls(ScanCommand)[0].args[0].input).toEqual({ TableName: 'Invoices', Limit: 1000 });
    expect(page.items).toEqual([row(3)]);
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
    expect(s3.calls()).toHaveLength(0);
  });

  test.each([
    ['limit 0', { limit: 0 }, 'limit must be an integer from 1 to 1000, got 0'],
    ['limit 1001', { limit: 1001 }, 'limit must be an integer from 1 to 1000, got 1001'],
    ['limit 1.5', { limit: 1.5 }, 'limit must be an integer from 1 to 1000, got 1.5'],
    ['an unknown index', { index: 'nope' }, 'unknown index "nope"; this store\'s indexes: "byCustomer"'],
    ['a partition value of the wrong type', { partitionValue: 3 }, 'partitionValue for "tenant" must be a non-empty string, got 3'],
    ['a cursor that is not base64url', { cursor: 'a+b/' }, 'malformed cursor (not a base64url string): pass back the cursor of the previous page unchanged'],
    ['a cursor that is not JSON', { cursor: Buffer.from('{nope').toString('base64url') }, 'malformed cursor (not JSON): pass back the cursor of the previous page unchanged'],
    ['a cursor with a foreign attribute', { cursor: encodeCursor({ tenant: { S: 'a' }, number: { N: '1' }, evil: { S: 'x' } }) }, 'malformed cursor (unexpected attribute "evil"): pass back the cursor of the previous page unchanged'],
    ['a cursor with a wrongly typed value', { cursor: encodeCursor({ tenant: { N: '1' }, number: { N: '1' } }) }, 'malformed cursor (bad value of "tenant"): pass back the cursor of the previous page unchanged'],
    ['a cursor without the table key', { cursor: encodeCursor({ tenant: { S: 'a' } }) }, 'malformed cursor (missing key attribute "number"): pass back the cursor of the previous page unchanged'],
  ])('fails on %s', async (_what, req, message) => {
    await expect(client().list(req as never)).rejects.toThrow(new ValidationError(message));
    expect(ddb.calls()).toHaveLength(0);
  });

  test('an index cursor may carry the index keys', () => {
    const allowed = [config.partitionKey, config.sortKey!, config.indexes[0].partitionKey, config.indexes[0].sortKey!];
    const key = { tenant: { S: 'a' }, number: { N: '1' }, customer: { S: 'c' }, issuedAt: { S: '2026' } };
    expect(decodeCursor(encodeCursor(key), allowed, [config.partitionKey, config.sortKey!])).toEqual(key);
  });
});

describe('presign', () => {
  test('a GET URL pinned to the VersionId, 300 s by default', async () => {
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, row(7, { lines: pin('ver/1+x') })) });
    const url = new URL(await client().presign({ tenant: 'acme', number: 7 }, 'lines'));
    expect(url.pathname).toMatch(/\/items\/acme\/7\/lines$/);
    expect(url.searchParams.get('versionId')).toBe('ver/1+x');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(ddb.commandCalls(GetItemCommand)[0].args[0].input.ConsistentRead).toBe(true);
  });

  test('expiresInSeconds up to 3600', async () => {
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, row(7, { lines: pin('v') })) });
    const url = new URL(await client().presign({ tenant: 'acme', number: 7 }, 'lines', 3600));
    expect(url.searchParams.get('X-Amz-Expires')).toBe('3600');
    await expect(client().presign({ tenant: 'acme', number: 7 }, 'lines', 3601)).rejects.toThrow(
      new ValidationError('expiresInSeconds must be an integer from 1 to 3600, got 3601'),
    );
  });

  test('404 for a part the row does not pin, and for a missing item', async () => {
    ddb.on(GetItemCommand).resolvesOnce({ Item: encodeRow(config, row(7)) }).resolves({});
    await expect(client().presign({ tenant: 'acme', number: 7 }, 'lines')).rejects.toThrow(
      new NotFoundError('item {"tenant":"acme","number":7} has no part "lines"'),
    );
    await expect(client().presign({ tenant: 'acme', number: 7 }, 'lines')).rejects.toThrow(NotFoundError);
  });
});

describe('reconcile', () => {
  const objectKey = 'items/acme/7/lines';
  const notFound = () => new S3ServiceException({ name: 'NotFound', $fault: 'client', message: 'Not Found', $metadata: { httpStatusCode: 404 } });
  const deletes = () => s3.commandCalls(DeleteObjectCommand).map(c => c.args[0].input);

  test('not a part key', async () => {
    await expect(client().reconcile('elsewhere/x', 'v')).resolves.toBe('not-a-part');
    await expect(client().reconcile('items/acme/notanumber/lines', 'v')).resolves.toBe('not-a-part');
    expect(ddb.calls()).toHaveLength(0);
  });

  test('pinned: nothing to do', async () => {
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, row(7, { lines: pin('v2') })) });
    await expect(client().reconcile(objectKey, 'v2')).resolves.toBe('pinned');
    expect(ddb.commandCalls(GetItemCommand)[0].args[0].input).toEqual({
      TableName: 'Invoices', Key: { tenant: { S: 'acme' }, number: { N: '7' } }, ConsistentRead: true,
    });
    expect(s3.calls()).toHaveLength(0);
  });

  test('noncurrent: left alone, it expires with the retention window', async () => {
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, row(7, { lines: pin('v2') })) });
    s3.on(HeadObjectCommand).resolves({ VersionId: 'v2' });
    await expect(client().reconcile(objectKey, 'v1')).resolves.toBe('noncurrent');
    expect(deletes()).toEqual([]);
  });

  test('noncurrent when a delete marker is current', async () => {
    ddb.on(GetItemCommand).resolves({});
    s3.on(HeadObjectCommand).rejects(notFound());
    await expect(client().reconcile(objectKey, 'v1')).resolves.toBe('noncurrent');
    expect(deletes()).toEqual([]);
  });

  test('current and unpinned while the row pins another version: deleted by VersionId', async () => {
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, row(7, { lines: pin('v1') })) });
    s3.on(HeadObjectCommand).resolvesOnce({ VersionId: 'crashed' }).resolves({ VersionId: 'v1' });
    await expect(client().reconcile(objectKey, 'crashed')).resolves.toBe('deleted-unpinned');
    expect(deletes()).toEqual([{ Bucket: 'parts-bucket', Key: objectKey, VersionId: 'crashed' }]);
  });

  test('current and no row: an orphan, deleted by VersionId', async () => {
    ddb.on(GetItemCommand).resolves({});
    s3.on(HeadObjectCommand).resolves({ VersionId: 'orphan' });
    await expect(client().reconcile(objectKey, 'orphan')).resolves.toBe('deleted-orphan');
    expect(deletes()).toEqual([{ Bucket: 'parts-bucket', Key: objectKey, VersionId: 'orphan' }]);
  });

  test('current and the row does not have that part: an orphan', async () => {
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, row(7, { summary: pin('s') })) });
    s3.on(HeadObjectCommand).resolves({ VersionId: 'orphan' });
    await expect(client().reconcile(objectKey, 'orphan')).resolves.toBe('deleted-orphan');
  });

  test('older unpinned versions uncovered above the pin are deleted too; a young one is left to its own event', async () => {
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, row(7, { lines: pin('pinned') })) });
    s3.on(HeadObjectCommand)
      .resolvesOnce({ VersionId: 'crash-2' })
      // after deleting crash-2: crash-1 (an hour old) is current
      .resolvesOnce({ VersionId: 'crash-1', LastModified: new Date(wallClock - 3_600_000) })
      // after deleting crash-1: a version written 1 s ago (a writer may be in flight)
      .resolves({ VersionId: 'young', LastModified: new Date(wallClock - 1_000) });
    await expect(client().reconcile(objectKey, 'crash-2')).resolves.toBe('deleted-unpinned');
    expect(deletes().map(d => d.VersionId)).toEqual(['crash-2', 'crash-1']);
  });

  test('S3 failure: 503 so the event is retried', async () => {
    ddb.on(GetItemCommand).resolves({});
    s3.on(HeadObjectCommand).rejects(new S3ServiceException({ name: 'InternalError', $fault: 'server', message: 'x', $metadata: { httpStatusCode: 500 } }));
    await expect(client().reconcile(objectKey, 'v')).rejects.toMatchObject({ statusCode: 503 });
  });
});
