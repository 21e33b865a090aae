/**
 * The error vocabulary: the stable codes a caller can see, and the plain messages for
 * failures of DynamoDB and S3.
 *
 * An AWS error's text names the account, the role ARN, the table and the bucket; callers never
 * see it. They get a code from the table below, a message in plain words and the request id;
 * the AWS error itself is kept as the error's `cause` and written to the function's log (one
 * JSON line with the same request id) by the handler.
 *
 * No CDK import here: this module is bundled into the Lambda assets.
 */
import { StoreError, UnavailableError, ValidationError } from './types';

/** Every error code a caller of the reader can receive, with its HTTP status. */
export const ERROR_CODES = {
  /** Bad input: the message names the field, the value and the fix. Nothing was written. */
  ValidationError: 400,
  /** The item (or its part) does not exist. */
  NotFound: 404,
  /** No such route. */
  RouteNotFound: 404,
  /** The route exists, not with this method (the `Allow` header lists the methods). */
  MethodNotAllowed: 405,
  /** The item changed since the revision the writer expected. Nothing was written. */
  Conflict: 409,
  /** The request body is larger than the reader accepts. */
  PayloadTooLarge: 413,
  /** The request body is not JSON. */
  UnsupportedMediaType: 415,
  /** The reader failed unexpectedly: the function log has the details. */
  InternalError: 500,
  /** The row was written by a later protocol version: upgrade cdk-split-store. */
  UnsupportedRow: 500,
  /** DynamoDB or S3 failed: retry with backoff. */
  Unavailable: 503,
  /** A write ran past the writer deadline and was abandoned: retry. */
  DeadlineExceeded: 503,
  /** A commit's answer was lost and it cannot be told whether it landed: read the item, then retry if needed. */
  CommitOutcomeUnknown: 503,
} as const;

/** A code of {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The two AWS services the store calls. */
export type Dependency = 'DynamoDB' | 'S3';

/** The AWS error's own fields, for the log: name, message, HTTP status, AWS request id. */
export function describeCause(cause: unknown): Record<string, unknown> | undefined {
  if (cause === undefined || cause === null) return undefined;
  if (typeof cause !== 'object') return { message: String(cause) };
  const e = cause as { name?: unknown; message?: unknown; $fault?: unknown; $metadata?: { httpStatusCode?: unknown; requestId?: unknown } };
  return compactFields({
    name: e.name,
    message: e.message,
    fault: e.$fault,
    httpStatusCode: e.$metadata?.httpStatusCode,
    awsRequestId: e.$metadata?.requestId,
  });
}

/**
 * A DynamoDB or S3 failure as the caller sees it: 503 `Unavailable` with a plain message
 * (retrying can help), or 400 `ValidationError` when DynamoDB refused the request as invalid
 * (what the reader checks before any call makes that rare). The AWS error is the `cause`.
 */
export function dependencyError(service: Dependency, operation: string, cause: unknown): StoreError {
  if (cause instanceof StoreError) return cause;
  if (errorNameOf(cause) === 'ValidationException') {
    return new ValidationError(`${service} refused the ${operation} as invalid (an index row over 400 KB, for example): `
      + 'check the request against the limits in the README; the function log has the details', { cause });
  }
  return new UnavailableError(`${service} ${operation} failed: retry with backoff (the function log has the details)`, { cause });
}

/** The plain message of a part that S3 could not serve. */
export function partFailureMessage(part: string): string {
  return `part "${part}": S3 could not serve it; retry (the function log has the details)`;
}

/** The error's name (the service's error code for an AWS SDK error), or 'Error'. */
export function errorNameOf(e: unknown): string {
  return (e as { name?: string } | undefined)?.name ?? 'Error';
}

/** The HTTP status of an AWS SDK error, if a response arrived. */
export function httpStatusOf(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** True when S3 answered that the object, or the version asked for, does not exist. */
export function isNotFound(e: unknown): boolean {
  const name = errorNameOf(e);
  return name === 'NoSuchVersion' || name === 'NoSuchKey' || name === 'NotFound' || httpStatusOf(e) === 404;
}

function compactFields(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}
