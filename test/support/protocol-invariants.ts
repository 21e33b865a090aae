/**
 * Checks of the protocol's invariants I1-I5 (docs/PROTOCOL.md) after a scenario, with direct
 * SDK calls, for the scenario tests of protocol v2 (test/e2e/protocol-*.e2e.test.ts).
 *
 * - {@link CommitLog} records, from the DynamoDB fault proxy, every commit DynamoDB really
 *   applied (upstream 200), lost replies included: the history the checks judge.
 * - Writes in the scenarios tag their row and parts with a write id (`w`), so a commit, a
 *   part version and a caller's answer can be matched: {@link taggedParts}, {@link tagged}.
 * - {@link checkInvariants} asserts I1-I5 for one item (I5 after {@link runReconciler}).
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { FaultProxy, ProxiedRequest } from './fault-proxy';
import { VersionedS3Server } from './versioned-s3-server';
import { decodeState, Item } from '../../src/runtime/codec';
import type { StoreConfig } from '../../src/runtime/config';
import { partKey } from '../../src/runtime/keys';
import { SplitStoreClient } from '../../src/runtime/store';
import type { IndexRow, ItemKey, PartInput } from '../../src/runtime/types';

/** A commit DynamoDB applied, as seen by the proxy. */
export interface AppliedCommit {
  /** The item's `id`. */
  readonly id: string;
  readonly revision: number;
  readonly token: string;
  /** What the commit was conditioned on. */
  readonly condition: { readonly kind: 'absent' } | { readonly kind: 'token'; readonly token: string } | { readonly kind: 'v1'; readonly revision: number };
  /** The state it committed (the Item of a PutItem, ALL_NEW of an UpdateItem). */
  readonly item: Item;
  /** The write id tag of the state (`w`), if any; undefined for a tombstone. */
  readonly writeId?: string;
  /** The state is a tombstone. */
  readonly tombstone: boolean;
  /** Proxy ordinal of the request. */
  readonly ordinal: number;
}

/** Records every commit DynamoDB applied behind the proxy. */
export class CommitLog {
  public readonly applied: AppliedCommit[] = [];
  private readonly detach: () => void;

  constructor(proxy: FaultProxy) {
    this.detach = proxy.onExchange(({ request, entry, upstreamBody }) => {
      if (request.operation !== 'PutItem' && request.operation !== 'UpdateItem') return;
      if (entry.upstreamStatus !== 200) return;
      const body = request.json as Record<string, any>;
      const values = (body.ExpressionAttributeValues ?? {}) as Item;
      let item: Item;
      if (request.operation === 'PutItem') {
        item = body.Item;
      } else {
        item = JSON.parse(upstreamBody?.toString('utf8') || '{}').Attributes ?? {};
      }
      if (!item._tok) return; // not a protocol v2 commit (a test's own direct write)
      const condition: AppliedCommit['condition'] = values[':state_tok']
        ? { kind: 'token', token: values[':state_tok'].S! }
        : values[':state_rev'] ? { kind: 'v1', revision: Number(values[':state_rev'].N) } : { kind: 'absent' };
      this.applied.push({
        id: item.id.S!,
        revision: Number(item._rev.N),
        token: item._tok.S!,
        condition,
        item,
        writeId: item.w?.S,
        tombstone: item._del?.BOOL === true,
        ordinal: entry.ordinal,
      });
    });
  }

  /** The applied commits of one item, by revision. */
  public of(id: string): AppliedCommit[] {
    return this.applied.filter(c => c.id === id).sort((a, b) => a.revision - b.revision);
  }

  public stop(): void {
    this.detach();
  }
}

/** Is this proxied request a commit (PutItem or UpdateItem) of the item `id`? */
export function isCommitOf(request: ProxiedRequest, id: string): boolean {
  if (request.operation !== 'PutItem' && request.operation !== 'UpdateItem') return false;
  const body = request.json as Record<string, any> | undefined;
  return (body?.Item?.id?.S ?? body?.Key?.id?.S) === id;
}

/** Is this proxied request a commit carrying the write id `writeId`? */
export function isCommitTagged(request: ProxiedRequest, writeId: string): boolean {
  if (request.operation !== 'PutItem' && request.operation !== 'UpdateItem') return false;
  const body = request.json as Record<string, any> | undefined;
  return body?.Item?.w?.S === writeId || Object.values(body?.ExpressionAttributeValues ?? {}).some((v: any) => v?.S === writeId);
}

/** Part bodies tagged with the write id: `{"w":"<writeId>","p":"<part>"}`. */
export function taggedParts(writeId: string, names: readonly string[]): Record<string, PartInput> {
  return Object.fromEntries(names.map(p => [p, { body: JSON.stringify({ w: writeId, p }) }]));
}

/** Attributes tagged with the write id, and which write wrote each named part (`w_<part>`). */
export function tagged(writeId: string, names: readonly string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...extra, w: writeId, ...Object.fromEntries(names.map(p => [`w_${p}`, writeId])) };
}

/** What the scenario's caller got for one write. */
export interface WriteOutcome {
  readonly writeId: string;
  /** The HTTP status (200, 201, 404, 409, 503). */
  readonly status: number;
  /** The row a 2xx put or updateParts answered. */
  readonly row?: IndexRow;
  /** A delete: its commit is a tombstone, recognised by the state it replaced. */
  readonly isDelete?: boolean;
}

/** Runs a store call and turns its result or error into a {@link WriteOutcome}. */
export async function outcome(writeId: string, call: () => Promise<IndexRow | undefined>, isDelete = false): Promise<WriteOutcome> {
  try {
    const row = await call();
    const created = (row as { created?: boolean } | undefined)?.created;
    return { writeId, status: created ? 201 : 200, row, isDelete };
  } catch (e) {
    const status = (e as { statusCode?: number }).statusCode;
    if (status === undefined) throw e;
    return { writeId, status, isDelete };
  }
}

/** What the checks need. */
export interface InvariantContext {
  readonly config: StoreConfig;
  /** Direct clients (no proxy, no faults). */
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  readonly s3server: VersionedS3Server;
  readonly commits: CommitLog;
}

/** One entry of a key's version list, newest first. */
export interface Listed {
  readonly versionId: string;
  readonly isDeleteMarker: boolean;
  readonly isLatest: boolean;
}

export async function listKey(ctx: InvariantContext, key: string): Promise<Listed[]> {
  const out = await ctx.s3.send(new ListObjectVersionsCommand({ Bucket: ctx.config.bucketName, Prefix: key }));
  const entry = (isDeleteMarker: boolean) => (v: { VersionId?: string; IsLatest?: boolean }): Listed =>
    ({ versionId: v.VersionId!, isDeleteMarker, isLatest: v.IsLatest === true });
  return [
    ...(out.Versions ?? []).filter(v => v.Key === key).map(entry(false)),
    ...(out.DeleteMarkers ?? []).filter(v => v.Key === key).map(entry(true)),
  ];
}

/** The item's row as DynamoDB holds it now (consistent read), decoded. */
export async function currentState(ctx: InvariantContext, id: string) {
  const out = await ctx.dynamodb.send(new GetItemCommand({ TableName: ctx.config.tableName, Key: { id: { S: id } }, ConsistentRead: true }));
  return { item: out.Item, state: decodeState(ctx.config, out.Item) };
}

/** A put or delete S3 reported for a part key: what an S3 event notification carries. */
interface PartEvent {
  readonly key: string;
  readonly versionId: string;
}

/**
 * Replays an S3 event for every version and delete marker the run created or deleted under
 * the items' part keys, through the reconciler, with a clock past every writer's deadline
 * (as the queue's delay guarantees), until no new event appears. On the versioned test
 * server the events come from its request log (deletes by version id included); on another
 * S3 server (moto) from its version listing: every version and delete marker, oldest first.
 */
export async function runReconciler(
  ctx: Pick<InvariantContext, 'config' | 'dynamodb' | 's3'> & { readonly s3server?: VersionedS3Server },
  keys: ItemKey[],
  parts: readonly string[],
): Promise<string[]> {
  const reconciler = new SplitStoreClient({
    config: ctx.config,
    dynamodb: ctx.dynamodb,
    s3: ctx.s3,
    wallClock: () => Date.now() + 3_600_000,
    log: () => undefined,
  });
  const objectKeys = new Set(keys.flatMap(key => parts.map(p => partKey(ctx.config, key, p))));
  const outcomes: string[] = [];
  const delivered = new Set<string>();
  let seen = 0;
  const newEvents = async (): Promise<PartEvent[]> => {
    if (ctx.s3server) {
      const log = ctx.s3server.log;
      const events = log.slice(seen).filter(e =>
        (e.operation === 'PutObject' || e.operation === 'DeleteObject') && e.status !== undefined && e.status < 300
        && e.key !== undefined && objectKeys.has(e.key) && e.versionId !== undefined);
      seen = log.length;
      return events.map(e => ({ key: e.key!, versionId: e.versionId! }));
    }
    const listed = await listAllVersions(ctx, [...objectKeys]);
    const fresh = listed.filter(e => !delivered.has(`${e.key}@${e.versionId}`));
    fresh.forEach(e => delivered.add(`${e.key}@${e.versionId}`));
    return fresh;
  };
  for (let round = 0; round < 20; round++) {
    const events = await newEvents();
    if (events.length === 0) return outcomes;
    for (const event of events) outcomes.push(await reconciler.reconcile(event.key, event.versionId));
  }
  throw new Error('the reconciler did not settle in 20 rounds of events');
}

/** Every version and delete marker of the keys, oldest first. */
async function listAllVersions(ctx: Pick<InvariantContext, 'config' | 's3'>, keys: string[]): Promise<PartEvent[]> {
  const all: Array<PartEvent & { readonly at: number }> = [];
  for (const key of keys) {
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    do {
      const out = await ctx.s3.send(new ListObjectVersionsCommand({
        Bucket: ctx.config.bucketName, Prefix: key, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker,
      }));
      for (const v of [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])]) {
        if (v.Key === key && v.VersionId) all.push({ key, versionId: v.VersionId, at: v.LastModified?.getTime() ?? 0 });
      }
      keyMarker = out.IsTruncated ? out.NextKeyMarker : undefined;
      versionIdMarker = out.IsTruncated ? out.NextVersionIdMarker : undefined;
    } while (keyMarker !== undefined);
  }
  return all.sort((a, b) => a.at - b.at).map(({ key, versionId }) => ({ key, versionId }));
}

/** Every version any applied commit pinned, per part key. */
function pinnedByCommits(ctx: InvariantContext, id: string): Array<{ key: string; versionId: string; revision: number }> {
  const pins: Array<{ key: string; versionId: string; revision: number }> = [];
  for (const commit of ctx.commits.of(id)) {
    if (commit.tombstone) continue;
    const state = decodeState(ctx.config, commit.item);
    if (state.kind !== 'live') continue;
    for (const [part, pin] of Object.entries(state.row.parts)) {
      pins.push({ key: partKey(ctx.config, { id }, part), versionId: pin.versionId, revision: commit.revision });
    }
  }
  return pins;
}

/** I2: every version any applied commit pinned still exists. */
export async function checkNothingCommittedDestroyed(ctx: InvariantContext, id: string): Promise<void> {
  for (const pin of pinnedByCommits(ctx, id)) {
    const versions = await listKey(ctx, pin.key);
    const exists = versions.some(v => !v.isDeleteMarker && v.versionId === pin.versionId);
    if (!exists) throw new Error(`I2 violated: ${pin.key} version ${pin.versionId}, pinned by a committed state, no longer exists`);
  }
}

/**
 * I4: the applied commits of the item form one chain: no revision twice, and each commit's
 * condition names the state right before it (the token of the commit one revision below,
 * absence for revision 1, a v1 row one revision below).
 */
export function checkNoLostUpdate(ctx: InvariantContext, id: string): void {
  const commits = ctx.commits.of(id);
  const byRevision = new Map<number, AppliedCommit>();
  for (const commit of commits) {
    if (byRevision.has(commit.revision)) throw new Error(`I4 violated: two commits of ${id} at revision ${commit.revision}`);
    byRevision.set(commit.revision, commit);
  }
  for (const commit of commits) {
    const before = byRevision.get(commit.revision - 1);
    if (commit.condition.kind === 'absent' && commit.revision !== 1) {
      throw new Error(`I4 violated: a commit conditioned on absence wrote revision ${commit.revision}`);
    }
    if (commit.condition.kind === 'token' && before && before.token !== commit.condition.token) {
      throw new Error(`I4 violated: revision ${commit.revision} was conditioned on a state other than revision ${commit.revision - 1}`);
    }
    if (commit.condition.kind === 'v1' && commit.condition.revision !== commit.revision - 1) {
      throw new Error(`I4 violated: revision ${commit.revision} over a v1 row at ${commit.condition.revision}`);
    }
  }
}

/**
 * I3: a 2xx means the write's commit was applied (and its pins exist: I2); a 409 means it
 * was not, and none of its part versions is current; a 503 may be either.
 */
export async function checkAnswersTrue(
  ctx: InvariantContext,
  id: string,
  parts: readonly string[],
  outcomes: readonly WriteOutcome[],
): Promise<void> {
  const commits = ctx.commits.of(id);
  for (const o of outcomes) {
    const applied = o.isDelete
      ? commits.some(c => c.tombstone && o.row !== undefined && c.revision === o.row.revision + 1)
      : commits.some(c => c.writeId === o.writeId);
    if (o.status >= 200 && o.status < 300 && !applied) throw new Error(`I3 violated: ${o.writeId} answered ${o.status} but its commit was never applied`);
    if (o.status === 409) {
      if (applied) throw new Error(`I3 violated: ${o.writeId} answered 409 but its commit was applied`);
      for (const part of parts) {
        const key = partKey(ctx.config, { id }, part);
        const latest = ctx.s3server.versionsOf(ctx.config.bucketName, key)[0];
        if (latest && !latest.isDeleteMarker && JSON.parse(latest.body.toString('utf8')).w === o.writeId) {
          throw new Error(`I3 violated: ${o.writeId} answered 409 but its version of ${part} is current`);
        }
      }
    }
  }
}

/**
 * I1: a read serves, for every part, the bytes the write that set the row's `w_<part>` wrote,
 * and no dangling pointer.
 */
export async function checkNoTornRead(reader: SplitStoreClient, id: string): Promise<IndexRow | undefined> {
  let row: IndexRow | undefined;
  try {
    for await (const event of reader.get({ key: { id } })) {
      if (event.type === 'index') {
        row = event.row;
      } else if (event.type === 'part') {
        const body = JSON.parse(Buffer.from(event.body).toString('utf8'));
        if (body.p !== event.name || body.w !== row!.attributes[`w_${event.name}`]) {
          throw new Error(`I1 violated: part ${event.name} of ${id} served from write ${body.w}, the row says ${String(row!.attributes[`w_${event.name}`])}`);
        }
      } else {
        throw new Error(`I1 violated: part ${event.name} of ${id} not served: ${event.code} ${event.message}`);
      }
    }
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return undefined;
    throw e;
  }
  return row;
}

/** I5: every pinned version is current, and no unpinned version is current. */
export async function checkAtRest(ctx: InvariantContext, id: string, parts: readonly string[]): Promise<void> {
  const { state } = await currentState(ctx, id);
  for (const part of parts) {
    const key = partKey(ctx.config, { id }, part);
    const latest = (await listKey(ctx, key)).find(v => v.isLatest);
    const pin = state.kind === 'live' ? state.row.parts[part] : undefined;
    if (pin) {
      if (latest?.versionId !== pin.versionId) {
        throw new Error(`I5 violated: ${key} pins ${pin.versionId} but ${latest?.isDeleteMarker ? 'a delete marker' : latest?.versionId} is current`);
      }
    } else if (latest && !latest.isDeleteMarker) {
      throw new Error(`I5 violated: ${key} is not pinned but version ${latest.versionId} is current`);
    }
  }
}

/** I1 to I5 for one item: I1-I4 now, then the reconciler over every event, then I2 again and I5. */
export async function checkInvariants(
  ctx: InvariantContext,
  reader: SplitStoreClient,
  id: string,
  parts: readonly string[],
  outcomes: readonly WriteOutcome[],
): Promise<string[]> {
  await checkNoTornRead(reader, id);
  await checkNothingCommittedDestroyed(ctx, id);
  await checkAnswersTrue(ctx, id, parts, outcomes);
  checkNoLostUpdate(ctx, id);
  const reconciled = await runReconciler(ctx, [{ id }], parts);
  await checkNothingCommittedDestroyed(ctx, id);
  await checkAtRest(ctx, id, parts);
  await checkNoTornRead(reader, id);
  return reconciled;
}

/**
 * A client whose `send` goes through `intercept(command, next)`: a scenario holds a request
 * (before or after it reaches the network) until another writer has done its part, so
 * interleavings are fixed by the test, not by timing. Only `send` is wrapped.
 */
export function interceptSend<C extends { send(...args: any[]): Promise<any> }>(
  client: C,
  intercept: (command: { constructor: { name: string }; input: any }, next: () => Promise<any>) => Promise<any>,
): C {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return (command: any, options?: unknown) => intercept(command, () => target.send(command, options));
    },
  });
}

/** A promise with its resolve function, to sequence two writers. */
export function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>(r => { resolve = r; });
  return { promise, resolve };
}
