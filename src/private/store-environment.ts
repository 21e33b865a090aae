import { Duration, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';
import { ENV } from '../runtime/config';

// The environment variables that describe a store to the runtime (src/runtime/config.ts), and
// the rule that a function is configured for one store only.

/** What the environment of a store is made of (an `ISplitStore`). */
export interface DescribedStore extends IConstruct {
  readonly table: dynamodb.ITable;
  readonly bucket: { readonly bucketName: string };
  readonly keyPrefix: string;
  readonly partitionKey: dynamodb.Attribute;
  readonly sortKey?: dynamodb.Attribute;
  readonly globalSecondaryIndexes: dynamodb.GlobalSecondaryIndexProps[];
  readonly writerDeadline: Duration;
}

/**
 * The store each application function was configured for: its `SPLIT_STORE_*` variables
 * describe one store, so a second store must not overwrite them.
 */
const CONFIGURED_FOR = new WeakMap<IConstruct, IConstruct>();

/** The environment variables that describe `store` to the runtime (see runtime/config.ts). */
export function storeEnvironment(store: DescribedStore): Record<string, string> {
  const env: Record<string, string> = {
    [ENV.tableName]: store.table.tableName,
    [ENV.bucketName]: store.bucket.bucketName,
    [ENV.keyPrefix]: store.keyPrefix,
    [ENV.partitionKeyName]: store.partitionKey.name,
    [ENV.partitionKeyType]: store.partitionKey.type,
    [ENV.indexes]: JSON.stringify(store.globalSecondaryIndexes.map(index => ({
      name: index.indexName,
      partitionKey: { name: index.partitionKey.name, type: index.partitionKey.type },
      ...(index.sortKey ? { sortKey: { name: index.sortKey.name, type: index.sortKey.type } } : {}),
    }))),
    [ENV.writerDeadlineMs]: millis(store.writerDeadline),
  };
  if (store.sortKey) {
    env[ENV.sortKeyName] = store.sortKey.name;
    env[ENV.sortKeyType] = store.sortKey.type;
  }
  return env;
}

/** A writer deadline in milliseconds (a token stays a token: validated where it was set). */
function millis(deadline: Duration): string {
  return deadline.isUnresolved() ? Token.asString(deadline.toMilliseconds()) : String(deadline.toMilliseconds());
}

/**
 * Sets a store's variables on an application function, refusing a function already
 * configured for another store (its `SPLIT_STORE_*` variables would silently change store).
 */
export function configureFunction(store: IConstruct, fn: lambda.Function, method: string, variables: Record<string, string>): void {
  const configured = CONFIGURED_FOR.get(fn);
  if (configured && configured !== store) {
    throw new Error(
      `SplitStore.${method}: function ${fn.node.path} is already configured for the store ${configured.node.path}, ` +
      `and this is the store ${store.node.path}. A function's SPLIT_STORE_* environment variables describe one store: ` +
      'the second store\'s would replace the first\'s. Fix: give each store its own function, or grant the second ' +
      'store\'s access with grantRead/grantWrite/grantInvokeReader and pass its names to your code yourself.',
    );
  }
  CONFIGURED_FOR.set(fn, store);
  for (const [name, value] of Object.entries(variables)) {
    fn.addEnvironment(name, value);
  }
}
