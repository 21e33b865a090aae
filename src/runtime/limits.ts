/**
 * Every limit the runtime enforces on a request, and every default and attempt count of its
 * protocol, each written once with the reason for its value. The request parser
 * (handler-request.ts), the store (store.ts, commit.ts, send.ts, reconcile.ts), the handler,
 * the construct's defaults (config.ts re-exports two) and the docs (README "Limits",
 * docs/PROTOCOL.md sections 2.3 and 14) all read them from here. protocol/limits.json, which
 * the Python client reads, holds the same numbers: test/runtime/vectors.test.ts checks it
 * against this module, test/runtime/limits.test.ts the docs.
 *
 * No CDK import here: this module is bundled into the Lambda assets.
 */

// ---- parts

/** Most parts one write may put: bounds the parallel PutObjects and the row's pins. */
export const MAX_PARTS_PER_WRITE = 100;

/** Most part names one read may name: the same bound on the parallel GetObjects as a write's. */
export const MAX_PARTS_PER_READ = MAX_PARTS_PER_WRITE;

/**
 * Most attributes one update may set: with at most {@link MAX_PARTS_PER_WRITE} parts written
 * or removed, its UpdateItem expression stays well under DynamoDB's 4 KB.
 */
export const MAX_ATTRIBUTES_PER_UPDATE = 100;

/** Longest part name: a part name is one S3 key segment and one DynamoDB map key. */
export const MAX_PART_NAME_LENGTH = 63;

/**
 * Part names: a lower-case letter or digit, then lower-case letters, digits, `_` or `-`.
 * Safe in S3 keys, URLs and DynamoDB expressions without any escaping.
 */
export const PART_NAME_PATTERN = new RegExp(`^[a-z0-9][a-z0-9_-]{0,${MAX_PART_NAME_LENGTH - 1}}$`);

/** Longest part content type: S3 stores it as a header; 255 covers any real media type. */
export const MAX_CONTENT_TYPE_LENGTH = 255;

/** Content types: printable ASCII (a header value: no control characters, no line breaks). */
export const CONTENT_TYPE_PATTERN = new RegExp(`^[\\x21-\\x7e][\\x20-\\x7e]{0,${MAX_CONTENT_TYPE_LENGTH - 1}}$`);

// ---- keys and rows

/** S3's limit on an object key, in UTF-8 bytes; a part key must fit in it. */
export const MAX_S3_KEY_BYTES = 1024;

/** DynamoDB's limit on a partition key value (of the table or an index), in UTF-8 bytes. */
export const MAX_PARTITION_KEY_BYTES = 2048;

/** DynamoDB's limit on a sort key value (of the table or an index), in UTF-8 bytes. */
export const MAX_SORT_KEY_BYTES = 1024;

/** DynamoDB's limit on an attribute name (and on a key inside a map attribute), in UTF-8 bytes. */
export const MAX_ATTRIBUTE_NAME_BYTES = 65_535;

/** DynamoDB's limit on an item: the index row (attributes and pins) must fit in it. */
export const MAX_ITEM_BYTES = 400 * 1024;

/**
 * Deepest nesting of an attribute value (maps and lists inside it): DynamoDB nests at most 32
 * levels, counting the item itself.
 */
export const MAX_ATTRIBUTE_DEPTH = 31;

/** Magnitude from which a DynamoDB number overflows (its largest is 9.9999999999999999999999999999999999999E+125). */
export const DYNAMODB_NUMBER_OVERFLOW = 1e126;

/** Smallest non-zero magnitude of a DynamoDB number; below it DynamoDB underflows. */
export const MIN_DYNAMODB_NUMBER = 1e-130;

/** Most significant digits of a DynamoDB number (a JavaScript number never has more than 17). */
export const MAX_DYNAMODB_NUMBER_DIGITS = 38;

// ---- request bodies

/** Largest request body, as received (before base64 decoding): Lambda's own invoke payload limit. */
export const MAX_BODY_BYTES = 6 * 1024 * 1024;

/**
 * Deepest nesting of arrays and objects in a request body or invocation event, counted from
 * its root: far deeper than any real document, and shallow enough that every recursive
 * step (serializing a `json` part, projecting one) stays far from the stack limit.
 */
export const MAX_JSON_DEPTH = 64;

// ---- reads

/** Per-part S3 timeout of a split read when the caller gives none. */
export const DEFAULT_PART_TIMEOUT_MS = 10_000;

/** Longest per-part timeout a read may ask for: Lambda's own longest timeout (15 minutes). */
export const MAX_PART_TIMEOUT_MS = 900_000;

/** Most field paths one part may be projected to: projection is for a few fields, not many. */
export const MAX_PROJECTION_PATHS = 100;

/** Longest field path, in characters. */
export const MAX_PROJECTION_PATH_LENGTH = 1024;

/** Most segments of a field path: a path cannot go deeper than a document may nest. */
export const MAX_PROJECTION_PATH_SEGMENTS = MAX_JSON_DEPTH;

// ---- lists

/** Page size of a list when the caller gives none. */
export const DEFAULT_LIST_LIMIT = 50;

/** Largest page a list may ask for: one DynamoDB page is at most 1 MB anyway. */
export const MAX_LIST_LIMIT = 1000;

/** Longest list cursor, in characters: a cursor is the key of one row, at most a few KB. */
export const MAX_CURSOR_LENGTH = 8192;

// ---- presigned URLs

/** Lifetime of a presigned URL when the caller gives none, in seconds. */
export const DEFAULT_PRESIGN_EXPIRES_SECONDS = 300;

/** Longest lifetime of a presigned URL, in seconds: a URL is a bearer token for the part. */
export const MAX_PRESIGN_EXPIRES_SECONDS = 3600;

// ---- the store's configuration

/** S3 key prefix of the parts when the store gives none. */
export const DEFAULT_KEY_PREFIX = 'items/';

/** Writer deadline when the store gives none: far below the reconciler's delay. */
export const DEFAULT_WRITER_DEADLINE_MS = 20_000;

// ---- requests and commits (docs/PROTOCOL.md sections 5 and 14)

/** Per-attempt timeout of a DynamoDB request when the client gives none. */
export const DEFAULT_DYNAMODB_TIMEOUT_MS = 5_000;

/** Per-attempt timeout of an S3 request (part uploads included) when the client gives none. */
export const DEFAULT_S3_TIMEOUT_MS = 10_000;

/** Longest per-attempt timeout of any request: a commit attempt ends well inside the reconciler's 30 s commit margin. */
export const MAX_REQUEST_TIMEOUT_MS = 20_000;

/** Attempts of an idempotent request (reads, part uploads, deletes): the AWS SDK's own default. */
export const REQUEST_ATTEMPTS = 3;

/** Attempts of one commit (the same token and condition), while the writer deadline allows. */
export const COMMIT_ATTEMPTS = 4;

/** Attempts of each compensating or retiring S3 delete. */
export const DELETE_ATTEMPTS = 3;

/**
 * Rounds of an unconditional put or delete (read, put, commit) when another writer's commit
 * came first each time: a few, so a hot item answers 409 rather than spinning.
 */
export const UNCONDITIONAL_WRITE_ROUNDS = 3;

// ---- the split-read stream

/**
 * Largest size the reader pads each stream line to: Lambda holds back small streamed writes
 * below a few KB, so padding far beyond that only spends bandwidth.
 */
export const MAX_STREAM_MIN_LINE_BYTES = 1024 * 1024;
