/**
 * The fault proxy (test/support/fault-proxy.ts) in front of DynamoDB Local and the versioned
 * S3 test server, each fault observed by a real AWS SDK v3 client: what the client saw (error,
 * `$metadata.attempts`) against what the server holds. Ordering checks only, no timing.
 */
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { DynamoDbLocal, LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from '../support/dynamodb-local';
import { FaultProxy, FaultRule, ProxiedRequest, ProxyExchange } from '../support/fault-proxy';
import { waitFor } from '../support/ports';
import { VersionedS3Server } from '../support/versioned-s3-server';

/** Long enough to never elapse within a test: a held request is released by stop(), not by time. */
const FOREVER_MS = 10 * 60_000;
/** The client's own timeout, so a hung request ends; its length decides nothing. */
const CLIENT_TIMEOUT_MS = 1_000;

interface SdkError {
  readonly name: string;
  readonly message: string;
  readonly $metadata?: { readonly attempts?: number; readonly httpStatusCode?: number };
}

async function failure(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (e) {
    return e as SdkError;
  }
  throw new Error('expected the request to fail');
}

describe('fault proxy in front of DynamoDB Local', () => {
  const TABLE = 'faults';
  let ddb: DynamoDbLocal;
  let proxy: FaultProxy;
  let direct: DynamoDBClient;
  const clients: DynamoDBClient[] = [];
  let n = 0;

  /** A client through the proxy. */
  function viaProxy(options: { maxAttempts?: number; socketTimeout?: number } = {}): DynamoDBClient {
    const c = new DynamoDBClient({
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      endpoint: proxy.endpoint,
      maxAttempts: options.maxAttempts ?? 3,
      requestHandler: options.socketTimeout ? { socketTimeout: options.socketTimeout } : undefined,
    });
    clients.push(c);
    return c;
  }

  /** A fresh item key per test. */
  const freshKey = () => `item-${++n}`;
  const put = (pk: string, extra: Record<string, { N: string } | { S: string }> = {}, condition?: string) => new PutItemCommand({
    TableName: TABLE,
    Item: { pk: { S: pk }, ...extra },
    ConditionExpression: condition,
  });
  const stored = async (pk: string) =>
    (await direct.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: pk } }, ConsistentRead: true }))).Item;

  beforeAll(async () => {
    ddb = await startDynamoDbLocal();
    proxy = await FaultProxy.start({ target: ddb.endpoint, seed: 7 });
    direct = new DynamoDBClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: ddb.endpoint, maxAttempts: 1 });
    await direct.send(new CreateTableCommand({
      TableName: TABLE,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }));
  });

  afterEach(() => proxy.clear());

  afterAll(async () => {
    for (const c of clients) c.destroy();
    direct?.destroy();
    await proxy?.stop();
    await ddb?.stop();
  });

  test('forwards and logs each request: operation, ordinal, the target\'s status and the client\'s', async () => {
    const client = viaProxy();
    const pk = freshKey();
    await client.send(put(pk, { n: { N: '1' } }));
    const got = await client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: pk } } }));
    expect(got.Item).toEqual({ pk: { S: pk }, n: { N: '1' } });
    expect(proxy.requests).toEqual({ PutItem: 1, GetItem: 1 });
    expect(proxy.log.map((e) => [e.service, e.operation, e.upstreamStatus, e.status, e.outcome, e.rule])).toEqual([
      ['dynamodb', 'PutItem', 200, 200, 'answered', undefined],
      ['dynamodb', 'GetItem', 200, 200, 'answered', undefined],
    ]);
    expect(proxy.log[1].ordinal).toBeGreaterThan(proxy.log[0].ordinal);
  });

  test('applyThen500: the write is applied every time, the client sees InternalServerError after its 3 attempts', async () => {
    const client = viaProxy({ maxAttempts: 3 });
    const pk = freshKey();
    const rule = proxy.addRule({ operation: 'PutItem', fault: 'applyThen500', count: 3 });
    const error = await failure(client.send(put(pk, { n: { N: '1' } })));
    expect(error.name).toBe('InternalServerError');
    expect(error.$metadata?.httpStatusCode).toBe(500);
    expect(error.$metadata?.attempts).toBe(3);
    expect(rule.fired).toBe(3);
    expect(await stored(pk)).toEqual({ pk: { S: pk }, n: { N: '1' } });
    expect(proxy.log.map((e) => [e.operation, e.fault, e.upstreamStatus, e.status])).toEqual([
      ['PutItem', 'applyThen500', 200, 500],
      ['PutItem', 'applyThen500', 200, 500],
      ['PutItem', 'applyThen500', 200, 500],
    ]);
  });

  test('applyThen500 on a conditional create: the SDK\'s retry meets the item its first attempt created (the lost reply)', async () => {
    const client = viaProxy({ maxAttempts: 3 });
    const pk = freshKey();
    proxy.addRule({ operation: 'PutItem', fault: 'applyThen500' });
    const error = await failure(client.send(put(pk, { n: { N: '1' } }, 'attribute_not_exists(pk)')));
    expect(error.name).toBe('ConditionalCheckFailedException');
    expect(error.$metadata?.attempts).toBe(2);
    expect(await stored(pk)).toEqual({ pk: { S: pk }, n: { N: '1' } });
    expect(proxy.log.map((e) => [e.upstreamStatus, e.status])).toEqual([[200, 500], [400, 400]]);
  });

  test('applyThenReset: the client\'s retry applies an increment a second time', async () => {
    const client = viaProxy({ maxAttempts: 3 });
    const pk = freshKey();
    await direct.send(put(pk, { n: { N: '0' } }));
    proxy.addRule({ operation: 'UpdateItem', fault: 'applyThenReset' });
    const out = await client.send(new UpdateItemCommand({
      TableName: TABLE,
      Key: { pk: { S: pk } },
      UpdateExpression: 'ADD n :one',
      ExpressionAttributeValues: { ':one': { N: '1' } },
      ReturnValues: 'ALL_NEW',
    }));
    expect(out.$metadata.attempts).toBe(2);
    expect(out.Attributes?.n).toEqual({ N: '2' });
    expect(proxy.log.map((e) => [e.fault, e.upstreamStatus, e.outcome])).toEqual([
      ['applyThenReset', 200, 'reset'],
      [undefined, 200, 'answered'],
    ]);
  });

  test('applyThenHang: the write is applied, the client gives up on its own timeout', async () => {
    const client = viaProxy({ maxAttempts: 1, socketTimeout: CLIENT_TIMEOUT_MS });
    const pk = freshKey();
    proxy.addRule({ operation: 'PutItem', fault: 'applyThenHang' });
    const error = await failure(client.send(put(pk, { n: { N: '1' } })));
    expect(error.name).toBe('TimeoutError');
    expect(await stored(pk)).toEqual({ pk: { S: pk }, n: { N: '1' } });
    expect(proxy.log.map((e) => [e.fault, e.upstreamStatus, e.status, e.outcome])).toEqual([['applyThenHang', 200, undefined, 'hung']]);
  });

  test('failBeforeApply: nothing is applied; one failure is absorbed by the SDK\'s retry', async () => {
    const once = viaProxy({ maxAttempts: 1 });
    const pk = freshKey();
    proxy.addRule({ operation: 'PutItem', fault: 'failBeforeApply', error: 'unavailable' });
    const error = await failure(once.send(put(pk, { n: { N: '1' } })));
    expect(error.$metadata?.httpStatusCode).toBe(503);
    expect(await stored(pk)).toBeUndefined();
    expect(proxy.log[0].upstreamStatus).toBeUndefined();

    proxy.addRule({ operation: 'PutItem', fault: 'failBeforeApply' });
    const out = await viaProxy({ maxAttempts: 3 }).send(put(pk, { n: { N: '2' } }));
    expect(out.$metadata.attempts).toBe(2);
    expect(await stored(pk)).toEqual({ pk: { S: pk }, n: { N: '2' } });
  });

  test('failBeforeApply with throttling: a 400 ThrottlingException, which the SDK retries as throttling', async () => {
    const pk = freshKey();
    proxy.addRule({ operation: 'PutItem', fault: 'failBeforeApply', error: 'throttling' });
    const error = await failure(viaProxy({ maxAttempts: 1 }).send(put(pk)));
    expect(error.name).toBe('ThrottlingException');
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect(await stored(pk)).toBeUndefined();

    // A plain 400 is never retried; this one is, because the SDK classifies it as throttling.
    proxy.addRule({ operation: 'PutItem', fault: 'failBeforeApply', error: 'throttling' });
    const out = await viaProxy({ maxAttempts: 3 }).send(put(pk));
    expect(out.$metadata.attempts).toBe(2);
    expect(await stored(pk)).toEqual({ pk: { S: pk } });
  });

  test('resetBeforeApply: nothing is applied, the client sees a reset connection', async () => {
    const pk = freshKey();
    proxy.addRule({ operation: 'PutItem', fault: 'resetBeforeApply' });
    const error = await failure(viaProxy({ maxAttempts: 1 }).send(put(pk)));
    expect(error.message).toMatch(/ECONNRESET|socket hang up/);
    expect(await stored(pk)).toBeUndefined();
    expect(proxy.log.map((e) => [e.fault, e.upstreamStatus, e.outcome])).toEqual([['resetBeforeApply', undefined, 'reset']]);
  });

  test('rules match by predicate on the JSON body and by ordinal, and stop after their count', async () => {
    const client = viaProxy({ maxAttempts: 1 });
    const [a, b] = [freshKey(), freshKey()];
    const onlyB = (r: ProxiedRequest) => (r.json as { Item?: { pk?: { S?: string } } }).Item?.pk?.S === b;
    const third = proxy.addRule({ name: 'third write of b', operation: 'PutItem', when: onlyB, nth: 3, fault: 'failBeforeApply', count: 2 });
    const statuses: Array<string | number> = [];
    for (const pk of [a, b, a, b, b, a, b, b]) {
      try {
        await client.send(put(pk));
        statuses.push(200);
      } catch (e) {
        statuses.push(`${pk === a ? 'a' : 'b'}:${(e as SdkError).$metadata?.httpStatusCode}`);
      }
    }
    // b's requests are the 2nd, 4th, 5th, 7th and 8th: the rule fires on b's 3rd and 4th.
    expect(statuses).toEqual([200, 200, 200, 200, 'b:500', 200, 'b:500', 200]);
    expect([third.matched, third.fired]).toEqual([5, 2]);
    expect(proxy.log.filter((e) => e.rule !== undefined).map((e) => [e.ordinal, e.rule])).toEqual([[5, 'third write of b'], [7, 'third write of b']]);
  });

  test('a probability rule fires on the same requests for the same seed', async () => {
    const client = viaProxy({ maxAttempts: 1 });
    const run = async (seed: number) => {
      proxy.clear();
      proxy.reseed(seed);
      proxy.addRule({ operation: 'GetItem', fault: 'failBeforeApply', probability: 0.3 });
      const fired: number[] = [];
      for (let i = 0; i < 40; i++) {
        try {
          await client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'any' } } }));
        } catch {
          fired.push(i);
        }
      }
      return fired;
    };
    const first = await run(11);
    expect(await run(11)).toEqual(first);
    expect(await run(12)).not.toEqual(first);
    expect(first.length).toBeGreaterThan(0);
    expect(first.length).toBeLessThan(40);
    expect(proxy.injected.failBeforeApply).toBeGreaterThan(0);
  });

  /**
   * Runs `body` with a proxy of its own (its stop() drops what it holds) and a client of it
   * that does not retry.
   */
  async function withOwnProxy(body: (held: FaultProxy, client: DynamoDBClient) => Promise<void>): Promise<void> {
    const held = await FaultProxy.start({ target: ddb.endpoint });
    const client = new DynamoDBClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: held.endpoint, maxAttempts: 1 });
    try {
      await body(held, client);
    } finally {
      client.destroy();
      await held.stop();
    }
  }

  test('delay before forwarding: the target has not seen the write while the proxy holds it', () => withOwnProxy(async (held, client) => {
    const pk = freshKey();
    held.addRule({ operation: 'PutItem', fault: 'delay', delayMs: FOREVER_MS });
    const pending = failure(client.send(put(pk)));
    await waitFor(() => held.log.length === 1, { what: 'the held request' });
    expect(await stored(pk)).toBeUndefined();
    expect(held.log[0].delayMs).toBe(FOREVER_MS);
    await held.stop(); // drops the held request: never forwarded
    await pending;
    expect(await stored(pk)).toBeUndefined();
    expect(held.log[0].upstreamStatus).toBeUndefined();
  }));

  test('delay before answering: the write is applied while the client still waits', () => withOwnProxy(async (held, client) => {
    const pk = freshKey();
    held.addRule({ operation: 'PutItem', fault: 'delay', delayAfterMs: FOREVER_MS });
    let settled = false;
    const pending = failure(client.send(put(pk)).finally(() => {
      settled = true;
    }));
    await waitFor(async () => (await stored(pk)) !== undefined, { what: 'the applied write' });
    expect(settled).toBe(false);
    expect(held.log[0].upstreamStatus).toBe(200);
    await held.stop();
    await pending;
  }));

  test('onExchange sees the target\'s answer behind an injected failure', async () => {
    const exchanges: ProxyExchange[] = [];
    const off = proxy.onExchange((x) => exchanges.push(x));
    try {
      const pk = freshKey();
      await direct.send(put(pk, { n: { N: '5' } }));
      proxy.addRule({ operation: 'UpdateItem', fault: 'applyThen500' });
      await failure(viaProxy({ maxAttempts: 1 }).send(new UpdateItemCommand({
        TableName: TABLE,
        Key: { pk: { S: pk } },
        UpdateExpression: 'ADD n :one',
        ExpressionAttributeValues: { ':one': { N: '1' } },
        ReturnValues: 'ALL_NEW',
      })));
      expect(exchanges).toHaveLength(1);
      expect(exchanges[0].entry.status).toBe(500);
      expect(JSON.parse(exchanges[0].upstreamBody!.toString('utf8'))).toEqual({ Attributes: { pk: { S: pk }, n: { N: '6' } } });
      expect((exchanges[0].request.json as { Key: unknown }).Key).toEqual({ pk: { S: pk } });
    } finally {
      off();
    }
  });

  test('fails on a rule it cannot apply, naming the field', () => {
    const bad: Array<[FaultRule, string]> = [
      [{ fault: 'explode' as never }, 'fault rule #'],
      [{ fault: 'applyThen500', nth: 0 }, 'nth must be a positive integer, got 0'],
      [{ fault: 'applyThen500', count: 1.5 }, 'count must be a positive integer or Infinity, got 1.5'],
      [{ fault: 'applyThen500', probability: 0 }, 'probability must be in (0, 1], got 0'],
      [{ fault: 'failBeforeApply', error: 'teapot' as never }, 'error must be internal, unavailable or throttling, got "teapot"'],
      [{ name: 'slow', fault: 'delay' }, 'fault rule slow: delayMs must be positive (or delayAfterMs) for a delay rule'],
    ];
    for (const [rule, message] of bad) expect(() => proxy.addRule(rule)).toThrow(message);
  });
});

describe('fault proxy in front of the versioned S3 test server', () => {
  const BUCKET = 'faulty';
  let server: VersionedS3Server;
  let proxy: FaultProxy;
  const clients: S3Client[] = [];

  function viaProxy(options: { maxAttempts?: number; socketTimeout?: number } = {}): S3Client {
    const c = new S3Client({
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
      endpoint: proxy.endpoint,
      forcePathStyle: true,
      maxAttempts: options.maxAttempts ?? 3,
      requestHandler: options.socketTimeout ? { socketTimeout: options.socketTimeout } : undefined,
    });
    clients.push(c);
    return c;
  }
  const versions = (key: string) => server.versionsOf(BUCKET, key);

  beforeAll(async () => {
    server = await VersionedS3Server.start();
    proxy = await FaultProxy.start({ target: server.endpoint });
    const setup = viaProxy();
    await setup.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await setup.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
  });

  afterEach(() => proxy.clear());

  afterAll(async () => {
    for (const c of clients) c.destroy();
    await proxy?.stop();
    await server?.stop();
  });

  test('names S3 operations from method, path and query, path-style keys decoded', async () => {
    const s3 = viaProxy();
    proxy.clear();
    const key = 'items/a%2Fb/summary part';
    const putOut = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: '{}' }));
    await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, VersionId: putOut.VersionId }));
    await got.Body!.transformToString();
    await s3.send(new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: 'items/' }));
    await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'items/' }));
    await s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: key, VersionId: putOut.VersionId }] } }));
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(proxy.log.map((e) => [e.service, e.operation, e.bucket, e.key, e.versionId])).toEqual([
      ['s3', 'PutObject', BUCKET, key, undefined],
      ['s3', 'HeadObject', BUCKET, key, undefined],
      ['s3', 'GetObject', BUCKET, key, putOut.VersionId],
      ['s3', 'ListObjectVersions', BUCKET, undefined, undefined],
      ['s3', 'ListObjectsV2', BUCKET, undefined, undefined],
      ['s3', 'DeleteObjects', BUCKET, undefined, undefined],
      ['s3', 'DeleteObject', BUCKET, key, undefined],
    ]);
  });

  test('applyThen500 on PutObject: every attempt stores a version, the client sees InternalError', async () => {
    const rule = proxy.addRule({ operation: 'PutObject', fault: 'applyThen500', count: 3 });
    const error = await failure(viaProxy({ maxAttempts: 3 }).send(new PutObjectCommand({ Bucket: BUCKET, Key: 'p500', Body: 'x' })));
    expect(error.name).toBe('InternalError');
    expect(error.$metadata?.attempts).toBe(3);
    expect(rule.fired).toBe(3);
    expect(versions('p500')).toHaveLength(3);
  });

  test('applyThenReset on DeleteObject: the SDK\'s retry places a second delete marker', async () => {
    const s3 = viaProxy({ maxAttempts: 3 });
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'reset', Body: 'x' }));
    proxy.addRule({ operation: 'DeleteObject', when: (r) => r.key === 'reset', fault: 'applyThenReset' });
    const out = await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'reset' }));
    expect(out.$metadata.attempts).toBe(2);
    expect(versions('reset').map((v) => v.isDeleteMarker)).toEqual([true, true, false]);
  });

  test('applyThenHang on PutObject: the version is stored, the client times out', async () => {
    proxy.addRule({ operation: 'PutObject', fault: 'applyThenHang' });
    const error = await failure(viaProxy({ maxAttempts: 1, socketTimeout: CLIENT_TIMEOUT_MS }).send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'hang', Body: 'x' })));
    expect(error.name).toBe('TimeoutError');
    expect(versions('hang')).toHaveLength(1);
  });

  test('failBeforeApply with throttling: 503 SlowDown, nothing stored, retried by the SDK', async () => {
    proxy.addRule({ operation: 'PutObject', fault: 'failBeforeApply', error: 'throttling' });
    const error = await failure(viaProxy({ maxAttempts: 1 }).send(new PutObjectCommand({ Bucket: BUCKET, Key: 'slow', Body: 'x' })));
    expect(error.name).toBe('SlowDown');
    expect(error.$metadata?.httpStatusCode).toBe(503);
    expect(versions('slow')).toHaveLength(0);

    proxy.addRule({ operation: 'PutObject', fault: 'failBeforeApply', error: 'throttling' });
    const out = await viaProxy({ maxAttempts: 3 }).send(new PutObjectCommand({ Bucket: BUCKET, Key: 'slow', Body: 'x' }));
    expect(out.$metadata.attempts).toBe(2);
    expect(versions('slow')).toHaveLength(1);
  });

  test('failBeforeApply on HeadObject answers a bodiless 500', async () => {
    const s3 = viaProxy({ maxAttempts: 1 });
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'head', Body: 'x' }));
    proxy.addRule({ operation: 'HeadObject', fault: 'failBeforeApply' });
    const error = await failure(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'head' })));
    expect(error.$metadata?.httpStatusCode).toBe(500);
  });

  test('resetBeforeApply on PutObject: nothing stored', async () => {
    proxy.addRule({ operation: 'PutObject', fault: 'resetBeforeApply' });
    const error = await failure(viaProxy({ maxAttempts: 1 }).send(new PutObjectCommand({ Bucket: BUCKET, Key: 'rst', Body: 'x' })));
    expect(error.message).toMatch(/ECONNRESET|socket hang up/);
    expect(versions('rst')).toHaveLength(0);
  });
});
