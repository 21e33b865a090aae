import { Annotations, Duration, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { bundledFunction } from './private/bundled-function';
import { addPolicySuppressions, NagSuppression, partsWildcardSuppression, xrayWildcardSuppression } from './private/nag';
import {
  createLogGroup,
  millisString,
  partsArn,
  StoreWiring,
  validateMemorySize,
} from './private/wiring';
import { DEFAULT_WRITER_DEADLINE_MS, ENV } from './runtime/config';

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
   * Timeout of one reader invocation. Must exceed `writerDeadline` by at least 5 seconds,
   * so that a writer that hits its deadline still has time to compensate (delete the
   * S3 versions it wrote) before Lambda stops it.
   *
   * @default Duration.seconds(30)
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
   * Deadline of one write: a writer still running after it abandons the write and
   * deletes the S3 versions it wrote instead of committing the index row. Whole
   * seconds, at least 1 second; it must stay at least 30 seconds under the reconciler's
   * delay, which deletes a version above the pinned one once it is older than the
   * deadline plus those 30 seconds (no writer can still commit it).
   *
   * @default Duration.seconds(20)
   */
  readonly writerDeadline?: Duration;
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
    const timeout = props.timeout ?? DEFAULT_READER_TIMEOUT;
    const writerDeadline = props.writerDeadline ?? Duration.millis(DEFAULT_WRITER_DEADLINE_MS);
    const withUrl = props.functionUrl ?? true;
    validateMemorySize('reader.memorySize', memorySize);
    validateReservedConcurrency(props.reservedConcurrentExecutions);
    validateWriterDeadline(writerDeadline, timeout);
    if (!withUrl && props.functionUrlAuthType !== undefined) {
      throw new Error(
        `reader.functionUrlAuthType (${props.functionUrlAuthType}) was given with reader.functionUrl: false: ` +
        'an auth type only applies to a Function URL. Remove functionUrlAuthType, or set functionUrl to true.',
      );
    }

    const wiring = props.wiring;
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
        [ENV.writerDeadlineMs]: millisString('reader.writerDeadline', writerDeadline),
      },
    });
    this.function = fn;

    this.logGroup.grantWrite(role);
    grantReaderAccess(role, wiring);

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

/**
 * The reader's permissions, exactly what its operations call:
 * - DynamoDB on the table: GetItem (read), Query/Scan (list), PutItem/UpdateItem
 *   (commit, conditional on the revision), DeleteItem (delete); on each index: Query/Scan
 *   (list). No ConditionCheckItem: the protocol's conditions ride on the writes themselves,
 *   it uses no transaction;
 * - S3 on `<bucket>/<prefix>*` only: GetObject/GetObjectVersion (read, pinned reads,
 *   presigned URLs), PutObject (write), DeleteObject (delete marker),
 *   DeleteObjectVersion (compensation);
 * - KMS on the store's key, if any: Decrypt, Encrypt, GenerateDataKey.
 */
function grantReaderAccess(role: iam.IRole, wiring: StoreWiring): void {
  const tableArn = wiring.table.tableArn;
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    sid: 'IndexRows',
    actions: [
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:Scan',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    ],
    resources: [tableArn],
  }));
  const indexes = indexNamesOf(wiring);
  if (indexes.length > 0) {
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ListIndexes',
      actions: ['dynamodb:Query', 'dynamodb:Scan'],
      resources: indexes.map((name) => `${tableArn}/index/${name}`),
    }));
  }
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    sid: 'Parts',
    actions: [
      's3:GetObject',
      's3:GetObjectVersion',
      's3:PutObject',
      's3:DeleteObject',
      's3:DeleteObjectVersion',
    ],
    resources: [partsArn(wiring)],
  }));
  // Without ListBucket, S3 answers a GET of a missing object or version with 403 instead of
  // 404, and a dangling pointer (a pinned version that is gone) would be reported as a
  // generic S3Error instead of DanglingPointer (and missed by its metric).
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    sid: 'MissingKeysAre404',
    actions: ['s3:ListBucket'],
    resources: [wiring.bucket.bucketArn],
  }));
  if (wiring.encryptionKey) {
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'StoreKey',
      actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
      resources: [wiring.encryptionKey.keyArn],
    }));
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

/** The index names a list may query: `wiring.indexNames`, else those in the environment. */
function indexNamesOf(wiring: StoreWiring): string[] {
  if (wiring.indexNames) return wiring.indexNames;
  const json = wiring.environment[ENV.indexes];
  if (json === undefined || Token.isUnresolved(json)) return [];
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed)) {
    throw new Error(`${ENV.indexes} must be a JSON array of indexes, got ${json}`);
  }
  return parsed.map((index: { name?: unknown }) => {
    if (typeof index?.name !== 'string') {
      throw new Error(`${ENV.indexes} has an index without a name: ${json}`);
    }
    return index.name;
  });
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

function validateWriterDeadline(writerDeadline: Duration, timeout: Duration): void {
  if (writerDeadline.isUnresolved() || timeout.isUnresolved()) return;
  const deadlineMs = writerDeadline.toMilliseconds();
  if (deadlineMs < 1000 || deadlineMs % 1000 !== 0) {
    throw new Error(
      `reader.writerDeadline must be a whole number of seconds, at least 1, got ${writerDeadline.toHumanString()}. ` +
      'Use Duration.seconds(n).',
    );
  }
  if (timeout.toMilliseconds() < deadlineMs + COMPENSATION_MARGIN.toMilliseconds()) {
    throw new Error(
      `reader.timeout (${timeout.toHumanString()}) must exceed reader.writerDeadline ` +
      `(${writerDeadline.toHumanString()}) by at least ${COMPENSATION_MARGIN.toHumanString()}: ` +
      'a writer past its deadline must still have time to delete the S3 versions it wrote. ' +
      'Raise timeout or lower writerDeadline.',
    );
  }
}

