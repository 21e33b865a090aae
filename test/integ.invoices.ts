/**
 * Integration test: the invoices example (examples/invoices/), deployed to a real account.
 *
 * What it checks, after deploying:
 * - DynamoDB reports point-in-time recovery ENABLED with the example's 14-day period;
 * - S3 reports versioning Enabled on the parts bucket;
 * - the reference reader, invoked with plain JSON invocations, writes a generated invoice
 *   (summary, lines, and a binary attachment), reads the summary alone, reads the index row
 *   alone, lists the customer's invoices through the byCustomer index, deletes the invoice,
 *   and then answers 404.
 *
 * Run with the rest of the integ tests: `npx projen integ:snapshot` (CI, no deploy),
 * `npx projen integ:deploy` (AWS account). The stack is the example's own InvoicesStack in
 * its `ephemeral` mode, so it is destroyed after the test.
 */
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App } from 'aws-cdk-lib';
import { expectBackups } from './setup/integ-assertions';
import { BY_CUSTOMER_INDEX, generateInvoices, partsPayload } from '../examples/invoices/invoices';
import { InvoicesStack } from '../examples/invoices/invoices-stack';

const app = new App();
const stack = new InvoicesStack(app, 'SplitStoreIntegInvoices', { ephemeral: true });
const store = stack.store;

const integ = new IntegTest(app, 'Invoices', {
  testCases: [stack],
  stackUpdateWorkflow: false,
});

// ---- backups are on, with the example's 14-day retention window ----
expectBackups(integ, store, 14);

// ---- one generated invoice through the reference reader ----
const [invoice] = generateInvoices(1, { seed: 2026, attachmentBytes: 2048 });
const key = { id: invoice.row.id };
const { id: _id, ...attributes } = invoice.row;

const invoke = (payload: Record<string, unknown>) =>
  integ.assertions.invokeFunction({ functionName: store.readerFunction!.functionName, payload: JSON.stringify(payload) });
const ok = (result: Record<string, unknown>) =>
  ExpectedResult.objectLike({ Payload: Match.serializedJson(Match.objectLike({ ok: true, result: Match.objectLike(result) })) });

const put = invoke({
  operation: 'put',
  key,
  create: true,
  attributes,
  parts: partsPayload(invoice),
});
put.expect(ok({
  key,
  revision: 1,
  attributes: Match.objectLike({ number: invoice.row.number, customer: invoice.row.customer, total: invoice.row.total }),
  parts: Match.objectLike({
    summary: Match.objectLike({ contentType: 'application/json' }),
    lines: Match.objectLike({ contentType: 'application/json' }),
    attachments: Match.objectLike({ contentType: 'application/pdf', size: 2048 }),
  }),
}));

// The invoice page's first paint: the index row and the summary only.
const getSummary = invoke({ operation: 'get', key, parts: ['summary'] });
getSummary.expect(ok({
  row: Match.objectLike({ key, revision: 1 }),
  parts: { summary: Match.objectLike({ encoding: 'utf8', body: invoice.parts.summary.body }) },
  errors: [],
}));

// The binary part comes back byte-equal (base64 on the wire).
const getAttachment = invoke({ operation: 'get', key, parts: ['attachments'] });
getAttachment.expect(ok({
  parts: { attachments: Match.objectLike({ contentType: 'application/pdf', encoding: 'base64', body: invoice.parts.attachments.base64 }) },
  errors: [],
}));

// The list screen: the customer's invoices, newest first, from the index alone.
const list = invoke({ operation: 'list', index: BY_CUSTOMER_INDEX, partitionValue: invoice.row.customer, ascending: false, limit: 20 });
list.expect(ok({
  items: Match.arrayWith([Match.objectLike({ key, attributes: Match.objectLike({ number: invoice.row.number, issuedAt: invoice.row.issuedAt }) })]),
}));

const remove = invoke({ operation: 'delete', key });
remove.expect(ok({ deleted: Match.objectLike({ key, revision: 1 }) }));

const gone = invoke({ operation: 'get', key, parts: ['summary'] });
gone.expect(ExpectedResult.objectLike({
  Payload: Match.serializedJson(Match.objectLike({ ok: false, error: Match.objectLike({ statusCode: 404 }) })),
}));

put.next(getSummary).next(getAttachment).next(list).next(remove).next(gone);

app.synth();
