import type { SQSEvent, SQSRecord } from 'aws-lambda';
import {
  createReconcilerHandler, decodeS3EventKey, parseS3Notification, ReconcileOperations,
} from '../../src/runtime/reconciler-handler';
import type { ReconcileOutcome } from '../../src/runtime/types';

/** An S3 event notification as S3 puts it on the queue. */
function notification(records: Array<{ eventName?: string; key: string; versionId?: string }>): string {
  return JSON.stringify({
    Records: records.map((r) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      eventName: r.eventName ?? 'ObjectCreated:Put',
      s3: {
        bucket: { name: 'parts-bucket', arn: 'arn:aws:s3:::parts-bucket' },
        object: { key: r.key, size: 10, eTag: 'e', ...(r.versionId ? { versionId: r.versionId } : {}), sequencer: '00' },
      },
    })),
  });
}

function sqsEvent(bodies: string[]): SQSEvent {
  return {
    Records: bodies.map((body, i) => ({ messageId: `m${i}`, body } as SQSRecord)),
  };
}

function fakeStore(reconcile: (key: string, versionId: string) => Promise<ReconcileOutcome> = async () => 'pinned'): jest.Mocked<ReconcileOperations> {
  return { reconcile: jest.fn(reconcile) };
}

describe('parseS3Notification', () => {
  test('reads key, versionId and bucket of ObjectCreated records', () => {
    expect(parseS3Notification(notification([
      { key: 'items/a/summary', versionId: 'v1' },
      { eventName: 'ObjectCreated:CompleteMultipartUpload', key: 'items/b/lines', versionId: 'v2' },
    ]))).toEqual([
      { bucket: 'parts-bucket', key: 'items/a/summary', versionId: 'v1', eventName: 'ObjectCreated:Put' },
      { bucket: 'parts-bucket', key: 'items/b/lines', versionId: 'v2', eventName: 'ObjectCreated:CompleteMultipartUpload' },
    ]);
  });

  test('reads delete markers and deleted versions too: the reconciler re-checks the key after each', () => {
    expect(parseS3Notification(notification([
      { eventName: 'ObjectRemoved:DeleteMarkerCreated', key: 'items/a/summary', versionId: 'm1' },
      { eventName: 'ObjectRemoved:Delete', key: 'items/a/lines', versionId: 'v1' },
    ]))).toEqual([
      { bucket: 'parts-bucket', key: 'items/a/summary', versionId: 'm1', eventName: 'ObjectRemoved:DeleteMarkerCreated' },
      { bucket: 'parts-bucket', key: 'items/a/lines', versionId: 'v1', eventName: 'ObjectRemoved:Delete' },
    ]);
  });

  test('ignores other event types', () => {
    expect(parseS3Notification(notification([
      { eventName: 'ObjectRestore:Completed', key: 'items/a/summary', versionId: 'v1' },
      { eventName: 'LifecycleExpiration:Delete', key: 'items/a/summary', versionId: 'v1' },
    ]))).toEqual([]);
  });

  test("ignores S3's test event", () => {
    expect(parseS3Notification(JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'parts-bucket' }))).toEqual([]);
  });

  test.each<[string, string, string]>([
    ['a body that is not JSON', 'not json', 'message body is not JSON'],
    ['a JSON body that is no S3 notification', '{"hello":1}', 'message body is not an S3 event notification (no Records array)'],
    ['a record without a key', JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: { object: {} } }] }), 'ObjectCreated:Put record has no s3.object.key'],
  ])('fails on %s', (_name, body, message) => {
    expect(() => parseS3Notification(body)).toThrow(message);
  });

  test.each<[string, string]>([
    ['items/a+b/summary', 'items/a b/summary'],
    ['items/a%2Bb/summary', 'items/a+b/summary'],
    // The store's keys are already percent-encoded (encodeURIComponent), and S3 encodes '%' again.
    ['items/inv%252F1/summary', 'items/inv%2F1/summary'],
    ['items/%C3%BC/lines', 'items/ü/lines'],
  ])('decodes %s as %s', (encoded, decoded) => {
    expect(decodeS3EventKey(encoded)).toBe(decoded);
  });
});

describe('createReconcilerHandler', () => {
  test('reconciles every new version with the decoded key and reports no failure', async () => {
    const store = fakeStore();
    const logs: Array<Record<string, unknown>> = [];
    const handler = createReconcilerHandler(store, { log: (e) => logs.push(e) });
    const result = await handler(sqsEvent([
      notification([{ key: 'items/inv%25201/summary', versionId: 'v1' }, { key: 'items/b/lines', versionId: 'v2' }]),
      notification([{ key: 'items/c/summary', versionId: 'v3' }]),
    ]));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(store.reconcile.mock.calls).toEqual([['items/inv%201/summary', 'v1'], ['items/b/lines', 'v2'], ['items/c/summary', 'v3']]);
    expect(logs.filter((l) => l.msg === 'reconciled').map((l) => l.outcome)).toEqual(['pinned', 'pinned', 'pinned']);
  });

  test('reports exactly the messages that failed, and keeps going', async () => {
    const store = fakeStore(async (key) => {
      if (key === 'items/bad/summary') throw new Error('DynamoDB unavailable');
      return 'deleted-unpinned';
    });
    const logs: Array<Record<string, unknown>> = [];
    const handler = createReconcilerHandler(store, { log: (e) => logs.push(e) });
    const result = await handler(sqsEvent([
      notification([{ key: 'items/a/summary', versionId: 'v1' }]),
      notification([{ key: 'items/bad/summary', versionId: 'v2' }]),
      'garbage',
      notification([{ key: 'items/c/summary', versionId: 'v3' }]),
    ]));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }, { itemIdentifier: 'm2' }] });
    expect(store.reconcile).toHaveBeenCalledTimes(3);
    expect(store.reconcile).toHaveBeenLastCalledWith('items/c/summary', 'v3');
    expect(logs.filter((l) => l.msg === 'reconcile failed')).toEqual([
      expect.objectContaining({ level: 'error', messageId: 'm1', error: expect.objectContaining({ message: 'DynamoDB unavailable' }) }),
      expect.objectContaining({ level: 'error', messageId: 'm2', error: expect.objectContaining({ message: expect.stringContaining('message body is not JSON') }) }),
    ]);
  });

  test('processes the versions of a batch one after the other', async () => {
    let running = 0;
    let maxRunning = 0;
    const store = fakeStore(async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return 'noncurrent';
    });
    const handler = createReconcilerHandler(store, { log: () => undefined });
    await handler(sqsEvent([
      notification([{ key: 'items/a/summary', versionId: 'v1' }, { key: 'items/a/summary', versionId: 'v2' }]),
      notification([{ key: 'items/a/summary', versionId: 'v3' }]),
    ]));
    expect(store.reconcile).toHaveBeenCalledTimes(3);
    expect(maxRunning).toBe(1);
  });

  test('skips test events and versions without a versionId without failing them', async () => {
    const store = fakeStore();
    const logs: Array<Record<string, unknown>> = [];
    const handler = createReconcilerHandler(store, { log: (e) => logs.push(e) });
    const result = await handler(sqsEvent([
      JSON.stringify({ Event: 's3:TestEvent' }),
      notification([{ key: 'items/a/summary' }]),
    ]));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(store.reconcile).not.toHaveBeenCalled();
    expect(logs).toEqual(expect.arrayContaining([
      expect.objectContaining({ msg: 'nothing to reconcile', messageId: 'm0' }),
      expect.objectContaining({ level: 'warn', key: 'items/a/summary', messageId: 'm1' }),
    ]));
  });

  test('an empty batch is an empty response', async () => {
    const handler = createReconcilerHandler(fakeStore(), { log: () => undefined });
    expect(await handler({ Records: [] })).toEqual({ batchItemFailures: [] });
  });
});
