/**
 * How the store sends every DynamoDB and S3 request: one HTTP request per attempt, each
 * attempt bounded by its own timeout (an AbortSignal), retried by this code, never by the SDK.
 *
 * Why not the SDK's retries: a commit resent by the SDK after a lost reply fails its own
 * condition (the first attempt moved the row on), and the caller sees a conflict for a write
 * that landed. The store must know every attempt it sent, so the SDK's retry middleware is
 * replaced, for the store's commands only, by a pass-through (the middleware stack's
 * documented `override`, under the name the SDK registers it with: `retryMiddleware`).
 * Idempotent requests (reads, part uploads, deletes by version) are retried here instead;
 * commits are resent only by the commit protocol (commit.ts), which judges every attempt.
 *
 * No CDK import here: this module is bundled into the Lambda assets.
 */
import { errorNameOf, httpStatusOf } from './errors';

/** The name under which the AWS SDK v3 (@smithy/core) registers its retry middleware. */
export const SDK_RETRY_MIDDLEWARE = 'retryMiddleware';

/** Options of one request. */
export interface SendOptions {
  /** Per-attempt timeout, ms. */
  readonly timeoutMs: number;
  /** Attempts; more than 1 only for idempotent requests. @default 1 */
  readonly attempts?: number;
  /** Aborts the attempt in flight and stops retrying (the caller's time is up). */
  readonly signal?: AbortSignal;
  /** Base pause between attempts, ms (full jitter, doubled each attempt). @default 50 */
  readonly retryDelayMs?: number;
  /** Called with the error of every failed attempt, retried or not. */
  readonly onAttemptFailed?: (error: unknown) => void;
}

/** An attempt that did not answer within its timeout: it may or may not have been applied. */
export class RequestTimeoutError extends Error {
  constructor(public readonly operation: string, public readonly timeoutMs: number) {
    super(`${operation} did not answer within ${timeoutMs} ms`);
    this.name = 'RequestTimeout';
  }
}

/** The caller's signal ended the request: it may or may not have been applied. */
export class RequestAbortedError extends Error {
  constructor(public readonly operation: string) {
    super(`${operation} was abandoned: the caller's time ran out`);
    this.name = 'RequestAborted';
  }
}

/** Anything with the AWS SDK v3 client's `send`. */
export interface SdkClient {
  send(command: any, options?: { abortSignal?: AbortSignal }): Promise<any>;
}

/** A command whose middleware stack we can change (every AWS SDK v3 command). */
interface StackCommand {
  readonly middlewareStack: { add(middleware: unknown, options: Record<string, unknown>): void };
}

/**
 * Replaces the client's retry middleware for this command by a pass-through, so one `send`
 * is exactly one HTTP request. (`override` swaps the entry of the same name, step and
 * priority when the command's stack is merged into the client's.)
 */
export function withoutSdkRetries<C>(command: C): C {
  (command as unknown as StackCommand).middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>) => (args: unknown) => next(args),
    { name: SDK_RETRY_MIDDLEWARE, step: 'finalizeRequest', priority: 'high', tags: ['RETRY'], override: true },
  );
  return command;
}

/**
 * Sends a command built fresh for every attempt, one HTTP request per attempt, each bounded by
 * `timeoutMs`; retries (up to `attempts`) the failures that may succeed when sent again. A
 * timeout rejects with {@link RequestTimeoutError}, the caller's signal with
 * {@link RequestAbortedError}; other failures reject with the SDK's error.
 */
export async function send<O>(client: SdkClient, operation: string, make: () => unknown, options: SendOptions): Promise<O> {
  const attempts = options.attempts ?? 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await sendOnce<O>(client, operation, make(), options);
    } catch (e) {
      options.onAttemptFailed?.(e);
      if (attempt >= attempts || !isRetryable(e)) throw e;
    }
    await sleep(Math.random() * (options.retryDelayMs ?? 50) * 2 ** (attempt - 1), options.signal);
    if (options.signal?.aborted) throw new RequestAbortedError(operation);
  }
}

async function sendOnce<O>(client: SdkClient, operation: string, command: unknown, options: SendOptions): Promise<O> {
  if (options.signal?.aborted) throw new RequestAbortedError(operation);
  const controller = new AbortController();
  let cause: Error | undefined;
  const timer = setTimeout(() => {
    cause = new RequestTimeoutError(operation, options.timeoutMs);
    controller.abort(cause);
  }, options.timeoutMs);
  const onAbort = () => {
    cause ??= new RequestAbortedError(operation);
    controller.abort(cause);
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const sent = (async () => client.send(withoutSdkRetries(command), { abortSignal: controller.signal }))();
    // A client that ignores the signal (a test double) must not hold the caller past its timeout.
    const aborted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(cause), { once: true });
    });
    sent.catch(() => undefined);
    aborted.catch(() => undefined);
    return await Promise.race([sent, aborted]);
  } catch (e) {
    throw cause ?? e;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

const THROTTLING = new Set([
  'ThrottlingException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded', 'SlowDown',
  'TooManyRequestsException', 'RequestThrottled', 'Throttling', 'ThrottledException', 'RequestThrottledException',
  'TransactionConflictException', 'ReplicatedWriteConflictException',
]);

/** True for a throttling answer: the request was refused, and may succeed a little later. */
export function isThrottling(e: unknown): boolean {
  return THROTTLING.has(errorNameOf(e)) || httpStatusOf(e) === 429;
}

/**
 * Whether sending the request again may help: timeouts, network failures (no HTTP answer),
 * 5xx answers and throttling. Never the caller's own abort, never another 4xx.
 */
export function isRetryable(e: unknown): boolean {
  if (e instanceof RequestAbortedError) return false;
  if (e instanceof RequestTimeoutError) return true;
  if (isThrottling(e)) return true;
  const status = httpStatusOf(e);
  if (status === undefined) return true;
  return status >= 500;
}

/** Waits `ms`, or less if the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    if (signal?.aborted || ms <= 0) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
