/**
 * Tables and buckets created from a synthesized template's own properties: first a
 * hand-built stack (TableV2 + versioned Bucket + a function wired to both), then the
 * SplitStore construct itself.
 */
import { DescribeTableCommand, DescribeTimeToLiveCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetBucketLifecycleConfigurationCommand, GetBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { SplitStore } from '../../src';
import { DynamoDbLocal, LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from '../support/dynamodb-local';
import { CfnTemplate, createStoreFromTemplate, planStoreFromTemplate } from '../support/from-template';
import { VersionedS3Server } from '../support/versioned-s3-server';

function handBuiltTemplate(): CfnTemplate {
  const stack = new Stack(new App(), 'HandBuilt');
  const table = new dynamodb.TableV2(stack, 'Table', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.NUMBER },
    globalSecondaryIndexes: [{
      indexName: 'byCustomer',
      partitionKey: { name: 'customer', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'issuedAt', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.INCLUDE,
      nonKeyAttributes: ['total'],
    }],
    timeToLiveAttribute: 'expiresAt',
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const bucket = new s3.Bucket(stack, 'Bucket', {
    versioned: true,
    lifecycleRules: [{ id: 'retention', noncurrentVersionExpiration: Duration.days(7), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    removalPolicy: RemovalPolicy.DESTROY,
  });
  new s3.Bucket(stack, 'UnversionedLogs');
  new lambda.Function(stack, 'ReaderFn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    environment: {
      TABLE: table.tableName,
      TABLE_ARN: table.tableArn,
      BUCKET: bucket.bucketName,
      BUCKET_ARN: bucket.bucketArn,
      PLAIN: 'as-is',
    },
  });
  return Template.fromStack(stack).toJSON() as CfnTemplate;
}

describe('planStoreFromTemplate (no servers)', () => {
  test('reads the key schema, indexes, TTL, versioning and lifecycle from a TableV2 + Bucket stack', () => {
    const plan = planStoreFromTemplate(handBuiltTemplate(), { namePrefix: 'plan' });
    expect(plan.tableName).toMatch(/^plan-table-[0-9a-f]{8}$/);
    expect(plan.bucketName).toMatch(/^plan-bucket-[0-9a-f]{8}$/);
    expect(plan.createTable).toEqual({
      TableName: plan.tableName,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      AttributeDefinitions: expect.arrayContaining([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'N' },
        { AttributeName: 'customer', AttributeType: 'S' },
        { AttributeName: 'issuedAt', AttributeType: 'S' },
      ]),
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: [{
        IndexName: 'byCustomer',
        KeySchema: [{ AttributeName: 'customer', KeyType: 'HASH' }, { AttributeName: 'issuedAt', KeyType: 'RANGE' }],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['total'] },
      }],
    });
    expect(plan.timeToLiveAttribute).toBe('expiresAt');
    expect(plan.versioning).toBe('Enabled');
    expect(plan.lifecycleRules).toEqual([{
      ID: 'retention',
      Status: 'Enabled',
      Filter: { Prefix: '' },
      NoncurrentVersionExpiration: { NoncurrentDays: 7 },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
    }]);
  });

  test('resolves the function environment to the local names and ARNs', () => {
    const plan = planStoreFromTemplate(handBuiltTemplate());
    expect(plan.functionLogicalId).toMatch(/^ReaderFn/);
    expect(plan.environment).toEqual({
      TABLE: plan.tableName,
      TABLE_ARN: `arn:aws:dynamodb:us-east-1:000000000000:table/${plan.tableName}`,
      BUCKET: plan.bucketName,
      BUCKET_ARN: `arn:aws:s3:::${plan.bucketName}`,
      PLAIN: 'as-is',
    });
  });

  test('generates new names on every call', () => {
    const template = handBuiltTemplate();
    expect(planStoreFromTemplate(template).tableName).not.toBe(planStoreFromTemplate(template).tableName);
  });

  test('fails when the template has no versioned bucket', () => {
    const stack = new Stack(new App(), 'NoBucket');
    new dynamodb.TableV2(stack, 'Table', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    new s3.Bucket(stack, 'Plain');
    expect(() => planStoreFromTemplate(Template.fromStack(stack).toJSON())).toThrow(
      'expected one versioned AWS::S3::Bucket in the template, found 0: pass bucketLogicalId');
  });

  test('fails when an environment value cannot be resolved locally', () => {
    const stack = new Stack(new App(), 'Unresolvable');
    const table = new dynamodb.TableV2(stack, 'Table', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING }, dynamoStream: dynamodb.StreamViewType.NEW_IMAGE });
    new s3.Bucket(stack, 'Bucket', { versioned: true });
    new lambda.Function(stack, 'Fn', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('x'),
      environment: { STREAM: table.tableStreamArn! },
    });
    expect(() => planStoreFromTemplate(Template.fromStack(stack).toJSON())).toThrow(/cannot resolve Fn[0-9A-F]+\.Environment\.Variables\.STREAM/);
  });

  test('reads the SplitStore construct\'s template: its table, bucket and the reader\'s environment', () => {
    const stack = new Stack(new App(), 'Store');
    new SplitStore(stack, 'Store', { removalPolicy: RemovalPolicy.DESTROY });
    const plan = planStoreFromTemplate(Template.fromStack(stack).toJSON());
    expect(plan.functionLogicalId).toMatch(/Reader/);
    expect(plan.environment).toMatchObject({ SPLIT_STORE_TABLE_NAME: plan.tableName, SPLIT_STORE_BUCKET_NAME: plan.bucketName });
    expect(plan.versioning).toBe('Enabled');
    expect(plan.lifecycleRules?.some((r) => r.NoncurrentVersionExpiration?.NoncurrentDays !== undefined)).toBe(true);
    for (const env of Object.values(plan.environments)) {
      expect(env.SPLIT_STORE_TABLE_NAME).toBe(plan.tableName);
    }
  });
});

describe('createStoreFromTemplate (DynamoDB Local + versioned S3 server)', () => {
  let ddb: DynamoDbLocal;
  let server: VersionedS3Server;
  let clients: { dynamodb: DynamoDBClient; s3: S3Client };

  beforeAll(async () => {
    [ddb, server] = await Promise.all([startDynamoDbLocal(), VersionedS3Server.start()]);
    clients = {
      dynamodb: new DynamoDBClient({ region: LOCAL_REGION, endpoint: ddb.endpoint, credentials: LOCAL_CREDENTIALS }),
      s3: new S3Client({ region: LOCAL_REGION, endpoint: server.endpoint, forcePathStyle: true, credentials: LOCAL_CREDENTIALS }),
    };
  });

  afterAll(async () => {
    clients?.dynamodb.destroy();
    clients?.s3.destroy();
    await Promise.all([ddb?.stop(), server?.stop()]);
  });

  test('creates the hand-built stack\'s table (keys, index, TTL) and bucket (versioning, lifecycle)', async () => {
    const plan = await createStoreFromTemplate(handBuiltTemplate(), clients);
    const table = (await clients.dynamodb.send(new DescribeTableCommand({ TableName: plan.tableName }))).Table!;
    expect(table.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }]);
    expect(table.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.Projection?.ProjectionType])).toEqual([['byCustomer', 'INCLUDE']]);
    const ttl = await clients.dynamodb.send(new DescribeTimeToLiveCommand({ TableName: plan.tableName }));
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe('expiresAt');
    expect((await clients.s3.send(new GetBucketVersioningCommand({ Bucket: plan.bucketName }))).Status).toBe('Enabled');
    const lifecycle = await clients.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: plan.bucketName }));
    expect(lifecycle.Rules?.[0]).toMatchObject({ ID: 'retention', NoncurrentVersionExpiration: { NoncurrentDays: 7 } });
  });

  test('creates the SplitStore construct\'s table and bucket', async () => {
    const stack = new Stack(new App(), 'Store');
    new SplitStore(stack, 'Store', {
      removalPolicy: RemovalPolicy.DESTROY,
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      globalSecondaryIndexes: [{ indexName: 'byCustomer', partitionKey: { name: 'customer', type: dynamodb.AttributeType.STRING } }],
    });
    const plan = await createStoreFromTemplate(Template.fromStack(stack).toJSON(), clients);
    const table = (await clients.dynamodb.send(new DescribeTableCommand({ TableName: plan.tableName }))).Table!;
    expect(table.KeySchema?.map((k) => k.KeyType)).toEqual(['HASH', 'RANGE']);
    expect(table.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(['byCustomer']);
    expect((await clients.s3.send(new GetBucketVersioningCommand({ Bucket: plan.bucketName }))).Status).toBe('Enabled');
    expect(plan.environment.SPLIT_STORE_SORT_KEY).toBe('sk');
  });
});
