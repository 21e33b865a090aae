import { Annotations, CfnResource, Duration, Resource, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ROLES } from './perms';
import { bundledFunction } from './private/bundled-function';
import { grantOperations } from './private/grants';
import {
  addNagSuppressions,
  addPolicySuppressions,
  hasWildcardResource,
  NagSuppression,
  notificationsHandlerManagedPolicySuppression,
  notificationsHandlerWildcardSuppression,
  partsWildcardSuppression,
  xrayWildcardSuppression,
} from './private/nag';
import {
  createLogGroup,
  partsArn,
  resourcesOf,
  StoreWiring,
  validateMemorySize,
} from './private/wiring';
import { COMMIT_MARGIN_MS } from './runtime/config';

/**
 * Options for the reconciler: the queue and function that bring every part key back to
 * "the pinned version is current": they remove the versions a crashed writer left behind,
 * hide (never delete) versions no row pins any more, and remove delete markers that hide a
 * pinned version.
 */
export interface SplitStoreReconcilerOptions {
  /**
   * How long each S3 event (a new part version, a delete marker, a deleted version) waits
   * before the reconciler looks at its key (SQS delivery delay, at most 15 minutes). A
   * writer never commits after its deadline, so a version no index row pins once the delay
   * has passed never will be: the delay must exceed the writer deadline by at least 30
   * seconds (room for a commit attempt already on its way at the deadline).
   *
   * @default Duration.minutes(5)
   */
  readonly delay?: Duration;

  /**
   * Memory of the reconciler function, in MiB (128 to 10,240).
   *
   * @default 256
   */
  readonly memorySize?: number;

  /**
   * How long the reconciler's log group keeps its logs (its own log group, deleted with
   * the stack).
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * AWS X-Ray tracing of the reconciler.
   *
   * @default lambda.Tracing.DISABLED
   */
  readonly tracing?: lambda.Tracing;
}

/** Props of the internal reconciler construct: the user's options plus the store's wiring. */
export interface SplitStoreReconcilerProps extends SplitStoreReconcilerOptions {
  /** The store to reconcile (its writer deadline included). */
  readonly wiring: StoreWiring;
}

/** Default delivery delay of the reconciler queue. */
const DEFAULT_DELAY = Duration.minutes(5);
/** SQS's longest delivery delay. */
const MAX_DELAY = Duration.minutes(15);
/** Room between the writer deadline and the delay for a commit already in flight. */
const COMMIT_MARGIN = Duration.millis(COMMIT_MARGIN_MS);
/** Default memory of the reconciler, MiB. */
const DEFAULT_RECONCILER_MEMORY = 256;
/** One batch is at most 10 records of three small API calls each. */
const RECONCILER_TIMEOUT = Duration.minutes(1);
/** Receives before a message goes to the dead-letter queue. */
const MAX_RECEIVE_COUNT = 5;

/**
 * The reconciler: every new part version, delete marker and deleted version under the key
 * prefix raises an S3 event that waits `delay` in an SQS queue; then a Lambda lists the
 * key's versions, reads the index row and repairs the key: a version above the pinned one
 * is deleted by VersionId (it was never committed), a delete marker above it is removed, and
 * a current version no live row pins is hidden under a delete marker (never deleted: it may
 * have been committed). This closes what compensation cannot: a writer that crashed between
 * its S3 put and its commit, a commit whose outcome was unknown, a failed retirement.
 *
 * Internal construct created by `SplitStore` with the id `Reconciler`.
 */
export class SplitStoreReconciler extends Construct {
  /** The reconciler function. */
  public readonly function: lambda.IFunction;

  /** The queue receiving the bucket's ObjectCreated and ObjectRemoved events under the key prefix. */
  public readonly queue: sqs.IQueue;

  /** Events that failed 5 times; kept 14 days. */
  public readonly deadLetterQueue: sqs.IQueue;

  /** The reconciler's execution role. */
  public readonly role: iam.IRole;

  /** The reconciler's log group. */
  public readonly logGroup: logs.ILogGroup;

  /** Whether the bucket's events were subscribed to the queue. */
  public readonly subscribed: boolean;

  /** How long each event waits in the queue before the reconciler handles it. */
  public readonly delay: Duration;

  constructor(scope: Construct, id: string, props: SplitStoreReconcilerProps) {
    super(scope, id);

    const wiring = props.wiring;
    const delay = props.delay ?? DEFAULT_DELAY;
    const memorySize = props.memorySize ?? DEFAULT_RECONCILER_MEMORY;
    validateMemorySize('reconciler.memorySize', memorySize);
    validateDelay(delay, wiring);
    this.delay = delay;

    // SQS managed encryption, even when the store has a customer managed key: with the
    // store's key on the queue, S3 must be allowed to use the key for this bucket only
    // (a key policy condition naming the bucket) while the bucket is encrypted with that
    // key, a Key -> Bucket -> Key cycle CloudFormation cannot deploy. Messages hold
    // object keys and version ids, never item data, and live minutes.
    const encryption = { encryption: sqs.QueueEncryption.SQS_MANAGED };

    const deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      ...encryption,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const queue = new sqs.Queue(this, 'Queue', {
      ...encryption,
      enforceSSL: true,
      deliveryDelay: delay,
      // AWS's guidance for Lambda event sources: six times the function timeout.
      visibilityTimeout: Duration.seconds(RECONCILER_TIMEOUT.toSeconds() * 6),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    this.queue = queue;
    this.deadLetterQueue = deadLetterQueue;

    const role = new iam.Role(this, 'ServiceRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'cdk-split-store reconciler: keeps every pinned part version current',
    });
    this.role = role;
    this.logGroup = createLogGroup(this, props.logRetention);

    const fn = bundledFunction(this, 'Function', 'reconciler.lambda', {
      description: 'cdk-split-store reconciler: keeps every pinned part version current',
      runtime: wiring.runtime,
      role,
      memorySize,
      timeout: RECONCILER_TIMEOUT,
      tracing: props.tracing ?? lambda.Tracing.DISABLED,
      logGroup: this.logGroup,
      // The store's environment carries the writer deadline: the reconciler treats an unpinned
      // version younger than the deadline plus the commit margin as a write possibly in flight.
      environment: wiring.environment,
    });
    this.function = fn;

    this.logGroup.grantWrite(role);
    grantOperations(role, ROLES.reconciler, { ...resourcesOf(wiring), indexNames: [] });
    fn.addEventSource(new SqsEventSource(queue, {
      batchSize: 10,
      reportBatchItemFailures: true,
    }));

    const rules: NagSuppression[] = [partsWildcardSuppression(this, partsArn(wiring))];
    if (props.tracing === lambda.Tracing.ACTIVE || props.tracing === lambda.Tracing.PASS_THROUGH) {
      rules.push(xrayWildcardSuppression());
    }
    addPolicySuppressions(role, rules);

    this.subscribed = this.subscribe(wiring.bucket, wiring.keyPrefix);
  }

  /**
   * Sends the bucket's ObjectCreated and ObjectRemoved events (new versions, delete markers,
   * deleted versions) under the prefix to the queue, when the bucket is defined in this
   * stack. An imported bucket, or one of another stack, is not touched: CDK would have to
   * rewrite a notification configuration it does not own (or create a cross-stack cycle),
   * so its owner subscribes the queue instead.
   */
  private subscribe(bucket: s3.IBucket, keyPrefix: string): boolean {
    const stack = Stack.of(this);
    if (!Resource.isOwnedResource(bucket) || Stack.of(bucket) !== stack) {
      Annotations.of(this).addWarningV2(
        'cdk-split-store:reconcilerNotSubscribed',
        `The bucket ${bucket.node.path} is not defined in this stack, so its S3 event notifications were not ` +
        'changed and the reconciler receives nothing. Send the bucket\'s s3:ObjectCreated:* and s3:ObjectRemoved:* ' +
        `events for the prefix "${keyPrefix}" to the reconciler queue (its owner can call bucket.addEventNotification(` +
        's3.EventType.OBJECT_CREATED, new s3n.SqsDestination(queue), { prefix }) and the same with ' +
        's3.EventType.OBJECT_REMOVED), or versions left by a crashed writer stay current until the next write of that part.',
      );
      return false;
    }
    const destination = new s3n.SqsDestination(this.queue);
    bucket.addEventNotification(s3.EventType.OBJECT_CREATED, destination, { prefix: keyPrefix });
    bucket.addEventNotification(s3.EventType.OBJECT_REMOVED, destination, { prefix: keyPrefix });
    suppressNotificationsHandler(stack);
    return true;
  }
}

/** The construct id of CDK's stack-wide S3 notifications handler (aws-s3 NotificationsResourceHandler). */
const NOTIFICATIONS_HANDLER_ID = 'BucketNotificationsHandler050a0587b7544547bf325f094a3db834';

/**
 * Suppresses the findings of CDK's S3 notifications handler, the singleton Lambda that
 * `addEventNotification` adds to the stack, whose role and runtime CDK fixes.
 */
function suppressNotificationsHandler(stack: Stack): void {
  const handler = stack.node.tryFindChild(NOTIFICATIONS_HANDLER_ID);
  if (!handler) return;
  const role = handler.node.tryFindChild('Role');
  const cfnRole = role?.node.defaultChild;
  if (cfnRole instanceof CfnResource) {
    addNagSuppressions(cfnRole, [notificationsHandlerManagedPolicySuppression()]);
  }
  // aws-cdk-lib scopes the handler's s3:PutBucketNotification to each bucket in newer
  // releases; only the releases that grant it on "*" get the wildcard suppressed.
  const policy = role?.node.tryFindChild('DefaultPolicy');
  if (role && policy instanceof iam.Policy && hasWildcardResource(policy)) {
    addPolicySuppressions(role, [notificationsHandlerWildcardSuppression()]);
  }
  // Its function is a plain CfnResource of type AWS::Lambda::Function, which AwsSolutions-L1
  // does not inspect: nothing to suppress there.
}

function validateDelay(delay: Duration, wiring: StoreWiring): void {
  const writerDeadline = wiring.writerDeadline;
  if (delay.isUnresolved() || writerDeadline.isUnresolved()) return;
  if (delay.toMilliseconds() > MAX_DELAY.toMilliseconds() || delay.toMilliseconds() % 1000 !== 0) {
    throw new Error(
      'reconciler.delay must be a whole number of seconds up to 15 minutes (SQS\'s longest delivery delay), ' +
      `got ${delay.toHumanString()}. Use for example Duration.minutes(5).`,
    );
  }
  const minimum = writerDeadline.toMilliseconds() + COMMIT_MARGIN.toMilliseconds();
  if (delay.toMilliseconds() < minimum) {
    throw new Error(
      `reconciler.delay (${delay.toHumanString()}) must exceed ${wiring.writerDeadlineProp} ` +
      `(${writerDeadline.toHumanString()}) by at least ${COMMIT_MARGIN.toHumanString()}: the reconciler deletes ` +
      'a version above the pinned one once the delay has passed, which would destroy the parts of a write still ' +
      `committing. Raise reconciler.delay or lower ${wiring.writerDeadlineProp}.`,
    );
  }
}
