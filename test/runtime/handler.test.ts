import { Writable } from 'stream';
import type { StoreConfig } from '../../src/runtime/config';
import {
  createLazyReaderHandler, createReaderHandler, danglingPointerMetric, jsonLog, ReaderHandlerOptions, StoreOperations,
  streamOptionsFromEnv, toErrorBody,
} from '../../src/runtime/handler';
import { s3ForcePathStyle, sdkClientsFromEnv } from '../../src/runtime/handler-clients';
import { encodeBody, isTextual, toJson } from '../../src/runtime/handler-ndjson';
import { parseFunctionUrlRequest } from '../../src/runtime/handler-request';
import { endStream, lambdaHttpResponseStream, writeChunk } from '../../src/runtime/lambda-stream';
import {
  CommitOutcomeUnknownError, ConflictError, DeadlineExceededError, IndexRow, NotFoundError, ReadEvent, UnavailableError, ValidationError,
} from '../../src/runtime/types';

/**
 * Test doubles for the reader handler's unit tests: a fake store with the methods of
 * SplitStoreClient, a recording response stream, and a fake of the Lambda runtime's
 * `awslambda.HttpResponseStream.from` that records the status and headers.
 */

/** A chunk as the client would see it, with its arrival order. */
interface RecordedChunk {
  readonly text: string;
  readonly seq: number;
}

/** A Writable that records every chunk, and the HTTP metadata given to `from`. */
class RecordingStream extends Writable {
  public readonly chunks: RecordedChunk[] = [];
  public metadata?: { statusCode: number; headers?: Record<string, string> };
  public contentType?: string;
  private seq = 0;
  private readonly delayMs: number;

  constructor(options: { highWaterMark?: number; delayMs?: number } = {}) {
    super({ highWaterMark: options.highWaterMark ?? 16 * 1024 });
    this.delayMs = options.delayMs ?? 0;
  }

  public setContentType(type: string): void {
    this.contentType = type;
  }

  /**
   * Like the Lambda runtime's response stream: `end` takes a callback only, and the HTTP
   * prelude of HttpResponseStream.from goes out on the first `write` (so a body passed to
   * `end` would lose its status line: the handler must never do it).
   */
  override end(...args: any[]): this {
    if (args.length > 1 || (args[0] !== undefined && typeof args[0] !== 'function')) {
      throw new Error('end(chunk) bypasses the Lambda runtime prelude: write the chunk, then end()');
    }
    return super.end(args[0]);
  }

  /** Records the chunk, then emits 'chunk' with it. */
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push({ text: chunk.toString('utf8'), seq: this.seq++ });
    this.emit('chunk', this.chunks[this.chunks.length - 1]);
    if (this.delayMs) setTimeout(() => callback(), this.delayMs);
    else callback();
  }

  /** Everything written, as text. */
  public get body(): string {
    return this.chunks.map((c) => c.text).join('');
  }

  /** The NDJSON lines written so far, parsed. */
  public get lines(): any[] {
    return this.body.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
  }

  /** The body parsed as one JSON document. */
  public get json(): any {
    return JSON.parse(this.body);
  }
}

/**
 * The fake `awslambda.HttpResponseStream.from`: like the runtime's, it only arranges for the
 * prelude (status, headers) to go out before the first write; the fake records it then.
 */
function fakeHttpResponseStream(stream: Writable, metadata: { statusCode: number; headers?: Record<string, string> }): Writable {
  const recording = stream as RecordingStream;
  const write = recording.write.bind(recording);
  let first = true;
  recording.write = ((...args: Parameters<typeof write>) => {
    if (first) {
      first = false;
      recording.metadata = metadata;
    }
    return write(...args);
  }) as typeof write;
  return stream;
}

/** Installs a fake `awslambda` global (as the Lambda runtime does); returns a function that removes it. */
function installFakeAwsLambda(): () => void {
  const g = globalThis as any;
  const previous = g.awslambda;
  g.awslambda = {
    streamifyResponse: (handler: unknown) => handler,
    HttpResponseStream: { from: fakeHttpResponseStream },
  };
  return () => {
    if (previous === undefined) delete g.awslambda;
    else g.awslambda = previous;
  };
}

/** A row as the store returns it. */
function row(key: Record<string, string | number>, revision = 1, parts: string[] = ['summary', 'lines']): IndexRow {
  return {
    key,
    attributes: { ...key, total: 42 },
    revision,
    parts: Object.fromEntries(parts.map((p) => [p, { versionId: `v-${p}`, etag: '"e"', size: 2, contentType: 'application/json' }])),
  };
}

/** A fake store: every method a jest.fn; `get` replays the given events (or throws). */
function fakeStore(overrides: Partial<StoreOperations> = {}): jest.Mocked<StoreOperations> {
  return {
    put: jest.fn(async (req) => ({ ...row(req.key, req.create ? 1 : 2), created: req.create === true })),
    updateParts: jest.fn(async (req) => row(req.key, 3)),
    delete: jest.fn(async (req) => row(req.key, 4)),
    get: jest.fn(() => events([])),
    getIndex: jest.fn(async (key) => row(key)),
    list: jest.fn(async () => ({ items: [row({ id: 'a' })], cursor: 'next' })),
    presign: jest.fn(async (_key, part) => `https://bucket.s3.us-east-1.amazonaws.com/items/a/${part}?versionId=v-${part}&X-Amz-Signature=x`),
    reconcile: jest.fn(async () => 'pinned' as const),
    ...overrides,
  } as jest.Mocked<StoreOperations>;
}

/** An async iterable over events, each optionally awaited on a promise first. */
async function* events(list: Array<ReadEvent | (() => Promise<ReadEvent>)>): AsyncIterable<ReadEvent> {
  for (const item of list) {
    yield typeof item === 'function' ? await item() : item;
  }
}

/** A promise with its resolve function, to release a fake part at a chosen moment. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

/** A Function URL event (payload v2.0) with only what the reader reads. */
function urlEvent(method: string, path: string, options: { query?: string; body?: unknown; base64?: boolean } = {}): any {
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    if (options.base64) body = Buffer.from(body).toString('base64');
  }
  return {
    version: '2.0',
    rawPath: path,
    rawQueryString: options.query ?? '',
    headers: { 'content-type': 'application/json' },
    requestContext: { http: { method, path } },
    body,
    isBase64Encoded: options.base64 ?? false,
  };
}

// ---------------------------------------------------------------------------------------

const CONFIG: StoreConfig = {
  tableName: 'Invoices',
  bucketName: 'invoice-parts',
  keyPrefix: 'items/',
  partitionKey: { name: 'id', type: 'S' },
  indexes: [{ name: 'byCustomer', partitionKey: { name: 'customer', type: 'S' }, sortKey: { name: 'issuedAt', type: 'S' } }],
  writerDeadlineMs: 20_000,
};

/** A store keyed by a number partition key and a string sort key. */
const COMPOSITE: StoreConfig = {
  ...CONFIG,
  partitionKey: { name: 'tenant', type: 'N' },
  sortKey: { name: 'invoice', type: 'S' },
  indexes: [{ name: 'byYear', partitionKey: { name: 'year', type: 'N' } }],
};

interface Harness {
  store: jest.Mocked<StoreOperations>;
  logs: Array<Record<string, unknown>>;
  call(event: unknown, stream?: RecordingStream, context?: any): Promise<RecordingStream>;
}

function harness(store = fakeStore(), options: Partial<ReaderHandlerOptions> = {}): Harness {
  const logs: Array<Record<string, unknown>> = [];
  const handler = createReaderHandler(store, {
    config: CONFIG,
    log: (e) => logs.push(e),
    httpResponseStream: fakeHttpResponseStream,
    ...options,
  });
  return {
    store,
    logs,
    async call(event, stream = new RecordingStream(), context = { awsRequestId: 'req-1' }) {
      await handler(event, stream, context);
      return stream;
    },
  };
}

function requestLog(h: Harness): Record<string, any> {
  const entries = h.logs.filter((l) => l.msg === 'request');
  expect(entries).toHaveLength(1);
  return entries[0];
}

describe('Function URL requests refused before the store is called', () => {
  // [case, method, path, query, body, status, code, message fragment]
  const cases: Array<[string, string, string, string, unknown, number, string, string]> = [
    ['unknown top-level path', 'GET', '/things/1', '', undefined, 404, 'RouteNotFound', 'no route for "/things/1"'],
    ['too many segments', 'GET', '/items/a/b', '', undefined, 404, 'RouteNotFound', '/items/{id}/parts/{part}/url'],
    ['wrong method on an item', 'POST', '/items/a', '', undefined, 405, 'MethodNotAllowed', 'method POST is not allowed on /items/{id}: use GET, PUT, PATCH, DELETE'],
    ['wrong method on the collection', 'DELETE', '/items', '', undefined, 405, 'MethodNotAllowed', 'use GET'],
    ['wrong method on a part URL', 'PUT', '/items/a/parts/summary/url', '', undefined, 405, 'MethodNotAllowed', 'use GET'],
    ['bad percent-encoding', 'GET', '/items/%E0%A4%A', '', undefined, 400, 'ValidationError', 'not valid percent-encoding'],
    ['empty key segment', 'GET', '/items//parts/x/url', '', undefined, 400, 'ValidationError', "partition key 'id' is empty"],
    ['unknown query parameter on a read', 'GET', '/items/a', 'part=summary', undefined, 400, 'ValidationError', "unknown query parameter 'part': this route takes parts, fields"],
    ['query parameter on a put', 'PUT', '/items/a', 'x=1', { attributes: {} }, 400, 'ValidationError', "unknown query parameter 'x': this route takes none"],
    ['fields entry without a colon', 'GET', '/items/a', 'fields=summary', undefined, 400, 'ValidationError', 'each entry is part:path'],
    ['fields entry without a path', 'GET', '/items/a', 'fields=summary:', undefined, 400, 'ValidationError', 'each entry is part:path'],
    ['limit zero', 'GET', '/items', 'limit=0', undefined, 400, 'ValidationError', 'query parameter limit is "0": use an integer from 1 to 1000'],
    ['limit not a number', 'GET', '/items', 'limit=ten', undefined, 400, 'ValidationError', 'query parameter limit is "ten"'],
    ['limit over 1000', 'GET', '/items', 'limit=1001', undefined, 400, 'ValidationError', 'from 1 to 1000'],
    ['limit given twice', 'GET', '/items', 'limit=1&limit=2', undefined, 400, 'ValidationError', 'query parameter limit is given 2 times'],
    ['bad order', 'GET', '/items', 'order=up', undefined, 400, 'ValidationError', 'query parameter order is "up": use asc or desc'],
    ['unknown index', 'GET', '/items', 'index=byDate', undefined, 400, 'ValidationError', "unknown index \"byDate\": this store's indexes are byCustomer"],
    ['bad expectedRevision on delete', 'DELETE', '/items/a', 'expectedRevision=-1', undefined, 400, 'ValidationError', 'query parameter expectedRevision is "-1"'],
    ['bad expiresIn', 'GET', '/items/a/parts/summary/url', 'expiresIn=soon', undefined, 400, 'ValidationError', 'query parameter expiresIn is "soon"'],
    ['missing body', 'PUT', '/items/a', '', undefined, 400, 'ValidationError', 'request body is missing'],
    ['bad JSON', 'PUT', '/items/a', '', '{"attributes":', 400, 'ValidationError', 'request body is not valid JSON'],
    ['body not an object', 'PUT', '/items/a', '', '[1,2]', 400, 'ValidationError', 'request body must be a JSON object, got an array'],
    ['unknown body field', 'PUT', '/items/a', '', { attributes: {}, revision: 3 }, 400, 'ValidationError', "unknown field 'revision' in request body: allowed fields are attributes, parts, expectedRevision, create"],
    ['unknown PATCH field', 'PATCH', '/items/a', '', { create: true }, 400, 'ValidationError', "unknown field 'create' in request body: allowed fields are parts, removeParts, attributes, expectedRevision"],
    ['attributes not an object', 'PUT', '/items/a', '', { attributes: 'x' }, 400, 'ValidationError', 'request body.attributes must be a JSON object, got a string'],
    ['expectedRevision not an integer', 'PUT', '/items/a', '', { expectedRevision: 1.5 }, 400, 'ValidationError', 'request body.expectedRevision must be an integer from 1'],
    ['create not a boolean', 'PUT', '/items/a', '', { create: 'yes' }, 400, 'ValidationError', 'request body.create must be true or false, got a string'],
    ['part with two bodies', 'PUT', '/items/a', '', { parts: { summary: { body: 'x', json: {} } } }, 400, 'ValidationError', 'request body.parts.summary must have exactly one of body (text), base64 (bytes) or json (a JSON value), got body and json'],
    ['part with no body', 'PUT', '/items/a', '', { parts: { summary: { contentType: 'text/plain' } } }, 400, 'ValidationError', 'got none'],
    ['part with an unknown field', 'PUT', '/items/a', '', { parts: { summary: { data: 'x' } } }, 400, 'ValidationError', "unknown field 'data' in request body.parts.summary"],
    ['bad base64', 'PUT', '/items/a', '', { parts: { pdf: { base64: 'not base64!' } } }, 400, 'ValidationError', 'request body.parts.pdf.base64 is not valid base64'],
    ['unpadded base64', 'PUT', '/items/a', '', { parts: { pdf: { base64: 'YWJj ZA' } } }, 400, 'ValidationError', 'is not valid base64'],
    ['body not a string', 'PUT', '/items/a', '', { parts: { summary: { body: { a: 1 } } } }, 400, 'ValidationError', 'request body.parts.summary.body must be a string (use json for a JSON value or base64 for bytes), got an object'],
    ['content type with a newline', 'PUT', '/items/a', '', { parts: { summary: { body: 'x', contentType: 'text/plain\r\nx-evil: 1' } } }, 400, 'ValidationError', 'contentType must be a single-line media type of 1 to 255 printable ASCII characters'],
    ['removeParts not strings', 'PATCH', '/items/a', '', { removeParts: [1] }, 400, 'ValidationError', 'request body.removeParts must be an array of strings'],
  ];

  test.each(cases)('%s → %i', async (_name, method, path, query, body, status, code, message) => {
    const h = harness();
    const stream = await h.call(urlEvent(method, path, { query, body }));
    expect(stream.metadata?.statusCode).toBe(status);
    expect(stream.metadata?.headers?.['content-type']).toBe('application/json');
    expect(stream.json.error.code).toBe(code);
    expect(stream.json.error.message).toContain(message);
    for (const storeMethod of Object.values(h.store)) {
      expect(storeMethod).not.toHaveBeenCalled();
    }
    expect(requestLog(h)).toMatchObject({ status, code, kind: 'url' });
  });

  test('a 405 names the allowed methods in an Allow header', async () => {
    const stream = await harness().call(urlEvent('POST', '/items/a'));
    expect(stream.metadata?.headers?.allow).toBe('GET, PUT, PATCH, DELETE');
  });

  test('a body over the limit is refused with its size and the limit', async () => {
    const h = harness(fakeStore(), { maxBodyBytes: 100 });
    const stream = await h.call(urlEvent('PUT', '/items/a', { body: { attributes: { note: 'x'.repeat(200) } } }));
    expect(stream.metadata?.statusCode).toBe(413);
    expect(stream.json.error.code).toBe('PayloadTooLarge');
    expect(stream.json.error.message).toMatch(/^request body is 2\d\d bytes, over the limit of 100/);
    expect(h.store.put).not.toHaveBeenCalled();
  });

  describe('keys of a composite, numeric store', () => {
    const cases2: Array<[string, string, string]> = [
      ['a number key that is not a number', '/items/abc/inv-1', "partition key 'tenant' is a number, got \"abc\""],
      ['NaN', '/items/NaN/inv-1', "partition key 'tenant' is a number, got \"NaN\""],
      ['Infinity', '/items/Infinity/inv-1', 'is a number'],
      ['hex', '/items/0x10/inv-1', 'is a number'],
      ['an integer JavaScript cannot hold exactly', '/items/9007199254740993/inv-1', 'is 9007199254740993, which a JavaScript number cannot hold exactly (it would be 9007199254740992)'],
      ['an empty sort key', '/items/1//parts/lines/url', "sort key 'invoice' is empty"],
    ];
    test.each(cases2)('%s → 400', async (_name, path, message) => {
      const h = harness(fakeStore(), { config: COMPOSITE });
      const stream = await h.call(urlEvent('GET', path));
      expect(stream.metadata?.statusCode).toBe(400);
      expect(stream.json.error.message).toContain(message);
      expect(h.store.get).not.toHaveBeenCalled();
    });

    test('the partition key alone is not an item address', async () => {
      const h = harness(fakeStore(), { config: COMPOSITE });
      const stream = await h.call(urlEvent('GET', '/items/1'));
      expect(stream.metadata?.statusCode).toBe(404);
      expect(stream.json.error.message).toContain('items of this store are addressed as /items/{tenant}/{invoice}');
    });

    test('a list by an index with a number partition key refuses text', async () => {
      const h = harness(fakeStore(), { config: COMPOSITE });
      const stream = await h.call(urlEvent('GET', '/items', { query: 'index=byYear&pk=last' }));
      expect(stream.metadata?.statusCode).toBe(400);
      expect(stream.json.error.message).toContain("query parameter pk (index byYear's partition key) 'year' is a number, got \"last\"");
    });
  });
});

describe('Function URL routes', () => {
  test.each<[string, string, string, StoreConfig, unknown]>([
    ['list with every parameter', '/items', 'limit=10&cursor=abc&index=byCustomer&pk=c%201&order=desc', CONFIG,
      { kind: 'list', route: 'GET /items', request: { index: 'byCustomer', partitionValue: 'c 1', limit: 10, cursor: 'abc', ascending: false } }],
    ['list of the table by partition value', '/items', 'pk=7&order=asc', COMPOSITE,
      { kind: 'list', request: { partitionValue: 7, ascending: true } }],
    ['list with nothing', '/items/', '', CONFIG, { kind: 'list', request: {} }],
    ['a base URL with a trailing slash', '//items/a', '', CONFIG, { kind: 'get', request: { key: { id: 'a' } } }],
    ['read with parts and fields', '/items/inv%2F1', 'parts=summary,lines&fields=summary:total,lines:items.0,summary:currency', CONFIG,
      { kind: 'get', route: 'GET /items/{id}', request: { key: { id: 'inv/1' }, parts: ['summary', 'lines'], fields: { summary: ['total', 'currency'], lines: ['items.0'] } } }],
    ['read of the index row only (parts=)', '/items/a', 'parts=', CONFIG, { kind: 'get', request: { key: { id: 'a' }, parts: [] } }],
    ['read of every part', '/items/a', '', CONFIG, { kind: 'get', request: { key: { id: 'a' } } }],
    ['read with repeated parts parameters', '/items/a', 'parts=summary&parts=lines', CONFIG, { kind: 'get', request: { key: { id: 'a' }, parts: ['summary', 'lines'] } }],
    ['read with a composite numeric key', '/items/-12.5/%C3%BC%20x', '', COMPOSITE,
      { kind: 'get', route: 'GET /items/{tenant}/{invoice}', request: { key: { tenant: -12.5, invoice: 'ü x' } } }],
    ['presign', '/items/a/parts/summary/url', 'expiresIn=60', CONFIG,
      { kind: 'presign', route: 'GET /items/{id}/parts/{part}/url', request: { key: { id: 'a' }, part: 'summary', expiresInSeconds: 60 } }],
    ['presign with a composite key', '/items/1/b/parts/lines/url', '', COMPOSITE,
      { kind: 'presign', request: { key: { tenant: 1, invoice: 'b' }, part: 'lines' } }],
  ])('%s', (_name, path, query, config, expected) => {
    const operation = parseFunctionUrlRequest(urlEvent('GET', path, { query }), config);
    expect(operation).toMatchObject(expected as object);
    // Nothing the caller did not give reaches the store.
    expect(Object.values(operation.request).includes(undefined)).toBe(false);
  });

  test('queryStringParameters is used when rawQueryString is absent', () => {
    const event = { ...urlEvent('GET', '/items/a'), rawQueryString: undefined, queryStringParameters: { parts: 'summary' } };
    expect(parseFunctionUrlRequest(event, CONFIG)).toMatchObject({ request: { parts: ['summary'] } });
  });

  test('PUT passes attributes, text, JSON and base64 parts, and the conditions', async () => {
    const h = harness();
    const stream = await h.call(urlEvent('PUT', '/items/a', {
      body: {
        attributes: { total: 42 },
        parts: {
          summary: { json: { total: 42 } },
          notes: { body: 'hello', contentType: 'text/plain' },
          pdf: { base64: Buffer.from([0, 1, 255]).toString('base64'), contentType: 'application/pdf' },
        },
        create: true,
      },
      base64: true,
    }));
    expect(h.store.put).toHaveBeenCalledWith({
      key: { id: 'a' },
      attributes: { total: 42 },
      parts: {
        summary: { body: '{"total":42}', contentType: 'application/json' },
        notes: { body: 'hello', contentType: 'text/plain' },
        pdf: { body: new Uint8Array([0, 1, 255]), contentType: 'application/pdf' },
      },
      create: true,
    });
    expect(stream.metadata?.statusCode).toBe(201);
    expect(stream.json).toMatchObject({ key: { id: 'a' }, revision: 1 });
  });

  test('PUT over an existing item answers 200', async () => {
    const h = harness();
    const stream = await h.call(urlEvent('PUT', '/items/a', { body: { attributes: {}, expectedRevision: 1 } }));
    expect(h.store.put).toHaveBeenCalledWith({ key: { id: 'a' }, attributes: {}, expectedRevision: 1 });
    expect(stream.metadata?.statusCode).toBe(200);
    expect(stream.json.revision).toBe(2);
  });

  test('PUT that creates an item deleted before answers 201, whatever its revision (revisions continue across a delete)', async () => {
    const h = harness(fakeStore({ put: jest.fn(async (req) => ({ ...row(req.key, 7), created: true })) }));
    const stream = await h.call(urlEvent('PUT', '/items/a', { body: { attributes: {} } }));
    expect(stream.metadata?.statusCode).toBe(201);
    // The answer is the row: the store's "created" flag is the status, not a field.
    expect(stream.json).toEqual(row({ id: 'a' }, 7));
  });

  test('writes get a signal that ends their work before the function does, when the function has a deadline', async () => {
    const seen: Array<AbortSignal | undefined> = [];
    const h = harness(fakeStore({
      put: jest.fn(async (req) => { seen.push(req.signal); return { ...row(req.key, 2), created: false }; }),
    }));
    await h.call(urlEvent('PUT', '/items/a', { body: { attributes: {} } }), undefined, { awsRequestId: 'r', getRemainingTimeInMillis: () => 60_000 } as never);
    expect(seen[0]).toBeInstanceOf(AbortSignal);
    expect(seen[0]!.aborted).toBe(false);
    // Outside Lambda (no remaining time): no signal.
    await h.call(urlEvent('PUT', '/items/a', { body: { attributes: {} } }));
    expect(seen[1]).toBeUndefined();
  });

  test('a write whose function is about to time out is abandoned and answers 503 (the signal fires at once)', async () => {
    const h = harness(fakeStore({
      delete: jest.fn(async (req) => {
        await new Promise((resolve) => req.signal!.addEventListener('abort', resolve, { once: true }));
        throw new UnavailableError('the delete was abandoned before its commit: nothing was committed; retry');
      }),
    }));
    const stream = await h.call(urlEvent('DELETE', '/items/a'), undefined, { awsRequestId: 'r', getRemainingTimeInMillis: () => 1_000 } as never);
    expect(stream.metadata?.statusCode).toBe(503);
  });

  test('PATCH updates parts', async () => {
    const h = harness();
    const stream = await h.call(urlEvent('PATCH', '/items/a', { body: { parts: { lines: { body: '[]' } }, removeParts: ['notes'], expectedRevision: 2 } }));
    expect(h.store.updateParts).toHaveBeenCalledWith({ key: { id: 'a' }, parts: { lines: { body: '[]' } }, removeParts: ['notes'], expectedRevision: 2 });
    expect(stream.metadata?.statusCode).toBe(200);
    expect(stream.json.revision).toBe(3);
  });

  test('DELETE answers the deleted row', async () => {
    const h = harness();
    const stream = await h.call(urlEvent('DELETE', '/items/a', { query: 'expectedRevision=4' }));
    expect(h.store.delete).toHaveBeenCalledWith({ key: { id: 'a' }, expectedRevision: 4 });
    expect(stream.metadata?.statusCode).toBe(200);
    expect(stream.json.deleted).toMatchObject({ key: { id: 'a' }, revision: 4 });
  });

  test('list answers the store page as JSON', async () => {
    const h = harness();
    const stream = await h.call(urlEvent('GET', '/items', { query: 'limit=1' }));
    expect(h.store.list).toHaveBeenCalledWith({ limit: 1 });
    expect(stream.metadata).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
    expect(stream.json).toMatchObject({ items: [{ key: { id: 'a' } }], cursor: 'next' });
    expect(h.store.get).not.toHaveBeenCalled();
  });

  test('presign answers the URL and the version it is pinned to', async () => {
    const h = harness();
    const stream = await h.call(urlEvent('GET', '/items/a/parts/lines/url', { query: 'expiresIn=120' }));
    expect(h.store.presign).toHaveBeenCalledWith({ id: 'a' }, 'lines', 120);
    expect(stream.json).toEqual({ url: expect.stringContaining('versionId=v-lines'), versionId: 'v-lines' });
  });

  test.each<[string, Error, number, string]>([
    ['a conflict', new ConflictError('item a is at revision 3, not 2'), 409, 'Conflict'],
    ['a validation error from the store', new ValidationError("part name 'Bad' must match [a-z0-9][a-z0-9_-]{0,62}"), 400, 'ValidationError'],
    ['a missing item', new NotFoundError('no item a'), 404, 'NotFound'],
    ['DynamoDB unavailable', new UnavailableError('DynamoDB failed: retry'), 503, 'Unavailable'],
    ['a commit whose outcome is unknown', new CommitOutcomeUnknownError('the put of {"id":"a"} may or may not have been committed'), 503, 'CommitOutcomeUnknown'],
    ['a writer past its deadline', new DeadlineExceededError('past the writer deadline'), 503, 'DeadlineExceeded'],
  ])('a store error from a write (%s) keeps its status, code and message', async (_name, error, status, code) => {
    const h = harness(fakeStore({ put: jest.fn(async () => { throw error; }) }));
    const stream = await h.call(urlEvent('PUT', '/items/a', { body: { attributes: {} } }));
    expect(stream.metadata?.statusCode).toBe(status);
    expect(stream.json).toEqual({ error: { code, message: error.message, requestId: 'req-1' } });
    expect(requestLog(h)).toMatchObject({ status, code, route: 'PUT /items/{id}' });
  });

  test('an unexpected error is a 500 with a generic message; the detail is logged only', async () => {
    const h = harness(fakeStore({ list: jest.fn(async () => { throw new TypeError('cannot read x of undefined (secret detail)'); }) }));
    const stream = await h.call(urlEvent('GET', '/items'));
    expect(stream.metadata?.statusCode).toBe(500);
    expect(stream.body).not.toContain('secret detail');
    expect(stream.json.error).toEqual({ code: 'InternalError', message: 'internal error: the function log has the details', requestId: 'req-1' });
    expect(requestLog(h)).toMatchObject({ level: 'error', status: 500, error: { name: 'TypeError', message: expect.stringContaining('secret detail') } });
  });

  test('the request log line names the route, not the key, and carries no body', async () => {
    const h = harness();
    await h.call(urlEvent('PUT', '/items/secret-customer', { body: { attributes: { card: '4111' } } }));
    const entry = requestLog(h);
    expect(entry).toMatchObject({ msg: 'request', route: 'PUT /items/{id}', status: 200, method: 'PUT', requestId: 'req-1' });
    expect(typeof entry.durationMs).toBe('number');
    expect(JSON.stringify(h.logs)).not.toMatch(/secret-customer|4111/);
  });
});

describe('split read stream', () => {
  const indexEvent = (atMs = 3): ReadEvent => ({ type: 'index', row: row({ id: 'a' }), atMs });
  const partEvent = (name: string, body: string | Uint8Array, atMs: number, contentType = 'application/json'): ReadEvent => ({
    type: 'part',
    name,
    contentType,
    body: typeof body === 'string' ? new TextEncoder().encode(body) : body,
    versionId: `v-${name}`,
    refetched: false,
    atMs,
  });

  test('the index line is written before any part is available, parts in resolution order, trailer last', async () => {
    const lines = deferred<ReadEvent>();
    const summary = deferred<ReadEvent>();
    const stream = new RecordingStream();
    const h = harness(fakeStore({
      // The fake resolves parts out of request order: summary was asked first, lines arrives first.
      get: jest.fn(() => events([indexEvent(), () => lines.promise, () => summary.promise])),
    }));
    const done = h.call(urlEvent('GET', '/items/a', { query: 'parts=summary,lines' }), stream);

    // Wait until the handler has written something while no part exists yet.
    await untilWritten(stream, () => stream.chunks.length > 0);
    expect(stream.lines.map((l) => l.type)).toEqual(['index']);
    expect(stream.metadata).toEqual({ statusCode: 200, headers: { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' } });

    lines.resolve(partEvent('lines', '[{"sku":"x"}]', 40));
    await untilWritten(stream, () => stream.lines.length === 2);
    expect(stream.lines[1].name).toBe('lines');

    summary.resolve(partEvent('summary', '{"total": 42}', 55));
    await done;

    const all = stream.lines;
    expect(all.map((l) => l.type === 'part' ? `part:${l.name}` : l.type)).toEqual(['index', 'part:lines', 'part:summary', 'end']);
    expect(all[0]).toEqual({ type: 'index', row: row({ id: 'a' }), atMs: 3 });
    expect(all[2]).toEqual({
      type: 'part',
      name: 'summary',
      contentType: 'application/json',
      encoding: 'utf8',
      body: '{"total": 42}',
      versionId: 'v-summary',
      refetched: false,
      atMs: 55,
    });
    expect(all[3]).toEqual({ type: 'end', requestId: 'req-1', timings: { indexMs: 3, partsMs: { lines: 40, summary: 55 }, totalMs: expect.any(Number) }, errors: [] });
    // One line per chunk: nothing is held back to be written together.
    expect(stream.chunks.map((c) => c.text.endsWith('\n') && c.text.split('\n').length === 2)).toEqual([true, true, true, true]);
    expect(h.store.get).toHaveBeenCalledWith(expect.objectContaining({ key: { id: 'a' }, parts: ['summary', 'lines'], partTimeoutMs: 10_000, signal: expect.any(AbortSignal) }));
  });

  test('a failed part is a part-error line and a trailer error; the other parts are still served', async () => {
    const h = harness(fakeStore({
      get: jest.fn(() => events([
        indexEvent(),
        { type: 'part-error', name: 'lines', code: 'Timeout', message: 'S3 did not answer within 10000 ms', atMs: 10_003 },
        partEvent('summary', '{}', 20),
      ])),
    }));
    const stream = await h.call(urlEvent('GET', '/items/a'));
    expect(stream.lines.map((l) => l.type)).toEqual(['index', 'part-error', 'part', 'end']);
    expect(stream.lines[1]).toEqual({
      type: 'part-error', name: 'lines', code: 'Timeout', message: 'S3 did not answer within 10000 ms', requestId: 'req-1', atMs: 10_003,
    });
    expect(stream.lines[3].errors).toEqual([{ name: 'lines', code: 'Timeout', message: 'S3 did not answer within 10000 ms' }]);
    expect(requestLog(h)).toMatchObject({ status: 200, parts: 1, partErrors: [{ name: 'lines', code: 'Timeout' }] });
  });

  test('binary parts are base64, text parts byte-equal UTF-8', async () => {
    const bytes = new Uint8Array([0, 159, 146, 150, 255]);
    const h = harness(fakeStore({
      get: jest.fn(() => events([indexEvent(), partEvent('pdf', bytes, 5, 'application/pdf'), partEvent('note', 'grüße ✓', 6, 'text/plain; charset=utf-8')])),
    }));
    const stream = await h.call(urlEvent('GET', '/items/a'));
    const [, pdf, note] = stream.lines;
    expect(pdf).toMatchObject({ encoding: 'base64', contentType: 'application/pdf' });
    expect(Buffer.from(pdf.body, 'base64')).toEqual(Buffer.from(bytes));
    expect(note).toMatchObject({ encoding: 'utf8', body: 'grüße ✓' });
  });

  test('a dangling pointer emits a DanglingPointers metric in Embedded Metric Format', async () => {
    const h = harness(fakeStore({
      get: jest.fn(() => events([
        indexEvent(),
        { type: 'part-error', name: 'lines', code: 'DanglingPointer', message: 'pinned version v-lines no longer exists', atMs: 9 },
      ])),
    }));
    await h.call(urlEvent('GET', '/items/a'));
    const metric = h.logs.find((l) => l._aws !== undefined) as any;
    expect(metric).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Namespace: 'SplitStore', Dimensions: [['TableName']], Metrics: [{ Name: 'DanglingPointers', Unit: 'Count' }] }] },
      TableName: 'Invoices',
      DanglingPointers: 1,
    });
    expect(typeof metric._aws.Timestamp).toBe('number');
  });

  test('no metric line when nothing dangles', async () => {
    const h = harness(fakeStore({ get: jest.fn(() => events([indexEvent(), partEvent('summary', '{}', 4)])) }));
    await h.call(urlEvent('GET', '/items/a'));
    expect(h.logs.filter((l) => l._aws !== undefined)).toEqual([]);
  });

  test.each<[string, Error, number, string]>([
    ['a missing row', new NotFoundError('no item with id "a"'), 404, 'NotFound'],
    ['DynamoDB failing', new UnavailableError('DynamoDB GetItem failed: retry with backoff'), 503, 'Unavailable'],
    ['a bad part name', new ValidationError("part name 'A' must match [a-z0-9][a-z0-9_-]{0,62}"), 400, 'ValidationError'],
  ])('an error before the first event (%s) is an HTTP status with a JSON body, not a stream', async (_name, error, status, code) => {
    const h = harness(fakeStore({
      get: jest.fn(() => (async function* () {
        throw error;
      })()),
    }));
    const stream = await h.call(urlEvent('GET', '/items/a'));
    expect(stream.metadata?.statusCode).toBe(status);
    expect(stream.metadata?.headers?.['content-type']).toBe('application/json');
    expect(stream.json).toEqual({ error: { code, message: error.message, requestId: 'req-1' } });
  });

  test('an error after the index line ends the stream with an error line and the trailer', async () => {
    const h = harness(fakeStore({
      get: jest.fn(() => (async function* () {
        yield indexEvent();
        throw new Error('socket hang up (detail)');
      })()),
    }));
    const stream = await h.call(urlEvent('GET', '/items/a'));
    expect(stream.metadata?.statusCode).toBe(200);
    expect(stream.lines.map((l) => l.type)).toEqual(['index', 'error', 'end']);
    expect(stream.lines[1]).toMatchObject({ code: 'InternalError', message: 'internal error: the function log has the details' });
    expect(stream.body).not.toContain('(detail)');
    expect(requestLog(h)).toMatchObject({ level: 'error', status: 500, error: { message: 'socket hang up (detail)' } });
  });

  test('a DynamoDB read still running when the function\'s time is nearly out: 503 before the stream', async () => {
    const h = harness(fakeStore({
      get: jest.fn((req) => (async function* () {
        await new Promise((resolve) => req.signal!.addEventListener('abort', resolve, { once: true }));
        throw req.signal!.reason;
      })()),
    }));
    const stream = await h.call(urlEvent('GET', '/items/a'), new RecordingStream(), { awsRequestId: 'r', getRemainingTimeInMillis: () => 1000 });
    expect(stream.metadata?.statusCode).toBe(503);
    expect(stream.json.error.code).toBe('Unavailable');
  });

  test('parts still running when the function\'s time is nearly out: an error line, then the trailer', async () => {
    const h = harness(fakeStore({
      get: jest.fn((req) => (async function* () {
        yield indexEvent();
        await new Promise((resolve) => req.signal!.addEventListener('abort', resolve, { once: true }));
        throw req.signal!.reason;
      })()),
    }));
    const stream = await h.call(urlEvent('GET', '/items/a'), new RecordingStream(), { awsRequestId: 'r', getRemainingTimeInMillis: () => 1000 });
    expect(stream.lines.map((l) => l.type)).toEqual(['index', 'error', 'end']);
    expect(stream.lines[1]).toMatchObject({ code: 'Unavailable' });
  });

  test('the part timeout is capped by the time the function has left', async () => {
    const h = harness(fakeStore({ get: jest.fn(() => events([indexEvent()])) }), { partTimeoutMs: 8000 });
    await h.call(urlEvent('GET', '/items/a'), new RecordingStream(), { awsRequestId: 'r', getRemainingTimeInMillis: () => 3000 });
    expect(h.store.get).toHaveBeenCalledWith(expect.objectContaining({ partTimeoutMs: 2000 }));
  });

  test('a client that hangs up aborts the reads still in flight and stops the stream', async () => {
    const never = deferred<ReadEvent>();
    let signal: AbortSignal | undefined;
    const stream = new RecordingStream();
    const h = harness(fakeStore({
      get: jest.fn((req) => {
        signal = req.signal;
        return events([indexEvent(), () => Promise.race([never.promise, abortedPart(req.signal!)])]);
      }),
    }));
    const done = h.call(urlEvent('GET', '/items/a', { query: 'parts=lines' }), stream);
    await untilWritten(stream, () => stream.chunks.length > 0);
    stream.destroy();
    await done;
    expect(signal?.aborted).toBe(true);
    expect(stream.lines.map((l) => l.type)).toEqual(['index']);
  });
});

describe('plain JSON invocations', () => {
  test('get gathers the split read in one document', async () => {
    const stream = new RecordingStream();
    const h = harness(fakeStore({
      get: jest.fn(() => events([
        { type: 'index', row: row({ id: 'a' }), atMs: 2 },
        { type: 'part', name: 'summary', contentType: 'application/json', body: new TextEncoder().encode('{"total":42}'), versionId: 'v1', refetched: true, atMs: 7 },
        { type: 'part-error', name: 'lines', code: 'S3Error', message: 'AccessDenied', atMs: 8 },
      ])),
    }));
    await h.call({ operation: 'get', key: { id: 'a' }, parts: ['summary', 'lines'], fields: { summary: ['total'] } }, stream);
    expect(stream.metadata).toBeUndefined(); // no HTTP prelude in an Invoke payload
    expect(stream.contentType).toBe('application/json');
    expect(stream.json).toEqual({
      ok: true,
      result: {
        row: row({ id: 'a' }),
        parts: { summary: { contentType: 'application/json', encoding: 'utf8', body: '{"total":42}', versionId: 'v1', refetched: true } },
        errors: [{ name: 'lines', code: 'S3Error', message: 'AccessDenied' }],
        requestId: 'req-1',
        timings: { indexMs: 2, partsMs: { summary: 7, lines: 8 }, totalMs: expect.any(Number) },
      },
    });
    expect(h.store.get).toHaveBeenCalledWith(expect.objectContaining({ key: { id: 'a' }, parts: ['summary', 'lines'], fields: { summary: ['total'] } }));
  });

  test.each<[string, Record<string, unknown>, keyof StoreOperations, unknown[], unknown]>([
    ['list', { operation: 'list', index: 'byCustomer', partitionValue: 'c1', limit: 5, cursor: 'x', ascending: false }, 'list',
      [{ index: 'byCustomer', partitionValue: 'c1', limit: 5, cursor: 'x', ascending: false }], { items: [row({ id: 'a' })], cursor: 'next' }],
    ['put', { operation: 'put', key: { id: 'a' }, attributes: { n: 1 }, parts: { summary: { json: [1] } }, expectedRevision: 1 }, 'put',
      [{ key: { id: 'a' }, attributes: { n: 1 }, parts: { summary: { body: '[1]', contentType: 'application/json' } }, expectedRevision: 1 }], row({ id: 'a' }, 2)],
    ['updateParts', { operation: 'updateParts', key: { id: 'a' }, removeParts: ['lines'] }, 'updateParts',
      [{ key: { id: 'a' }, removeParts: ['lines'] }], row({ id: 'a' }, 3)],
    ['delete', { operation: 'delete', key: { id: 'a' }, expectedRevision: 3 }, 'delete',
      [{ key: { id: 'a' }, expectedRevision: 3 }], { deleted: row({ id: 'a' }, 4) }],
    ['presign', { operation: 'presign', key: { id: 'a' }, part: 'summary', expiresIn: 30 }, 'presign',
      [{ id: 'a' }, 'summary', 30], { url: expect.stringContaining('versionId=v-summary'), versionId: 'v-summary' }],
  ])('%s', async (_name, event, method, args, result) => {
    const h = harness();
    const stream = await h.call(event);
    expect(h.store[method]).toHaveBeenCalledWith(...args);
    expect(stream.json).toEqual({ ok: true, result });
    expect(requestLog(h)).toMatchObject({ kind: 'invoke', route: `invoke ${event.operation}`, status: 200 });
  });

  test.each<[string, unknown, string]>([
    ['an unknown operation', { operation: 'scan' }, 'unknown operation "scan": valid operations are get, list, put, updateParts, delete, presign'],
    ['no operation and no HTTP context', { key: { id: 'a' } }, 'unknown operation undefined: valid operations are'],
    ['an event that is not an object', 'get', 'event must be a JSON object, got a string'],
    ['an unknown field', { operation: 'delete', key: { id: 'a' }, force: true }, "unknown field 'force' in delete: allowed fields are operation, key, expectedRevision"],
    ['a missing key', { operation: 'get' }, 'get.key is missing'],
    ['a key value of the wrong kind', { operation: 'get', key: { id: true } }, 'get.key.id must be a string or a number, got a boolean'],
    ['parts not an array', { operation: 'get', key: { id: 'a' }, parts: 'summary' }, 'get.parts must be an array of strings, got a string'],
    ['a limit out of range', { operation: 'list', limit: 5000 }, 'list.limit must be an integer from 1 to 1000, got 5000'],
    ['a presign without part', { operation: 'presign', key: { id: 'a' } }, 'presign.part is missing'],
    ['an object as partition value', { operation: 'list', partitionValue: {} }, 'list.partitionValue must be a string or a number, got an object'],
  ])('refuses %s with a 400 naming the problem', async (_name, event, message) => {
    const h = harness();
    const stream = await h.call(event);
    expect(stream.json).toEqual({ ok: false, error: { statusCode: 400, code: 'ValidationError', message: expect.stringContaining(message), requestId: 'req-1' } });
    for (const method of Object.values(h.store)) {
      expect(method).not.toHaveBeenCalled();
    }
  });

  test('a store error keeps its status and code', async () => {
    const h = harness(fakeStore({ delete: jest.fn(async () => { throw new ConflictError('item a is at revision 5, not 3'); }) }));
    const stream = await h.call({ operation: 'delete', key: { id: 'a' }, expectedRevision: 3 });
    expect(stream.json).toEqual({ ok: false, error: { statusCode: 409, code: 'Conflict', message: 'item a is at revision 5, not 3', requestId: 'req-1' } });
  });

  test('a split read that fails before the row is an error document', async () => {
    const h = harness(fakeStore({ get: jest.fn(() => (async function* () { throw new NotFoundError('no item a'); })()) }));
    const stream = await h.call({ operation: 'get', key: { id: 'a' } });
    expect(stream.json).toEqual({ ok: false, error: { statusCode: 404, code: 'NotFound', message: 'no item a', requestId: 'req-1' } });
  });
});

describe('error mapping', () => {
  test.each<[string, unknown, number, string]>([
    ['an SDK server fault', Object.assign(new Error('boom'), { name: 'InternalServerError', $fault: 'server', $metadata: {} }), 503, 'Unavailable'],
    ['SDK throttling', Object.assign(new Error('slow down'), { name: 'ThrottlingException', $fault: 'client', $metadata: {} }), 503, 'Unavailable'],
    ['an SDK access error', Object.assign(new Error('denied'), { name: 'AccessDeniedException', $fault: 'client', $metadata: {} }), 500, 'InternalError'],
    ['a thrown string', 'oops', 500, 'InternalError'],
  ])('%s', (_name, error, status, code) => {
    expect(toErrorBody(error)).toMatchObject({ statusCode: status, code });
  });
});

describe('lazy initialisation', () => {
  test('a misconfigured function answers 500 and logs what is missing', async () => {
    const logs: Array<Record<string, unknown>> = [];
    const init = jest.fn(() => { throw new Error('SPLIT_STORE_TABLE_NAME is not set'); });
    const handler = createLazyReaderHandler(init, { log: (e) => logs.push(e), httpResponseStream: fakeHttpResponseStream });
    const url = new RecordingStream();
    await handler(urlEvent('GET', '/items/a'), url);
    expect(url.metadata?.statusCode).toBe(500);
    expect(url.json.error.code).toBe('InternalError');
    const invoke = new RecordingStream();
    await handler({ operation: 'list' }, invoke);
    expect(invoke.json).toMatchObject({ ok: false, error: { statusCode: 500 } });
    expect(logs[0]).toMatchObject({ level: 'error', msg: 'reader is misconfigured', error: 'SPLIT_STORE_TABLE_NAME is not set' });
  });

  test('the store is built once and reused', async () => {
    const store = fakeStore();
    const init = jest.fn(() => ({ store, options: { config: CONFIG, log: () => undefined, httpResponseStream: fakeHttpResponseStream } }));
    const handler = createLazyReaderHandler(init);
    await handler({ operation: 'list' }, new RecordingStream());
    await handler({ operation: 'list' }, new RecordingStream());
    expect(init).toHaveBeenCalledTimes(1);
    expect(store.list).toHaveBeenCalledTimes(2);
  });
});

describe('the awslambda global', () => {
  test('HttpResponseStream.from of the runtime is used by default', async () => {
    const uninstall = installFakeAwsLambda();
    try {
      const h = harness(fakeStore(), { httpResponseStream: undefined });
      const stream = await h.call(urlEvent('GET', '/items'));
      expect(stream.metadata?.statusCode).toBe(200);
    } finally {
      uninstall();
    }
  });

  test('outside Lambda the missing global is named', () => {
    expect(() => lambdaHttpResponseStream(new RecordingStream(), { statusCode: 200 })).toThrow(/awslambda.HttpResponseStream is not defined/);
  });
});

describe('stream helpers', () => {
  test('writeChunk waits for drain under backpressure, so order and content survive a slow client', async () => {
    const stream = new RecordingStream({ highWaterMark: 1, delayMs: 2 });
    let drains = 0;
    stream.on('drain', () => drains++);
    for (let i = 0; i < 5; i++) await writeChunk(stream, `line ${i}\n`);
    await endStream(stream);
    expect(stream.body).toBe('line 0\nline 1\nline 2\nline 3\nline 4\n');
    expect(drains).toBeGreaterThan(0);
  });

  test('writing to a closed stream is a no-op', async () => {
    const stream = new RecordingStream();
    stream.destroy();
    await writeChunk(stream, 'x');
    await endStream(stream, 'y');
    expect(stream.chunks).toEqual([]);
  });

  test.each<[string, boolean]>([
    ['application/json', true], ['application/vnd.api+json; charset=utf-8', true], ['text/csv', true],
    ['Application/XML', true], ['application/octet-stream', false], ['image/png', false], ['application/pdf', false],
  ])('isTextual(%s) = %s', (type, textual) => {
    expect(isTextual(type)).toBe(textual);
  });

  test('invalid UTF-8 under a text type falls back to base64', () => {
    expect(encodeBody('text/plain', new Uint8Array([0xc3, 0x28]))).toEqual({ encoding: 'base64', body: 'wyg=' });
  });

  test('toJson turns sets, binary and big integers into JSON values', () => {
    expect(toJson({ s: new Set(['a', 'b']), b: new Uint8Array([1, 2]), n: BigInt('12345678901234567890') }))
      .toBe('{"s":["a","b"],"b":"AQI=","n":"12345678901234567890"}');
  });

  test('danglingPointerMetric is a valid EMF document', () => {
    const metric = danglingPointerMetric('T', 2, 1700000000000) as any;
    expect(metric._aws.Timestamp).toBe(1700000000000);
    // Every metric and dimension the directive names is a top-level member.
    for (const m of metric._aws.CloudWatchMetrics[0].Metrics) expect(typeof metric[m.Name]).toBe('number');
    for (const d of metric._aws.CloudWatchMetrics[0].Dimensions.flat()) expect(typeof metric[d]).toBe('string');
  });
});

describe('SDK clients', () => {
  test.each<[Record<string, string>, boolean]>([
    [{}, false],
    [{ AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000' }, true],
    [{ AWS_ENDPOINT_URL: 'http://127.0.0.1:9000' }, true],
    [{ AWS_S3_FORCE_PATH_STYLE: '1' }, true],
    [{ AWS_S3_FORCE_PATH_STYLE: 'true' }, true],
    [{ AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000', AWS_S3_FORCE_PATH_STYLE: '0' }, false],
  ])('path-style for %j is %s', (env, expected) => {
    expect(s3ForcePathStyle(env)).toBe(expected);
  });

  test('the S3 client is built path-style for a local endpoint', async () => {
    const { dynamodb, s3 } = sdkClientsFromEnv({ AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000' });
    try {
      expect(s3.config.forcePathStyle).toBe(true);
    } finally {
      dynamodb.destroy();
      s3.destroy();
    }
  });
});

// ---------------------------------------------------------------------------------------

/** Resolves once `predicate` holds: checked now and after each chunk the stream records. */
function untilWritten(stream: RecordingStream, predicate: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (!predicate()) return;
      stream.off('chunk', check);
      resolve();
    };
    stream.on('chunk', check);
    check();
  });
}

function abortedPart(signal: AbortSignal): Promise<ReadEvent> {
  return new Promise((_resolve, reject) => {
    signal.addEventListener('abort', () => reject(new Error('aborted')));
  });
}

// Keep the imported type in use for readers of the fixtures above.
export type { IndexRow };

describe('line padding and reader environment', () => {
  test('minLineBytes pads every line but the trailer, and each stays valid JSON', async () => {
    const h = harness(fakeStore({
      get: jest.fn(() => events([
        { type: 'index', row: row({ id: 'a' }), atMs: 1 },
        { type: 'part', name: 'summary', contentType: 'application/json', body: new TextEncoder().encode('{"ü":1}'), versionId: 'v', refetched: false, atMs: 2 },
      ])),
    }), { minLineBytes: 1024 });
    const stream = await h.call(urlEvent('GET', '/items/a'));
    const sizes = stream.chunks.map((c) => Buffer.byteLength(c.text));
    expect(sizes.slice(0, 2)).toEqual([1024, 1024]);
    expect(sizes[2]).toBeLessThan(1024);
    expect(stream.lines.map((l) => l.type)).toEqual(['index', 'part', 'end']);
    expect(stream.lines[1].body).toBe('{"ü":1}');
  });

  test('streamOptionsFromEnv reads the tuning variables and refuses bad values', () => {
    expect(streamOptionsFromEnv({})).toEqual({});
    expect(streamOptionsFromEnv({ SPLIT_STORE_PART_TIMEOUT_MS: '2500', SPLIT_STORE_STREAM_MIN_LINE_BYTES: '0', SPLIT_STORE_MAX_BODY_BYTES: '1000' }))
      .toEqual({ partTimeoutMs: 2500, minLineBytes: 0, maxBodyBytes: 1000 });
    expect(() => streamOptionsFromEnv({ SPLIT_STORE_PART_TIMEOUT_MS: 'soon' })).toThrow('SPLIT_STORE_PART_TIMEOUT_MS must be an integer from 1 to 900000, got "soon"');
    // Longer than any read may ask for: every read would be refused, so the function refuses to start.
    expect(() => streamOptionsFromEnv({ SPLIT_STORE_PART_TIMEOUT_MS: '900001' })).toThrow('from 1 to 900000');
    expect(() => streamOptionsFromEnv({ SPLIT_STORE_STREAM_MIN_LINE_BYTES: '-1' })).toThrow('SPLIT_STORE_STREAM_MIN_LINE_BYTES must be an integer from 0 to 1048576, got "-1"');
    // The construct's reader props are checked against the same limits (test/reader-tuning.test.ts).
    expect(() => streamOptionsFromEnv({ SPLIT_STORE_MAX_BODY_BYTES: '6291457' })).toThrow('SPLIT_STORE_MAX_BODY_BYTES must be an integer from 1 to 6291456');
  });
});

test('a store whose get throws synchronously still gets an HTTP error answer', async () => {
  const h = harness(fakeStore({ get: jest.fn(() => { throw new ValidationError('bad parts'); }) }));
  const stream = await h.call(urlEvent('GET', '/items/a'));
  expect(stream.metadata?.statusCode).toBe(400);
  expect(stream.json.error.message).toBe('bad parts');
});

test('jsonLog writes one bare JSON line on stdout', () => {
  const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    jsonLog({ msg: 'hello', n: 1 });
    expect(write).toHaveBeenCalledTimes(1);
    const text = write.mock.calls[0][0] as string;
    expect(text.endsWith('\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(2);
    expect(JSON.parse(text)).toEqual({ time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), msg: 'hello', n: 1 });
  } finally {
    write.mockRestore();
  }
});
