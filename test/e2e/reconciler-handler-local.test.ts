/**
 * The reconciler handler over the real SplitStoreClient, against DynamoDB Local and the
 * versioned S3 test server: S3 notifications (keys encoded the way S3 encodes them) repair
 * what a crashed writer left behind.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { SQSEvent } from 'aws-lambda';
import type { StoreConfig } from '../../src/runtime/config';
import { partKey } from '../../src/runtime/keys';
import { createReconcilerHandler } from '../../src/runtime/reconciler-handler';
import { SplitStoreClient } from '../../src/runtime/store';
import { startLocalStore, VersionedLocalStore } from '../support/local-store';
import { VersionedS3Server } from '../support/versioned-s3-server';

/** The store's configuration, as the reader gets it from the synthesized template. */
let config: StoreConfig;

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
          s3: { bucket: { name: config.bucketName }, object: { key: s3EventKey(o.key), versionId: o.versionId } },
        }],
      }),
    })) as SQSEvent['Records'],
  };
}

describe('reconciler handler over the store, against local emulators', () => {
  let local: VersionedLocalStore;
  let s3server: VersionedS3Server;
  let dynamodb: DynamoDBClient;
  let s3: S3Client;
  let store: SplitStoreClient;
  const logs: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    local = await startLocalStore({ maxAttempts: 1 });
    ({ s3server, dynamodb, s3, config } = local);
    // The queue delivers events after the writer deadline plus the commit margin: the
    // reconciler's clock is set that far ahead, so the versions written here count as old.
    store = new SplitStoreClient({ config, dynamodb, s3, log: () => undefined, wallClock: () => Date.now() + 3_600_000 });
  });

  afterAll(async () => {
    await local?.stop();
  });

  async function currentVersion(key: string): Promise<string | undefined> {
    return (await s3.send(new HeadObjectCommand({ Bucket: config.bucketName, Key: key }))).VersionId;
  }

  test("a crashed writer's version is deleted and the pinned one is current again, whichever event comes first", async () => {
    // An item whose key needs encoding twice: once by the protocol, once by S3's notification.
    const row = await store.put({ key: { id: 'inv 1/ü' }, parts: { summary: { body: '{"rev":1}' } }, create: true });
    const key = partKey(config, { id: 'inv 1/ü' }, 'summary');
    const pinned = row.parts.summary.versionId;
    // A writer that crashed between its PutObject and its commit.
    const orphan = (await s3.send(new PutObjectCommand({ Bucket: config.bucketName, Key: key, Body: '{"rev":2}' }))).VersionId!;
    expect(await currentVersion(key)).toBe(orphan);

    const handler = createReconcilerHandler(store, { log: (e) => logs.push(e) });
    const result = await handler(sqsEvent([{ key, versionId: pinned }, { key, versionId: orphan }]));

    expect(result).toEqual({ batchItemFailures: [] });
    // The reconciler repairs the key on the first event, even though that event names the
    // pinned version; the second finds the key at rest.
    expect(logs.filter((l) => l.msg === 'reconciled').map((l) => [l.key, l.outcome])).toEqual([
      [key, 'deleted-unpinned'],
      [key, 'noncurrent'],
    ]);
    expect(await currentVersion(key)).toBe(pinned);
    expect(s3server.versionsOf(config.bucketName, key).map((v) => v.versionId)).toEqual([pinned]);
  });

  test('an object without a row is hidden under a delete marker, never deleted (it may have been committed)', async () => {
    const key = partKey(config, { id: 'never-committed' }, 'lines');
    const versionId = (await s3.send(new PutObjectCommand({ Bucket: config.bucketName, Key: key, Body: '[]' }))).VersionId!;
    logs.length = 0;
    const result = await createReconcilerHandler(store, { log: (e) => logs.push(e) })(sqsEvent([{ key, versionId }]));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(logs.find((l) => l.msg === 'reconciled')).toMatchObject({ outcome: 'retired-orphan' });
    const versions = s3server.versionsOf(config.bucketName, key);
    expect(versions[0].isDeleteMarker).toBe(true);
    expect(versions.filter((v) => !v.isDeleteMarker).map((v) => v.versionId)).toEqual([versionId]);
  });
});
