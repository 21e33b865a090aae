/**
 * The two stores the compatibility checks synthesize (deprecations, cdk-nag 2 and 3, at the
 * aws-cdk-lib floor and at the newest release): the defaults, and every prop set.
 */
import { App, Duration, Size, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { SplitStore, SplitStoreProps } from '../../src';
import { addNagSuppressions } from '../../src/private/nag';

/** Props of a store built in a stack. */
export type StoreProps = (stack: Stack) => SplitStoreProps;

/** A store with the defaults. */
export const defaultStore: StoreProps = () => ({});

/**
 * A store with every prop set: customer managed key, sort key, index, TTL, table and bucket
 * overrides, access logs, a custom key prefix, retention, runtime, the reader's URL output,
 * the writer deadline, reader (tuning included), reconciler and doctor options with tracing.
 */
export const fullyConfiguredStore: StoreProps = (stack) => {
  const accessLogs = new s3.Bucket(stack, 'AccessLogs', {
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  });
  // AwsSolutions-S1 on the access-log bucket itself is the application's concern, not the store's.
  addNagSuppressions(accessLogs.node.defaultChild as s3.CfnBucket, [{
    id: 'AwsSolutions-S1',
    reason: 'This is the access-log destination bucket.',
  }]);
  return {
    encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }),
    partitionKey: { name: 'customerId', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'invoiceId', type: dynamodb.AttributeType.STRING },
    globalSecondaryIndexes: [{
      indexName: 'byIssueDate',
      partitionKey: { name: 'issuedOn', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'total', type: dynamodb.AttributeType.NUMBER },
    }],
    timeToLiveAttribute: 'expiresAt',
    tableName: 'invoices',
    deletionProtection: true,
    tableProps: {
      contributorInsightsEnabled: true,
      tableClass: dynamodb.TableClass.STANDARD_INFREQUENT_ACCESS,
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    },
    bucketProps: {
      eventBridgeEnabled: true,
      lifecycleRules: [{
        id: 'ColdVersions',
        noncurrentVersionTransitions: [{
          storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
          transitionAfter: Duration.days(3),
        }],
      }],
    },
    serverAccessLogsBucket: accessLogs,
    serverAccessLogsPrefix: 'store/',
    keyPrefix: 'invoices/v1/',
    requestMetricsId: 'InvoiceParts',
    retention: Duration.days(14),
    runtime: new lambda.Runtime('nodejs24.x', lambda.RuntimeFamily.NODEJS),
    readerUrlOutput: true,
    writerDeadline: Duration.seconds(40),
    reader: {
      memorySize: 1024,
      reservedConcurrentExecutions: 50,
      tracing: lambda.Tracing.ACTIVE,
      logRetention: logs.RetentionDays.THREE_MONTHS,
      timeout: Duration.seconds(60),
      partTimeout: Duration.seconds(20),
      maxRequestBodySize: Size.mebibytes(2),
      minStreamLineSize: Size.kibibytes(16),
    },
    reconciler: {
      delay: Duration.minutes(10),
      memorySize: 512,
      tracing: lambda.Tracing.ACTIVE,
      logRetention: logs.RetentionDays.THREE_MONTHS,
    },
    doctorEnabled: true,
    doctor: {
      schedule: events.Schedule.rate(Duration.hours(12)),
      minAge: Duration.minutes(30),
      memorySize: 2048,
      timeout: Duration.minutes(10),
      logRetention: logs.RetentionDays.THREE_MONTHS,
      tracing: lambda.Tracing.ACTIVE,
    },
  };
};

/** The two stores, by name, for `describe.each`. */
export const STORES: Array<[string, StoreProps]> = [
  ['a default store', defaultStore],
  ['a fully configured store', fullyConfiguredStore],
];

/**
 * A new app and stack holding one store built from `props`, with its monitoring (alarms and
 * dashboard) unless `monitoring` is false.
 */
export function storeInApp(props: StoreProps, monitoring = true): { app: App; stack: Stack; store: SplitStore } {
  const app = new App();
  const stack = new Stack(app, 'NagStack');
  const store = new SplitStore(stack, 'Store', props(stack));
  if (monitoring) store.addMonitoring();
  return { app, stack, store };
}

/** The finding cdk-nag reports for a grantee's access to the parts: `Resource::<Bucket.Arn>/<keyPrefix>*`. */
export function partsFinding(stack: Stack, store: SplitStore): string {
  return `Resource::<${stack.getLogicalId(store.bucket.node.defaultChild as s3.CfnBucket)}.Arn>/${store.keyPrefix}*`;
}

/** An application role (`App`) granted read-write access to the store, and the parts finding it gets. */
export function readWriteRole(stack: Stack, store: SplitStore): { role: iam.Role; finding: string } {
  const role = new iam.Role(stack, 'App', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  store.grantReadWrite(role);
  return { role, finding: partsFinding(stack, store) };
}
