/**
 * One S3 contract, three servers: s3rver (npm; a third party's S3 emulator without
 * versioning), moto (PyPI, server mode; a third party's S3 with versioning) and the
 * project's versioned S3 test server. Every operation a server supports runs against it, so
 * the test server is held to two other readings of the S3 API; the versioning cases (every
 * versioned operation the store uses) run against moto and the test server.
 *
 * The expectations follow real S3 (the S3 API reference). Where a server departs from it,
 * the departure is a named quirk (see `Quirks`), and the test pins what that server does
 * instead, so a change in either server shows here.
 */
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { MOTO_FIRST_START_TIMEOUT_MS, startMoto } from '../support/moto';
import { S3RVER_CREDENTIALS, startS3rver } from '../support/s3rver';
import { VersionedS3Server } from '../support/versioned-s3-server';

interface Target {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * Where a server departs from real S3. The expectations follow real S3; a quirk switches
 * only the one check it names to what the quirky server does (or to an equivalent request),
 * never a whole test.
 */
interface Quirks {
  /** The server implements bucket versioning (the versioning suite runs against it). */
  readonly versioning: boolean;
  /**
   * Real S3 decodes `Content-Encoding: aws-chunked` uploads (what the SDK sends for a stream
   * body, `x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER`). s3rver 3.7 stores the
   * chunk framing and trailer as the object's bytes.
   */
  readonly decodesAwsChunked: boolean;
  /**
   * s3rver 3.7 answers InternalError to any ListObjectsV2 whose result is truncated: it
   * cannot build its continuation token on current Node.js (its token cipher), so pagination
   * is checked against the other servers only.
   */
  readonly truncatedListObjectsV2: boolean;
  /** Real S3 counts CommonPrefixes in KeyCount; s3rver 3.7 counts only Contents. */
  readonly keyCountIncludesCommonPrefixes: boolean;
  /**
   * In us-east-1, S3 answers 200 (and changes nothing) to a CreateBucket of a bucket you
   * already own, "for legacy compatibility"; s3rver 3.7 answers 409 BucketAlreadyExists.
   */
  readonly recreateOwnBucketIs200: boolean;
  /** S3 refuses a bucket name with upper case or `_` (InvalidBucketName, 400); moto 5.2.5 creates it in us-east-1. */
  readonly validatesBucketNames: boolean;
  /** S3 refuses a key over 1,024 bytes (KeyTooLongError, 400); moto 5.2.5 stores it. */
  readonly enforcesKeyLength: boolean;
  /**
   * S3 refuses a malformed versionId (InvalidArgument, 400). moto 5.2.5 answers
   * NoSuchVersion (404), as for a well-formed unknown one (its version ids are UUIDs).
   */
  readonly validatesVersionIds: boolean;
  /**
   * A GET of a key whose current version is a delete marker: S3 answers 404 NoSuchKey with
   * `x-amz-delete-marker: true` and the marker's `x-amz-version-id`. moto 5.2.5 sends both
   * headers on HEAD but none on GET.
   */
  readonly deleteMarkerHeadersOnGet: boolean;
  /**
   * A GET of a delete marker by its versionId: S3 answers 405 MethodNotAllowed with
   * `x-amz-delete-marker: true`. moto 5.2.5 answers 404 NoSuchVersion (HEAD: 405, as S3).
   */
  readonly getOfDeleteMarkerIs405: boolean;
  /**
   * A DeleteObject of a delete marker by its versionId: S3 answers `x-amz-delete-marker:
   * true` (DeleteMarker in the SDK's output). moto 5.2.5 removes the marker but leaves the
   * header out, so a caller cannot tell from the answer that a marker went.
   */
  readonly deleteOfDeleteMarkerSaysSo: boolean;
  /**
   * The "null" version (written while versioning is suspended): S3 names it in
   * `x-amz-version-id: null` on PutObject and GetObject; moto 5.2.5 sends no version id.
   */
  readonly nullVersionIdHeader: boolean;
  /** S3 refuses a PutObject whose `x-amz-checksum-crc32` does not match the body (BadDigest, 400); s3rver 3.7 and moto 5.2.5 store it. */
  readonly verifiesChecksums: boolean;
  /** S3 stores the `x-amz-checksum-*` a PutObject carries and returns it; s3rver 3.7 neither returns nor stores it. */
  readonly checksums: boolean;
  /** S3 answers 412 to a GET whose If-Match names another ETag; s3rver 3.7 ignores If-Match (If-None-Match works). */
  readonly getIfMatch: boolean;
  /** S3 conditional writes: PutObject with If-None-Match: * or If-Match; s3rver 3.7 ignores both and overwrites. */
  readonly conditionalWrites: boolean;
  /**
   * Suspending versioning keeps the versions written while it was enabled; the next PutObject
   * replaces only the "null" version. moto 5.2.5 drops the key's earlier versions instead.
   */
  readonly suspendedKeepsEarlierVersions: boolean;
}

const REAL_S3: Quirks = {
  versioning: true,
  decodesAwsChunked: true,
  truncatedListObjectsV2: true,
  keyCountIncludesCommonPrefixes: true,
  recreateOwnBucketIs200: true,
  validatesBucketNames: true,
  enforcesKeyLength: true,
  validatesVersionIds: true,
  deleteMarkerHeadersOnGet: true,
  getOfDeleteMarkerIs405: true,
  deleteOfDeleteMarkerSaysSo: true,
  nullVersionIdHeader: true,
  verifiesChecksums: true,
  checksums: true,
  getIfMatch: true,
  conditionalWrites: true,
  suspendedKeepsEarlierVersions: true,
};

const SERVERS: Array<[string, () => Promise<Target>, Quirks]> = [
  ['s3rver', () => startS3rver(), {
    ...REAL_S3,
    versioning: false,
    decodesAwsChunked: false,
    truncatedListObjectsV2: false,
    keyCountIncludesCommonPrefixes: false,
    recreateOwnBucketIs200: false,
    verifiesChecksums: false,
    checksums: false,
    getIfMatch: false,
    conditionalWrites: false,
  }],
  ['moto', () => startMoto(), {
    ...REAL_S3,
    validatesBucketNames: false,
    enforcesKeyLength: false,
    validatesVersionIds: false,
    deleteMarkerHeadersOnGet: false,
    getOfDeleteMarkerIs405: false,
    deleteOfDeleteMarkerSaysSo: false,
    nullVersionIdHeader: false,
    verifiesChecksums: false,
    suspendedKeepsEarlierVersions: false,
  }],
  ['versioned test server', () => VersionedS3Server.start(), REAL_S3],
];

function client(endpoint: string): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    maxAttempts: 1,
  });
}

/** Awaits a rejection and returns the S3 error, failing when the call succeeded. */
async function s3Error(promise: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof S3ServiceException) return e;
    throw e;
  }
  throw new Error('expected the S3 call to fail, it succeeded');
}

/** An unsigned HTTP request (what the SDK would never send), with its status and body. */
async function rawRequest(
  endpoint: string, method: string, path: string, body: string, headers: Record<string, string>,
): Promise<{ status?: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${endpoint}${path}`, { method, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Every byte value, so encoding bugs (UTF-8 re-encoding, chunk framing) show. */
const BINARY = Buffer.from(Array.from({ length: 1024 }, (_, i) => (i * 7) % 256));
const md5 = (data: Buffer | string) => crypto.createHash('md5').update(data).digest('hex');

let bucketCounter = 0;
const newBucketName = () => `contract-${process.pid}-${++bucketCounter}`;

describe.each(SERVERS)('S3 contract: %s', (_name, start, quirks) => {
  let target: Target;
  let s3: S3Client;
  let bucket: string;

  beforeAll(async () => {
    target = await start();
    s3 = client(target.endpoint);
  }, MOTO_FIRST_START_TIMEOUT_MS);

  afterAll(async () => {
    s3?.destroy();
    await target?.stop();
  });

  beforeEach(async () => {
    bucket = newBucketName();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  test('a created bucket answers HeadBucket and is listed; a missing one is 404', async () => {
    const head = await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    expect(head.$metadata.httpStatusCode).toBe(200);
    const list = await s3.send(new ListBucketsCommand({}));
    expect(list.Buckets?.map((b) => b.Name)).toContain(bucket);

    const missing = await s3Error(s3.send(new HeadBucketCommand({ Bucket: 'no-such-bucket-here' })));
    expect(missing.$metadata.httpStatusCode).toBe(404);
  });

  test('refuses an invalid bucket name (InvalidBucketName, 400); re-creating an own bucket keeps its objects', async () => {
    const invalid = s3.send(new CreateBucketCommand({ Bucket: 'Not_Valid' }));
    if (quirks.validatesBucketNames) {
      const error = await s3Error(invalid);
      expect(error.name).toBe('InvalidBucketName');
      expect(error.$metadata.httpStatusCode).toBe(400);
    } else {
      expect((await invalid).$metadata.httpStatusCode).toBe(200);
    }

    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kept', Body: 'kept' }));
    const again = s3.send(new CreateBucketCommand({ Bucket: bucket }));
    if (quirks.recreateOwnBucketIs200) {
      expect((await again).$metadata.httpStatusCode).toBe(200);
    } else {
      expect((await s3Error(again)).$metadata.httpStatusCode).toBe(409);
    }
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kept' }));
    expect(await get.Body!.transformToString()).toBe('kept');
  });

  test('PutObject returns ETag = quoted MD5 and GetObject returns the same bytes, type and length', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'bin/data', Body: BINARY, ContentType: 'application/x-test' }));
    expect(put.ETag).toBe(`"${md5(BINARY)}"`);

    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'bin/data' }));
    const body = Buffer.from(await get.Body!.transformToByteArray());
    expect(body.equals(BINARY)).toBe(true);
    expect(get.ETag).toBe(put.ETag);
    expect(get.ContentType).toBe('application/x-test');
    expect(get.ContentLength).toBe(BINARY.length);
    expect(get.LastModified).toBeInstanceOf(Date);
  });

  test('a streamed body (aws-chunked upload) is stored decoded', async () => {
    if (!quirks.decodesAwsChunked) return;
    const chunks = [BINARY.subarray(0, 100), BINARY.subarray(100, 700), BINARY.subarray(700)];
    await s3.send(new PutObjectCommand({
      Bucket: bucket, Key: 'streamed', Body: Readable.from(chunks), ContentLength: BINARY.length, ContentType: 'application/octet-stream',
    }));
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'streamed' }));
    expect(Buffer.from(await get.Body!.transformToByteArray()).equals(BINARY)).toBe(true);
    expect(get.ETag).toBe(`"${md5(BINARY)}"`);
  });

  test('keys with spaces, percent signs, encoded slashes and non-ASCII round-trip', async () => {
    const keys = ['items/a%2Fb/summary', 'items/with space/lines', 'items/ünï©ødé/€', 'items/plus+and&amp/x'];
    for (const key of keys) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
    }
    for (const key of keys) {
      const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      expect(await get.Body!.transformToString()).toBe(key);
    }
    const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'items/' }));
    expect(list.Contents?.map((c) => c.Key).sort()).toEqual([...keys].sort());
  });

  test('HeadObject returns the metadata without a body', async () => {
    await s3.send(new PutObjectCommand({
      Bucket: bucket, Key: 'doc.json', Body: '{"a":1}', ContentType: 'application/json', Metadata: { revision: '7' },
    }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'doc.json' }));
    expect(head.ContentLength).toBe(7);
    expect(head.ContentType).toBe('application/json');
    expect(head.ETag).toBe(`"${md5('{"a":1}')}"`);
    expect(head.Metadata).toEqual({ revision: '7' });
  });

  test('a missing key is NoSuchKey (404) on GET and 404 without a code on HEAD', async () => {
    const get = await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'missing' })));
    expect(get.name).toBe('NoSuchKey');
    expect(get.$metadata.httpStatusCode).toBe(404);

    const head = await s3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'missing' })));
    expect(head.name).toBe('NotFound');
    expect(head.$metadata.httpStatusCode).toBe(404);
  });

  test('a missing bucket is NoSuchBucket (404)', async () => {
    const error = await s3Error(s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket-here', Key: 'x' })));
    expect(error.name).toBe('NoSuchBucket');
    expect(error.$metadata.httpStatusCode).toBe(404);
  });

  test('PutObject overwrites; DeleteObject removes; deleting a missing key succeeds', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'one' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'two' }));
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
    expect(await get.Body!.transformToString()).toBe('two');

    const del = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
    expect(del.$metadata.httpStatusCode).toBe(204);
    expect((await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })))).name).toBe('NoSuchKey');

    const again = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'never-existed' }));
    expect(again.$metadata.httpStatusCode).toBe(204);
  });

  test('DeleteObjects removes a batch and reports each key', async () => {
    for (const key of ['a', 'b', 'c']) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
    const result = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'a' }, { Key: 'b' }] } }));
    expect(result.Deleted?.map((d) => d.Key).sort()).toEqual(['a', 'b']);
    const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(list.Contents?.map((c) => c.Key)).toEqual(['c']);
  });

  test('ListObjectsV2 filters by prefix, sorts keys and reports size and ETag', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'p/b', Body: 'bb' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'p/a', Body: 'a' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'q/c', Body: 'ccc' }));
    const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'p/' }));
    expect(list.Contents?.map((c) => [c.Key, c.Size, c.ETag])).toEqual([
      ['p/a', 1, `"${md5('a')}"`],
      ['p/b', 2, `"${md5('bb')}"`],
    ]);
    expect(list.KeyCount).toBe(2);
    expect(list.IsTruncated).toBe(false);
    expect(list.Prefix).toBe('p/');
  });

  test('ListObjectsV2 paginates with MaxKeys and continuation tokens, each key once', async () => {
    if (!quirks.truncatedListObjectsV2) return;
    const keys = Array.from({ length: 7 }, (_, i) => `page/${String(i).padStart(2, '0')}`);
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 3, ContinuationToken: token }));
      pages += 1;
      expect(page.KeyCount).toBeLessThanOrEqual(3);
      seen.push(...(page.Contents ?? []).map((c) => c.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (page.IsTruncated) expect(token).toBeTruthy();
    } while (token && pages < 10);
    expect(seen).toEqual(keys);
    expect(pages).toBe(3);

    const after = await s3.send(new ListObjectsV2Command({ Bucket: bucket, StartAfter: keys[4] }));
    expect(after.Contents?.map((c) => c.Key)).toEqual(keys.slice(5));
  });

  test('ListObjectsV2 with a delimiter rolls keys up into CommonPrefixes', async () => {
    for (const key of ['d/x/1', 'd/x/2', 'd/y/1', 'd/top']) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: '1' }));
    const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'd/', Delimiter: '/' }));
    expect(list.Contents?.map((c) => c.Key)).toEqual(['d/top']);
    expect(list.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['d/x/', 'd/y/']);
    expect(list.KeyCount).toBe(quirks.keyCountIncludesCommonPrefixes ? 3 : 1);
  });

  test('a Range GET returns 206 with the slice and Content-Range', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'r', Body: BINARY }));
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'r', Range: 'bytes=10-19' }));
    expect(get.$metadata.httpStatusCode).toBe(206);
    expect(get.ContentRange).toBe(`bytes 10-19/${BINARY.length}`);
    expect(get.ContentLength).toBe(10);
    expect(Buffer.from(await get.Body!.transformToByteArray()).equals(BINARY.subarray(10, 20))).toBe(true);

    const open = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'r', Range: `bytes=${BINARY.length - 4}-` }));
    expect(Buffer.from(await open.Body!.transformToByteArray()).equals(BINARY.subarray(BINARY.length - 4))).toBe(true);
  });

  test('a Range past the end is InvalidRange (416)', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'r', Body: 'short' }));
    const error = await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'r', Range: 'bytes=100-200' })));
    expect(error.name).toBe('InvalidRange');
    expect(error.$metadata.httpStatusCode).toBe(416);
  });

  test('DeleteBucket refuses a non-empty bucket and removes an empty one', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'x', Body: 'x' }));
    const error = await s3Error(s3.send(new DeleteBucketCommand({ Bucket: bucket })));
    expect(error.name).toBe('BucketNotEmpty');
    expect(error.$metadata.httpStatusCode).toBe(409);

    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'x' }));
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    expect((await s3Error(s3.send(new HeadBucketCommand({ Bucket: bucket })))).$metadata.httpStatusCode).toBe(404);
  });

  test('a GET with If-Match answers the object or 412; with If-None-Match, 304 or the object', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'c', Body: 'conditional' }));
    const matching = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'c', IfMatch: put.ETag }));
    expect(await matching.Body!.transformToString()).toBe('conditional');
    const stale = s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'c', IfMatch: '"0123456789abcdef0123456789abcdef"' }));
    if (quirks.getIfMatch) {
      const error = await s3Error(stale);
      expect([error.name, error.$metadata.httpStatusCode]).toEqual(['PreconditionFailed', 412]);
    } else {
      expect(await (await stale).Body!.transformToString()).toBe('conditional');
    }

    const unchanged = await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'c', IfNoneMatch: put.ETag })));
    expect(unchanged.$metadata.httpStatusCode).toBe(304);
    const changed = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'c', IfNoneMatch: '"0123456789abcdef0123456789abcdef"' }));
    expect(await changed.Body!.transformToString()).toBe('conditional');
  });

  test('a PutObject with If-None-Match: * creates only; with If-Match, overwrites only the ETag it names', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'new', Body: 'first', IfNoneMatch: '*' }));
    const again = s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'new', Body: 'second', IfNoneMatch: '*' }));
    if (!quirks.conditionalWrites) {
      await again;
      expect(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'new' }))).Body!.transformToString()).toBe('second');
      return;
    }
    const exists = await s3Error(again);
    expect([exists.name, exists.$metadata.httpStatusCode]).toEqual(['PreconditionFailed', 412]);

    const current = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'new' }));
    const stale = await s3Error(s3.send(new PutObjectCommand({
      Bucket: bucket, Key: 'new', Body: 'third', IfMatch: '"0123456789abcdef0123456789abcdef"',
    })));
    expect([stale.name, stale.$metadata.httpStatusCode]).toEqual(['PreconditionFailed', 412]);
    const missing = await s3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'absent', Body: 'x', IfMatch: current.ETag })));
    expect([missing.name, missing.$metadata.httpStatusCode]).toEqual(['NoSuchKey', 404]);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'new', Body: 'fourth', IfMatch: current.ETag }));

    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'new' }));
    expect(await get.Body!.transformToString()).toBe('fourth');
  });

  test('checksums: PutObject returns the CRC32 or SHA-256 it was sent, GetObject and HeadObject return it in checksum mode', async () => {
    const crc = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'crc', Body: 'hello', ChecksumAlgorithm: 'CRC32' }));
    if (!quirks.checksums) {
      expect(crc.ChecksumCRC32).toBeUndefined();
      return;
    }
    expect(crc.ChecksumCRC32).toBe('NhCmhg==');
    const sha = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sha', Body: 'hello', ChecksumAlgorithm: 'SHA256' }));
    expect(sha.ChecksumSHA256).toBe(crypto.createHash('sha256').update('hello').digest('base64'));

    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'sha', ChecksumMode: 'ENABLED' }));
    expect(get.ChecksumSHA256).toBe(sha.ChecksumSHA256);
    expect(await get.Body!.transformToString()).toBe('hello');
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'crc', ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumCRC32).toBe(crc.ChecksumCRC32);
  });

  test('a body whose x-amz-checksum-crc32 does not match is refused (BadDigest, 400) and nothing is stored', async () => {
    // The SDK computes checksums itself, so the wrong one is sent over plain HTTP.
    const answer = await rawRequest(target.endpoint, 'PUT', `/${bucket}/bad-checksum`, 'hello', { 'x-amz-checksum-crc32': 'AAAAAA==' });
    if (quirks.verifiesChecksums) {
      expect(answer.status).toBe(400);
      expect(answer.body).toContain('<Code>BadDigest</Code>');
      expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'bad-checksum' })))).$metadata.httpStatusCode).toBe(404);
    } else {
      expect(answer.status).toBe(200);
    }
  });

  test('an unversioned bucket returns no VersionId', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'u', Body: 'u' }));
    expect(put.VersionId).toBeUndefined();
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'u' }));
    expect(get.VersionId).toBeUndefined();
    await get.Body!.transformToString();
  });
});

describe.each(SERVERS.filter(([, , quirks]) => quirks.versioning))('S3 contract, versioning: %s', (_name, start, quirks) => {
  let server: Target;
  let s3: S3Client;
  let bucket: string;

  beforeAll(async () => {
    server = await start();
    s3 = client(server.endpoint);
  }, MOTO_FIRST_START_TIMEOUT_MS);

  afterAll(async () => {
    s3?.destroy();
    await server?.stop();
  });

  beforeEach(async () => {
    bucket = newBucketName();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  });

  const put = async (key: string, body: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  const read = async (key: string, versionId?: string) => {
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
    return { body: await get.Body!.transformToString(), versionId: get.VersionId };
  };
  const markerHeaders = (error: S3ServiceException) => ({
    deleteMarker: error.$response?.headers['x-amz-delete-marker'],
    versionId: error.$response?.headers['x-amz-version-id'],
  });
  const listVersions = async (prefix?: string) => {
    const list = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix }));
    return {
      versions: (list.Versions ?? []).map((v) => [v.Key, v.VersionId, v.IsLatest]),
      deleteMarkers: (list.DeleteMarkers ?? []).map((m) => [m.Key, m.VersionId, m.IsLatest]),
    };
  };

  test('GetBucketVersioning reports the status; a fresh bucket has none', async () => {
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).toBe('Enabled');
    const fresh = newBucketName();
    await s3.send(new CreateBucketCommand({ Bucket: fresh }));
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: fresh }))).Status).toBeUndefined();
  });

  test('each PutObject returns a new VersionId; GetObject and HeadObject by VersionId answer that version', async () => {
    const v1 = await put('k', 'one');
    const v2 = await put('k', 'two');
    expect(v1.VersionId).toEqual(expect.any(String));
    expect(v2.VersionId).toEqual(expect.any(String));
    expect(v1.VersionId).not.toBe(v2.VersionId);

    expect(await read('k')).toEqual({ body: 'two', versionId: v2.VersionId });
    expect(await read('k', v1.VersionId)).toEqual({ body: 'one', versionId: v1.VersionId });
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k', VersionId: v1.VersionId }));
    expect([head.VersionId, head.ContentLength, head.ETag]).toEqual([v1.VersionId, 3, v1.ETag]);
    const current = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
    expect(current.VersionId).toBe(v2.VersionId);
  });

  test('a Range GET of an older version slices that version', async () => {
    const v1 = await put('r', 'first version');
    await put('r', 'second version');
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'r', VersionId: v1.VersionId, Range: 'bytes=0-4' }));
    expect(get.$metadata.httpStatusCode).toBe(206);
    expect([get.VersionId, get.ContentRange, await get.Body!.transformToString()]).toEqual([v1.VersionId, 'bytes 0-4/13', 'first']);
  });

  test('an unknown version is NoSuchVersion (404); a malformed one is InvalidArgument (400)', async () => {
    await put('k', 'one');
    const unknown = await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', VersionId: 'A'.repeat(32) })));
    expect(unknown.name).toBe('NoSuchVersion');
    expect(unknown.$metadata.httpStatusCode).toBe(404);
    const malformed = await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', VersionId: 'v1' })));
    expect([malformed.name, malformed.$metadata.httpStatusCode])
      .toEqual(quirks.validatesVersionIds ? ['InvalidArgument', 400] : ['NoSuchVersion', 404]);
  });

  test('DeleteObject without a VersionId adds a delete marker and keeps the versions', async () => {
    const v1 = await put('k', 'one');
    const del = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
    expect(del.DeleteMarker).toBe(true);
    expect(del.VersionId).toEqual(expect.any(String));
    expect(del.VersionId).not.toBe(v1.VersionId);

    expect(await read('k', v1.VersionId)).toEqual({ body: 'one', versionId: v1.VersionId });
    expect(await listVersions()).toEqual({ versions: [['k', v1.VersionId, false]], deleteMarkers: [['k', del.VersionId, true]] });
    const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(list.Contents ?? []).toEqual([]);
  });

  test('behind a delete marker, GET is NoSuchKey and HEAD 404, both naming the marker', async () => {
    await put('k', 'one');
    const del = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));

    const head = await s3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' })));
    expect(head.$metadata.httpStatusCode).toBe(404);
    expect(markerHeaders(head)).toEqual({ deleteMarker: 'true', versionId: del.VersionId });

    const get = await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })));
    expect([get.name, get.$metadata.httpStatusCode]).toEqual(['NoSuchKey', 404]);
    expect(markerHeaders(get)).toEqual(quirks.deleteMarkerHeadersOnGet
      ? { deleteMarker: 'true', versionId: del.VersionId }
      : { deleteMarker: undefined, versionId: undefined });
  });

  test('a delete marker asked for by its VersionId is 405 MethodNotAllowed, naming the marker', async () => {
    await put('k', 'one');
    const del = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));

    const head = await s3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k', VersionId: del.VersionId })));
    expect(head.$metadata.httpStatusCode).toBe(405);
    expect(markerHeaders(head)).toEqual({ deleteMarker: 'true', versionId: del.VersionId });

    const get = await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', VersionId: del.VersionId })));
    if (quirks.getOfDeleteMarkerIs405) {
      expect([get.name, get.$metadata.httpStatusCode]).toEqual(['MethodNotAllowed', 405]);
      expect(markerHeaders(get)).toEqual({ deleteMarker: 'true', versionId: del.VersionId });
    } else {
      expect([get.name, get.$metadata.httpStatusCode]).toEqual(['NoSuchVersion', 404]);
    }
  });

  test('DeleteObject with the current VersionId deletes it for good and makes the previous version current', async () => {
    const v1 = await put('k', 'one');
    const v2 = await put('k', 'two');
    const del = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: v2.VersionId }));
    expect(del.VersionId).toBe(v2.VersionId);
    expect(del.DeleteMarker).toBeUndefined();
    expect(await read('k')).toEqual({ body: 'one', versionId: v1.VersionId });
    expect((await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', VersionId: v2.VersionId })))).name).toBe('NoSuchVersion');
    expect(await listVersions()).toEqual({ versions: [['k', v1.VersionId, true]], deleteMarkers: [] });
  });

  test('DeleteObject of a noncurrent VersionId leaves the current version alone', async () => {
    const v1 = await put('k', 'one');
    const v2 = await put('k', 'two');
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: v1.VersionId }));
    expect(await read('k')).toEqual({ body: 'two', versionId: v2.VersionId });
    expect(await listVersions()).toEqual({ versions: [['k', v2.VersionId, true]], deleteMarkers: [] });
  });

  test('DeleteObject of a delete marker by its VersionId removes the marker: the version below is current again', async () => {
    const v1 = await put('k', 'one');
    const del = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
    const undo = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: del.VersionId }));
    expect(undo.VersionId).toBe(del.VersionId);
    expect(undo.DeleteMarker).toBe(quirks.deleteOfDeleteMarkerSaysSo ? true : undefined);
    expect(await read('k')).toEqual({ body: 'one', versionId: v1.VersionId });
    expect(await listVersions()).toEqual({ versions: [['k', v1.VersionId, true]], deleteMarkers: [] });
  });

  test('DeleteObject of a VersionId that does not exist succeeds and changes nothing', async () => {
    const v1 = await put('k', 'one');
    const del = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: 'A'.repeat(32) }));
    expect(del.$metadata.httpStatusCode).toBe(204);
    expect(await listVersions()).toEqual({ versions: [['k', v1.VersionId, true]], deleteMarkers: [] });
  });

  test('ListObjectVersions lists keys in order, newest first, with IsLatest and delete markers', async () => {
    const a1 = await put('a', 'a1');
    const a2 = await put('a', 'a2');
    const b1 = await put('b', 'b1');
    const bMarker = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'b' }));
    await put('other/c', 'c');

    const list = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: '' }));
    expect(list.Versions?.filter((v) => v.Key !== 'other/c').map((v) => [v.Key, v.VersionId, v.IsLatest, v.Size])).toEqual([
      ['a', a2.VersionId, true, 2],
      ['a', a1.VersionId, false, 2],
      ['b', b1.VersionId, false, 2],
    ]);
    expect(list.DeleteMarkers?.map((m) => [m.Key, m.VersionId, m.IsLatest])).toEqual([['b', bMarker.VersionId, true]]);
    const prefixed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'other/' }));
    expect(prefixed.Versions?.map((v) => v.Key)).toEqual(['other/c']);
    expect(prefixed.DeleteMarkers).toBeUndefined();
  });

  test('ListObjectVersions with Prefix = an exact part key lists its versions and markers, and every key that extends it', async () => {
    const s1 = await put('items/a/summary', 's1');
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'items/a/summary' }));
    const s2 = await put('items/a/summary', 's2');
    const longer = await put('items/a/summary2', 'other part');
    await put('items/a/lines', 'not listed');

    // A prefix is a prefix: callers that want one key compare Key exactly.
    expect(await listVersions('items/a/summary')).toEqual({
      versions: [['items/a/summary', s2.VersionId, true], ['items/a/summary', s1.VersionId, false], ['items/a/summary2', longer.VersionId, true]],
      deleteMarkers: [['items/a/summary', marker.VersionId, false]],
    });
  });

  test('ListObjectVersions paginates with key and version-id markers, each entry once', async () => {
    const written: string[] = [];
    for (const key of ['x', 'y', 'z']) {
      for (let i = 0; i < 3; i++) written.push(`${key}:${(await put(key, `${key}${i}`)).VersionId}`);
    }
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'y' }));
    const seen: string[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await s3.send(new ListObjectVersionsCommand({
        Bucket: bucket, MaxKeys: 4, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker,
      }));
      pages += 1;
      const entries = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])];
      expect(entries.length).toBeLessThanOrEqual(4);
      seen.push(...entries.map((v) => `${v.Key}:${v.VersionId}`));
      if (!page.IsTruncated || pages > 10) break;
      keyMarker = page.NextKeyMarker;
      versionIdMarker = page.NextVersionIdMarker;
    }
    expect(pages).toBe(3);
    expect(seen).toHaveLength(10);
    expect(new Set(seen).size).toBe(10);
    for (const entry of written) expect(seen).toContain(entry);
  });

  test('suspended versioning writes the "null" version, replacing only the previous "null" one', async () => {
    const v1 = await put('k', 'enabled');
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Suspended' } }));
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).toBe('Suspended');
    const n1 = await put('k', 'null-1');
    const n2 = await put('k', 'null-2');
    const answered = quirks.nullVersionIdHeader ? 'null' : undefined;
    expect([n1.VersionId, n2.VersionId]).toEqual([answered, answered]);
    const list = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    expect(list.Versions?.map((v) => [v.VersionId, v.IsLatest]))
      .toEqual(quirks.suspendedKeepsEarlierVersions ? [['null', true], [v1.VersionId, false]] : [['null', true]]);
    expect(await read('k')).toEqual({ body: 'null-2', versionId: answered });
  });

  test('DeleteObjects with VersionIds removes exactly those versions', async () => {
    const v1 = await put('k', 'one');
    const v2 = await put('k', 'two');
    const result = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'k', VersionId: v2.VersionId }] } }));
    expect(result.Deleted).toEqual([{ Key: 'k', VersionId: v2.VersionId }]);
    expect(await read('k')).toEqual({ body: 'one', versionId: v1.VersionId });
  });

  test('a presigned GET URL pinned to a VersionId serves that version after newer writes', async () => {
    const v1 = await put('p', 'pinned');
    await put('p', 'newer');
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'p', VersionId: v1.VersionId }), { expiresIn: 60 });
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-amz-version-id')).toBe(v1.VersionId);
    expect(await response.text()).toBe('pinned');
  });

  test('a lifecycle configuration is stored and returned', async () => {
    await s3.send(new PutBucketLifecycleConfigurationCommand({
      Bucket: bucket,
      LifecycleConfiguration: {
        Rules: [{ ID: 'noncurrent', Status: 'Enabled', Filter: { Prefix: '' }, NoncurrentVersionExpiration: { NoncurrentDays: 7 } }],
      },
    }));
    const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
    expect(got.Rules).toEqual([{ ID: 'noncurrent', Status: 'Enabled', Filter: { Prefix: '' }, NoncurrentVersionExpiration: { NoncurrentDays: 7 } }]);

    const fresh = newBucketName();
    await s3.send(new CreateBucketCommand({ Bucket: fresh }));
    expect((await s3Error(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: fresh })))).name).toBe('NoSuchLifecycleConfiguration');
  });

  test('a key over 1,024 bytes is KeyTooLongError (400)', async () => {
    const long = put('k'.repeat(1025), 'x');
    if (quirks.enforcesKeyLength) {
      const error = await s3Error(long);
      expect([error.name, error.$metadata.httpStatusCode]).toEqual(['KeyTooLongError', 400]);
    } else {
      expect((await long).VersionId).toEqual(expect.any(String));
    }
  });
});
