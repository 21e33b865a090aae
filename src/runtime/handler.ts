/**
 * The reference reader: one streaming handler for Function URL requests (NDJSON split
 * reads, JSON for everything else) and plain JSON invocations (`{ "operation": ... }`).
 *
 * The entry point (src/reader.lambda.ts) only builds the SDK clients and the store and wraps
 * this with `awslambda.streamifyResponse`; everything here runs without Lambda.
 *
 * No CDK import here: this module is bundled into the Lambda assets.
 */
import type { Writable } from 'stream';
import type { StoreConfig } from './config';
import { describeCause } from './errors';
import { LogSink, jsonLog, withLogContext } from './handler-log';
import { ReadCollector, toJson } from './handler-ndjson';
import {
  FunctionUrlEvent, Operation, ParseOptions, RouteError, isFunctionUrlEvent, parseFunctionUrlRequest, parseOperationEvent,
} from './handler-request';
import { HttpResponseStreamFactory, endStream, isClosed, lambdaHttpResponseStream, writeChunk } from './lambda-stream';
import { DEFAULT_PART_TIMEOUT_MS, MAX_BODY_BYTES, MAX_PART_TIMEOUT_MS, MAX_STREAM_MIN_LINE_BYTES } from './limits';
import { METRIC_NAMES, metricEntry } from './metrics';
import type {
  DeleteRequest, GetRequest, IndexRow, ItemKey, ListRequest, ListResult, PutRequest, PutResult, ReadEvent,
  ReconcileOutcome, UpdatePartsRequest,
} from './types';
import { StoreError, UnavailableError } from './types';

/** What the handler needs from the store: the methods of `SplitStoreClient` (src/runtime/store.ts). */
export interface StoreOperations {
  put(req: PutRequest): Promise<PutResult>;
  updateParts(req: UpdatePartsRequest): Promise<IndexRow>;
  delete(req: DeleteRequest): Promise<IndexRow>;
  get(req: GetRequest): AsyncIterable<ReadEvent>;
  getIndex(key: ItemKey): Promise<IndexRow>;
  list(req: ListRequest): Promise<ListResult>;
  presign(key: ItemKey, part: string, expiresInSeconds?: number): Promise<string>;
  reconcile(objectKey: string, versionId: string): Promise<ReconcileOutcome>;
}

/** The subset of the Lambda context the handler reads. */
export interface HandlerContext {
  readonly awsRequestId?: string;
  getRemainingTimeInMillis?(): number;
}

/** The streaming handler, before `awslambda.streamifyResponse`. */
export type ReaderHandler = (event: unknown, responseStream: Writable, context?: HandlerContext) => Promise<void>;

export type { LogSink };
export { jsonLog };

/** Options of {@link createReaderHandler}. */
export interface ReaderHandlerOptions extends ParseOptions {
  /** The store's configuration: key names and types (to parse paths), indexes, table name (metrics). */
  readonly config: StoreConfig;
  /**
   * Per-part S3 timeout of a split read, in milliseconds. Capped so that the read ends
   * (with Timeout part errors) a second before the function would be killed.
   * @default 10000
   */
  readonly partTimeoutMs?: number;
  /**
   * Pads every NDJSON line but the trailer with spaces (before its newline) to at least this
   * many bytes. Third-party measurements (betterdev.blog, "Forcing Lambda Response Streaming
   * to Flush Content", 2023) show Lambda holding back small streamed writes until more data
   * follows; padding forces them out, at the cost of bandwidth. Lines stay valid JSON.
   * @default 0 (no padding)
   */
  readonly minLineBytes?: number;
  /** @default one JSON line on stdout (CloudWatch Logs) */
  readonly log?: LogSink;
  /** Milliseconds clock for timings. @default performance.now */
  readonly now?: () => number;
  /** @default awslambda.HttpResponseStream.from */
  readonly httpResponseStream?: HttpResponseStreamFactory;
}

const NDJSON = 'application/x-ndjson';
const JSON_TYPE = 'application/json';

/** An error response: status, machine-readable code, message for a human. */
interface ErrorBody {
  readonly statusCode: number;
  readonly code: string;
  readonly message: string;
  readonly headers?: Record<string, string>;
}

/**
 * The error a caller sees. Store errors and request errors keep their status, code and
 * message (plain words: an AWS error behind one is its `cause`, for the log); AWS SDK errors
 * the store let through become 503 when retrying can help; anything else is a 500. Neither of
 * the last two repeats the error's name or text: the detail goes to the log, never to the
 * caller.
 */
export function toErrorBody(error: unknown): ErrorBody {
  if (error instanceof RouteError && error.allow) {
    return { statusCode: error.statusCode, code: error.code, message: error.message, headers: { allow: error.allow.join(', ') } };
  }
  if (error instanceof StoreError) {
    return { statusCode: error.statusCode, code: error.code, message: error.message };
  }
  const sdk = error as { $metadata?: unknown; $fault?: string; $retryable?: unknown; name?: string };
  if (sdk && typeof sdk === 'object' && sdk.$metadata !== undefined
    && (sdk.$fault === 'server' || sdk.$retryable || RETRYABLE_ERRORS.has(String(sdk.name)))) {
    return { statusCode: 503, code: 'Unavailable', message: 'a dependency (DynamoDB or S3) failed: retry with backoff (the function log has the details)' };
  }
  return { statusCode: 500, code: 'InternalError', message: 'internal error: the function log has the details' };
}

const RETRYABLE_ERRORS = new Set([
  'TimeoutError', 'ThrottlingException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded',
  'SlowDown', 'ServiceUnavailable', 'InternalServerError', 'InternalError',
]);

/**
 * Creates the reader's streaming handler over a store.
 *
 * - Function URL requests: the routes of {@link parseFunctionUrlRequest} (documented in the
 *   README, "The reader's routes"). A split read streams NDJSON: the index line, one line per part in the order parts
 *   resolve, then an `end` trailer; each line is written the moment its event arrives.
 * - Plain invocations (`{ "operation": ... }`): one JSON document,
 *   `{ "ok": true, "result": ... }` or `{ "ok": false, "error": { statusCode, code, message } }`.
 */
export function createReaderHandler(store: StoreOperations, options: ReaderHandlerOptions): ReaderHandler {
  const log = options.log ?? jsonLog;
  const now = options.now ?? (() => performance.now());
  const httpResponseStream = options.httpResponseStream ?? lambdaHttpResponseStream;

  return (event, responseStream, context) => withLogContext({ requestId: context?.awsRequestId }, async () => {
    const started = now();
    const requestId = context?.awsRequestId;
    const entry: Record<string, unknown> = { requestId };
    try {
      if (isFunctionUrlEvent(event)) {
        entry.kind = 'url';
        entry.method = event.requestContext.http.method;
        await serveUrl(event, responseStream, context, entry);
      } else {
        entry.kind = 'invoke';
        await serveInvocation(event, responseStream, context, entry);
      }
    } finally {
      entry.durationMs = Math.round((now() - started) * 10) / 10;
      log({ level: (entry.status as number) >= 500 ? 'error' : 'info', msg: 'request', ...entry });
    }

    async function serveUrl(request: FunctionUrlEvent, stream: Writable, ctx: HandlerContext | undefined, fields: Record<string, unknown>) {
      let operation: Operation;
      try {
        operation = parseFunctionUrlRequest(request, options.config, options);
      } catch (e) {
        fields.route = 'unrouted';
        return sendHttpError(stream, e, fields);
      }
      fields.route = operation.route;
      if (operation.kind === 'get') {
        return streamRead(operation.request, stream, ctx, fields);
      }
      let result: { status: number; body: unknown };
      try {
        result = await execute(operation, ctx);
      } catch (e) {
        return sendHttpError(stream, e, fields);
      }
      fields.status = result.status;
      await sendJson(stream, result.status, result.body);
    }

    async function serveInvocation(raw: unknown, stream: Writable, ctx: HandlerContext | undefined, fields: Record<string, unknown>) {
      let document: unknown;
      try {
        const operation = parseOperationEvent(raw);
        fields.route = operation.route;
        if (operation.kind === 'get') {
          document = { ok: true, result: await collectRead(operation.request, ctx, fields) };
        } else {
          document = { ok: true, result: (await execute(operation, ctx)).body };
        }
        fields.status = 200;
      } catch (e) {
        fields.route ??= 'invalid';
        const error = describeError(e, fields);
        document = { ok: false, error: { statusCode: error.statusCode, code: error.code, message: error.message, ...withRequestId() } };
      }
      // A plain invocation's payload is the raw stream: no HTTP prelude.
      (stream as { setContentType?: (type: string) => void }).setContentType?.(JSON_TYPE);
      await endStream(stream, toJson(document));
    }

    /** Runs a non-streaming operation; the HTTP status and body it answers with. */
    async function execute(operation: Exclude<Operation, { kind: 'get' }>, ctx: HandlerContext | undefined): Promise<{ status: number; body: unknown }> {
      switch (operation.kind) {
        case 'list':
          return { status: 200, body: await store.list(operation.request) };
        case 'put': {
          const { created, ...row } = await withWriteBudget(ctx, signal => store.put({ ...operation.request, signal }));
          return { status: created ? 201 : 200, body: row };
        }
        case 'updateParts':
          return { status: 200, body: await withWriteBudget(ctx, signal => store.updateParts({ ...operation.request, signal })) };
        case 'delete':
          return { status: 200, body: { deleted: await withWriteBudget(ctx, signal => store.delete({ ...operation.request, signal })) } };
        case 'presign': {
          const { key, part, expiresInSeconds } = operation.request;
          const url = await store.presign(key, part, expiresInSeconds);
          return { status: 200, body: { url, versionId: versionIdOf(url) } };
        }
      }
    }

    /** Split read over the Function URL: NDJSON, each line written when its event arrives. */
    async function streamRead(request: GetRequest, stream: Writable, ctx: HandlerContext | undefined, fields: Record<string, unknown>) {
      const abort = new AbortController();
      const budget = readBudget(ctx, abort);
      const collector = new ReadCollector(requestId);
      let iterator: AsyncIterator<ReadEvent>;
      let first: IteratorResult<ReadEvent>;
      try {
        iterator = store.get(readRequest(request, ctx, abort.signal))[Symbol.asyncIterator]();
        first = await iterator.next();
      } catch (e) {
        clearTimeout(budget);
        // Nothing was written yet: a proper HTTP status (404 missing row, 503 DynamoDB down, 400 bad input).
        return sendHttpError(stream, e, fields);
      }
      fields.status = 200;
      const out = httpResponseStream(stream, { statusCode: 200, headers: { 'content-type': NDJSON, 'cache-control': 'no-store' } });
      // A client that hangs up stops the S3 reads still in flight.
      const onClose = () => {
        if (!out.writableFinished) abort.abort();
      };
      out.on('close', onClose);
      try {
        let next = first;
        while (!next.done) {
          await writeLine(out, collector.add(next.value), options.minLineBytes);
          if (isClosed(out)) {
            fields.clientGone = true;
            break;
          }
          next = await iterator.next();
        }
      } catch (e) {
        const error = describeError(e, fields);
        await writeLine(out, {
          type: 'error', code: error.code, message: error.message, ...withRequestId(), atMs: Math.round((now() - started) * 10) / 10,
        }, options.minLineBytes);
      } finally {
        clearTimeout(budget);
        abort.abort();
        await iterator.return?.().catch(() => undefined);
      }
      const timings = collector.timings(now() - started);
      recordRead(collector, fields, timings);
      await writeLine(out, { type: 'end', timings, errors: collector.errors, ...withRequestId() });
      await endStream(out);
      out.off('close', onClose);
    }

    /** Split read for a plain invocation: the same events, gathered in one document. */
    async function collectRead(request: GetRequest, ctx: HandlerContext | undefined, fields: Record<string, unknown>) {
      const collector = new ReadCollector(requestId);
      const abort = new AbortController();
      const budget = readBudget(ctx, abort);
      try {
        for await (const readEvent of store.get(readRequest(request, ctx, abort.signal))) {
          collector.add(readEvent);
        }
      } finally {
        clearTimeout(budget);
      }
      const timings = collector.timings(now() - started);
      recordRead(collector, fields, timings);
      return { row: collector.row, parts: collector.parts, errors: collector.errors, timings, ...withRequestId() };
    }

    function readRequest(request: GetRequest, ctx: HandlerContext | undefined, signal?: AbortSignal): GetRequest {
      let timeout = request.partTimeoutMs ?? options.partTimeoutMs ?? DEFAULT_PART_TIMEOUT_MS;
      const remaining = ctx?.getRemainingTimeInMillis?.();
      if (remaining !== undefined) {
        // End with Timeout part errors (and a trailer) rather than being killed mid-stream.
        timeout = Math.max(1, Math.min(timeout, remaining - 1000));
      }
      return { ...request, partTimeoutMs: timeout, ...(signal ? { signal } : {}) };
    }

    function recordRead(collector: ReadCollector, fields: Record<string, unknown>, timings: unknown) {
      fields.timings = timings;
      fields.parts = Object.keys(collector.parts).length;
      if (collector.errors.length) {
        // What S3 said about each failed part goes to the log, under the request id the caller has.
        fields.partErrors = collector.errors.map(({ name, code }) => {
          const cause = collector.causes.find((c) => c.name === name)?.cause;
          return cause === undefined ? { name, code } : { name, code, cause: describeCause(cause) };
        });
      }
      const dangling = collector.count('DanglingPointer');
      if (dangling > 0) {
        log(danglingPointerMetric(options.config.tableName, dangling));
      }
    }

    async function sendHttpError(stream: Writable, error: unknown, fields: Record<string, unknown>) {
      const body = describeError(error, fields);
      await sendJson(stream, body.statusCode, { error: { code: body.code, message: body.message, ...withRequestId() } }, body.headers);
    }

    /** The request id, for every error the caller sees: the function log has the details under it. */
    function withRequestId(): { requestId?: string } {
      return requestId ? { requestId } : {};
    }

    async function sendJson(stream: Writable, statusCode: number, body: unknown, headers: Record<string, string> = {}) {
      const out = httpResponseStream(stream, { statusCode, headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store', ...headers } });
      await endStream(out, toJson(body));
    }

    /**
     * The caller's view of an error. The log line gets what the caller does not: for a 5xx the
     * error itself with its stack, and for any error the AWS error behind it (`cause`).
     */
    function describeError(error: unknown, fields: Record<string, unknown>): ErrorBody {
      const body = toErrorBody(error);
      fields.status = body.statusCode;
      fields.code = body.code;
      const e = error as Error | undefined;
      if (body.statusCode >= 500) {
        fields.error = { name: e?.name, message: e?.message, stack: e?.stack };
      }
      if (error instanceof StoreError && error.cause !== undefined) fields.cause = describeCause(error.cause);
      return body;
    }
  });
}

/** Time a read keeps after its budget ends, ms: the error line and the trailer. */
export const READ_RESERVE_MS = 1_000;

/**
 * Aborts a read {@link READ_RESERVE_MS} before the function's time runs out (nothing outside
 * Lambda), with a 503: the DynamoDB read answers 503 before the stream starts, parts still in
 * flight end with an error line and the trailer.
 */
function readBudget(ctx: HandlerContext | undefined, abort: AbortController): ReturnType<typeof setTimeout> | undefined {
  const remaining = ctx?.getRemainingTimeInMillis?.();
  if (remaining === undefined) return undefined;
  return setTimeout(
    () => abort.abort(new UnavailableError('the read ran out of the function\'s time: retry')),
    Math.max(0, remaining - READ_RESERVE_MS),
  );
}

/**
 * Time a write keeps after its budget ends, ms: its clean-up (one short attempt per request)
 * and the answer, before Lambda stops the function.
 */
export const WRITE_RESERVE_MS = 3_000;

/**
 * Runs a write with a signal that aborts {@link WRITE_RESERVE_MS} before the function's time
 * runs out (no signal outside Lambda), so that it answers 503 instead of being killed.
 */
async function withWriteBudget<T>(ctx: HandlerContext | undefined, write: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
  const remaining = ctx?.getRemainingTimeInMillis?.();
  if (remaining === undefined) return write(undefined);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('the function is about to time out')), Math.max(0, remaining - WRITE_RESERVE_MS));
  try {
    return await write(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

/** Writes one NDJSON line as one chunk, padded with spaces to `minBytes` when asked. */
async function writeLine(stream: Writable, line: unknown, minBytes = 0): Promise<void> {
  const text = toJson(line);
  const padding = minBytes > 0 ? minBytes - Buffer.byteLength(text, 'utf8') - 1 : 0;
  await writeChunk(stream, padding > 0 ? `${text}${' '.repeat(padding)}\n` : `${text}\n`);
}

/** The version a presigned URL is pinned to (its versionId query parameter). */
function versionIdOf(url: string): string | undefined {
  try {
    return new URL(url).searchParams.get('versionId') ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * A CloudWatch Embedded Metric Format entry: written to the log, it becomes the metric
 * `SplitStore/DanglingPointers` (dimension TableName) without any API call.
 */
export function danglingPointerMetric(tableName: string, count: number, timestamp = Date.now()): Record<string, unknown> {
  return {
    ...metricEntry(tableName, { name: METRIC_NAMES.danglingPointers, value: count }, timestamp),
    msg: 'dangling pointers served as part errors: a pinned S3 version no longer exists',
  };
}

/** Environment variables of the reader's own tuning (the store's are in config.ts). */
export const READER_ENV = {
  /** Per-part S3 timeout of a split read, milliseconds ({@link ReaderHandlerOptions.partTimeoutMs}). */
  partTimeoutMs: 'SPLIT_STORE_PART_TIMEOUT_MS',
  /** Minimum NDJSON line size in bytes ({@link ReaderHandlerOptions.minLineBytes}). */
  minLineBytes: 'SPLIT_STORE_STREAM_MIN_LINE_BYTES',
  /** Largest accepted request body in bytes ({@link ReaderHandlerOptions.maxBodyBytes}). */
  maxBodyBytes: 'SPLIT_STORE_MAX_BODY_BYTES',
} as const;

/** Reads the reader's tuning from the environment; unset variables keep the defaults. */
export function streamOptionsFromEnv(env: Record<string, string | undefined> = process.env): Pick<ReaderHandlerOptions, 'partTimeoutMs' | 'minLineBytes' | 'maxBodyBytes'> {
  const read = (variable: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined => {
    const text = env[variable];
    if (text === undefined || text === '') return undefined;
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
      throw new Error(`${variable} must be an integer ${range}, got ${JSON.stringify(text)}`);
    }
    return value;
  };
  const options = {
    partTimeoutMs: read(READER_ENV.partTimeoutMs, 1, MAX_PART_TIMEOUT_MS),
    minLineBytes: read(READER_ENV.minLineBytes, 0, MAX_STREAM_MIN_LINE_BYTES),
    maxBodyBytes: read(READER_ENV.maxBodyBytes, 1, MAX_BODY_BYTES),
  };
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}

/**
 * A handler whose store is built on the first request, so a configuration error (missing
 * environment variable) becomes a logged 500 instead of a failed cold start, and the bundle
 * can be loaded without any environment.
 */
export function createLazyReaderHandler(
  init: () => { store: StoreOperations; options: ReaderHandlerOptions },
  fallback: { readonly log?: LogSink; readonly httpResponseStream?: HttpResponseStreamFactory } = {},
): ReaderHandler {
  const log = fallback.log ?? jsonLog;
  const httpResponseStream = fallback.httpResponseStream ?? lambdaHttpResponseStream;
  let handler: ReaderHandler | undefined;
  return async (event, responseStream, context) => {
    if (!handler) {
      try {
        const { store, options } = init();
        handler = createReaderHandler(store, options);
      } catch (e) {
        log({ level: 'error', msg: 'reader is misconfigured', error: (e as Error).message, requestId: context?.awsRequestId });
        const requestId = context?.awsRequestId;
        const error = { statusCode: 500, code: 'InternalError', message: 'internal error: the function log has the details', ...(requestId ? { requestId } : {}) };
        if (isFunctionUrlEvent(event)) {
          const out = httpResponseStream(responseStream, { statusCode: 500, headers: { 'content-type': JSON_TYPE } });
          await endStream(out, toJson({ error: { code: error.code, message: error.message, ...(requestId ? { requestId } : {}) } }));
        } else {
          await endStream(responseStream, toJson({ ok: false, error }));
        }
        return;
      }
    }
    return handler(event, responseStream, context);
  };
}
