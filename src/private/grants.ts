import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { mergePermissions, OperationId } from '../perms';

// Every permission of a store, granted one way: the public grants and the roles of the
// store's own functions all call `grantOperations` with operations of src/perms.ts.

/** The resources of a store that permissions apply to. */
export interface StoreResources {
  /** The index table. */
  readonly table: dynamodb.ITable;
  /** The names of the table's global secondary indexes. */
  readonly indexNames: readonly string[];
  /** The parts bucket. */
  readonly bucket: s3.IBucket;
  /** Key prefix of the parts, ends with '/'. */
  readonly keyPrefix: string;
  /**
   * The table's customer managed key.
   *
   * @default - none: no KMS permission for the table
   */
  readonly tableKey?: kms.IKey;
  /**
   * The bucket's customer managed key.
   *
   * @default - none: no KMS permission for the bucket
   */
  readonly bucketKey?: kms.IKey;
}

/** The ARN pattern of every part of the store: `<bucketArn>/<keyPrefix>*`. */
export function partsArnOf(resources: Pick<StoreResources, 'bucket' | 'keyPrefix'>): string {
  return resources.bucket.arnForObjects(`${resources.keyPrefix}*`);
}

/**
 * Grants `grantee` what `operations` need on the store: one statement per resource (the
 * table, its indexes, the parts, the bucket, the bucket under the prefix) and the KMS actions
 * on each customer managed key, the table's and the bucket's, whether they are one key or two.
 */
export function grantOperations(grantee: iam.IGrantable, operations: readonly OperationId[], resources: StoreResources): iam.Grant {
  const p = mergePermissions(operations);
  const grants: iam.Grant[] = [];
  const add = (actions: string[], resourceArns: string[], conditions?: Record<string, Record<string, unknown>>) => {
    if (actions.length > 0 && resourceArns.length > 0) {
      grants.push(iam.Grant.addToPrincipal({ grantee, actions, resourceArns, conditions }));
    }
  };
  const tableArn = resources.table.tableArn;
  add(p.table, [tableArn]);
  add(p.indexes, resources.indexNames.map((name) => `${tableArn}/index/${name}`));
  add(p.parts, [partsArnOf(resources)]);
  add(p.bucket, [resources.bucket.bucketArn]);
  add(p.bucketUnderPrefix, [resources.bucket.bucketArn], { StringLike: { 's3:prefix': [`${resources.keyPrefix}*`] } });
  for (const [key, actions] of keyActions(resources, p.tableKey, p.bucketKey)) {
    grants.push(key.grant(grantee, ...actions));
  }
  if (grants.length === 0) {
    throw new Error(`grantOperations: the operations ${operations.join(', ')} need no permission on this store`);
  }
  return grants.reduce((all, grant) => all.combine(grant));
}

/** Each distinct customer managed key and the KMS actions it needs (one key for both: the union). */
function keyActions(resources: StoreResources, tableKeyActions: string[], bucketKeyActions: string[]): Array<[kms.IKey, string[]]> {
  const keys: Array<[kms.IKey, string[]]> = [];
  const add = (key: kms.IKey | undefined, actions: string[]) => {
    if (!key || actions.length === 0) return;
    const entry = keys.find(([known]) => known === key);
    if (!entry) {
      keys.push([key, [...actions]]);
      return;
    }
    for (const action of actions) {
      if (!entry[1].includes(action)) entry[1].push(action);
    }
  };
  add(resources.tableKey, tableKeyActions);
  add(resources.bucketKey, bucketKeyActions);
  return keys;
}
