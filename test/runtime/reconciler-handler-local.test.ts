/**
 * The reconciler handler over the real SplitStoreClient, against DynamoDB Local and the
 * versioned S3 test server: S3 notifications (keys encoded the way S3 encodes them) repair
 * what a crashed writer left behind.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadObjectCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { SQSEvent } from 'aws-lambda';
import type { StoreConfig } from '../../src/runtime/config';
import { partKey } from '../../src/runtime/keys';
import { createReconcilerHandler } from '../../src/runtime/reconciler-handler';
import { SplitStoreClient } from '../../src/runtime/store';
import { DynamoDbLocal, LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from '../support/dynamodb-local';
import { VersionedS3Server } from '../support/versioned-s3-server';

const CONFIG: StoreConfig = {
  tableName: 'invoices',
  bucketName: 'invoice-parts',
  keyPrefix: 'items/',
  partitionKey: { name: 'id', type: 'S' },
  indexes: [],
  writerDeadlineMs: 20_000,
};

/** How S3 writes an object key into an event notification: URL form encoding. */
function s3EventKey(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
}

function sqsEvent(objects: Array<{ key: string; versionId: string }>): SQSEvent {
  return {
    Records: objects.map((o, i) => ({
      messageId: `m${i}`,
      body: JSON.stringify({
        Records: [{
          eventName: 'ObjectCreated:Put',
          s3: { bucket: { name: CONFIG.bucketName }, object: { key: s3EventKey(o.key), versionId: o.versionId } },
        }],
      }),
    })) as SQSEvent['Records'],
  };
}

describe('reconciler handler over the store, against local emulators', () => {
  let ddb: DynamoDbLocal;
  let s3server: VersionedS3Server;
  let dynamodb: DynamoDBClient;
  let s3: S3Client;
  let store: SplitStoreClient;
  const logs: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    [ddb, s3server] = await Promise.all([startDynamoDbLocal(), VersionedS3Server.start()]);
    dynamodb = new DynamoDBClient({ region: LOCAL_REGION, endpoint: ddb.endpoint, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
    s3 = new S3Client({ region: LOCAL_REGION, endpoint: s3server.endpoint, credentials: LOCAL_CREDENTIALS, forcePathStyle: true, maxAttempts: 1 });
    await dynamodb.send(new CreateTableCommand({
      TableName: CONFIG.tableName,
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }));
    await s3.send(new CreateBucketCommand({ Bucket: CONFIG.bucketName }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: CONFIG.bucketName, VersioningConfiguration: { Status: 'Enabled' } }));
    store = new SplitStoreClient({ config: CONFIG, dynamodb, s3, log: () => undefined });
  });

  afterAll(async () => {
    dynamodb?.destroy();
    s3?.destroy();
    await s3server?.stop();
    await ddb?.stop();
  });

  async function currentVersion(key: string): Promise<string | undefined> {
    return (await s3.send(new HeadObjectCommand({ Bucket: CONFIG.bucketName, Key: key }))).VersionId;
  }

  test("a crashed writer's version is deleted and the pinned one is current again; pinned versions stay", async () => {
    // An item whose key needs encoding twice: once by the protocol, once by S3's notification.
    const row = await store.put({ key: { id: 'inv 1/ü' }, parts: { summary: { body: '{"rev":1}' } }, create: true });
    const key = partKey(CONFIG, { id: 'inv 1/ü' }, 'summary');
    const pinned = row.parts.summary.versionId;
    // A writer that crashed between its PutObject and its commit.
    const orphan = (await s3.send(new PutObjectCommand({ Bucket: CONFIG.bucketName, Key: key, Body: '{"rev":2}' }))).VersionId!;
    expect(await currentVersion(key)).toBe(orphan);

    const handler = createReconcilerHandler(store, { log: (e) => logs.push(e) });
    const result = await handler(sqsEvent([{ key, versionId: pinned }, { key, versionId: orphan }]));

    expect(result).toEqual({ batchItemFailures: [] });
    expect(logs.filter((l) => l.msg === 'reconciled').map((l) => [l.key, l.outcome])).toEqual([
      [key, 'pinned'],
      [key, 'deleted-unpinned'],
    ]);
    expect(await currentVersion(key)).toBe(pinned);
  });

  test('an object without a row is an orphan and is deleted', async () => {
    const key = partKey(CONFIG, { id: 'never-committed' }, 'lines');
    const versionId = (await s3.send(new PutObjectCommand({ Bucket: CONFIG.bucketName, Key: key, Body: '[]' }))).VersionId!;
    logs.length = 0;
    const result = await createReconcilerHandler(store, { log: (e) => logs.push(e) })(sqsEvent([{ key, versionId }]));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(logs.find((l) => l.msg === 'reconciled')).toMatchObject({ outcome: 'deleted-orphan' });
    expect(s3server.versionsOf(CONFIG.bucketName, key).filter((v) => !v.isDeleteMarker)).toEqual([]);
  });
});
