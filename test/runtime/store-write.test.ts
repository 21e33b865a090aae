/**
 * Write, update and delete paths of SplitStoreClient at the SDK edge, with aws-sdk-client-mock:
 * the failures an emulator cannot produce (a commit that loses its condition after the parts
 * landed, a DynamoDB error, a writer past its deadline, an S3 put failing halfway).
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  InternalServerError,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { encodeRow } from '../../src/runtime/codec';
import { StoreConfig } from '../../src/runtime/config';
import { LogEntry, SplitStoreClient, SplitStoreClientOptions } from '../../src/runtime/store';
import {
  ConflictError,
  DeadlineExceededError,
  IndexRow,
  NotFoundError,
  PartPin,
  UnavailableError,
  ValidationError,
} from '../../src/runtime/types';

const config: StoreConfig = {
  tableName: 'Items',
  bucketName: 'parts-bucket',
  keyPrefix: 'items/',
  partitionKey: { name: 'id', type: 'S' },
  indexes: [],
  writerDeadlineMs: 20_000,
};

const ddb = mockClient(DynamoDBClient);
const s3 = mockClient(S3Client);
let logs: LogEntry[];
let clock: number;
let versionCounter: number;

beforeEach(() => {
  ddb.reset();
  s3.reset();
  logs = [];
  clock = 1_000;
  versionCounter = 0;
  // Every PutObject creates a new version; the VersionId names the key and a counter.
  s3.on(PutObjectCommand).callsFake(input => {
    versionCounter++;
    return { VersionId: `${input.Key}@v${versionCounter}`, ETag: `"etag-${versionCounter}"` };
  });
  s3.on(DeleteObjectCommand).callsFake(input => (input.VersionId ? { VersionId: input.VersionId } : { VersionId: `marker-${input.Key}`, DeleteMarker: true }));
});

afterAll(() => {
  ddb.restore();
  s3.restore();
});

function client(options: Partial<SplitStoreClientOptions> = {}): SplitStoreClient {
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  return new SplitStoreClient({
    config,
    dynamodb: new DynamoDBClient({ region: 'us-east-1', credentials }),
    s3: new S3Client({ region: 'us-east-1', credentials }),
    now: () => clock,
    log: entry => logs.push(entry),
    retryDelayMs: 1,
    ...options,
  });
}

function pin(versionId: string, size = 2): PartPin {
  return { versionId, etag: '"e"', size, contentType: 'application/json' };
}

function storedRow(revision: number, parts: Record<string, PartPin>, attributes: Record<string, unknown> = {}): IndexRow {
  return { key: { id: 'a' }, attributes: { id: 'a', ...attributes }, revision, parts };
}

function conditionFailed(item?: IndexRow): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: { httpStatusCode: 400 },
    Item: item ? encodeRow(config, item) : undefined,
  });
}

const putVersions = () => s3.commandCalls(PutObjectCommand).map(c => c.args[0].input.Key + '');
/** The VersionIds the PutObject mock returned, in order of the calls (the mock numbers them). */
const writtenVersions = () => s3.commandCalls(PutObjectCommand).map((c, i) => `${c.args[0].input.Key}@v${i + 1}`).sort();
const deletedVersions = () => s3.commandCalls(DeleteObjectCommand).map(c => c.args[0].input);

describe('put', () => {
  test('create: parts first, then one PutItem conditional on absence, revision 1', async () => {
    ddb.on(PutItemCommand).resolves({});
    const row = await client().put({
      key: { id: 'a' },
      attributes: { total: 3 },
      parts: { summary: { body: '{"a":1}' }, lines: { body: new Uint8Array([1, 2, 3]), contentType: 'application/x-lines' } },
      create: true,
    });

    expect(putVersions().sort()).toEqual(['items/a/lines', 'items/a/summary']);
    const summaryPut = s3.commandCalls(PutObjectCommand).find(c => c.args[0].input.Key === 'items/a/summary')!;
    expect(summaryPut.args[0].input.ContentType).toBe('application/json');
    const put = ddb.commandCalls(PutItemCommand);
    expect(put).toHaveLength(1);
    expect(put[0].args[0].input).toMatchObject({
      TableName: 'Items',
      ConditionExpression: 'attribute_not_exists(#pk) AND attribute_not_exists(#proto)',
      ExpressionAttributeNames: { '#proto': '_proto', '#pk': 'id' },
      ReturnValues: 'ALL_OLD',
    });
    expect(put[0].args[0].input.ExpressionAttributeValues).toBeUndefined();
    expect(put[0].args[0].input.Item!._rev).toEqual({ N: '1' });
    expect(row.revision).toBe(1);
    expect(row.attributes).toEqual({ id: 'a', total: 3 });
    expect(Object.keys(row.parts).sort()).toEqual(['lines', 'summary']);
    expect(row.parts.lines).toEqual({
      versionId: expect.stringMatching(/^items\/a\/lines@v[12]$/),
      etag: expect.stringMatching(/^"etag-[12]"$/),
      size: 3,
      contentType: 'application/x-lines',
    });
    expect(row.parts.summary.size).toBe(7);
    // Pins in the committed item are the versions S3 returned.
    expect(put[0].args[0].input.Item!._parts.M!.lines.M!.v.S).toBe(row.parts.lines.versionId);
    expect(deletedVersions()).toEqual([]);
    expect(ddb.commandCalls(GetItemCommand)).toHaveLength(0);
  });

  test('expectedRevision: conditional on that revision, revision + 1', async () => {
    ddb.on(PutItemCommand).resolves({ Attributes: encodeRow(config, storedRow(4, {})) });
    const row = await client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, expectedRevision: 4 });
    const input = ddb.commandCalls(PutItemCommand)[0].args[0].input;
    expect(input.ConditionExpression).toBe('#rev = :expected AND attribute_not_exists(#proto)');
    // Only names the expression uses: DynamoDB refuses unused ones.
    expect(input.ExpressionAttributeNames).toEqual({ '#proto': '_proto', '#rev': '_rev' });
    expect(input.ExpressionAttributeValues).toEqual({ ':expected': { N: '4' } });
    expect(input.Item!._rev).toEqual({ N: '5' });
    expect(row.revision).toBe(5);
  });

  test('unconditional: reads the row consistently BEFORE putting the parts, conditions on its revision', async () => {
    const order: string[] = [];
    ddb.on(GetItemCommand).callsFake(async () => {
      order.push('GetItem');
      return { Item: encodeRow(config, storedRow(7, {})) };
    });
    s3.on(PutObjectCommand).callsFake(async input => {
      order.push('PutObject');
      return { VersionId: `${input.Key}@v1`, ETag: '"e"' };
    });
    ddb.on(PutItemCommand).callsFake(async () => {
      order.push('PutItem');
      return {};
    });
    const row = await client().put({ key: { id: 'a' }, attributes: { x: 1 }, parts: { summary: { body: '{}' } } });
    expect(order).toEqual(['GetItem', 'PutObject', 'PutItem']);
    expect(ddb.commandCalls(GetItemCommand)[0].args[0].input).toEqual({ TableName: 'Items', Key: { id: { S: 'a' } }, ConsistentRead: true });
    expect(ddb.commandCalls(PutItemCommand)[0].args[0].input.ExpressionAttributeValues).toEqual({ ':expected': { N: '7' } });
    expect(row.revision).toBe(8);
  });

  test('unconditional: a lost race is compensated and retried from the read, with new versions', async () => {
    ddb.on(GetItemCommand)
      .resolvesOnce({ Item: encodeRow(config, storedRow(1, {})) })
      .resolves({ Item: encodeRow(config, storedRow(2, {})) });
    ddb.on(PutItemCommand).rejectsOnce(conditionFailed()).resolves({});
    const row = await client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } } });
    expect(row.revision).toBe(3);
    // The first attempt's version is deleted; the second attempt's is pinned.
    expect(writtenVersions()).toEqual(['items/a/summary@v1', 'items/a/summary@v2']);
    expect(deletedVersions()).toEqual([{ Bucket: 'parts-bucket', Key: 'items/a/summary', VersionId: 'items/a/summary@v1' }]);
    expect(row.parts.summary.versionId).toBe('items/a/summary@v2');
    expect(ddb.commandCalls(PutItemCommand)[1].args[0].input.ExpressionAttributeValues).toEqual({ ':expected': { N: '2' } });
  });

  test('unconditional: gives up with 409 after repeated conflicts, every attempt compensated', async () => {
    ddb.on(GetItemCommand).resolves({});
    ddb.on(PutItemCommand).rejects(conditionFailed());
    await expect(client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } } })).rejects.toThrow(
      new ConflictError('item {"id":"a"} kept changing during an unconditional put (3 attempts)'),
    );
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(3);
    expect(deletedVersions().map(d => d.VersionId)).toEqual(writtenVersions());
    expect(writtenVersions()).toHaveLength(3);
  });

  test('commit fails its condition: DeleteObject of exactly the versions written, then 409', async () => {
    ddb.on(PutItemCommand).rejects(conditionFailed());
    const error = await client().put({
      key: { id: 'a' },
      parts: { summary: { body: '{}' }, lines: { body: '[]' }, notes: { body: 'n' } },
      expectedRevision: 2,
    }).catch(e => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.statusCode).toBe(409);
    expect(error.message).toBe('item {"id":"a"} is not at revision 2 (or does not exist)');
    expect(writtenVersions()).toHaveLength(3);
    expect(deletedVersions().map(d => d.VersionId).sort()).toEqual(writtenVersions());
    expect(deletedVersions().map(d => d.Key).sort()).toEqual(['items/a/lines', 'items/a/notes', 'items/a/summary']);
    // Every compensating delete names a VersionId: never a delete marker on a pinned part.
    expect(deletedVersions().every(d => d.VersionId !== undefined)).toBe(true);
  });

  test('create on an existing item: 409 with the create message', async () => {
    ddb.on(PutItemCommand).rejects(conditionFailed());
    await expect(client().put({ key: { id: 'a' }, create: true })).rejects.toThrow(
      new ConflictError('item {"id":"a"} already exists (create)'),
    );
  });

  test('DynamoDB refuses the commit (4xx): compensation, then 503 Unavailable', async () => {
    ddb.on(PutItemCommand).rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: { httpStatusCode: 400 } }));
    const error = await client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, create: true }).catch(e => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error.statusCode).toBe(503);
    expect(error.message).toBe('DynamoDB PutItem failed: retry with backoff (the function log has the details)');
    expect(error.cause).toMatchObject({ name: 'ProvisionedThroughputExceededException', message: 'slow down' });
    expect(deletedVersions()).toEqual([{ Bucket: 'parts-bucket', Key: 'items/a/summary', VersionId: 'items/a/summary@v1' }]);
    // A definite refusal needs no look at the row.
    expect(ddb.commandCalls(GetItemCommand)).toHaveLength(0);
  });

  test('DynamoDB ValidationException on commit: compensation, then 400', async () => {
    const tooBig = Object.assign(new Error('Item size has exceeded the maximum allowed size'), {
      name: 'ValidationException', $metadata: { httpStatusCode: 400 },
    });
    ddb.on(PutItemCommand).rejects(tooBig);
    const error = await client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, create: true }).catch(e => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(/^DynamoDB refused the PutItem as invalid/);
    expect(error.cause).toBe(tooBig);
    expect(deletedVersions()).toHaveLength(1);
  });

  test('ambiguous commit error (5xx) that did not land: the row is checked, then compensation and 503', async () => {
    ddb.on(PutItemCommand).rejects(new InternalServerError({ message: 'boom', $metadata: { httpStatusCode: 500 } }));
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, storedRow(1, { summary: pin('older') })) });
    await expect(client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, expectedRevision: 1 }))
      .rejects.toThrow(UnavailableError);
    expect(ddb.commandCalls(GetItemCommand)).toHaveLength(1);
    expect(deletedVersions()).toEqual([{ Bucket: 'parts-bucket', Key: 'items/a/summary', VersionId: 'items/a/summary@v1' }]);
  });

  test('ambiguous commit error (5xx) that did land: success, nothing compensated', async () => {
    ddb.on(PutItemCommand).rejects(new InternalServerError({ message: 'boom', $metadata: { httpStatusCode: 500 } }));
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, storedRow(2, { summary: pin('items/a/summary@v1') })) });
    const row = await client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, expectedRevision: 1 });
    expect(row.revision).toBe(2);
    expect(row.parts.summary.versionId).toBe('items/a/summary@v1');
    expect(deletedVersions()).toEqual([]);
  });

  test('unconditional put, ambiguous commit that did land: the parts of the row it replaced are retired', async () => {
    ddb.on(GetItemCommand)
      .resolvesOnce({ Item: encodeRow(config, storedRow(1, { old: pin('o-1') })) })
      .resolves({ Item: encodeRow(config, storedRow(2, { summary: pin('items/a/summary@v1') })) });
    ddb.on(PutItemCommand).rejects(new InternalServerError({ message: 'boom', $metadata: { httpStatusCode: 500 } }));
    const row = await client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } } });
    expect(row.revision).toBe(2);
    expect(deletedVersions()).toEqual([{ Bucket: 'parts-bucket', Key: 'items/a/old' }]);
  });

  test('ambiguous commit error and the row cannot be read: no compensation (the reconciler decides), 503', async () => {
    ddb.on(PutItemCommand).rejects(new InternalServerError({ message: 'boom', $metadata: { httpStatusCode: 500 } }));
    ddb.on(GetItemCommand).rejects(new InternalServerError({ message: 'still down', $metadata: { httpStatusCode: 500 } }));
    const error = await client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, expectedRevision: 1 }).catch(e => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error.message).toBe('DynamoDB commit failed: retry with backoff (the function log has the details)');
    expect(error.cause).toMatchObject({ message: 'boom' });
    expect(deletedVersions()).toEqual([]);
    expect(logs.map(l => l.msg)).toContain(
      'commit outcome unknown: not compensating, the reconciler will remove the versions if they are unpinned',
    );
  });

  test('writer past its deadline: compensates and sends no PutItem', async () => {
    s3.on(PutObjectCommand).callsFake(input => {
      clock += 20_001; // the S3 put took longer than the whole writer deadline
      return { VersionId: `${input.Key}@slow`, ETag: '"e"' };
    });
    const error = await client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, create: true }).catch(e => e);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error.statusCode).toBe(503);
    expect(error.message).toMatch(/ran 20001 ms, past the writer deadline of 20000 ms/);
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(0);
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(0);
    expect(deletedVersions()).toEqual([{ Bucket: 'parts-bucket', Key: 'items/a/summary', VersionId: 'items/a/summary@slow' }]);
  });

  test('a writer exactly at its deadline still commits', async () => {
    s3.on(PutObjectCommand).callsFake(input => {
      clock += 20_000;
      return { VersionId: `${input.Key}@v`, ETag: '"e"' };
    });
    ddb.on(PutItemCommand).resolves({});
    await expect(client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, create: true })).resolves.toMatchObject({ revision: 1 });
  });

  test('one PutObject fails: the others are compensated, nothing is committed, 503', async () => {
    s3.on(PutObjectCommand, { Key: 'items/a/lines' }).rejects(
      new S3ServiceException({ name: 'SlowDown', $fault: 'server', message: 'Please reduce your request rate.', $metadata: { httpStatusCode: 503 } }),
    );
    const error = await client().put({
      key: { id: 'a' },
      parts: { summary: { body: '{}' }, lines: { body: '[]' } },
      create: true,
    }).catch(e => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error.message).toBe('S3 PutObject failed: nothing was committed; retry with backoff (the function log has the details)');
    expect(error.cause).toMatchObject({ name: 'SlowDown' });
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(0);
    expect(deletedVersions()).toEqual([{ Bucket: 'parts-bucket', Key: 'items/a/summary', VersionId: expect.stringMatching(/^items\/a\/summary@v\d$/) }]);
  });

  test('an unversioned bucket is refused after the fact: 503 and a message that says why', async () => {
    s3.on(PutObjectCommand).resolves({ ETag: '"e"' });
    const error = await client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, create: true }).catch(e => e);
    expect(error.message).toMatch(/S3 returned no version id for a part: the store's bucket must have versioning enabled/);
    // The bucket's name goes to the log only.
    expect(error.message).not.toContain('parts-bucket');
    expect(error.cause.message).toMatch(/bucket parts-bucket returned no VersionId/);
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(0);
  });

  test('compensation retries each delete and never masks the original error', async () => {
    ddb.on(PutItemCommand).rejects(conditionFailed());
    s3.on(DeleteObjectCommand)
      .rejectsOnce(new Error('network'))
      .rejectsOnce(new Error('network'))
      .resolves({});
    await expect(client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, create: true })).rejects.toThrow(ConflictError);
    expect(deletedVersions()).toHaveLength(3);
    expect(new Set(deletedVersions().map(d => d.VersionId))).toEqual(new Set(['items/a/summary@v1']));
    expect(logs).toEqual([]);
  });

  test('compensation that keeps failing is logged, and the original error is reported', async () => {
    ddb.on(PutItemCommand).rejects(conditionFailed());
    s3.on(DeleteObjectCommand).rejects(new Error('network'));
    await expect(client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, create: true })).rejects.toThrow(ConflictError);
    expect(deletedVersions()).toHaveLength(3);
    expect(logs).toEqual([expect.objectContaining({
      level: 'error',
      msg: 'compensation failed: the reconciler will delete this unpinned version',
      s3Key: 'items/a/summary',
      versionId: 'items/a/summary@v1',
      error: 'network',
    })]);
  });

  test('parts the replaced row pinned and the put does not name get a delete marker after the commit', async () => {
    const old = storedRow(3, { summary: pin('s-old'), attachments: pin('att-old') });
    ddb.on(PutItemCommand).resolves({ Attributes: encodeRow(config, old) });
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, storedRow(4, { summary: pin('items/a/summary@v1') })) });
    await client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, expectedRevision: 3 });
    // A delete marker (no VersionId) on the removed part only; the replaced part needs nothing.
    expect(deletedVersions()).toEqual([{ Bucket: 'parts-bucket', Key: 'items/a/attachments' }]);
  });

  test('a removed part that another writer pinned again meanwhile: our delete marker is removed', async () => {
    const old = storedRow(3, { attachments: pin('att-old') });
    ddb.on(PutItemCommand).resolves({ Attributes: encodeRow(config, old) });
    // By the time we re-check, a concurrent updateParts has added "attachments" back.
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, storedRow(5, { attachments: pin('att-new') })) });
    await client().put({ key: { id: 'a' }, expectedRevision: 3 });
    expect(deletedVersions()).toEqual([
      { Bucket: 'parts-bucket', Key: 'items/a/attachments' },
      { Bucket: 'parts-bucket', Key: 'items/a/attachments', VersionId: 'marker-items/a/attachments' },
    ]);
  });
});

describe('after the commit', () => {
  test('a removed part whose delete marker keeps failing is logged; the committed write still succeeds', async () => {
    ddb.on(PutItemCommand).resolves({ Attributes: encodeRow(config, storedRow(1, { old: pin('o-1') })) });
    s3.on(DeleteObjectCommand).rejects(new Error('network'));
    const row = await client().put({ key: { id: 'a' }, expectedRevision: 1 });
    expect(row.revision).toBe(2);
    expect(deletedVersions()).toHaveLength(3);
    expect(logs).toEqual([expect.objectContaining({
      level: 'warn',
      msg: 'could not retire a removed part: its last version stays current (harmless, not pinned)',
      s3Key: 'items/a/old',
    })]);
    // No marker was placed, so there is nothing to re-check.
    expect(ddb.commandCalls(GetItemCommand)).toHaveLength(0);
  });

  test('updateParts: an ambiguous commit that landed is a success, nothing compensated', async () => {
    const current = storedRow(4, { summary: pin('s-4') });
    ddb.on(GetItemCommand)
      .resolvesOnce({ Item: encodeRow(config, current) })
      .resolves({ Item: encodeRow(config, storedRow(5, { summary: pin('items/a/summary@v1') })) });
    ddb.on(UpdateItemCommand).rejects(new InternalServerError({ message: 'timeout', $metadata: { httpStatusCode: 500 } }));
    const row = await client().updateParts({ key: { id: 'a' }, parts: { summary: { body: '{}' } } });
    expect(row.revision).toBe(5);
    expect(deletedVersions()).toEqual([]);
  });

  test('updateParts: an ambiguous commit that did not land is compensated, 503', async () => {
    const current = storedRow(4, { summary: pin('s-4') });
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, current) });
    ddb.on(UpdateItemCommand).rejects(new InternalServerError({ message: 'timeout', $metadata: { httpStatusCode: 500 } }));
    const error = await client().updateParts({ key: { id: 'a' }, parts: { summary: { body: '{}' } } }).catch(e => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error.message).toBe('DynamoDB UpdateItem failed: retry with backoff (the function log has the details)');
    expect(error.cause).toMatchObject({ message: 'timeout' });
    expect(deletedVersions()).toEqual([{ Bucket: 'parts-bucket', Key: 'items/a/summary', VersionId: 'items/a/summary@v1' }]);
  });
});

describe('validation: bad input writes nothing', () => {
  test.each([
    ['an invalid part name', { key: { id: 'a' }, parts: { Bad: { body: 'x' } } }, /invalid part name "Bad"/],
    ['a reserved attribute', { key: { id: 'a' }, attributes: { _rev: 9 } }, /attribute name "_rev" is reserved/],
    ['create with expectedRevision', { key: { id: 'a' }, create: true, expectedRevision: 1 }, /create and expectedRevision are exclusive/],
    ['a zero expectedRevision', { key: { id: 'a' }, expectedRevision: 0 }, /expectedRevision must be a positive integer, got 0/],
    ['a key attribute that differs', { key: { id: 'a' }, attributes: { id: 'b' } }, /attribute "id" is a key attribute and differs/],
    ['a wrong key type', { key: { id: 1 } }, /key attribute "id" must be a string/],
    ['an unknown key attribute', { key: { id: 'a', sk: 'b' } }, /unknown key attribute "sk"/],
    ['a bad body', { key: { id: 'a' }, parts: { p: { body: 42 } } }, /part "p": body must be a string or bytes/],
    ['a bad content type', { key: { id: 'a' }, parts: { p: { body: 'x', contentType: 'a\nb' } } }, /part "p": contentType must be/],
    ['a too long key for one part', { key: { id: 'x'.repeat(1000) }, parts: { ['p'.repeat(30)]: { body: 'x' } } }, /key too long/],
    ['an unstorable attribute', { key: { id: 'a' }, attributes: { n: NaN } }, /attribute "n" is NaN, which DynamoDB cannot store/],
  ])('put refuses %s', async (_what, req, message) => {
    await expect(client().put(req as never)).rejects.toThrow(message);
    await expect(client().put(req as never)).rejects.toBeInstanceOf(ValidationError);
    expect(s3.calls()).toHaveLength(0);
    expect(ddb.calls()).toHaveLength(0);
  });

  test.each([
    ['nothing to do', { key: { id: 'a' } }, /nothing to update/],
    ['a part both written and removed', { key: { id: 'a' }, parts: { p: { body: 'x' } }, removeParts: ['p'] }, /both written \(parts\) and removed/],
    ['an invalid removed part name', { key: { id: 'a' }, removeParts: ['X'] }, /invalid part name "X"/],
  ])('updateParts refuses %s', async (_what, req, message) => {
    await expect(client().updateParts(req as never)).rejects.toThrow(message);
    expect(s3.calls()).toHaveLength(0);
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('updateParts', () => {
  const current = storedRow(4, { summary: pin('s-4'), lines: pin('l-4'), notes: pin('n-4') }, { total: 1 });

  test('keeps untouched pins: one UpdateItem conditional on the revision read', async () => {
    const updated = storedRow(5, { summary: pin('items/a/summary@v1'), lines: pin('l-4') }, { total: 2 });
    ddb.on(GetItemCommand)
      .resolvesOnce({ Item: encodeRow(config, current) })
      .resolves({ Item: encodeRow(config, updated) });
    ddb.on(UpdateItemCommand).resolves({ Attributes: encodeRow(config, updated) });
    const row = await client().updateParts({
      key: { id: 'a' },
      parts: { summary: { body: '{}' } },
      removeParts: ['notes', 'never-existed'],
      attributes: { total: 2 },
    });
    expect(row).toEqual(updated);
    expect(ddb.commandCalls(GetItemCommand)[0].args[0].input.ConsistentRead).toBe(true);
    const input = ddb.commandCalls(UpdateItemCommand)[0].args[0].input;
    expect(input.ConditionExpression).toBe('#rev = :expected AND attribute_not_exists(#proto)');
    expect(input.UpdateExpression).toBe('SET #rev = #rev + :one, #a0 = :a0, #parts.#p0 = :p0 REMOVE #parts.#r0');
    expect(input.ExpressionAttributeNames).toEqual({
      '#rev': '_rev', '#parts': '_parts', '#proto': '_proto', '#a0': 'total', '#p0': 'summary', '#r0': 'notes',
    });
    expect(input.ExpressionAttributeValues![':expected']).toEqual({ N: '4' });
    expect(input.ExpressionAttributeValues![':p0'].M!.v).toEqual({ S: 'items/a/summary@v1' });
    expect(input.Key).toEqual({ id: { S: 'a' } });
    // Only the changed part was written; the removed one got a delete marker after the commit.
    expect(putVersions()).toEqual(['items/a/summary']);
    expect(deletedVersions()).toEqual([{ Bucket: 'parts-bucket', Key: 'items/a/notes' }]);
  });

  test('404 when the item does not exist, nothing written', async () => {
    ddb.on(GetItemCommand).resolves({});
    await expect(client().updateParts({ key: { id: 'a' }, parts: { summary: { body: '{}' } } })).rejects.toThrow(NotFoundError);
    expect(s3.calls()).toHaveLength(0);
  });

  test('409 before writing anything when expectedRevision is already stale', async () => {
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, current) });
    await expect(client().updateParts({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, expectedRevision: 3 }))
      .rejects.toThrow(new ConflictError('item {"id":"a"} is at revision 4, not 3'));
    expect(s3.calls()).toHaveLength(0);
  });

  test('a concurrent writer between read and commit: compensation and 409, never a lost update', async () => {
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, current) });
    ddb.on(UpdateItemCommand).rejects(conditionFailed());
    await expect(client().updateParts({ key: { id: 'a' }, parts: { summary: { body: '{}' }, lines: { body: '[]' } } }))
      .rejects.toThrow(ConflictError);
    expect(deletedVersions().map(d => d.VersionId).sort()).toEqual(writtenVersions());
    expect(writtenVersions()).toHaveLength(2);
  });

  test('past the deadline: compensates, no UpdateItem', async () => {
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, current) });
    s3.on(PutObjectCommand).callsFake(input => {
      clock += 30_000;
      return { VersionId: `${input.Key}@late`, ETag: '"e"' };
    });
    await expect(client().updateParts({ key: { id: 'a' }, parts: { summary: { body: '{}' } } })).rejects.toThrow(DeadlineExceededError);
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(0);
    expect(deletedVersions()).toEqual([{ Bucket: 'parts-bucket', Key: 'items/a/summary', VersionId: 'items/a/summary@late' }]);
  });

  test('key attributes in attributes are checked but never SET', async () => {
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, current) });
    ddb.on(UpdateItemCommand).resolves({ Attributes: encodeRow(config, storedRow(5, {})) });
    await client().updateParts({ key: { id: 'a' }, attributes: { id: 'a', x: 1 } });
    expect(ddb.commandCalls(UpdateItemCommand)[0].args[0].input.UpdateExpression).toBe('SET #rev = #rev + :one, #a0 = :a0');
    // No '#parts' when no pin changes: DynamoDB refuses unused expression attribute names.
    expect(ddb.commandCalls(UpdateItemCommand)[0].args[0].input.ExpressionAttributeNames).toEqual({ '#rev': '_rev', '#proto': '_proto', '#a0': 'x' });
  });
});

describe('delete', () => {
  const old = storedRow(2, { summary: pin('s-2'), lines: pin('l-2') });

  test('conditional DeleteItem returning the old row, then a delete marker per part', async () => {
    ddb.on(DeleteItemCommand).resolves({ Attributes: encodeRow(config, old) });
    ddb.on(GetItemCommand).resolves({});
    const deleted = await client().delete({ key: { id: 'a' }, expectedRevision: 2 });
    expect(deleted).toEqual(old);
    expect(ddb.commandCalls(DeleteItemCommand)[0].args[0].input).toEqual({
      TableName: 'Items',
      Key: { id: { S: 'a' } },
      ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(#proto) AND #rev = :expected',
      ExpressionAttributeNames: { '#pk': 'id', '#proto': '_proto', '#rev': '_rev' },
      ExpressionAttributeValues: { ':expected': { N: '2' } },
      ReturnValues: 'ALL_OLD',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    // Delete markers (no VersionId): the pinned versions become noncurrent and stay for the retention window.
    expect(deletedVersions().sort((x, y) => `${x.Key}`.localeCompare(`${y.Key}`))).toEqual([
      { Bucket: 'parts-bucket', Key: 'items/a/lines' },
      { Bucket: 'parts-bucket', Key: 'items/a/summary' },
    ]);
  });

  test('404 when the item does not exist', async () => {
    ddb.on(DeleteItemCommand).rejects(conditionFailed());
    ddb.on(GetItemCommand).resolves({});
    await expect(client().delete({ key: { id: 'a' } })).rejects.toThrow(new NotFoundError('item {"id":"a"} does not exist'));
    expect(s3.calls()).toHaveLength(0);
  });

  test('409 on a revision mismatch (the failed condition returns the row)', async () => {
    ddb.on(DeleteItemCommand).rejects(conditionFailed(old));
    await expect(client().delete({ key: { id: 'a' }, expectedRevision: 1 })).rejects.toThrow(
      new ConflictError('item {"id":"a"} is not at revision 1'),
    );
    expect(ddb.commandCalls(GetItemCommand)).toHaveLength(0);
    expect(s3.calls()).toHaveLength(0);
  });

  test('409 on a revision mismatch when DynamoDB does not return the row: looks it up', async () => {
    ddb.on(DeleteItemCommand).rejects(conditionFailed());
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, old) });
    await expect(client().delete({ key: { id: 'a' }, expectedRevision: 1 })).rejects.toThrow(ConflictError);
  });

  test('DynamoDB error: 503, nothing deleted in S3', async () => {
    ddb.on(DeleteItemCommand).rejects(new InternalServerError({ message: 'boom', $metadata: { httpStatusCode: 500 } }));
    await expect(client().delete({ key: { id: 'a' } })).rejects.toThrow(UnavailableError);
    expect(s3.calls()).toHaveLength(0);
  });
});
