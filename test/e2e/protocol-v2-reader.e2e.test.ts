/**
 * The scenarios of protocol-v2.e2e.test.ts that a caller of the reference reader meets,
 * through the BUILT reader bundle (assets/reader.lambda) in the Lambda emulation, its SDK
 * clients pointed at the fault proxies (default SDK retries, as in Lambda): lost replies on
 * the commit of every write route, an ambiguous commit racing another writer, a stale
 * revision after delete and re-create. Each ends with the checks of I1-I5.
 */
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SplitStoreClient } from '../../src/runtime/store';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../support/dynamodb-local';
import { FaultKind, FaultProxy } from '../support/fault-proxy';
import { LambdaRuntime } from '../support/lambda-runtime';
import { startLocalStore, VersionedLocalStore } from '../support/local-store';
import {
  checkInvariants, CommitLog, currentState, InvariantContext, isCommitOf, tagged, taggedParts, WriteOutcome,
} from '../support/protocol-invariants';

const BUNDLE = path.join(__dirname, '..', '..', 'assets', 'reader.lambda', 'index.js');

let local: VersionedLocalStore;
let ddbProxy: FaultProxy;
let s3Proxy: FaultProxy;
let commits: CommitLog;
let ctx: InvariantContext;
let lambda: LambdaRuntime;
let reader: SplitStoreClient;
let other: SplitStoreClient;
let proxied: { dynamodb: DynamoDBClient; s3: S3Client };
let counter = 0;

beforeAll(async () => {
  local = await startLocalStore({ namePrefix: 'protov2url' });
  ddbProxy = await FaultProxy.start({ target: local.ddb.endpoint, service: 'dynamodb' });
  s3Proxy = await FaultProxy.start({ target: local.s3server.endpoint, service: 's3' });
  commits = new CommitLog(ddbProxy);
  ctx = { config: local.config, dynamodb: local.dynamodb, s3: local.s3, s3server: local.s3server, commits };
  lambda = await LambdaRuntime.start({
    bundle: BUNDLE,
    environment: local.plan.environment,
    endpoints: { dynamodb: ddbProxy.endpoint, s3: s3Proxy.endpoint },
  });
  reader = new SplitStoreClient({ config: local.config, dynamodb: local.dynamodb, s3: local.s3, log: () => undefined });
  const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  proxied = {
    dynamodb: new DynamoDBClient({ ...common, endpoint: ddbProxy.endpoint }),
    s3: new S3Client({ ...common, endpoint: s3Proxy.endpoint, forcePathStyle: true }),
  };
  // Another writer, in this process, through the same proxies.
  other = new SplitStoreClient({ config: local.config, ...proxied, log: () => undefined });
});

afterEach(() => {
  ddbProxy.clearRules();
});

afterAll(async () => {
  commits?.stop();
  await lambda?.stop();
  proxied?.dynamodb.destroy();
  proxied?.s3.destroy();
  await Promise.all([ddbProxy?.stop(), s3Proxy?.stop()]);
  await local?.stop();
});

/** A write body whose row and parts carry the write id. */
function body(w: string, parts: string[], extra: Record<string, unknown> = {}) {
  return {
    attributes: tagged(w, parts),
    parts: Object.fromEntries(parts.map(p => [p, { body: JSON.stringify({ w, p }) }])),
    ...extra,
  };
}

type Answer = WriteOutcome & { readonly code?: string };

async function call(method: string, id: string, w: string, requestBody?: object, query?: Record<string, string>): Promise<Answer> {
  const res = await lambda.invokeUrl(method, `/items/${id}`, { body: requestBody, query });
  const json = res.text ? JSON.parse(res.text) : undefined;
  return {
    writeId: w,
    status: res.statusCode,
    row: res.statusCode < 300 ? (method === 'DELETE' ? json.deleted : json) : undefined,
    isDelete: method === 'DELETE',
    code: json?.error?.code,
  };
}

/** Revision 1 with parts a and b. */
async function base(id: string): Promise<void> {
  const w = `w0-${id}`;
  await other.put({ key: { id }, attributes: tagged(w, ['a', 'b']), parts: taggedParts(w, ['a', 'b']), create: true });
}

describe('lost replies on the commit, through the reader\'s routes', () => {
  const routes: Array<[string, string, boolean, (w: string) => object | undefined, Record<string, string> | undefined, number]> = [
    ['PUT create', 'PUT', false, w => body(w, ['a', 'b'], { create: true }), undefined, 201],
    ['PUT expectedRevision', 'PUT', true, w => body(w, ['a'], { expectedRevision: 1 }), undefined, 200],
    ['PUT unconditional', 'PUT', true, w => body(w, ['a', 'b']), undefined, 200],
    ['PATCH', 'PATCH', true, w => ({ ...body(w, ['a']), removeParts: ['b'] }), undefined, 200],
    ['DELETE with expectedRevision', 'DELETE', true, () => undefined, { expectedRevision: '1' }, 200],
  ];
  const faults: FaultKind[] = ['applyThen500', 'applyThenReset'];
  const cases = routes.flatMap(r => faults.map(f => [r[0], f, r] as const));

  test.each(cases)('%s, commit %s: 2xx, committed once, I1-I5 hold', async (_name, fault, [, method, needsBase, makeBody, query, status]) => {
    const id = `url-${++counter}`;
    if (needsBase) await base(id);
    const w = `A-${id}`;
    const rule = ddbProxy.addRule({ fault, when: r => isCommitOf(r, id), count: 1 });
    const result = await call(method, id, w, makeBody(w), query);
    expect(rule.fired).toBe(1);
    expect(result.status).toBe(status);
    expect(commits.of(id).filter(c => (method === 'DELETE' ? c.tombstone : c.writeId === w))).toHaveLength(1);
    await checkInvariants(ctx, reader, id, ['a', 'b'], [result]);
  });
});

test('an ambiguous commit racing another writer: 503 CommitOutcomeUnknown (or 200 if the resend came first), nothing destroyed', async () => {
  const id = `url-race-${++counter}`;
  await base(id);
  const a = `A-${id}`;
  const b = `B-${id}`;
  ddbProxy.addRule({ fault: 'applyThenHang', when: r => isCommitOf(r, id), count: 1 });
  const bDone = (async (): Promise<WriteOutcome> => {
    for (;;) {
      const { state } = await currentState(ctx, id);
      if (state.kind === 'live' && state.row.attributes.w === a) break;
      await new Promise(r => setTimeout(r, 20));
    }
    const row = await other.put({ key: { id }, attributes: tagged(b, ['a', 'b']), parts: taggedParts(b, ['a', 'b']) });
    return { writeId: b, status: 200, row };
  })();
  const aResult = await call('PATCH', id, a, body(a, ['a']));
  const bResult = await bDone;

  const aCommit = commits.of(id).find(c => c.writeId === a)!;
  const bCommit = commits.of(id).find(c => c.writeId === b)!;
  const aResend = ddbProxy.log.find(e => e.operation === 'UpdateItem' && e.ordinal > aCommit.ordinal)!;
  if (bCommit.ordinal < aResend.ordinal) {
    expect(aResult).toMatchObject({ status: 503, code: 'CommitOutcomeUnknown' });
  } else {
    expect(aResult.status).toBe(200);
  }
  await checkInvariants(ctx, reader, id, ['a', 'b'], [aResult, bResult]);
});

test('a revision from before a delete and re-create: 409, never written over the new item', async () => {
  const id = `url-aba-${++counter}`;
  await base(id);
  expect((await call('DELETE', id, `del-${id}`)).status).toBe(200);
  const c = `C-${id}`;
  const created = await call('PUT', id, c, body(c, ['a'], { create: true }));
  expect(created).toMatchObject({ status: 201, row: { revision: 3 } });
  const a = `A-${id}`;
  const stale = await call('PUT', id, a, body(a, ['a', 'b'], { expectedRevision: 1 }));
  expect(stale).toMatchObject({ status: 409, code: 'Conflict' });
  await checkInvariants(ctx, reader, id, ['a', 'b'], [created, stale]);
});
