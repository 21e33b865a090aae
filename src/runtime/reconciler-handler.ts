/**
 * The reconciler: consumes the SQS queue that receives the bucket's ObjectCreated and
 * ObjectRemoved notifications (after a delivery delay longer than any writer's deadline plus
 * the commit margin) and hands each event's key to `store.reconcile`, which brings that part
 * key back to "the pinned version is current, nothing unpinned is current" without ever
 * permanently deleting a version that may have been committed (docs/PROTOCOL.md, section 9).
 *
 * Returns an SQS partial batch response: only the messages that failed are retried (and,
 * after the queue's maxReceiveCount, land in the dead-letter queue).
 *
 * No CDK import here: this module is bundled into the Lambda assets.
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { jsonLog, LogSink } from './handler-log';
import { METRIC_DIMENSIONS, METRIC_NAMES, metricEntry } from './metrics';
import type { ReconcileOutcome } from './types';

/** What the reconciler needs from the store. */
export interface ReconcileOperations {
  reconcile(objectKey: string, versionId: string): Promise<ReconcileOutcome>;
}

/** The S3 events the reconciler acts on: new versions, delete markers, permanent deletes. */
const RECONCILED_EVENTS = /^(ObjectCreated|ObjectRemoved):/;

/** One object version named by an S3 event notification. */
export interface ObjectVersionEvent {
  readonly bucket?: string;
  readonly key: string;
  readonly versionId?: string;
  readonly eventName: string;
}

/** Options of {@link createReconcilerHandler}. */
export interface ReconcilerHandlerOptions {
  /** @default one JSON line on stdout (CloudWatch Logs) */
  readonly log?: LogSink;
  /**
   * The store's table name: each outcome's log line and each failure's then also carries the
   * metric `SplitStore/ReconciledEvents` (dimensions `TableName`, `Outcome`) or
   * `SplitStore/ReconcilerErrors` (`TableName`), in Embedded Metric Format.
   * @default no metrics
   */
  readonly tableName?: string;
}

/** The reconciler's handler. */
export type ReconcilerHandler = (event: SQSEvent, context?: { readonly awsRequestId?: string }) => Promise<SQSBatchResponse>;

/**
 * Parses the body of one SQS message: an S3 event notification. Returns the object versions
 * its ObjectCreated:* and ObjectRemoved:* records name (a new version, a new delete marker,
 * a permanently deleted version); [] for S3's `s3:TestEvent` and other event types.
 * Keys are decoded the way S3 encodes them in notifications (form encoding: '+' is a space).
 * Throws on a body that is not an S3 notification.
 */
export function parseS3Notification(body: string): ObjectVersionEvent[] {
  let message: unknown;
  try {
    message = JSON.parse(body);
  } catch (e) {
    throw new Error(`message body is not JSON: ${(e as Error).message}`);
  }
  const notification = message as { Event?: unknown; Records?: unknown } | null;
  if (notification?.Event === 's3:TestEvent') return [];
  if (!notification || !Array.isArray(notification.Records)) {
    throw new Error('message body is not an S3 event notification (no Records array): check what the queue is subscribed to');
  }
  const versions: ObjectVersionEvent[] = [];
  for (const record of notification.Records as Array<Record<string, any>>) {
    const eventName = String(record?.eventName ?? '');
    if (!RECONCILED_EVENTS.test(eventName)) continue;
    const object = record?.s3?.object;
    if (typeof object?.key !== 'string') {
      throw new Error(`${eventName} record has no s3.object.key`);
    }
    versions.push({
      bucket: record?.s3?.bucket?.name,
      key: decodeS3EventKey(object.key),
      versionId: typeof object.versionId === 'string' ? object.versionId : undefined,
      eventName,
    });
  }
  return versions;
}

/** Decodes an object key from an S3 event notification ('+' is a space, then percent-decoding). */
export function decodeS3EventKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

/**
 * Creates the SQS handler. Messages are processed one after the other (two versions of the
 * same key must not be reconciled concurrently); a message whose body cannot be parsed or
 * whose reconcile throws is reported in `batchItemFailures`, so SQS retries it and finally
 * moves it to the dead-letter queue where it stays visible.
 */
export function createReconcilerHandler(store: ReconcileOperations, options: ReconcilerHandlerOptions = {}): ReconcilerHandler {
  const log = options.log ?? jsonLog;
  const metric = (name: string, dimension?: readonly [string, string]) =>
    (options.tableName === undefined ? {} : metricEntry(options.tableName, { name, value: 1, dimension }));
  return async (event, context) => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records ?? []) {
      try {
        await reconcileRecord(record);
      } catch (e) {
        const error = e as Error;
        log({
          ...metric(METRIC_NAMES.reconcilerErrors),
          level: 'error',
          msg: 'reconcile failed',
          requestId: context?.awsRequestId,
          messageId: record.messageId,
          error: { name: error?.name, message: error?.message, stack: error?.stack },
        });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };

    async function reconcileRecord(record: SQSRecord): Promise<void> {
      const versions = parseS3Notification(record.body);
      if (versions.length === 0) {
        log({ level: 'info', msg: 'nothing to reconcile', requestId: context?.awsRequestId, messageId: record.messageId });
        return;
      }
      for (const version of versions) {
        if (!version.versionId) {
          // Only an unversioned bucket sends these events without a versionId; a store's bucket is versioned.
          log({ level: 'warn', msg: 'object version without versionId skipped: is versioning enabled on the bucket?', key: version.key, messageId: record.messageId });
          continue;
        }
        const started = Date.now();
        const outcome = await store.reconcile(version.key, version.versionId);
        log({
          ...metric(METRIC_NAMES.reconciledEvents, [METRIC_DIMENSIONS.outcome, outcome]),
          level: 'info',
          msg: 'reconciled',
          requestId: context?.awsRequestId,
          messageId: record.messageId,
          key: version.key,
          versionId: version.versionId,
          eventName: version.eventName,
          outcome,
          durationMs: Date.now() - started,
        });
      }
    }
  };
}
