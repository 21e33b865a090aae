/**
 * The wiring SplitStore hands to the functions it deploys, for the reader and reconciler tests
 * that build those constructs directly over a table and a bucket of their own.
 */
import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { DEFAULT_NODE_RUNTIME } from '../../src/private/bundled-function';
import { StoreWiring } from '../../src/private/wiring';

/** A store's wiring: `key` encrypts both the table and the bucket; the writer deadline is the default. */
export function testWiring(store: {
  table: dynamodb.ITable;
  bucket: s3.IBucket;
  key?: kms.IKey;
  environment: Record<string, string>;
  indexNames?: string[];
}): StoreWiring {
  return {
    table: store.table,
    bucket: store.bucket,
    tableKey: store.key,
    bucketKey: store.key,
    keyPrefix: 'items/',
    environment: store.environment,
    indexNames: store.indexNames,
    runtime: DEFAULT_NODE_RUNTIME,
    writerDeadline: Duration.seconds(20),
    writerDeadlineProp: 'writerDeadline',
  };
}
