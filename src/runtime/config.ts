/**
 * The contract between the construct and the code that talks to a store: the
 * environment variables that `SplitStore` sets on the reference Lambda and on any
 * application function wired with `grantAndConfigure`, and the parsed configuration.
 *
 * No CDK import here: this module is bundled into the Lambda assets.
 */
import { DEFAULT_KEY_PREFIX, DEFAULT_WRITER_DEADLINE_MS } from './limits';

/** Names of the environment variables that describe a store. */
export const ENV = {
  /** DynamoDB table name. */
  tableName: 'SPLIT_STORE_TABLE_NAME',
  /** S3 bucket name. */
  bucketName: 'SPLIT_STORE_BUCKET_NAME',
  /** S3 key prefix under which parts live, ends with '/'. */
  keyPrefix: 'SPLIT_STORE_KEY_PREFIX',
  /** Partition key attribute name. */
  partitionKeyName: 'SPLIT_STORE_PARTITION_KEY',
  /** Partition key type: 'S' or 'N'. */
  partitionKeyType: 'SPLIT_STORE_PARTITION_KEY_TYPE',
  /** Sort key attribute name (absent when the table has none). */
  sortKeyName: 'SPLIT_STORE_SORT_KEY',
  /** Sort key type: 'S' or 'N' (absent when the table has none). */
  sortKeyType: 'SPLIT_STORE_SORT_KEY_TYPE',
  /**
   * Global secondary indexes a list may query, JSON:
   * `[{"name":"byCustomer","partitionKey":{"name":"customer","type":"S"},"sortKey":{"name":"issuedAt","type":"S"}}]`.
   */
  indexes: 'SPLIT_STORE_INDEXES',
  /** Writer deadline in milliseconds, after which a writer compensates instead of committing. */
  writerDeadlineMs: 'SPLIT_STORE_WRITER_DEADLINE_MS',
  /** Name of the store's reference reader function (set by `grantInvokeReaderAndConfigure`). */
  readerFunctionName: 'SPLIT_STORE_READER_FUNCTION_NAME',
  /** Function URL of the store's reference reader, when it has one (set by `grantInvokeReaderAndConfigure`). */
  readerUrl: 'SPLIT_STORE_READER_URL',
} as const;

// The construct reads its defaults from here; limits.ts holds them with every other number.
export { DEFAULT_KEY_PREFIX, DEFAULT_WRITER_DEADLINE_MS };

/**
 * Room after the writer deadline for a commit attempt already on its way (its timeout is at
 * most 20 s), clock skew and S3's one-second LastModified: the reconciler's delay is at least
 * the deadline plus this, and it treats a version younger than that as possibly in flight.
 */
export const COMMIT_MARGIN_MS = 30_000;

/** A key attribute: name and DynamoDB scalar type. */
export interface KeyAttribute {
  readonly name: string;
  readonly type: 'S' | 'N';
}

/** A global secondary index a list may query. */
export interface IndexConfig {
  readonly name: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
}

/** Everything the runtime needs to know about a store. */
export interface StoreConfig {
  readonly tableName: string;
  readonly bucketName: string;
  readonly keyPrefix: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly indexes: readonly IndexConfig[];
  readonly writerDeadlineMs: number;
}

function keyType(value: string | undefined, variable: string): 'S' | 'N' {
  if (value === 'S' || value === 'N') return value;
  throw new Error(`${variable} must be 'S' or 'N', got ${JSON.stringify(value)}`);
}

function required(env: Record<string, string | undefined>, variable: string): string {
  const value = env[variable];
  if (!value) {
    throw new Error(`${variable} is not set: wire the function with SplitStore.grantAndConfigure() or set it by hand`);
  }
  return value;
}

/** Reads a store's configuration from environment variables (see {@link ENV}). */
export function configFromEnv(env: Record<string, string | undefined> = process.env): StoreConfig {
  const sortKeyName = env[ENV.sortKeyName];
  const deadline = env[ENV.writerDeadlineMs];
  const writerDeadlineMs = deadline === undefined ? DEFAULT_WRITER_DEADLINE_MS : Number(deadline);
  if (!Number.isFinite(writerDeadlineMs) || writerDeadlineMs <= 0) {
    throw new Error(`${ENV.writerDeadlineMs} must be a positive number of milliseconds, got ${JSON.stringify(deadline)}`);
  }
  const indexesJson = env[ENV.indexes];
  let indexes: IndexConfig[] = [];
  if (indexesJson) {
    try {
      indexes = JSON.parse(indexesJson);
    } catch (e) {
      throw new Error(`${ENV.indexes} is not valid JSON: ${(e as Error).message}`);
    }
  }
  return {
    tableName: required(env, ENV.tableName),
    bucketName: required(env, ENV.bucketName),
    keyPrefix: env[ENV.keyPrefix] ?? DEFAULT_KEY_PREFIX,
    partitionKey: {
      name: required(env, ENV.partitionKeyName),
      type: keyType(env[ENV.partitionKeyType] ?? 'S', ENV.partitionKeyType),
    },
    sortKey: sortKeyName ? { name: sortKeyName, type: keyType(env[ENV.sortKeyType] ?? 'S', ENV.sortKeyType) } : undefined,
    indexes,
    writerDeadlineMs,
  };
}
