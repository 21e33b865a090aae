/**
 * Protocol v2 under the faults that broke v1, on DynamoDB Local and the versioned S3 test
 * server, through the fault proxy (docs/PROTOCOL.md; each scenario of the project's issue):
 *
 * 1. a lost reply on the commit (applied, then 500 / reset / no answer) in every write mode,
 *    with the SDK clients' default retries on (the store must not let them resend a commit);
 * 2. an ambiguous commit racing a second writer;
 * 3. delete and re-create while a writer holding the old state is in flight;
 * 4. a failed retirement, then the reconciler;
 * 5. a v1 row read, updated, deleted by v2.
 *
 * Every scenario ends with the checks of I1-I5 (test/support/protocol-invariants.ts) against
 * the history of commits DynamoDB really applied, recorded by the proxy. Interleavings are
 * fixed by holding one writer's request until the other has done its part, never by timing.
 */
import { DynamoDBClient, PutItemCommand, UpdateItemCommand, GetItemCommand, DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { encodePins } from '../../src/runtime/codec';
import { partKey } from '../../src/runtime/keys';
import { LogEntry, SplitStoreClient, SplitStoreClientOptions } from '../../src/runtime/store';
import type { IndexRow } from '../../src/runtime/types';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../support/dynamodb-local';
import { FaultKind, FaultProxy } from '../support/fault-proxy';
import { startLocalStore, VersionedLocalStore } from '../support/local-store';
import {
  checkAtRest, checkInvariants, CommitLog, currentState, interceptSend, InvariantContext, isCommitOf, isCommitTagged, listKey,
  outcome, signal, tagged, taggedParts, WriteOutcome,
} from '../support/protocol-invariants';

let local: VersionedLocalStore;
let ddbProxy: FaultProxy;
let s3Proxy: FaultProxy;
let commits: CommitLog;
let ctx: InvariantContext;
/** SDK clients through the proxies, with the SDK's default retries (as an application has them). */
let proxied: { dynamodb: DynamoDBClient; s3: S3Client };
/** A reader on direct clients, for the checks. */
let reader: SplitStoreClient;
let logs: LogEntry[];
let counter = 0;

beforeAll(async () => {
  local = await startLocalStore({ namePrefix: 'protov2' });
  ddbProxy = await FaultProxy.start({ target: local.ddb.endpoint, service: 'dynamodb' });
  s3Proxy = await FaultProxy.start({ target: local.s3server.endpoint, service: 's3' });
  const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  proxied = {
    dynamodb: new DynamoDBClient({ ...common, endpoint: ddbProxy.endpoint }),
    s3: new S3Client({ ...common, endpoint: s3Proxy.endpoint, forcePathStyle: true }),
  };
  commits = new CommitLog(ddbProxy);
  ctx = { config: local.config, dynamodb: local.dynamodb, s3: local.s3, s3server: local.s3server, commits };
  reader = new SplitStoreClient({ config: local.config, dynamodb: local.dynamodb, s3: local.s3, log: () => undefined });
});

beforeEach(() => {
  logs = [];
});

afterEach(() => {
  ddbProxy.clearRules();
  s3Proxy.clearRules();
});

afterAll(async () => {
  commits?.stop();
  proxied?.dynamodb.destroy();
  proxied?.s3.destroy();
  await Promise.all([ddbProxy?.stop(), s3Proxy?.stop()]);
  await local?.stop();
});

/** A store client through the proxies. */
function store(options: Partial<SplitStoreClientOptions> = {}): SplitStoreClient {
  return new SplitStoreClient({ config: local.config, ...proxied, log: entry => logs.push(entry), retryDelayMs: 5, ...options });
}

function newId(name: string): string {
  return `${name}-${++counter}`;
}

/** Creates the item at revision 1 with parts a and b, written by `w0-<id>`. */
async function base(id: string): Promise<IndexRow> {
  const w = `w0-${id}`;
  return store().put({ key: { id }, attributes: tagged(w, ['a', 'b']), parts: taggedParts(w, ['a', 'b']), create: true });
}

/** Writes the item as protocol v1 wrote it (no `_proto`, no `_tok`), at revision 3, with parts a and b. */
async function baseV1(id: string): Promise<void> {
  const w = `w0-${id}`;
  const pins: Record<string, { versionId: string; etag: string; size: number; contentType: string }> = {};
  for (const [name, input] of Object.entries(taggedParts(w, ['a', 'b']))) {
    const body = input.body as string;
    const out = await local.s3.send(new PutObjectCommand({
      Bucket: local.config.bucketName, Key: partKey(local.config, { id }, name), Body: body, ContentType: 'application/json',
    }));
    pins[name] = { versionId: out.VersionId!, etag: out.ETag!, size: Buffer.byteLength(body), contentType: 'application/json' };
  }
  await local.dynamodb.send(new PutItemCommand({
    TableName: local.config.tableName,
    Item: {
      id: { S: id },
      w: { S: w },
      w_a: { S: w },
      w_b: { S: w },
      _rev: { N: '3' },
      _parts: encodePins(pins),
    },
  }));
}

/** The commit requests (PutItem, UpdateItem) the DynamoDB proxy received for the item. */
function commitRequests(id: string): () => number {
  let n = 0;
  ddbProxy.onExchange(({ request }) => {
    if (isCommitOf(request, id)) n++;
  });
  return () => n;
}

const failedAttempts = () => logs.filter(l => l.msg === 'commit attempt failed');

describe('1. a lost reply on the commit, in every write mode: the protocol resends the same commit and sees its own token', () => {
  interface Mode {
    readonly name: string;
    readonly setup: (id: string) => Promise<unknown>;
    readonly write: (s: SplitStoreClient, id: string, w: string) => Promise<IndexRow>;
    readonly status: number;
    readonly revision: number;
    readonly isDelete?: boolean;
  }
  const modes: Mode[] = [
    {
      name: 'PUT create',
      setup: async () => undefined,
      write: (s, id, w) => s.put({ key: { id }, attributes: tagged(w, ['a', 'b']), parts: taggedParts(w, ['a', 'b']), create: true }),
      status: 201,
      revision: 1,
    },
    {
      name: 'PUT expectedRevision (part b removed)',
      setup: base,
      write: (s, id, w) => s.put({ key: { id }, attributes: tagged(w, ['a']), parts: taggedParts(w, ['a']), expectedRevision: 1 }),
      status: 200,
      revision: 2,
    },
    {
      name: 'PUT unconditional',
      setup: base,
      write: (s, id, w) => s.put({ key: { id }, attributes: tagged(w, ['a', 'b']), parts: taggedParts(w, ['a', 'b']) }),
      status: 200,
      revision: 2,
    },
    {
      name: 'PATCH (updateParts: a written, b removed)',
      setup: base,
      write: (s, id, w) => s.updateParts({ key: { id }, attributes: tagged(w, ['a']), parts: taggedParts(w, ['a']), removeParts: ['b'] }),
      status: 200,
      revision: 2,
    },
    {
      name: 'DELETE',
      setup: base,
      write: (s, id) => s.delete({ key: { id } }),
      status: 200,
      revision: 1,
      isDelete: true,
    },
    {
      name: 'PUT unconditional over a v1 row',
      setup: baseV1,
      write: (s, id, w) => s.put({ key: { id }, attributes: tagged(w, ['a', 'b']), parts: taggedParts(w, ['a', 'b']) }),
      status: 200,
      revision: 4,
    },
  ];
  const faults: FaultKind[] = ['applyThen500', 'applyThenReset', 'applyThenHang'];
  const cases = modes.flatMap(mode => faults.map(fault => [mode.name, fault, mode] as const));

  test.each(cases)('%s, commit %s: the answer is the truth, nothing committed is lost, I1-I5 hold', async (_name, fault, mode) => {
    const id = newId('lost');
    await mode.setup(id);
    const w = `A-${id}`;
    const rule = ddbProxy.addRule({ fault, when: r => isCommitOf(r, id), count: 1 });
    const requests = commitRequests(id);
    // A short per-attempt timeout so that an attempt with no answer is abandoned soon.
    const result = await outcome(w, () => mode.write(store({ dynamodbTimeoutMs: 3_000 }), id, w), mode.isDelete);

    expect(rule.fired).toBe(1);
    expect(result.status).toBe(mode.status);
    expect(result.row?.revision).toBe(mode.revision);
    // DynamoDB applied exactly one commit of this write ...
    const applied = commits.of(id).filter(c => (mode.isDelete ? c.tombstone : c.writeId === w));
    expect(applied).toHaveLength(1);
    // ... and saw one request per attempt the store made: the one whose answer was lost, the
    // protocol's own resend (whose failed condition returned our token), nothing from the
    // SDK's retries, which are on in these clients.
    expect(failedAttempts()[0]).toMatchObject({ attempt: 1, result: 'ambiguous', verdict: 'resend' });
    expect(failedAttempts().every(l => l.result === 'ambiguous')).toBe(true);
    expect(requests()).toBe(failedAttempts().length + 1);

    await checkInvariants(ctx, reader, id, ['a', 'b'], [result]);
    const { state } = await currentState(ctx, id);
    expect(state.kind).toBe(mode.isDelete ? 'tombstone' : 'live');
  });
});

describe('2. an ambiguous commit racing a second writer', () => {
  /**
   * A DynamoDB client for writer A whose first commit attempt, once it has reached the
   * proxy (and been answered, or failed, there), is held until writer B has put the whole
   * item unconditionally. B's outcome lands in `race.b`.
   */
  function afterFirstCommit(id: string, b: string): { dynamodb: DynamoDBClient; b?: WriteOutcome } {
    const race: { dynamodb: DynamoDBClient; b?: WriteOutcome } = { dynamodb: proxied.dynamodb };
    let held = false;
    race.dynamodb = interceptSend(proxied.dynamodb, async (command, next) => {
      if (!(command instanceof PutItemCommand || command instanceof UpdateItemCommand) || held) return next();
      held = true;
      try {
        return await next();
      } finally {
        race.b = await outcome(b, () => store().put({ key: { id }, attributes: tagged(b, ['a', 'b']), parts: taggedParts(b, ['a', 'b']) }));
      }
    });
    return race;
  }

  test('A\'s commit lands but its answer is lost; B commits next, replacing part a; A answers 503 CommitOutcomeUnknown and destroys nothing', async () => {
    const id = newId('race');
    await base(id);
    const a = `A-${id}`;
    const b = `B-${id}`;
    ddbProxy.addRule({ fault: 'applyThen500', when: r => isCommitTagged(r, a), count: 1 });
    // A's commit is applied (revision 2) and its answer is lost: B writes now, reads A's
    // revision, and replaces part a (revision 3).
    const race = afterFirstCommit(id, b);
    const aResult = await outcome(a, () => store({ dynamodb: race.dynamodb, dynamodbTimeoutMs: 20_000 }).updateParts({
      key: { id }, attributes: tagged(a, ['a']), parts: taggedParts(a, ['a']),
    }));
    const bResult = race.b;

    expect(bResult).toMatchObject({ status: 200, row: { revision: 3 } });
    expect(aResult.status).toBe(503);
    expect(logs).toContainEqual(expect.objectContaining({ level: 'error', msg: expect.stringMatching(/^commit outcome unknown/) }));
    // A's revision 2 was committed: the version of part a it pinned is kept (noncurrent under B's).
    const aCommit = commits.of(id).find(c => c.writeId === a)!;
    expect(aCommit.revision).toBe(2);
    await checkInvariants(ctx, reader, id, ['a', 'b'], [aResult, bResult!]);
    const aVersion = aCommit.item._parts.M!.a.M!.v.S!;
    expect((await listKey(ctx, partKey(local.config, { id }, 'a'))).map(v => v.versionId)).toContain(aVersion);
  });

  test('A\'s commit is lost before DynamoDB applies it; B commits next: A proves it never landed, removes its versions, answers 409', async () => {
    const id = newId('race-lost');
    await base(id);
    const a = `A-${id}`;
    const b = `B-${id}`;
    ddbProxy.addRule({ fault: 'failBeforeApply', when: r => isCommitTagged(r, a), count: 1 });
    const race = afterFirstCommit(id, b);
    const aResult = await outcome(a, () => store({ dynamodb: race.dynamodb, dynamodbTimeoutMs: 20_000 }).put({
      key: { id }, attributes: tagged(a, ['a', 'b']), parts: taggedParts(a, ['a', 'b']), expectedRevision: 1,
    }));
    const bResult = race.b;

    expect(bResult).toMatchObject({ status: 200, row: { revision: 2 } });
    expect(aResult.status).toBe(409);
    // A's versions were never committed: deleted by VersionId, none left behind.
    for (const part of ['a', 'b']) {
      const versions = local.s3server.versionsOf(local.config.bucketName, partKey(local.config, { id }, part));
      expect(versions.filter(v => !v.isDeleteMarker && JSON.parse(v.body.toString('utf8')).w === a)).toEqual([]);
    }
    await checkInvariants(ctx, reader, id, ['a', 'b'], [aResult, bResult!]);
  });

  test('A\'s commit lands and no answer ever comes; B commits while A waits: A answers 2xx or 503 by the order the proxy saw, never destroys', async () => {
    const id = newId('race-hang');
    await base(id);
    const a = `A-${id}`;
    const b = `B-${id}`;
    ddbProxy.addRule({ fault: 'applyThenHang', when: r => isCommitTagged(r, a), count: 1 });
    // B writes as soon as A's revision 2 is in the table (explicit synchronisation on the row).
    const bDone = (async () => {
      for (;;) {
        const { state } = await currentState(ctx, id);
        if (state.kind === 'live' && state.row.attributes.w === a) break;
        await new Promise(r => setTimeout(r, 20));
      }
      return outcome(b, () => store().put({ key: { id }, attributes: tagged(b, ['a', 'b']), parts: taggedParts(b, ['a', 'b']) }));
    })();
    const aResult = await outcome(a, () => store({ dynamodbTimeoutMs: 5_000 }).updateParts({
      key: { id }, attributes: tagged(a, ['a']), parts: taggedParts(a, ['a']),
    }));
    const bResult = await bDone;

    expect(bResult.status).toBe(200);
    const aCommit = commits.of(id).find(c => c.writeId === a)!;
    const bCommit = commits.of(id).find(c => c.writeId === b)!;
    expect([aCommit.revision, bCommit.revision]).toEqual([2, 3]);
    // Which reached DynamoDB first: B's commit, or A's resend (sent once A gave up on its attempt)?
    const aResend = ddbProxy.log.find(e => e.operation === 'UpdateItem' && e.ordinal > aCommit.ordinal)!;
    // B first: A's resend finds B's state two revisions past its own: unknown. A first: its own token.
    expect(aResult.status).toBe(bCommit.ordinal < aResend.ordinal ? 503 : 200);
    await checkInvariants(ctx, reader, id, ['a', 'b'], [aResult, bResult]);
  });
});

describe('3. delete and re-create while a writer is in flight', () => {
  /** Holds the writer's first commit until `meanwhile` has run. */
  function holdFirstCommit(meanwhile: () => Promise<void>): DynamoDBClient {
    let held = false;
    return interceptSend(proxied.dynamodb, async (command, next) => {
      if ((command instanceof PutItemCommand || command instanceof UpdateItemCommand) && !held) {
        held = true;
        await meanwhile();
      }
      return next();
    });
  }
  const deleteAndCreate = (id: string, b: string) => async () => {
    await store().delete({ key: { id } });
    await store().put({ key: { id }, attributes: tagged(b, ['a']), parts: taggedParts(b, ['a']), create: true });
  };

  test('PUT expectedRevision held across a delete and re-create: its commit fails, 409, the new item is intact', async () => {
    const id = newId('aba-put');
    await base(id);
    const a = `A-${id}`;
    const b = `B-${id}`;
    const aResult = await outcome(a, () => store({ dynamodb: holdFirstCommit(deleteAndCreate(id, b)) }).put({
      key: { id }, attributes: tagged(a, ['a', 'b']), parts: taggedParts(a, ['a', 'b']), expectedRevision: 1,
    }));
    expect(aResult.status).toBe(409);
    const { state } = await currentState(ctx, id);
    // The revision went on through the tombstone: 1 (base), 2 (tombstone), 3 (created again).
    expect(state).toMatchObject({ kind: 'live', revision: 3, row: { attributes: { w: b } } });
    await checkInvariants(ctx, reader, id, ['a', 'b'], [aResult]);
  });

  test('PATCH (updateParts, no expectedRevision) held across a delete and re-create: 409, never a write into the new generation', async () => {
    const id = newId('aba-patch');
    await base(id);
    const a = `A-${id}`;
    const b = `B-${id}`;
    const aResult = await outcome(a, () => store({ dynamodb: holdFirstCommit(deleteAndCreate(id, b)) }).updateParts({
      key: { id }, attributes: tagged(a, ['b']), parts: taggedParts(a, ['b']),
    }));
    expect(aResult.status).toBe(409);
    const { state } = await currentState(ctx, id);
    expect(state).toMatchObject({ kind: 'live', revision: 3, row: { attributes: { w: b } } });
    expect(state.kind === 'live' && Object.keys(state.row.parts)).toEqual(['a']);
    await checkInvariants(ctx, reader, id, ['a', 'b'], [aResult]);
  });

  test('PUT create held while another writer creates and deletes the item: 409 (it did not see that generation)', async () => {
    const id = newId('aba-create');
    const a = `A-${id}`;
    const b = `B-${id}`;
    const aResult = await outcome(a, () => store({
      dynamodb: holdFirstCommit(async () => {
        await store().put({ key: { id }, attributes: tagged(b, ['a']), parts: taggedParts(b, ['a']), create: true });
        await store().delete({ key: { id } });
      }),
    }).put({ key: { id }, attributes: tagged(a, ['a']), parts: taggedParts(a, ['a']), create: true }));
    expect(aResult.status).toBe(409);
    expect((await currentState(ctx, id)).state).toMatchObject({ kind: 'tombstone', revision: 2 });
    await checkInvariants(ctx, reader, id, ['a'], [aResult]);
  });

  test('an expectedRevision from before a delete and re-create can never match the new generation', async () => {
    const id = newId('aba-stale');
    await base(id);
    const b = `B-${id}`;
    await deleteAndCreate(id, b)();
    // v1 restarted revisions at 1, so this stale expectation matched the new item.
    const a = `A-${id}`;
    const aResult = await outcome(a, () => store().put({ key: { id }, attributes: tagged(a, ['a']), parts: taggedParts(a, ['a']), expectedRevision: 1 }));
    expect(aResult.status).toBe(409);
    // Refused on the state read, before any part was put.
    const versions = local.s3server.versionsOf(local.config.bucketName, partKey(local.config, { id }, 'a'));
    expect(versions.filter(v => !v.isDeleteMarker && JSON.parse(v.body.toString('utf8')).w === a)).toEqual([]);
    await checkInvariants(ctx, reader, id, ['a', 'b'], [aResult]);
  });
});

describe('4. a failed retirement, then the reconciler', () => {
  test('the delete marker on a removed part cannot be placed: the committed version stays current until the reconciler hides it (never deletes it)', async () => {
    const id = newId('retire');
    const row = await base(id);
    const bKey = partKey(local.config, { id }, 'b');
    const bVersion = row.parts.b.versionId;
    const rule = s3Proxy.addRule({ fault: 'failBeforeApply', operation: 'DeleteObject', when: r => r.key === bKey && r.versionId === undefined, count: 3 });
    const a = `A-${id}`;
    const aResult = await outcome(a, () => store().updateParts({ key: { id }, attributes: tagged(a, ['a']), parts: taggedParts(a, ['a']), removeParts: ['b'] }));
    expect(aResult.status).toBe(200);
    expect(rule.fired).toBe(3);
    expect((await listKey(ctx, bKey)).find(v => v.isLatest)).toMatchObject({ versionId: bVersion, isDeleteMarker: false });

    const reconciled = await checkInvariants(ctx, reader, id, ['a', 'b'], [aResult]);
    expect(reconciled).toContain('retired-orphan');
    // At rest the committed version is noncurrent under a marker, and still there for a restore.
    const versions = await listKey(ctx, bKey);
    expect(versions.find(v => v.isLatest)?.isDeleteMarker).toBe(true);
    expect(versions.some(v => v.versionId === bVersion && !v.isDeleteMarker)).toBe(true);
    expect(local.s3server.log.some(e => e.operation === 'DeleteObject' && e.key === bKey && e.versionId === bVersion)).toBe(false);
  });

  test('a retirement marker lands on a part re-added meanwhile and cannot be removed: the reconciler removes it', async () => {
    const id = newId('retire-race');
    await base(id);
    const bKey = partKey(local.config, { id }, 'b');
    const a = `A-${id}`;
    const b = `B-${id}`;
    const bPut = signal();
    const markerPlaced = signal();
    const bCommitted = signal();
    let bResult: Promise<WriteOutcome> | undefined;
    // B re-adds part b: its put goes before A's marker, its commit after.
    const writerB = store({
      s3: interceptSend(proxied.s3, async (command, next) => {
        const out = await next();
        if (command instanceof PutObjectCommand) bPut.resolve();
        return out;
      }),
      dynamodb: interceptSend(proxied.dynamodb, async (command, next) => {
        if (!(command instanceof UpdateItemCommand)) return next();
        await markerPlaced.promise;
        const out = await next();
        bCommitted.resolve();
        return out;
      }),
    });
    // A removes part b; its marker goes on top of B's version; its re-check reads B's row; the
    // removal of its marker fails.
    let aCommitted = false;
    const writerA = store({
      s3: interceptSend(proxied.s3, async (command, next) => {
        if (!(command instanceof DeleteObjectCommand) || command.input.VersionId !== undefined) return next();
        bResult = outcome(b, () => writerB.updateParts({ key: { id }, attributes: tagged(b, ['b']), parts: taggedParts(b, ['b']) }));
        await bPut.promise;
        const out = await next();
        markerPlaced.resolve();
        return out;
      }),
      dynamodb: interceptSend(proxied.dynamodb, async (command, next) => {
        if (command instanceof UpdateItemCommand) {
          const out = await next();
          aCommitted = true;
          return out;
        }
        if (command instanceof GetItemCommand && aCommitted) await bCommitted.promise;
        return next();
      }),
    });
    const rule = s3Proxy.addRule({ fault: 'failBeforeApply', operation: 'DeleteObject', when: r => r.key === bKey && r.versionId !== undefined, count: 3 });
    const aResult = await outcome(a, () => writerA.updateParts({ key: { id }, attributes: tagged(a, ['a']), parts: taggedParts(a, ['a']), removeParts: ['b'] }));
    const bDone = await bResult!;

    expect(aResult).toMatchObject({ status: 200, row: { revision: 2 } });
    expect(bDone).toMatchObject({ status: 200, row: { revision: 3 } });
    expect(rule.fired).toBe(3);
    expect(logs).toContainEqual(expect.objectContaining({ msg: expect.stringMatching(/^could not remove a delete marker that hides a pinned version/) }));
    // The marker hides B's pinned version: readers still get it (by VersionId), but the key is not at rest.
    await expect(checkAtRest(ctx, id, ['b'])).rejects.toThrow(/I5 violated: .* but a delete marker is current/);

    const reconciled = await checkInvariants(ctx, reader, id, ['a', 'b'], [aResult, bDone]);
    expect(reconciled).toContain('uncovered');
    expect((await listKey(ctx, bKey)).find(v => v.isLatest)?.versionId).toBe(bDone.row!.parts.b.versionId);
  });
});

describe('5. protocol v1 rows', () => {
  test('a v1 row is read, updated (and becomes v2), deleted, and its key created again with the revision going on', async () => {
    const id = newId('v1');
    await baseV1(id);
    expect(await reader.getIndex({ id })).toMatchObject({ revision: 3 });
    const outcomes: WriteOutcome[] = [];

    const a = `A-${id}`;
    outcomes.push(await outcome(a, () => store().updateParts({ key: { id }, attributes: tagged(a, ['a']), parts: taggedParts(a, ['a']) })));
    expect(outcomes[0]).toMatchObject({ status: 200, row: { revision: 4 } });
    const { item } = await currentState(ctx, id);
    expect(item).toMatchObject({ _proto: { N: '2' }, _tok: { S: expect.any(String) }, _rev: { N: '4' } });
    expect(commits.of(id)[0].condition).toEqual({ kind: 'v1', revision: 3 });

    // What a protocol v1 writer left behind sees now: its conditions carry attribute_not_exists(_proto).
    await expect(local.dynamodb.send(new DeleteItemCommand({
      TableName: local.config.tableName,
      Key: { id: { S: id } },
      ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(#proto)',
      ExpressionAttributeNames: { '#pk': 'id', '#proto': '_proto' },
    }))).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });

    outcomes.push(await outcome(`del-${id}`, () => store().delete({ key: { id }, expectedRevision: 4 }), true));
    expect(outcomes[1]).toMatchObject({ status: 200, row: { revision: 4 } });
    await expect(reader.getIndex({ id })).rejects.toMatchObject({ statusCode: 404 });

    const c = `C-${id}`;
    outcomes.push(await outcome(c, () => store().put({ key: { id }, attributes: tagged(c, ['b']), parts: taggedParts(c, ['b']), create: true })));
    expect(outcomes[2]).toMatchObject({ status: 201, row: { revision: 6 } });
    await checkInvariants(ctx, reader, id, ['a', 'b'], outcomes);
  });
});
