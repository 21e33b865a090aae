import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, IConstruct } from 'constructs';
import { GRANTS, OperationId } from './perms';
import { grantOperations, StoreResources } from './private/grants';
import { configureFunction, storeEnvironment } from './private/store-environment';
import { METRIC_DIMENSIONS, METRIC_NAMES, METRICS_NAMESPACE } from './runtime/metrics';

/**
 * What a grantee may do with a store, for `grantAndConfigure()`.
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
 * What the reconciler did with one S3 event on a part key (the `Outcome` dimension of
 * `SplitStore/ReconciledEvents`; docs/PROTOCOL.md section 9).
 */
export enum ReconcilerOutcome {
  /** Nothing to do: the event's version is the pinned one, and it is current. */
  PINNED = 'pinned',
  /** Nothing to do: the pinned version is current, the event named another one. */
  NONCURRENT = 'noncurrent',
  /** Nothing to do: no live row pins the part and nothing is current. */
  RETIRED = 'retired',
  /** Deleted a version above the pinned one that was never committed. */
  DELETED_UNPINNED = 'deleted-unpinned',
  /** Deleted a delete marker that hid the pinned version. */
  UNCOVERED = 'uncovered',
  /** Hid under a delete marker a current version no live row pins (kept for the retention window). */
  RETIRED_ORPHAN = 'retired-orphan',
  /** Left alone a version young enough to belong to a write in flight; its own event decides. */
  IN_FLIGHT = 'in-flight',
  /** The row pins a version S3 does not have: nothing the reconciler can repair. */
  DANGLING = 'dangling',
  /** The object is not a part key of this store. */
  NOT_A_PART = 'not-a-part',
}

/**
 * A kind of drift the doctor reports (the `Finding` dimension of `SplitStore/DoctorFindings`).
 */
export enum DoctorFinding {
  /** A live row pins a version S3 does not have: reads of that part fail. */
  DANGLING_PIN = 'dangling-pin',
  /** A live row pins a version that is not current: it expires after the retention window. */
  PINNED_NONCURRENT = 'pinned-noncurrent',
  /** A current version no live row pins, older than the reconciler's delay: an orphan the reconciler missed. */
  UNPINNED_CURRENT = 'unpinned-current',
  /** A row of a protocol version this library does not know, or not a store row at all. */
  UNKNOWN_PROTOCOL = 'unknown-protocol',
}

/**
 * A split store, defined in this app (`SplitStore`) or imported (`SplitStore.fromStoreAttributes`):
 * what another stack needs to read, write and watch it.
 */
export interface ISplitStore extends IConstruct {
  /** The index table. */
  readonly table: dynamodb.ITable;

  /** The bucket that holds the parts. */
  readonly bucket: s3.IBucket;

  /** S3 key prefix of the parts, ends with '/'. */
  readonly keyPrefix: string;

  /** Partition key of the index table. */
  readonly partitionKey: dynamodb.Attribute;

  /**
   * Sort key of the index table.
   *
   * @default - no sort key
   */
  readonly sortKey?: dynamodb.Attribute;

  /** The table's global secondary indexes that grants cover and lists may query. */
  readonly globalSecondaryIndexes: dynamodb.GlobalSecondaryIndexProps[];

  /**
   * The table's customer managed key: grants include the KMS actions the rows need.
   *
   * @default - none
   */
  readonly tableEncryptionKey?: kms.IKey;

  /**
   * The bucket's customer managed key (the table's, or another one): grants include the KMS
   * actions the parts need.
   *
   * @default - none
   */
  readonly bucketEncryptionKey?: kms.IKey;

  /** The store's writer deadline, which every writer wired with `grantAndConfigure` keeps. */
  readonly writerDeadline: Duration;

  /**
   * Id (FilterId) of the bucket's S3 request-metrics configuration, for the `metricBucket*` methods.
   *
   * @default - none: the `metricBucket*` methods throw
   */
  readonly requestMetricsId?: string;

  /**
   * The reference reader function.
   *
   * @default - none: the reader is off, or the store was imported
   */
  readonly readerFunction?: lambda.IFunction;

  /**
   * The reader's Function URL.
   *
   * @default - none: no reader or no URL, or the store was imported
   */
  readonly readerUrl?: lambda.IFunctionUrl;

  /**
   * The reconciler function.
   *
   * @default - none: the reconciler is off, or the store was imported
   */
  readonly reconcilerFunction?: lambda.IFunction;

  /**
   * The reconciler's dead-letter queue.
   *
   * @default - none: the reconciler is off, or the store was imported
   */
  readonly reconcilerDeadLetterQueue?: sqs.IQueue;

  /**
   * The doctor's scheduled function.
   *
   * @default - none: the doctor is off, or the store was imported
   */
  readonly doctorFunction?: lambda.IFunction;

  /** Grants reading index rows (operations read index row, list, direct index reads). */
  grantReadIndex(grantee: iam.IGrantable): iam.Grant;

  /** Grants reading parts (operation read parts). */
  grantReadParts(grantee: iam.IGrantable): iam.Grant;

  /** Grants reading whole items: `grantReadIndex` and `grantReadParts`. */
  grantRead(grantee: iam.IGrantable): iam.Grant;

  /** Grants writing and deleting items (operations write, direct index writes). */
  grantWrite(grantee: iam.IGrantable): iam.Grant;

  /** Grants reading and writing items: `grantRead` and `grantWrite`. */
  grantReadWrite(grantee: iam.IGrantable): iam.Grant;

  /**
   * Grants `access` to an application function and sets the `SPLIT_STORE_*` environment
   * variables that describe the store.
   *
   * @param fn the function to wire
   * @param access what the function may do. @default SplitStoreAccess.READ_WRITE
   */
  grantAndConfigure(fn: lambda.Function, access?: SplitStoreAccess): iam.Grant;

  /** Parts that reads found pinned to a version S3 no longer has (`SplitStore/DanglingPointers`, Sum). */
  metricDanglingPointers(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** S3 events the reconciler handled with one outcome (`SplitStore/ReconciledEvents`, Sum). */
  metricReconcilerOutcome(outcome: ReconcilerOutcome, props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** Reconciler messages that failed and will be retried or dead-lettered (`SplitStore/ReconcilerErrors`, Sum). */
  metricReconcilerErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** Drift of one kind that the doctor's last scans found (`SplitStore/DoctorFindings`, Maximum). */
  metricDoctorFindings(finding: DoctorFinding, props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** Index rows the doctor's scans read (`SplitStore/DoctorRowsScanned`, Maximum): shows that it ran. */
  metricDoctorRowsScanned(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** Requests to the table that DynamoDB throttled, for one operation (Sum). */
  metricTableThrottledRequests(operation: dynamodb.Operation, props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** Read requests to the table and its indexes that were throttled (Sum). */
  metricTableReadThrottleEvents(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** Write requests to the table and its indexes that were throttled (Sum). */
  metricTableWriteThrottleEvents(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** Latency of successful requests to the table, for one operation (Average, milliseconds). */
  metricTableSuccessfulRequestLatency(operation: dynamodb.Operation, props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** Read capacity units the table consumed (Sum). */
  metricTableConsumedReadCapacityUnits(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** Write capacity units the table consumed (Sum). */
  metricTableConsumedWriteCapacityUnits(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /**
   * Any S3 request metric of the parts prefix (`AWS/S3`, dimensions `BucketName` and
   * `FilterId`), Sum unless `props.statistic` says otherwise.
   */
  metricBucket(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** All S3 requests on the parts (Sum). */
  metricBucketAllRequests(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** S3 GET requests on the parts (Sum). */
  metricBucketGetRequests(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** S3 PUT requests on the parts (Sum). */
  metricBucketPutRequests(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** S3 requests on the parts answered with a 4xx status (Sum). */
  metricBucket4xxErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** S3 requests on the parts answered with a 5xx status (Sum). */
  metricBucket5xxErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** Time from a request's receipt to S3's first byte out (Average, milliseconds). */
  metricBucketFirstByteLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** Time from a request's first byte in to S3's last byte out (Average, milliseconds). */
  metricBucketTotalRequestLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

/**
 * What `SplitStore` and an imported store share: the grants, `grantAndConfigure` and the
 * metrics, all derived from the table, the bucket, the key prefix and the keys.
 */
export abstract class SplitStoreBase extends Construct implements ISplitStore {
  public abstract readonly table: dynamodb.ITable;
  public abstract readonly bucket: s3.IBucket;
  public abstract readonly keyPrefix: string;
  public abstract readonly partitionKey: dynamodb.Attribute;
  public abstract readonly sortKey?: dynamodb.Attribute;
  public abstract readonly globalSecondaryIndexes: dynamodb.GlobalSecondaryIndexProps[];
  public abstract readonly tableEncryptionKey?: kms.IKey;
  public abstract readonly bucketEncryptionKey?: kms.IKey;
  public abstract readonly writerDeadline: Duration;
  public abstract readonly requestMetricsId?: string;
  public abstract readonly readerFunction?: lambda.IFunction;
  public abstract readonly readerUrl?: lambda.IFunctionUrl;
  public abstract readonly reconcilerFunction?: lambda.IFunction;
  public abstract readonly reconcilerDeadLetterQueue?: sqs.IQueue;
  public abstract readonly doctorFunction?: lambda.IFunction;

  // ---------------------------------------------------------------------------
  // Grants: each one the operations of src/perms.ts GRANTS, granted by grantOperations.
  // ---------------------------------------------------------------------------

  /**
   * Grants reading index rows: `dynamodb:GetItem`, `dynamodb:Query`, `dynamodb:Scan`,
   * `dynamodb:BatchGetItem`, `dynamodb:ConditionCheckItem` and `dynamodb:DescribeTable` on
   * the table, `dynamodb:Query` and `dynamodb:Scan` on its global secondary indexes, plus
   * `kms:Decrypt` and `kms:DescribeKey` on the table's customer managed key, if any.
   */
  public grantReadIndex(grantee: iam.IGrantable): iam.Grant {
    return this.grantOperations(grantee, GRANTS.grantReadIndex);
  }

  /**
   * Grants reading parts: `s3:GetObject` and `s3:GetObjectVersion` on the objects under
   * the key prefix (`<bucketArn>/<keyPrefix>*`), plus `kms:Decrypt` and `kms:DescribeKey`
   * on the bucket's customer managed key, if any.
   */
  public grantReadParts(grantee: iam.IGrantable): iam.Grant {
    return this.grantOperations(grantee, GRANTS.grantReadParts);
  }

  /**
   * Grants reading whole items: everything in `grantReadIndex` and `grantReadParts`.
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.grantOperations(grantee, GRANTS.grantRead);
  }

  /**
   * Grants writing and deleting items: `dynamodb:GetItem` (a writer reads the revision it
   * conditions on), `dynamodb:PutItem`, `dynamodb:UpdateItem`, `dynamodb:DeleteItem` and
   * `dynamodb:ConditionCheckItem` on the table; `s3:PutObject`, `s3:DeleteObject` and
   * `s3:DeleteObjectVersion` (compensation) on the objects under the key prefix;
   * `kms:Encrypt`, `kms:GenerateDataKey`, `kms:Decrypt` and `kms:DescribeKey` on the
   * table's and the bucket's customer managed keys, if any.
   */
  public grantWrite(grantee: iam.IGrantable): iam.Grant {
    return this.grantOperations(grantee, GRANTS.grantWrite);
  }

  /**
   * Grants reading and writing items: everything in `grantRead` and `grantWrite`.
   */
  public grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    return this.grantOperations(grantee, GRANTS.grantReadWrite);
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
    configureFunction(this, fn, 'grantAndConfigure', storeEnvironment(this));
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

  // ---------------------------------------------------------------------------
  // Metrics the store's functions publish (src/runtime/metrics.ts)
  // ---------------------------------------------------------------------------

  /**
   * Parts that reads found pinned to a version S3 no longer has (namespace `SplitStore`,
   * metric `DanglingPointers`, dimension `TableName`; Sum). Published by the reference reader.
   */
  public metricDanglingPointers(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.storeMetric(METRIC_NAMES.danglingPointers, {}, cloudwatch.Stats.SUM, props);
  }

  /**
   * S3 events the reconciler handled with one outcome (`SplitStore/ReconciledEvents`,
   * dimensions `TableName` and `Outcome`; Sum).
   */
  public metricReconcilerOutcome(outcome: ReconcilerOutcome, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.storeMetric(METRIC_NAMES.reconciledEvents, { [METRIC_DIMENSIONS.outcome]: outcome }, cloudwatch.Stats.SUM, props);
  }

  /**
   * Reconciler messages whose reconcile failed (`SplitStore/ReconcilerErrors`, dimension
   * `TableName`; Sum). SQS retries each, then moves it to the dead-letter queue.
   */
  public metricReconcilerErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.storeMetric(METRIC_NAMES.reconcilerErrors, {}, cloudwatch.Stats.SUM, props);
  }

  /**
   * Drift of one kind found by the doctor (`SplitStore/DoctorFindings`, dimensions
   * `TableName` and `Finding`; Maximum: each scan publishes its count, 0 included).
   */
  public metricDoctorFindings(finding: DoctorFinding, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.storeMetric(METRIC_NAMES.doctorFindings, { [METRIC_DIMENSIONS.finding]: finding }, cloudwatch.Stats.MAXIMUM, props);
  }

  /**
   * Index rows the doctor's scans read (`SplitStore/DoctorRowsScanned`, dimension
   * `TableName`; Maximum): no data point means no scan finished.
   */
  public metricDoctorRowsScanned(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.storeMetric(METRIC_NAMES.doctorRowsScanned, {}, cloudwatch.Stats.MAXIMUM, props);
  }

  // ---------------------------------------------------------------------------
  // Table metrics (AWS/DynamoDB)
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

  // ---------------------------------------------------------------------------
  // Bucket metrics (AWS/S3 request metrics of the parts prefix)
  // ---------------------------------------------------------------------------

  /**
   * Any S3 request metric of the parts prefix (namespace `AWS/S3`, dimensions `BucketName`
   * and `FilterId` = `requestMetricsId`). Sum unless `props.statistic` says otherwise.
   *
   * @param metricName an S3 request metric name, e.g. 'AllRequests' or 'HeadRequests'
   */
  public metricBucket(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    if (!this.requestMetricsId) {
      throw new Error(
        `SplitStore.metricBucket('${metricName}'): the bucket has no known request-metrics configuration. ` +
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

  /** The resources grants apply to. */
  private resources(): StoreResources {
    return {
      table: this.table,
      indexNames: this.globalSecondaryIndexes.map((index) => index.indexName),
      bucket: this.bucket,
      keyPrefix: this.keyPrefix,
      tableKey: this.tableEncryptionKey,
      bucketKey: this.bucketEncryptionKey,
    };
  }

  private grantOperations(grantee: iam.IGrantable, operations: readonly OperationId[]): iam.Grant {
    return grantOperations(grantee, operations, this.resources());
  }

  /** A metric the store's functions publish: namespace `SplitStore`, dimension `TableName` plus `dimensions`. */
  private storeMetric(
    metricName: string, dimensions: Record<string, string>, statistic: string, props?: cloudwatch.MetricOptions,
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      statistic,
      ...props,
      dimensionsMap: { [METRIC_DIMENSIONS.tableName]: this.table.tableName, ...dimensions },
    });
  }
}
