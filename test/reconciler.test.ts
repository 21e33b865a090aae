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
import { SplitStoreReader } from '../src/reader';
import { SplitStoreReconciler, SplitStoreReconcilerOptions } from '../src/reconciler';
import { testWiring } from './setup/wiring';
import { ENV } from '../src/runtime/config';

interface Fixture {
  readonly stack: Stack;
  readonly wiring: StoreWiring;
  readonly table: dynamodb.TableV2;
  readonly bucket: s3.IBucket;
  readonly key?: kms.Key;
}

/** A stack with a plain versioned bucket (or an imported one) and a TableV2. */
function fixture(opts: { key?: boolean; importedBucket?: boolean } = {}): Fixture {
  const app = new App();
  const stack = new Stack(app, 'Stack', { env: { account: '111111111111', region: 'us-east-1' } });
  const key = opts.key ? new kms.Key(stack, 'Key', { enableKeyRotation: true }) : undefined;
  const table = new dynamodb.TableV2(stack, 'Table', {
    partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: key ? dynamodb.TableEncryptionV2.customerManagedKey(key) : undefined,
  });
  const bucket = opts.importedBucket
    ? s3.Bucket.fromBucketName(stack, 'Bucket', 'existing-bucket')
    : new s3.Bucket(stack, 'Bucket', {
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
  return {
    stack,
    table,
    bucket,
    key,
    wiring: testWiring({ table, bucket, key, environment }),
  };
}

function reconciler(
  f: Fixture,
  options: SplitStoreReconcilerOptions = {},
  writerDeadline?: Duration,
): SplitStoreReconciler {
  // The store's wiring carries its writer deadline, in the environment too.
  const wiring: StoreWiring = writerDeadline
    ? { ...f.wiring, writerDeadline, environment: { ...f.wiring.environment, [ENV.writerDeadlineMs]: String(writerDeadline.toMilliseconds()) } }
    : f.wiring;
  return new SplitStoreReconciler(f.stack, 'Reconciler', { ...options, wiring });
}

/** The logical id of a construct's CloudFormation resource. */
function id(construct: IConstruct): string {
  return Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
}

function reconcilerFunction(template: Template): Record<string, any> {
  const values = Object.values(template.findResources('AWS::Lambda::Function', {
    Properties: { Description: Match.stringLikeRegexp('^cdk-split-store reconciler') },
  }));
  expect(values).toHaveLength(1);
  return values[0].Properties;
}

function reconcilerStatements(template: Template): any[] {
  const values = Object.values(template.findResources('AWS::IAM::Policy', {
    Properties: { PolicyName: Match.stringLikeRegexp('^ReconcilerServiceRoleDefaultPolicy') },
  }));
  expect(values).toHaveLength(1);
  return values[0].Properties.PolicyDocument.Statement;
}

function queueProps(template: Template, r: SplitStoreReconciler, which: 'queue' | 'deadLetterQueue'): Record<string, any> {
  return template.toJSON().Resources[id(r[which])].Properties;
}

describe('SplitStoreReconciler defaults', () => {
  test('a queue with a 5-minute delivery delay, SSL only, SQS managed encryption, a DLQ after 5 receives', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    const r = reconciler(f);
    // THEN
    const template = Template.fromStack(f.stack);
    template.resourceCountIs('AWS::SQS::Queue', 2);
    expect(queueProps(template, r, 'queue')).toEqual({
      DelaySeconds: 300,
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 360,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [id(r.deadLetterQueue), 'Arn'] },
        maxReceiveCount: 5,
      },
    });
    expect(queueProps(template, r, 'deadLetterQueue')).toEqual({
      MessageRetentionPeriod: 1209600,
      SqsManagedSseEnabled: true,
    });
    for (const queue of [r.queue, r.deadLetterQueue]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id(queue) }],
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({
            Effect: 'Deny',
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          })]),
        },
      });
    }
  });

  test('the bucket sends ObjectCreated and ObjectRemoved events (delete markers, deleted versions) under the key prefix to the queue', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    const r = reconciler(f);
    // THEN
    const template = Template.fromStack(f.stack);
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: id(f.bucket) },
      NotificationConfiguration: {
        QueueConfigurations: [{
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'items/' }] } },
          QueueArn: { 'Fn::GetAtt': [id(r.queue), 'Arn'] },
        }, {
          Events: ['s3:ObjectRemoved:*'],
          Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'items/' }] } },
          QueueArn: { 'Fn::GetAtt': [id(r.queue), 'Arn'] },
        }],
      },
      Managed: true,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: id(r.queue) }],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Effect: 'Allow',
          Principal: { Service: 's3.amazonaws.com' },
          Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [id(f.bucket), 'Arn'] } } },
        })]),
      },
    });
    expect(r.subscribed).toBe(true);
  });

  test('an event source mapping of 10 records reporting batch item failures', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    const r = reconciler(f);
    // THEN
    Template.fromStack(f.stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [id(r.queue), 'Arn'] },
      FunctionName: { Ref: id(r.function) },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  test('Node.js 24, 256 MiB, 1 minute, the wiring environment, own log group of one month', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    const r = reconciler(f);
    // THEN
    const template = Template.fromStack(f.stack);
    const props = reconcilerFunction(template);
    expect(props.Runtime).toEqual('nodejs24.x');
    expect(props.MemorySize).toEqual(256);
    expect(props.Timeout).toEqual(60);
    expect(props.TracingConfig).toBeUndefined();
    expect(props.Role).toEqual({ 'Fn::GetAtt': [id(r.role), 'Arn'] });
    expect(props.LoggingConfig).toEqual({ LogGroup: { Ref: id(r.logGroup) } });
    expect(props.Environment.Variables).toEqual({
      SPLIT_STORE_TABLE_NAME: { Ref: id(f.table) },
      SPLIT_STORE_BUCKET_NAME: { Ref: id(f.bucket) },
      SPLIT_STORE_KEY_PREFIX: 'items/',
      SPLIT_STORE_PARTITION_KEY: 'id',
      SPLIT_STORE_PARTITION_KEY_TYPE: 'S',
      SPLIT_STORE_WRITER_DEADLINE_MS: '20000',
      AWS_NODEJS_CONNECTION_REUSE_ENABLED: '1',
    });
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 30 },
      DeletionPolicy: 'Delete',
    });
  });

  test('least privilege: GetItem, HeadObject, DeleteObject(Version), ListBucket, ListBucketVersions under the prefix, queue consumption, logs', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    const r = reconciler(f);
    // THEN
    const template = Template.fromStack(f.stack);
    expect(reconcilerStatements(template)).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [id(r.logGroup), 'Arn'] },
      },
      {
        Effect: 'Allow',
        Action: 'dynamodb:GetItem',
        Resource: { 'Fn::GetAtt': [id(f.table), 'Arn'] },
      },
      {
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id(f.bucket), 'Arn'] }, '/items/*']] },
      },
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: { 'Fn::GetAtt': [id(f.bucket), 'Arn'] },
      },
      {
        Effect: 'Allow',
        Action: 's3:ListBucketVersions',
        Resource: { 'Fn::GetAtt': [id(f.bucket), 'Arn'] },
        Condition: { StringLike: { 's3:prefix': ['items/*'] } },
      },
      {
        Effect: 'Allow',
        Action: [
          'sqs:ReceiveMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:GetQueueUrl',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
        ],
        Resource: { 'Fn::GetAtt': [id(r.queue), 'Arn'] },
      },
    ]);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })],
      },
      ManagedPolicyArns: Match.absent(),
      Description: Match.stringLikeRegexp('reconciler'),
    });
  });

  test('keeps its construct ids stable', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    const r = reconciler(f);
    // THEN
    expect(r.node.children.map((c) => c.node.id).sort())
      .toEqual(['DeadLetterQueue', 'Function', 'LogGroup', 'Queue', 'ServiceRole']);
  });
});

describe('SplitStoreReconciler options', () => {
  test('delay', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    const r = reconciler(f, { delay: Duration.minutes(15) });
    // THEN
    expect(queueProps(Template.fromStack(f.stack), r, 'queue').DelaySeconds).toEqual(900);
  });

  test('memorySize', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    reconciler(f, { memorySize: 1024 });
    // THEN
    expect(reconcilerFunction(Template.fromStack(f.stack)).MemorySize).toEqual(1024);
  });

  test('logRetention', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    reconciler(f, { logRetention: logs.RetentionDays.ONE_WEEK });
    // THEN
    Template.fromStack(f.stack).hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  test('tracing', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    reconciler(f, { tracing: lambda.Tracing.ACTIVE });
    // THEN
    const template = Template.fromStack(f.stack);
    expect(reconcilerFunction(template).TracingConfig).toEqual({ Mode: 'Active' });
    expect(reconcilerStatements(template)).toContainEqual({
      Effect: 'Allow',
      Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
      Resource: '*',
    });
  });

  test('a customer managed key is granted Decrypt and DescribeKey; the queues keep SQS managed encryption (no Key-Bucket cycle)', () => {
    // GIVEN
    const f = fixture({ key: true });
    // WHEN
    const r = reconciler(f);
    // THEN (Template.fromStack refuses a template with a dependency cycle)
    const template = Template.fromStack(f.stack);
    const keyArn = { 'Fn::GetAtt': [id(f.key!), 'Arn'] };
    for (const queue of ['queue', 'deadLetterQueue'] as const) {
      const props = queueProps(template, r, queue);
      expect(props.SqsManagedSseEnabled).toBe(true);
      expect(props.KmsMasterKeyId).toBeUndefined();
    }
    expect(reconcilerStatements(template)).toContainEqual({
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:DescribeKey'],
      Resource: keyArn,
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.not(Match.arrayWith([Match.objectLike({ Principal: { Service: 's3.amazonaws.com' } })])),
      },
    });
  });

  test('a longer writer deadline accepts a delay that exceeds it by 30 seconds, and reaches the function', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    reconciler(f, { delay: Duration.minutes(2) }, Duration.seconds(90));
    // THEN
    expect(reconcilerFunction(Template.fromStack(f.stack)).Environment.Variables.SPLIT_STORE_WRITER_DEADLINE_MS)
      .toEqual('90000');
  });

  test('an imported bucket is not subscribed and a warning says how to subscribe it', () => {
    // GIVEN
    const f = fixture({ importedBucket: true });
    // WHEN
    const r = reconciler(f);
    // THEN
    const template = Template.fromStack(f.stack);
    template.resourceCountIs('Custom::S3BucketNotifications', 0);
    template.resourceCountIs('AWS::SQS::Queue', 2);
    expect(r.subscribed).toBe(false);
    const warnings = Annotations.fromStack(f.stack).findWarning(
      '/Stack/Reconciler',
      Match.stringLikeRegexp('is not defined in this stack, so its S3 event notifications were not changed'),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0].entry.data).toContain('"items/"');
    expect(warnings[0].entry.data).toContain('[ack: cdk-split-store:reconcilerNotSubscribed]');
  });

  test('a bucket of another stack is not subscribed', () => {
    // GIVEN
    const f = fixture();
    const other = new Stack(f.stack.node.scope as App, 'Other', { env: { account: '111111111111', region: 'us-east-1' } });
    const bucket = new s3.Bucket(other, 'Bucket', { versioned: true });
    // WHEN
    const r = new SplitStoreReconciler(f.stack, 'Reconciler', { wiring: { ...f.wiring, bucket } });
    // THEN
    expect(r.subscribed).toBe(false);
    Template.fromStack(other).resourceCountIs('Custom::S3BucketNotifications', 0);
  });
});

describe('SplitStoreReconciler validation', () => {
  test('fails when the delay exceeds 15 minutes', () => {
    const f = fixture();
    expect(() => reconciler(f, { delay: Duration.minutes(16) })).toThrow(
      'reconciler.delay must be a whole number of seconds up to 15 minutes (SQS\'s longest delivery delay), got 16 minutes',
    );
  });

  test('fails when the delay is not whole seconds', () => {
    const f = fixture();
    expect(() => reconciler(f, { delay: Duration.millis(60_500) })).toThrow(
      'reconciler.delay must be a whole number of seconds up to 15 minutes',
    );
  });

  test('fails when the delay does not exceed the default writer deadline by 30 seconds', () => {
    const f = fixture();
    expect(() => reconciler(f, { delay: Duration.seconds(49) })).toThrow(
      'reconciler.delay (49 seconds) must exceed writerDeadline (20 seconds) by at least 30 seconds',
    );
    expect(() => fixtureAndReconciler(Duration.seconds(50))).not.toThrow();
  });

  test('fails when the delay does not exceed a longer writer deadline', () => {
    const f = fixture();
    expect(() => reconciler(f, { delay: Duration.minutes(5) }, Duration.minutes(5))).toThrow(
      'reconciler.delay (5 minutes) must exceed writerDeadline (5 minutes) by at least 30 seconds',
    );
  });

  test('a delay that is a token is left to deploy time', () => {
    const f = fixture();
    const seconds = new CfnParameter(f.stack, 'Delay', { type: 'Number' }).valueAsNumber;
    expect(() => reconciler(f, { delay: Duration.seconds(seconds) })).not.toThrow();
  });

  test.each([64, 20_000])('fails when memorySize is %p', (memorySize) => {
    const f = fixture();
    expect(() => reconciler(f, { memorySize })).toThrow(
      `reconciler.memorySize must be a whole number of MiB between 128 and 10240, got ${memorySize}`,
    );
  });

  function fixtureAndReconciler(delay: Duration): SplitStoreReconciler {
    return reconciler(fixture(), { delay });
  }
});

describe('SplitStoreReconciler cdk-nag', () => {
  function nagFindings(stack: Stack): string[] {
    const annotations = Annotations.fromStack(stack);
    return [
      ...annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
      ...annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')),
    ].map((m) => `${m.id}: ${m.entry.data}`);
  }

  test.each([
    ['defaults', false, undefined],
    ['customer managed key and tracing', true, lambda.Tracing.ACTIVE],
  ])('reader + reconciler: AwsSolutions finds nothing unsuppressed (%s)', (_name, key, tracing) => {
    // GIVEN
    const f = fixture({ key });
    new SplitStoreReader(f.stack, 'Reader', { wiring: f.wiring, tracing });
    reconciler(f, { tracing });
    // WHEN
    Aspects.of(f.stack).add(new AwsSolutionsChecks({ verbose: true }));
    // THEN
    expect(nagFindings(f.stack)).toEqual([]);
  });

  test('the notifications handler singleton carries narrow suppressions with reasons', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    reconciler(f);
    // THEN
    const resources = Template.fromStack(f.stack).toJSON().Resources;
    const handlerIds = Object.keys(resources).filter((k) => k.startsWith('BucketNotificationsHandler050a0587b7544547bf325f094a3db834'));
    const suppressions = handlerIds
      .flatMap((k) => resources[k].Metadata?.cdk_nag?.rules_to_suppress ?? [])
      .map((rule: any) => [rule.id, rule.applies_to]);
    // The handler's s3:PutBucketNotification is on "*" in older aws-cdk-lib releases (the floor)
    // and scoped to the bucket in newer ones: the wildcard is suppressed exactly where it exists.
    const statements = handlerIds
      .filter((k) => resources[k].Type === 'AWS::IAM::Policy')
      .flatMap((k) => resources[k].Properties.PolicyDocument.Statement);
    const wildcard = statements.some((st: any) => [st.Resource].flat().includes('*'));
    expect(suppressions).toEqual([
      ['AwsSolutions-IAM4', ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole']],
      ...(wildcard ? [['AwsSolutions-IAM5', ['Resource::*']]] : []),
    ]);
    for (const k of handlerIds) {
      for (const rule of resources[k].Metadata?.cdk_nag?.rules_to_suppress ?? []) {
        expect(rule.reason.length).toBeGreaterThan(40);
      }
    }
  });

  test('without its suppressions the notifications handler is reported (the check is live)', () => {
    // GIVEN
    const f = fixture();
    reconciler(f);
    const handler = f.stack.node.findChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834');
    for (const c of handler.node.findAll()) {
      const cfn = c as any;
      if (cfn.cfnOptions) cfn.cfnOptions.metadata = {};
    }
    // WHEN
    Aspects.of(f.stack).add(new AwsSolutionsChecks());
    // THEN
    const ids = Annotations.fromStack(f.stack).findError('*', Match.stringLikeRegexp('AwsSolutions-IAM[45]'))
      .map((e) => e.id);
    expect(ids).toEqual(expect.arrayContaining([
      expect.stringContaining('BucketNotificationsHandler050a0587b7544547bf325f094a3db834/Role'),
    ]));
  });

  test('a second reconciler in the stack does not duplicate the handler suppressions', () => {
    // GIVEN
    const f = fixture();
    reconciler(f);
    const bucket2 = new s3.Bucket(f.stack, 'Bucket2', { versioned: true });
    // WHEN
    new SplitStoreReconciler(f.stack, 'Reconciler2', { wiring: { ...f.wiring, bucket: bucket2 } });
    // THEN
    const handler = f.stack.node.findChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834');
    const role = handler.node.findChild('Role').node.defaultChild as any;
    expect(role.getMetadata('cdk_nag').rules_to_suppress).toHaveLength(1);
  });
});
