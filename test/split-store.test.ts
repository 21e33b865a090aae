import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { SplitStore, SplitStoreProps } from '../src';

function newStack(): Stack {
  return new Stack(new App(), 'TestStack');
}

/** A store without the reference Lambdas, for tests about the table and the bucket. */
function storeOnly(stack: Stack, props: SplitStoreProps = {}): SplitStore {
  return new SplitStore(stack, 'Store', { readerEnabled: false, reconcilerEnabled: false, ...props });
}

function templateOf(props: SplitStoreProps = {}): Template {
  const stack = newStack();
  storeOnly(stack, props);
  return Template.fromStack(stack);
}

describe('defaults', () => {
  let template: Template;
  let store: SplitStore;
  beforeAll(() => {
    // GIVEN
    const stack = newStack();
    // WHEN
    store = new SplitStore(stack, 'Store');
    // THEN
    template = Template.fromStack(stack);
  });

  test('creates one table and one parts bucket', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.resourcePropertiesCountIs('AWS::S3::Bucket', { VersioningConfiguration: { Status: 'Enabled' } }, 1);
  });

  test('table is billed on demand', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { BillingMode: 'PAY_PER_REQUEST' });
  });

  test('partition key is a string named id and there is no sort key', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    });
    expect(store.partitionKey).toEqual({ name: 'id', type: dynamodb.AttributeType.STRING });
    expect(store.sortKey).toBeUndefined();
  });

  test('point-in-time recovery is on with a 7-day recovery period', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 7 },
    });
    expect(store.retention.toDays()).toBe(7);
  });

  test('deletion protection is on', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: true });
  });

  test('table uses the AWS owned key (no SSE specification)', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: Match.absent() });
    expect(store.encryptionKey).toBeUndefined();
  });

  test('table has no TTL, no GSI and no stream', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: Match.absent(),
      GlobalSecondaryIndexes: Match.absent(),
      StreamSpecification: Match.absent(),
    });
  });

  test('table is retained on stack deletion and replacement', () => {
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('bucket is versioned', () => {
    template.hasResourceProperties('AWS::S3::Bucket', { VersioningConfiguration: { Status: 'Enabled' } });
  });

  test('noncurrent versions expire after 7 days, expired delete markers go, incomplete uploads abort after 1 day', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [{
          Id: 'SplitStoreRetention',
          Status: 'Enabled',
          NoncurrentVersionExpiration: { NoncurrentDays: 7 },
          ExpiredObjectDeleteMarker: true,
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        }],
      },
    });
  });

  test('all public access is blocked', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
  });

  test('bucket policy denies requests without TLS', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Effect: 'Deny',
          Action: 's3:*',
          Principal: { AWS: '*' },
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        })]),
      },
    });
  });

  test('bucket policy denies TLS older than 1.2', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Effect: 'Deny',
          Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
        })]),
      },
    });
  });

  test('object ownership is bucket-owner-enforced (ACLs off)', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
  });

  test('bucket uses SSE-S3', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    });
  });

  test('bucket has no access logging', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: Match.absent(),
    });
  });

  test('bucket is retained on stack deletion and replacement', () => {
    template.hasResource('AWS::S3::Bucket', {
      Properties: Match.objectLike({ VersioningConfiguration: { Status: 'Enabled' } }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('bucket has a request-metrics configuration on the items/ prefix', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      MetricsConfigurations: [{ Id: 'SplitStoreParts', Prefix: 'items/' }],
    });
    expect(store.requestMetricsId).toBe('SplitStoreParts');
  });

  test('key prefix is items/', () => {
    expect(store.keyPrefix).toBe('items/');
  });

  test('deploys the reference reader with a Function URL', () => {
    expect(store.readerFunction).toBeDefined();
    expect(store.readerUrl).toBeDefined();
    template.resourceCountIs('AWS::Lambda::Url', 1);
  });

  test('deploys the reconciler and its queue', () => {
    expect(store.reconcilerFunction).toBeDefined();
    expect(store.reconcilerQueue).toBeDefined();
    expect(store.reconcilerDeadLetterQueue).toBeDefined();
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StoreReconcilerQueue'), 'Arn'] },
    });
  });

  test('reference Lambdas get the store environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('reader'),
      Environment: {
        Variables: Match.objectLike({
          SPLIT_STORE_TABLE_NAME: { Ref: Match.stringLikeRegexp('^StoreTable') },
          SPLIT_STORE_BUCKET_NAME: { Ref: Match.stringLikeRegexp('^StoreBucket') },
          SPLIT_STORE_KEY_PREFIX: 'items/',
          SPLIT_STORE_PARTITION_KEY: 'id',
          SPLIT_STORE_PARTITION_KEY_TYPE: 'S',
          SPLIT_STORE_INDEXES: '[]',
        }),
      },
    });
  });
});

describe('table props', () => {
  test('partitionKey sets the key attribute and its type', () => {
    const template = templateOf({ partitionKey: { name: 'invoiceNo', type: dynamodb.AttributeType.NUMBER } });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'invoiceNo', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'invoiceNo', AttributeType: 'N' }],
    });
  });

  test('sortKey adds a RANGE key', () => {
    const template = templateOf({ sortKey: { name: 'version', type: dynamodb.AttributeType.NUMBER } });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }, { AttributeName: 'version', KeyType: 'RANGE' }],
      AttributeDefinitions: Match.arrayWith([{ AttributeName: 'version', AttributeType: 'N' }]),
    });
  });

  test('globalSecondaryIndexes creates indexes with projection ALL by default', () => {
    const template = templateOf({
      globalSecondaryIndexes: [{
        indexName: 'byCustomer',
        partitionKey: { name: 'customerId', type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'issuedAt', type: dynamodb.AttributeType.STRING },
      }],
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: [{
        IndexName: 'byCustomer',
        KeySchema: [{ AttributeName: 'customerId', KeyType: 'HASH' }, { AttributeName: 'issuedAt', KeyType: 'RANGE' }],
        Projection: { ProjectionType: 'ALL' },
      }],
    });
  });

  test('globalSecondaryIndexes keeps a projection the user chose', () => {
    const template = templateOf({
      globalSecondaryIndexes: [{
        indexName: 'byStatus',
        partitionKey: { name: 'status', type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.KEYS_ONLY,
      }],
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'byStatus', Projection: { ProjectionType: 'KEYS_ONLY' } })],
    });
  });

  test('timeToLiveAttribute enables TTL', () => {
    const template = templateOf({ timeToLiveAttribute: 'expiresAt' });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  test('tableName sets the physical name', () => {
    const template = templateOf({ tableName: 'invoices' });
    template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'invoices' });
  });

  test('deletionProtection: false turns deletion protection off', () => {
    const template = templateOf({ deletionProtection: false });
    template.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false });
  });

  test('tableProps sets contributor insights, table class and stream', () => {
    const template = templateOf({
      tableProps: {
        contributorInsightsEnabled: true,
        tableClass: dynamodb.TableClass.STANDARD_INFREQUENT_ACCESS,
        stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      },
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      ContributorInsightsSpecification: { Enabled: true },
      TableClass: 'STANDARD_INFREQUENT_ACCESS',
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 7 },
    });
  });
});

describe('shared props', () => {
  test('encryptionKey encrypts the table and the bucket (SSE-KMS with a bucket key)', () => {
    // GIVEN
    const stack = newStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    // WHEN
    const store = storeOnly(stack, { encryptionKey: key });
    // THEN
    const template = Template.fromStack(stack);
    const keyArn = { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] };
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn },
        }],
      },
    });
    expect(store.encryptionKey).toBe(key);
  });

  test('removalPolicy applies to the table and the bucket', () => {
    const template = templateOf({ removalPolicy: RemovalPolicy.DESTROY, deletionProtection: false, bucketProps: { autoDeleteObjects: true } });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
  });

  test('removalPolicy DESTROY with deletion protection on warns that deletion will fail', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    storeOnly(stack, { removalPolicy: RemovalPolicy.DESTROY });
    // THEN
    Annotations.fromStack(stack).hasWarning('/TestStack/Store', Match.stringLikeRegexp('deletion protection on.*Set deletionProtection: false'));
  });

  test('removalPolicy DESTROY with deletionProtection: false does not warn', () => {
    const stack = newStack();
    storeOnly(stack, { removalPolicy: RemovalPolicy.DESTROY, deletionProtection: false, bucketProps: { autoDeleteObjects: true } });
    Annotations.fromStack(stack).hasNoWarning('/TestStack/Store', Match.anyValue());
  });

  test('keyPrefix scopes the metrics configuration and the runtime environment', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    const store = new SplitStore(stack, 'Store', { keyPrefix: 'invoices/v1/', reconcilerEnabled: false });
    // THEN
    const template = Template.fromStack(stack);
    expect(store.keyPrefix).toBe('invoices/v1/');
    template.hasResourceProperties('AWS::S3::Bucket', { MetricsConfigurations: [{ Id: 'SplitStoreParts', Prefix: 'invoices/v1/' }] });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SPLIT_STORE_KEY_PREFIX: 'invoices/v1/' }) },
    });
  });
});

describe('bucket props', () => {
  test('serverAccessLogsBucket and serverAccessLogsPrefix turn on access logging', () => {
    // GIVEN
    const stack = newStack();
    const logs = new s3.Bucket(stack, 'Logs');
    // WHEN
    storeOnly(stack, { serverAccessLogsBucket: logs, serverAccessLogsPrefix: 'store/' });
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { DestinationBucketName: { Ref: stack.getLogicalId(logs.node.defaultChild as s3.CfnBucket) }, LogFilePrefix: 'store/' },
    });
  });

  test('bucketProps is merged over the defaults', () => {
    const template = templateOf({ bucketProps: { bucketName: 'my-parts', transferAcceleration: true } });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'my-parts',
      AccelerateConfiguration: { AccelerationStatus: 'Enabled' },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: Match.objectLike({ BlockPublicPolicy: true }),
    });
  });

  test('bucketProps.lifecycleRules are added after the retention rule', () => {
    const template = templateOf({
      bucketProps: {
        lifecycleRules: [{ id: 'Archive', noncurrentVersionTransitions: [{ storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(3) }] }],
      },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({ Id: 'SplitStoreRetention', NoncurrentVersionExpiration: { NoncurrentDays: 7 } }),
          Match.objectLike({ Id: 'Archive' }),
        ],
      },
    });
  });

  test('bucketProps.lifecycleRules may expire objects outside the key prefix', () => {
    const template = templateOf({
      bucketProps: { lifecycleRules: [{ id: 'Scratch', prefix: 'tmp/', expiration: Duration.days(1) }] },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'Scratch', Prefix: 'tmp/', ExpirationInDays: 1 })]) },
    });
  });

  test('bucketProps.lifecycleRules may keep noncurrent versions longer than the retention window', () => {
    const template = templateOf({
      bucketProps: { lifecycleRules: [{ id: 'Longer', noncurrentVersionExpiration: Duration.days(30) }] },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'Longer', NoncurrentVersionExpiration: { NoncurrentDays: 30 } })]) },
    });
  });

  test('bucketProps.metrics are added after the store\'s metrics configuration', () => {
    const template = templateOf({ bucketProps: { metrics: [{ id: 'Everything' }] } });
    template.hasResourceProperties('AWS::S3::Bucket', {
      MetricsConfigurations: [{ Id: 'SplitStoreParts', Prefix: 'items/' }, { Id: 'Everything' }],
    });
  });

  test('requestMetricsId names the metrics configuration', () => {
    const template = templateOf({ requestMetricsId: 'Parts' });
    template.hasResourceProperties('AWS::S3::Bucket', { MetricsConfigurations: [{ Id: 'Parts', Prefix: 'items/' }] });
  });
});

describe('reference Lambdas', () => {
  test('readerEnabled: false deploys no reader', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    const store = new SplitStore(stack, 'Store', { readerEnabled: false });
    // THEN
    expect(store.readerFunction).toBeUndefined();
    expect(store.readerUrl).toBeUndefined();
    expect(store.node.tryFindChild('Reader')).toBeUndefined();
    Template.fromStack(stack).resourceCountIs('AWS::Lambda::Url', 0);
  });

  test('reconcilerEnabled: false deploys no reconciler', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    const store = new SplitStore(stack, 'Store', { reconcilerEnabled: false });
    // THEN
    expect(store.reconcilerFunction).toBeUndefined();
    expect(store.reconcilerQueue).toBeUndefined();
    expect(store.node.tryFindChild('Reconciler')).toBeUndefined();
    Template.fromStack(stack).resourceCountIs('AWS::SQS::Queue', 0);
  });

  test('reader options reach the reader function', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new SplitStore(stack, 'Store', { reader: { memorySize: 1024, functionUrl: false }, reconcilerEnabled: false });
    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 1024 });
    template.resourceCountIs('AWS::Lambda::Url', 0);
  });

  test('reconciler options reach the reconciler queue', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new SplitStore(stack, 'Store', { reconciler: { delay: Duration.minutes(10) }, readerEnabled: false });
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::SQS::Queue', { DelaySeconds: 600 });
  });

  test('sort key and indexes reach the Lambda environment', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new SplitStore(stack, 'Store', {
      sortKey: { name: 'rev', type: dynamodb.AttributeType.NUMBER },
      globalSecondaryIndexes: [{
        indexName: 'byCustomer',
        partitionKey: { name: 'customerId', type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'issuedAt', type: dynamodb.AttributeType.STRING },
      }],
      reconcilerEnabled: false,
    });
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          SPLIT_STORE_SORT_KEY: 'rev',
          SPLIT_STORE_SORT_KEY_TYPE: 'N',
          SPLIT_STORE_INDEXES: JSON.stringify([{
            name: 'byCustomer',
            partitionKey: { name: 'customerId', type: 'S' },
            sortKey: { name: 'issuedAt', type: 'S' },
          }]),
        }),
      },
    });
  });
});

describe('bring your own', () => {
  test('table: uses it, creates no table, and warns about the guarantees its owner keeps', () => {
    // GIVEN
    const stack = newStack();
    const table = dynamodb.Table.fromTableName(stack, 'Existing', 'existing-invoices');
    // WHEN
    const store = storeOnly(stack, { table, partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    // THEN
    expect(store.table).toBe(table);
    Template.fromStack(stack).resourceCountIs('AWS::DynamoDB::Table', 0);
    Annotations.fromStack(stack).hasWarning('/TestStack/Store',
      Match.stringLikeRegexp('point-in-time recovery on with a recovery period of at most 7 days'));
  });

  test('table: its name reaches the Lambda environment', () => {
    // GIVEN
    const stack = newStack();
    const table = dynamodb.Table.fromTableName(stack, 'Existing', 'existing-invoices');
    // WHEN
    new SplitStore(stack, 'Store', { table, partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING }, reconcilerEnabled: false });
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SPLIT_STORE_TABLE_NAME: 'existing-invoices', SPLIT_STORE_PARTITION_KEY: 'pk' }) },
    });
  });

  test('bucket: uses it, creates no bucket, and warns about the guarantees its owner keeps', () => {
    // GIVEN
    const stack = newStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'Existing', 'existing-parts');
    // WHEN
    const store = storeOnly(stack, { bucket });
    // THEN
    expect(store.bucket).toBe(bucket);
    expect(store.requestMetricsId).toBeUndefined();
    Template.fromStack(stack).resourceCountIs('AWS::S3::Bucket', 0);
    Annotations.fromStack(stack).hasWarning('/TestStack/Store',
      Match.stringLikeRegexp('keep versioning on and keep noncurrent versions for at least 7 days'));
  });

  test('bucket: requestMetricsId names its existing metrics configuration', () => {
    // GIVEN
    const stack = newStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'Existing', 'existing-parts');
    // WHEN
    const store = storeOnly(stack, { bucket, requestMetricsId: 'Existing' });
    // THEN
    expect(stack.resolve(store.metricBucketAllRequests().dimensions)).toEqual({ BucketName: 'existing-parts', FilterId: 'Existing' });
  });

  test('no warning when the store creates both resources', () => {
    const stack = newStack();
    storeOnly(stack);
    Annotations.fromStack(stack).hasNoWarning('/TestStack/Store', Match.anyValue());
  });
});

describe('validation', () => {
  test.each<[string, (stack: Stack) => SplitStoreProps, RegExp]>([
    ['table and tableProps', (stack) => ({
      table: dynamodb.Table.fromTableName(stack, 'T', 't'),
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      tableProps: { contributorInsightsEnabled: true },
    }), /table and tableProps are exclusive/],
    ['table and tableName', (stack) => ({
      table: dynamodb.Table.fromTableName(stack, 'T', 't'), partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING }, tableName: 'x',
    }), /table and tableName are exclusive/],
    ['table and timeToLiveAttribute', (stack) => ({
      table: dynamodb.Table.fromTableName(stack, 'T', 't'), partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING }, timeToLiveAttribute: 'ttl',
    }), /table and timeToLiveAttribute are exclusive/],
    ['table and deletionProtection', (stack) => ({
      table: dynamodb.Table.fromTableName(stack, 'T', 't'), partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING }, deletionProtection: false,
    }), /table and deletionProtection are exclusive/],
    ['bucket and bucketProps', (stack) => ({
      bucket: s3.Bucket.fromBucketName(stack, 'B', 'brought-parts'), bucketProps: { bucketName: 'other-parts' },
    }), /bucket and bucketProps are exclusive/],
    ['bucket and serverAccessLogsBucket', (stack) => ({
      bucket: s3.Bucket.fromBucketName(stack, 'B', 'brought-parts'), serverAccessLogsBucket: s3.Bucket.fromBucketName(stack, 'L', 'brought-logs'),
    }), /bucket and serverAccessLogsBucket are exclusive/],
    ['bucket and serverAccessLogsPrefix', (stack) => ({
      bucket: s3.Bucket.fromBucketName(stack, 'B', 'brought-parts'), serverAccessLogsPrefix: 'logs/',
    }), /bucket and serverAccessLogsPrefix are exclusive/],
    ['table, bucket and encryptionKey', (stack) => ({
      table: dynamodb.Table.fromTableName(stack, 'T', 't'),
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      bucket: s3.Bucket.fromBucketName(stack, 'B', 'brought-parts'),
      encryptionKey: new kms.Key(stack, 'K'),
    }), /encryptionKey was given with both table and bucket: .*Fix: remove encryptionKey/],
    ['table, bucket and removalPolicy', (stack) => ({
      table: dynamodb.Table.fromTableName(stack, 'T', 't'),
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      bucket: s3.Bucket.fromBucketName(stack, 'B', 'brought-parts'),
      removalPolicy: RemovalPolicy.DESTROY,
    }), /removalPolicy was given with both table and bucket: .*Fix: remove removalPolicy/],
    ['removalPolicy and bucketProps.removalPolicy', () => ({
      removalPolicy: RemovalPolicy.RETAIN, bucketProps: { removalPolicy: RemovalPolicy.DESTROY },
    }), /removalPolicy and bucketProps.removalPolicy are exclusive/],
    ['serverAccessLogsBucket and bucketProps.serverAccessLogsBucket', (stack) => ({
      serverAccessLogsBucket: new s3.Bucket(stack, 'L1'), bucketProps: { serverAccessLogsBucket: new s3.Bucket(stack, 'L2') },
    }), /serverAccessLogsBucket and bucketProps.serverAccessLogsBucket are exclusive/],
  ])('fails when %s are given together', (_name, props, message) => {
    const stack = newStack();
    expect(() => storeOnly(stack, props(stack))).toThrow(message);
  });

  test('fails when a table is brought without partitionKey', () => {
    const stack = newStack();
    const table = dynamodb.Table.fromTableName(stack, 'T', 't');
    expect(() => storeOnly(stack, { table })).toThrow(/partitionKey is required when table is given/);
  });

  test('fails when the partition key is BINARY, naming the prop and the fix', () => {
    expect(() => templateOf({ partitionKey: { name: 'blob', type: dynamodb.AttributeType.BINARY } }))
      .toThrow(/partitionKey 'blob' has type B; a store's keys must be strings or numbers.*Fix: use AttributeType.STRING or AttributeType.NUMBER/);
  });

  test('fails when the sort key is BINARY', () => {
    expect(() => templateOf({ sortKey: { name: 'blob', type: dynamodb.AttributeType.BINARY } }))
      .toThrow(/sortKey 'blob' has type B/);
  });

  test('fails when an index key is BINARY', () => {
    expect(() => templateOf({
      globalSecondaryIndexes: [{ indexName: 'byBlob', partitionKey: { name: 'blob', type: dynamodb.AttributeType.BINARY } }],
    })).toThrow(/globalSecondaryIndexes\[0\]\.partitionKey 'blob' has type B/);
  });

  test('fails when the partition key name is empty', () => {
    expect(() => templateOf({ partitionKey: { name: '', type: dynamodb.AttributeType.STRING } }))
      .toThrow(/partitionKey.name must not be empty/);
  });

  test('fails when serverAccessLogsPrefix is given without serverAccessLogsBucket', () => {
    expect(() => templateOf({ serverAccessLogsPrefix: 'logs/' })).toThrow(/serverAccessLogsPrefix needs serverAccessLogsBucket/);
  });

  test('fails when bucketProps.versioned is false', () => {
    expect(() => templateOf({ bucketProps: { versioned: false } })).toThrow(/bucketProps.versioned cannot be false: parts are pinned/);
  });

  test('fails when bucketProps.blockPublicAccess does not block everything', () => {
    expect(() => templateOf({ bucketProps: { blockPublicAccess: s3.BlockPublicAccess.BLOCK_ACLS } }))
      .toThrow(/bucketProps.blockPublicAccess must block all public access/);
  });

  test('fails when bucketProps.publicReadAccess is true', () => {
    expect(() => templateOf({ bucketProps: { publicReadAccess: true } })).toThrow(/bucketProps.publicReadAccess cannot be true/);
  });

  test('fails when bucketProps.enforceSSL is false', () => {
    expect(() => templateOf({ bucketProps: { enforceSSL: false } })).toThrow(/bucketProps.enforceSSL cannot be false/);
  });

  test('fails when bucketProps.objectOwnership enables ACLs', () => {
    expect(() => templateOf({ bucketProps: { objectOwnership: s3.ObjectOwnership.OBJECT_WRITER } }))
      .toThrow(/bucketProps.objectOwnership must be BUCKET_OWNER_ENFORCED/);
  });

  test('fails when bucketProps sets encryption instead of encryptionKey', () => {
    expect(() => templateOf({ bucketProps: { encryption: s3.BucketEncryption.KMS_MANAGED } }))
      .toThrow(/bucketProps.encryption is set by the store.*encryptionKey/);
  });

  test('fails when a bucketProps lifecycle rule expires noncurrent versions sooner than retention', () => {
    expect(() => templateOf({ bucketProps: { lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(3) }] } }))
      .toThrow(/bucketProps.lifecycleRules\[0\].noncurrentVersionExpiration \(3 days\) is shorter than retention \(7 days\)/);
  });

  test('fails when a bucketProps lifecycle rule expires current parts under the key prefix', () => {
    expect(() => templateOf({ bucketProps: { lifecycleRules: [{ prefix: 'items/', expiration: Duration.days(30) }] } }))
      .toThrow(/bucketProps.lifecycleRules\[0\].expiration would expire current parts under 'items\/'/);
  });

  test('fails when reader options are given with readerEnabled: false', () => {
    const stack = newStack();
    expect(() => new SplitStore(stack, 'Store', { readerEnabled: false, reader: { memorySize: 1024 } }))
      .toThrow(/reader options were given with readerEnabled: false/);
  });

  test('fails when reconciler options are given with reconcilerEnabled: false', () => {
    const stack = newStack();
    expect(() => new SplitStore(stack, 'Store', { reconcilerEnabled: false, reconciler: { delay: Duration.minutes(10) } }))
      .toThrow(/reconciler options were given with reconcilerEnabled: false/);
  });
});

describe('metrics', () => {
  let stack: Stack;
  let store: SplitStore;
  beforeEach(() => {
    stack = newStack();
    store = storeOnly(stack);
  });
  const tableName = () => stack.resolve(store.table.tableName);
  const bucketName = () => stack.resolve(store.bucket.bucketName);

  test('metricTableThrottledRequests is per operation (Sum)', () => {
    const metric = store.metricTableThrottledRequests(dynamodb.Operation.GET_ITEM);
    expect(metric.namespace).toBe('AWS/DynamoDB');
    expect(metric.metricName).toBe('ThrottledRequests');
    expect(metric.statistic).toBe('Sum');
    expect(stack.resolve(metric.dimensions)).toEqual({ TableName: tableName(), Operation: 'GetItem' });
  });

  test('metricTableReadThrottleEvents and metricTableWriteThrottleEvents (Sum)', () => {
    const read = store.metricTableReadThrottleEvents();
    const write = store.metricTableWriteThrottleEvents();
    expect([read.metricName, read.statistic]).toEqual(['ReadThrottleEvents', 'Sum']);
    expect([write.metricName, write.statistic]).toEqual(['WriteThrottleEvents', 'Sum']);
    expect(stack.resolve(read.dimensions)).toEqual({ TableName: tableName() });
  });

  test('metricTableSuccessfulRequestLatency is per operation (Average)', () => {
    const metric = store.metricTableSuccessfulRequestLatency(dynamodb.Operation.QUERY, { period: Duration.minutes(1) });
    expect(metric.metricName).toBe('SuccessfulRequestLatency');
    expect(metric.statistic).toBe('Average');
    expect(metric.period.toMinutes()).toBe(1);
    expect(stack.resolve(metric.dimensions)).toEqual({ TableName: tableName(), Operation: 'Query' });
  });

  test('metricTableConsumedReadCapacityUnits and metricTableConsumedWriteCapacityUnits (Sum)', () => {
    const read = store.metricTableConsumedReadCapacityUnits();
    const write = store.metricTableConsumedWriteCapacityUnits();
    expect([read.metricName, read.statistic]).toEqual(['ConsumedReadCapacityUnits', 'Sum']);
    expect([write.metricName, write.statistic]).toEqual(['ConsumedWriteCapacityUnits', 'Sum']);
  });

  test.each<[keyof SplitStore, string, string]>([
    ['metricBucketAllRequests', 'AllRequests', 'Sum'],
    ['metricBucketGetRequests', 'GetRequests', 'Sum'],
    ['metricBucketPutRequests', 'PutRequests', 'Sum'],
    ['metricBucket4xxErrors', '4xxErrors', 'Sum'],
    ['metricBucket5xxErrors', '5xxErrors', 'Sum'],
    ['metricBucketFirstByteLatency', 'FirstByteLatency', 'Average'],
    ['metricBucketTotalRequestLatency', 'TotalRequestLatency', 'Average'],
  ])('%s is the S3 request metric %s (%s) of the metrics configuration', (method, metricName, statistic) => {
    const metric = (store[method] as (props?: object) => import('aws-cdk-lib/aws-cloudwatch').Metric).call(store);
    expect(metric.namespace).toBe('AWS/S3');
    expect(metric.metricName).toBe(metricName);
    expect(metric.statistic).toBe(statistic);
    expect(stack.resolve(metric.dimensions)).toEqual({ BucketName: bucketName(), FilterId: 'SplitStoreParts' });
  });

  test('metricBucket accepts MetricOptions', () => {
    const metric = store.metricBucket('HeadRequests', { statistic: 'Maximum', period: Duration.minutes(1) });
    expect([metric.metricName, metric.statistic, metric.period.toMinutes()]).toEqual(['HeadRequests', 'Maximum', 1]);
  });

  test('fails when bucket metrics are asked of a brought bucket without requestMetricsId', () => {
    const other = newStack();
    const brought = storeOnly(other, { bucket: s3.Bucket.fromBucketName(other, 'B', 'brought-parts') });
    expect(() => brought.metricBucketAllRequests()).toThrow(/has no known request-metrics configuration.*requestMetricsId/);
  });
});

describe('grantAndConfigure', () => {
  function fnIn(stack: Stack): lambda.Function {
    return new lambda.Function(stack, 'App', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {};'),
    });
  }

  test('sets the store environment on the function', () => {
    // GIVEN
    const stack = newStack();
    const store = storeOnly(stack, { sortKey: { name: 'rev', type: dynamodb.AttributeType.NUMBER } });
    const fn = fnIn(stack);
    // WHEN
    store.grantAndConfigure(fn);
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Environment: {
        Variables: {
          SPLIT_STORE_TABLE_NAME: { Ref: Match.stringLikeRegexp('^StoreTable') },
          SPLIT_STORE_BUCKET_NAME: { Ref: Match.stringLikeRegexp('^StoreBucket') },
          SPLIT_STORE_KEY_PREFIX: 'items/',
          SPLIT_STORE_PARTITION_KEY: 'id',
          SPLIT_STORE_PARTITION_KEY_TYPE: 'S',
          SPLIT_STORE_SORT_KEY: 'rev',
          SPLIT_STORE_SORT_KEY_TYPE: 'N',
          SPLIT_STORE_INDEXES: '[]',
          SPLIT_STORE_WRITER_DEADLINE_MS: '20000',
        },
      },
    });
  });
});
