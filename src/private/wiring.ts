import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { partsArnOf, StoreResources } from './grants';
import { ENV } from '../runtime/config';

// What the store's Lambdas (reader, reconciler) share: the wiring to the store and the
// helpers both constructs use.

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
   * The table's customer managed key.
   *
   * @default - an AWS owned or AWS managed key: no key permission
   */
  readonly tableKey?: kms.IKey;
  /**
   * The bucket's customer managed key (may be the table's, or another one).
   *
   * @default - SSE-S3 or an AWS managed key: no key permission
   */
  readonly bucketKey?: kms.IKey;
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
  /** Lambda runtime of the store's functions (checked by `checkRuntime`). */
  readonly runtime: lambda.Runtime;
  /** The store's writer deadline, already validated (the environment carries it too). */
  readonly writerDeadline: Duration;
  /** The prop the writer deadline was set with, for error messages (`writerDeadline`). */
  readonly writerDeadlineProp: string;
}

/** The ARN pattern of every part of the store: `<bucketArn>/<keyPrefix>*`. */
export function partsArn(wiring: StoreWiring): string {
  return partsArnOf(wiring);
}

/** The resources the store's functions get permissions on. */
export function resourcesOf(wiring: StoreWiring): StoreResources {
  return {
    table: wiring.table,
    indexNames: indexNamesOf(wiring),
    bucket: wiring.bucket,
    keyPrefix: wiring.keyPrefix,
    tableKey: wiring.tableKey,
    bucketKey: wiring.bucketKey,
  };
}

/** The index names a list may query: `wiring.indexNames`, else those in the environment. */
export function indexNamesOf(wiring: StoreWiring): string[] {
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
