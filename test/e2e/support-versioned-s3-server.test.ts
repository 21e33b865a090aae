/**
 * The versioned S3 test server's instrumentation (counters, log, latency, injected
 * failures) and its robustness (aborted connections, bad checksums). Its S3 behaviour is
 * covered by s3-contract.test.ts.
 */
import * as http from 'node:http';
import { CreateBucketCommand, GetObjectCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { waitFor } from '../support/ports';
import { VersionedS3Server } from '../support/versioned-s3-server';

/** One turn of the event loop's I/O phase (setImmediate is not faked). */
const ioTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A plain HTTP GET: status and body. */
function httpGet(url: string): Promise<{ status?: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

async function s3Error(promise: Promise<unknown>): Promise<S3ServiceException> {
  const error = await promise.then(() => undefined, (e) => e);
  if (!(error instanceof S3ServiceException)) throw new Error(`expected an S3 error, got ${error}`);
  return error;
}

describe('versioned S3 test server instrumentation', () => {
  let server: VersionedS3Server;
  let s3: S3Client;
  const bucket = 'instrumented';

  beforeAll(async () => {
    server = await VersionedS3Server.start();
    s3 = new S3Client({
      region: 'us-east-1',
      endpoint: server.endpoint,
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  });

  afterEach(() => {
    server.setLatency({});
    server.resetStats();
  });

  afterAll(async () => {
    s3?.destroy();
    await server?.stop();
  });

  test('counts requests per operation and logs key, versionId, status and times', async () => {
    server.resetStats();
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a', Body: 'x' }));
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'a', VersionId: put.VersionId }));
    await get.Body!.transformToString();
    expect(server.requests).toEqual({ PutObject: 1, GetObject: 1 });
    expect(server.count()).toBe(2);
    expect(server.count('GetObject')).toBe(1);
    expect(server.log.map((e) => [e.operation, e.bucket, e.key, e.versionId, e.status])).toEqual([
      ['PutObject', bucket, 'a', put.VersionId, 200],
      ['GetObject', bucket, 'a', put.VersionId, 200],
    ]);
    for (const entry of server.log) expect(entry.endMs).toBeGreaterThanOrEqual(entry.startMs);
  });

  test('injects per-operation latency before the response', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'slow', Body: 'x' }));
    server.setLatency({ default: 0, perOp: { GetObject: 200 } });
    server.resetStats();
    // The server's delay is a timer: with jest's fake timers the test moves time itself, so
    // "not answered before 200 ms" is checked without waiting on the machine's clock.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'hrtime', 'performance', 'Date'] });
    try {
      const answered = httpGet(`${server.endpoint}/${bucket}/slow`);
      while (server.log.length === 0) await ioTurn();
      expect(server.log.map((e) => [e.operation, e.delayMs])).toEqual([['GetObject', 200]]);
      await jest.advanceTimersByTimeAsync(199);
      for (let i = 0; i < 5; i++) await ioTurn();
      expect(server.log[0].status).toBeUndefined();
      await jest.advanceTimersByTimeAsync(1);
      expect(await answered).toEqual({ status: 200, body: 'x' });
    } finally {
      jest.useRealTimers();
    }
  });

  test('hold() keeps an operation\'s requests waiting, without effect, until release()', async () => {
    const hold = server.hold('PutObject');
    const put = s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'held', Body: 'x' }));
    await hold.held(1);
    expect(hold.waiting).toBe(1);
    expect(server.versionsOf(bucket, 'held')).toEqual([]);
    // Other operations go through meanwhile.
    expect((await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'held' })))).name).toBe('NoSuchKey');
    hold.release();
    const { VersionId } = await put;
    expect(server.versionsOf(bucket, 'held').map((v) => v.versionId)).toEqual([VersionId]);
    // Released for good: the next request is not held.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'held', Body: 'y' }));
    expect(server.versionsOf(bucket, 'held')).toHaveLength(2);
  });

  test('failNext fails exactly the next N requests of an operation, without effect', async () => {
    server.failNext('PutObject', { code: 'SlowDown', count: 2 });
    for (let i = 0; i < 2; i++) {
      const error = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'faulty', Body: `${i}` })).catch((e) => e);
      expect(error).toBeInstanceOf(S3ServiceException);
      expect(error.name).toBe('SlowDown');
      expect(error.$metadata.httpStatusCode).toBe(503);
    }
    expect(server.versionsOf(bucket, 'faulty')).toEqual([]);
    const ok = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'faulty', Body: 'ok' }));
    expect(server.versionsOf(bucket, 'faulty').map((v) => v.versionId)).toEqual([ok.VersionId]);
  });

  test('failNext with a key fails only requests for that key', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'target', Body: 't' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'bystander', Body: 'b' }));
    server.failNext('GetObject', { code: 'AccessDenied', key: 'target', count: 2 });
    const bystander = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'bystander' }));
    expect(await bystander.Body!.transformToString()).toBe('b');
    for (let i = 0; i < 2; i++) {
      const error = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'target' })).catch((e) => e);
      expect([error.name, error.$metadata.httpStatusCode]).toEqual(['AccessDenied', 403]);
    }
    const target = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'target' }));
    expect(await target.Body!.transformToString()).toBe('t');
  });

  test('an injected NoSuchKey on GetObject looks like S3\'s own', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'present', Body: 'x' }));
    server.failNext('GetObject', { code: 'NoSuchKey', message: 'The specified key does not exist.' });
    const error = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'present' })).catch((e) => e);
    expect(error.name).toBe('NoSuchKey');
    expect(error.$metadata.httpStatusCode).toBe(404);
  });

  test('survives clients that disconnect while their requests are held', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'abort-me', Body: 'x' }));
    server.resetStats();
    const hold = server.hold('GetObject');
    // A plain HTTP client that resets its connection, and an SDK call that is aborted.
    const raw = http.get(`${server.endpoint}/${bucket}/abort-me`, () => undefined);
    const rawClosed = new Promise<void>((resolve) => raw.on('error', () => resolve()));
    await hold.held(1);
    raw.destroy();
    await rawClosed;
    const controller = new AbortController();
    const aborted = s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'abort-me' }), { abortSignal: controller.signal });
    await hold.held(2);
    controller.abort();
    await expect(aborted).rejects.toThrow();
    // Both are gone before the server answers them.
    await waitFor(() => server.log.filter((e) => e.clientGone).length === 2, { what: 'the server noticing both disconnects' });
    hold.release();
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'abort-me' }));
    expect(await get.Body!.transformToString()).toBe('x');
    expect(server.log.map((e) => [e.clientGone ?? false, e.status])).toEqual([[true, undefined], [true, undefined], [false, 200]]);
  });

  test('refuses a body whose CRC32 does not match (BadDigest), storing nothing', async () => {
    const status = await new Promise<{ code?: number; body: string }>((resolve, reject) => {
      const req = http.request(`${server.endpoint}/${bucket}/bad-checksum`, {
        method: 'PUT',
        headers: { 'x-amz-checksum-crc32': 'AAAAAA==', 'content-length': '5' },
      }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ code: res.statusCode, body }));
      });
      req.on('error', reject);
      req.end('hello');
    });
    expect(status.code).toBe(400);
    expect(status.body).toContain('<Code>BadDigest</Code>');
    expect(server.versionsOf(bucket, 'bad-checksum')).toEqual([]);
  });

  test('decodes a signed aws-chunked upload (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)', async () => {
    const payload = '5;chunk-signature=0123\r\nhello\r\n6;chunk-signature=4567\r\n world\r\n0;chunk-signature=89ab\r\n\r\n';
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = http.request(`${server.endpoint}/${bucket}/signed-chunks`, {
        method: 'PUT',
        headers: {
          'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
          'content-encoding': 'aws-chunked',
          'x-amz-decoded-content-length': '11',
          'content-length': String(Buffer.byteLength(payload)),
        },
      }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', reject);
      req.end(payload);
    });
    expect(status).toBe(200);
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'signed-chunks' }));
    expect(await get.Body!.transformToString()).toBe('hello world');
    expect(get.ContentEncoding).toBeUndefined();
  });

  test('answers 501 NotImplemented to operations it does not implement', async () => {
    const res = await fetch(`${server.endpoint}/${bucket}?policy`);
    expect(res.status).toBe(501);
    expect(await res.text()).toContain('<Code>NotImplemented</Code>');
  });
});
