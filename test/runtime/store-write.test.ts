/**
 * Write, update and delete of SplitStoreClient at the SDK edge, with aws-sdk-client-mock:
 * the commit sequence of protocol v2 (read the state, put the parts, commit conditionally on
 * that exact state, judge the outcome) and the failures an emulator cannot produce on demand
 * (a lost reply after the commit applied, a commit racing another writer, throttling, a
 * writer past its deadline, an S3 put failing halfway, clean-up failing).
 */
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  InternalServerError,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { encodeRow, encodeTombstone, Item } from '../../src/runtime/codec';
import { StoreConfig } from '../../src/runtime/config';
import { LogEntry, SplitStoreClient, SplitStoreClientOptions } from '../../src/runtime/store';
import {
  CommitOutcomeUnknownError,
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
  // No row unless a test says otherwise.
  ddb.on(GetItemCommand).resolves({});
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

/** A v2 row (with its commit token); without a token, a row as protocol v1 wrote it. */
function item(revision: number, parts: Record<string, PartPin> = {}, token?: string, attributes: Record<string, unknown> = {}): Item {
  return encodeRow(config, storedRow(revision, parts, attributes), token);
}

function conditionFailed(current?: Item): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 }, Item: current });
}

const lostReply = () => new InternalServerError({ message: 'reply lost', $metadata: { httpStatusCode: 500 } });

/** The item the n-th PutItem wrote, and its token. */
const committed = (n = 0) => ddb.commandCalls(PutItemCommand)[n].args[0].input;
const tokenOf = (n = 0) => committed(n).Item!._tok.S!;
const putKeys = () => s3.commandCalls(PutObjectCommand).map(c => c.args[0].input.Key + '');
/** The VersionIds the PutObject mock returned, in order of the calls (the mock numbers them). */
const writtenVersions = () => s3.commandCalls(PutObjectCommand).map((c, i) => `${c.args[0].input.Key}@v${i + 1}`).sort();
const deletes = () => s3.commandCalls(DeleteObjectCommand).map(c => c.args[0].input);
const permanentDeletes = () => deletes().filter(d => d.VersionId !== undefined && !d.VersionId.startsWith('marker-'));

describe('put: every mode reads the state first and commits on exactly that state', () => {
  test('create of a key never written: read, parts, then one PutItem conditional on absence, revision 1', async () => {
    const order: string[] = [];
    ddb.on(GetItemCommand).callsFake(async () => { order.push('GetItem'); return {}; });
    s3.on(PutObjectCommand).callsFake(async input => { order.push('PutObject'); return { VersionId: `${input.Key}@v1`, ETag: '"e"' }; });
    ddb.on(PutItemCommand).callsFake(async () => { order.push('PutItem'); return {}; });
    const row = await client().put({
      key: { id: 'a' },
      attributes: { total: 3 },
      parts: { summary: { body: '{"a":1}' } },
      create: true,
    });

    expect(order).toEqual(['GetItem', 'PutObject', 'PutItem']);
    expect(ddb.commandCalls(GetItemCommand)[0].args[0].input).toEqual({ TableName: 'Items', Key: { id: { S: 'a' } }, ConsistentRead: true });
    const input = committed();
    expect(input).toMatchObject({
      TableName: 'Items',
      ConditionExpression: 'attribute_not_exists(#pk)',
      ExpressionAttributeNames: { '#pk': 'id' },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    expect(input.ExpressionAttributeValues).toBeUndefined();
    expect(input.Item).toMatchObject({ _rev: { N: '1' }, _proto: { N: '2' }, total: { N: '3' }, id: { S: 'a' } });
    expect(tokenOf()).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(row).toMatchObject({ revision: 1, created: true, attributes: { id: 'a', total: 3 } });
    expect(row.parts.summary).toEqual({ versionId: 'items/a/summary@v1', etag: '"e"', size: 7, contentType: 'application/json' });
    expect(deletes()).toEqual([]);
  });

  test('create over a tombstone: conditional on the tombstone\'s token, the revision continues', async () => {
    ddb.on(GetItemCommand).resolves({ Item: encodeTombstone(config, { id: 'a' }, 6, 'tomb') });
    ddb.on(PutItemCommand).resolves({});
    const row = await client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, create: true });
    expect(committed()).toMatchObject({
      ConditionExpression: '#tok = :state_tok',
      ExpressionAttributeNames: { '#tok': '_tok' },
      ExpressionAttributeValues: { ':state_tok': { S: 'tomb' } },
    });
    expect(committed().Item!._rev).toEqual({ N: '7' });
    expect(row).toMatchObject({ revision: 7, created: true });
  });

  test('create when the item exists: 409 before anything is put', async () => {
    ddb.on(GetItemCommand).resolves({ Item: item(2, {}, 't2') });
    await expect(client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, create: true })).rejects.toThrow(
      new ConflictError('item {"id":"a"} already exists (create)'),
    );
    expect(s3.calls()).toHaveLength(0);
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(0);
  });

  test('expectedRevision: the live row must be at it; the commit conditions on its token; revision + 1', async () => {
    ddb.on(GetItemCommand).resolves({ Item: item(4, { summary: pin('s-4') }, 't4') });
    ddb.on(PutItemCommand).resolves({});
    const row = await client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, expectedRevision: 4 });
    expect(committed()).toMatchObject({ ConditionExpression: '#tok = :state_tok', ExpressionAttributeValues: { ':state_tok': { S: 't4' } } });
    expect(committed().Item!._rev).toEqual({ N: '5' });
    expect(row).toMatchObject({ revision: 5, created: false });
    // The replaced part needs nothing: its new version is above the old one.
    expect(deletes()).toEqual([]);
  });

  test.each<[string, Item | undefined]>([
    ['a row at another revision', item(5, {}, 't5')],
    ['a tombstone at that revision', encodeTombstone(config, { id: 'a' }, 4, 'tomb')],
    ['no row', undefined],
  ])('expectedRevision against %s: 409 before anything is put', async (_name, stored) => {
    ddb.on(GetItemCommand).resolves({ Item: stored });
    await expect(client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, expectedRevision: 4 })).rejects.toThrow(
      new ConflictError('item {"id":"a"} is not at revision 4 (or does not exist)'),
    );
    expect(s3.calls()).toHaveLength(0);
  });

  test('unconditional over a v1 row: the v1 condition, and the row becomes v2', async () => {
    ddb.on(GetItemCommand).resolvesOnce({ Item: item(7, { old: pin('o-7') }) }).callsFake(() => ({ Item: committed().Item }));
    ddb.on(PutItemCommand).resolves({});
    const row = await client().put({ key: { id: 'a' }, attributes: { x: 1 }, parts: { summary: { body: '{}' } } });
    expect(committed()).toMatchObject({
      ConditionExpression: '#rev = :state_rev AND attribute_not_exists(#tok) AND attribute_not_exists(#proto)',
      ExpressionAttributeNames: { '#tok': '_tok', '#rev': '_rev', '#proto': '_proto' },
      ExpressionAttributeValues: { ':state_rev': { N: '7' } },
    });
    expect(committed().Item).toMatchObject({ _rev: { N: '8' }, _proto: { N: '2' }, x: { N: '1' } });
    expect(row).toMatchObject({ revision: 8, created: false });
    // The part the v1 row pinned and this put does not name is retired with a delete marker.
    expect(deletes()).toEqual([{ Bucket: 'parts-bucket', Key: 'items/a/old' }]);
  });

  test('unconditional, another writer commits first: compensated, then again from the read with new versions', async () => {
    ddb.on(GetItemCommand)
      .resolvesOnce({ Item: item(1, {}, 't1') })
      .resolves({ Item: item(2, {}, 't2') });
    ddb.on(PutItemCommand).rejectsOnce(conditionFailed(item(2, {}, 't2'))).resolves({});
    const row = await client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } } });
    expect(row.revision).toBe(3);
    expect(writtenVersions()).toEqual(['items/a/summary@v1', 'items/a/summary@v2']);
    expect(permanentDeletes()).toEqual([{ Bucket: 'parts-bucket', Key: 'items/a/summary', VersionId: 'items/a/summary@v1' }]);
    expect(row.parts.summary.versionId).toBe('items/a/summary@v2');
    expect(committed(1).ExpressionAttributeValues).toEqual({ ':state_tok': { S: 't2' } });
    // A fresh token for the new commit.
    expect(tokenOf(1)).not.toBe(tokenOf(0));
  });

  test('unconditional: gives up with 409 after 3 rounds, every round compensated', async () => {
    ddb.on(PutItemCommand).rejects(conditionFailed(item(9, {}, 'other')));
    await expect(client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } } })).rejects.toThrow(
      new ConflictError('item {"id":"a"} kept changing during an unconditional put (3 attempts)'),
    );
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(3);
    expect(ddb.commandCalls(GetItemCommand)).toHaveLength(3);
    expect(permanentDeletes().map(d => d.VersionId)).toEqual(writtenVersions());
    expect(writtenVersions()).toHaveLength(3);
  });

  test('a row of a later protocol version is refused before anything is put', async () => {
    ddb.on(GetItemCommand).resolves({ Item: { ...item(3, {}, 't3'), _proto: { N: '3' } } });
    await expect(client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } } })).rejects.toMatchObject({ code: 'UnsupportedRow', statusCode: 500 });
    expect(s3.calls()).toHaveLength(0);
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(0);
  });

  test('a v1 row with an attribute v2 reserves is refused, never silently overwritten', async () => {
    ddb.on(GetItemCommand).resolves({ Item: { ...item(3), _tok: { S: 'an application value' } } });
    await expect(client().put({ key: { id: 'a' } })).rejects.toThrow(/has attribute _tok, which protocol v2 reserves/);
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(0);
  });
});

describe('the commit\'s outcome: lost replies, races, refusals (docs/PROTOCOL.md section 5)', () => {
  const conditional = { key: { id: 'a' }, parts: { summary: { body: '{}' } }, expectedRevision: 4 };
  beforeEach(() => {
    ddb.on(GetItemCommand).resolves({ Item: item(4, { summary: pin('s-4') }, 't4') });
  });

  test('the reply is lost after the commit applied: the same commit is sent again, its failed condition returns OUR row: 2xx', async () => {
    ddb.on(PutItemCommand)
      .rejectsOnce(lostReply())
      .callsFake(input => { throw conditionFailed(input.Item); }); // our first attempt applied: the row carries our token
    const row = await client().put(conditional);
    expect(row).toMatchObject({ revision: 5, created: false });
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(2);
    // The same commit: same token, same condition.
    expect(committed(1)).toEqual(committed(0));
    expect(deletes()).toEqual([]);
  });

  test('ambiguous, then another writer\'s row one revision on: ours never landed (proven): compensated, 409', async () => {
    ddb.on(PutItemCommand).rejectsOnce(lostReply()).rejects(conditionFailed(item(5, {}, 'other')));
    const error = await client().put(conditional).catch(e => e);
    expect(error).toEqual(new ConflictError('item {"id":"a"} is not at revision 4 (or does not exist)'));
    expect(permanentDeletes()).toEqual([{ Bucket: 'parts-bucket', Key: 'items/a/summary', VersionId: 'items/a/summary@v1' }]);
  });

  test('ambiguous, then a row two revisions on: unknown: 503 CommitOutcomeUnknown and NOTHING deleted', async () => {
    ddb.on(PutItemCommand).rejectsOnce(lostReply()).rejects(conditionFailed(item(6, {}, 'other')));
    const error = await client().put(conditional).catch(e => e);
    expect(error).toBeInstanceOf(CommitOutcomeUnknownError);
    expect(error).toMatchObject({ statusCode: 503, code: 'CommitOutcomeUnknown' });
    expect(deletes()).toEqual([]);
    expect(logs).toContainEqual(expect.objectContaining({
      level: 'error',
      versions: [{ part: 'summary', s3Key: 'items/a/summary', versionId: 'items/a/summary@v1' }],
    }));
  });

  test('every attempt ambiguous, then the row read carries our token: landed', async () => {
    ddb.on(PutItemCommand).rejects(lostReply());
    ddb.on(GetItemCommand)
      .resolvesOnce({ Item: item(4, { summary: pin('s-4') }, 't4') })
      .callsFake(() => ({ Item: committed().Item }));
    const row = await client().put(conditional);
    expect(row.revision).toBe(5);
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(4);
    expect(new Set(ddb.commandCalls(PutItemCommand).map(c => c.args[0].input.Item!._tok.S))).toEqual(new Set([tokenOf()]));
    expect(deletes()).toEqual([]);
  });

  test('every attempt ambiguous and the row is still the state read: unknown (an attempt may still land), nothing deleted', async () => {
    ddb.on(PutItemCommand).rejects(lostReply());
    await expect(client().put(conditional)).rejects.toBeInstanceOf(CommitOutcomeUnknownError);
    expect(deletes()).toEqual([]);
  });

  test('every attempt ambiguous and the row cannot be read: unknown, nothing deleted', async () => {
    ddb.on(PutItemCommand).rejects(lostReply());
    ddb.on(GetItemCommand).resolvesOnce({ Item: item(4, { summary: pin('s-4') }, 't4') }).rejects(lostReply());
    await expect(client().put(conditional)).rejects.toBeInstanceOf(CommitOutcomeUnknownError);
    expect(deletes()).toEqual([]);
  });

  test('throttled, then applied: the same commit is sent again', async () => {
    ddb.on(PutItemCommand)
      .rejectsOnce(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: { httpStatusCode: 400 } }))
      .resolves({});
    const row = await client().put(conditional);
    expect(row.revision).toBe(5);
    expect(committed(1)).toEqual(committed(0));
  });

  test('throttled on every attempt: nothing ambiguous, so not landed (proven): compensated, 503 without AWS\'s text', async () => {
    ddb.on(PutItemCommand).rejects(new ProvisionedThroughputExceededException({ message: 'arn:aws:dynamodb:secret', $metadata: { httpStatusCode: 400 } }));
    const error = await client().put(conditional).catch(e => e);
    expect(error).toEqual(new UnavailableError(
      'DynamoDB refused the put\'s commit: nothing was committed; retry with backoff (the function log has the details)',
    ));
    expect(error.cause).toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(4);
    expect(permanentDeletes()).toHaveLength(1);
  });

  test('DynamoDB ValidationException on the commit: compensated, 400', async () => {
    ddb.on(PutItemCommand).rejects(Object.assign(new Error('Item size has exceeded the maximum allowed size'), {
      name: 'ValidationException', $metadata: { httpStatusCode: 400 },
    }));
    const error = await client().put(conditional).catch(e => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(/DynamoDB refused the put's commit as invalid/);
    expect(permanentDeletes()).toHaveLength(1);
  });

  test('ambiguous, then a definite refusal: the row decides (here: ours)', async () => {
    ddb.on(PutItemCommand)
      .rejectsOnce(lostReply())
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }));
    ddb.on(GetItemCommand)
      .resolvesOnce({ Item: item(4, { summary: pin('s-4') }, 't4') })
      .callsFake(() => ({ Item: committed().Item }));
    await expect(client().put(conditional)).resolves.toMatchObject({ revision: 5 });
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(2);
    expect(deletes()).toEqual([]);
  });

  test('no new attempt past the writer deadline: an ambiguous attempt is then settled by reading the row', async () => {
    ddb.on(PutItemCommand).callsFake(() => {
      clock += 20_001;
      throw lostReply();
    });
    ddb.on(GetItemCommand)
      .resolvesOnce({ Item: item(4, { summary: pin('s-4') }, 't4') })
      .resolves({ Item: item(5, {}, 'other') });
    await expect(client().put(conditional)).rejects.toThrow(ConflictError);
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(1);
  });

  test('unconditional put whose reply was lost: landed, and the parts of the row it replaced are retired', async () => {
    ddb.on(GetItemCommand).resolvesOnce({ Item: item(1, { old: pin('o-1') }, 't1') }).callsFake(() => ({ Item: committed().Item }));
    ddb.on(PutItemCommand).rejectsOnce(lostReply()).callsFake(input => { throw conditionFailed(input.Item); });
    const row = await client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } } });
    expect(row.revision).toBe(2);
    expect(deletes()).toEqual([{ Bucket: 'parts-bucket', Key: 'items/a/old' }]);
  });
});

describe('before the commit', () => {
  test('writer past its deadline: compensates and sends no commit', async () => {
    s3.on(PutObjectCommand).callsFake(input => {
      clock += 20_001; // the S3 put took longer than the whole writer deadline
      return { VersionId: `${input.Key}@slow`, ETag: '"e"' };
    });
    const error = await client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, create: true }).catch(e => e);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error.statusCode).toBe(503);
    expect(error.message).toMatch(/ran 20001 ms, past the writer deadline of 20000 ms/);
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(0);
    expect(deletes()).toEqual([{ Bucket: 'parts-bucket', Key: 'items/a/summary', VersionId: 'items/a/summary@slow' }]);
  });

  test('a writer exactly at its deadline still commits', async () => {
    s3.on(PutObjectCommand).callsFake(input => {
      clock += 20_000;
      return { VersionId: `${input.Key}@v`, ETag: '"e"' };
    });
    ddb.on(PutItemCommand).resolves({});
    await expect(client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, create: true })).resolves.toMatchObject({ revision: 1 });
  });

  test('one PutObject fails (after its retries): the others are compensated, nothing is committed, 503', async () => {
    s3.on(PutObjectCommand, { Key: 'items/a/lines' }).rejects(
      new S3ServiceException({ name: 'SlowDown', $fault: 'server', message: 'Please reduce your request rate.', $metadata: { httpStatusCode: 503 } }),
    );
    const error = await client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' }, lines: { body: '[]' } }, create: true }).catch(e => e);
    expect(error).toEqual(new UnavailableError(
      'S3 PutObject of the put failed: nothing was committed; retry with backoff (the function log has the details)',
    ));
    expect(error.cause).toMatchObject({ name: 'SlowDown' });
    expect(s3.commandCalls(PutObjectCommand).filter(c => c.args[0].input.Key === 'items/a/lines')).toHaveLength(3);
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(0);
    expect(deletes()).toEqual([{ Bucket: 'parts-bucket', Key: 'items/a/summary', VersionId: expect.stringMatching(/^items\/a\/summary@v\d$/) }]);
  });

  test('the read fails: 503, nothing put', async () => {
    ddb.on(GetItemCommand).rejects(lostReply());
    const error = await client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } } }).catch(e => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error.message).toBe('read of {"id":"a"} before the put failed: nothing was committed; retry with backoff (the function log has the details)');
    expect(error.cause).toMatchObject({ name: 'InternalServerError' });
    expect(ddb.commandCalls(GetItemCommand)).toHaveLength(3);
    expect(s3.calls()).toHaveLength(0);
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

  test('the caller\'s time is already up: nothing is sent', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, signal: controller.signal })).rejects.toMatchObject({ statusCode: 503 });
    expect(s3.calls()).toHaveLength(0);
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(0);
  });
});

describe('clean-up', () => {
  test('compensation retries each delete', async () => {
    ddb.on(PutItemCommand).rejects(conditionFailed(item(1, {}, 'other')));
    s3.on(DeleteObjectCommand)
      .rejectsOnce(new Error('network'))
      .rejectsOnce(new Error('network'))
      .resolves({});
    await expect(client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, create: true })).rejects.toThrow(ConflictError);
    expect(deletes()).toHaveLength(3);
    expect(new Set(deletes().map(d => d.VersionId))).toEqual(new Set(['items/a/summary@v1']));
  });

  test('compensation that keeps failing is logged, and the answer is 503 (not 409: a version is left current)', async () => {
    ddb.on(PutItemCommand).rejects(conditionFailed(item(1, {}, 'other')));
    s3.on(DeleteObjectCommand).rejects(new Error('network'));
    const error = await client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, create: true }).catch(e => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error.message).toMatch(/was not committed \(another write came first\)/);
    expect(deletes()).toHaveLength(3);
    expect(logs).toContainEqual(expect.objectContaining({
      level: 'error',
      msg: 'compensation failed: the reconciler will remove this never-committed version',
      s3Key: 'items/a/summary',
      versionId: 'items/a/summary@v1',
    }));
  });

  test('an upload whose first attempt may have stored a version (500, retried): not committed is 503, not 409', async () => {
    // The first attempt's version, if S3 stored it, is one whose id the writer never got:
    // compensation cannot remove it, so the writer cannot promise that none of its versions is current.
    s3.on(PutObjectCommand)
      .rejectsOnce(new S3ServiceException({ name: 'InternalError', $fault: 'server', message: 'x', $metadata: { httpStatusCode: 500 } }))
      .callsFake(input => ({ VersionId: `${input.Key}@v2`, ETag: '"e"' }));
    ddb.on(PutItemCommand).rejects(conditionFailed(item(1, {}, 'other')));
    const error = await client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, create: true }).catch(e => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error.message).toMatch(/may still be current until the reconciler removes it/);
    expect(permanentDeletes()).toEqual([{ Bucket: 'parts-bucket', Key: 'items/a/summary', VersionId: 'items/a/summary@v2' }]);
  });

  test('parts the replaced row pinned and the put does not name get a delete marker after the commit', async () => {
    ddb.on(GetItemCommand)
      .resolvesOnce({ Item: item(3, { summary: pin('s-old'), attachments: pin('att-old') }, 't3') })
      .resolves({ Item: item(4, { summary: pin('items/a/summary@v1') }, 'mine') });
    ddb.on(PutItemCommand).resolves({});
    await client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, expectedRevision: 3 });
    expect(deletes()).toEqual([{ Bucket: 'parts-bucket', Key: 'items/a/attachments' }]);
  });

  test('a removed part that another writer pinned again meanwhile: our delete marker is removed', async () => {
    ddb.on(GetItemCommand)
      .resolvesOnce({ Item: item(3, { attachments: pin('att-old') }, 't3') })
      .resolves({ Item: item(5, { attachments: pin('att-new') }, 'other') });
    ddb.on(PutItemCommand).resolves({});
    await client().put({ key: { id: 'a' }, expectedRevision: 3 });
    expect(deletes()).toEqual([
      { Bucket: 'parts-bucket', Key: 'items/a/attachments' },
      { Bucket: 'parts-bucket', Key: 'items/a/attachments', VersionId: 'marker-items/a/attachments' },
    ]);
  });

  test('a removed part whose delete marker keeps failing is logged; the committed write still succeeds', async () => {
    ddb.on(GetItemCommand).resolves({ Item: item(1, { old: pin('o-1') }, 't1') });
    ddb.on(PutItemCommand).resolves({});
    s3.on(DeleteObjectCommand).rejects(new Error('network'));
    const row = await client().put({ key: { id: 'a' }, expectedRevision: 1 });
    expect(row.revision).toBe(2);
    expect(deletes()).toHaveLength(3);
    expect(logs).toContainEqual(expect.objectContaining({ level: 'warn', s3Key: 'items/a/old' }));
    // No marker was placed, so there is nothing to re-check.
    expect(ddb.commandCalls(GetItemCommand)).toHaveLength(1);
  });
});

describe('validation: bad input writes nothing', () => {
  test.each([
    ['an invalid part name', { key: { id: 'a' }, parts: { Bad: { body: 'x' } } }, /invalid part name "Bad"/],
    ['a reserved attribute', { key: { id: 'a' }, attributes: { _rev: 9 } }, /attribute name "_rev" is reserved/],
    ['the reserved token attribute', { key: { id: 'a' }, attributes: { _tok: 'x' } }, /attribute name "_tok" is reserved/],
    ['the reserved tombstone attribute', { key: { id: 'a' }, attributes: { _del: true } }, /attribute name "_del" is reserved/],
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

  test.each([
    ['a zero timeout', { dynamodbTimeoutMs: 0 }, /dynamodbTimeoutMs must be a whole number of milliseconds from 1 to 20000, got 0/],
    ['a timeout past the commit margin', { s3TimeoutMs: 30_000 }, /s3TimeoutMs must be a whole number of milliseconds from 1 to 20000, got 30000/],
  ])('the client refuses %s', (_what, options, message) => {
    expect(() => client(options)).toThrow(message);
  });
});

describe('updateParts', () => {
  const current = () => item(4, { summary: pin('s-4'), lines: pin('l-4'), notes: pin('n-4') }, 't4', { total: 1 });

  test('keeps untouched pins: one UpdateItem conditional on the token read, a new token, revision + 1', async () => {
    const updated = item(5, { summary: pin('items/a/summary@v1'), lines: pin('l-4') }, 'mine', { total: 2 });
    ddb.on(GetItemCommand).resolvesOnce({ Item: current() }).resolves({ Item: updated });
    ddb.on(UpdateItemCommand).resolves({ Attributes: updated });
    const row = await client().updateParts({
      key: { id: 'a' },
      parts: { summary: { body: '{}' } },
      removeParts: ['notes', 'never-existed'],
      attributes: { total: 2 },
    });
    expect(row).toEqual(storedRow(5, { summary: pin('items/a/summary@v1'), lines: pin('l-4') }, { total: 2 }));
    const input = ddb.commandCalls(UpdateItemCommand)[0].args[0].input;
    expect(input.ConditionExpression).toBe('#tok = :state_tok');
    expect(input.UpdateExpression).toBe('SET #rev = :rev, #tok = :tok, #proto = :proto, #a0 = :a0, #parts.#p0 = :p0 REMOVE #parts.#r0');
    expect(input.ExpressionAttributeNames).toEqual({
      '#rev': '_rev', '#tok': '_tok', '#proto': '_proto', '#parts': '_parts', '#a0': 'total', '#p0': 'summary', '#r0': 'notes',
    });
    expect(input.ExpressionAttributeValues).toMatchObject({
      ':state_tok': { S: 't4' }, ':rev': { N: '5' }, ':proto': { N: '2' }, ':tok': { S: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) },
    });
    expect(input.ExpressionAttributeValues![':p0'].M!.v).toEqual({ S: 'items/a/summary@v1' });
    expect(input).toMatchObject({ ReturnValues: 'ALL_NEW', ReturnValuesOnConditionCheckFailure: 'ALL_OLD', Key: { id: { S: 'a' } } });
    expect(putKeys()).toEqual(['items/a/summary']);
    expect(deletes()).toEqual([{ Bucket: 'parts-bucket', Key: 'items/a/notes' }]);
  });

  test('over a v1 row: the v1 condition, and the row becomes v2', async () => {
    ddb.on(GetItemCommand).resolves({ Item: item(4, { summary: pin('s-4') }) });
    ddb.on(UpdateItemCommand).callsFake(input => ({ Attributes: item(5, { summary: pin('s-4') }, input.ExpressionAttributeValues[':tok'].S, { x: 1 }) }));
    await client().updateParts({ key: { id: 'a' }, attributes: { x: 1 } });
    const input = ddb.commandCalls(UpdateItemCommand)[0].args[0].input;
    expect(input.ConditionExpression).toBe('#rev = :state_rev AND attribute_not_exists(#tok) AND attribute_not_exists(#proto)');
    expect(input.UpdateExpression).toBe('SET #rev = :rev, #tok = :tok, #proto = :proto, #a0 = :a0');
    expect(input.ExpressionAttributeValues).toMatchObject({ ':state_rev': { N: '4' }, ':rev': { N: '5' } });
  });

  test.each<[string, Item | undefined]>([
    ['no row', undefined],
    ['a tombstone', encodeTombstone(config, { id: 'a' }, 5, 'tomb')],
  ])('404 on %s, nothing written', async (_name, stored) => {
    ddb.on(GetItemCommand).resolves({ Item: stored });
    await expect(client().updateParts({ key: { id: 'a' }, parts: { summary: { body: '{}' } } })).rejects.toThrow(NotFoundError);
    expect(s3.calls()).toHaveLength(0);
  });

  test('409 before writing anything when expectedRevision is already stale', async () => {
    ddb.on(GetItemCommand).resolves({ Item: current() });
    await expect(client().updateParts({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, expectedRevision: 3 }))
      .rejects.toThrow(new ConflictError('item {"id":"a"} is at revision 4, not 3'));
    expect(s3.calls()).toHaveLength(0);
  });

  test('in flight across a delete and re-create: the condition fails on the new generation: compensated, 409', async () => {
    ddb.on(GetItemCommand).resolves({ Item: current() });
    // Meanwhile: delete (tombstone at 5), create again (6).
    ddb.on(UpdateItemCommand).rejects(conditionFailed(item(6, {}, 'new-generation')));
    await expect(client().updateParts({ key: { id: 'a' }, parts: { summary: { body: '{}' }, lines: { body: '[]' } } }))
      .rejects.toThrow(new ConflictError('item {"id":"a"} changed (or was deleted) since revision 4; re-read and retry'));
    expect(permanentDeletes().map(d => d.VersionId).sort()).toEqual(writtenVersions());
  });

  test('lost reply: the failed condition returns our row: 2xx with that row, removed parts retired', async () => {
    let ours: Item | undefined;
    ddb.on(GetItemCommand).resolvesOnce({ Item: current() }).callsFake(() => ({ Item: ours }));
    ddb.on(UpdateItemCommand)
      .callsFakeOnce(input => {
        ours = item(5, { summary: pin('items/a/summary@v1'), lines: pin('l-4') }, input.ExpressionAttributeValues[':tok'].S);
        throw lostReply();
      })
      .callsFake(() => { throw conditionFailed(ours); });
    const row = await client().updateParts({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, removeParts: ['notes'] });
    expect(row.revision).toBe(5);
    expect(row.parts.summary.versionId).toBe('items/a/summary@v1');
    expect(deletes()).toEqual([{ Bucket: 'parts-bucket', Key: 'items/a/notes' }]);
  });

  test('past the deadline: compensates, no UpdateItem', async () => {
    ddb.on(GetItemCommand).resolves({ Item: current() });
    s3.on(PutObjectCommand).callsFake(input => {
      clock += 30_000;
      return { VersionId: `${input.Key}@late`, ETag: '"e"' };
    });
    await expect(client().updateParts({ key: { id: 'a' }, parts: { summary: { body: '{}' } } })).rejects.toThrow(DeadlineExceededError);
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(0);
    expect(deletes()).toEqual([{ Bucket: 'parts-bucket', Key: 'items/a/summary', VersionId: 'items/a/summary@late' }]);
  });

  test('key attributes in attributes are checked but never SET; #parts only when pins change', async () => {
    ddb.on(GetItemCommand).resolves({ Item: current() });
    ddb.on(UpdateItemCommand).resolves({ Attributes: item(5, {}, 'x') });
    await client().updateParts({ key: { id: 'a' }, attributes: { id: 'a', x: 1 } });
    const input = ddb.commandCalls(UpdateItemCommand)[0].args[0].input;
    expect(input.UpdateExpression).toBe('SET #rev = :rev, #tok = :tok, #proto = :proto, #a0 = :a0');
    expect(input.ExpressionAttributeNames).toEqual({ '#rev': '_rev', '#tok': '_tok', '#proto': '_proto', '#a0': 'x' });
  });
});

describe('delete', () => {
  const old = () => item(2, { summary: pin('s-2'), lines: pin('l-2') }, 't2');

  test('a tombstone replaces the row, conditional on the token read; then a delete marker per part', async () => {
    ddb.on(GetItemCommand).resolvesOnce({ Item: old() }).resolves({});
    ddb.on(PutItemCommand).resolves({});
    const deleted = await client().delete({ key: { id: 'a' }, expectedRevision: 2 });
    expect(deleted).toEqual(storedRow(2, { summary: pin('s-2'), lines: pin('l-2') }));
    expect(committed()).toEqual({
      TableName: 'Items',
      Item: { id: { S: 'a' }, _rev: { N: '3' }, _tok: { S: tokenOf() }, _proto: { N: '2' }, _del: { BOOL: true } },
      ConditionExpression: '#tok = :state_tok',
      ExpressionAttributeNames: { '#tok': '_tok' },
      ExpressionAttributeValues: { ':state_tok': { S: 't2' } },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    // Delete markers (no VersionId): the pinned versions become noncurrent and stay for the retention window.
    expect(deletes().sort((x, y) => `${x.Key}`.localeCompare(`${y.Key}`))).toEqual([
      { Bucket: 'parts-bucket', Key: 'items/a/lines' },
      { Bucket: 'parts-bucket', Key: 'items/a/summary' },
    ]);
  });

  test.each<[string, Item | undefined]>([
    ['no row', undefined],
    ['a tombstone (already deleted)', encodeTombstone(config, { id: 'a' }, 3, 'tomb')],
  ])('404 on %s', async (_name, stored) => {
    ddb.on(GetItemCommand).resolves({ Item: stored });
    await expect(client().delete({ key: { id: 'a' } })).rejects.toThrow(new NotFoundError('item {"id":"a"} does not exist'));
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(0);
    expect(s3.calls()).toHaveLength(0);
  });

  test('409 on a revision mismatch, nothing written', async () => {
    ddb.on(GetItemCommand).resolves({ Item: old() });
    await expect(client().delete({ key: { id: 'a' }, expectedRevision: 1 })).rejects.toThrow(
      new ConflictError('item {"id":"a"} is not at revision 1'),
    );
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(0);
    expect(s3.calls()).toHaveLength(0);
  });

  test('lost reply: our tombstone comes back from the failed condition: 200, parts retired', async () => {
    ddb.on(GetItemCommand).resolvesOnce({ Item: old() }).resolves({});
    ddb.on(PutItemCommand).rejectsOnce(lostReply()).callsFake(input => { throw conditionFailed(input.Item); });
    await expect(client().delete({ key: { id: 'a' }, expectedRevision: 2 })).resolves.toMatchObject({ revision: 2 });
    expect(deletes()).toHaveLength(2);
    expect(deletes().every(d => d.VersionId === undefined)).toBe(true);
  });

  test('unconditional delete raced by another delete: again from the read, which finds the tombstone: 404', async () => {
    ddb.on(GetItemCommand).resolvesOnce({ Item: old() }).resolves({ Item: encodeTombstone(config, { id: 'a' }, 3, 'theirs') });
    ddb.on(PutItemCommand).rejects(conditionFailed(encodeTombstone(config, { id: 'a' }, 3, 'theirs')));
    await expect(client().delete({ key: { id: 'a' } })).rejects.toThrow(NotFoundError);
    expect(s3.calls()).toHaveLength(0);
  });

  test('the commit is ambiguous and unknown: 503, no part retired', async () => {
    ddb.on(GetItemCommand).resolves({ Item: old() });
    ddb.on(PutItemCommand).rejects(lostReply());
    await expect(client().delete({ key: { id: 'a' } })).rejects.toBeInstanceOf(CommitOutcomeUnknownError);
    expect(s3.calls()).toHaveLength(0);
  });
});

describe('part names that are also names of Object.prototype', () => {
  test('a part named "constructor" is retired when a put drops it', async () => {
    ddb.on(GetItemCommand).resolvesOnce({ Item: item(1, { constructor: pin('c-1'), summary: pin('s-1') }, 't1') }).callsFake(() => ({ Item: committed().Item }));
    ddb.on(PutItemCommand).resolves({});
    await client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, expectedRevision: 1 });
    expect(deletes()).toEqual([{ Bucket: 'parts-bucket', Key: 'items/a/constructor' }]);
  });

  test('a removed part named "constructor" keeps its delete marker when the re-check finds a tombstone', async () => {
    // The row is deleted between our commit and the re-check: a tombstone pins nothing, so the
    // marker must stay (removing it would make the retired version current again).
    ddb.on(GetItemCommand)
      .resolvesOnce({ Item: item(1, { constructor: pin('c-1') }, 't1') })
      .resolves({ Item: encodeTombstone(config, { id: 'a' }, 3, 'other') });
    ddb.on(PutItemCommand).resolves({});
    await client().put({ key: { id: 'a' }, expectedRevision: 1 });
    expect(deletes()).toEqual([{ Bucket: 'parts-bucket', Key: 'items/a/constructor' }]);
  });
});
