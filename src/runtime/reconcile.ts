/**
 * The reconciler's rules (docs/PROTOCOL.md, section 9): for one S3 event on a part key, bring
 * that key back to "the pinned version is current, and nothing unpinned is current" without
 * ever permanently deleting a version that may have been committed.
 *
 * It reconciles the whole key, whatever version the event names: the event only says where
 * to look. Every action is justified by a listing of the key's versions taken BEFORE a
 * consistent read of the row (the order the proofs need), and only the current entry of
 * that listing is ever acted on, then the key is listed and read again.
 *
 * No CDK import here: this module is bundled into the Lambda assets.
 */
import { DeleteObjectCommand, HeadObjectCommand, ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { pinOf, RowState } from './codec';
import { deleteById, readState, WriterContext } from './commit';
import { COMMIT_MARGIN_MS } from './config';
import { describeCause, errorNameOf, isNotFound } from './errors';
import { parsePartKey } from './keys';
import { REQUEST_ATTEMPTS } from './limits';
import { send } from './send';
import { PartPin, ReconcileOutcome, StoreError, UnavailableError, ValidationError } from './types';

/** Rounds of list-read-act on one key per event; each round removes or hides one entry. */
export const MAX_RECONCILE_ROUNDS = 10;

/** What the reconciler needs: the writer's context and a wall clock to compare with S3's LastModified. */
export interface ReconcilerContext extends WriterContext {
  /** Wall clock, ms since the epoch. */
  readonly wallClock: () => number;
}

/** One entry of a key's version list: a data version or a delete marker. */
export interface ListedVersion {
  readonly versionId: string;
  readonly isDeleteMarker: boolean;
  readonly isLatest: boolean;
  readonly lastModified?: Date;
}

/**
 * Reconciles the part key `objectKey` after an event on its version `versionId`.
 * Returns what was done; throws (so the message is retried) when S3 or DynamoDB fails.
 */
export async function reconcilePartKey(ctx: ReconcilerContext, objectKey: string, versionId: string): Promise<ReconcileOutcome> {
  const parsed = parsePartKey(ctx.config, objectKey);
  if (!parsed) return 'not-a-part';
  if (typeof versionId !== 'string' || versionId.length === 0) {
    throw new ValidationError('reconcile needs the VersionId the event names');
  }
  const read = () => readState(ctx, parsed.key).catch(e => {
    throw unavailable(ctx, 'DynamoDB GetItem', e);
  });

  // Fast path, the common case: nothing to do. (No action is taken on it, so the order of
  // the two requests does not matter.)
  const [state, current] = await Promise.all([read(), headCurrent(ctx, objectKey)]);
  const pin = livePin(state, parsed.part);
  if (pin && current === pin.versionId) return versionId === pin.versionId ? 'pinned' : 'noncurrent';
  if (!pin && current === undefined) return 'retired';

  const settleMs = ctx.config.writerDeadlineMs + COMMIT_MARGIN_MS;
  let done: 'deleted-unpinned' | 'uncovered' | undefined;
  let previousPin: string | undefined;
  for (let round = 0; round < MAX_RECONCILE_ROUNDS; round++) {
    // The clock first, then the listing, then the row: an entry old enough at `listedAt` was
    // old enough when the row was read (docs/PROTOCOL.md 9.3).
    const listedAt = ctx.wallClock();
    const versions = await listVersions(ctx, objectKey);
    const rowPin = livePin(await read(), parsed.part);
    const latest = versions.find(v => v.isLatest);
    const finish = (nothingDone: ReconcileOutcome): ReconcileOutcome => done ?? nothingDone;
    const young = (v: ListedVersion) => v.lastModified === undefined || listedAt - v.lastModified.getTime() < settleMs;

    if (rowPin) {
      if (!versions.some(v => !v.isDeleteMarker && v.versionId === rowPin.versionId)) {
        // Put after the listing (a commit between listing and read): list again. Pinned by the
        // row a round ago and still absent: the pinned version is gone.
        if (previousPin === rowPin.versionId) {
          ctx.log({ level: 'error', msg: 'the row pins a version S3 does not have: a dangling pointer', objectKey, versionId: rowPin.versionId });
          return finish('dangling');
        }
        previousPin = rowPin.versionId;
        continue;
      }
      previousPin = rowPin.versionId;
      if (latest === undefined || latest.versionId === rowPin.versionId) {
        return finish(versionId === rowPin.versionId ? 'pinned' : 'noncurrent');
      }
      // The pin is in the listing and is not its newest entry: `latest` is above the pin.
      if (latest.isDeleteMarker) {
        await deleteVersion(ctx, objectKey, latest.versionId);
        ctx.log({ level: 'info', msg: 'reconciler removed a delete marker that hid the pinned version', objectKey, markerVersionId: latest.versionId });
        done ??= 'uncovered';
        continue;
      }
      if (young(latest)) return finish('in-flight');
      await deleteVersion(ctx, objectKey, latest.versionId);
      ctx.log({ level: 'info', msg: 'reconciler deleted a never-committed version above the pinned one', objectKey, versionId: latest.versionId });
      done = 'deleted-unpinned';
      continue;
    }

    // No live row pins the part: the current version, if any, may have been committed (a
    // removed part whose retirement failed, a commit that landed and was superseded by a
    // delete). It is hidden under a delete marker, never deleted.
    if (latest === undefined || latest.isDeleteMarker) return finish('retired');
    if (young(latest)) return finish('in-flight');
    await placeMarker(ctx, objectKey);
    ctx.log({ level: 'info', msg: 'reconciler placed a delete marker on a current version no row pins', objectKey, versionId: latest.versionId });
    return 'retired-orphan';
  }
  ctx.log({ level: 'warn', msg: `reconciler stopped after ${MAX_RECONCILE_ROUNDS} rounds on one key; later events continue`, objectKey });
  return done ?? 'in-flight';
}

/** The pin of `part` in a live row, if any: tombstones and missing rows pin nothing. */
function livePin(state: RowState, part: string): PartPin | undefined {
  return state.kind === 'live' ? pinOf(state.row, part) : undefined;
}

/** The VersionId of the current version of a key; undefined when none (no object, or a delete marker). */
async function headCurrent(ctx: ReconcilerContext, objectKey: string): Promise<string | undefined> {
  try {
    const out = await send<{ VersionId?: string }>(ctx.s3, 'HeadObject', () => new HeadObjectCommand({
      Bucket: ctx.config.bucketName,
      Key: objectKey,
    }), { timeoutMs: ctx.s3TimeoutMs, attempts: REQUEST_ATTEMPTS, retryDelayMs: ctx.retryDelayMs });
    return out?.VersionId;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw unavailable(ctx, 'S3 HeadObject', e);
  }
}

/**
 * Every version and delete marker of exactly `objectKey` (the prefix also matches longer
 * keys, which are skipped), following the listing's pages while they are still on this key.
 */
export async function listVersions(ctx: ReconcilerContext, objectKey: string): Promise<ListedVersion[]> {
  const entries: ListedVersion[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    let out: {
      Versions?: Array<{ Key?: string; VersionId?: string; IsLatest?: boolean; LastModified?: Date }>;
      DeleteMarkers?: Array<{ Key?: string; VersionId?: string; IsLatest?: boolean; LastModified?: Date }>;
      IsTruncated?: boolean;
      NextKeyMarker?: string;
      NextVersionIdMarker?: string;
    };
    try {
      out = await send(ctx.s3, 'ListObjectVersions', () => new ListObjectVersionsCommand({
        Bucket: ctx.config.bucketName,
        Prefix: objectKey,
        KeyMarker: keyMarker,
        VersionIdMarker: versionIdMarker,
      }), { timeoutMs: ctx.s3TimeoutMs, attempts: REQUEST_ATTEMPTS, retryDelayMs: ctx.retryDelayMs });
    } catch (e) {
      throw unavailable(ctx, 'S3 ListObjectVersions', e);
    }
    for (const [list, isDeleteMarker] of [[out?.Versions, false], [out?.DeleteMarkers, true]] as const) {
      for (const v of list ?? []) {
        if (v.Key !== objectKey || !v.VersionId) continue;
        entries.push({ versionId: v.VersionId, isDeleteMarker, isLatest: v.IsLatest === true, lastModified: v.LastModified });
      }
    }
    if (!out?.IsTruncated || out.NextKeyMarker !== objectKey) return entries;
    keyMarker = out.NextKeyMarker;
    versionIdMarker = out.NextVersionIdMarker;
  }
}

async function deleteVersion(ctx: ReconcilerContext, objectKey: string, versionId: string): Promise<void> {
  try {
    await deleteById(ctx, objectKey, versionId);
  } catch (e) {
    throw unavailable(ctx, 'S3 DeleteObject (by VersionId)', e);
  }
}

async function placeMarker(ctx: ReconcilerContext, objectKey: string): Promise<void> {
  try {
    await send(ctx.s3, 'DeleteObject', () => new DeleteObjectCommand({ Bucket: ctx.config.bucketName, Key: objectKey }),
      { timeoutMs: ctx.s3TimeoutMs, attempts: REQUEST_ATTEMPTS, retryDelayMs: ctx.retryDelayMs });
  } catch (e) {
    throw unavailable(ctx, 'S3 DeleteObject (delete marker)', e);
  }
}

function unavailable(ctx: ReconcilerContext, what: string, e: unknown): StoreError {
  if (e instanceof StoreError) return e;
  ctx.log({ level: 'warn', msg: `${what} failed during reconcile`, error: describeCause(e) });
  return new UnavailableError(`${what} failed (${errorNameOf(e)}); the event is retried`);
}
