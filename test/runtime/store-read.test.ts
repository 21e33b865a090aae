/**
 * The split read of SplitStoreClient at the SDK edge, with aws-sdk-client-mock: call order,
 * aborts, version mismatches, dangling pointers and per-part failures.
 */
import { DynamoDBClient, GetItemCommand, InternalServerError } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { encodeRow } from '../../src/runtime/codec';
import { StoreConfig } from '../../src/runtime/config';
import { DanglingPointer, SplitStoreClient, SplitStoreClientOptions } from '../../src/runtime/store';
import { IndexRow, NotFoundError, PartPin, ReadEvent, UnavailableError, ValidationError } from '../../src/runtime/types';

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
let order: string[];

beforeEach(() => {
  ddb.reset();
  s3.reset();
  order = [];
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
    log: () => {},
    ...options,
  });
}

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (body: Uint8Array) => new TextDecoder().decode(body);

function pin(versionId: string, content: string, etag = `"${versionId}-etag"`): PartPin {
  return { versionId, etag, size: bytes(content).byteLength, contentType: 'application/json' };
}

function row(parts: Record<string, PartPin>): IndexRow {
  return { key: { id: 'a' }, attributes: { id: 'a', total: 3 }, revision: 2, parts };
}

function object(versionId: string, content: string, etag = `"${versionId}-etag"`) {
  // The SDK's body is a stream with transformToByteArray(); the runtime reads either.
  return { VersionId: versionId, ETag: etag, Body: { transformToByteArray: async () => bytes(content) } as never };
}

/** The abort signal the runtime passed with the n-th command of a kind. */
function signalOf(calls: ReturnType<typeof s3.commandCalls>, n: number): AbortSignal {
  return ((calls[n].args as unknown[])[1] as { abortSignal: AbortSignal }).abortSignal;
}

/** A response that never comes unless the request is aborted (then it rejects like the SDK). */
function never(): Promise<never> {
  return new Promise(() => {});
}

function s3Error(name: string, status: number, message = name): S3ServiceException {
  return new S3ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', message, $metadata: { httpStatusCode: status } });
}

async function collect(iterable: AsyncIterable<ReadEvent>): Promise<ReadEvent[]> {
  const events: ReadEvent[] = [];
  for await (const event of iterable) events.push(event);
  return events;
}

function byName(events: ReadEvent[]): Record<string, ReadEvent> {
  const out: Record<string, ReadEvent> = {};
  for (const e of events) if (e.type !== 'index') out[e.name] = e;
  return out;
}

describe('get', () => {
  test('GetObject for each named part is sent before the GetItem', async () => {
    const stored = row({ summary: pin('s1', '{"a":1}'), lines: pin('l1', '[1,2]') });
    s3.on(GetObjectCommand).callsFake(async input => {
      order.push(`s3:${input.Key}`);
      return input.Key === 'items/a/summary' ? object('s1', '{"a":1}') : object('l1', '[1,2]');
    });
    ddb.on(GetItemCommand).callsFake(input => {
      order.push('ddb');
      expect(input).toEqual({ TableName: 'Items', Key: { id: { S: 'a' } }, ConsistentRead: true });
      return { Item: encodeRow(config, stored) };
    });

    const events = await collect(client().get({ key: { id: 'a' }, parts: ['summary', 'lines'] }));

    expect(order).toEqual(['s3:items/a/summary', 's3:items/a/lines', 'ddb']);
    // Current version: no VersionId on the first requests.
    expect(s3.commandCalls(GetObjectCommand).map(c => c.args[0].input)).toEqual([
      { Bucket: 'parts-bucket', Key: 'items/a/summary' },
      { Bucket: 'parts-bucket', Key: 'items/a/lines' },
    ]);
    expect(events[0]).toMatchObject({ type: 'index', row: stored });
    const parts = byName(events);
    expect(parts.summary).toMatchObject({ type: 'part', versionId: 's1', refetched: false, contentType: 'application/json' });
    expect(text((parts.summary as { body: Uint8Array }).body)).toBe('{"a":1}');
    expect(text((parts.lines as { body: Uint8Array }).body)).toBe('[1,2]');
    expect(events).toHaveLength(3);
  });

  test('the index event is yielded while S3 has not answered yet', async () => {
    let release!: () => void;
    const gate = new Promise<void>(resolve => { release = resolve; });
    s3.on(GetObjectCommand).callsFake(async () => {
      await gate;
      return object('s1', '{}');
    });
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, row({ summary: pin('s1', '{}') })) });
    const iterator = client().get({ key: { id: 'a' }, parts: ['summary'] })[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value).toMatchObject({ type: 'index' });
    release();
    const second = await iterator.next();
    expect(second.value).toMatchObject({ type: 'part', name: 'summary' });
    expect((await iterator.next()).done).toBe(true);
  });

  test('row missing: every S3 request is aborted, NotFoundError, nothing yielded', async () => {
    s3.on(GetObjectCommand).callsFake(never);
    ddb.on(GetItemCommand).resolves({});
    const events: ReadEvent[] = [];
    const error = await (async () => {
      for await (const e of client().get({ key: { id: 'a' }, parts: ['summary', 'lines'] })) events.push(e);
    })().catch(e => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.statusCode).toBe(404);
    expect(events).toEqual([]);
    const calls = s3.commandCalls(GetObjectCommand);
    expect(calls).toHaveLength(2);
    expect(signalOf(calls, 0).aborted).toBe(true);
    expect(signalOf(calls, 1).aborted).toBe(true);
  });

  test('DynamoDB error: 503 Unavailable and the S3 requests are aborted', async () => {
    s3.on(GetObjectCommand).callsFake(never);
    ddb.on(GetItemCommand).rejects(new InternalServerError({ message: 'boom', $metadata: { httpStatusCode: 500 } }));
    const error = await collect(client().get({ key: { id: 'a' }, parts: ['summary'] })).catch(e => e);
    expect(error).toBeInstanceOf(UnavailableError);
    // Plain words for the caller; the AWS error is kept as the cause, for the log only.
    expect(error.message).toBe('DynamoDB GetItem failed: retry with backoff (the function log has the details)');
    expect(error.cause).toMatchObject({ name: 'InternalServerError', message: 'boom' });
    expect(signalOf(s3.commandCalls(GetObjectCommand), 0).aborted).toBe(true);
  });

  test('current version differs from the pin: aborts it and fetches the pin by VersionId', async () => {
    s3.on(GetObjectCommand, { Key: 'items/a/summary' }).callsFake(async input => (input.VersionId === 'pinned'
      ? object('pinned', '{"old":1}')
      : { VersionId: 'newer', ETag: '"x"', Body: { transformToByteArray: never, destroy: () => order.push('destroyed') } as never }));
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, row({ summary: pin('pinned', '{"old":1}') })) });

    const events = await collect(client().get({ key: { id: 'a' }, parts: ['summary'] }));

    const calls = s3.commandCalls(GetObjectCommand);
    expect(calls.map(c => c.args[0].input)).toEqual([
      { Bucket: 'parts-bucket', Key: 'items/a/summary' },
      { Bucket: 'parts-bucket', Key: 'items/a/summary', VersionId: 'pinned' },
    ]);
    expect(signalOf(calls, 0).aborted).toBe(true);
    expect(order).toEqual(['destroyed']);
    const part = byName(events).summary;
    expect(part).toMatchObject({ type: 'part', versionId: 'pinned', refetched: true });
    expect(text((part as { body: Uint8Array }).body)).toBe('{"old":1}');
  });

  test('no current version (a delete marker or nothing): the pin is fetched by VersionId', async () => {
    s3.on(GetObjectCommand, { Key: 'items/a/summary' }).rejects(s3Error('NoSuchKey', 404));
    s3.on(GetObjectCommand, { Key: 'items/a/summary', VersionId: 'pinned' }).resolves(object('pinned', '{}'));
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, row({ summary: pin('pinned', '{}') })) });
    const part = byName(await collect(client().get({ key: { id: 'a' }, parts: ['summary'] }))).summary;
    expect(part).toMatchObject({ type: 'part', versionId: 'pinned', refetched: true });
  });

  test('the pinned version no longer exists: DanglingPointer for that part, counted, others still served', async () => {
    s3.on(GetObjectCommand, { Key: 'items/a/summary' }).resolves(object('crashed-writer', '{"x":1}'));
    s3.on(GetObjectCommand, { Key: 'items/a/summary', VersionId: 'gone' }).rejects(s3Error('NoSuchVersion', 404, 'The specified version does not exist.'));
    s3.on(GetObjectCommand, { Key: 'items/a/lines' }).resolves(object('l1', '[]'));
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, row({ summary: pin('gone', '{}'), lines: pin('l1', '[]') })) });
    const dangling: DanglingPointer[] = [];
    const store = client({ onDanglingPointer: p => dangling.push(p) });

    const events = await collect(store.get({ key: { id: 'a' }, parts: ['summary', 'lines'] }));

    const parts = byName(events);
    expect(parts.summary).toEqual({
      type: 'part-error',
      name: 'summary',
      code: 'DanglingPointer',
      message: 'part "summary" pins version gone, which S3 no longer has',
      atMs: expect.any(Number),
      cause: expect.objectContaining({ name: 'NoSuchVersion' }),
    });
    expect(parts.lines).toMatchObject({ type: 'part', versionId: 'l1' });
    expect(store.danglingPointers).toBe(1);
    expect(dangling).toEqual([{ key: { id: 'a' }, part: 'summary', versionId: 'gone' }]);
  });

  test('an S3 error on one part fails that part only', async () => {
    s3.on(GetObjectCommand, { Key: 'items/a/summary' }).rejects(s3Error('AccessDenied', 403, 'Access Denied'));
    s3.on(GetObjectCommand, { Key: 'items/a/lines' }).resolves(object('l1', '[]'));
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, row({ summary: pin('s1', '{}'), lines: pin('l1', '[]') })) });
    const events = await collect(client().get({ key: { id: 'a' }, parts: ['summary', 'lines'] }));
    const parts = byName(events);
    expect(parts.summary).toMatchObject({
      type: 'part-error',
      code: 'S3Error',
      message: 'part "summary": S3 could not serve it; retry (the function log has the details)',
      cause: expect.objectContaining({ name: 'AccessDenied', message: 'Access Denied' }),
    });
    expect(parts.lines).toMatchObject({ type: 'part' });
    expect(events[0].type).toBe('index');
  });

  test('a part slower than partTimeoutMs fails with Timeout, its request aborted, the others served', async () => {
    s3.on(GetObjectCommand, { Key: 'items/a/summary' }).callsFake(never);
    s3.on(GetObjectCommand, { Key: 'items/a/lines' }).resolves(object('l1', '[]'));
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, row({ summary: pin('s1', '{}'), lines: pin('l1', '[]') })) });
    // The part timeout is a timer: fake timers fire it when the test says, after the served part.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const events: ReadEvent[] = [];
    try {
      const iterator = client().get({ key: { id: 'a' }, parts: ['summary', 'lines'], partTimeoutMs: 50 })[Symbol.asyncIterator]();
      const next = async (step?: Promise<IteratorResult<ReadEvent>>) => events.push((await (step ?? iterator.next())).value as ReadEvent);
      await next();
      await next();
      const last = iterator.next();
      await jest.advanceTimersByTimeAsync(50);
      await next(last);
      expect((await iterator.next()).done).toBe(true);
    } finally {
      jest.useRealTimers();
    }
    const parts = byName(events);
    expect(parts.summary).toMatchObject({ type: 'part-error', code: 'Timeout' });
    expect(parts.lines).toMatchObject({ type: 'part' });
    // The part that resolved first comes first.
    expect(events.map(e => e.type === 'index' ? 'index' : e.name)).toEqual(['index', 'lines', 'summary']);
    const summaryCall = s3.commandCalls(GetObjectCommand).findIndex(c => c.args[0].input.Key === 'items/a/summary');
    expect(signalOf(s3.commandCalls(GetObjectCommand), summaryCall).aborted).toBe(true);
  });

  test('parts are yielded in the order they resolve, not the order requested', async () => {
    // "first" answers only once "second" has been yielded.
    let releaseFirst!: () => void;
    const firstGate = new Promise<void>(resolve => { releaseFirst = resolve; });
    s3.on(GetObjectCommand, { Key: 'items/a/first' }).callsFake(async () => {
      await firstGate;
      return object('f1', '{}');
    });
    s3.on(GetObjectCommand, { Key: 'items/a/second' }).resolves(object('s1', '{}'));
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, row({ first: pin('f1', '{}'), second: pin('s1', '{}') })) });
    const events: string[] = [];
    for await (const e of client().get({ key: { id: 'a' }, parts: ['first', 'second'] })) {
      events.push(e.type === 'index' ? 'index' : e.name);
      if (events.at(-1) === 'second') releaseFirst();
    }
    expect(events).toEqual(['index', 'second', 'first']);
  });

  test('a requested part the row does not pin: NotPinned, its request aborted', async () => {
    s3.on(GetObjectCommand).callsFake(never);
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, row({})) });
    const events = await collect(client().get({ key: { id: 'a' }, parts: ['ghost'] }));
    expect(events[1]).toMatchObject({
      type: 'part-error', name: 'ghost', code: 'NotPinned', message: 'item {"id":"a"} has no part "ghost" at revision 2',
    });
    expect(signalOf(s3.commandCalls(GetObjectCommand), 0).aborted).toBe(true);
  });

  test('parts undefined: the row first, then every pinned version fetched directly', async () => {
    ddb.on(GetItemCommand).callsFake(() => {
      order.push('ddb');
      return { Item: encodeRow(config, row({ summary: pin('s1', '{}'), lines: pin('l1', '[]') })) };
    });
    s3.on(GetObjectCommand).callsFake(async input => {
      order.push(`s3:${input.Key}@${input.VersionId}`);
      return input.Key === 'items/a/summary' ? object('s1', '{}') : object('l1', '[]');
    });
    const events = await collect(client().get({ key: { id: 'a' } }));
    expect(order).toEqual(['ddb', 's3:items/a/summary@s1', 's3:items/a/lines@l1']);
    expect(Object.keys(byName(events)).sort()).toEqual(['lines', 'summary']);
    expect(Object.values(byName(events)).every(e => e.type === 'part' && !e.refetched)).toBe(true);
  });

  test('parts: [] reads the index row only', async () => {
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, row({ summary: pin('s1', '{}') })) });
    const events = await collect(client().get({ key: { id: 'a' }, parts: [] }));
    expect(events.map(e => e.type)).toEqual(['index']);
    expect(s3.calls()).toHaveLength(0);
  });

  test('a body given as a stream of chunks is read fully', async () => {
    async function* chunks() {
      yield bytes('{"a":');
      yield '1}';
    }
    s3.on(GetObjectCommand).resolves({ VersionId: 's1', ETag: '"s1-etag"', Body: chunks() as never });
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, row({ summary: pin('s1', '{"a":1}') })) });
    const part = byName(await collect(client().get({ key: { id: 'a' }, parts: ['summary'] }))).summary;
    expect(part).toMatchObject({ type: 'part', versionId: 's1' });
    expect(text((part as { body: Uint8Array }).body)).toBe('{"a":1}');
  });

  test('a body whose size differs from the pin is not served', async () => {
    s3.on(GetObjectCommand).resolves(object('s1', '{"longer":true}'));
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, row({ summary: pin('s1', '{}') })) });
    const part = byName(await collect(client().get({ key: { id: 'a' }, parts: ['summary'] }))).summary;
    expect(part).toMatchObject({ type: 'part-error', code: 'S3Error', message: 'part "summary" version s1 is 15 bytes, the pin says 2' });
  });

  test('a body whose ETag differs from the pin is not served', async () => {
    s3.on(GetObjectCommand).resolves(object('s1', '{}', '"other"'));
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, row({ summary: pin('s1', '{}', '"right"') })) });
    const part = byName(await collect(client().get({ key: { id: 'a' }, parts: ['summary'] }))).summary;
    expect(part).toMatchObject({ type: 'part-error', code: 'S3Error', message: 'part "summary" version s1 has ETag "other", the pin says "right"' });
  });

  test('a pin without an ETag (none was returned on write) is checked by size only', async () => {
    s3.on(GetObjectCommand).resolves(object('s1', '{}', '"whatever"'));
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, row({ summary: pin('s1', '{}', '') })) });
    const part = byName(await collect(client().get({ key: { id: 'a' }, parts: ['summary'] }))).summary;
    expect(part).toMatchObject({ type: 'part', versionId: 's1' });
  });

  test('field projection per part; a non-JSON part fails with ProjectionError alone', async () => {
    const summary = '{"total":3,"customer":{"name":"Ada","vat":"X"}}';
    s3.on(GetObjectCommand, { Key: 'items/a/summary' }).resolves(object('s1', summary));
    s3.on(GetObjectCommand, { Key: 'items/a/blob' }).resolves(object('b1', 'not json'));
    s3.on(GetObjectCommand, { Key: 'items/a/lines' }).resolves(object('l1', '[]'));
    ddb.on(GetItemCommand).resolves({
      Item: encodeRow(config, row({ summary: pin('s1', summary), blob: pin('b1', 'not json'), lines: pin('l1', '[]') })),
    });
    const parts = byName(await collect(client().get({
      key: { id: 'a' },
      parts: ['summary', 'blob', 'lines'],
      fields: { summary: ['customer.name'], blob: ['x'] },
    })));
    expect(parts.summary).toMatchObject({ type: 'part', contentType: 'application/json' });
    expect(JSON.parse(text((parts.summary as { body: Uint8Array }).body))).toEqual({ customer: { name: 'Ada' } });
    expect(parts.blob).toMatchObject({ type: 'part-error', code: 'ProjectionError' });
    expect(parts.lines).toMatchObject({ type: 'part' });
  });

  test('the caller\'s signal aborts every request', async () => {
    s3.on(GetObjectCommand).callsFake(never);
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, row({ summary: pin('s1', '{}') })) });
    const controller = new AbortController();
    const iterator = client().get({ key: { id: 'a' }, parts: ['summary'], signal: controller.signal })[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toMatchObject({ type: 'index' });
    const next = iterator.next();
    controller.abort(new Error('client went away'));
    await expect(next).rejects.toThrow('client went away');
    expect(signalOf(s3.commandCalls(GetObjectCommand), 0).aborted).toBe(true);
  });

  test('stopping the iteration early aborts the outstanding requests', async () => {
    s3.on(GetObjectCommand).callsFake(never);
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(config, row({ summary: pin('s1', '{}') })) });
    for await (const event of client().get({ key: { id: 'a' }, parts: ['summary'] })) {
      expect(event.type).toBe('index');
      break;
    }
    expect(signalOf(s3.commandCalls(GetObjectCommand), 0).aborted).toBe(true);
  });

  test.each([
    ['an invalid part name', { parts: ['Bad'] }, /invalid part name "Bad"/],
    ['fields for a part not requested', { parts: ['a'], fields: { b: ['x'] } }, /fields names part "b", which is not among the requested parts/],
    ['a malformed field path', { parts: ['a'], fields: { a: ['x..y'] } }, /fields of part "a": invalid field path "x..y"/],
    ['a zero timeout', { partTimeoutMs: 0 }, /partTimeoutMs must be a number of milliseconds/],
  ])('refuses %s before any request', async (_what, extra, message) => {
    const error = await collect(client().get({ key: { id: 'a' }, ...extra } as never)).catch(e => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(message);
    expect(s3.calls()).toHaveLength(0);
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('getIndex', () => {
  test('consistent GetItem, decoded; 404 when missing', async () => {
    const stored = row({ summary: pin('s1', '{}') });
    ddb.on(GetItemCommand).resolvesOnce({ Item: encodeRow(config, stored) }).resolves({});
    await expect(client().getIndex({ id: 'a' })).resolves.toEqual(stored);
    expect(ddb.commandCalls(GetItemCommand)[0].args[0].input.ConsistentRead).toBe(true);
    await expect(client().getIndex({ id: 'a' })).rejects.toThrow(NotFoundError);
    expect(s3.calls()).toHaveLength(0);
  });
});
