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
  /** Revision number: 1 after create, +1 on every committed write. */
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
  /** Only commit if no row exists. Exclusive with expectedRevision. */
  readonly create?: boolean;
}

/** Change some parts (and optionally some attributes) of an existing item. */
export interface UpdatePartsRequest {
  readonly key: ItemKey;
  readonly parts?: Record<string, PartInput>;
  readonly removeParts?: string[];
  /** Attributes to set (merged over the existing ones). */
  readonly attributes?: Record<string, unknown>;
  readonly expectedRevision?: number;
}

/** Delete an item. */
export interface DeleteRequest {
  readonly key: ItemKey;
  readonly expectedRevision?: number;
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

/** The outcome of reconciling one new object version. */
export type ReconcileOutcome = 'pinned' | 'noncurrent' | 'deleted-orphan' | 'deleted-unpinned' | 'not-a-part';

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
