/**
 * The invoices example (examples/invoices/) synthesizes on every test run, from the
 * package's public entry point: it imports 'cdk-split-store', which jest maps to
 * src/index.ts (package.json moduleNameMapper) and examples/invoices/register.js maps
 * the same way outside jest. (e2e/examples.e2e.test.ts runs the demo and replays the
 * integ tests' assertions on the local servers.)
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { BY_CUSTOMER_INDEX, generateInvoices, INVOICE_PARTS, partsPayload } from '../examples/invoices/invoices';
import { InvoicesStack } from '../examples/invoices/invoices-stack';

const ROOT = path.resolve(__dirname, '..');
const EXAMPLE = path.join(ROOT, 'examples', 'invoices');
/** The store's index table (a provisioned-by-CloudFormation AWS::DynamoDB::Table). */
const TABLE = 'AWS::DynamoDB::Table';
const TS_NODE = require.resolve('ts-node/dist/bin.js');

function synth(props: ConstructorParameters<typeof InvoicesStack>[2] = {}): Template {
  const app = new App();
  const stack = new InvoicesStack(app, 'InvoicesExample', props);
  return Template.fromStack(stack);
}

describe('examples/invoices: InvoicesStack', () => {
  test('the table is keyed by invoice id and has the byCustomer index (customer, issuedAt)', () => {
    // WHEN
    const template = synth();

    // THEN
    template.resourceCountIs(TABLE, 1);
    template.hasResourceProperties(TABLE, {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'id', AttributeType: 'S' },
        { AttributeName: 'customer', AttributeType: 'S' },
        { AttributeName: 'issuedAt', AttributeType: 'S' },
      ]),
      GlobalSecondaryIndexes: [{
        IndexName: BY_CUSTOMER_INDEX,
        KeySchema: [
          { AttributeName: 'customer', KeyType: 'HASH' },
          { AttributeName: 'issuedAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      }],
    });
  });

  test('PITR keeps 14 days and the bucket keeps noncurrent part versions 14 days', () => {
    // WHEN
    const template = synth();

    // THEN
    template.hasResourceProperties(TABLE, {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 14 },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 14 } })]),
      },
    });
  });

  test('a custom retention drives both windows', () => {
    // WHEN
    const template = synth({ retention: Duration.days(30) });

    // THEN
    template.hasResourceProperties(TABLE, {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 30 },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 30 } })]),
      },
    });
  });

  test('the reference reader knows the byCustomer index and the parts prefix', () => {
    // WHEN
    const template = synth();

    // THEN
    const readers = template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { SPLIT_STORE_INDEXES: Match.anyValue() } } },
    });
    const variables = Object.values(readers).map(r => r.Properties.Environment.Variables);
    expect(variables.length).toBeGreaterThanOrEqual(1);
    for (const env of variables) {
      expect(JSON.parse(env.SPLIT_STORE_INDEXES)).toEqual([{
        name: BY_CUSTOMER_INDEX,
        partitionKey: { name: 'customer', type: 'S' },
        sortKey: { name: 'issuedAt', type: 'S' },
      }]);
      expect(env.SPLIT_STORE_PARTITION_KEY).toBe('id');
      expect(env.SPLIT_STORE_KEY_PREFIX).toBe('items/');
    }
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM', InvokeMode: 'RESPONSE_STREAM' });
    template.hasOutput('ReaderUrl', {});
  });

  test('by default the invoices outlive the stack: table and bucket retained, deletion protection on', () => {
    // WHEN
    const template = synth();

    // THEN
    template.hasResource(TABLE, { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    template.hasResourceProperties(TABLE, {
      DeletionProtectionEnabled: true,
    });
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  test('ephemeral: table and bucket are deleted with the stack, the bucket emptied first', () => {
    // WHEN
    const template = synth({ ephemeral: true });

    // THEN
    template.hasResource(TABLE, { DeletionPolicy: 'Delete' });
    template.hasResourceProperties(TABLE, {
      DeletionProtectionEnabled: false,
    });
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
  });
});

describe('examples/invoices: app.ts synthesizes as `cdk synth` runs it', () => {
  let outdir: string;
  beforeAll(() => {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'invoices-synth-'));
  });
  afterAll(() => {
    fs.rmSync(outdir, { recursive: true, force: true });
  });

  test('the app command of cdk.json writes the InvoicesExample template', () => {
    // GIVEN: cdk.json's app command, run the way the CDK CLI runs it (CDK_OUTDIR set).
    const cdkJson = JSON.parse(fs.readFileSync(path.join(EXAMPLE, 'cdk.json'), 'utf8'));
    expect(cdkJson.app).toContain('--require ./register.js app.ts');

    // WHEN
    const result = spawnSync(process.execPath, [
      TS_NODE, '--transpile-only', '--require', './register.js', 'app.ts',
    ], { cwd: EXAMPLE, env: { ...process.env, CDK_OUTDIR: outdir }, encoding: 'utf8', timeout: 120_000 });

    // THEN
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.status).toBe(0);
    const template = JSON.parse(fs.readFileSync(path.join(outdir, 'InvoicesExample.template.json'), 'utf8'));
    const tables = Object.values<any>(template.Resources).filter(r => r.Type === TABLE);
    expect(tables).toHaveLength(1);
    expect(tables[0].Properties.GlobalSecondaryIndexes[0].IndexName).toBe(BY_CUSTOMER_INDEX);
  });
});

describe('examples/invoices: generated invoices', () => {
  test('the same seed gives the same invoices, another seed different ones', () => {
    const a = generateInvoices(20, { seed: 7, attachmentBytes: 256 });
    const b = generateInvoices(20, { seed: 7, attachmentBytes: 256 });
    const c = generateInvoices(20, { seed: 8, attachmentBytes: 256 });
    expect(b).toEqual(a);
    expect(c.map(i => i.row)).not.toEqual(a.map(i => i.row));
  });

  test('index rows carry the list screen attributes, newest first, unique ids and numbers', () => {
    const invoices = generateInvoices(300, { attachmentBytes: 64 });
    expect(Object.keys(invoices[0].row).sort()).toEqual(['customer', 'id', 'issuedAt', 'number', 'status', 'total']);
    expect(new Set(invoices.map(i => i.row.id)).size).toBe(300);
    expect(new Set(invoices.map(i => i.row.number)).size).toBe(300);
    const issued = invoices.map(i => i.row.issuedAt);
    expect([...issued].sort().reverse()).toEqual(issued);
  });

  test('every invoice has the three parts; the summary agrees with the row; lines add up', () => {
    for (const invoice of generateInvoices(50, { attachmentBytes: 1024 })) {
      expect(Object.keys(invoice.parts)).toEqual([...INVOICE_PARTS]);
      const summary = JSON.parse(invoice.parts.summary.body!);
      expect(summary).toMatchObject({ number: invoice.row.number, total: invoice.row.total, status: invoice.row.status });
      expect(summary.customer.id).toBe(invoice.row.customer);
      const { lines } = JSON.parse(invoice.parts.lines.body!);
      expect(lines).toHaveLength(summary.lineCount);
      const subtotal = lines.reduce((sum: number, line: { amount: number }) => sum + line.amount, 0);
      expect(subtotal).toBeCloseTo(summary.subtotal, 2);
      const pdf = Buffer.from(invoice.parts.attachments.base64!, 'base64');
      expect(pdf.length).toBe(1024);
      expect(invoice.parts.attachments.size).toBe(1024);
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    }
  });

  test('partsPayload gives the reader\'s wire format: text as body, bytes as base64, nothing else', () => {
    const [invoice] = generateInvoices(1, { attachmentBytes: 100 });
    const payload = partsPayload(invoice);
    expect(payload.summary).toEqual({ contentType: 'application/json', body: invoice.parts.summary.body });
    expect(payload.lines).toEqual({ contentType: 'application/json', body: invoice.parts.lines.body });
    expect(payload.attachments).toEqual({ contentType: 'application/pdf', base64: invoice.parts.attachments.base64 });
  });

  test('fails when the count is not a non-negative integer', () => {
    expect(() => generateInvoices(-1)).toThrow('count must be a non-negative integer, got -1');
    expect(() => generateInvoices(1.5)).toThrow('count must be a non-negative integer, got 1.5');
  });
});
