import { App, Aspects, CfnElement, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { StoreWiring } from '../src/private/wiring';
import { SplitStoreReader, SplitStoreReaderOptions } from '../src/reader';
import { testWiring } from './setup/wiring';
import { ENV } from '../src/runtime/config';

interface Fixture {
  readonly stack: Stack;
  readonly wiring: StoreWiring;
  readonly table: dynamodb.TableV2;
  readonly bucket: s3.Bucket;
  readonly key?: kms.Key;
}

/** A stack with a plain versioned bucket and a TableV2, wired as SplitStore wires them. */
function fixture(opts: { key?: boolean; indexes?: string; indexNames?: string[] } = {}): Fixture {
  const app = new App();
  const stack = new Stack(app, 'Stack', { env: { account: '111111111111', region: 'us-east-1' } });
  const key = opts.key ? new kms.Key(stack, 'Key', { enableKeyRotation: true }) : undefined;
  const table = new dynamodb.TableV2(stack, 'Table', {
    partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: key ? dynamodb.TableEncryptionV2.customerManagedKey(key) : undefined,
  });
  const bucket = new s3.Bucket(stack, 'Bucket', {
    versioned: true,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    encryption: key ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
    encryptionKey: key,
    serverAccessLogsPrefix: 'access-logs/',
  });
  const environment: Record<string, string> = {
    [ENV.tableName]: table.tableName,
    [ENV.bucketName]: bucket.bucketName,
    [ENV.keyPrefix]: 'items/',
    [ENV.partitionKeyName]: 'id',
    [ENV.partitionKeyType]: 'S',
    [ENV.writerDeadlineMs]: '20000',
  };
  if (opts.indexes !== undefined) environment[ENV.indexes] = opts.indexes;
  return {
    stack,
    table,
    bucket,
    key,
    wiring: testWiring({ table, bucket, key, environment, indexNames: opts.indexNames }),
  };
}

/** The logical id of a construct's CloudFormation resource. */
function id(construct: IConstruct): string {
  return Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
}

function reader(f: Fixture, options: SplitStoreReaderOptions = {}): SplitStoreReader {
  return new SplitStoreReader(f.stack, 'Reader', { ...options, wiring: f.wiring });
}

function readerFunction(template: Template): Record<string, any> {
  const functions = template.findResources('AWS::Lambda::Function', {
    Properties: { Description: Match.stringLikeRegexp('reference reader') },
  });
  const values = Object.values(functions);
  expect(values).toHaveLength(1);
  return values[0].Properties;
}

/** The statements of the reader role's policy. */
function readerStatements(template: Template): any[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { PolicyName: Match.stringLikeRegexp('^ReaderServiceRoleDefaultPolicy') },
  });
  const values = Object.values(policies);
  expect(values).toHaveLength(1);
  return values[0].Properties.PolicyDocument.Statement;
}

function allActions(statements: any[]): string[] {
  return statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
}

describe('SplitStoreReader defaults', () => {
  test('a Function URL with RESPONSE_STREAM and AWS_IAM auth', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    const r = reader(f);
    // THEN
    const template = Template.fromStack(f.stack);
    template.resourceCountIs('AWS::Lambda::Url', 1);
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'AWS_IAM',
      InvokeMode: 'RESPONSE_STREAM',
      TargetFunctionArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ReaderFunction'), 'Arn'] },
    });
    expect(r.functionUrl).toBeDefined();
    // IAM auth: no resource policy opens the function to anyone.
    template.resourceCountIs('AWS::Lambda::Permission', 0);
    expect(Annotations.fromStack(f.stack).findWarning('*', Match.stringLikeRegexp('readerPublicUrl'))).toHaveLength(0);
  });

  test('Node.js 24, 512 MiB, 30 s, no tracing, no reserved concurrency', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    reader(f);
    // THEN
    const props = readerFunction(Template.fromStack(f.stack));
    expect(props.Runtime).toEqual('nodejs24.x');
    expect(props.Handler).toEqual('index.handler');
    expect(props.MemorySize).toEqual(512);
    expect(props.Timeout).toEqual(30);
    expect(props.TracingConfig).toBeUndefined();
    expect(props.ReservedConcurrentExecutions).toBeUndefined();
  });

  test('environment is the wiring environment (the store\'s, writer deadline included)', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    reader(f);
    // THEN
    const props = readerFunction(Template.fromStack(f.stack));
    expect(props.Environment.Variables).toEqual({
      SPLIT_STORE_TABLE_NAME: { Ref: id(f.table) },
      SPLIT_STORE_BUCKET_NAME: { Ref: id(f.bucket) },
      SPLIT_STORE_KEY_PREFIX: 'items/',
      SPLIT_STORE_PARTITION_KEY: 'id',
      SPLIT_STORE_PARTITION_KEY_TYPE: 'S',
      SPLIT_STORE_WRITER_DEADLINE_MS: '20000',
      AWS_NODEJS_CONNECTION_REUSE_ENABLED: '1',
    });
  });

  test('its own log group, one month, deleted with the stack, used by the function', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    const r = reader(f);
    // THEN
    const template = Template.fromStack(f.stack);
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 30 },
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
    });
    const props = readerFunction(template);
    expect(props.LoggingConfig).toEqual({ LogGroup: { Ref: id(r.logGroup) } });
  });

  test('its own role without managed policies', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    const r = reader(f);
    // THEN
    const template = Template.fromStack(f.stack);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })],
      },
      ManagedPolicyArns: Match.absent(),
    });
    expect(readerFunction(template).Role).toEqual({ 'Fn::GetAtt': [id(r.role), 'Arn'] });
  });

  test('least privilege: exactly the actions the reader calls, on the table, the prefix and the log group', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    const r = reader(f);
    // THEN
    const statements = readerStatements(Template.fromStack(f.stack));
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [id(r.logGroup), 'Arn'] },
      },
      {
        Effect: 'Allow',
        Action: [
          'dynamodb:GetItem',
          'dynamodb:Query',
          'dynamodb:Scan',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
        ],
        Resource: { 'Fn::GetAtt': [id(f.table), 'Arn'] },
      },
      {
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id(f.bucket), 'Arn'] }, '/items/*']] },
      },
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: { 'Fn::GetAtt': [id(f.bucket), 'Arn'] },
      },
    ]);
    const actions = allActions(statements);
    expect(actions.filter((a) => a.includes('*'))).toEqual([]);
    expect(actions.some((a) => a.startsWith('kms:') || a.startsWith('xray:'))).toBe(false);
  });

  test('index rows stay readable by the table, not by any index, when the store has none', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    reader(f);
    // THEN
    const statements = readerStatements(Template.fromStack(f.stack));
    expect(JSON.stringify(statements)).not.toContain('/index/');
  });
});

describe('SplitStoreReader options', () => {
  test('memorySize', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    reader(f, { memorySize: 1769 });
    // THEN
    expect(readerFunction(Template.fromStack(f.stack)).MemorySize).toEqual(1769);
  });

  test('reservedConcurrentExecutions', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    reader(f, { reservedConcurrentExecutions: 25 });
    // THEN
    expect(readerFunction(Template.fromStack(f.stack)).ReservedConcurrentExecutions).toEqual(25);
  });

  test('tracing ACTIVE sets the tracing mode and adds only the X-Ray write actions', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    reader(f, { tracing: lambda.Tracing.ACTIVE });
    // THEN
    const template = Template.fromStack(f.stack);
    expect(readerFunction(template).TracingConfig).toEqual({ Mode: 'Active' });
    const xray = readerStatements(template).filter((s) => allActions([s]).some((a) => a.startsWith('xray:')));
    expect(xray).toEqual([{
      Effect: 'Allow',
      Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
      Resource: '*',
    }]);
  });

  test('logRetention', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    reader(f, { logRetention: logs.RetentionDays.ONE_YEAR });
    // THEN
    Template.fromStack(f.stack).hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  test('timeout', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    reader(f, { timeout: Duration.minutes(2) });
    // THEN
    expect(readerFunction(Template.fromStack(f.stack)).Timeout).toEqual(120);
  });

  test('functionUrl: false creates no URL, the function stays invocable', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    const r = reader(f, { functionUrl: false });
    // THEN
    const template = Template.fromStack(f.stack);
    template.resourceCountIs('AWS::Lambda::Url', 0);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    expect(r.functionUrl).toBeUndefined();
  });

  test('functionUrlAuthType NONE is applied and warned about', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    reader(f, { functionUrlAuthType: lambda.FunctionUrlAuthType.NONE });
    // THEN
    Template.fromStack(f.stack).hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      InvokeMode: 'RESPONSE_STREAM',
    });
    const template = Template.fromStack(f.stack);
    // Both permissions a public URL needs since October 2025, the second one only via the URL.
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunctionUrl',
      Principal: '*',
      FunctionUrlAuthType: 'NONE',
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: '*',
      InvokedViaFunctionUrl: true,
      FunctionName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ReaderFunction'), 'Arn'] },
    });
    expect(Object.values(template.findResources('AWS::Lambda::Permission', {
      Properties: { Action: 'lambda:InvokeFunction', Principal: '*', InvokedViaFunctionUrl: Match.absent() },
    }))).toHaveLength(0);
    const warnings = Annotations.fromStack(f.stack).findWarning(
      '/Stack/Reader',
      Match.stringLikeRegexp('functionUrlAuthType is NONE: anyone who knows the Function URL'),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0].entry.data).toContain('[ack: cdk-split-store:readerPublicUrl]');
  });

  test('a customer managed key of both the table and the bucket gets the write actions, once', () => {
    // GIVEN
    const f = fixture({ key: true });
    // WHEN
    reader(f);
    // THEN
    const kmsStatements = readerStatements(Template.fromStack(f.stack))
      .filter((s) => allActions([s]).some((a) => a.startsWith('kms:')));
    expect(kmsStatements).toEqual([{
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
      Resource: { 'Fn::GetAtt': [id(f.key!), 'Arn'] },
    }]);
  });

  test('a table key and another bucket key are both granted, each with what its data needs', () => {
    // GIVEN
    const f = fixture();
    const tableKey = new kms.Key(f.stack, 'TableKey', { enableKeyRotation: true });
    const bucketKey = new kms.Key(f.stack, 'BucketKey', { enableKeyRotation: true });
    // WHEN
    new SplitStoreReader(f.stack, 'Reader', { wiring: { ...f.wiring, tableKey, bucketKey } });
    // THEN
    const kmsStatements = readerStatements(Template.fromStack(f.stack))
      .filter((s) => allActions([s]).some((a) => a.startsWith('kms:')));
    expect(kmsStatements).toEqual([
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
        Resource: { 'Fn::GetAtt': [id(tableKey), 'Arn'] },
      },
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
        Resource: { 'Fn::GetAtt': [id(bucketKey), 'Arn'] },
      },
    ]);
  });

  test('indexes named in the environment get Query and Scan on exactly those indexes', () => {
    // GIVEN
    const f = fixture({
      indexes: JSON.stringify([
        { name: 'byCustomer', partitionKey: { name: 'customer', type: 'S' }, sortKey: { name: 'issuedAt', type: 'S' } },
        { name: 'byStatus', partitionKey: { name: 'status', type: 'S' } },
      ]),
    });
    // WHEN
    reader(f);
    // THEN
    const indexStatements = readerStatements(Template.fromStack(f.stack)).filter((s) => JSON.stringify(s.Resource).includes('/index/'));
    const tableArn = { 'Fn::GetAtt': [id(f.table), 'Arn'] };
    expect(indexStatements).toEqual([{
      Effect: 'Allow',
      Action: ['dynamodb:Query', 'dynamodb:Scan'],
      Resource: [
        { 'Fn::Join': ['', [tableArn, '/index/byCustomer']] },
        { 'Fn::Join': ['', [tableArn, '/index/byStatus']] },
      ],
    }]);
  });

  test('wiring.indexNames wins over the environment', () => {
    // GIVEN
    const f = fixture({ indexes: JSON.stringify([{ name: 'fromEnv' }]), indexNames: ['fromWiring'] });
    // WHEN
    reader(f);
    // THEN
    const json = JSON.stringify(readerStatements(Template.fromStack(f.stack)));
    expect(json).toContain('/index/fromWiring');
    expect(json).not.toContain('/index/fromEnv');
  });

  test('keeps its construct ids stable', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    const r = reader(f);
    // THEN
    expect(r.node.children.map((c) => c.node.id).sort()).toEqual(['Function', 'LogGroup', 'ServiceRole']);
    expect(r.function.node.tryFindChild('FunctionUrl')).toBeDefined();
  });
});

describe('SplitStoreReader validation', () => {
  test.each([127, 10_241, 512.5])('fails when memorySize is %p', (memorySize) => {
    const f = fixture();
    expect(() => reader(f, { memorySize })).toThrow(
      `reader.memorySize must be a whole number of MiB between 128 and 10240, got ${memorySize}`,
    );
  });

  test.each([0, -1, 2.5])('fails when reservedConcurrentExecutions is %p', (reservedConcurrentExecutions) => {
    const f = fixture();
    expect(() => reader(f, { reservedConcurrentExecutions })).toThrow(
      `reader.reservedConcurrentExecutions must be a whole number of at least 1, got ${reservedConcurrentExecutions}`,
    );
  });

  test('fails when the timeout leaves no time to compensate after the writer deadline', () => {
    const f = fixture();
    expect(() => reader(f, { timeout: Duration.seconds(24) })).toThrow(
      'reader.timeout (24 seconds) must exceed writerDeadline (20 seconds) by at least 5 seconds',
    );
  });

  test('fails when functionUrlAuthType is given without a Function URL', () => {
    const f = fixture();
    expect(() => reader(f, { functionUrl: false, functionUrlAuthType: lambda.FunctionUrlAuthType.AWS_IAM }))
      .toThrow('reader.functionUrlAuthType (AWS_IAM) was given with reader.functionUrl: false');
  });

  test('fails when the indexes environment variable is not an array', () => {
    const f = fixture({ indexes: '{"name":"byCustomer"}' });
    expect(() => reader(f)).toThrow('SPLIT_STORE_INDEXES must be a JSON array of indexes');
  });

  test('fails when an index in the environment has no name', () => {
    const f = fixture({ indexes: '[{"partitionKey":{"name":"customer","type":"S"}}]' });
    expect(() => reader(f)).toThrow('SPLIT_STORE_INDEXES has an index without a name');
  });

  test('values that are tokens are left to deploy time', () => {
    const f = fixture();
    const memory = new CfnParameter(f.stack, 'Memory', { type: 'Number' }).valueAsNumber;
    reader(f, { memorySize: memory, reservedConcurrentExecutions: memory, partTimeout: Duration.millis(memory) });
    const props = readerFunction(Template.fromStack(f.stack));
    expect(props.MemorySize).toEqual({ Ref: 'Memory' });
    expect(props.ReservedConcurrentExecutions).toEqual({ Ref: 'Memory' });
    expect(props.Environment.Variables.SPLIT_STORE_PART_TIMEOUT_MS).toEqual({ Ref: 'Memory' });
  });

  test('fails when a token part timeout is not in milliseconds', () => {
    const f = fixture();
    const seconds = new CfnParameter(f.stack, 'Timeout', { type: 'Number' }).valueAsNumber;
    expect(() => reader(f, { partTimeout: Duration.seconds(seconds) })).toThrow(
      'reader.partTimeout comes from a token in seconds, which cannot be converted to milliseconds before deployment',
    );
  });

  test('an in-range timeout and deadline pass at their exact boundary', () => {
    const f = fixture();
    expect(() => reader(f, { timeout: Duration.seconds(25) })).not.toThrow();
  });
});

describe('SplitStoreReader cdk-nag', () => {
  function nagErrorsAndWarnings(stack: Stack): string[] {
    const annotations = Annotations.fromStack(stack);
    return [
      ...annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
      ...annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')),
    ].map((m) => `${m.id}: ${m.entry.data}`);
  }

  test.each([
    ['defaults', {}, false],
    ['tracing and a customer managed key', { tracing: lambda.Tracing.ACTIVE }, true],
  ])('AwsSolutions finds nothing unsuppressed (%s)', (_name, options, key) => {
    // GIVEN
    const f = fixture({ key: key as boolean, indexes: JSON.stringify([{ name: 'byCustomer' }]) });
    reader(f, options as SplitStoreReaderOptions);
    // WHEN
    Aspects.of(f.stack).add(new AwsSolutionsChecks({ verbose: true }));
    // THEN
    expect(nagErrorsAndWarnings(f.stack)).toEqual([]);
  });

  test('the prefix wildcard of an imported bucket is suppressed too (an ARN built from its name)', () => {
    // GIVEN
    const f = fixture();
    const bucket = s3.Bucket.fromBucketName(f.stack, 'Imported', 'existing-bucket');
    new SplitStoreReader(f.stack, 'Reader', { wiring: { ...f.wiring, bucket, keyPrefix: 'docs/' } });
    // WHEN
    Aspects.of(f.stack).add(new AwsSolutionsChecks());
    // THEN
    expect(nagErrorsAndWarnings(f.stack)).toEqual([]);
    const policy = Object.entries(Template.fromStack(f.stack).findResources('AWS::IAM::Policy'))
      .find(([logicalId]) => logicalId.startsWith('ReaderServiceRoleDefaultPolicy'))!;
    expect(policy[1].Metadata.cdk_nag.rules_to_suppress[0].applies_to)
      .toEqual(['Resource::arn:<AWS::Partition>:s3:::existing-bucket/docs/*']);
  });

  test('suppresses only the exact prefix wildcard, with a reason', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    reader(f);
    // THEN
    const policies = Template.fromStack(f.stack).findResources('AWS::IAM::Policy');
    const [policy] = Object.entries(policies).filter(([logicalId]) => logicalId.startsWith('ReaderServiceRoleDefaultPolicy'));
    const bucketId = Object.keys(Template.fromStack(f.stack).findResources('AWS::S3::Bucket'))[0];
    expect(policy[1].Metadata.cdk_nag.rules_to_suppress).toEqual([{
      id: 'AwsSolutions-IAM5',
      reason: expect.stringContaining('bounded by the store\'s key prefix'),
      applies_to: [`Resource::<${bucketId}.Arn>/items/*`],
    }]);
  });

  test('without the suppression cdk-nag does report the prefix wildcard (the check is live)', () => {
    // GIVEN
    const f = fixture();
    const r = reader(f);
    const policy = r.role.node.findChild('DefaultPolicy').node.defaultChild as any;
    policy.cfnOptions.metadata = {};
    // WHEN
    Aspects.of(f.stack).add(new AwsSolutionsChecks());
    // THEN
    const errors = Annotations.fromStack(f.stack).findError('*', Match.stringLikeRegexp('AwsSolutions-IAM5'));
    expect(errors.map((e) => e.entry.data)).toEqual([expect.stringMatching(/AwsSolutions-IAM5\[Resource::<Bucket.*\.Arn>\/items\/\*\]/)]);
  });
});
