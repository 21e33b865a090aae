import { Annotations, CfnOutput, Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, IConstruct } from 'constructs';
import {
  KEY_READ_ACTIONS,
  KEY_WRITE_ACTIONS,
  PARTS_READ_ACTIONS,
  PARTS_WRITE_ACTIONS,
  TABLE_READ_ACTIONS,
  TABLE_WRITE_ACTIONS,
} from './perms';
import { checkRuntime, DEFAULT_NODE_RUNTIME } from './private/bundled-function';
import { accessLogsSuppression, addNagSuppressions } from './private/nag';
import { StoreWiring } from './private/wiring';
import { SplitStoreReader, SplitStoreReaderOptions } from './reader';
import { SplitStoreReconciler, SplitStoreReconcilerOptions } from './reconciler';
import { DEFAULT_KEY_PREFIX, DEFAULT_WRITER_DEADLINE_MS, ENV } from './runtime/config';
import {
  bucketRemoval,
  checkBucketVersioned,
  checkKeyAttribute,
  checkKeyPrefix,
  checkRemovalCoherence,
  checkTableKeys,
  exclusive,
  retentionDays,
  tableRemoval,
} from './validation';

/** Default retention window: PITR recovery period and noncurrent S3 version expiration. */
const DEFAULT_RETENTION_DAYS = 7;

/** Id of the S3 request-metrics configuration the store adds to the bucket it creates. */
const DEFAULT_REQUEST_METRICS_ID = 'SplitStoreParts';

/** Id of the lifecycle rule that implements the retention window on the bucket. */
const RETENTION_RULE_ID = 'SplitStoreRetention';

/**
 * The store each application function was configured for: its `SPLIT_STORE_*` variables
 * describe one store, so a second store must not overwrite them.
 */
const CONFIGURED_FOR = new WeakMap<IConstruct, SplitStore>();

/**
 * What a grantee may do with a store, for `SplitStore.grantAndConfigure()`.
 */
export enum SplitStoreAccess {
  /** Read index rows only (`grantReadIndex`): list screens, no S3 access. */
  READ_INDEX = 'READ_INDEX',
  /** Read parts only (`grantReadParts`). */
  READ_PARTS = 'READ_PARTS',
  /** Read index rows and parts (`grantRead`). */
  READ = 'READ',
  /** Write index rows and parts (`grantWrite`). */
  WRITE = 'WRITE',
  /** Read and write (`grantReadWrite`). */
  READ_WRITE = 'READ_WRITE',
}

/**
 * Further options of the table a SplitStore creates. Point-in-time recovery, billing,
 * key schema, encryption and removal are set by the store and are not options here.
 */
export interface SplitStoreTableOptions {
  /**
   * Whether CloudWatch contributor insights are on for the table.
   *
   * @default false
   */
  readonly contributorInsightsEnabled?: boolean;

  /**
   * Storage class of the table (`STANDARD_INFREQUENT_ACCESS` suits rarely read stores).
   *
   * @default dynamodb.TableClass.STANDARD
   */
  readonly tableClass?: dynamodb.TableClass;

  /**
   * DynamoDB stream of the index rows (change data capture).
   *
   * @default - no stream
   */
  readonly stream?: dynamodb.StreamViewType;

  /**
   * Kinesis data stream that receives the table's changes.
   *
   * @default - none
   */
  readonly kinesisStream?: kinesis.IStream;

  /**
   * Resource-based policy of the table.
   *
   * @default - none
   */
  readonly resourcePolicy?: iam.PolicyDocument;
}

/**
 * Properties of a SplitStore.
 */
export interface SplitStoreProps {
  /**
   * Partition key of the index table. Strings or numbers only: each part's S3 key is
   * derived from the item key.
   *
   * Required when you bring your own `table` (an `ITable` does not expose its key schema),
   * and must then match that table's partition key.
   *
   * @default - a string attribute named `id`
   */
  readonly partitionKey?: dynamodb.Attribute;

  /**
   * Sort key of the index table (string or number).
   *
   * When you bring your own `table`, set it if and only if that table has a sort key.
   *
   * @default - no sort key
   */
  readonly sortKey?: dynamodb.Attribute;

  /**
   * Global secondary indexes over the index rows, e.g. invoices by customer ordered by
   * date. Key attributes must be strings or numbers. Projection is `ALL` unless set.
   *
   * When you bring your own `table`, list the indexes it has: they are not created, but
   * grants cover them and the reference reader can query them.
   *
   * @default - no global secondary index
   */
  readonly globalSecondaryIndexes?: dynamodb.GlobalSecondaryIndexProps[];

  /**
   * Name of the attribute DynamoDB reads as the row's expiry time (epoch seconds).
   * Expiring a row does not delete its parts: they become unreachable and stay until
   * you delete them; delete items through the store when parts must go.
   *
   * Exclusive with `table`.
   *
   * @default - no time to live
   */
  readonly timeToLiveAttribute?: string;

  /**
   * Physical name of the table. Exclusive with `table`.
   *
   * @default - generated by CloudFormation
   */
  readonly tableName?: string;

  /**
   * Whether DynamoDB refuses to delete the table. Exclusive with `table`.
   *
   * @default true
   */
  readonly deletionProtection?: boolean;

  /**
   * Further options of the table the store creates (contributor insights, table class,
   * streams, resource policy). The settings that keep the store safe (point-in-time
   * recovery and its period, on-demand billing, encryption, removal) are not among them.
   * Exclusive with `table`.
   *
   * @default - the store's defaults only
   */
  readonly tableProps?: SplitStoreTableOptions;

  /**
   * Bring your own index table instead of letting the store create one.
   *
   * The store cannot configure a table it did not create: its owner must keep
   * point-in-time recovery on with a recovery period no longer than the bucket's
   * noncurrent-version retention. Set `partitionKey` (and `sortKey`,
   * `globalSecondaryIndexes`) to describe it; a table defined in this app whose key schema
   * differs is refused. Exclusive with `tableProps`, `tableName`,
   * `timeToLiveAttribute` and `deletionProtection`.
   *
   * @default - a new on-demand table with point-in-time recovery
   */
  readonly table?: dynamodb.ITable;

  /**
   * Bring your own bucket for the parts instead of letting the store create one.
   *
   * Its owner must keep versioning on and keep noncurrent versions at least as long as
   * the table's point-in-time recovery period, or restored rows will point at versions
   * that are gone. A bucket defined in this app without versioning is refused. Exclusive with `bucketProps`, `serverAccessLogsBucket` and
   * `serverAccessLogsPrefix`.
   *
   * @default - a new versioned, private, TLS-only bucket
   */
  readonly bucket?: s3.IBucket;

  /**
   * Further bucket properties merged over the store's bucket defaults (e.g. `bucketName`,
   * `intelligentTieringConfigurations`, extra `lifecycleRules` or `metrics`, `eventBridgeEnabled`).
   *
   * The store's safety settings cannot be weakened here: versioning, blocking all public
   * access, TLS-only access and bucket-owner-enforced object ownership are refused if
   * turned off, and a lifecycle rule that would expire parts, or their noncurrent versions
   * sooner than `retention`, is refused. Encryption comes from `encryptionKey`.
   * Exclusive with `bucket`.
   *
   * @default - the store's defaults only
   */
  readonly bucketProps?: s3.BucketProps;

  /**
   * Bucket that receives S3 server access logs of the parts bucket. Exclusive with `bucket`.
   *
   * @default - no server access logs (S3 request metrics are still on)
   */
  readonly serverAccessLogsBucket?: s3.IBucket;

  /**
   * Key prefix of the access logs in `serverAccessLogsBucket`.
   *
   * @default - no prefix
   */
  readonly serverAccessLogsPrefix?: string;

  /**
   * Customer managed KMS key that encrypts both the table and the bucket (SSE-KMS with
   * an S3 bucket key). Grants include the KMS actions the data needs.
   *
   * Applies to the resources the store creates; a brought table or bucket keeps its own
   * encryption (import it with its `encryptionKey` so grants include it).
   *
   * @default - DynamoDB's AWS owned key and SSE-S3
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * What happens to the table and the bucket the store creates when they leave the stack.
   *
   * `DESTROY` deletes user data. The table and the bucket go together or stay together: to
   * delete both, also set `deletionProtection: false` and `bucketProps.autoDeleteObjects`
   * (a non-empty bucket is not deleted otherwise). A store whose bucket would be emptied
   * while its table stays, or whose table would be deleted while its parts stay, is refused.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * The one retention window: the table's point-in-time recovery period and how long
   * the bucket keeps noncurrent part versions. Restoring the table to any point inside
   * it gives rows whose pinned part versions still exist. Whole days, 1 to 35.
   *
   * @default Duration.days(7)
   */
  readonly retention?: Duration;

  /**
   * S3 key prefix under which parts live: `<keyPrefix><enc(pk)>[/<enc(sk)>]/<part>`.
   * Grants are scoped to it.
   *
   * A relative prefix that ends with '/' (no leading '/', no empty, `.` or `..` segment) of
   * letters, digits and `! - _ . ' ( ) /`, at most 447 bytes: every store keeps room in S3's
   * 1,024-byte keys for item keys whose encoded values take up to 512 bytes together and part
   * names of up to 63 characters.
   *
   * @default 'items/'
   */
  readonly keyPrefix?: string;

  /**
   * Id of the S3 request-metrics configuration used by the `metricBucket*` methods.
   *
   * On a bucket the store creates, the configuration is added with this id, filtered to
   * `keyPrefix`. On a brought bucket, name a configuration that already exists on it.
   *
   * @default - 'SplitStoreParts' on a created bucket; none on a brought bucket (the
   * `metricBucket*` methods then throw)
   */
  readonly requestMetricsId?: string;

  /**
   * Whether to deploy the reference reader: a Lambda function (with a streaming Function
   * URL by default) that serves split reads, consistent writes and lists of this store.
   *
   * @default true
   */
  readonly readerEnabled?: boolean;

  /**
   * Options of the reference reader. Only valid when `readerEnabled` is true.
   *
   * @default - the reader's defaults
   */
  readonly reader?: SplitStoreReaderOptions;

  /**
   * Whether to deploy the reconciler: an SQS queue that receives the bucket's part events
   * (new versions, delete markers, deleted versions) after a delay, and a Lambda function
   * that repairs each part key: it deletes a version above the pinned one (what a writer
   * that crashed between its S3 put and its index commit leaves), removes a delete marker
   * that hides a pinned version, and hides under a delete marker a current version no
   * row pins any more.
   *
   * Turning it off leaves such versions current until the part is written again; only do
   * it when your own process cleans them up.
   *
   * @default true
   */
  readonly reconcilerEnabled?: boolean;

  /**
   * Options of the reconciler. Only valid when `reconcilerEnabled` is true.
   *
   * @default - the reconciler's defaults
   */
  readonly reconciler?: SplitStoreReconcilerOptions;

  /**
   * Whether to add a stack output (`CfnOutput`) with the reader's Function URL, so that
   * `cdk deploy` prints it. The URL is also `store.readerUrl.url`.
   *
   * Needs the reader and its Function URL (`readerEnabled` and `reader.functionUrl` true).
   *
   * @default false
   */
  readonly readerUrlOutput?: boolean;

  /**
   * Lambda runtime of the reference reader and the reconciler. Their code is bundled for
   * Node.js 24: a runtime of another family, or a Node.js older than 24, is refused.
   * Set it to move to a newer Node.js runtime before this library's default does.
   *
   * @default - Node.js 24 (`nodejs24.x`)
   */
  readonly runtime?: lambda.Runtime;
}

/**
 * The DynamoDB + S3 combo: index rows in an on-demand DynamoDB table with point-in-time
 * recovery, item parts in a versioned S3 bucket, and one retention window that keeps the
 * two restorable together.
 *
 * @example
 * const store = new SplitStore(this, 'Invoices', {
 *   partitionKey: { name: 'invoiceId', type: dynamodb.AttributeType.STRING },
 *   retention: Duration.days(14),
 * });
 * const app = new lambda.Function(this, 'App', {
 *   runtime: lambda.Runtime.NODEJS_22_X,
 *   handler: 'index.handler',
 *   code: lambda.Code.fromAsset('app'),
 * });
 * store.grantAndConfigure(app, splitstore.SplitStoreAccess.READ_WRITE);
 */
export class SplitStore extends Construct {
  /** The index table. */
  public readonly table: dynamodb.ITable;

  /** The bucket that holds the parts. */
  public readonly bucket: s3.IBucket;

  /**
   * The customer managed key of the resources the store created.
   *
   * @default - no customer managed key
   */
  public readonly encryptionKey?: kms.IKey;

  /** The retention window (PITR recovery period and noncurrent-version expiration). */
  public readonly retention: Duration;

  /** S3 key prefix of the parts, ends with '/'. */
  public readonly keyPrefix: string;

  /** Partition key of the index table. */
  public readonly partitionKey: dynamodb.Attribute;

  /**
   * Sort key of the index table.
   *
   * @default - no sort key
   */
  public readonly sortKey?: dynamodb.Attribute;

  /**
   * Id (FilterId) of the S3 request-metrics configuration.
   *
   * @default - none (brought bucket without `requestMetricsId`)
   */
  public readonly requestMetricsId?: string;

  /**
   * The reference reader function.
   *
   * @default - none when `readerEnabled` is false
   */
  public readonly readerFunction?: lambda.IFunction;

  /**
   * The reader's Function URL (streamed responses, IAM auth by default).
   *
   * @default - none when the reader or its Function URL is off
   */
  public readonly readerUrl?: lambda.IFunctionUrl;

  /**
   * The reconciler function.
   *
   * @default - none when `reconcilerEnabled` is false
   */
  public readonly reconcilerFunction?: lambda.IFunction;

  /**
   * The queue that delivers the bucket's part events (new versions, delete markers, deleted
   * versions) to the reconciler after its delay.
   *
   * @default - none when `reconcilerEnabled` is false
   */
  public readonly reconcilerQueue?: sqs.IQueue;

  /**
   * Events the reconciler failed to process five times (kept 14 days): alarm on it.
   *
   * @default - none when `reconcilerEnabled` is false
   */
  public readonly reconcilerDeadLetterQueue?: sqs.IQueue;

  private readonly indexes: dynamodb.GlobalSecondaryIndexProps[];
  private readonly writerDeadline?: Duration;

  constructor(scope: Construct, id: string, props: SplitStoreProps = {}) {
    super(scope, id);

    // ---- validation (before any resource exists) ----
    const tableWhy = 'a brought table is configured by its owner, not by the store; remove';
    exclusive('table', props.table, 'tableProps', props.tableProps, `${tableWhy} tableProps.`);
    exclusive('table', props.table, 'tableName', props.tableName, `${tableWhy} tableName.`);
    exclusive('table', props.table, 'timeToLiveAttribute', props.timeToLiveAttribute, `${tableWhy} timeToLiveAttribute.`);
    exclusive('table', props.table, 'deletionProtection', props.deletionProtection, `${tableWhy} deletionProtection.`);
    const bucketWhy = 'a brought bucket is configured by its owner, not by the store; remove';
    exclusive('bucket', props.bucket, 'bucketProps', props.bucketProps, `${bucketWhy} bucketProps.`);
    exclusive('bucket', props.bucket, 'serverAccessLogsBucket', props.serverAccessLogsBucket, `${bucketWhy} serverAccessLogsBucket.`);
    exclusive('bucket', props.bucket, 'serverAccessLogsPrefix', props.serverAccessLogsPrefix, `${bucketWhy} serverAccessLogsPrefix.`);
    if (props.table && props.bucket) {
      for (const [name, value] of [['encryptionKey', props.encryptionKey], ['removalPolicy', props.removalPolicy]] as const) {
        if (value !== undefined) {
          throw new Error(
            `SplitStore: ${name} was given with both table and bucket: it applies to the resources the store creates, ` +
            `and the store creates neither. Fix: remove ${name} and configure your table and bucket directly.`,
          );
        }
      }
    }
    if (props.table && !props.partitionKey) {
      throw new Error(
        'SplitStore: partitionKey is required when table is given: an ITable does not expose its key schema, and the ' +
        'store derives S3 keys from it. Fix: pass partitionKey (and sortKey if the table has one) matching your table.',
      );
    }
    if (props.serverAccessLogsPrefix !== undefined && !props.serverAccessLogsBucket) {
      throw new Error('SplitStore: serverAccessLogsPrefix needs serverAccessLogsBucket. Fix: set serverAccessLogsBucket, or remove serverAccessLogsPrefix.');
    }

    if (props.readerEnabled === false && props.reader !== undefined) {
      throw new Error('SplitStore: reader options were given with readerEnabled: false. Fix: remove reader, or set readerEnabled to true.');
    }
    if (props.readerUrlOutput && (props.readerEnabled === false || props.reader?.functionUrl === false)) {
      throw new Error(
        `SplitStore: readerUrlOutput is true but the reader has no Function URL (${props.readerEnabled === false ? 'readerEnabled' : 'reader.functionUrl'} ` +
        'is false). Fix: remove readerUrlOutput, or enable the reader and its Function URL.',
      );
    }
    if (props.reconcilerEnabled === false && props.reconciler !== undefined) {
      throw new Error('SplitStore: reconciler options were given with reconcilerEnabled: false. Fix: remove reconciler, or set reconcilerEnabled to true.');
    }

    if (props.runtime !== undefined && props.readerEnabled === false && props.reconcilerEnabled === false) {
      throw new Error(
        `SplitStore: runtime (${props.runtime.name}) was given with readerEnabled: false and reconcilerEnabled: false, ` +
        'so there is no function to run on it. Fix: remove runtime, or enable the reader or the reconciler.',
      );
    }
    const runtime = props.runtime ?? DEFAULT_NODE_RUNTIME;
    checkRuntime('runtime', runtime);
    const retention = props.retention ?? Duration.days(DEFAULT_RETENTION_DAYS);
    const days = retentionDays(retention);
    const keyPrefix = props.keyPrefix ?? DEFAULT_KEY_PREFIX;
    checkKeyPrefix(keyPrefix);
    const partitionKey = props.partitionKey ?? { name: 'id', type: dynamodb.AttributeType.STRING };
    checkKeyAttribute('partitionKey', partitionKey);
    if (props.sortKey) {
      checkKeyAttribute('sortKey', props.sortKey);
    }
    const indexes = props.globalSecondaryIndexes ?? [];
    indexes.forEach((index, i) => {
      checkKeyAttribute(`globalSecondaryIndexes[${i}].partitionKey`, index.partitionKey);
      if (index.sortKey) {
        checkKeyAttribute(`globalSecondaryIndexes[${i}].sortKey`, index.sortKey);
      }
    });

    this.retention = retention;
    this.keyPrefix = keyPrefix;
    this.partitionKey = partitionKey;
    this.sortKey = props.sortKey;
    this.indexes = indexes;
    this.writerDeadline = props.reader?.writerDeadline;
    this.encryptionKey = props.encryptionKey;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    if (removalPolicy === RemovalPolicy.DESTROY && !props.table && props.deletionProtection !== false) {
      Annotations.of(this).addWarningV2('cdk-split-store:destroy-protected-table',
        'removalPolicy is DESTROY but the table keeps deletion protection on, so deleting the stack (or replacing ' +
        'the table) will fail on the table. Set deletionProtection: false as well if the table may really be deleted.');
    }

    // ---- table ----
    if (props.table) {
      checkTableKeys(props.table, partitionKey, props.sortKey);
      this.table = props.table;
      Annotations.of(this).addWarningV2('cdk-split-store:brought-table',
        `SplitStore uses a table it did not create (${props.table.node.path}). Its owner must keep point-in-time recovery ` +
        `on with a recovery period of at most ${describeDays(days)} (the retention window), and its key schema must match ` +
        'partitionKey/sortKey; otherwise a restored table can point at part versions that no longer exist.');
    } else {
      // Table (AWS::DynamoDB::Table) rather than TableV2 (AWS::DynamoDB::GlobalTable), because:
      // - TableV2 cannot render a customer managed key in a region-agnostic stack (its replica
      //   SSE specification needs a concrete region), and most construct users synthesize such stacks;
      // - TableV2's advantage is adding replicas in other regions, which the store must not offer
      //   as-is: a replica would hold pins to S3 versions that exist in one region only;
      // - AWS::DynamoDB::Table maps 1:1 to the CreateTable API, which the e2e tests replay locally.
      // The choice is permanent for a deployed store: switching between the two changes the
      // resource type, which replaces the table and its data.
      // An unresolved retention (e.g. a CfnParameter) is written with a property override:
      // the L2 Table range-checks recoveryPeriodInDays even when it is a token.
      const recoveryPeriodInDays = days ?? DEFAULT_RETENTION_DAYS;
      const tableOptions = props.tableProps ?? {};
      const table = new dynamodb.Table(this, 'Table', {
        tableClass: tableOptions.tableClass,
        stream: tableOptions.stream,
        kinesisStream: tableOptions.kinesisStream,
        resourcePolicy: tableOptions.resourcePolicy,
        partitionKey,
        sortKey: props.sortKey,
        tableName: props.tableName,
        timeToLiveAttribute: props.timeToLiveAttribute,
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true, recoveryPeriodInDays },
        deletionProtection: props.deletionProtection ?? true,
        encryption: props.encryptionKey ? dynamodb.TableEncryption.CUSTOMER_MANAGED : undefined,
        encryptionKey: props.encryptionKey,
        removalPolicy,
      });
      const cfnTable = table.node.defaultChild as dynamodb.CfnTable;
      if (days === undefined) {
        cfnTable.addPropertyOverride('PointInTimeRecoverySpecification.RecoveryPeriodInDays', retention.toDays());
      }
      // Contributor insights go on the L1 table: the L2 prop that the floor has
      // (contributorInsightsEnabled) is deprecated in newer aws-cdk-lib, and its replacement
      // (contributorInsightsSpecification) does not exist at the floor. Same template either way.
      if (tableOptions.contributorInsightsEnabled !== undefined) {
        cfnTable.contributorInsightsSpecification = { enabled: tableOptions.contributorInsightsEnabled };
      }
      for (const index of indexes) {
        table.addGlobalSecondaryIndex(index);
      }
      this.table = table;
    }

    // ---- bucket ----
    if (props.bucket) {
      checkBucketVersioned(props.bucket);
      this.bucket = props.bucket;
      this.requestMetricsId = props.requestMetricsId;
      Annotations.of(this).addWarningV2('cdk-split-store:brought-bucket',
        `SplitStore uses a bucket it did not create (${props.bucket.node.path}). Its owner must keep versioning on and ` +
        `keep noncurrent versions for at least ${describeDays(days)} (the retention window, at least the table's ` +
        'point-in-time recovery period); otherwise a restored table can point at part versions that no longer exist.');
    } else {
      const bucketProps = props.bucketProps ?? {};
      checkBucketOverride(bucketProps, props, keyPrefix, days);
      this.requestMetricsId = props.requestMetricsId ?? DEFAULT_REQUEST_METRICS_ID;
      const bucket = new s3.Bucket(this, 'Bucket', {
        removalPolicy,
        serverAccessLogsBucket: props.serverAccessLogsBucket,
        serverAccessLogsPrefix: props.serverAccessLogsPrefix,
        ...bucketProps,
        versioned: true,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        publicReadAccess: false,
        enforceSSL: true,
        minimumTLSVersion: bucketProps.minimumTLSVersion ?? 1.2,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        encryption: props.encryptionKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
        encryptionKey: props.encryptionKey,
        bucketKeyEnabled: props.encryptionKey ? true : undefined,
        lifecycleRules: [
          {
            id: RETENTION_RULE_ID,
            noncurrentVersionExpiration: retention,
            expiredObjectDeleteMarker: true,
            abortIncompleteMultipartUploadAfter: Duration.days(1),
          },
          ...(bucketProps.lifecycleRules ?? []),
        ],
        metrics: [
          { id: this.requestMetricsId, prefix: keyPrefix },
          ...(bucketProps.metrics ?? []),
        ],
      });
      if (!props.serverAccessLogsBucket && !bucketProps.serverAccessLogsBucket) {
        addNagSuppressions(bucket.node.defaultChild as s3.CfnBucket, [accessLogsSuppression()]);
      }
      this.bucket = bucket;
    }

    checkRemovalCoherence(
      tableRemoval(this.table, props.table
        ? `the brought table ${props.table.node.path}`
        : `removalPolicy ${removalPolicy.toUpperCase()}, deletionProtection ${props.deletionProtection ?? true}`),
      bucketRemoval(this.bucket, props.bucket
        ? `the brought bucket ${props.bucket.node.path}`
        : `${props.bucketProps?.removalPolicy ? 'bucketProps.removalPolicy' : 'removalPolicy'} ` +
          `${(props.bucketProps?.removalPolicy ?? removalPolicy).toUpperCase()}, ` +
          `bucketProps.autoDeleteObjects ${props.bucketProps?.autoDeleteObjects ?? false}`),
    );

    // ---- reference Lambdas ----
    const wiring: StoreWiring = {
      table: this.table,
      bucket: this.bucket,
      encryptionKey: props.encryptionKey ?? this.table.encryptionKey ?? this.bucket.encryptionKey,
      keyPrefix,
      environment: this.environment(),
      indexNames: indexes.map(index => index.indexName),
      runtime,
    };
    if (props.readerEnabled ?? true) {
      const reader = new SplitStoreReader(this, 'Reader', { ...props.reader, wiring });
      this.readerFunction = reader.function;
      this.readerUrl = reader.functionUrl;
      if (props.readerUrlOutput && reader.functionUrl) {
        new CfnOutput(this, 'ReaderUrl', {
          value: reader.functionUrl.url,
          description: `Function URL of the cdk-split-store reader of ${this.node.path}`,
        });
      }
    }
    if (props.reconcilerEnabled ?? true) {
      const reconciler = new SplitStoreReconciler(this, 'Reconciler', {
        ...props.reconciler,
        writerDeadline: props.reader?.writerDeadline,
        wiring,
      });
      this.reconcilerFunction = reconciler.function;
      this.reconcilerQueue = reconciler.queue;
      this.reconcilerDeadLetterQueue = reconciler.deadLetterQueue;
    }
  }

  // ---------------------------------------------------------------------------
  // Grants
  // ---------------------------------------------------------------------------

  /**
   * Grants reading index rows: `dynamodb:GetItem`, `dynamodb:BatchGetItem`,
   * `dynamodb:Query`, `dynamodb:Scan`, `dynamodb:ConditionCheckItem` and
   * `dynamodb:DescribeTable` on the table and its global secondary indexes, plus
   * `kms:Decrypt` and `kms:DescribeKey` on the table's customer managed key, if any.
   */
  public grantReadIndex(grantee: iam.IGrantable): iam.Grant {
    return combine(
      iam.Grant.addToPrincipal({ grantee, actions: TABLE_READ_ACTIONS, resourceArns: this.tableAndIndexArns() }),
      this.grantKey(this.table.encryptionKey, grantee, KEY_READ_ACTIONS),
    );
  }

  /**
   * Grants reading parts: `s3:GetObject` and `s3:GetObjectVersion` on the objects under
   * the key prefix (`<bucketArn>/<keyPrefix>*`), plus `kms:Decrypt` and `kms:DescribeKey`
   * on the bucket's customer managed key, if any.
   */
  public grantReadParts(grantee: iam.IGrantable): iam.Grant {
    return combine(
      iam.Grant.addToPrincipal({ grantee, actions: PARTS_READ_ACTIONS, resourceArns: [this.partsArn()] }),
      this.grantKey(this.bucket.encryptionKey, grantee, KEY_READ_ACTIONS),
    );
  }

  /**
   * Grants reading whole items: everything in `grantReadIndex` and `grantReadParts`.
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return combine(this.grantReadIndex(grantee), this.grantReadParts(grantee));
  }

  /**
   * Grants writing and deleting items: `dynamodb:PutItem`, `dynamodb:UpdateItem`,
   * `dynamodb:DeleteItem` and `dynamodb:ConditionCheckItem` on the table;
   * `s3:PutObject`, `s3:DeleteObject` and `s3:DeleteObjectVersion` (compensation) on the
   * objects under the key prefix; `kms:Encrypt`, `kms:GenerateDataKey`, `kms:Decrypt` and
   * `kms:DescribeKey` on the customer managed keys, if any.
   */
  public grantWrite(grantee: iam.IGrantable): iam.Grant {
    return combine(
      iam.Grant.addToPrincipal({ grantee, actions: TABLE_WRITE_ACTIONS, resourceArns: [this.table.tableArn] }),
      iam.Grant.addToPrincipal({ grantee, actions: PARTS_WRITE_ACTIONS, resourceArns: [this.partsArn()] }),
      ...this.keys().map(key => key.grant(grantee, ...KEY_WRITE_ACTIONS)),
    );
  }

  /**
   * Grants reading and writing items: everything in `grantRead` and `grantWrite`.
   */
  public grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    return combine(this.grantRead(grantee), this.grantWrite(grantee));
  }

  /**
   * Permits an IAM principal to call the reference reader: `lambda:InvokeFunctionUrl` on its
   * Function URL (when it has one) and `lambda:InvokeFunction` on the function. Lambda
   * requires both for a Function URL with `AWS_IAM` auth created since October 2025; plain
   * JSON invocations need only the second.
   *
   * The grant names the function's ARN only, not its versions and aliases (`<arn>:*`, which
   * `IFunction.grantInvoke` adds and cdk-nag reports as `AwsSolutions-IAM5`): the reader is
   * always invoked unqualified. A principal that cannot hold an IAM policy (a service
   * principal, another account) gets `IFunction.grantInvoke`'s resource-based permission.
   *
   * @throws when the store has no reader (`readerEnabled: false`)
   */
  public grantInvokeReader(grantee: iam.IGrantable): iam.Grant {
    if (!this.readerFunction) {
      throw new Error(
        'grantInvokeReader: this store has no reader (readerEnabled is false). ' +
        'Enable the reader, or grant your principal access to the data with grantRead/grantWrite.',
      );
    }
    const invoke = iam.Grant.addToPrincipal({
      grantee,
      actions: ['lambda:InvokeFunction'],
      resourceArns: [this.readerFunction.functionArn],
    });
    return combine(invoke.success ? invoke : this.readerFunction.grantInvoke(grantee), this.readerUrl?.grantInvokeUrl(grantee));
  }

  /**
   * Wires an application function to the store in one call: grants `access` and sets the
   * environment variables the store's runtime reads (`SPLIT_STORE_TABLE_NAME`,
   * `SPLIT_STORE_BUCKET_NAME`, `SPLIT_STORE_KEY_PREFIX`, `SPLIT_STORE_PARTITION_KEY`,
   * `SPLIT_STORE_PARTITION_KEY_TYPE`, `SPLIT_STORE_SORT_KEY`, `SPLIT_STORE_SORT_KEY_TYPE`,
   * `SPLIT_STORE_INDEXES`, `SPLIT_STORE_WRITER_DEADLINE_MS`).
   *
   * A function is configured for one store: configuring it for a second store throws, since
   * the second store's variables would replace the first's.
   *
   * @param fn the function to wire
   * @param access what the function may do. @default SplitStoreAccess.READ_WRITE
   */
  public grantAndConfigure(fn: lambda.Function, access: SplitStoreAccess = SplitStoreAccess.READ_WRITE): iam.Grant {
    this.configure(fn, 'grantAndConfigure', this.environment());
    switch (access) {
      case SplitStoreAccess.READ_INDEX: return this.grantReadIndex(fn);
      case SplitStoreAccess.READ_PARTS: return this.grantReadParts(fn);
      case SplitStoreAccess.READ: return this.grantRead(fn);
      case SplitStoreAccess.WRITE: return this.grantWrite(fn);
      case SplitStoreAccess.READ_WRITE: return this.grantReadWrite(fn);
      default:
        throw new Error(`SplitStore.grantAndConfigure: unknown access ${JSON.stringify(access)}; use a SplitStoreAccess value.`);
    }
  }

  /**
   * Wires an application function that calls the reference reader: grants what
   * `grantInvokeReader` grants and sets `SPLIT_STORE_READER_FUNCTION_NAME` (for a JSON
   * `Invoke`) and, when the reader has a Function URL, `SPLIT_STORE_READER_URL`.
   *
   * A function is configured for one store: configuring it for a second store throws.
   *
   * @param fn the function to wire
   * @throws when the store has no reader (`readerEnabled: false`)
   */
  public grantInvokeReaderAndConfigure(fn: lambda.Function): iam.Grant {
    const grant = this.grantInvokeReader(fn); // throws when there is no reader
    const reader = this.readerFunction as lambda.IFunction;
    const variables: Record<string, string> = { [ENV.readerFunctionName]: reader.functionName };
    if (this.readerUrl) variables[ENV.readerUrl] = this.readerUrl.url;
    this.configure(fn, 'grantInvokeReaderAndConfigure', variables);
    return grant;
  }

  // ---------------------------------------------------------------------------
  // Metrics
  // ---------------------------------------------------------------------------

  /**
   * Requests to the table that DynamoDB throttled, for one operation (Sum).
   */
  public metricTableThrottledRequests(operation: dynamodb.Operation, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.table.metric('ThrottledRequests', {
      statistic: cloudwatch.Stats.SUM,
      ...props,
      dimensionsMap: { TableName: this.table.tableName, Operation: operation },
    });
  }

  /**
   * Read requests to the table and its indexes that were throttled (Sum).
   */
  public metricTableReadThrottleEvents(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.table.metric('ReadThrottleEvents', { statistic: cloudwatch.Stats.SUM, ...props });
  }

  /**
   * Write requests to the table and its indexes that were throttled (Sum).
   */
  public metricTableWriteThrottleEvents(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.table.metric('WriteThrottleEvents', { statistic: cloudwatch.Stats.SUM, ...props });
  }

  /**
   * Latency of successful requests to the table, for one operation (Average, milliseconds).
   */
  public metricTableSuccessfulRequestLatency(operation: dynamodb.Operation, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.table.metric('SuccessfulRequestLatency', {
      statistic: cloudwatch.Stats.AVERAGE,
      ...props,
      dimensionsMap: { TableName: this.table.tableName, Operation: operation },
    });
  }

  /**
   * Read capacity units the table consumed (Sum).
   */
  public metricTableConsumedReadCapacityUnits(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.table.metricConsumedReadCapacityUnits(props);
  }

  /**
   * Write capacity units the table consumed (Sum).
   */
  public metricTableConsumedWriteCapacityUnits(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.table.metricConsumedWriteCapacityUnits(props);
  }

  /**
   * Any S3 request metric of the parts prefix (namespace `AWS/S3`, dimensions `BucketName`
   * and `FilterId` = `requestMetricsId`). Sum unless `props.statistic` says otherwise.
   *
   * @param metricName an S3 request metric name, e.g. 'AllRequests' or 'HeadRequests'
   */
  public metricBucket(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    if (!this.requestMetricsId) {
      throw new Error(
        `SplitStore.metricBucket('${metricName}'): the brought bucket has no known request-metrics configuration. ` +
        'Fix: add a metrics configuration to your bucket and pass its id as requestMetricsId.',
      );
    }
    return new cloudwatch.Metric({
      namespace: 'AWS/S3',
      metricName,
      statistic: cloudwatch.Stats.SUM,
      ...props,
      dimensionsMap: { BucketName: this.bucket.bucketName, FilterId: this.requestMetricsId },
    });
  }

  /** All S3 requests on the parts (Sum). */
  public metricBucketAllRequests(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricBucket('AllRequests', props);
  }

  /** S3 GET requests on the parts (Sum). */
  public metricBucketGetRequests(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricBucket('GetRequests', props);
  }

  /** S3 PUT requests on the parts (Sum). */
  public metricBucketPutRequests(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricBucket('PutRequests', props);
  }

  /** S3 requests on the parts answered with a 4xx status (Sum). */
  public metricBucket4xxErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricBucket('4xxErrors', props);
  }

  /** S3 requests on the parts answered with a 5xx status (Sum). */
  public metricBucket5xxErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricBucket('5xxErrors', props);
  }

  /** Time from a request's receipt to S3's first byte out (Average, milliseconds). */
  public metricBucketFirstByteLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricBucket('FirstByteLatency', { statistic: cloudwatch.Stats.AVERAGE, ...props });
  }

  /** Time from a request's first byte in to S3's last byte out (Average, milliseconds). */
  public metricBucketTotalRequestLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricBucket('TotalRequestLatency', { statistic: cloudwatch.Stats.AVERAGE, ...props });
  }

  // ---------------------------------------------------------------------------
  // Internals
  // ---------------------------------------------------------------------------

  /**
   * Sets a store's variables on an application function, refusing a function already
   * configured for another store (its `SPLIT_STORE_*` variables would silently change store).
   */
  private configure(fn: lambda.Function, method: string, variables: Record<string, string>): void {
    const configured = CONFIGURED_FOR.get(fn);
    if (configured && configured !== this) {
      throw new Error(
        `SplitStore.${method}: function ${fn.node.path} is already configured for the store ${configured.node.path}, ` +
        `and this is the store ${this.node.path}. A function's SPLIT_STORE_* environment variables describe one store: ` +
        'the second store\'s would replace the first\'s. Fix: give each store its own function, or grant the second ' +
        'store\'s access with grantRead/grantWrite/grantInvokeReader and pass its names to your code yourself.',
      );
    }
    CONFIGURED_FOR.set(fn, this);
    for (const [name, value] of Object.entries(variables)) {
      fn.addEnvironment(name, value);
    }
  }

  /** The environment variables that describe this store to the runtime (see runtime/config.ts). */
  private environment(): Record<string, string> {
    const env: Record<string, string> = {
      [ENV.tableName]: this.table.tableName,
      [ENV.bucketName]: this.bucket.bucketName,
      [ENV.keyPrefix]: this.keyPrefix,
      [ENV.partitionKeyName]: this.partitionKey.name,
      [ENV.partitionKeyType]: this.partitionKey.type,
      [ENV.indexes]: JSON.stringify(this.indexes.map(index => ({
        name: index.indexName,
        partitionKey: { name: index.partitionKey.name, type: index.partitionKey.type },
        ...(index.sortKey ? { sortKey: { name: index.sortKey.name, type: index.sortKey.type } } : {}),
      }))),
      [ENV.writerDeadlineMs]: this.writerDeadlineMs(),
    };
    if (this.sortKey) {
      env[ENV.sortKeyName] = this.sortKey.name;
      env[ENV.sortKeyType] = this.sortKey.type;
    }
    return env;
  }

  /**
   * The store's writer deadline: the reader's `writerDeadline` when set, so that every writer
   * wired to the store (the reader and `grantAndConfigure` functions) stays under the one
   * deadline the reconciler's delay is checked against.
   */
  private writerDeadlineMs(): string {
    const deadline = this.writerDeadline;
    if (!deadline) return String(DEFAULT_WRITER_DEADLINE_MS);
    return deadline.isUnresolved() ? Token.asString(deadline.toMilliseconds()) : String(deadline.toMilliseconds());
  }

  private tableAndIndexArns(): string[] {
    return [
      this.table.tableArn,
      ...this.indexes.map(index => `${this.table.tableArn}/index/${index.indexName}`),
    ];
  }

  private partsArn(): string {
    return this.bucket.arnForObjects(`${this.keyPrefix}*`);
  }

  /** Distinct customer managed keys of the table and the bucket. */
  private keys(): kms.IKey[] {
    const keys: kms.IKey[] = [];
    for (const key of [this.table.encryptionKey, this.bucket.encryptionKey]) {
      if (key && !keys.includes(key)) keys.push(key);
    }
    return keys;
  }

  private grantKey(key: kms.IKey | undefined, grantee: iam.IGrantable, actions: string[]): iam.Grant | undefined {
    return key?.grant(grantee, ...actions);
  }
}

function combine(first: iam.Grant, ...rest: Array<iam.Grant | undefined>): iam.Grant {
  return rest.reduce<iam.Grant>((acc, grant) => (grant ? acc.combine(grant) : acc), first);
}

function describeDays(days: number | undefined): string {
  return days === undefined ? 'the retention window' : `${days} days`;
}

/**
 * Refuses `bucketProps` that would weaken the store's safety settings or break the
 * retention invariant, or that duplicate a dedicated store prop.
 */
function checkBucketOverride(bucketProps: s3.BucketProps, props: SplitStoreProps, keyPrefix: string, days: number | undefined): void {
  const refuse = (prop: string, why: string, fix: string) => {
    throw new Error(`SplitStore: bucketProps.${prop} ${why}. Fix: ${fix}`);
  };
  if (bucketProps.versioned === false) {
    refuse('versioned', 'cannot be false: parts are pinned to S3 object versions', 'remove bucketProps.versioned.');
  }
  const bpa = bucketProps.blockPublicAccess;
  if (bpa && !(bpa.blockPublicAcls && bpa.blockPublicPolicy && bpa.ignorePublicAcls && bpa.restrictPublicBuckets)) {
    refuse('blockPublicAccess', 'must block all public access: a store\'s parts are private', 'remove bucketProps.blockPublicAccess.');
  }
  if (bucketProps.publicReadAccess === true) {
    refuse('publicReadAccess', 'cannot be true: a store\'s parts are private', 'remove bucketProps.publicReadAccess.');
  }
  if (bucketProps.enforceSSL === false) {
    refuse('enforceSSL', 'cannot be false: the bucket policy denies requests without TLS', 'remove bucketProps.enforceSSL.');
  }
  if (bucketProps.objectOwnership !== undefined && bucketProps.objectOwnership !== s3.ObjectOwnership.BUCKET_OWNER_ENFORCED) {
    refuse('objectOwnership', `must be BUCKET_OWNER_ENFORCED (ACLs disabled), got ${bucketProps.objectOwnership}`, 'remove bucketProps.objectOwnership.');
  }
  for (const prop of ['encryption', 'encryptionKey', 'bucketKeyEnabled'] as const) {
    if (bucketProps[prop] !== undefined) {
      refuse(prop, 'is set by the store', 'remove it and set the store\'s encryptionKey prop, which encrypts both the table and the bucket.');
    }
  }
  exclusive('serverAccessLogsBucket', props.serverAccessLogsBucket, 'bucketProps.serverAccessLogsBucket', bucketProps.serverAccessLogsBucket,
    'set the access-log bucket once, with serverAccessLogsBucket.');
  exclusive('serverAccessLogsPrefix', props.serverAccessLogsPrefix, 'bucketProps.serverAccessLogsPrefix', bucketProps.serverAccessLogsPrefix,
    'set the access-log prefix once, with serverAccessLogsPrefix.');
  exclusive('removalPolicy', props.removalPolicy, 'bucketProps.removalPolicy', bucketProps.removalPolicy,
    'set the removal policy once, with removalPolicy.');

  (bucketProps.lifecycleRules ?? []).forEach((rule, i) => {
    if (rule.enabled === false) return;
    const rulePrefix = rule.prefix ?? '';
    const overlaps = Token.isUnresolved(rulePrefix) || keyPrefix.startsWith(rulePrefix) || rulePrefix.startsWith(keyPrefix);
    if (!overlaps) return;
    const name = `lifecycleRules[${i}]`;
    if (rule.expiration !== undefined || rule.expirationDate !== undefined) {
      refuse(`${name}.expiration`,
        `would expire current parts under '${keyPrefix}' while index rows still point at them`,
        'remove the expiration, scope the rule to a prefix outside keyPrefix, or expire items through the store.');
    }
    const noncurrent = rule.noncurrentVersionExpiration;
    if (noncurrent !== undefined && days !== undefined && !noncurrent.isUnresolved() && noncurrent.toHours({ integral: false }) < days * 24) {
      refuse(`${name}.noncurrentVersionExpiration`,
        `(${noncurrent.toHumanString()}) is shorter than retention (${days} days): a table restored inside the ` +
        'retention window would point at part versions that S3 already expired',
        `remove it (the store already expires noncurrent versions after ${days} days) or lower retention.`);
    }
  });
}
