/**
 * list and presign of SplitStoreClient at the SDK edge, with aws-sdk-client-mock (reconcile:
 * reconcile.test.ts).
 */
import { DynamoDBClient, GetItemCommand, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { encodeRow, encodeTombstone } from '../../src/runtime/codec';
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

beforeEach(() => {
  ddb.reset();
  s3.reset();
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
      FilterExpression: 'attribute_not_exists(#del)',
      ExpressionAttributeNames: { '#pk': 'tenant', '#del': '_del' },
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
      ExpressionAttributeNames: { '#pk': 'customer', '#del': '_del' },
      ExpressionAttributeValues: { ':pk': { S: 'c1' } },
      ScanIndexForward: true,
    });
  });

  test('Scan without a partition value', async () => {
    ddb.on(ScanCommand).resolves({ Items: [encodeRow(config, row(3))] });
    const page = await client().list({ limit: 1000 });
    expect(ddb.commandCalls(ScanCommand)[0].args[0].input).toEqual({
      TableName: 'Invoices',
      FilterExpression: 'attribute_not_exists(#del)',
      ExpressionAttributeNames: { '#del': '_del' },
      Limit: 1000,
    });
    expect(page.items).toEqual([row(3)]);
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
    expect(s3.calls()).toHaveLength(0);
  });

  test('tombstones never reach the caller: filtered by DynamoDB, and skipped should one come back', async () => {
    const tombstone = encodeTombstone(config, { tenant: 'acme', number: 4 }, 3, 'tok');
    ddb.on(ScanCommand).resolves({ Items: [encodeRow(config, row(3)), tombstone], LastEvaluatedKey: { tenant: { S: 'acme' }, number: { N: '4' } } });
    const page = await client().list({ limit: 2 });
    expect(page.items).toEqual([row(3)]);
    // A page may hold fewer rows than the limit (DynamoDB filters after Limit) and still have a cursor.
    expect(page.cursor).toBeDefined();
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

  test('404 for a deleted item: a tombstone is no row', async () => {
    ddb.on(GetItemCommand).resolves({ Item: encodeTombstone(config, { tenant: 'acme', number: 7 }, 5, 'tok') });
    await expect(client().presign({ tenant: 'acme', number: 7 }, 'lines')).rejects.toThrow(
      new NotFoundError('item {"tenant":"acme","number":7} does not exist'),
    );
    await expect(client().getIndex({ tenant: 'acme', number: 7 })).rejects.toThrow(NotFoundError);
  });

  test('404 for a part the row does not pin, and for a missing item', async () => {
    ddb.on(GetItemCommand).resolvesOnce({ Item: encodeRow(config, row(7)) }).resolves({});
    await expect(client().presign({ tenant: 'acme', number: 7 }, 'lines')).rejects.toThrow(
      new NotFoundError('item {"tenant":"acme","number":7} has no part "lines"'),
    );
    await expect(client().presign({ tenant: 'acme', number: 7 }, 'lines')).rejects.toThrow(NotFoundError);
  });
});
