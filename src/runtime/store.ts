/**
 * The split-store protocol (v2) over the AWS SDK: write, split read, delete, list, presign
 * and reconcile. docs/PROTOCOL.md is the specification this code implements; the commit
 * sequence every write shares is in commit.ts, the reconciler's rules in reconcile.ts.
 *
 * No CDK import here: this module is bundled into the Lambda assets.
 */
import {
  AttributeValue,
  DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  QueryCommandInput,
  ScanCommand,
  ScanCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  GetObjectCommand,
  GetObjectCommandOutput,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  checkIndexKeyAttributes,
  checkItemSize,
  decodeState,
  DELETED_ATTRIBUTE,
  encodePin,
  encodePins,
  encodeTombstone,
  estimatePinBytes,
  Item,
  marshallAttributes,
  marshallKey,
  mergeKeyIntoAttributes,
  PARTS_ATTRIBUTE,
  pinOf,
  PROTOCOL_ATTRIBUTE,
  PROTOCOL_VERSION,
  RESERVED_ATTRIBUTES_BYTES,
  REVISION_ATTRIBUTE,
  RowState,
  TOKEN_ATTRIBUTE,
  UnsupportedRowError,
} from './codec';
import { nextRevision, PreparedPart, runWrite, stateCondition } from './commit';
import { KeyAttribute, StoreConfig } from './config';
import { dependencyError, isNotFound, partFailureMessage } from './errors';
import { jsonLog } from './handler-log';
import {
  checkDynamoDbNumber, isDynamoDbNumberText, isWellFormed, keyAttributes, partKey, validateKey, validatePartName,
} from './keys';
import {
  CONTENT_TYPE_PATTERN, DEFAULT_DYNAMODB_TIMEOUT_MS, DEFAULT_LIST_LIMIT, DEFAULT_PART_TIMEOUT_MS,
  DEFAULT_PRESIGN_EXPIRES_SECONDS, DEFAULT_S3_TIMEOUT_MS, MAX_ATTRIBUTES_PER_UPDATE, MAX_CONTENT_TYPE_LENGTH,
  MAX_CURSOR_LENGTH, MAX_LIST_LIMIT, MAX_PARTITION_KEY_BYTES, MAX_PARTS_PER_READ, MAX_PARTS_PER_WRITE, MAX_PART_TIMEOUT_MS,
  MAX_PRESIGN_EXPIRES_SECONDS, MAX_REQUEST_TIMEOUT_MS, REQUEST_ATTEMPTS, UNCONDITIONAL_WRITE_ROUNDS,
} from './limits';
import { ProjectionError, projectJson, validatePaths } from './projection';
import { reconcilePartKey, ReconcilerContext } from './reconcile';
import { send } from './send';
import {
  ConflictError,
  DeleteRequest,
  GetRequest,
  IndexRow,
  ItemKey,
  KeyValue,
  ListRequest,
  ListResult,
  LogEntry,
  NotFoundError,
  PartErrorCode,
  PartInput,
  PartPin,
  PutRequest,
  PutResult,
  ReadEvent,
  ReconcileOutcome,
  StoreError,
  UpdatePartsRequest,
  ValidationError,
} from './types';

export type { LogEntry };

/** A part or part-error event of a split read. */
export type PartEvent = Exclude<ReadEvent, { readonly type: 'index' }>;

/** A dangling pointer: the row pins a version that S3 no longer has. */
export interface DanglingPointer {
  readonly key: ItemKey;
  readonly part: string;
  readonly versionId: string;
}

export interface SplitStoreClientOptions {
  readonly config: StoreConfig;
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  /** Monotonic clock in milliseconds, for deadlines and timings. @default performance.now */
  readonly now?: () => number;
  /** Wall clock in milliseconds, compared with S3 LastModified by the reconciler. @default Date.now */
  readonly wallClock?: () => number;
  /** Called for every dangling pointer a read finds (also counted in `danglingPointers`). */
  readonly onDanglingPointer?: (pointer: DanglingPointer) => void;
  /** Where warnings go (failed compensations, retired parts). @default one JSON line on stdout (`jsonLog`) */
  readonly log?: (entry: LogEntry) => void;
  /**
   * Base pause between attempts, ms: a request or commit sent again, and an unconditional
   * write that lost a race, wait a random time up to this times 2^attempt.
   * @default 50
   */
  readonly retryDelayMs?: number;
  /**
   * Per-attempt timeout of every DynamoDB request, ms (1 to 20,000). The store sends each
   * request itself, one HTTP request per attempt (the SDK's own retries are switched off for
   * its requests); reads are tried 3 times, a commit is judged after every attempt
   * (docs/PROTOCOL.md section 5). At most 20 s, so that a commit attempt ends well inside the
   * reconciler's 30 s margin after the writer deadline.
   * @default 5000
   */
  readonly dynamodbTimeoutMs?: number;
  /**
   * Per-attempt timeout of every S3 request of a write, a delete or the reconciler, ms (1 to
   * 20,000); each is tried 3 times. Split reads use their per-part timeout instead.
   * @default 10000
   */
  readonly s3TimeoutMs?: number;
}

type GetOutcome =
  | { readonly ok: true; readonly out: GetObjectCommandOutput }
  | { readonly ok: false; readonly error: unknown };

interface PartFetch {
  readonly name: string;
  readonly controller: AbortController;
  current?: { readonly controller: AbortController; readonly outcome: Promise<GetOutcome> };
  timedOut: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

function errorMessage(e: unknown): string {
  return (e as { message?: string })?.message ?? String(e);
}

/** A DynamoDB failure as the error the caller sees: a plain message; the AWS error is its cause, for the log. */
function dynamoError(e: unknown, operation: string): StoreError {
  return dependencyError('DynamoDB', operation, e);
}

/** An AbortController that aborts with its parent; `unlink` drops the listener on the parent. */
function linkedController(parent: AbortSignal | undefined): AbortController & { unlink(): void } {
  const controller = new AbortController() as AbortController & { unlink(): void };
  controller.unlink = () => {};
  if (parent) {
    if (parent.aborted) {
      controller.abort(parent.reason);
    } else {
      const onAbort = () => controller.abort(parent.reason);
      parent.addEventListener('abort', onAbort, { once: true });
      controller.unlink = () => parent.removeEventListener('abort', onAbort);
    }
  }
  return controller;
}

function toBytes(body: Uint8Array | string): Uint8Array {
  return typeof body === 'string' ? new TextEncoder().encode(body) : body;
}

function stripQuotes(etag: string | undefined): string | undefined {
  return etag?.replace(/^W\//, '').replace(/^"|"$/g, '');
}

async function readBody(body: unknown): Promise<Uint8Array> {
  if (body === undefined || body === null) return new Uint8Array(0);
  if (body instanceof Uint8Array) return body;
  const mixin = body as { transformToByteArray?: () => Promise<Uint8Array> };
  if (typeof mixin.transformToByteArray === 'function') return mixin.transformToByteArray();
  if (typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    const chunks: Uint8Array[] = [];
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
      chunks.push(typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk);
    }
    return Buffer.concat(chunks);
  }
  throw new Error('unsupported S3 response body type');
}

/** Settles with `promise`, or rejects with the signal's reason as soon as it aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      value => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      error => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Gives an S3 response body an 'error' listener as soon as we hold it. The SDK wraps bodies in
 * a checksum-validating stream that emits 'error' when the bytes do not match the checksum
 * header, which is what a body destroyed or abandoned before its end looks like; an 'error'
 * without a listener would crash the process and every read in it, where it must fail (at
 * most) one part. Consumers still see the error: readBody's own listeners reject.
 */
function guardBody<T>(body: T): T {
  const emitter = body as { on?: (event: string, listener: (e: unknown) => void) => unknown } | undefined;
  try {
    emitter?.on?.('error', () => { /* handled where the body is consumed, or deliberately dropped */ });
  } catch {
    // not an event emitter: nothing can go unhandled
  }
  return body;
}

function discardBody(body: unknown): void {
  const destroyable = guardBody(body) as { destroy?: () => void } | undefined;
  try {
    destroyable?.destroy?.();
  } catch {
    // best effort: the request is aborted as well
  }
}

/** A per-attempt request timeout option: a whole number of ms from 1 to 20,000. */
function requestTimeout(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_REQUEST_TIMEOUT_MS) {
    throw new ValidationError(
      `${name} must be a whole number of milliseconds from 1 to ${MAX_REQUEST_TIMEOUT_MS}, got ${JSON.stringify(value)}: `
      + 'a commit attempt must end well inside the reconciler\'s 30 s margin after the writer deadline',
    );
  }
  return value;
}

function checkPositiveRevision(value: unknown, name: string): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)) {
    throw new ValidationError(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
}

/**
 * Reads and writes a split store: index rows in DynamoDB, parts in a versioned S3 bucket,
 * following protocol v1 (docs/PROTOCOL.md).
 */
export class SplitStoreClient {
  /** Dangling pointers found by reads of this client since it was created. */
  public danglingPointers = 0;

  private readonly config: StoreConfig;
  private readonly ddb: DynamoDBClient;
  private readonly s3: S3Client;
  private readonly now: () => number;
  private readonly onDanglingPointer?: (pointer: DanglingPointer) => void;
  private readonly log: (entry: LogEntry) => void;
  /** What the commit sequence and the reconciler need (commit.ts, reconcile.ts). */
  private readonly writer: ReconcilerContext;

  constructor(options: SplitStoreClientOptions) {
    this.config = options.config;
    this.ddb = options.dynamodb;
    this.s3 = options.s3;
    this.now = options.now ?? (() => performance.now());
    this.onDanglingPointer = options.onDanglingPointer;
    this.log = options.log ?? jsonLog;
    this.writer = {
      config: this.config,
      dynamodb: this.ddb,
      s3: this.s3,
      now: this.now,
      wallClock: options.wallClock ?? Date.now,
      log: this.log,
      retryDelayMs: options.retryDelayMs ?? 50,
      dynamodbTimeoutMs: requestTimeout(options.dynamodbTimeoutMs, DEFAULT_DYNAMODB_TIMEOUT_MS, 'dynamodbTimeoutMs'),
      s3TimeoutMs: requestTimeout(options.s3TimeoutMs, DEFAULT_S3_TIMEOUT_MS, 's3TimeoutMs'),
    };
  }

  // ---------------------------------------------------------------------------------
  // write (the sequence is commit.ts's; each operation gives its precondition and commit)

  /**
   * Writes a whole item: its attributes and its parts (parts the previous row pinned and
   * that are not named here are removed). `create` commits only if the item does not exist
   * (no row, or a tombstone); `expectedRevision` only if the live row is at that revision;
   * with neither, the write is unconditional (last writer wins), implemented as
   * read-then-condition and started again from the read, a few times, when another writer
   * commits in between. Every mode reads the row (consistently) before putting the parts,
   * and commits conditionally on the exact state read (docs/PROTOCOL.md section 4).
   */
  public async put(req: PutRequest): Promise<PutResult> {
    this.checkRequest(req);
    validateKey(this.config, req.key);
    if (req.create !== undefined && typeof req.create !== 'boolean') {
      throw new ValidationError(`create must be a boolean, got ${JSON.stringify(req.create)}`);
    }
    checkPositiveRevision(req.expectedRevision, 'expectedRevision');
    if (req.create && req.expectedRevision !== undefined) {
      throw new ValidationError('create and expectedRevision are exclusive: create means "no row exists yet"');
    }
    const merged = mergeKeyIntoAttributes(this.config, req.key, req.attributes ?? {});
    const attributes = marshallAttributes(merged);
    checkIndexKeyAttributes(this.config, merged);
    const prepared = this.prepareParts(req.key, req.parts ?? {});
    checkItemSize(attributes, rowOverheadBytes(prepared), `the index row of ${JSON.stringify(req.key)}`);
    const unconditional = !req.create && req.expectedRevision === undefined;
    const item = JSON.stringify(req.key);

    const landed = await runWrite(this.writer, {
      operation: 'put',
      key: req.key,
      parts: prepared,
      signal: req.signal,
      rounds: unconditional ? UNCONDITIONAL_WRITE_ROUNDS : 1,
      check: state => {
        if (req.create && state.kind === 'live') throw new ConflictError(`item ${item} already exists (create)`);
        if (req.expectedRevision !== undefined && (state.kind !== 'live' || state.revision !== req.expectedRevision)) {
          throw new ConflictError(`item ${item} is not at revision ${req.expectedRevision} (or does not exist)`);
        }
      },
      build: (state, token, pins) => {
        const names: Record<string, string> = {};
        const values: Record<string, AttributeValue> = {};
        const condition = stateCondition(this.config, state, names, values);
        return {
          kind: 'PutItem',
          input: {
            TableName: this.config.tableName,
            Item: {
              ...attributes,
              [REVISION_ATTRIBUTE]: { N: String(nextRevision(state)) },
              [TOKEN_ATTRIBUTE]: { S: token },
              [PROTOCOL_ATTRIBUTE]: { N: String(PROTOCOL_VERSION) },
              [PARTS_ATTRIBUTE]: encodePins(pins),
            },
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: Object.keys(values).length > 0 ? values : undefined,
          },
          // Parts of the replaced row that this put does not name; replaced parts need nothing.
          retire: state.kind === 'live' ? Object.keys(state.row.parts).filter(name => !Object.hasOwn(pins, name)) : [],
        };
      },
      conflict: (_state, rounds) => req.create
        ? `item ${item} already exists (create)`
        : req.expectedRevision !== undefined
          ? `item ${item} is not at revision ${req.expectedRevision} (or does not exist)`
          : `item ${item} kept changing during an unconditional put (${rounds} attempts)`,
    });
    return { ...this.decodeCommitted(landed.item), created: landed.state.kind !== 'live' };
  }

  /**
   * Changes some parts (and optionally merges some attributes) of an existing item,
   * keeping the pins of the parts it does not name. Reads the row consistently, then
   * commits conditional on that exact state: a concurrent writer (or a delete and re-create)
   * makes it a 409, never a lost update.
   */
  public async updateParts(req: UpdatePartsRequest): Promise<IndexRow> {
    this.checkRequest(req);
    validateKey(this.config, req.key);
    checkPositiveRevision(req.expectedRevision, 'expectedRevision');
    const removeParts = req.removeParts ?? [];
    if (!Array.isArray(removeParts)) {
      throw new ValidationError('removeParts must be a list of part names');
    }
    if (removeParts.length > MAX_PARTS_PER_WRITE) {
      throw new ValidationError(`removeParts names ${removeParts.length} parts, over the limit of ${MAX_PARTS_PER_WRITE} per write`);
    }
    removeParts.forEach(name => partKey(this.config, req.key, name));
    const duplicate = removeParts.find((name, i) => removeParts.indexOf(name) !== i);
    if (duplicate !== undefined) {
      throw new ValidationError(`removeParts names part "${duplicate}" more than once; name each part once`);
    }
    const prepared = this.prepareParts(req.key, req.parts ?? {});
    for (const name of removeParts) {
      if (prepared.some(part => part.name === name)) {
        throw new ValidationError(`part "${name}" is both written (parts) and removed (removeParts); pick one`);
      }
    }
    const attributes = mergeKeyIntoAttributes(this.config, req.key, req.attributes ?? {});
    const keyNames = keyAttributes(this.config).map(a => a.name);
    const marshalled = marshallAttributes(attributes);
    checkIndexKeyAttributes(this.config, attributes);
    for (const name of keyNames) delete marshalled[name];
    if (prepared.length === 0 && removeParts.length === 0 && Object.keys(marshalled).length === 0) {
      throw new ValidationError('nothing to update: give parts, removeParts or attributes');
    }
    checkItemSize(marshalled, rowOverheadBytes(prepared), `the attributes and parts of this update of ${JSON.stringify(req.key)}`);
    if (prepared.length + removeParts.length > MAX_PARTS_PER_WRITE) {
      throw new ValidationError(`this update writes ${prepared.length} parts and removes ${removeParts.length}, `
        + `over the limit of ${MAX_PARTS_PER_WRITE} parts per write: split it`);
    }
    if (Object.keys(marshalled).length > MAX_ATTRIBUTES_PER_UPDATE) {
      throw new ValidationError(`this update sets ${Object.keys(marshalled).length} attributes, over the limit of `
        + `${MAX_ATTRIBUTES_PER_UPDATE} per update: split it, or write the whole item with put`);
    }
    const item = JSON.stringify(req.key);

    const landed = await runWrite(this.writer, {
      operation: 'updateParts',
      key: req.key,
      parts: prepared,
      signal: req.signal,
      rounds: 1,
      check: state => {
        if (state.kind !== 'live') throw new NotFoundError(`item ${item} does not exist`);
        if (req.expectedRevision !== undefined && state.revision !== req.expectedRevision) {
          throw new ConflictError(`item ${item} is at revision ${state.revision}, not ${req.expectedRevision}`);
        }
      },
      build: (state, token, pins) => {
        const current = (state as Extract<RowState, { kind: 'live' }>).row;
        const removed = removeParts.filter(name => pinOf(current, name) !== undefined);
        // DynamoDB refuses unused expression attribute names: each is added with its use.
        const names: Record<string, string> = { '#rev': REVISION_ATTRIBUTE, '#tok': TOKEN_ATTRIBUTE, '#proto': PROTOCOL_ATTRIBUTE };
        const values: Record<string, AttributeValue> = {
          ':rev': { N: String(nextRevision(state)) },
          ':tok': { S: token },
          ':proto': { N: String(PROTOCOL_VERSION) },
        };
        const condition = stateCondition(this.config, state, names, values);
        const sets = ['#rev = :rev', '#tok = :tok', '#proto = :proto'];
        const removes: string[] = [];
        Object.entries(marshalled).forEach(([name, value], i) => {
          names[`#a${i}`] = name;
          values[`:a${i}`] = value;
          sets.push(`#a${i} = :a${i}`);
        });
        Object.entries(pins).forEach(([name, pin], i) => {
          names[`#p${i}`] = name;
          values[`:p${i}`] = encodePin(pin);
          sets.push(`#parts.#p${i} = :p${i}`);
        });
        removed.forEach((name, i) => {
          names[`#r${i}`] = name;
          removes.push(`#parts.#r${i}`);
        });
        if (Object.keys(pins).length > 0 || removed.length > 0) names['#parts'] = PARTS_ATTRIBUTE;
        return {
          kind: 'UpdateItem',
          input: {
            TableName: this.config.tableName,
            Key: marshallKey(this.config, req.key),
            UpdateExpression: `SET ${sets.join(', ')}` + (removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''),
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          },
          retire: removed,
        };
      },
      conflict: state => `item ${item} changed (or was deleted) since revision ${(state as { revision: number }).revision}; re-read and retry`,
    });
    return this.decodeCommitted(landed.item);
  }

  /**
   * Deletes an item: replaces its row by a tombstone (the key, the next revision, a token),
   * conditionally on the exact state read, then places a delete marker on each of its parts
   * (the pinned versions become noncurrent and stay for the retention window). Returns the
   * deleted row. The tombstone keeps the revision counting, so a later create continues from
   * it and nothing conditioned on the old item can commit over a new one.
   */
  public async delete(req: DeleteRequest): Promise<IndexRow> {
    this.checkRequest(req);
    validateKey(this.config, req.key);
    checkPositiveRevision(req.expectedRevision, 'expectedRevision');
    const item = JSON.stringify(req.key);
    const landed = await runWrite(this.writer, {
      operation: 'delete',
      key: req.key,
      parts: [],
      signal: req.signal,
      rounds: req.expectedRevision === undefined ? UNCONDITIONAL_WRITE_ROUNDS : 1,
      check: state => {
        if (state.kind !== 'live') throw new NotFoundError(`item ${item} does not exist`);
        if (req.expectedRevision !== undefined && state.revision !== req.expectedRevision) {
          throw new ConflictError(`item ${item} is not at revision ${req.expectedRevision}`);
        }
      },
      build: (state, token) => {
        const names: Record<string, string> = {};
        const values: Record<string, AttributeValue> = {};
        const condition = stateCondition(this.config, state, names, values);
        return {
          kind: 'PutItem',
          input: {
            TableName: this.config.tableName,
            Item: encodeTombstone(this.config, req.key, nextRevision(state), token),
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: Object.keys(values).length > 0 ? values : undefined,
          },
          retire: state.kind === 'live' ? Object.keys(state.row.parts) : [],
        };
      },
      conflict: (_state, rounds) => req.expectedRevision !== undefined
        ? `item ${item} is not at revision ${req.expectedRevision}`
        : `item ${item} kept changing during the delete (${rounds} attempts)`,
    });
    return (landed.state as Extract<RowState, { kind: 'live' }>).row;
  }

  /** The row a landed commit wrote; a tombstone or an undecodable row is a bug, reported as such. */
  private decodeCommitted(item: Item): IndexRow {
    const state = decodeState(this.config, item);
    if (state.kind !== 'live') throw new StoreError(500, 'InternalError', 'the committed row is not a live row');
    return state.row;
  }

  // ---------------------------------------------------------------------------------
  // read

  /** The index row only (consistent read); 404 if the item does not exist. */
  public async getIndex(key: ItemKey): Promise<IndexRow> {
    validateKey(this.config, key);
    const row = await this.readRow(key, 'GetItem');
    if (!row) throw new NotFoundError(`item ${JSON.stringify(key)} does not exist`);
    return row;
  }

  /**
   * A split read. Nothing happens until the first `next()`: then a GetObject for every
   * part named in `parts` goes out first, then the GetItem. Yields the index row as soon
   * as it arrives, then each part (or part error) in the order they resolve. When `parts`
   * is undefined the pins are unknown until the row arrives: the row is read first and each
   * pinned version is then fetched by VersionId (name the parts to have S3 start first).
   * The per-part timeout runs from the moment the part's first request is sent.
   *
   * Throws (from the first `next()`) ValidationError, NotFoundError (S3 requests aborted)
   * or UnavailableError (DynamoDB failed).
   */
  public async *get(req: GetRequest): AsyncGenerator<ReadEvent, void, undefined> {
    this.checkRequest(req);
    const key = req.key;
    validateKey(this.config, key);
    const requested = this.checkGetParts(req);
    const fields = this.checkFields(req, requested);
    const timeoutMs = req.partTimeoutMs ?? DEFAULT_PART_TIMEOUT_MS;
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_PART_TIMEOUT_MS) {
      throw new ValidationError(`partTimeoutMs must be a number of milliseconds in (0, ${MAX_PART_TIMEOUT_MS}], got ${JSON.stringify(req.partTimeoutMs)}`);
    }

    const t0 = this.now();
    const at = () => this.now() - t0;
    const scope = linkedController(req.signal);
    const fetches = new Map<string, PartFetch>();
    try {
      // 1. S3 first: the current version of every named part, at its deterministic key.
      for (const name of requested ?? []) {
        fetches.set(name, this.startPart(key, name, scope.signal, timeoutMs));
      }

      // 2. Then the row.
      let row: IndexRow | undefined;
      try {
        row = await this.readRow(key, 'GetItem', scope.signal);
      } catch (e) {
        if (req.signal?.aborted) throw req.signal.reason ?? e;
        throw e;
      }
      if (!row) {
        scope.abort(new NotFoundError('item does not exist'));
        throw new NotFoundError(`item ${JSON.stringify(key)} does not exist`);
      }

      // 3. The row goes out at once.
      yield { type: 'index', row, atMs: at() };

      // 4. Parts, as they resolve.
      const pending = new Map<string, Promise<PartEvent>>();
      const immediate: PartEvent[] = [];
      if (requested) {
        for (const name of requested) {
          const fetch = fetches.get(name)!;
          const pin = pinOf(row, name);
          if (!pin) {
            this.finishFetch(fetch);
            fetch.controller.abort(new Error('not pinned'));
            immediate.push({
              type: 'part-error',
              name,
              code: 'NotPinned',
              message: `item ${JSON.stringify(key)} has no part "${name}" at revision ${row.revision}`,
              atMs: at(),
            });
          } else {
            pending.set(name, this.servePart(key, fetch, pin, fields.get(name), at));
          }
        }
      } else {
        // The pins are known now: fetch each pinned version directly.
        for (const [name, pin] of Object.entries(row.parts)) {
          const fetch = this.startPart(key, name, scope.signal, timeoutMs, true);
          fetches.set(name, fetch);
          pending.set(name, this.servePart(key, fetch, pin, fields.get(name), at));
        }
      }
      for (const event of immediate) yield event;
      while (pending.size > 0) {
        const event = await Promise.race(pending.values());
        pending.delete(event.name);
        if (req.signal?.aborted) throw req.signal.reason ?? new Error('aborted');
        yield event;
      }
    } finally {
      for (const fetch of fetches.values()) this.finishFetch(fetch);
      scope.unlink();
      if (!scope.signal.aborted) scope.abort(new Error('read finished'));
    }
  }

  /**
   * The part names a read asks for: at most {@link MAX_PARTS_PER_READ} names (as given), each
   * valid and with a part key S3 accepts (checked for all before the first GetObject goes
   * out); a name given twice is read once.
   */
  private checkGetParts(req: GetRequest): string[] | undefined {
    if (req.parts === undefined) return undefined;
    if (!Array.isArray(req.parts)) throw new ValidationError('parts must be a list of part names');
    if (req.parts.length > MAX_PARTS_PER_READ) {
      throw new ValidationError(`parts names ${req.parts.length} parts, over the limit of ${MAX_PARTS_PER_READ} per read: `
        + 'split the read, or omit parts to read every part the row pins');
    }
    req.parts.forEach(name => partKey(this.config, req.key, name));
    return [...new Set(req.parts)];
  }

  /** Field projections by part name: each part valid and requested, each list of paths valid. */
  private checkFields(req: GetRequest, requested: string[] | undefined): Map<string, string[]> {
    const fields = req.fields ?? {};
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
      throw new ValidationError('fields must be an object of part name to a list of field paths');
    }
    const names = Object.keys(fields);
    if (names.length > MAX_PARTS_PER_READ) {
      throw new ValidationError(`fields names ${names.length} parts, over the limit of ${MAX_PARTS_PER_READ} per read`);
    }
    const out = new Map<string, string[]>();
    for (const name of names) {
      validatePartName(name);
      if (requested && !requested.includes(name)) {
        throw new ValidationError(`fields names part "${name}", which is not among the requested parts`);
      }
      const paths = (fields as Record<string, unknown>)[name];
      try {
        validatePaths(paths);
      } catch (e) {
        throw new ValidationError(`fields of part "${name}": ${errorMessage(e)}`);
      }
      out.set(name, paths as string[]);
    }
    return out;
  }

  /**
   * Starts the S3 side of one part: its timeout and, unless `deferred` (the pin is known
   * and will be fetched directly), a GetObject of the current version at its key.
   */
  private startPart(key: ItemKey, name: string, parent: AbortSignal, timeoutMs: number, deferred = false): PartFetch {
    const controller = linkedController(parent);
    const fetch: PartFetch = { name, controller, timedOut: false };
    fetch.timer = setTimeout(() => {
      fetch.timedOut = true;
      controller.abort(new Error(`part "${name}" timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    if (!deferred) {
      const requestController = linkedController(controller.signal);
      const outcome: Promise<GetOutcome> = this.s3.send(new GetObjectCommand({
        Bucket: this.config.bucketName,
        Key: partKey(this.config, key, name),
      }), { abortSignal: requestController.signal }).then(
        out => {
          guardBody(out.Body);
          return { ok: true as const, out };
        },
        error => ({ ok: false as const, error }),
      );
      fetch.current = { controller: requestController, outcome };
    }
    return fetch;
  }

  private finishFetch(fetch: PartFetch): void {
    if (fetch.timer !== undefined) clearTimeout(fetch.timer);
  }

  /** Turns one part's S3 answers into a part or part-error event; never rejects. */
  private async servePart(
    key: ItemKey,
    fetch: PartFetch,
    pin: PartPin,
    paths: string[] | undefined,
    at: () => number,
  ): Promise<PartEvent> {
    const name = fetch.name;
    const failure = (code: PartErrorCode, message: string, cause?: unknown): PartEvent => ({
      type: 'part-error', name, code, message, atMs: at(), ...(cause === undefined ? {} : { cause }),
    });
    const signal = fetch.controller.signal;
    try {
      let body: Uint8Array | undefined;
      let refetched = false;
      let s3Etag: string | undefined;
      if (fetch.current) {
        const first = await abortable(fetch.current.outcome, signal);
        if (first.ok && first.out.VersionId === pin.versionId) {
          body = await abortable(readBody(first.out.Body), signal);
          s3Etag = first.out.ETag;
        } else {
          // A concurrent or crashed writer's version (or none) is current: go to the pin.
          if (first.ok) discardBody(first.out.Body);
          fetch.current.controller.abort(new Error('version mismatch'));
          refetched = true;
        }
      }
      if (body === undefined) {
        if (signal.aborted) throw signal.reason;
        let out: GetObjectCommandOutput;
        try {
          out = await abortable(this.s3.send(new GetObjectCommand({
            Bucket: this.config.bucketName,
            Key: partKey(this.config, key, name),
            VersionId: pin.versionId,
          }), { abortSignal: signal }).then((o) => {
            guardBody(o.Body);
            return o;
          }), signal);
        } catch (e) {
          if (!signal.aborted && isNotFound(e)) {
            this.danglingPointers++;
            try {
              this.onDanglingPointer?.({ key, part: name, versionId: pin.versionId });
            } catch (callbackError) {
              this.log({ level: 'warn', msg: 'onDanglingPointer callback failed', error: errorMessage(callbackError) });
            }
            return failure('DanglingPointer', `part "${name}" pins version ${pin.versionId}, which S3 no longer has`, e);
          }
          throw e;
        }
        body = await abortable(readBody(out.Body), signal);
        s3Etag = out.ETag;
      }
      if (body.byteLength !== pin.size) {
        return failure('S3Error', `part "${name}" version ${pin.versionId} is ${body.byteLength} bytes, the pin says ${pin.size}`);
      }
      if (s3Etag !== undefined && pin.etag !== '' && stripQuotes(s3Etag) !== stripQuotes(pin.etag)) {
        return failure('S3Error', `part "${name}" version ${pin.versionId} has ETag ${s3Etag}, the pin says ${pin.etag}`);
      }
      let contentType = pin.contentType;
      if (paths) {
        try {
          body = projectJson(body, paths);
          contentType = 'application/json';
        } catch (e) {
          if (e instanceof ProjectionError) return failure('ProjectionError', `part "${name}": ${e.message}`);
          throw e;
        }
      }
      return { type: 'part', name, contentType, body, versionId: pin.versionId, refetched, atMs: at() };
    } catch (e) {
      if (fetch.timedOut) return failure('Timeout', `part "${name}" did not arrive within the part timeout`, e);
      return failure('S3Error', partFailureMessage(name), e);
    } finally {
      this.finishFetch(fetch);
    }
  }

  // ---------------------------------------------------------------------------------
  // list, presign

  /** Index rows only, from DynamoDB (Query, or Scan without a partition value); never S3. */
  public async list(req: ListRequest = {}): Promise<ListResult> {
    this.checkRequest(req);
    const limit = req.limit ?? DEFAULT_LIST_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      throw new ValidationError(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${JSON.stringify(req.limit)}`);
    }
    if (req.ascending !== undefined && typeof req.ascending !== 'boolean') {
      throw new ValidationError(`ascending must be a boolean, got ${JSON.stringify(req.ascending)}`);
    }
    let partitionKey: KeyAttribute = this.config.partitionKey;
    const cursorKeys: KeyAttribute[] = keyAttributes(this.config);
    if (req.index !== undefined) {
      const index = this.config.indexes.find(i => i.name === req.index);
      if (!index) {
        const known = this.config.indexes.map(i => `"${i.name}"`).join(', ') || 'none';
        throw new ValidationError(`unknown index ${JSON.stringify(req.index)}; this store's indexes: ${known}`);
      }
      partitionKey = index.partitionKey;
      for (const attribute of [index.partitionKey, index.sortKey]) {
        if (attribute && !cursorKeys.some(a => a.name === attribute.name)) cursorKeys.push(attribute);
      }
    }
    const value = req.partitionValue === undefined ? undefined : marshallKeyValue(partitionKey, req.partitionValue);
    const startKey = req.cursor === undefined ? undefined : decodeCursor(req.cursor, cursorKeys, cursorKeys);
    if (startKey && value && !sameAttributeValue(startKey[partitionKey.name], value)) {
      throw new ValidationError('malformed cursor (it belongs to another partition value): '
        + 'pass back the cursor of the previous page unchanged, with the same pk');
    }
    let out: { Items?: Record<string, AttributeValue>[]; LastEvaluatedKey?: Record<string, AttributeValue> };
    try {
      if (value !== undefined) {
        const input: QueryCommandInput = {
          TableName: this.config.tableName,
          IndexName: req.index,
          KeyConditionExpression: '#pk = :pk',
          ...TOMBSTONE_FILTER,
          ExpressionAttributeNames: { '#pk': partitionKey.name, ...TOMBSTONE_FILTER.ExpressionAttributeNames },
          ExpressionAttributeValues: { ':pk': value },
          ScanIndexForward: req.ascending ?? true,
          Limit: limit,
          ExclusiveStartKey: startKey,
        };
        out = await this.sendRead(new QueryCommand(input), 'Query');
      } else {
        const input: ScanCommandInput = {
          TableName: this.config.tableName,
          IndexName: req.index,
          ...TOMBSTONE_FILTER,
          Limit: limit,
          ExclusiveStartKey: startKey,
        };
        out = await this.sendRead(new ScanCommand(input), 'Scan');
      }
    } catch (e) {
      throw dynamoError(e, req.partitionValue !== undefined ? 'Query' : 'Scan');
    }
    const items: IndexRow[] = [];
    for (const item of out.Items ?? []) {
      const state = decodeState(this.config, item);
      if (state.kind === 'live') items.push(state.row);
    }
    return { items, cursor: out.LastEvaluatedKey ? encodeCursor(out.LastEvaluatedKey) : undefined };
  }

  /** One DynamoDB request with the store's timeouts and attempts (idempotent reads only). */
  private sendRead<O>(command: unknown, operation: string): Promise<O> {
    return send<O>(this.ddb, operation, () => command, {
      timeoutMs: this.writer.dynamodbTimeoutMs, attempts: REQUEST_ATTEMPTS, retryDelayMs: this.writer.retryDelayMs,
    });
  }

  /**
   * A presigned GET URL of one part, pinned to the row's VersionId: it serves that version and
   * no other. A part the row does not pin is a 404, never a URL to whatever version is current.
   */
  public async presign(key: ItemKey, part: string, expiresInSeconds: number = DEFAULT_PRESIGN_EXPIRES_SECONDS): Promise<string> {
    validateKey(this.config, key);
    const s3Key = partKey(this.config, key, part);
    if (!Number.isSafeInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_PRESIGN_EXPIRES_SECONDS) {
      throw new ValidationError(`expiresInSeconds must be an integer from 1 to ${MAX_PRESIGN_EXPIRES_SECONDS}, got ${JSON.stringify(expiresInSeconds)}`);
    }
    const row = await this.getIndex(key);
    const pin = pinOf(row, part);
    if (!pin) throw new NotFoundError(`item ${JSON.stringify(key)} has no part "${part}"`);
    if (typeof pin.versionId !== 'string' || pin.versionId === '') {
      throw new UnsupportedRowError(`the row pins part "${part}" without a version id: not written by cdk-split-store?`);
    }
    return getSignedUrl(this.s3, new GetObjectCommand({
      Bucket: this.config.bucketName,
      Key: s3Key,
      VersionId: pin.versionId,
    }), { expiresIn: expiresInSeconds });
  }

  // ---------------------------------------------------------------------------------
  // reconcile

  /**
   * Reconciles one part key after an S3 event on one of its versions (called after a delay
   * longer than any writer's deadline plus the commit margin). See docs/PROTOCOL.md section 9
   * and reconcile.ts.
   */
  public async reconcile(objectKey: string, versionId: string): Promise<ReconcileOutcome> {
    return reconcilePartKey(this.writer, objectKey, versionId);
  }

  // ---------------------------------------------------------------------------------
  // helpers

  private checkRequest(req: unknown): void {
    if (typeof req !== 'object' || req === null || Array.isArray(req)) {
      throw new ValidationError('the request must be an object');
    }
  }

  /**
   * Checks and encodes the parts of a write: at most {@link MAX_PARTS_PER_WRITE}, valid names,
   * a string or bytes body (a string must have a UTF-8 encoding: an unpaired surrogate would be
   * silently replaced), a printable ASCII content type.
   */
  private prepareParts(key: ItemKey, parts: Record<string, PartInput>): PreparedPart[] {
    if (typeof parts !== 'object' || parts === null || Array.isArray(parts)) {
      throw new ValidationError('parts must be an object of part name to { body, contentType? }');
    }
    const names = Object.keys(parts);
    if (names.length > MAX_PARTS_PER_WRITE) {
      throw new ValidationError(`at most ${MAX_PARTS_PER_WRITE} parts per write, got ${names.length}`);
    }
    return names.map(name => {
      const input: unknown = parts[name];
      validatePartName(name);
      const s3Key = partKey(this.config, key, name);
      if (typeof input !== 'object' || input === null) {
        throw new ValidationError(`part "${name}" must be an object { body, contentType? }`);
      }
      const { body, contentType: given } = input as Partial<PartInput>;
      if (typeof body !== 'string' && !(body instanceof Uint8Array)) {
        throw new ValidationError(`part "${name}": body must be a string or bytes`);
      }
      if (typeof body === 'string' && !isWellFormed(body)) {
        throw new ValidationError(`part "${name}": the body text contains an unpaired UTF-16 surrogate, which has no UTF-8 encoding: `
          + 'send the bytes (base64) instead');
      }
      const contentType = given ?? (typeof body === 'string' ? 'application/json' : 'application/octet-stream');
      if (typeof contentType !== 'string' || !CONTENT_TYPE_PATTERN.test(contentType)) {
        throw new ValidationError(`part "${name}": contentType must be 1 to ${MAX_CONTENT_TYPE_LENGTH} printable ASCII characters, `
          + `got ${JSON.stringify(contentType)}`);
      }
      return { name, s3Key, body: toBytes(body), contentType };
    });
  }

  /** Consistent GetItem, decoded; undefined when the item does not exist (no row, or a tombstone). */
  private async readRow(key: ItemKey, operation: string, signal?: AbortSignal): Promise<IndexRow | undefined> {
    let item: Record<string, AttributeValue> | undefined;
    try {
      const out = await send<{ Item?: Item }>(this.ddb, 'GetItem', () => new GetItemCommand({
        TableName: this.config.tableName,
        Key: marshallKey(this.config, key),
        ConsistentRead: true,
      }), { timeoutMs: this.writer.dynamodbTimeoutMs, attempts: REQUEST_ATTEMPTS, signal, retryDelayMs: this.writer.retryDelayMs });
      item = out?.Item;
    } catch (e) {
      throw dynamoError(e, operation);
    }
    const state = decodeState(this.config, item);
    return state.kind === 'live' ? state.row : undefined;
  }
}

/** The bytes the reserved attributes will add to a row that pins these parts (an upper estimate). */
function rowOverheadBytes(parts: readonly PreparedPart[]): number {
  return parts.reduce((sum, part) => sum + estimatePinBytes(part.name, part.contentType), RESERVED_ATTRIBUTES_BYTES);
}

/** The partition value of a list, as DynamoDB will accept it: type, non-empty, size, range. */
function marshallKeyValue(attribute: KeyAttribute, value: KeyValue): AttributeValue {
  const what = `partitionValue for "${attribute.name}"`;
  if (attribute.type === 'S') {
    if (typeof value !== 'string' || value.length === 0) {
      throw new ValidationError(`${what} must be a non-empty string, got ${JSON.stringify(value)}`);
    }
    checkKeyString(value, what, MAX_PARTITION_KEY_BYTES);
    return { S: value };
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ValidationError(`${what} must be a finite number, got ${JSON.stringify(value)}`);
  }
  checkDynamoDbNumber(value, what);
  return { N: String(value) };
}

/** A string key value DynamoDB accepts: a UTF-8 encoding (no unpaired surrogate), at most `maxBytes`. */
function checkKeyString(value: string, what: string, maxBytes: number): void {
  if (!isWellFormed(value)) throw new ValidationError(`${what} contains an unpaired UTF-16 surrogate`);
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > maxBytes) throw new ValidationError(`${what} is ${bytes} bytes, over DynamoDB's limit of ${maxBytes} for a key value`);
}

function sameAttributeValue(a: AttributeValue | undefined, b: AttributeValue): boolean {
  if (a === undefined) return false;
  if (b.S !== undefined) return a.S === b.S;
  return a.N !== undefined && b.N !== undefined && Number(a.N) === Number(b.N);
}

/**
 * Lists leave tombstones out (DynamoDB applies the filter after `Limit`, so a page may hold
 * fewer rows than asked, even none, and still have a cursor).
 */
const TOMBSTONE_FILTER = {
  FilterExpression: 'attribute_not_exists(#del)',
  ExpressionAttributeNames: { '#del': DELETED_ATTRIBUTE },
} as const;

/** An opaque list cursor: base64url of the LastEvaluatedKey JSON. */
export function encodeCursor(lastEvaluatedKey: Record<string, AttributeValue>): string {
  return Buffer.from(JSON.stringify(lastEvaluatedKey), 'utf8').toString('base64url');
}

/**
 * Decodes and checks a cursor: only key attributes of the table (and index), each a non-empty
 * S of at most DynamoDB's key size, or an N that DynamoDB reads as a number in its range; every
 * `required` attribute present.
 */
export function decodeCursor(
  cursor: unknown,
  allowed: readonly KeyAttribute[],
  required: readonly KeyAttribute[],
): Record<string, AttributeValue> {
  const malformed = (why: string) => new ValidationError(`malformed cursor (${why}): pass back the cursor of the previous page unchanged`);
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw malformed(typeof cursor === 'string' && cursor.length > MAX_CURSOR_LENGTH
      ? `${cursor.length} characters, over the limit of ${MAX_CURSOR_LENGTH}` : 'not a base64url string');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(cursor, 'base64url')));
  } catch {
    throw malformed('not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw malformed('not an object');
  const out = new Map<string, AttributeValue>();
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    const attribute = allowed.find(a => a.name === name);
    if (!attribute) throw malformed(`unexpected attribute ${JSON.stringify(name)}`);
    const v = value as Record<string, unknown>;
    if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.keys(v).length !== 1) throw malformed(`bad value of "${name}"`);
    if (attribute.type === 'S' && Object.hasOwn(v, 'S') && typeof v.S === 'string' && v.S.length > 0
      && isWellFormed(v.S) && Buffer.byteLength(v.S, 'utf8') <= MAX_PARTITION_KEY_BYTES) {
      out.set(name, { S: v.S });
    } else if (attribute.type === 'N' && Object.hasOwn(v, 'N') && typeof v.N === 'string' && isDynamoDbNumberText(v.N)) {
      out.set(name, { N: v.N });
    } else {
      throw malformed(`bad value of "${name}"`);
    }
  }
  for (const attribute of required) {
    if (!out.has(attribute.name)) throw malformed(`missing key attribute "${attribute.name}"`);
  }
  return Object.fromEntries(out);
}

