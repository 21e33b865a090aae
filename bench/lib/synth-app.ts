/**
 * One synthesis, run in a fresh process by bench/synth.ts:
 *
 *   node -r ts-node/register/transpile-only bench/lib/synth-app.ts <construct|handwritten> <stores> <storesPerStack> <outdir>
 *
 * Builds an app with <stores> stores, either with the SplitStore construct or with the
 * same resources written by hand with aws-cdk-lib L2 constructs, synthesizes it into
 * <outdir>, and prints one JSON line: the time to build the construct tree, the time of
 * app.synth(), and the CloudFormation resources it produced (by type), so the two kinds
 * can be checked for a fair comparison. Module loading (aws-cdk-lib, our src/) happens
 * before the clock starts and is not measured.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

const ROOT = path.resolve(__dirname, '..', '..');
const RETENTION_DAYS = 7;
const KEY_PREFIX = 'items/';

/**
 * The resources of one default SplitStore, written by hand the way a careful user of
 * aws-cdk-lib would: the table, the versioned bucket with the same lifecycle and request
 * metrics, the reader Lambda (same bundled asset) with its log group, Function URL and
 * grants, and the reconciler (SQS queue + DLQ fed by the bucket's ObjectCreated events,
 * Lambda with its log group and grants). What it leaves out is the construct's
 * validation, cdk-nag metadata and the finer-grained IAM statements (it uses the L2
 * grantReadWriteData / grantReadWrite helpers).
 */
export class HandWrittenStore extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true, recoveryPeriodInDays: RETENTION_DAYS },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const bucket = new s3.Bucket(this, 'Bucket', {
      versioned: true,
      lifecycleRules: [{
        noncurrentVersionExpiration: Duration.days(RETENTION_DAYS),
        expiredObjectDeleteMarker: true,
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      }],
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      encryption: s3.BucketEncryption.S3_MANAGED,
      metrics: [{ id: 'SplitStoreParts', prefix: KEY_PREFIX }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const environment = {
      SPLIT_STORE_TABLE_NAME: table.tableName,
      SPLIT_STORE_BUCKET_NAME: bucket.bucketName,
      SPLIT_STORE_KEY_PREFIX: KEY_PREFIX,
      SPLIT_STORE_PARTITION_KEY: 'id',
      SPLIT_STORE_PARTITION_KEY_TYPE: 'S',
      SPLIT_STORE_WRITER_DEADLINE_MS: '20000',
    };

    const reader = new lambda.Function(this, 'Reader', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(path.join(ROOT, 'assets', 'reader.lambda')),
      memorySize: 512,
      timeout: Duration.seconds(30),
      environment,
      logGroup: new logs.LogGroup(this, 'ReaderLogs', { retention: logs.RetentionDays.ONE_MONTH }),
    });
    table.grantReadWriteData(reader);
    bucket.grantReadWrite(reader, `${KEY_PREFIX}*`);
    bucket.grantDelete(reader, `${KEY_PREFIX}*`);
    reader.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM, invokeMode: lambda.InvokeMode.RESPONSE_STREAM });

    const deadLetterQueue = new sqs.Queue(this, 'ReconcilerDlq', {
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      retentionPeriod: Duration.days(14),
    });
    const queue = new sqs.Queue(this, 'ReconcilerQueue', {
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      deliveryDelay: Duration.minutes(5),
      visibilityTimeout: Duration.minutes(3),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: 5 },
    });
    bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SqsDestination(queue), { prefix: KEY_PREFIX });
    const reconciler = new lambda.Function(this, 'Reconciler', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(path.join(ROOT, 'assets', 'reconciler.lambda')),
      timeout: Duration.seconds(30),
      environment,
      logGroup: new logs.LogGroup(this, 'ReconcilerLogs', { retention: logs.RetentionDays.ONE_MONTH }),
    });
    reconciler.addEventSource(new SqsEventSource(queue, { batchSize: 10, reportBatchItemFailures: true }));
    table.grantReadData(reconciler);
    bucket.grantRead(reconciler, `${KEY_PREFIX}*`);
    bucket.grantDelete(reconciler, `${KEY_PREFIX}*`);
  }
}

/** Which kind of app to build. */
export type AppKind = 'construct' | 'handwritten';

/** What one synthesis measured. */
export interface SynthResult {
  readonly kind: AppKind;
  readonly stores: number;
  readonly stacks: number;
  /** Building the construct tree (constructors, validation, grants), ms. */
  readonly constructMs: number;
  /** app.synth(): aspects, validation, resolution, template and asset output, ms. */
  readonly synthMs: number;
  /** CloudFormation resource counts by type, summed over the stacks. */
  readonly resources: Record<string, number>;
  /** Size of the synthesized templates (JSON as written to the cloud assembly), summed, bytes. */
  readonly templateBytes: number;
}

type StoreFactory = (scope: Construct, id: string) => void;

function storeFactory(kind: AppKind): StoreFactory {
  if (kind === 'handwritten') return (scope, id) => new HandWrittenStore(scope, id);
  // Loaded only for this kind, so the hand-written app runs before the construct exists.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { SplitStore } = require(path.join(ROOT, 'src', 'index')) as {
    SplitStore: new (scope: Construct, id: string, props?: object) => Construct;
  };
  return (scope, id) => new SplitStore(scope, id);
}

/** Builds and synthesizes the app; see the file comment. */
export function synthesize(kind: AppKind, stores: number, storesPerStack: number, outdir: string): SynthResult {
  const factory = storeFactory(kind);
  const t0 = performance.now();
  const app = new App({ outdir });
  const stacks: Stack[] = [];
  for (let i = 0; i < stores; i++) {
    if (i % storesPerStack === 0) stacks.push(new Stack(app, `Bench${stacks.length}`, { env: { account: '111111111111', region: 'us-east-1' } }));
    factory(stacks[stacks.length - 1], `Store${i}`);
  }
  const t1 = performance.now();
  const assembly = app.synth();
  const t2 = performance.now();
  const resources: Record<string, number> = {};
  let templateBytes = 0;
  for (const stack of assembly.stacks) {
    templateBytes += fs.statSync(path.join(assembly.directory, stack.templateFile)).size;
    for (const resource of Object.values((stack.template.Resources ?? {}) as Record<string, { Type: string }>)) {
      resources[resource.Type] = (resources[resource.Type] ?? 0) + 1;
    }
  }
  return { kind, stores, stacks: stacks.length, constructMs: t1 - t0, synthMs: t2 - t1, resources, templateBytes };
}

if (require.main === module) {
  const [kind, stores, perStack, outdir] = process.argv.slice(2);
  if ((kind !== 'construct' && kind !== 'handwritten') || !outdir) {
    throw new Error('usage: synth-app.ts <construct|handwritten> <stores> <storesPerStack> <outdir>');
  }
  process.stdout.write(`${JSON.stringify(synthesize(kind, Number(stores), Number(perStack), outdir))}\n`);
}
