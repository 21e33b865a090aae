/**
 * Integration test: a store with the library's defaults, deployed to a real account.
 *
 * What it checks, after deploying:
 * - DynamoDB reports point-in-time recovery ENABLED with the default 7-day recovery period;
 * - S3 reports versioning Enabled on the parts bucket;
 * - the reference reader, invoked with plain JSON invocations, writes an item with two
 *   parts, reads it back (parts and index only), lists it, deletes it, and then answers 404.
 *
 * Snapshot (test/integ.default-store.ts.snapshot/) verified without deploying in CI:
 * `npx projen integ:snapshot`. Deploy, assert and destroy with an AWS account:
 * `npx projen integ:deploy`. See /README.md, "Running the tests".
 *
 * The only deviations from the defaults make the stack destroyable after the test:
 * removal policy DESTROY, no deletion protection, and the bucket emptied on delete.
 */
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { SplitStore } from '../src';
import { expectBackups } from './setup/integ-assertions';

const app = new App();
const stack = new Stack(app, 'SplitStoreIntegDefault');

const store = new SplitStore(stack, 'Store', {
  removalPolicy: RemovalPolicy.DESTROY,
  deletionProtection: false,
  bucketProps: { autoDeleteObjects: true },
});

const integ = new IntegTest(app, 'DefaultStore', {
  testCases: [stack],
  // Nothing deployed to update from: deploy the test stack fresh each time (and keep
  // its Lambda bundles out of the committed snapshot).
  stackUpdateWorkflow: false,
});

// ---- backups are on, with the default retention window ----
expectBackups(integ, store, 7);

// ---- the reference reader: write, read (parts, then index only), list, delete ----
const readerName = store.readerFunction!.functionName;
const key = { id: 'integ-default-1' };
const invoke = (payload: Record<string, unknown>) =>
  integ.assertions.invokeFunction({ functionName: readerName, payload: JSON.stringify(payload) });
const ok = (result: Record<string, unknown>) =>
  ExpectedResult.objectLike({ Payload: Match.serializedJson(Match.objectLike({ ok: true, result: Match.objectLike(result) })) });

const put = invoke({
  operation: 'put',
  key,
  create: true,
  attributes: { title: 'hello from integ-runner' },
  parts: {
    summary: { json: { greeting: 'hello' } },
    notes: { body: 'plain text part', contentType: 'text/plain' },
  },
});
put.expect(ok({ key, revision: 1, attributes: Match.objectLike({ title: 'hello from integ-runner' }) }));

const getParts = invoke({ operation: 'get', key });
getParts.expect(ok({
  row: Match.objectLike({ key, revision: 1 }),
  parts: Match.objectLike({
    summary: Match.objectLike({ contentType: 'application/json', encoding: 'utf8', body: '{"greeting":"hello"}' }),
    notes: Match.objectLike({ contentType: 'text/plain', encoding: 'utf8', body: 'plain text part' }),
  }),
  errors: [],
}));

// Index only: `parts: []` reads no part at all. (A literal `{}` inside objectLike matches any
// object, so the empty parts map is checked on the serialized document; the row's own
// `parts` map of pins comes earlier, inside `row`.)
const getIndex = invoke({ operation: 'get', key, parts: [] });
getIndex.expect(ExpectedResult.objectLike({
  Payload: Match.stringLikeRegexp('^\\{"ok":true,"result":\\{"row":\\{.*"revision":1.*\\},"parts":\\{\\},"errors":\\[\\],"timings":'),
}));

const list = invoke({ operation: 'list', limit: 10 });
list.expect(ok({ items: Match.arrayWith([Match.objectLike({ key, revision: 1 })]) }));

const remove = invoke({ operation: 'delete', key, expectedRevision: 1 });
remove.expect(ok({ deleted: Match.objectLike({ key, revision: 1 }) }));

const gone = invoke({ operation: 'get', key });
gone.expect(ExpectedResult.objectLike({
  Payload: Match.serializedJson(Match.objectLike({ ok: false, error: Match.objectLike({ statusCode: 404 }) })),
}));

put.next(getParts).next(getIndex).next(list).next(remove).next(gone);

app.synth();
