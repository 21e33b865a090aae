import { Annotations, CfnResource, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, IConstruct } from 'constructs';
import { ReaderFunction } from './reader-function';
import { DEFAULT_WRITER_DEADLINE_MS, ENV } from './runtime/config';

/**
 * Options for the reference reader Lambda that `SplitStore` deploys: split reads
 * streamed over a Function URL, consistent writes, lists.
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
   * seconds, at least 1 second; it must stay well under the reconciler's delay, which
   * treats any version older than the delay that no row pins as garbage.
   *
   * @default Duration.seconds(20)
   */
  readonly writerDeadline?: Duration;
}

/**
 * What `SplitStore` hands to the Lambdas it deploys: the store's resources and the
 * environment that describes them.
 *
 * Internal to the library: not exported from `index.ts`.
 */
export interface StoreWiring {
  /** The store's table. */
  readonly table: dynamodb.ITable;
  /** The store's (versioned) bucket. */
  readonly bucket: s3.IBucket;
  /**
   * Customer managed key of the table and the bucket.
   *
   * @default - AWS owned (table) and S3 managed (bucket) encryption: no key permission
   */
  readonly encryptionKey?: kms.IKey;
  /** Key prefix of the parts in the bucket, ends with '/'. */
  readonly keyPrefix: string;
  /** Environment variables describing the store (names in `runtime/config.ts` `ENV`). */
  readonly environment: Record<string, string>;
  /**
   * Global secondary indexes a list may query.
   *
   * @default - the names in `environment[ENV.indexes]`; no index at all when absent
   */
  readonly indexNames?: string[];
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

    const fn = new ReaderFunction(this, 'Function', {
      description: 'cdk-split-store reference reader: split reads, consistent writes, lists',
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
  const policy = role.node.tryFindChild('DefaultPolicy')?.node.defaultChild;
  if (!(policy instanceof CfnResource)) return;
  const rules: NagSuppression[] = [partsWildcardSuppression(role, wiring)];
  if (tracing === lambda.Tracing.ACTIVE || tracing === lambda.Tracing.PASS_THROUGH) {
    rules.push(xrayWildcardSuppression());
  }
  addNagSuppressions(policy, rules);
}

/** The ARN pattern of every part of the store: `<bucketArn>/<keyPrefix>*`. */
export function partsArn(wiring: StoreWiring): string {
  return wiring.bucket.arnForObjects(`${wiring.keyPrefix}*`);
}

/** The IAM5 suppression of the `<bucketArn>/<keyPrefix>*` wildcard. */
export function partsWildcardSuppression(scope: IConstruct, wiring: StoreWiring): NagSuppression {
  return {
    id: 'AwsSolutions-IAM5',
    reason:
      'Part keys are derived from item keys at run time; the wildcard is bounded by the store\'s key prefix, ' +
      'so the function reaches the store\'s parts and no other object of the bucket.',
    applies_to: [nagFindingOf(scope, partsArn(wiring))],
  };
}

/** The IAM5 suppression of the X-Ray write actions, which support no resource-level permission. */
export function xrayWildcardSuppression(): NagSuppression {
  return {
    id: 'AwsSolutions-IAM5',
    reason:
      'xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permission: ' +
      'the X-Ray documentation requires Resource "*". Added by Lambda when tracing is on.',
    applies_to: ['Resource::*'],
  };
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

/**
 * Creates a Lambda's own log group. Deleted with the stack: it holds request logs, never
 * item data, and a retained group would outlive every redeploy under a generated name
 * nobody cleans up.
 */
export function createLogGroup(scope: Construct, retention?: logs.RetentionDays): logs.LogGroup {
  return new logs.LogGroup(scope, 'LogGroup', {
    retention: retention ?? logs.RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.DESTROY,
  });
}

/** A duration in milliseconds, as an environment variable value. */
export function millisString(prop: string, duration: Duration): string {
  if (!duration.isUnresolved()) return String(duration.toMilliseconds());
  if (duration.unitLabel() !== 'millis') {
    throw new Error(
      `${prop} comes from a token in ${duration.unitLabel()}, which cannot be converted to milliseconds ` +
      'before deployment. Give it as Duration.millis(token).',
    );
  }
  return Token.asString(duration.toMilliseconds());
}

/** Refuses a Lambda memory size outside 128..10,240 MiB. */
export function validateMemorySize(prop: string, memorySize: number): void {
  if (Token.isUnresolved(memorySize)) return;
  if (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10_240) {
    throw new Error(
      `${prop} must be a whole number of MiB between 128 and 10240, got ${memorySize}. ` +
      'Lambda accepts no other memory size.',
    );
  }
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

/** One cdk-nag suppression, in the `cdk_nag` metadata format (cdk-nag is no dependency). */
export interface NagSuppression {
  /** Rule id, e.g. `AwsSolutions-IAM5`. */
  readonly id: string;
  /** Why the finding is acceptable (at least 10 characters). */
  readonly reason: string;
  /** The exact findings suppressed (e.g. `Resource::*`); all findings of the rule when absent. */
  readonly applies_to?: string[];
}

/**
 * Adds cdk-nag suppressions to a resource's `cdk_nag` metadata, keeping those already
 * there (added by us or by the user) and never adding the same one twice.
 */
export function addNagSuppressions(resource: CfnResource, rules: NagSuppression[]): void {
  const existing: unknown[] = resource.getMetadata('cdk_nag')?.rules_to_suppress ?? [];
  const seen = new Set(existing.map((rule) => JSON.stringify(rule)));
  const merged = [...existing];
  for (const rule of rules) {
    const text = JSON.stringify(rule);
    if (seen.has(text)) continue;
    seen.add(text);
    merged.push(rule);
  }
  resource.addMetadata('cdk_nag', { ...resource.getMetadata('cdk_nag'), rules_to_suppress: merged });
}

/**
 * The finding id cdk-nag reports for a wildcard resource (`Resource::<Bucket.Arn>/items/*`):
 * the resolved CloudFormation expression flattened as cdk-nag does it, references as
 * `<LogicalId.Attribute>` / `<LogicalId>`.
 */
export function nagFindingOf(scope: IConstruct, resource: string): string {
  return `Resource::${flattenCfn(Stack.of(scope).resolve(resource))}`;
}

function flattenCfn(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (typeof node === 'object' && node !== null) {
    const obj = node as Record<string, any>;
    if (obj['Fn::Join']) {
      const [delimiter, parts] = obj['Fn::Join'] as [string, unknown[]];
      return parts.map(flattenCfn).join(delimiter);
    }
    if (obj['Fn::Sub']) return flattenCfn(obj['Fn::Sub']);
    if (obj['Fn::GetAtt']) {
      const [logicalId, attribute] = obj['Fn::GetAtt'] as [unknown, unknown];
      return `<${flattenCfn(logicalId)}.${flattenCfn(attribute)}>`;
    }
    if (obj['Fn::ImportValue']) return flattenCfn(obj['Fn::ImportValue']);
    if (obj.Ref) return `<${flattenCfn(obj.Ref)}>`;
  }
  return JSON.stringify(node);
}
