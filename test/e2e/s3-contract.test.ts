/**
 * One S3 contract, two servers: s3rver (a third party's S3 emulator, no versioning) and
 * the project's versioned S3 test server. Every operation s3rver supports runs against
 * both, so the test server is held to someone else's behaviour; the versioning cases run
 * against the test server alone and follow the S3 API reference.
 *
 * Where s3rver and real S3 differ, the expectation follows real S3 and the s3rver
 * deviation is named in the test (see `quirks`).
 */
import * as crypto from 'node:crypto';
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
import { S3RVER_CREDENTIALS, startS3rver } from '../support/s3rver';
import { VersionedS3Server } from '../support/versioned-s3-server';

interface Target {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * Where a server departs from real S3. The expectations follow real S3; a quirk turns off
 * only the one check it names (or switches to an equivalent request), never a whole test.
 */
interface Quirks {
  /**
   * Real S3 decodes `Content-Encoding: aws-chunked` uploads (what the SDK sends for a stream
   * body, `x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER`). s3rver 3.7 stores the
   * chunk framing and trailer as the object's bytes.
   */
  readonly decodesAwsChunked: boolean;
  /**
   * s3rver 3.7 answers InternalError to any ListObjectsV2 whose result is truncated: it
   * cannot build its continuation token on Node 20 (its token cipher), so pagination is
   * checked against the versioned server only.
   */
  readonly truncatedListObjectsV2: boolean;
  /** Real S3 counts CommonPrefixes in KeyCount; s3rver 3.7 counts only Contents. */
  readonly keyCountIncludesCommonPrefixes: boolean;
  /**
   * In us-east-1, S3 answers 200 (and changes nothing) to a CreateBucket of a bucket you
   * already own, "for legacy compatibility"; s3rver 3.7 answers 409 BucketAlreadyExists.
   */
  readonly recreateOwnBucketIs200: boolean;
}

const REAL_S3: Quirks = { decodesAwsChunked: true, truncatedListObjectsV2: true, keyCountIncludesCommonPrefixes: true, recreateOwnBucketIs200: true };

const SERVERS: Array<[string, () => Promise<Target>, Quirks]> = [
  ['s3rver', () => startS3rver(), {
    decodesAwsChunked: false, truncatedListObjectsV2: false, keyCountIncludesCommonPrefixes: false, recreateOwnBucketIs200: false,
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
  });

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
    const invalid = await s3Error(s3.send(new CreateBucketCommand({ Bucket: 'Not_Valid' })));
    expect(invalid.name).toBe('InvalidBucketName');
    expect(invalid.$metadata.httpStatusCode).toBe(400);

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

  test('an unversioned bucket returns no VersionId', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'u', Body: 'u' }));
    expect(put.VersionId).toBeUndefined();
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'u' }));
    expect(get.VersionId).toBeUndefined();
    await get.Body!.transformToString();
  });
});

describe('S3 contract, versioning (versioned test server only: s3rver has no versioning)', () => {
  let server: VersionedS3Server;
  let s3: S3Client;
  let bucket: string;

  beforeAll(async () => {
    server = await VersionedS3Server.start();
    s3 = client(server.endpoint);
  });

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

  test('GetBucketVersioning reports the status; a fresh bucket has none', async () => {
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).toBe('Enabled');
    const fresh = newBucketName();
    await s3.send(new CreateBucketCommand({ Bucket: fresh }));
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: fresh }))).Status).toBeUndefined();
  });

  test('each PutObject returns a new VersionId and every version stays readable by id', async () => {
    const v1 = await put('k', 'one');
    const v2 = await put('k', 'two');
    expect(v1.VersionId).toEqual(expect.any(String));
    expect(v2.VersionId).toEqual(expect.any(String));
    expect(v1.VersionId).not.toBe(v2.VersionId);

    expect(await read('k')).toEqual({ body: 'two', versionId: v2.VersionId });
    expect(await read('k', v1.VersionId)).toEqual({ body: 'one', versionId: v1.VersionId });
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k', VersionId: v1.VersionId }));
    expect(head.VersionId).toBe(v1.VersionId);
    expect(head.ContentLength).toBe(3);
  });

  test('an unknown version is NoSuchVersion (404); a malformed one is InvalidArgument (400)', async () => {
    await put('k', 'one');
    const unknown = await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', VersionId: 'A'.repeat(32) })));
    expect(unknown.name).toBe('NoSuchVersion');
    expect(unknown.$metadata.httpStatusCode).toBe(404);
    const malformed = await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', VersionId: 'v1' })));
    expect(malformed.name).toBe('InvalidArgument');
    expect(malformed.$metadata.httpStatusCode).toBe(400);
  });

  test('DeleteObject without a VersionId adds a delete marker and keeps the versions', async () => {
    const v1 = await put('k', 'one');
    const del = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
    expect(del.DeleteMarker).toBe(true);
    expect(del.VersionId).toEqual(expect.any(String));
    expect(del.VersionId).not.toBe(v1.VersionId);

    const gone = await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })));
    expect(gone.name).toBe('NoSuchKey');
    expect(gone.$response?.headers['x-amz-delete-marker']).toBe('true');
    expect(gone.$response?.headers['x-amz-version-id']).toBe(del.VersionId);
    expect(await read('k', v1.VersionId)).toEqual({ body: 'one', versionId: v1.VersionId });

    const marker = await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', VersionId: del.VersionId })));
    expect(marker.$metadata.httpStatusCode).toBe(405);
    expect(marker.name).toBe('MethodNotAllowed');

    const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(list.Contents ?? []).toEqual([]);
  });

  test('DeleteObject with the current VersionId makes the previous version current', async () => {
    const v1 = await put('k', 'one');
    const v2 = await put('k', 'two');
    const del = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: v2.VersionId }));
    expect(del.VersionId).toBe(v2.VersionId);
    expect(del.DeleteMarker).toBeUndefined();
    expect(await read('k')).toEqual({ body: 'one', versionId: v1.VersionId });
    expect((await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', VersionId: v2.VersionId })))).name).toBe('NoSuchVersion');
  });

  test('deleting the delete marker by VersionId restores the object', async () => {
    const v1 = await put('k', 'one');
    const del = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
    const undo = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: del.VersionId }));
    expect(undo.DeleteMarker).toBe(true);
    expect(await read('k')).toEqual({ body: 'one', versionId: v1.VersionId });
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
    const n1 = await put('k', 'null-1');
    const n2 = await put('k', 'null-2');
    expect(n1.VersionId).toBe('null');
    expect(n2.VersionId).toBe('null');
    const list = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    expect(list.Versions?.map((v) => [v.VersionId, v.IsLatest])).toEqual([['null', true], [v1.VersionId, false]]);
    expect(await read('k')).toEqual({ body: 'null-2', versionId: 'null' });
  });

  test('DeleteObjects with VersionIds removes exactly those versions', async () => {
    const v1 = await put('k', 'one');
    const v2 = await put('k', 'two');
    const result = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'k', VersionId: v2.VersionId }] } }));
    expect(result.Deleted).toEqual([{ Key: 'k', VersionId: v2.VersionId }]);
    expect(await read('k')).toEqual({ body: 'one', versionId: v1.VersionId });
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
    const error = await s3Error(put('k'.repeat(1025), 'x'));
    expect(error.name).toBe('KeyTooLongError');
    expect(error.$metadata.httpStatusCode).toBe(400);
  });
});
