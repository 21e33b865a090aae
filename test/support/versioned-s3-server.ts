/**
 * A small S3-compatible HTTP server WITH VERSIONING, for tests and benchmarks.
 *
 * No emulator installable here implements S3 versioning, and the store's protocol rests on
 * it (pinned VersionIds, delete markers, compensation by DeleteObject with VersionId). This
 * server implements the subset of the S3 REST API the AWS SDK v3 `S3Client` needs for that,
 * path-style only, in memory, without checking signatures (any SigV4 header is accepted).
 * `test/e2e/s3-contract.test.ts` holds it to s3rver's behaviour where s3rver supports an
 * operation, and to the S3 API reference where it does not.
 *
 * Supported: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, Put/GetBucketVersioning,
 * Put/Get/DeleteBucketLifecycle(Configuration) (stored and returned; expiry not simulated),
 * PutObject, GetObject (Range, versionId, If-Match/If-None-Match), HeadObject, DeleteObject,
 * DeleteObjects, ListObjectsV2, ListObjectVersions. Anything else answers 501 NotImplemented.
 *
 * Instrumentation: request counters and a log per operation, injected latency
 * ({@link LatencyOptions}), injected failures ({@link VersionedS3Server.failNext}) and held
 * requests ({@link VersionedS3Server.hold}), which let a test order events without a clock.
 */
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { performance } from 'node:perf_hooks';
import * as zlib from 'node:zlib';
import { classifyS3Request } from './aws-operations';
import { delay, LatencyInjector, LatencyOptions } from './latency';
import { LOOPBACK } from './ports';

/** S3 operation names, as in the S3 API reference (used by counters, latency and faults). */
export type S3Operation =
  | 'ListBuckets' | 'CreateBucket' | 'HeadBucket' | 'DeleteBucket'
  | 'PutBucketVersioning' | 'GetBucketVersioning'
  | 'PutBucketLifecycleConfiguration' | 'GetBucketLifecycleConfiguration' | 'DeleteBucketLifecycle'
  | 'PutObject' | 'GetObject' | 'HeadObject' | 'DeleteObject' | 'DeleteObjects'
  | 'ListObjectsV2' | 'ListObjectVersions' | 'Unsupported';

/** The operations this server implements; any other request answers 501 NotImplemented. */
const IMPLEMENTED: ReadonlySet<string> = new Set<Exclude<S3Operation, 'Unsupported'>>([
  'ListBuckets', 'CreateBucket', 'HeadBucket', 'DeleteBucket',
  'PutBucketVersioning', 'GetBucketVersioning',
  'PutBucketLifecycleConfiguration', 'GetBucketLifecycleConfiguration', 'DeleteBucketLifecycle',
  'PutObject', 'GetObject', 'HeadObject', 'DeleteObject', 'DeleteObjects',
  'ListObjectsV2', 'ListObjectVersions',
]);

/** One request as seen by the server. Times are `performance.now()` milliseconds. */
export interface S3RequestLogEntry {
  readonly operation: S3Operation;
  readonly bucket?: string;
  readonly key?: string;
  /** The versionId asked for (GET/HEAD/DELETE ?versionId=) or created (PUT, delete marker). */
  readonly versionId?: string;
  /** HTTP status sent; undefined when the client went away first. */
  status?: number;
  /** The injected latency, in milliseconds (0 when none). */
  readonly delayMs: number;
  /** Set when the client closed the connection before the response was written. */
  clientGone?: boolean;
  /** When the request was fully received. */
  readonly startMs: number;
  /** When the response was written (after the injected latency). */
  endMs?: number;
}

/** An S3 error to inject. */
export interface InjectedS3Error {
  /** S3 error code, e.g. 'InternalError', 'SlowDown', 'AccessDenied'. */
  readonly code: string;
  /** HTTP status. @default derived from the code (500 when unknown) */
  readonly status?: number;
  /** @default a generic message naming the injection */
  readonly message?: string;
  /** How many of the next requests of the operation fail. @default 1 */
  readonly count?: number;
  /** Only requests for this object key count (and fail). @default any key */
  readonly key?: string;
}

/**
 * Requests of one operation held by {@link VersionedS3Server.hold}: received and logged,
 * then kept waiting (before they take effect) until `release()`.
 */
export interface S3Hold {
  /** Requests waiting right now. */
  readonly waiting: number;
  /** Resolves once `count` requests have been held (counting those already released). */
  held(count: number): Promise<void>;
  /** Lets every held request go on, and stops holding: later requests are not held. */
  release(): void;
}

/** Options of {@link VersionedS3Server.start}. */
export interface VersionedS3ServerOptions {
  /** Port on 127.0.0.1. @default a free port chosen by the kernel */
  readonly port?: number;
  /** Initial injected latency. @default none */
  readonly latency?: LatencyOptions;
}

/** A stored object version or delete marker. */
export interface StoredVersion {
  readonly versionId: string;
  readonly isDeleteMarker: boolean;
  readonly body: Buffer;
  /** Quoted hex MD5 of the body, as S3 returns it. */
  readonly etag: string;
  readonly contentType: string;
  readonly lastModified: Date;
  readonly metadata: Readonly<Record<string, string>>;
  /** Checksums sent with the PutObject, by header suffix ('crc32', 'sha256', ...), base64. */
  readonly checksums: Readonly<Record<string, string>>;
  readonly cacheControl?: string;
  readonly contentEncoding?: string;
  readonly contentDisposition?: string;
}

interface BucketState {
  readonly name: string;
  readonly created: Date;
  versioning?: 'Enabled' | 'Suspended';
  lifecycleXml?: string;
  /** Versions per key, newest first; index 0 is the current version (or delete marker). */
  readonly objects: Map<string, StoredVersion[]>;
}

interface S3Response {
  status: number;
  headers: Record<string, string>;
  body?: Buffer | string;
}

class S3Error extends Error {
  constructor(
    public readonly status: number,
    public readonly code: string,
    message: string,
    public readonly extra: Record<string, string> = {},
    public readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const NULL_VERSION = 'null';
const VERSION_ID_PATTERN = /^[A-Za-z0-9._]{32}$/;
const BUCKET_NAME_PATTERN = /^(?!xn--)(?!.*-s3alias$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const MAX_KEY_BYTES = 1024;

const STATUS_BY_CODE: Record<string, number> = {
  AccessDenied: 403,
  InternalError: 500,
  InvalidArgument: 400,
  NoSuchBucket: 404,
  NoSuchKey: 404,
  NoSuchVersion: 404,
  PreconditionFailed: 412,
  RequestTimeout: 400,
  ServiceUnavailable: 503,
  SlowDown: 503,
};

/**
 * The versioned S3 test server. Start it with {@link VersionedS3Server.start} (or
 * {@link startVersionedS3Server}); point an `S3Client` at `endpoint` with
 * `forcePathStyle: true` and dummy credentials.
 */
export class VersionedS3Server {
  /** Starts a server on 127.0.0.1 and resolves once it listens. */
  public static async start(options: VersionedS3ServerOptions = {}): Promise<VersionedS3Server> {
    const server = new VersionedS3Server(options);
    await server.listen(options.port ?? 0);
    return server;
  }

  /** Requests received per operation (including failed and injected-failure ones). */
  public readonly requests: Record<string, number> = {};
  /** Every request in arrival order. */
  public readonly log: S3RequestLogEntry[] = [];

  private readonly buckets = new Map<string, BucketState>();
  private readonly latency = new LatencyInjector();
  private readonly faults = new Map<string, Array<InjectedS3Error & { remaining: number }>>();
  private readonly holds = new Map<S3Operation, HoldState>();
  private readonly http: http.Server;
  private port = 0;

  private constructor(options: VersionedS3ServerOptions) {
    if (options.latency) this.latency.set(options.latency);
    this.http = http.createServer((req, res) => this.onRequest(req, res));
    // A client that resets its connection must never take the server down.
    this.http.on('clientError', (_err, socket) => socket.destroy());
  }

  /** `http://127.0.0.1:<port>`: the S3 endpoint. */
  public get endpoint(): string {
    return `http://${LOOPBACK}:${this.port}`;
  }

  /** Replaces the injected latency (applied before each response). */
  public setLatency(options: LatencyOptions): void {
    this.latency.set(options);
  }

  /**
   * Makes the next `count` requests of `operation` (for `key`, when given) fail with the given
   * S3 error, before any effect (nothing is stored or deleted). The AWS SDK retries 5xx errors (3 attempts by
   * default), so a `count` of 1 with a 500 is invisible to a default client.
   */
  public failNext(operation: S3Operation, error: InjectedS3Error): void {
    const queue = this.faults.get(operation) ?? [];
    queue.push({ ...error, remaining: error.count ?? 1 });
    this.faults.set(operation, queue);
  }

  /**
   * Holds every request of `operation` from now on, until `release()`: each is received,
   * counted and logged, waits out any injected latency, then waits for the release before
   * it takes effect and is answered. Holding an operation already held returns the same hold.
   */
  public hold(operation: S3Operation): S3Hold {
    let state = this.holds.get(operation);
    if (!state) {
      const created = new HoldState(() => {
        if (this.holds.get(operation) === created) this.holds.delete(operation);
      });
      this.holds.set(operation, created);
      state = created;
    }
    return state;
  }

  /** Clears the counters, the log and pending injected failures. */
  public resetStats(): void {
    for (const op of Object.keys(this.requests)) delete this.requests[op];
    this.log.length = 0;
    this.faults.clear();
  }

  /** Number of requests of `operation` received (of all operations when omitted). */
  public count(operation?: S3Operation): number {
    if (operation) return this.requests[operation] ?? 0;
    return Object.values(this.requests).reduce((a, b) => a + b, 0);
  }

  /** The versions of a key, newest first (a copy), for assertions. Empty when none. */
  public versionsOf(bucket: string, key: string): StoredVersion[] {
    return [...(this.buckets.get(bucket)?.objects.get(key) ?? [])];
  }

  /** Closes the server and every open connection. */
  public async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }

  private async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, LOOPBACK, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    const address = this.http.address();
    if (address === null || typeof address === 'string') throw new Error('versioned S3 server: no TCP address');
    this.port = address.port;
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    req.on('end', () => {
      this.handle(req, res, Buffer.concat(chunks)).catch((e) => {
        // Last resort: never crash, answer 500 if still possible.
        if (!res.headersSent && !res.destroyed) {
          const err = new S3Error(500, 'InternalError', `test server bug: ${(e as Error).message}`);
          res.writeHead(500, { 'content-type': 'application/xml' });
          res.end(errorXml(err, req.url ?? '/'));
        }
      });
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, rawBody: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const { operation: named, bucket, key, versionId } = classifyS3Request(method, url.pathname, url.searchParams, req.headers);
    const operation: S3Operation = IMPLEMENTED.has(named) ? named as S3Operation : 'Unsupported';
    const entry: S3RequestLogEntry = { operation, bucket, key, versionId, delayMs: this.latency.delayFor(operation), startMs: performance.now() };
    this.requests[operation] = (this.requests[operation] ?? 0) + 1;
    this.log.push(entry);
    res.once('close', () => {
      if (!res.writableFinished) entry.clientGone = true;
    });

    let response: S3Response;
    const injected = this.takeFault(operation, key);
    await delay(entry.delayMs);
    await this.holds.get(operation)?.wait();
    try {
      if (injected) {
        throw new S3Error(injected.status ?? STATUS_BY_CODE[injected.code] ?? 500, injected.code,
          injected.message ?? `injected ${injected.code} for ${operation}`);
      }
      response = this.execute(operation, method, bucket, key, url.searchParams, req.headers, rawBody);
    } catch (e) {
      if (!(e instanceof S3Error)) throw e;
      response = {
        status: e.status,
        headers: { 'content-type': 'application/xml', ...e.headers },
        body: method === 'HEAD' ? undefined : errorXml(e, url.pathname),
      };
    }
    if (response.headers['x-amz-version-id'] && (operation === 'PutObject' || operation === 'DeleteObject')) {
      (entry as { versionId?: string }).versionId = response.headers['x-amz-version-id'];
    }
    if (res.destroyed) return;
    const requestId = crypto.randomBytes(8).toString('hex').toUpperCase();
    const body = response.body === undefined ? undefined : Buffer.from(response.body);
    res.writeHead(response.status, {
      'x-amz-request-id': requestId,
      'x-amz-id-2': crypto.randomBytes(24).toString('base64'),
      'server': 'AmazonS3',
      ...(body !== undefined || method !== 'HEAD' ? { 'content-length': String(body?.length ?? 0) } : {}),
      ...response.headers,
    });
    entry.status = response.status;
    res.end(method === 'HEAD' ? undefined : body, () => {
      entry.endMs = performance.now();
    });
  }

  private takeFault(operation: S3Operation, key: string | undefined): InjectedS3Error | undefined {
    const queue = this.faults.get(operation);
    const index = queue?.findIndex((f) => f.key === undefined || f.key === key) ?? -1;
    if (!queue || index < 0) return undefined;
    const fault = queue[index];
    fault.remaining -= 1;
    if (fault.remaining <= 0) queue.splice(index, 1);
    return fault;
  }

  private execute(
    operation: S3Operation,
    method: string,
    bucketName: string | undefined,
    key: string | undefined,
    query: URLSearchParams,
    headers: http.IncomingHttpHeaders,
    rawBody: Buffer,
  ): S3Response {
    if (operation === 'Unsupported') {
      throw new S3Error(501, 'NotImplemented', `the versioned S3 test server does not implement ${method} ${[...query.keys()].join('&') || 'this request'}`);
    }
    if (operation === 'ListBuckets') return this.listBuckets();
    if (operation === 'CreateBucket') return this.createBucket(bucketName!);
    const bucket = this.buckets.get(bucketName!);
    if (!bucket) {
      throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucketName! });
    }
    switch (operation) {
      case 'HeadBucket': return { status: 200, headers: { 'x-amz-bucket-region': 'us-east-1' } };
      case 'DeleteBucket': return this.deleteBucket(bucket);
      case 'PutBucketVersioning': return this.putBucketVersioning(bucket, rawBody);
      case 'GetBucketVersioning': return xmlResponse(200, element('VersioningConfiguration',
        bucket.versioning ? text('Status', bucket.versioning) : '', XMLNS));
      case 'PutBucketLifecycleConfiguration': return this.putLifecycle(bucket, headers, rawBody);
      case 'GetBucketLifecycleConfiguration':
        if (!bucket.lifecycleXml) {
          throw new S3Error(404, 'NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist', { BucketName: bucket.name });
        }
        return { status: 200, headers: { 'content-type': 'application/xml' }, body: bucket.lifecycleXml };
      case 'DeleteBucketLifecycle':
        bucket.lifecycleXml = undefined;
        return { status: 204, headers: {} };
      case 'PutObject': return this.putObject(bucket, key!, headers, rawBody);
      case 'GetObject':
      case 'HeadObject': return this.getObject(bucket, key!, query, headers, operation === 'HeadObject');
      case 'DeleteObject': return this.deleteObject(bucket, key!, query.get('versionId') ?? undefined);
      case 'DeleteObjects': return this.deleteObjects(bucket, headers, rawBody);
      case 'ListObjectsV2': return this.listObjectsV2(bucket, query);
      case 'ListObjectVersions': return this.listObjectVersions(bucket, query);
      default: throw new S3Error(501, 'NotImplemented', `${operation} is not implemented`);
    }
  }

  private listBuckets(): S3Response {
    const buckets = [...this.buckets.values()].sort((a, b) => compareKeys(a.name, b.name)).map((b) =>
      element('Bucket', text('Name', b.name) + text('CreationDate', b.created.toISOString())));
    return xmlResponse(200, element('ListAllMyBucketsResult',
      element('Owner', text('ID', 'local') + text('DisplayName', 'local')) + element('Buckets', buckets.join('')), XMLNS));
  }

  private createBucket(name: string): S3Response {
    if (!BUCKET_NAME_PATTERN.test(name) || name.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(name)) {
      throw new S3Error(400, 'InvalidBucketName', 'The specified bucket is not valid.', { BucketName: name });
    }
    // In us-east-1, S3 answers 200 to a CreateBucket of a bucket you already own, and changes nothing.
    if (!this.buckets.has(name)) {
      this.buckets.set(name, { name, created: new Date(), objects: new Map() });
    }
    return { status: 200, headers: { location: `/${name}` } };
  }

  private deleteBucket(bucket: BucketState): S3Response {
    if ([...bucket.objects.values()].some((versions) => versions.length > 0)) {
      throw new S3Error(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty', { BucketName: bucket.name });
    }
    this.buckets.delete(bucket.name);
    return { status: 204, headers: {} };
  }

  private putBucketVersioning(bucket: BucketState, body: Buffer): S3Response {
    const status = firstText(body.toString('utf8'), 'Status');
    if (status !== 'Enabled' && status !== 'Suspended') {
      throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    }
    // Once enabled, versioning can only be suspended, never removed: S3 behaves the same.
    bucket.versioning = status;
    return { status: 200, headers: {} };
  }

  private putLifecycle(bucket: BucketState, headers: http.IncomingHttpHeaders, body: Buffer): S3Response {
    verifyPayload(headers, body);
    const xml = body.toString('utf8');
    if (!/<LifecycleConfiguration[\s>]/.test(xml) || !/<Rule>/.test(xml)) {
      throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    }
    bucket.lifecycleXml = xml;
    return { status: 200, headers: {} };
  }

  private putObject(bucket: BucketState, key: string, headers: http.IncomingHttpHeaders, rawBody: Buffer): S3Response {
    if (!key) throw new S3Error(400, 'InvalidRequest', 'A key is required');
    if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
      throw new S3Error(400, 'KeyTooLongError', 'Your key is too long', { Size: String(Buffer.byteLength(key)), MaxSizeAllowed: String(MAX_KEY_BYTES) });
    }
    const { body, trailers } = decodePayload(headers, rawBody);
    const checksums = verifyPayload(headers, body, trailers);
    const current = bucket.objects.get(key)?.[0];
    const ifNoneMatch = header(headers, 'if-none-match');
    if (ifNoneMatch === '*' && current && !current.isDeleteMarker) {
      throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-None-Match' });
    }
    const ifMatch = header(headers, 'if-match');
    if (ifMatch !== undefined && (!current || current.isDeleteMarker)) {
      throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
    }
    if (ifMatch !== undefined && current && !etagMatches(ifMatch, current.etag)) {
      throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Match' });
    }
    const metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (name.startsWith('x-amz-meta-') && typeof value === 'string') metadata[name.slice('x-amz-meta-'.length)] = value;
    }
    const contentEncoding = header(headers, 'content-encoding')?.split(',').map((s) => s.trim())
      .filter((s) => s && s !== 'aws-chunked').join(',');
    const version: StoredVersion = {
      versionId: bucket.versioning === 'Enabled' ? newVersionId() : NULL_VERSION,
      isDeleteMarker: false,
      body,
      etag: `"${crypto.createHash('md5').update(body).digest('hex')}"`,
      contentType: header(headers, 'content-type') ?? 'binary/octet-stream',
      lastModified: new Date(),
      metadata,
      checksums,
      cacheControl: header(headers, 'cache-control'),
      contentEncoding: contentEncoding || undefined,
      contentDisposition: header(headers, 'content-disposition'),
    };
    this.addVersion(bucket, key, version);
    const responseHeaders: Record<string, string> = { etag: version.etag };
    if (bucket.versioning) responseHeaders['x-amz-version-id'] = version.versionId;
    for (const [name, value] of Object.entries(checksums)) responseHeaders[`x-amz-checksum-${name}`] = value;
    return { status: 200, headers: responseHeaders };
  }

  /** Adds a version (or delete marker) as the current one; a 'null' version replaces the previous 'null'. */
  private addVersion(bucket: BucketState, key: string, version: StoredVersion): void {
    const versions = (bucket.objects.get(key) ?? []).filter((v) => version.versionId !== NULL_VERSION || v.versionId !== NULL_VERSION);
    versions.unshift(version);
    bucket.objects.set(key, versions);
  }

  private getObject(bucket: BucketState, key: string, query: URLSearchParams, headers: http.IncomingHttpHeaders, head: boolean): S3Response {
    const versions = bucket.objects.get(key) ?? [];
    const versionId = query.get('versionId') ?? undefined;
    let version: StoredVersion | undefined;
    if (versionId !== undefined) {
      version = findVersion(versions, versionId, key);
      if (version.isDeleteMarker) {
        throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.',
          { Method: head ? 'HEAD' : 'GET', ResourceType: 'DeleteMarker' },
          { 'x-amz-delete-marker': 'true', 'x-amz-version-id': version.versionId, 'last-modified': version.lastModified.toUTCString(), 'allow': 'DELETE' });
      }
    } else {
      version = versions[0];
      if (!version || version.isDeleteMarker) {
        const markerHeaders: Record<string, string> = version
          ? { 'x-amz-delete-marker': 'true', 'x-amz-version-id': version.versionId }
          : {};
        throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key }, markerHeaders);
      }
    }
    const ifMatch = header(headers, 'if-match');
    if (ifMatch !== undefined && !etagMatches(ifMatch, version.etag)) {
      throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Match' });
    }
    const ifNoneMatch = header(headers, 'if-none-match');
    const responseHeaders: Record<string, string> = {
      'etag': version.etag,
      'last-modified': version.lastModified.toUTCString(),
      'content-type': version.contentType,
      'accept-ranges': 'bytes',
    };
    if (bucket.versioning) responseHeaders['x-amz-version-id'] = version.versionId;
    if (version.cacheControl) responseHeaders['cache-control'] = version.cacheControl;
    if (version.contentEncoding) responseHeaders['content-encoding'] = version.contentEncoding;
    if (version.contentDisposition) responseHeaders['content-disposition'] = version.contentDisposition;
    for (const [name, value] of Object.entries(version.metadata)) responseHeaders[`x-amz-meta-${name}`] = value;
    if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, version.etag)) {
      return { status: 304, headers: responseHeaders };
    }
    const range = parseRange(header(headers, 'range'), version.body.length);
    if (range === 'unsatisfiable') {
      throw new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable',
        { RangeRequested: header(headers, 'range')!, ActualObjectSize: String(version.body.length) },
        { 'content-range': `bytes */${version.body.length}` });
    }
    if (range) {
      const [start, end] = range;
      const body = version.body.subarray(start, end + 1);
      responseHeaders['content-range'] = `bytes ${start}-${end}/${version.body.length}`;
      responseHeaders['content-length'] = String(body.length);
      return { status: 206, headers: responseHeaders, body: head ? undefined : body };
    }
    if (header(headers, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED') {
      for (const [name, value] of Object.entries(version.checksums)) responseHeaders[`x-amz-checksum-${name}`] = value;
      if (Object.keys(version.checksums).length > 0) responseHeaders['x-amz-checksum-type'] = 'FULL_OBJECT';
    }
    responseHeaders['content-length'] = String(version.body.length);
    return { status: 200, headers: responseHeaders, body: head ? undefined : version.body };
  }

  private deleteObject(bucket: BucketState, key: string, versionId: string | undefined): S3Response {
    const result = this.deleteOne(bucket, key, versionId);
    const headers: Record<string, string> = {};
    if (result.deleteMarker) headers['x-amz-delete-marker'] = 'true';
    if (result.versionId !== undefined) headers['x-amz-version-id'] = result.versionId;
    return { status: 204, headers };
  }

  /**
   * DeleteObject semantics. Without a versionId: unversioned buckets remove the object;
   * versioned ones add a delete marker (versionId 'null' when suspended). With a versionId:
   * that version (or marker) is removed for good; if it was current, the next newest
   * becomes current. Deleting something that does not exist succeeds, as in S3.
   */
  private deleteOne(bucket: BucketState, key: string, versionId: string | undefined): { deleteMarker: boolean; versionId?: string } {
    const versions = bucket.objects.get(key) ?? [];
    if (versionId !== undefined) {
      if (versionId !== NULL_VERSION && !VERSION_ID_PATTERN.test(versionId)) {
        throw new S3Error(400, 'InvalidArgument', 'Invalid version id specified', { ArgumentName: 'versionId', ArgumentValue: versionId });
      }
      const index = versions.findIndex((v) => v.versionId === versionId);
      if (index < 0) return { deleteMarker: false, versionId };
      const [removed] = versions.splice(index, 1);
      if (versions.length === 0) bucket.objects.delete(key);
      return { deleteMarker: removed.isDeleteMarker, versionId };
    }
    if (!bucket.versioning) {
      bucket.objects.delete(key);
      return { deleteMarker: false };
    }
    const marker: StoredVersion = {
      versionId: bucket.versioning === 'Enabled' ? newVersionId() : NULL_VERSION,
      isDeleteMarker: true,
      body: Buffer.alloc(0),
      etag: '',
      contentType: '',
      lastModified: new Date(),
      metadata: {},
      checksums: {},
    };
    this.addVersion(bucket, key, marker);
    return { deleteMarker: true, versionId: marker.versionId };
  }

  private deleteObjects(bucket: BucketState, headers: http.IncomingHttpHeaders, rawBody: Buffer): S3Response {
    const { body, trailers } = decodePayload(headers, rawBody);
    verifyPayload(headers, body, trailers);
    const xml = body.toString('utf8');
    const objects = allBlocks(xml, 'Object').map((block) => ({ key: firstText(block, 'Key'), versionId: firstText(block, 'VersionId') }));
    if (objects.length === 0 || objects.length > 1000 || objects.some((o) => o.key === undefined)) {
      throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    }
    const quiet = firstText(xml, 'Quiet') === 'true';
    const results: string[] = [];
    for (const object of objects) {
      try {
        const result = this.deleteOne(bucket, object.key!, object.versionId);
        if (quiet) continue;
        let inner = text('Key', object.key!);
        if (object.versionId !== undefined) inner += text('VersionId', object.versionId);
        if (result.deleteMarker) {
          inner += text('DeleteMarker', 'true');
          if (object.versionId === undefined) inner += text('DeleteMarkerVersionId', result.versionId!);
        }
        results.push(element('Deleted', inner));
      } catch (e) {
        if (!(e instanceof S3Error)) throw e;
        results.push(element('Error', text('Key', object.key!) + (object.versionId ? text('VersionId', object.versionId) : '')
          + text('Code', e.code) + text('Message', e.message)));
      }
    }
    return xmlResponse(200, element('DeleteResult', results.join(''), XMLNS));
  }

  private listObjectsV2(bucket: BucketState, query: URLSearchParams): S3Response {
    const prefix = query.get('prefix') ?? '';
    const delimiter = query.get('delimiter') || undefined;
    const maxKeys = parseMaxKeys(query.get('max-keys'));
    const urlEncoding = query.get('encoding-type') === 'url';
    const token = query.get('continuation-token') ?? undefined;
    const startAfter = query.get('start-after') ?? undefined;
    let after = startAfter;
    if (token !== undefined) {
      try {
        after = Buffer.from(token, 'base64url').toString('utf8');
      } catch {
        after = undefined;
      }
      if (!after) throw new S3Error(400, 'InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
    }
    const keys = [...bucket.objects.entries()]
      .filter(([key, versions]) => key.startsWith(prefix) && versions[0] && !versions[0].isDeleteMarker)
      .map(([key]) => key)
      .sort(compareKeys);
    const contents: string[] = [];
    const prefixes: string[] = [];
    let last: string | undefined;
    let truncated = false;
    const enc = (s: string) => (urlEncoding ? encodeURIComponent(s).replace(/%2F/g, '/') : s);
    for (const key of keys) {
      if (after !== undefined && compareKeys(key, after) <= 0) continue;
      const rolled = delimiter ? commonPrefix(key, prefix, delimiter) : undefined;
      if (rolled !== undefined && after !== undefined && after.startsWith(rolled) && after.length >= rolled.length) continue;
      if (rolled !== undefined && rolled === last) continue;
      if (contents.length + prefixes.length >= maxKeys) {
        truncated = true;
        break;
      }
      if (rolled !== undefined) {
        prefixes.push(element('CommonPrefixes', text('Prefix', enc(rolled))));
        last = rolled;
      } else {
        const current = bucket.objects.get(key)![0];
        contents.push(element('Contents', text('Key', enc(key)) + text('LastModified', current.lastModified.toISOString())
          + text('ETag', current.etag) + text('Size', String(current.body.length)) + text('StorageClass', 'STANDARD')));
        last = key;
      }
    }
    let inner = text('Name', bucket.name) + text('Prefix', enc(prefix));
    if (delimiter) inner += text('Delimiter', enc(delimiter));
    inner += text('MaxKeys', String(maxKeys)) + text('KeyCount', String(contents.length + prefixes.length))
      + text('IsTruncated', String(truncated));
    if (urlEncoding) inner += text('EncodingType', 'url');
    if (token !== undefined) inner += text('ContinuationToken', token);
    if (truncated && last !== undefined) inner += text('NextContinuationToken', Buffer.from(last, 'utf8').toString('base64url'));
    if (startAfter !== undefined) inner += text('StartAfter', enc(startAfter));
    inner += contents.join('') + prefixes.join('');
    return xmlResponse(200, element('ListBucketResult', inner, XMLNS));
  }

  private listObjectVersions(bucket: BucketState, query: URLSearchParams): S3Response {
    const prefix = query.get('prefix') ?? '';
    const delimiter = query.get('delimiter') || undefined;
    const maxKeys = parseMaxKeys(query.get('max-keys'));
    const keyMarker = query.get('key-marker') || undefined;
    const versionIdMarker = query.get('version-id-marker') || undefined;
    if (versionIdMarker !== undefined && keyMarker === undefined) {
      throw new S3Error(400, 'InvalidArgument', 'A version-id marker cannot be specified without a key marker.', { ArgumentName: 'version-id-marker' });
    }
    const keys = [...bucket.objects.keys()].filter((key) => key.startsWith(prefix)).sort(compareKeys);
    const entries: string[] = [];
    let count = 0;
    let truncated = false;
    let nextKeyMarker: string | undefined;
    let nextVersionIdMarker: string | undefined;
    let lastPrefix: string | undefined;
    outer: for (const key of keys) {
      if (keyMarker !== undefined && compareKeys(key, keyMarker) < 0) continue;
      if (keyMarker !== undefined && key === keyMarker && versionIdMarker === undefined) continue;
      const rolled = delimiter ? commonPrefix(key, prefix, delimiter) : undefined;
      if (rolled !== undefined) {
        if (rolled === lastPrefix || (keyMarker !== undefined && keyMarker.startsWith(rolled))) continue;
        if (count >= maxKeys) {
          truncated = true;
          break;
        }
        entries.push(element('CommonPrefixes', text('Prefix', rolled)));
        lastPrefix = rolled;
        nextKeyMarker = rolled;
        nextVersionIdMarker = undefined;
        count += 1;
        continue;
      }
      const versions = bucket.objects.get(key)!;
      let start = 0;
      if (key === keyMarker && versionIdMarker !== undefined) {
        const index = versions.findIndex((v) => v.versionId === versionIdMarker);
        start = index < 0 ? versions.length : index + 1;
      }
      for (let i = start; i < versions.length; i++) {
        if (count >= maxKeys) {
          truncated = true;
          break outer;
        }
        const v = versions[i];
        const common = text('Key', key) + text('VersionId', v.versionId) + text('IsLatest', String(i === 0))
          + text('LastModified', v.lastModified.toISOString());
        entries.push(v.isDeleteMarker
          ? element('DeleteMarker', common + element('Owner', text('ID', 'local') + text('DisplayName', 'local')))
          : element('Version', common + text('ETag', v.etag) + text('Size', String(v.body.length)) + text('StorageClass', 'STANDARD')));
        nextKeyMarker = key;
        nextVersionIdMarker = v.versionId;
        count += 1;
      }
    }
    let inner = text('Name', bucket.name) + text('Prefix', prefix)
      + text('KeyMarker', keyMarker ?? '') + text('VersionIdMarker', versionIdMarker ?? '');
    if (truncated) {
      inner += text('NextKeyMarker', nextKeyMarker ?? '');
      if (nextVersionIdMarker !== undefined) inner += text('NextVersionIdMarker', nextVersionIdMarker);
    }
    if (delimiter) inner += text('Delimiter', delimiter);
    inner += text('MaxKeys', String(maxKeys)) + text('IsTruncated', String(truncated)) + entries.join('');
    return xmlResponse(200, element('ListVersionsResult', inner, XMLNS));
  }
}

/** The state behind an {@link S3Hold}. */
class HoldState implements S3Hold {
  public waiting = 0;
  private count = 0;
  private released = false;
  private readonly waiters: Array<() => void> = [];
  private readonly counted: Array<{ count: number; resolve: () => void }> = [];

  constructor(private readonly onRelease: () => void) {}

  public held(count: number): Promise<void> {
    if (this.count >= count) return Promise.resolve();
    return new Promise((resolve) => this.counted.push({ count, resolve }));
  }

  public release(): void {
    this.released = true;
    this.onRelease();
    for (const go of this.waiters.splice(0)) go();
  }

  /** Called by the server for each request of the held operation. */
  public async wait(): Promise<void> {
    if (this.released) return;
    this.count += 1;
    this.waiting += 1;
    for (const c of this.counted.filter((x) => this.count >= x.count)) {
      this.counted.splice(this.counted.indexOf(c), 1);
      c.resolve();
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.waiting -= 1;
  }
}

/** Starts a {@link VersionedS3Server}; same as `VersionedS3Server.start(options)`. */
export function startVersionedS3Server(options: VersionedS3ServerOptions = {}): Promise<VersionedS3Server> {
  return VersionedS3Server.start(options);
}

function header(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * Undoes `Content-Encoding: aws-chunked` (the SDK's streaming uploads, signed
 * `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]` or `STREAMING-UNSIGNED-PAYLOAD-TRAILER`):
 * `<hex size>[;chunk-signature=...]\r\n<data>\r\n` ... `0\r\n<trailer: value\r\n>*\r\n`.
 */
function decodePayload(headers: http.IncomingHttpHeaders, raw: Buffer): { body: Buffer; trailers: Record<string, string> } {
  const sha = header(headers, 'x-amz-content-sha256') ?? '';
  const chunked = sha.startsWith('STREAMING-') || (header(headers, 'content-encoding') ?? '').split(',').map((s) => s.trim()).includes('aws-chunked');
  if (!chunked) return { body: raw, trailers: {} };
  const parts: Buffer[] = [];
  const trailers: Record<string, string> = {};
  let offset = 0;
  const malformed = () => new S3Error(400, 'IncompleteBody', 'The aws-chunked payload could not be decoded');
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', offset);
    if (lineEnd < 0) throw malformed();
    const size = parseInt(raw.subarray(offset, lineEnd).toString('latin1').split(';')[0], 16);
    if (!Number.isFinite(size)) throw malformed();
    offset = lineEnd + 2;
    if (size === 0) break;
    if (offset + size > raw.length) throw malformed();
    parts.push(raw.subarray(offset, offset + size));
    offset += size + 2;
  }
  for (const line of raw.subarray(offset).toString('latin1').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = Buffer.concat(parts);
  const decodedLength = header(headers, 'x-amz-decoded-content-length');
  if (decodedLength !== undefined && Number(decodedLength) !== body.length) throw malformed();
  return { body, trailers };
}

/**
 * Verifies Content-MD5, a hex x-amz-content-sha256 and the x-amz-checksum-* values (headers
 * or aws-chunked trailers) that can be computed here (CRC32, SHA1, SHA256; CRC32C and
 * CRC64NVME are stored unverified). Returns the checksums to store, keyed by algorithm.
 */
function verifyPayload(headers: http.IncomingHttpHeaders, body: Buffer, trailers: Record<string, string> = {}): Record<string, string> {
  const md5 = header(headers, 'content-md5');
  if (md5 !== undefined && crypto.createHash('md5').update(body).digest('base64') !== md5) {
    throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
  }
  const sha = header(headers, 'x-amz-content-sha256');
  if (sha !== undefined && /^[0-9a-f]{64}$/.test(sha) && crypto.createHash('sha256').update(body).digest('hex') !== sha) {
    throw new S3Error(400, 'XAmzContentSHA256Mismatch', 'The provided \'x-amz-content-sha256\' header does not match what was computed.');
  }
  const checksums: Record<string, string> = {};
  for (const [name, value] of [...Object.entries(headers), ...Object.entries(trailers)]) {
    if (!name.startsWith('x-amz-checksum-') || name === 'x-amz-checksum-type' || name === 'x-amz-checksum-algorithm' || typeof value !== 'string') continue;
    const algorithm = name.slice('x-amz-checksum-'.length);
    const expected = computeChecksum(algorithm, body);
    if (expected !== undefined && expected !== value) {
      throw new S3Error(400, 'BadDigest', `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum.`);
    }
    checksums[algorithm] = value;
  }
  return checksums;
}

function computeChecksum(algorithm: string, body: Buffer): string | undefined {
  switch (algorithm) {
    case 'crc32': {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(zlib.crc32(body));
      return out.toString('base64');
    }
    case 'sha1': return crypto.createHash('sha1').update(body).digest('base64');
    case 'sha256': return crypto.createHash('sha256').update(body).digest('base64');
    default: return undefined;
  }
}

function findVersion(versions: StoredVersion[], versionId: string, key: string): StoredVersion {
  if (versionId !== NULL_VERSION && !VERSION_ID_PATTERN.test(versionId)) {
    throw new S3Error(400, 'InvalidArgument', 'Invalid version id specified', { ArgumentName: 'versionId', ArgumentValue: versionId });
  }
  const version = versions.find((v) => v.versionId === versionId);
  if (!version) throw new S3Error(404, 'NoSuchVersion', 'The specified version does not exist.', { Key: key, VersionId: versionId });
  return version;
}

/** Single `bytes=a-b`, `bytes=a-`, `bytes=-n` ranges; anything else is ignored (full body), as S3 does. */
function parseRange(value: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  const match = value === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size) return 'unsatisfiable';
  if (end < start) return undefined;
  return [start, end];
}

function parseMaxKeys(value: string | null): number {
  if (value === null) return 1000;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new S3Error(400, 'InvalidArgument', 'Provided max-keys not an integer or within integer range', { ArgumentName: 'max-keys', ArgumentValue: value });
  }
  return Math.min(n, 1000);
}

function commonPrefix(key: string, prefix: string, delimiter: string): string | undefined {
  const index = key.indexOf(delimiter, prefix.length);
  return index < 0 ? undefined : key.slice(0, index + delimiter.length);
}

/** S3 lists keys in UTF-8 binary order. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function etagMatches(condition: string, etag: string): boolean {
  return condition.split(',').map((s) => s.trim()).some((c) => c === '*' || c === etag || `"${c}"` === etag);
}

function newVersionId(): string {
  return crypto.randomBytes(24).toString('base64').replace(/\+/g, '.').replace(/\//g, '_');
}

function escapeXml(raw: string): string {
  return raw.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function unescapeXml(escaped: string): string {
  return escaped.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_m, entity: string) => {
    switch (entity) {
      case 'amp': return '&';
      case 'lt': return '<';
      case 'gt': return '>';
      case 'quot': return '"';
      case 'apos': return '\'';
      default: return String.fromCodePoint(entity.startsWith('#x') ? parseInt(entity.slice(2), 16) : Number(entity.slice(1)));
    }
  });
}

/** `<name>markup</name>`: `markup` is made of other element() / text() results. */
function element(name: string, markup: string, xmlns?: string): string {
  return `<${name}${xmlns ? ` xmlns="${xmlns}"` : ''}>${markup}</${name}>`;
}

/** `<name>escaped text</name>`. */
function text(name: string, value: string): string {
  return `<${name}>${escapeXml(value)}</${name}>`;
}

function xmlResponse(status: number, xml: string): S3Response {
  return { status, headers: { 'content-type': 'application/xml' }, body: `<?xml version="1.0" encoding="UTF-8"?>\n${xml}` };
}

function errorXml(error: S3Error, resource: string): string {
  let inner = text('Code', error.code) + text('Message', error.message);
  for (const [name, value] of Object.entries(error.extra)) inner += text(name, value);
  inner += text('Resource', resource) + text('RequestId', crypto.randomBytes(8).toString('hex').toUpperCase())
    + text('HostId', crypto.randomBytes(24).toString('base64'));
  return `<?xml version="1.0" encoding="UTF-8"?>\n${element('Error', inner)}`;
}

function firstText(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>`).exec(xml);
  return match ? unescapeXml(match[1]) : undefined;
}

function allBlocks(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>`, 'g'))].map((m) => m[1]);
}
