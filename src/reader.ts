import { Annotations, Duration, Size, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ROLES } from './perms';
import { bundledFunction } from './private/bundled-function';
import { grantOperations } from './private/grants';
import { addPolicySuppressions, NagSuppression, partsWildcardSuppression, xrayWildcardSuppression } from './private/nag';
import {
  createLogGroup,
  millisString,
  partsArn,
  resourcesOf,
  StoreWiring,
  validateMemorySize,
} from './private/wiring';
import { READER_ENV } from './runtime/handler';
import { MAX_BODY_BYTES, MAX_PART_TIMEOUT_MS, MAX_STREAM_MIN_LINE_BYTES } from './runtime/limits';

/**
 * Options for the reference reader Lambda that `SplitStore` deploys: split reads
 * streamed over a Function URL, consistent writes, lists.
 *
 * Routes of its Function URL (`{pk}`/`{sk}` are the item's key values, percent-encoded;
 * no `{sk}` segment when the table has no sort key):
 *
 * | Method | Path | Answer |
 * |---|---|---|
 * | GET | `/items/{pk}[/{sk}]?parts=a,b&fields=a:x.y` | NDJSON split read (below) |
 * | GET | `/items?limit=&cursor=&index=&pk=&order=asc\|desc` | JSON page of index rows; never reads S3 |
 * | PUT | `/items/{pk}[/{sk}]` body `{attributes, parts, expectedRevision?, create?}` | JSON row (201 new, 200 replaced) |
 * | PATCH | `/items/{pk}[/{sk}]` body `{parts?, removeParts?, attributes?, expectedRevision?}` | JSON row |
 * | DELETE | `/items/{pk}[/{sk}]?expectedRevision=n` | JSON `{deleted: row}` |
 * | GET | `/items/{pk}[/{sk}]/parts/{part}/url?expiresIn=` | JSON `{url, versionId}`, a presigned GET pinned to the version |
 *
 * The split read answers `application/x-ndjson`, one JSON object per line, each written
 * the moment it is known: first `{"type":"index","row":...}` (as soon as DynamoDB answers),
 * then one `{"type":"part",...}` or `{"type":"part-error",...}` line per requested part in
 * the order the parts resolve, then `{"type":"end","timings":...,"errors":[...]}`. Bad
 * input gets a 4xx JSON error `{"error":{"code","message","requestId"}}` and writes nothing; a stale
 * `expectedRevision` gets 409. The same operations are available as plain JSON
 * invocations (`{"operation":"get"|"list"|"put"|"updateParts"|"delete"|"presign", ...}`).
 * The README's "Split reads and the stream format" section has every field.
 */
export interface SplitStoreReaderOptions {
  /**
   * Memory of the reader function, in MiB (128 to 10,240). Lambda allocates CPU in
   * proportion, so more memory also means faster JSON parsing of large parts.
   *
   * @default 512
   */
  readonly memorySize?: number;

  /**
   * Concurrent executions reserved for the reader (at least 1). It both guarantees and
   * caps the reader's concurrency, which also caps the DynamoDB and S3 request rate it
   * can generate.
   *
   * @default - unreserved: the reader draws from the account's unreserved concurrency
   */
  readonly reservedConcurrentExecutions?: number;

  /**
   * AWS X-Ray tracing of the reader. `ACTIVE` adds the X-Ray write permissions to the
   * reader's role.
   *
   * @default lambda.Tracing.DISABLED
   */
  readonly tracing?: lambda.Tracing;

  /**
   * How long the reader's log group keeps its logs. The reader gets its own log group,
   * deleted with the stack (it holds request logs, never item data).
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Timeout of one reader invocation. Must exceed the store's `writerDeadline` by at least
   * 5 seconds, so that a writer that hits its deadline still has time to compensate (delete
   * the S3 versions it wrote) before Lambda stops it.
   *
   * @default - 30 seconds, or the writer deadline plus 10 seconds when that is longer
   */
  readonly timeout?: Duration;

  /**
   * Whether to give the reader a Function URL (streamed NDJSON responses). Without it
   * the reader is still callable with a plain JSON `Invoke`.
   *
   * @default true
   */
  readonly functionUrl?: boolean;

  /**
   * Who may call the Function URL. `AWS_IAM` requires SigV4-signed requests from a
   * principal granted `lambda:InvokeFunctionUrl` and `lambda:InvokeFunction` (Lambda
   * requires both for Function URLs created since October 2025); `NONE` makes every item
   * of the store readable and writable by anyone who knows the URL, and adds a warning.
   *
   * Only valid when `functionUrl` is `true`.
   *
   * @default lambda.FunctionUrlAuthType.AWS_IAM
   */
  readonly functionUrlAuthType?: lambda.FunctionUrlAuthType;

  /**
   * Deadline of one write, for the reader only.
   *
   * @deprecated Use `writerDeadline` of `SplitStoreProps`: the deadline is store-wide (the
   * reconciler's delay and every function wired with `grantAndConfigure` depend on it, and a
   * store without the reader needs it too). Still honoured when the store's is not set; both
   * set to different values is refused.
   * @default - the store's `writerDeadline`
   */
  readonly writerDeadline?: Duration;

  /**
   * How long a split read waits for each part from S3 before it reports that part as a
   * `Timeout` part error (the other parts and the row are still served). At most 15 minutes,
   * and shorter than `timeout`; the reader also ends every read 1 second before the function
   * would be stopped. Sets `SPLIT_STORE_PART_TIMEOUT_MS`.
   *
   * @default Duration.seconds(10)
   */
  readonly partTimeout?: Duration;

  /**
   * Largest request body the reader accepts (a write's JSON); a larger one is refused with
   * `413` before anything is written. At most 6 MiB, the Lambda invoke payload limit. Sets
   * `SPLIT_STORE_MAX_BODY_BYTES`.
   *
   * @default Size.mebibytes(6)
   */
  readonly maxRequestBodySize?: Size;

  /**
   * Pads every line of a streamed split read (but the trailer) with spaces to at least this
   * size. Lambda has been observed to hold back small streamed writes until more data
   * follows; padding (e.g. `Size.kibibytes(16)`) forces each line out at once, at the cost of
   * bandwidth. At most 1 MiB. Sets `SPLIT_STORE_STREAM_MIN_LINE_BYTES`.
   *
   * @default - no padding
   */
  readonly minStreamLineSize?: Size;
}

/** Props of the internal reader construct: the user's options plus the store's wiring. */
export interface SplitStoreReaderProps extends SplitStoreReaderOptions {
  /** The store the reader serves. */
  readonly wiring: StoreWiring;
}

/** Default memory of the reader, MiB. */
const DEFAULT_READER_MEMORY = 512;
/** Default reader timeout. */
const DEFAULT_READER_TIMEOUT = Duration.seconds(30);
/** Time a writer needs after its deadline to compensate before Lambda stops it. */
const COMPENSATION_MARGIN = Duration.seconds(5);
/** What the default timeout keeps above a writer deadline longer than 20 seconds. */
const DEFAULT_DEADLINE_HEADROOM = Duration.seconds(10);

/** The default timeout: 30 seconds, or the writer deadline plus 10 seconds when that is longer. */
function defaultTimeout(writerDeadline: Duration): Duration {
  if (writerDeadline.isUnresolved()) return DEFAULT_READER_TIMEOUT;
  const ms = writerDeadline.toMilliseconds() + DEFAULT_DEADLINE_HEADROOM.toMilliseconds();
  return ms > DEFAULT_READER_TIMEOUT.toMilliseconds() ? Duration.seconds(Math.ceil(ms / 1000)) : DEFAULT_READER_TIMEOUT;
}

/**
 * The reference reader: a Lambda function with its own least-privilege role and log
 * group, and (by default) a streaming Function URL with IAM auth.
 *
 * Internal construct created by `SplitStore` with the id `Reader`.
 */
export class SplitStoreReader extends Construct {
  /** The reader function. */
  public readonly function: lambda.IFunction;

  /** The reader's Function URL, when `functionUrl` is on. */
  public readonly functionUrl?: lambda.IFunctionUrl;

  /** The reader's execution role. */
  public readonly role: iam.IRole;

  /** The reader's log group. */
  public readonly logGroup: logs.ILogGroup;

  constructor(scope: Construct, id: string, props: SplitStoreReaderProps) {
    super(scope, id);

    const memorySize = props.memorySize ?? DEFAULT_READER_MEMORY;
    const wiring = props.wiring;
    const timeout = props.timeout ?? defaultTimeout(wiring.writerDeadline);
    const withUrl = props.functionUrl ?? true;
    validateMemorySize('reader.memorySize', memorySize);
    validateReservedConcurrency(props.reservedConcurrentExecutions);
    validateTimeout(timeout, wiring);
    if (!withUrl && props.functionUrlAuthType !== undefined) {
      throw new Error(
        `reader.functionUrlAuthType (${props.functionUrlAuthType}) was given with reader.functionUrl: false: ` +
        'an auth type only applies to a Function URL. Remove functionUrlAuthType, or set functionUrl to true.',
      );
    }

    const role = new iam.Role(this, 'ServiceRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'cdk-split-store reference reader: reads and writes one store, nothing else',
    });
    this.role = role;

    this.logGroup = createLogGroup(this, props.logRetention);

    const fn = bundledFunction(this, 'Function', 'reader.lambda', {
      description: 'cdk-split-store reference reader: split reads, consistent writes, lists',
      runtime: wiring.runtime,
      role,
      memorySize,
      timeout,
      tracing: props.tracing ?? lambda.Tracing.DISABLED,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      logGroup: this.logGroup,
      environment: {
        ...wiring.environment,
        ...tuningEnvironment(props, timeout),
      },
    });
    this.function = fn;

    this.logGroup.grantWrite(role);
    grantOperations(role, ROLES.reader, resourcesOf(wiring));

    if (withUrl) {
      const authType = props.functionUrlAuthType ?? lambda.FunctionUrlAuthType.AWS_IAM;
      this.functionUrl = fn.addFunctionUrl({
        authType,
        invokeMode: lambda.InvokeMode.RESPONSE_STREAM,
      });
      if (authType === lambda.FunctionUrlAuthType.NONE) {
        // Since October 2025 a new Function URL also needs lambda:InvokeFunction, which
        // this aws-cdk-lib floor does not add: grant it to everyone, but only through the
        // URL (InvokedViaFunctionUrl), so the Invoke API stays closed to the public.
        const invokeViaUrl = new lambda.CfnPermission(this, 'PublicUrlInvokeFunction', {
          action: 'lambda:InvokeFunction',
          principal: '*',
          functionName: fn.functionArn,
        });
        invokeViaUrl.addPropertyOverride('InvokedViaFunctionUrl', true);
        Annotations.of(this).addWarningV2(
          'cdk-split-store:readerPublicUrl',
          'reader.functionUrlAuthType is NONE: anyone who knows the Function URL can read, overwrite and delete ' +
          'every item of the store. Use AWS_IAM (the default) and grant callers lambda:InvokeFunctionUrl and ' +
          'lambda:InvokeFunction (readerUrl.grantInvokeUrl() and readerFunction.grantInvoke()), ' +
          'or keep AWS_IAM and put CloudFront with origin access control in front of the URL.',
        );
      }
    }

    suppressRoleFindings(role, wiring, props.tracing);
  }
}

/** Suppresses the reader role's unavoidable IAM5 findings, each by its exact resource. */
function suppressRoleFindings(role: iam.Role, wiring: StoreWiring, tracing?: lambda.Tracing): void {
  const rules: NagSuppression[] = [partsWildcardSuppression(role, partsArn(wiring))];
  if (tracing === lambda.Tracing.ACTIVE || tracing === lambda.Tracing.PASS_THROUGH) {
    rules.push(xrayWildcardSuppression());
  }
  addPolicySuppressions(role, rules);
}

function validateReservedConcurrency(value?: number): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(
      `reader.reservedConcurrentExecutions must be a whole number of at least 1, got ${value}. ` +
      'Leave it unset for unreserved concurrency; 0 would throttle every request (to deploy no reader, ' +
      'set readerEnabled: false on SplitStore instead).',
    );
  }
}

/** The reader's timeout leaves a writer past the store's deadline time to compensate. */
function validateTimeout(timeout: Duration, wiring: StoreWiring): void {
  const writerDeadline = wiring.writerDeadline;
  if (writerDeadline.isUnresolved() || timeout.isUnresolved()) return;
  if (timeout.toMilliseconds() < writerDeadline.toMilliseconds() + COMPENSATION_MARGIN.toMilliseconds()) {
    throw new Error(
      `reader.timeout (${timeout.toHumanString()}) must exceed ${wiring.writerDeadlineProp} ` +
      `(${writerDeadline.toHumanString()}) by at least ${COMPENSATION_MARGIN.toHumanString()}: ` +
      'a writer past its deadline must still have time to delete the S3 versions it wrote. ' +
      `Raise reader.timeout or lower ${wiring.writerDeadlineProp}.`,
    );
  }
}

/**
 * The environment variables of the reader's tuning props that are set, each checked against
 * the runtime's limits (src/runtime/limits.ts); unset props keep the runtime's defaults.
 */
function tuningEnvironment(props: SplitStoreReaderOptions, timeout: Duration): Record<string, string> {
  const env: Record<string, string> = {};
  if (props.partTimeout !== undefined) {
    const partTimeout = props.partTimeout;
    if (!partTimeout.isUnresolved()) {
      const ms = partTimeout.toMilliseconds();
      const longest = timeout.isUnresolved() ? MAX_PART_TIMEOUT_MS : Math.min(MAX_PART_TIMEOUT_MS, timeout.toMilliseconds() - 1);
      if (!Number.isInteger(ms) || ms < 1 || ms > longest) {
        throw new Error(
          `reader.partTimeout must be between 1 millisecond and ${Duration.millis(longest).toHumanString()} ` +
          `(shorter than reader.timeout, at most 15 minutes), got ${partTimeout.toHumanString()}. ` +
          'A part read cannot outlast the invocation that serves it. Lower reader.partTimeout, or raise reader.timeout.',
        );
      }
    }
    env[READER_ENV.partTimeoutMs] = millisString('reader.partTimeout', partTimeout);
  }
  if (props.maxRequestBodySize !== undefined) {
    env[READER_ENV.maxBodyBytes] = bytesString('reader.maxRequestBodySize', props.maxRequestBodySize, 1, MAX_BODY_BYTES,
      'the Lambda invoke payload limit is 6 MiB: a larger body never reaches the reader');
  }
  if (props.minStreamLineSize !== undefined) {
    env[READER_ENV.minLineBytes] = bytesString('reader.minStreamLineSize', props.minStreamLineSize, 0, MAX_STREAM_MIN_LINE_BYTES,
      'padding beyond the few KB Lambda holds back only spends bandwidth');
  }
  return env;
}

/** A size in whole bytes within `min..max`, as an environment variable value. */
function bytesString(prop: string, size: Size, min: number, max: number, why: string): string {
  if (size.isUnresolved()) {
    throw new Error(`${prop} must be a literal size, not a token: it is checked at synth time. Give it as Size.bytes(n) or Size.kibibytes(n).`);
  }
  const bytes = size.toBytes();
  if (!Number.isInteger(bytes) || bytes < min || bytes > max) {
    throw new Error(`${prop} must be between ${min} and ${max} bytes, got ${bytes} bytes (${why}). Fix: give a size in that range, or remove ${prop} for the default.`);
  }
  return String(bytes);
}
