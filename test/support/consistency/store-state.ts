/**
 * What the consistency checker reads from the servers directly (never through a fault
 * proxy): the table's stream (every committed row change, in order), the table and the
 * bucket at rest; and the reconciler pass over every S3 event of a run.
 */
import { AttributeValue, DeleteTableCommand, DynamoDBClient, ScanCommand, ScanCommandOutput, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DescribeStreamCommandOutput,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { DeleteBucketCommand, DeleteObjectsCommand, ListObjectVersionsCommand, ListObjectVersionsCommandOutput, S3Client } from '@aws-sdk/client-s3';
import type { SQSEvent } from 'aws-lambda';
import { imageOfItem, ObjectVersion, RowChange, RowImage } from './history';
import { ReconcileOperations, createReconcilerHandler } from '../../../src/runtime/reconciler-handler';

/** Turns on the table's stream (new and old images) and returns its ARN. */
export async function enableStream(dynamodb: DynamoDBClient, tableName: string): Promise<string> {
  const out = await dynamodb.send(new UpdateTableCommand({
    TableName: tableName,
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
  }));
  const arn = out.TableDescription?.LatestStreamArn;
  if (!arn) throw new Error(`table ${tableName} reports no stream after enabling it`);
  return arn;
}

/** Every change in the stream: the number of records, and the changes in commit order per item. */
export async function readStream(
  streams: DynamoDBStreamsClient,
  streamArn: string,
  partitionKey: string,
): Promise<{ records: number; changes: RowChange[] }> {
  const shardIds: string[] = [];
  let exclusiveStart: string | undefined;
  do {
    const out: DescribeStreamCommandOutput = await streams.send(
      new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: exclusiveStart }));
    for (const shard of out.StreamDescription?.Shards ?? []) if (shard.ShardId) shardIds.push(shard.ShardId);
    exclusiveStart = out.StreamDescription?.LastEvaluatedShardId;
  } while (exclusiveStart);

  const changes: RowChange[] = [];
  for (const shardId of shardIds) {
    let iterator = (await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    // Everything was written before the stream is read: two empty pages in a row mean the end.
    let empty = 0;
    while (iterator && empty < 2) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      const records = page.Records ?? [];
      empty = records.length === 0 ? empty + 1 : 0;
      for (const record of records) {
        const data = record.dynamodb;
        const image = (item: Record<string, unknown> | undefined) =>
          item === undefined ? undefined : imageOfItem(partitionKey, item as Record<string, AttributeValue>);
        const keys = image(data?.Keys as Record<string, unknown> | undefined);
        changes.push({ item: keys?.item ?? '', seq: data?.SequenceNumber ?? '', old: image(data?.OldImage), new: image(data?.NewImage) });
      }
      iterator = page.NextShardIterator;
    }
  }
  const records = changes.length;
  changes.sort((a, b) => (a.item === b.item ? compareSequence(a.seq, b.seq) : a.item < b.item ? -1 : 1));
  return { records, changes };
}

function compareSequence(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Every row of the table (consistent scan), tombstones included. */
export async function scanTable(dynamodb: DynamoDBClient, tableName: string, partitionKey: string): Promise<RowImage[]> {
  const rows: RowImage[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out: ScanCommandOutput = await dynamodb.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: start }));
    for (const item of out.Items ?? []) rows.push(imageOfItem(partitionKey, item));
    start = out.LastEvaluatedKey;
  } while (start);
  return rows;
}

/**
 * Every object version and delete marker under `prefix`, oldest first per key (the order S3
 * created them; S3 lists them newest first, versions and markers in separate lists).
 */
export async function listVersions(s3: S3Client, bucket: string, prefix: string): Promise<ObjectVersion[]> {
  const byKey = new Map<string, Array<ObjectVersion & { readonly at: number; readonly order: number }>>();
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  let order = 0;
  do {
    const out: ListObjectVersionsCommandOutput = await s3.send(new ListObjectVersionsCommand({
      Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker,
    }));
    const entries = [
      ...(out.Versions ?? []).map((v) => ({ ...v, isDeleteMarker: false })),
      ...(out.DeleteMarkers ?? []).map((m) => ({ ...m, isDeleteMarker: true })),
    ];
    for (const entry of entries) {
      if (!entry.Key || !entry.VersionId) continue;
      const list = byKey.get(entry.Key) ?? [];
      list.push({
        key: entry.Key,
        versionId: entry.VersionId,
        isLatest: entry.IsLatest === true,
        isDeleteMarker: entry.isDeleteMarker,
        at: entry.LastModified?.getTime() ?? 0,
        order: order++,
      });
      byKey.set(entry.Key, list);
    }
    keyMarker = out.IsTruncated ? out.NextKeyMarker : undefined;
    versionIdMarker = out.IsTruncated ? out.NextVersionIdMarker : undefined;
  } while (keyMarker);
  const versions: ObjectVersion[] = [];
  for (const list of byKey.values()) {
    // Oldest first; the latest is last whatever the clock says.
    list.sort((a, b) => Number(a.isLatest) - Number(b.isLatest) || a.at - b.at || b.order - a.order);
    versions.push(...list.map(({ key, versionId, isLatest, isDeleteMarker }) => ({ key, versionId, isLatest, isDeleteMarker })));
  }
  return versions;
}

/** The S3 event name of a version: created, or a delete marker created. */
function eventName(version: ObjectVersion): string {
  return version.isDeleteMarker ? 'ObjectRemoved:DeleteMarkerCreated' : 'ObjectCreated:Put';
}

/** An object key as S3 writes it into an event notification (form-encoded). */
function eventKey(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
}

/** What the reconciler pass did. */
export interface ReconcileReport {
  readonly events: number;
  /** Events the handler still failed after its retries, with the last error it logged. */
  readonly failed: Array<{ readonly key: string; readonly versionId: string; readonly error: string }>;
}

/**
 * Delivers one S3 event per object version and delete marker to the reconciler's handler, as
 * the queue would once its delay has passed: ten messages per batch, oldest first per key,
 * failed messages delivered again (three deliveries in all, as a queue's redrive policy).
 */
export async function reconcileAll(store: ReconcileOperations, bucket: string, versions: readonly ObjectVersion[]): Promise<ReconcileReport> {
  const errors = new Map<string, string>();
  const handler = createReconcilerHandler(store, {
    log: (entry) => {
      const record = entry as { level?: string; messageId?: string; error?: { message?: string } };
      if (record.level === 'error' && record.messageId) errors.set(record.messageId, record.error?.message ?? 'failed');
    },
  });
  let pending = versions.map((version, i) => ({ id: `m${i}`, version }));
  for (let delivery = 1; delivery <= 3 && pending.length > 0; delivery++) {
    const failed: typeof pending = [];
    for (let i = 0; i < pending.length; i += 10) {
      const batch = pending.slice(i, i + 10);
      const event = {
        Records: batch.map(({ id, version }) => ({
          messageId: id,
          body: JSON.stringify({
            Records: [{
              eventName: eventName(version),
              s3: { bucket: { name: bucket }, object: { key: eventKey(version.key), versionId: version.versionId } },
            }],
          }),
        })),
      } as unknown as SQSEvent;
      const out = await handler(event, { awsRequestId: `reconcile-${delivery}-${i}` });
      const failedIds = new Set(out.batchItemFailures.map((f) => f.itemIdentifier));
      failed.push(...batch.filter((m) => failedIds.has(m.id)));
    }
    pending = failed;
  }
  return {
    events: versions.length,
    failed: pending.map(({ id, version }) => ({ key: version.key, versionId: version.versionId, error: errors.get(id) ?? 'failed' })),
  };
}

/** Deletes a run's table and bucket (every version first), so a long run does not fill the servers' memory. */
export async function dropStore(dynamodb: DynamoDBClient, s3: S3Client, tableName: string, bucket: string): Promise<void> {
  await dynamodb.send(new DeleteTableCommand({ TableName: tableName }));
  const versions = await listVersions(s3, bucket, '');
  for (let i = 0; i < versions.length; i += 1000) {
    await s3.send(new DeleteObjectsCommand({
      Bucket: bucket,
      Delete: { Objects: versions.slice(i, i + 1000).map((v) => ({ Key: v.key, VersionId: v.versionId })), Quiet: true },
    }));
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}
