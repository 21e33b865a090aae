/**
 * The reader handler over the real SplitStoreClient, against DynamoDB Local and the
 * versioned S3 test server: the handler's requests, the store's answers and the wire format
 * fit together. (reader.e2e.test.ts runs the same kind of checks through the BUILT bundle.)
 */
import { Writable } from 'stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { StoreConfig } from '../../src/runtime/config';
import { createReaderHandler, ReaderHandler } from '../../src/runtime/handler';
import { partKey } from '../../src/runtime/keys';
import { SplitStoreClient } from '../../src/runtime/store';
import { startLocalStore, VersionedLocalStore } from '../support/local-store';
import { VersionedS3Server } from '../support/versioned-s3-server';

/** The store's configuration, as the reader gets it from the synthesized template. */
let config: StoreConfig;

/** What a client of the Function URL sees: status, headers, and each chunk in arrival order. */
class Response extends Writable {
  public readonly chunks: string[] = [];
  public statusCode?: number;
  public headers?: Record<string, string>;

  /** @param onChunk called with each chunk as it is written */
  constructor(private readonly onChunk?: (text: string) => void) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.chunks.push(chunk.toString('utf8'));
    this.onChunk?.(chunk.toString('utf8'));
    callback();
  }

  get lines(): any[] {
    return this.chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  }

  get json(): any {
    return JSON.parse(this.chunks.join(''));
  }
}

function urlEvent(method: string, path: string, query = '', body?: unknown): any {
  return {
    rawPath: path,
    rawQueryString: query,
    headers: {},
    requestContext: { http: { method, path } },
    body: body === undefined ? undefined : JSON.stringify(body),
    isBase64Encoded: false,
  };
}

describe('reader handler over the store, against local emulators', () => {
  let local: VersionedLocalStore;
  let s3server: VersionedS3Server;
  let dynamodb: DynamoDBClient;
  let s3: S3Client;
  let handler: ReaderHandler;
  const logs: Array<Record<string, unknown>> = [];

  async function call(method: string, path: string, query = '', body?: unknown): Promise<Response> {
    const response = new Response();
    await handler(urlEvent(method, path, query, body), response, { awsRequestId: 'local' });
    return response;
  }

  beforeAll(async () => {
    local = await startLocalStore({ maxAttempts: 1 });
    ({ s3server, dynamodb, s3, config } = local);
    const store = new SplitStoreClient({ config, dynamodb, s3, log: () => undefined });
    handler = createReaderHandler(store, {
      config,
      log: (entry) => logs.push(entry),
      httpResponseStream: (stream, metadata) => {
        Object.assign(stream, { statusCode: metadata.statusCode, headers: metadata.headers });
        return stream;
      },
    });
  });

  afterAll(async () => {
    await local?.stop();
  });

  afterEach(() => {
    s3server.setLatency({});
    s3server.hold('GetObject').release();
  });

  const summary = '{"total": 42, "currency": "EUR"}';
  const lines = '[{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}]';

  test('write, streamed read, projection, list, update, presign, delete', async () => {
    // WRITE an item with two parts.
    const created = await call('PUT', '/items/inv%2F1', '', {
      attributes: { customer: 'c1', total: 42 },
      parts: { summary: { body: summary }, lines: { body: lines } },
      create: true,
    });
    expect(created.statusCode).toBe(201);
    expect(created.json).toMatchObject({ key: { id: 'inv/1' }, revision: 1, attributes: { customer: 'c1', total: 42 } });

    // READ it streamed: index first, then both parts byte-equal, then the trailer.
    const read = await call('GET', '/items/inv%2F1', 'parts=summary,lines');
    expect(read.statusCode).toBe(200);
    expect(read.headers?.['content-type']).toBe('application/x-ndjson');
    const readLines = read.lines;
    expect(readLines[0]).toMatchObject({ type: 'index', row: { revision: 1 } });
    expect(readLines.slice(1, 3).map((l) => l.name).sort()).toEqual(['lines', 'summary']);
    const body = Object.fromEntries(readLines.slice(1, 3).map((l) => [l.name, l.body]));
    expect(body).toEqual({ summary, lines });
    expect(readLines[3]).toMatchObject({ type: 'end', errors: [] });

    // Field projection.
    const projected = await call('GET', '/items/inv%2F1', 'parts=summary&fields=summary:total');
    expect(JSON.parse(projected.lines[1].body)).toEqual({ total: 42 });

    // LIST never touches S3.
    s3server.resetStats();
    const list = await call('GET', '/items', 'limit=10');
    expect(list.statusCode).toBe(200);
    expect(list.json.items.map((r: any) => r.key)).toEqual([{ id: 'inv/1' }]);
    expect(s3server.count()).toBe(0);

    // PATCH one part: the other keeps its pin.
    const lines2 = '[{"sku": "c", "qty": 3}]';
    const patched = await call('PATCH', '/items/inv%2F1', '', { parts: { lines: { body: lines2 } }, expectedRevision: 1 });
    expect(patched.statusCode).toBe(200);
    expect(patched.json.revision).toBe(2);
    expect(patched.json.parts.summary.versionId).toBe(readLines[0].row.parts.summary.versionId);
    expect(patched.json.parts.lines.versionId).not.toBe(readLines[0].row.parts.lines.versionId);

    // PRESIGN a URL pinned to the part's version.
    const url = await call('GET', '/items/inv%2F1/parts/lines/url', 'expiresIn=60');
    expect(url.statusCode).toBe(200);
    expect(url.json.versionId).toBe(patched.json.parts.lines.versionId);
    expect(url.json.url).toContain(`versionId=${encodeURIComponent(url.json.versionId)}`);

    // DELETE, then the item is gone.
    const deleted = await call('DELETE', '/items/inv%2F1', 'expectedRevision=2');
    expect(deleted.statusCode).toBe(200);
    expect(deleted.json.deleted.revision).toBe(2);
    const gone = await call('GET', '/items/inv%2F1');
    expect(gone.statusCode).toBe(404);
    expect(gone.json.error.code).toBe('NotFound');
  });

  test('a write with a stale revision is a 409 and changes nothing', async () => {
    await call('PUT', '/items/stale', '', { parts: { summary: { body: summary } }, create: true });
    const before = await call('GET', '/items/stale', 'parts=summary');
    s3server.resetStats();
    const stale = await call('PUT', '/items/stale', '', { attributes: { total: 1 }, parts: { summary: { body: '{}' } }, expectedRevision: 7 });
    expect(stale.statusCode).toBe(409);
    expect(stale.json.error.code).toBe('Conflict');
    // Refused on the row it read, before any part was put: S3 was not touched.
    expect(s3server.count('PutObject')).toBe(0);
    expect(s3server.count('DeleteObject')).toBe(0);
    const after = await call('GET', '/items/stale', 'parts=summary');
    expect(after.lines[0].row).toEqual(before.lines[0].row);
    expect(after.lines[1]).toMatchObject({ body: summary, refetched: false });
  });

  test('an unconditional PUT over an item answers 200 with the next revision', async () => {
    await call('PUT', '/items/over', '', { parts: { summary: { body: summary } }, create: true });
    const again = await call('PUT', '/items/over', '', { parts: { summary: { body: '{"total": 43}' } } });
    expect(again.statusCode).toBe(200);
    expect(again.json.revision).toBe(2);
    const read = await call('GET', '/items/over', 'parts=summary');
    expect(read.lines[1].body).toBe('{"total": 43}');
  });

  test('a plain invocation gets the same split read as one document', async () => {
    await call('PUT', '/items/doc', '', { parts: { summary: { body: summary }, lines: { body: lines } } });
    const response = new Response();
    await handler({ operation: 'get', key: { id: 'doc' } }, response);
    expect(response.statusCode).toBeUndefined();
    const { ok, result } = response.json;
    expect(ok).toBe(true);
    expect(result.row.key).toEqual({ id: 'doc' });
    expect(result.parts.summary.body).toBe(summary);
    expect(result.parts.lines.body).toBe(lines);
    expect(result.errors).toEqual([]);
  });

  test('the index line is written while the S3 reads are held, the parts once they are released', async () => {
    await call('PUT', '/items/slow', '', { parts: { summary: { body: summary }, lines: { body: lines } } });
    s3server.resetStats();
    // No GetObject is answered until the index line has been written: a reader that waited
    // for S3 before streaming the row would time its parts out instead of serving them.
    const hold = s3server.hold('GetObject');
    const events: string[] = [];
    const read = new Response((text) => {
      events.push(JSON.parse(text).type);
      if (events.length === 1) {
        events.push('release');
        hold.release();
      }
    });
    await handler(urlEvent('GET', '/items/slow', 'parts=summary,lines'), read, { awsRequestId: 'local' });
    // Each line is its own chunk, in the order written.
    expect(events).toEqual(['index', 'release', 'part', 'part', 'end']);
    expect(s3server.count('GetObject')).toBe(2);
  });

  test('a pinned version that no longer exists is a DanglingPointer part error and a metric; the other part is served', async () => {
    const put = await call('PUT', '/items/dangling', '', { parts: { summary: { body: summary }, lines: { body: lines } } });
    // Something outside the protocol (a lifecycle rule, a person) removed the pinned version.
    await s3.send(new DeleteObjectCommand({
      Bucket: config.bucketName, Key: partKey(config, { id: 'dangling' }, 'lines'), VersionId: put.json.parts.lines.versionId,
    }));
    logs.length = 0;
    const read = await call('GET', '/items/dangling', 'parts=summary,lines');
    expect(read.statusCode).toBe(200);
    const byName = Object.fromEntries(read.lines.filter((l) => l.name).map((l) => [l.name, l]));
    expect(byName.summary).toMatchObject({ type: 'part', body: summary });
    expect(byName.lines).toMatchObject({ type: 'part-error', code: 'DanglingPointer' });
    expect(read.lines.at(-1)).toMatchObject({ type: 'end', errors: [expect.objectContaining({ name: 'lines', code: 'DanglingPointer' })] });
    expect(logs.find((l) => l._aws !== undefined)).toMatchObject({ TableName: config.tableName, DanglingPointers: 1 });
  });

  test('a bad part name is refused before anything is written', async () => {
    s3server.resetStats();
    const response = await call('PUT', '/items/bad', '', { parts: { 'Not Valid': { body: '{}' } } });
    expect(response.statusCode).toBe(400);
    expect(response.json.error.message).toContain('Not Valid');
    expect(s3server.count('PutObject')).toBe(0);
  });
});
