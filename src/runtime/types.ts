/**
 * The shapes shared by the protocol code (src/runtime/), the Lambda entry points and
 * the tests. No CDK import here.
 */

/** A key attribute value: DynamoDB keys of a store are strings or numbers only. */
export type KeyValue = string | number;

/** An item key: the partition key attribute (and the sort key attribute, if any). */
export type ItemKey = Record<string, KeyValue>;

/** Where a part's current content lives: pinned to one S3 object version. */
export interface PartPin {
  /** S3 VersionId the index row points at. Reads are pinned to it. */
  readonly versionId: string;
  /** S3 ETag of that version (quoted, as S3 returns it). */
  readonly etag: string;
  /** Size in bytes. */
  readonly size: number;
  /** Content type the part was written with. */
  readonly contentType: string;
}

/** An index row as the runtime sees it (reserved attributes decoded). */
export interface IndexRow {
  /** The item key (partition key and optional sort key). */
  readonly key: ItemKey;
  /** The user's attributes, key attributes included, reserved attributes excluded. */
  readonly attributes: Record<string, unknown>;
  /**
   * Revision number: 1 after the first create of the key, +1 on every committed write. It
   * never repeats: a delete leaves a tombstone, so an item deleted at revision 4 and created
   * again is at revision 6, and an `expectedRevision` from before the delete cannot match it.
   */
  readonly revision: number;
  /** Part name to pin. */
  readonly parts: Record<string, PartPin>;
}

/** A part to write. */
export interface PartInput {
  readonly body: Uint8Array | string;
  /** @default 'application/json' when body is a string, else 'application/octet-stream' */
  readonly contentType?: string;
}

/** Put a whole item: attributes and parts (parts not named are removed). */
export interface PutRequest {
  readonly key: ItemKey;
  readonly attributes?: Record<string, unknown>;
  readonly parts?: Record<string, PartInput>;
  /** Only commit if the row is at this revision. */
  readonly expectedRevision?: number;
  /** Only commit if the item does not exist (never did, or was deleted). Exclusive with expectedRevision. */
  readonly create?: boolean;
  /** The caller's time: once aborted, nothing new is sent but clean-up, and the write answers 503. */
  readonly signal?: AbortSignal;
}

/** What a put answers: the committed row, and whether the put created the item. */
export interface PutResult extends IndexRow {
  /** True when no live row existed before this put (the key never existed, or was deleted). */
  readonly created: boolean;
}

/** Change some parts (and optionally some attributes) of an existing item. */
export interface UpdatePartsRequest {
  readonly key: ItemKey;
  readonly parts?: Record<string, PartInput>;
  readonly removeParts?: string[];
  /** Attributes to set (merged over the existing ones). */
  readonly attributes?: Record<string, unknown>;
  readonly expectedRevision?: number;
  /** The caller's time: once aborted, nothing new is sent but clean-up, and the write answers 503. */
  readonly signal?: AbortSignal;
}

/** Delete an item. */
export interface DeleteRequest {
  readonly key: ItemKey;
  readonly expectedRevision?: number;
  /** The caller's time: once aborted, nothing new is sent but clean-up, and the delete answers 503. */
  readonly signal?: AbortSignal;
}

/** A split read. */
export interface GetRequest {
  readonly key: ItemKey;
  /** Parts to fetch; undefined = all parts the row pins; [] = index row only. */
  readonly parts?: string[];
  /** JSON field projection per part: part name to top-level or dotted field paths. */
  readonly fields?: Record<string, string[]>;
  /** Per-part S3 timeout in milliseconds. */
  readonly partTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** Index-only list. */
export interface ListRequest {
  /** Query a global secondary index instead of the table. */
  readonly index?: string;
  /** Partition key value to query; omitted = scan of the table (or index). */
  readonly partitionValue?: KeyValue;
  /** @default 50 (max 1000) */
  readonly limit?: number;
  /** Opaque cursor from a previous page. */
  readonly cursor?: string;
  /** Sort order on the sort key. @default true */
  readonly ascending?: boolean;
}

export interface ListResult {
  readonly items: IndexRow[];
  /** Absent on the last page. */
  readonly cursor?: string;
}

/** Why a part could not be served. */
export type PartErrorCode = 'DanglingPointer' | 'NotPinned' | 'S3Error' | 'Timeout' | 'ProjectionError';

/** Events of a split read, in the order they happen. */
export type ReadEvent =
  | { readonly type: 'index'; readonly row: IndexRow; readonly atMs: number }
  | {
    readonly type: 'part';
    readonly name: string;
    readonly contentType: string;
    readonly body: Uint8Array;
    readonly versionId: string;
    /** True when the current version did not match the pin and the pinned version was fetched. */
    readonly refetched: boolean;
    readonly atMs: number;
  }
  | {
    readonly type: 'part-error';
    readonly name: string;
    readonly code: PartErrorCode;
    /** Plain words for the caller; never an AWS error text. */
    readonly message: string;
    readonly atMs: number;
    /** What failed underneath (an AWS SDK error), for the log only: never sent to the caller. */
    readonly cause?: unknown;
  };

/**
 * What the reconciler did for one S3 event (docs/PROTOCOL.md, "Reconcile"):
 * - `not-a-part`: the key is not a part key of this store;
 * - `pinned`: nothing to do, the event's version is the pinned, current one;
 * - `noncurrent`: nothing to do, the pinned version is current and the event's version is not it;
 * - `retired`: nothing to do, no live row pins the part and nothing is current (a delete marker is);
 * - `deleted-unpinned`: deleted (by VersionId) versions above the pinned one, never committed;
 * - `uncovered`: deleted delete markers that hid the pinned version;
 * - `retired-orphan`: placed a delete marker on a current version no live row pins (kept for the retention window);
 * - `in-flight`: a version younger than the writer deadline plus the commit margin is current; its own event decides;
 * - `dangling`: the row pins a version S3 does not have (logged; nothing the reconciler can repair).
 */
export type ReconcileOutcome =
  | 'not-a-part' | 'pinned' | 'noncurrent' | 'retired' | 'deleted-unpinned' | 'uncovered' | 'retired-orphan'
  | 'in-flight' | 'dangling';

/** A structured log entry: one JSON line, in the same `{level, msg, ...}` format as the handler's. */
export type LogEntry = { readonly level: 'warn' | 'error' | 'info'; readonly msg: string } & Record<string, unknown>;

/**
 * Base class of errors the runtime reports to callers, each with an HTTP status and a stable
 * code (src/runtime/errors.ts lists them). The message is for the caller; an AWS error
 * behind it travels as `cause`, which only the log sees.
 */
export class StoreError extends Error {
  constructor(public readonly statusCode: number, public readonly code: string, message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = code;
  }
}

/** Bad input: 400. Nothing was written. */
export class ValidationError extends StoreError {
  constructor(message: string, options?: { readonly cause?: unknown }) { super(400, 'ValidationError', message, options); }
}

/** The item does not exist: 404. */
export class NotFoundError extends StoreError {
  constructor(message: string) { super(404, 'NotFound', message); }
}

/** The item changed (or exists, on create) since the revision the writer expected: 409. Nothing was written. */
export class ConflictError extends StoreError {
  constructor(message: string) { super(409, 'Conflict', message); }
}

/** The writer ran past its deadline and compensated instead of committing: 503, retryable. */
export class DeadlineExceededError extends StoreError {
  constructor(message: string) { super(503, 'DeadlineExceeded', message); }
}

/** A dependency (DynamoDB) failed: 503, retryable. */
export class UnavailableError extends StoreError {
  constructor(message: string, options?: { readonly cause?: unknown }) { super(503, 'Unavailable', message, options); }
}

/**
 * The commit was sent but its answer was lost, and it cannot be told whether it landed: 503,
 * retryable after reading the item. Nothing was deleted; the store is consistent either way.
 */
export class CommitOutcomeUnknownError extends StoreError {
  constructor(message: string) { super(503, 'CommitOutcomeUnknown', message); }
}
