import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ISplitStore, SplitStore, SplitStoreAccess, SplitStoreAttributes } from '../src';

const ENV = { account: '111111111111', region: 'eu-west-1' };
const TABLE_KEY = 'arn:aws:kms:eu-west-1:111111111111:key/aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
const BUCKET_KEY = 'arn:aws:kms:eu-west-1:111111111111:key/bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb';

function appFunction(stack: Stack): lambda.Function {
  return new lambda.Function(stack, 'App', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {};'),
  });
}

/** The statements of the application function's policy. */
function statementsOf(stack: Stack, fn: lambda.Function): any[] {
  const roleId = stack.getLogicalId(fn.role!.node.defaultChild as iam.CfnRole);
  return Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
    .filter((policy: any) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((policy: any) => policy.Properties.PolicyDocument.Statement);
}

/** The function's environment variables as synthesized (cross-stack references resolved). */
function environmentOf(stack: Stack, fn: lambda.Function): Record<string, unknown> {
  const logicalId = stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
  return Template.fromStack(stack).toJSON().Resources[logicalId].Properties.Environment.Variables;
}

/** An application stack that imports a store of another app by its names. */
function importedStore(attrs: Partial<SplitStoreAttributes> = {}): { stack: Stack; store: ISplitStore } {
  const stack = new Stack(new App(), 'Application', { env: ENV });
  const store = SplitStore.fromStoreAttributes(stack, 'Invoices', {
    table: dynamodb.Table.fromTableAttributes(stack, 'Table', {
      tableName: 'invoices',
      encryptionKey: kms.Key.fromKeyArn(stack, 'TableKey', TABLE_KEY),
    }),
    bucket: s3.Bucket.fromBucketAttributes(stack, 'Bucket', {
      bucketName: 'invoice-parts',
      encryptionKey: kms.Key.fromKeyArn(stack, 'BucketKey', BUCKET_KEY),
    }),
    partitionKey: { name: 'customerId', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'invoiceNo', type: dynamodb.AttributeType.NUMBER },
    globalSecondaryIndexes: [{ indexName: 'byDate', partitionKey: { name: 'issuedOn', type: dynamodb.AttributeType.STRING } }],
    keyPrefix: 'invoices/',
    writerDeadline: Duration.seconds(40),
    ...attrs,
  });
  return { stack, store };
}

describe('SplitStore.fromStoreAttributes', () => {
  test('grantAndConfigure: the environment the runtime reads, and the grants', () => {
    // GIVEN
    const { stack, store } = importedStore();
    const fn = appFunction(stack);
    // WHEN
    store.grantAndConfigure(fn, SplitStoreAccess.READ_WRITE);
    // THEN
    expect(environmentOf(stack, fn)).toEqual({
      SPLIT_STORE_TABLE_NAME: 'invoices',
      SPLIT_STORE_BUCKET_NAME: 'invoice-parts',
      SPLIT_STORE_KEY_PREFIX: 'invoices/',
      SPLIT_STORE_PARTITION_KEY: 'customerId',
      SPLIT_STORE_PARTITION_KEY_TYPE: 'S',
      SPLIT_STORE_SORT_KEY: 'invoiceNo',
      SPLIT_STORE_SORT_KEY_TYPE: 'N',
      SPLIT_STORE_INDEXES: '[{"name":"byDate","partitionKey":{"name":"issuedOn","type":"S"}}]',
      SPLIT_STORE_WRITER_DEADLINE_MS: '40000',
    });
    const statements = stack.resolve(statementsOf(stack, fn));
    const bucket = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::invoice-parts/invoices/*']] };
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: [
          'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem',
          'dynamodb:DescribeTable', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem',
        ],
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':dynamodb:eu-west-1:111111111111:table/invoices']] },
      },
      {
        Effect: 'Allow',
        Action: ['dynamodb:Query', 'dynamodb:Scan'],
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':dynamodb:eu-west-1:111111111111:table/invoices/index/byDate']] },
      },
      {
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
        Resource: bucket,
      },
      { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'], Resource: TABLE_KEY },
      { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'], Resource: BUCKET_KEY },
    ]);
  });

  test.each<[SplitStoreAccess, string[]]>([
    [SplitStoreAccess.READ_INDEX, [TABLE_KEY]],
    [SplitStoreAccess.READ_PARTS, [BUCKET_KEY]],
    [SplitStoreAccess.WRITE, [TABLE_KEY, BUCKET_KEY]],
  ])('access %s: the keys of the data it reaches', (access, keys) => {
    const { stack, store } = importedStore();
    const fn = appFunction(stack);
    store.grantAndConfigure(fn, access);
    const kmsResources = stack.resolve(statementsOf(stack, fn)).filter((s: any) => [s.Action].flat()[0].startsWith('kms:')).map((s: any) => s.Resource);
    expect(kmsResources).toEqual(keys);
  });

  test('the keys can be given apart from the table and the bucket', () => {
    // GIVEN: names only, the keys as attributes
    const stack = new Stack(new App(), 'Application', { env: ENV });
    const tableKey = kms.Key.fromKeyArn(stack, 'TableKey', TABLE_KEY);
    const store = SplitStore.fromStoreAttributes(stack, 'Invoices', {
      table: dynamodb.Table.fromTableName(stack, 'Table', 'invoices'),
      bucket: s3.Bucket.fromBucketName(stack, 'Bucket', 'invoice-parts'),
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      tableEncryptionKey: tableKey,
    });
    // WHEN
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    store.grantReadIndex(role);
    // THEN
    expect(store.tableEncryptionKey).toBe(tableKey);
    expect(store.bucketEncryptionKey).toBeUndefined();
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([{ Effect: 'Allow', Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: TABLE_KEY }]) },
    });
  });

  test('defaults: prefix items/, no sort key, no index, the 20-second writer deadline; no functions known', () => {
    const stack = new Stack(new App(), 'Application');
    const store = SplitStore.fromStoreAttributes(stack, 'Invoices', {
      table: dynamodb.Table.fromTableName(stack, 'Table', 'invoices'),
      bucket: s3.Bucket.fromBucketName(stack, 'Bucket', 'invoice-parts'),
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
    });
    expect(store.keyPrefix).toBe('items/');
    expect(store.sortKey).toBeUndefined();
    expect(store.globalSecondaryIndexes).toEqual([]);
    expect(store.writerDeadline.toSeconds()).toBe(20);
    expect([store.readerFunction, store.readerUrl, store.reconcilerFunction, store.reconcilerDeadLetterQueue, store.doctorFunction])
      .toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(() => store.metricBucketAllRequests()).toThrow('the bucket has no known request-metrics configuration');
  });

  test.each<[string, Partial<SplitStoreAttributes>, string]>([
    ['a key prefix without its slash', { keyPrefix: 'invoices' }, 'SplitStore: keyPrefix must be a non-empty S3 key prefix that ends with \'/\''],
    ['a binary partition key', { partitionKey: { name: 'id', type: dynamodb.AttributeType.BINARY } }, 'partitionKey'],
    ['a writer deadline in milliseconds', { writerDeadline: Duration.millis(1500) }, 'writerDeadline must be a whole number of seconds, at least 1, got 1 second 500 millis'],
  ])('fails on %s', (_name, attrs, message) => {
    expect(() => importedStore(attrs)).toThrow(message);
  });
});

describe('a store of another stack of the app', () => {
  test('passed as it is: grants and environment cross the stacks as exports', () => {
    // GIVEN
    const app = new App();
    const data = new Stack(app, 'Data', { env: ENV });
    const store = new SplitStore(data, 'Invoices', { writerDeadline: Duration.seconds(30) });
    const application = new Stack(app, 'Application', { env: ENV });
    const fn = appFunction(application);
    // WHEN
    store.grantAndConfigure(fn, SplitStoreAccess.READ);
    // THEN
    const env = environmentOf(application, fn);
    expect(env.SPLIT_STORE_TABLE_NAME).toEqual({ 'Fn::ImportValue': expect.stringContaining('Data:ExportsOutputRefInvoicesTable') });
    expect(env.SPLIT_STORE_BUCKET_NAME).toEqual({ 'Fn::ImportValue': expect.stringContaining('Data:ExportsOutputRefInvoicesBucket') });
    expect(env.SPLIT_STORE_WRITER_DEADLINE_MS).toBe('30000');
    const actions = statementsOf(application, fn).flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 's3:GetObjectVersion']));
    expect(actions).not.toContain('s3:PutObject');
    // nothing of the application lands in the data stack
    expect(Object.keys(Template.fromStack(data).findResources('AWS::IAM::Policy')).some((id) => id.startsWith('App'))).toBe(false);
  });

  test('imported in the application stack from the data stack\'s resources: the same environment', () => {
    // GIVEN
    const app = new App();
    const data = new Stack(app, 'Data', { env: ENV });
    const store = new SplitStore(data, 'Invoices', { keyPrefix: 'invoices/' });
    const application = new Stack(app, 'Application', { env: ENV });
    const direct = appFunction(application);
    store.grantAndConfigure(direct);
    // WHEN
    const imported = SplitStore.fromStoreAttributes(application, 'Invoices', {
      table: store.table,
      bucket: store.bucket,
      partitionKey: store.partitionKey,
      keyPrefix: store.keyPrefix,
      writerDeadline: store.writerDeadline,
    });
    const viaImport = new lambda.Function(application, 'Other', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {};'),
    });
    imported.grantAndConfigure(viaImport);
    // THEN
    expect(environmentOf(application, viaImport)).toEqual(environmentOf(application, direct));
  });

  test('a function configured for one store is refused by another', () => {
    const { stack, store } = importedStore();
    const other = SplitStore.fromStoreAttributes(stack, 'Other', {
      table: dynamodb.Table.fromTableName(stack, 'OtherTable', 'other'),
      bucket: s3.Bucket.fromBucketName(stack, 'OtherBucket', 'other-parts'),
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
    });
    const fn = appFunction(stack);
    store.grantAndConfigure(fn);
    expect(() => other.grantAndConfigure(fn)).toThrow('SplitStore.grantAndConfigure: function Application/App is already configured for the store Application/Invoices');
  });
});
