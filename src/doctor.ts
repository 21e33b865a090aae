import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ROLES } from './perms';
import { bundledFunction } from './private/bundled-function';
import { grantOperations } from './private/grants';
import { addPolicySuppressions, xrayWildcardSuppression } from './private/nag';
import { createLogGroup, millisString, resourcesOf, StoreWiring, validateMemorySize } from './private/wiring';
import { COMMIT_MARGIN_MS } from './runtime/config';
import { DOCTOR_ENV } from './runtime/doctor-env';

/**
 * Options of the doctor: a scheduled, read-only scan of the store for drift, whose findings
 * are published as the metric `SplitStore/DoctorFindings` (`metricDoctorFindings`).
 */
export interface SplitStoreDoctorOptions {
  /**
   * When the scan runs.
   *
   * @default events.Schedule.rate(Duration.days(1))
   */
  readonly schedule?: events.Schedule;

  /**
   * Age from which a current version that no row pins (or one above a pinned version)
   * counts as drift: younger ones may still be waiting for the reconciler. At least the
   * writer deadline plus 30 seconds.
   *
   * @default - the reconciler's delay (the writer deadline plus 30 seconds without a reconciler)
   */
  readonly minAge?: Duration;

  /**
   * Memory of the doctor's function, in MiB (128 to 10,240). The scan keeps every pin of the
   * table in memory: about 200 bytes per part.
   *
   * @default 1024
   */
  readonly memorySize?: number;

  /**
   * Longest time one scan may take (at most 15 minutes). A scan that does not finish in time
   * fails (the function's `Errors` metric) and publishes no findings.
   *
   * @default Duration.minutes(15)
   */
  readonly timeout?: Duration;

  /**
   * How long the doctor's log group keeps its logs (its own log group, deleted with the stack).
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * AWS X-Ray tracing of the doctor.
   *
   * @default lambda.Tracing.DISABLED
   */
  readonly tracing?: lambda.Tracing;
}

/** Props of the internal doctor construct: the user's options plus the store's wiring. */
export interface SplitStoreDoctorProps extends SplitStoreDoctorOptions {
  /** The store to scan. */
  readonly wiring: StoreWiring;
  /**
   * The reconciler's delay, the default `minAge`.
   *
   * @default - no reconciler: the writer deadline plus the commit margin
   */
  readonly reconcilerDelay?: Duration;
}

/** Default memory of the doctor, MiB. */
const DEFAULT_DOCTOR_MEMORY = 1024;
/** Lambda's longest timeout, the doctor's default. */
const MAX_TIMEOUT = Duration.minutes(15);

/**
 * The doctor: an EventBridge schedule that invokes a Lambda function, which scans the table
 * and lists the bucket's versions under the key prefix (read-only: its role can do nothing
 * else), and publishes what it found as metrics and log lines.
 *
 * Internal construct created by `SplitStore` with the id `Doctor`.
 */
export class SplitStoreDoctor extends Construct {
  /** The doctor's function. */
  public readonly function: lambda.IFunction;

  /** The doctor's execution role. */
  public readonly role: iam.IRole;

  /** The schedule that invokes it. */
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: SplitStoreDoctorProps) {
    super(scope, id);
    const wiring = props.wiring;
    const memorySize = props.memorySize ?? DEFAULT_DOCTOR_MEMORY;
    const timeout = props.timeout ?? MAX_TIMEOUT;
    validateMemorySize('doctor.memorySize', memorySize);
    if (!timeout.isUnresolved() && (timeout.toSeconds({ integral: false }) < 60 || timeout.toMilliseconds() > MAX_TIMEOUT.toMilliseconds())) {
      throw new Error(`doctor.timeout must be between 1 minute and 15 minutes (Lambda's longest), got ${timeout.toHumanString()}. ` +
        'Fix: give for example Duration.minutes(15), or remove it for the default.');
    }
    // Unset without a reconciler: the runtime's default, the writer deadline plus the commit margin.
    const minAge = props.minAge ?? props.reconcilerDelay;
    if (props.minAge && !props.minAge.isUnresolved() && !wiring.writerDeadline.isUnresolved()) {
      const least = wiring.writerDeadline.toMilliseconds() + COMMIT_MARGIN_MS;
      if (props.minAge.toMilliseconds() < least) {
        throw new Error(
          `doctor.minAge (${props.minAge.toHumanString()}) must be at least ${wiring.writerDeadlineProp} plus 30 seconds ` +
          `(${Duration.millis(least).toHumanString()}): a younger version may belong to a write still committing, and the doctor ` +
          'would report it as drift. Fix: raise doctor.minAge, or remove it for the reconciler\'s delay.',
        );
      }
    }

    const role = new iam.Role(this, 'ServiceRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'cdk-split-store doctor: reads one store, writes nothing',
    });
    this.role = role;
    const logGroup = createLogGroup(this, props.logRetention);
    const fn = bundledFunction(this, 'Function', 'doctor.lambda', {
      description: 'cdk-split-store doctor: scans the store for drift and publishes it as metrics',
      runtime: wiring.runtime,
      role,
      memorySize,
      timeout,
      tracing: props.tracing ?? lambda.Tracing.DISABLED,
      logGroup,
      environment: {
        ...wiring.environment,
        ...(minAge ? { [DOCTOR_ENV.minAgeMs]: millisString(props.minAge ? 'doctor.minAge' : 'reconciler.delay', minAge) } : {}),
      },
    });
    // A scan that failed is not retried: the next scheduled one runs.
    fn.configureAsyncInvoke({ retryAttempts: 0 });
    this.function = fn;
    logGroup.grantWrite(role);
    grantOperations(role, ROLES.doctor, { ...resourcesOf(wiring), indexNames: [] });
    if (props.tracing === lambda.Tracing.ACTIVE || props.tracing === lambda.Tracing.PASS_THROUGH) {
      addPolicySuppressions(role, [xrayWildcardSuppression()]);
    }

    this.rule = new events.Rule(this, 'Schedule', {
      description: 'cdk-split-store doctor: scans the store for drift',
      schedule: props.schedule ?? events.Schedule.rate(Duration.days(1)),
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 0 })],
    });
  }
}
