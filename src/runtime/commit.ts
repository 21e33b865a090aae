/**
 * The commit sequence every write follows (put in all three modes, updateParts, delete):
 * read the state, put the parts, check the deadline, commit conditionally on "the row is
 * still that state", judge the outcome, then retire, compensate or leave everything alone.
 * docs/PROTOCOL.md, sections 4 and 5, is the specification; each rule there has its proof.
 *
 * Written once here; the operations (store.ts) only say what their precondition is, what
 * their commit writes and what it retires.
 *
 * No CDK import here: this module is bundled into the Lambda assets.
 */
import { randomBytes } from 'crypto';
import {
  GetItemCommand,
  PutItemCommand,
  PutItemCommandInput,
  UpdateItemCommand,
  UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  decodeState,
  Item,
  marshallKey,
  ObservedRow,
  observeRow,
  pinOf,
  PROTOCOL_ATTRIBUTE,
  REVISION_ATTRIBUTE,
  RowState,
  TOKEN_ATTRIBUTE,
} from './codec';
import { StoreConfig } from './config';
import { describeCause, errorNameOf, httpStatusOf } from './errors';
import { partKey } from './keys';
import { COMMIT_ATTEMPTS, DELETE_ATTEMPTS, REQUEST_ATTEMPTS } from './limits';
import { isThrottling, SdkClient, send, sleep } from './send';
import {
  CommitOutcomeUnknownError,
  ConflictError,
  DeadlineExceededError,
  ItemKey,
  LogEntry,
  PartPin,
  StoreError,
  UnavailableError,
  ValidationError,
} from './types';

/** Per-attempt timeout of the clean-up requests sent after the caller's time ran out. */
export const ABANDONED_CLEANUP_TIMEOUT_MS = 1_000;

/** What the commit sequence needs from the client. */
export interface WriterContext {
  readonly config: StoreConfig;
  readonly dynamodb: SdkClient;
  readonly s3: SdkClient;
  /** Monotonic clock, ms. */
  readonly now: () => number;
  readonly log: (entry: LogEntry) => void;
  /** Base pause between attempts, ms. */
  readonly retryDelayMs: number;
  /** Per-attempt timeout of DynamoDB requests, ms. */
  readonly dynamodbTimeoutMs: number;
  /** Per-attempt timeout of S3 requests, ms. */
  readonly s3TimeoutMs: number;
}

/** A part to put, validated. */
export interface PreparedPart {
  readonly name: string;
  readonly s3Key: string;
  readonly body: Uint8Array;
  readonly contentType: string;
}

/** An S3 object version this writer created. */
export interface CreatedVersion {
  readonly part: string;
  readonly s3Key: string;
  readonly versionId: string;
}

/** The commit a write sends: one conditional PutItem or UpdateItem. */
export type CommitRequest =
  | { readonly kind: 'PutItem'; readonly input: PutItemCommandInput; readonly retire: readonly string[] }
  | { readonly kind: 'UpdateItem'; readonly input: UpdateItemCommandInput; readonly retire: readonly string[] };

/** What one write operation tells the sequence. */
export interface WriteSpec {
  /** The operation's name in messages and logs. */
  readonly operation: string;
  readonly key: ItemKey;
  /** The parts to put before the commit. */
  readonly parts: readonly PreparedPart[];
  /** The caller's time: when it aborts, nothing new is sent but clean-up. */
  readonly signal?: AbortSignal;
  /**
   * Rounds of the whole sequence (read, put, commit): more than 1 only for unconditional
   * writes, which start again from the read when another writer's commit came first.
   */
  readonly rounds: number;
  /** The mode's precondition on the state read; throws (404, 409) before anything is put. */
  check(state: RowState): void;
  /**
   * The commit for the state read, with this commit's token and the pins of the parts put.
   * Its condition must be {@link stateCondition} of that state.
   */
  build(state: RowState, token: string, pins: Record<string, PartPin>): CommitRequest;
  /** The 409 message when another writer's commit came first (after `rounds` rounds). */
  conflict(state: RowState, rounds: number): string;
}

/** A write that landed: the state it replaced and the item it committed. */
export interface LandedWrite {
  readonly state: RowState;
  readonly item: Item;
}

// -------------------------------------------------------------------------------------
// Tokens and conditions

/** A fresh commit token: 16 random bytes, base64url (22 characters). */
export function newCommitToken(): string {
  return randomBytes(16).toString('base64url');
}

/** The revision the commit after `state` writes: monotonic per key for ever. */
export function nextRevision(state: RowState): number {
  return state.kind === 'none' ? 1 : state.revision + 1;
}

/**
 * The condition "the row is still `state`", with the names and values it uses added to
 * `names` and `values` (DynamoDB refuses unused ones, so each is added with its use):
 * - no row: `attribute_not_exists(#pk)`;
 * - a v2 row or tombstone: `#tok = :state_tok` (tokens are unique, so the token names the state);
 * - a v1 row: `#rev = :state_rev AND attribute_not_exists(#tok) AND attribute_not_exists(#proto)`.
 */
export function stateCondition(
  config: StoreConfig,
  state: RowState,
  names: Record<string, string>,
  values: Record<string, Item[string]>,
): string {
  if (state.kind === 'none') {
    names['#pk'] = config.partitionKey.name;
    return 'attribute_not_exists(#pk)';
  }
  names['#tok'] = TOKEN_ATTRIBUTE;
  if (state.token !== undefined) {
    values[':state_tok'] = { S: state.token };
    return '#tok = :state_tok';
  }
  names['#rev'] = REVISION_ATTRIBUTE;
  names['#proto'] = PROTOCOL_ATTRIBUTE;
  values[':state_rev'] = { N: String(state.revision) };
  return '#rev = :state_rev AND attribute_not_exists(#tok) AND attribute_not_exists(#proto)';
}

// -------------------------------------------------------------------------------------
// Judging a commit's outcome (pure; docs/PROTOCOL.md section 5)

/** What identifies one commit: its token and the revision of the state it conditions on (0: no row). */
export interface CommitView {
  readonly token: string;
  readonly baseRevision: number;
}

/** The result of one attempt of a commit. */
export type AttemptResult =
  /** DynamoDB answered success: this attempt applied the commit. */
  | { readonly kind: 'applied'; readonly item?: Item }
  /** ConditionalCheckFailed: this attempt did not apply; `current` is the row it found (undefined: no row). */
  | { readonly kind: 'condition-failed'; readonly current?: Item }
  /** A definite refusal (a 4xx other than the condition): this attempt did not apply. */
  | { readonly kind: 'refused'; readonly retryable: boolean; readonly error: unknown }
  /** A timeout, an abort, a reset, a 5xx, anything else: this attempt may or may not have applied. */
  | { readonly kind: 'ambiguous'; readonly error: unknown };

/** What to do after an attempt, or what the commit's outcome is. */
export type CommitVerdict =
  /** The commit landed (exactly once); `item` is the committed row when known from the answer. */
  | { readonly kind: 'landed'; readonly item?: Item }
  /** The commit did not land and never will: another state followed the one it conditions on, or it was refused. */
  | { readonly kind: 'not-landed'; readonly cause: 'conflict' | 'refused'; readonly error?: unknown }
  /** It cannot be told whether the commit landed: delete nothing, answer 503. */
  | { readonly kind: 'unknown' }
  /** Send the same commit again (same token, same condition). */
  | { readonly kind: 'resend' }
  /** No more attempts: read the row once (consistently) and judge it with {@link judgeObservation}. */
  | { readonly kind: 'verify' };

/**
 * Judges a row observed after the commit was sent (the row a failed condition returned, or
 * a consistent read): ours if it carries our token; otherwise not landed if no attempt was
 * ambiguous, or if the row is at the revision right after the state we conditioned on (that
 * state's one successor is someone else's, and states never repeat, so our condition can
 * never hold again); otherwise unknown (our commit may have landed and been superseded, or
 * an attempt may still be on its way).
 */
export function judgeObservation(
  view: CommitView,
  current: ObservedRow | undefined,
  anyAmbiguous: boolean,
): 'landed' | 'not-landed' | 'unknown' {
  if (current?.token === view.token) return 'landed';
  if (!anyAmbiguous) return 'not-landed';
  if (current?.revision === view.baseRevision + 1) return 'not-landed';
  return 'unknown';
}

/**
 * Judges one attempt of a commit. `earlierAmbiguous`: an earlier attempt of this commit may
 * have applied. `mayResend`: attempts and the writer deadline still allow another attempt.
 */
export function judgeAttempt(
  view: CommitView,
  result: AttemptResult,
  earlierAmbiguous: boolean,
  mayResend: boolean,
): CommitVerdict {
  switch (result.kind) {
    case 'applied':
      return { kind: 'landed', item: result.item };
    case 'condition-failed': {
      const judged = judgeObservation(view, observeRow(result.current), earlierAmbiguous);
      if (judged === 'landed') return { kind: 'landed', item: result.current };
      return judged === 'not-landed' ? { kind: 'not-landed', cause: 'conflict' } : { kind: 'unknown' };
    }
    case 'refused':
      if (result.retryable && mayResend) return { kind: 'resend' };
      if (!earlierAmbiguous) return { kind: 'not-landed', cause: 'refused', error: result.error };
      return { kind: 'verify' };
    case 'ambiguous':
      return mayResend ? { kind: 'resend' } : { kind: 'verify' };
  }
}

/** DynamoDB errors that say the request was refused before anything was applied. */
const DEFINITE_REFUSALS = new Set([
  'ValidationException', 'SerializationException', 'ThrottlingException', 'ProvisionedThroughputExceededException',
  'RequestLimitExceeded', 'AccessDeniedException', 'ResourceNotFoundException', 'TransactionConflictException',
  'ReplicatedWriteConflictException', 'ItemCollectionSizeLimitExceededException', 'UnrecognizedClientException',
  'InvalidSignatureException', 'MissingAuthenticationTokenException', 'IncompleteSignatureException', 'ExpiredTokenException',
]);

/**
 * One commit attempt's failure as an {@link AttemptResult}. Only an answer DynamoDB itself
 * gave (a 4xx with one of its refusal codes) proves the attempt did not apply; everything
 * else, an unknown 4xx included, is treated as ambiguous.
 */
export function classifyCommitError(e: unknown): AttemptResult {
  const name = errorNameOf(e);
  const status = httpStatusOf(e);
  if (name === 'ConditionalCheckFailedException' && status !== undefined && status >= 400 && status < 500) {
    return { kind: 'condition-failed', current: (e as { Item?: Item }).Item };
  }
  if (status !== undefined && status >= 400 && status < 500 && DEFINITE_REFUSALS.has(name)) {
    return { kind: 'refused', retryable: isThrottling(e), error: e };
  }
  return { kind: 'ambiguous', error: e };
}

// -------------------------------------------------------------------------------------
// The sequence

/** Runs a write: read, check, put, deadline, commit, judge, then retire or clean up. */
export async function runWrite(ctx: WriterContext, spec: WriteSpec): Promise<LandedWrite> {
  // Set once a version of ours may be left current: a compensation failed, or an upload
  // attempt failed in a way that may have stored a version we never learned the id of.
  // Then "not committed" is answered 503, not 409 (I3: a 409 leaves none of its versions current).
  let leftovers = false;
  for (let round = 1; ; round++) {
    const start = ctx.now();
    const scope = deadlineScope(ctx.config.writerDeadlineMs, spec.signal);
    try {
      // 1. Read the state, and check the mode's precondition before anything is put.
      const state = await readState(ctx, spec.key, scope.signal).catch(e => {
        throw preCommitError(ctx, e, scope, `read of ${JSON.stringify(spec.key)} before the ${spec.operation}`);
      });
      spec.check(state);

      // 2. Put the parts.
      const written = await putParts(ctx, spec, scope);
      leftovers ||= written.unknownVersions;

      // 3. The deadline: a writer past it never commits (the reconciler's rules rely on it).
      const elapsed = ctx.now() - start;
      if (elapsed > ctx.config.writerDeadlineMs || scope.signal.aborted) {
        await compensate(ctx, written.created, spec.signal);
        throw scope.signal.aborted && !scope.deadlinePassed()
          ? new UnavailableError(`the ${spec.operation} was abandoned before its commit: nothing was committed; retry`)
          : new DeadlineExceededError(
            `write of ${JSON.stringify(spec.key)} ran ${Math.round(elapsed)} ms, past the writer deadline of `
            + `${ctx.config.writerDeadlineMs} ms: abandoned and compensated, nothing was committed; retry`,
          );
      }

      // 4.-5. Commit, and judge the outcome.
      const token = newCommitToken();
      const request = spec.build(state, token, written.pins);
      const verdict = await commitAndJudge(ctx, spec, { token, baseRevision: nextRevision(state) - 1 }, request, start);

      // 6. Act on it.
      if (verdict.kind === 'landed') {
        await retireParts(ctx, spec.key, request.retire, spec.signal);
        return { state, item: verdict.item };
      }
      if (verdict.kind === 'unknown') {
        ctx.log({
          level: 'error',
          msg: 'commit outcome unknown: nothing deleted; the reconciler keeps these versions if the commit landed and removes them if not',
          operation: spec.operation,
          key: spec.key,
          versions: written.created,
        });
        throw new CommitOutcomeUnknownError(
          `the ${spec.operation} of ${JSON.stringify(spec.key)} may or may not have been committed (the answer was lost); `
          + 'read the item to see which, then retry if needed',
        );
      }
      // Not landed, proven: our versions were never committed and never will be.
      leftovers = !await compensate(ctx, written.created, spec.signal) || leftovers;
      if (verdict.cause === 'refused') throw refusal(ctx, spec.operation, verdict.error);
      if (round < spec.rounds && !spec.signal?.aborted) {
        // Full jitter, so that writers racing on one item do not collide again in lockstep.
        await sleep(Math.random() * ctx.retryDelayMs * 2 ** round, spec.signal);
        continue;
      }
      if (leftovers) {
        throw new UnavailableError(
          `the ${spec.operation} of ${JSON.stringify(spec.key)} was not committed (another write came first), and an `
          + 'uploaded part may still be current until the reconciler removes it; retry',
        );
      }
      throw new ConflictError(spec.conflict(state, round));
    } finally {
      scope.dispose();
    }
  }
}

/** The state of a key: one consistent GetItem, decoded. */
export async function readState(ctx: WriterContext, key: ItemKey, signal?: AbortSignal): Promise<RowState> {
  const out = await send<{ Item?: Item }>(ctx.dynamodb, 'GetItem', () => new GetItemCommand({
    TableName: ctx.config.tableName,
    Key: marshallKey(ctx.config, key),
    ConsistentRead: true,
  }), { timeoutMs: ctx.dynamodbTimeoutMs, attempts: REQUEST_ATTEMPTS, signal, retryDelayMs: ctx.retryDelayMs });
  return decodeState(ctx.config, out?.Item);
}

/** The writer deadline and the caller's signal, as one signal for the requests before the commit. */
interface DeadlineScope {
  readonly signal: AbortSignal;
  deadlinePassed(): boolean;
  dispose(): void;
}

function deadlineScope(deadlineMs: number, hard: AbortSignal | undefined): DeadlineScope {
  const controller = new AbortController();
  let passed = false;
  const timer = setTimeout(() => {
    passed = true;
    controller.abort(new Error('writer deadline'));
  }, deadlineMs);
  const onAbort = () => controller.abort(new Error('caller abandoned the write'));
  if (hard?.aborted) onAbort();
  hard?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    deadlinePassed: () => passed,
    dispose: () => {
      clearTimeout(timer);
      hard?.removeEventListener('abort', onAbort);
    },
  };
}

/** A failure before the commit was sent: nothing was committed. */
function preCommitError(ctx: WriterContext, e: unknown, scope: DeadlineScope, what: string): StoreError {
  if (e instanceof StoreError) return e;
  ctx.log({ level: 'warn', msg: `${what} failed`, error: describeCause(e) });
  if (scope.deadlinePassed()) {
    return new DeadlineExceededError(`${what} did not finish within the writer deadline: nothing was committed; retry`);
  }
  return new UnavailableError(`${what} failed: nothing was committed; retry with backoff (the function log has the details)`, { cause: e });
}

/**
 * PutObject every part in parallel; on any failure, delete (by VersionId) the ones that
 * landed. An attempt that failed without a 4xx may have stored a version whose id we never
 * got (a timeout, a lost reply): `unknownVersions` says so.
 */
async function putParts(ctx: WriterContext, spec: WriteSpec, scope: DeadlineScope): Promise<WrittenParts> {
  let unknownVersions = false;
  const onAttemptFailed = (e: unknown) => {
    const status = httpStatusOf(e);
    if (status === undefined || status >= 500) unknownVersions = true;
  };
  const results = await Promise.allSettled(spec.parts.map(async part => {
    const out = await send<{ VersionId?: string; ETag?: string }>(ctx.s3, 'PutObject', () => new PutObjectCommand({
      Bucket: ctx.config.bucketName,
      Key: part.s3Key,
      Body: part.body,
      ContentType: part.contentType,
    }), { timeoutMs: ctx.s3TimeoutMs, attempts: REQUEST_ATTEMPTS, signal: scope.signal, retryDelayMs: ctx.retryDelayMs, onAttemptFailed });
    return { part, out };
  }));
  // Null prototype: a part name such as "constructor" must not find an inherited property.
  const pins: Record<string, PartPin> = Object.create(null);
  const created: CreatedVersion[] = [];
  let failure: unknown;
  for (const result of results) {
    if (result.status === 'rejected') {
      failure ??= result.reason;
      continue;
    }
    const { part, out } = result.value;
    if (!out?.VersionId || out.VersionId === 'null') {
      failure ??= new UnversionedBucketError(ctx.config.bucketName);
      continue;
    }
    created.push({ part: part.name, s3Key: part.s3Key, versionId: out.VersionId });
    pins[part.name] = { versionId: out.VersionId, etag: out.ETag ?? '', size: part.body.byteLength, contentType: part.contentType };
  }
  if (failure !== undefined) {
    await compensate(ctx, created, spec.signal);
    if (failure instanceof UnversionedBucketError) {
      ctx.log({ level: 'error', msg: failure.message });
      throw new UnavailableError('S3 returned no version id for a part: the store\'s bucket must have versioning enabled; '
        + 'nothing was committed', { cause: failure });
    }
    throw preCommitError(ctx, failure, scope, `S3 PutObject of the ${spec.operation}`);
  }
  return { pins, created, unknownVersions };
}

/** The pins of the parts put, the versions created (to compensate), and whether there may be others. */
interface WrittenParts {
  readonly pins: Record<string, PartPin>;
  readonly created: CreatedVersion[];
  readonly unknownVersions: boolean;
}

class UnversionedBucketError extends Error {
  constructor(bucket: string) {
    super(`bucket ${bucket} returned no VersionId: S3 versioning must be enabled; nothing was committed`);
  }
}

/** How a commit ended. */
type CommitOutcome =
  | { readonly kind: 'landed'; readonly item: Item }
  | { readonly kind: 'not-landed'; readonly cause: 'conflict' | 'refused'; readonly error?: unknown }
  | { readonly kind: 'unknown' };

/** Sends the commit, resends it while allowed, and judges every answer. */
async function commitAndJudge(
  ctx: WriterContext,
  spec: WriteSpec,
  view: CommitView,
  request: CommitRequest,
  start: number,
): Promise<CommitOutcome> {
  let anyAmbiguous = false;
  for (let attempt = 1; ; attempt++) {
    const result = await attemptCommit(ctx, request, spec.signal);
    const mayResend = attempt < COMMIT_ATTEMPTS
      && ctx.now() - start <= ctx.config.writerDeadlineMs
      && !spec.signal?.aborted;
    const verdict = judgeAttempt(view, result, anyAmbiguous, mayResend);
    if (result.kind === 'ambiguous') anyAmbiguous = true;
    if (result.kind !== 'applied' && result.kind !== 'condition-failed') {
      ctx.log({
        level: 'warn',
        msg: 'commit attempt failed',
        operation: spec.operation,
        key: spec.key,
        attempt,
        result: result.kind,
        verdict: verdict.kind,
        error: describeCause(result.error),
      });
    }
    if (verdict.kind === 'resend') {
      await sleep(Math.random() * ctx.retryDelayMs * 2 ** attempt, spec.signal);
      // The pause may have crossed the deadline: then no new attempt, only a look at the row.
      if (ctx.now() - start <= ctx.config.writerDeadlineMs && !spec.signal?.aborted) continue;
      return verify(ctx, spec, view);
    }
    if (verdict.kind === 'verify') return verify(ctx, spec, view);
    if (verdict.kind === 'landed') {
      // The answer carries the committed row; should it not, the row itself does.
      return verdict.item !== undefined ? { kind: 'landed', item: verdict.item } : verify(ctx, spec, view);
    }
    return verdict;
  }
}

/** One attempt: exactly one HTTP request (no SDK retry), bounded by the DynamoDB timeout. */
async function attemptCommit(ctx: WriterContext, request: CommitRequest, signal: AbortSignal | undefined): Promise<AttemptResult> {
  const options = { timeoutMs: ctx.dynamodbTimeoutMs, attempts: 1, signal };
  try {
    if (request.kind === 'PutItem') {
      await send(ctx.dynamodb, 'PutItem', () => new PutItemCommand({
        ...request.input,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }), options);
      return { kind: 'applied', item: request.input.Item };
    }
    const out = await send<{ Attributes?: Item }>(ctx.dynamodb, 'UpdateItem', () => new UpdateItemCommand({
      ...request.input,
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }), options);
    return { kind: 'applied', item: out?.Attributes };
  } catch (e) {
    return classifyCommitError(e);
  }
}

/** After the last attempt: one consistent read decides, or the outcome is unknown. */
async function verify(ctx: WriterContext, spec: WriteSpec, view: CommitView): Promise<CommitOutcome> {
  let item: Item | undefined;
  try {
    const out = await send<{ Item?: Item }>(ctx.dynamodb, 'GetItem', () => new GetItemCommand({
      TableName: ctx.config.tableName,
      Key: marshallKey(ctx.config, spec.key),
      ConsistentRead: true,
    }), cleanupOptions(ctx, ctx.dynamodbTimeoutMs, spec.signal, 1));
    item = out?.Item;
  } catch (e) {
    ctx.log({ level: 'warn', msg: 'could not read the row to learn whether the commit landed', key: spec.key, error: describeCause(e) });
    return { kind: 'unknown' };
  }
  const judged = judgeObservation(view, observeRow(item), true);
  if (judged === 'landed' && item !== undefined) return { kind: 'landed', item };
  return judged === 'not-landed' ? { kind: 'not-landed', cause: 'conflict' } : { kind: 'unknown' };
}

/** The 4xx DynamoDB gave instead of applying the commit, as the caller's error. */
function refusal(ctx: WriterContext, operation: string, e: unknown): StoreError {
  ctx.log({ level: 'warn', msg: 'DynamoDB refused the commit', operation, error: describeCause(e) });
  if (errorNameOf(e) === 'ValidationException') {
    return new ValidationError(
      `DynamoDB refused the ${operation}'s commit as invalid: the index row is not storable, for example `
      + 'larger than 400 KB; nothing was committed (the function log has the details)',
      { cause: e },
    );
  }
  return new UnavailableError(
    `DynamoDB refused the ${operation}'s commit: nothing was committed; retry with backoff (the function log has the details)`,
    { cause: e },
  );
}

/** Options of a clean-up request: the usual ones, or one short attempt once the caller's time is up. */
function cleanupOptions(ctx: WriterContext, timeoutMs: number, signal: AbortSignal | undefined, attempts: number) {
  return signal?.aborted
    ? { timeoutMs: Math.min(timeoutMs, ABANDONED_CLEANUP_TIMEOUT_MS), attempts: 1 }
    : { timeoutMs, attempts, retryDelayMs: ctx.retryDelayMs };
}

/**
 * Deletes one version or delete marker by its VersionId (a permanent delete), with the
 * clean-up requests' timeouts and attempts.
 */
export function deleteById(ctx: WriterContext, s3Key: string, versionId: string, signal?: AbortSignal): Promise<unknown> {
  return send(ctx.s3, 'DeleteObject', () => new DeleteObjectCommand({
    Bucket: ctx.config.bucketName,
    Key: s3Key,
    VersionId: versionId,
  }), cleanupOptions(ctx, ctx.s3TimeoutMs, signal, DELETE_ATTEMPTS));
}

/**
 * Deletes exactly the versions this writer created, by VersionId, in parallel: they are
 * proven never committed (no commit was sent, or it is proven not to have landed). Failures
 * are logged, never thrown; the reconciler is the backstop. True if every delete succeeded.
 */
export async function compensate(ctx: WriterContext, created: readonly CreatedVersion[], signal?: AbortSignal): Promise<boolean> {
  const results = await Promise.all(created.map(async version => {
    try {
      await deleteById(ctx, version.s3Key, version.versionId, signal);
      return true;
    } catch (e) {
      ctx.log({
        level: 'error',
        msg: 'compensation failed: the reconciler will remove this never-committed version',
        s3Key: version.s3Key,
        versionId: version.versionId,
        error: describeCause(e),
      });
      return false;
    }
  }));
  return results.every(Boolean);
}

/**
 * After a commit that removed parts: a delete marker on each (the last pinned version becomes
 * noncurrent and expires with the retention window; it is never deleted). Then the row is
 * read again, and our marker is removed (by its VersionId) from every part the row pins
 * again: another writer re-added it meanwhile, and the marker may hide its version.
 */
export async function retireParts(ctx: WriterContext, key: ItemKey, parts: readonly string[], signal?: AbortSignal): Promise<void> {
  if (parts.length === 0) return;
  const markers = await Promise.all(parts.map(async part => {
    const s3Key = partKey(ctx.config, key, part);
    try {
      const out = await send<{ VersionId?: string }>(ctx.s3, 'DeleteObject', () => new DeleteObjectCommand({
        Bucket: ctx.config.bucketName,
        Key: s3Key,
      }), cleanupOptions(ctx, ctx.s3TimeoutMs, signal, DELETE_ATTEMPTS));
      return { part, s3Key, versionId: out?.VersionId };
    } catch (e) {
      ctx.log({
        level: 'warn',
        msg: 'could not retire a removed part: its last version stays current (never deleted; harmless to readers)',
        s3Key,
        error: describeCause(e),
      });
      return undefined;
    }
  }));
  const placed = markers.filter((m): m is { part: string; s3Key: string; versionId: string } => m?.versionId !== undefined);
  // Once the caller's time is up, the reconciler's delete-marker events do the re-check.
  if (placed.length === 0 || signal?.aborted) return;
  let state: RowState;
  try {
    state = await readState(ctx, key);
  } catch (e) {
    ctx.log({ level: 'warn', msg: 'could not re-check the row after retiring parts: the reconciler will', key, error: describeCause(e) });
    return;
  }
  await Promise.all(placed.filter(m => state.kind === 'live' && pinOf(state.row, m.part) !== undefined).map(async marker => {
    try {
      await deleteById(ctx, marker.s3Key, marker.versionId, signal);
    } catch (e) {
      ctx.log({
        level: 'error',
        msg: 'could not remove a delete marker that hides a pinned version: the reconciler will',
        ...marker,
        error: describeCause(e),
      });
    }
  }));
}
