/**
 * Synth-time validation of SplitStore props. Internal: not exported from index.ts.
 *
 * Every error names the prop, the value received and the fix. Values that are
 * unresolved tokens are not validated (they are only known at deploy time).
 */
import { CfnDeletionPolicy, Duration, Stack, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { MAX_PART_NAME_LENGTH, MAX_S3_KEY_BYTES } from './runtime/limits';

/** Smallest retention window (days): the shortest PITR recovery period DynamoDB accepts. */
export const MIN_RETENTION_DAYS = 1;
/** Largest retention window (days): the longest PITR recovery period DynamoDB accepts. */
export const MAX_RETENTION_DAYS = 35;

const WHY_RETENTION =
  'The retention window sets both the DynamoDB point-in-time recovery period and how long S3 keeps ' +
  'noncurrent part versions, so that a table restored to any point inside the window only holds rows ' +
  'whose pinned S3 versions still exist';

/**
 * Returns the retention window in whole days, or undefined when it is an unresolved token.
 * Throws when it is fractional or outside 1..35 days.
 */
export function retentionDays(retention: Duration): number | undefined {
  if (retention.isUnresolved()) {
    return undefined;
  }
  const hours = retention.toHours({ integral: false });
  const days = hours / 24;
  if (!Number.isInteger(days)) {
    throw new Error(
      `SplitStore: retention must be a whole number of days, got ${retention.toHumanString()}. ` +
      `${WHY_RETENTION}, and DynamoDB's recovery period is counted in whole days. ` +
      `Fix: use Duration.days(n) with n between ${MIN_RETENTION_DAYS} and ${MAX_RETENTION_DAYS}, e.g. Duration.days(${Math.max(MIN_RETENTION_DAYS, Math.min(MAX_RETENTION_DAYS, Math.ceil(days)))}).`,
    );
  }
  if (days < MIN_RETENTION_DAYS || days > MAX_RETENTION_DAYS) {
    throw new Error(
      `SplitStore: retention must be between ${MIN_RETENTION_DAYS} and ${MAX_RETENTION_DAYS} days, got ${days} days. ` +
      `${WHY_RETENTION}; DynamoDB point-in-time recovery keeps at most ${MAX_RETENTION_DAYS} days, so a longer ` +
      'S3 window could not be matched by the table. ' +
      `Fix: use Duration.days(n) with n between ${MIN_RETENTION_DAYS} and ${MAX_RETENTION_DAYS} (default 7); ` +
      'for longer history, add AWS Backup on top of the store.',
    );
  }
  return days;
}

/** The only key attribute types a store accepts (parts live at keys derived from them). */
export function checkKeyAttribute(prop: string, attribute: dynamodb.Attribute): void {
  if (!Token.isUnresolved(attribute.name) && attribute.name.length === 0) {
    throw new Error(`SplitStore: ${prop}.name must not be empty. Fix: name the key attribute, e.g. { name: 'id', type: AttributeType.STRING }.`);
  }
  if (attribute.type !== dynamodb.AttributeType.STRING && attribute.type !== dynamodb.AttributeType.NUMBER) {
    throw new Error(
      `SplitStore: ${prop} '${attribute.name}' has type ${attribute.type}; a store's keys must be strings or numbers ` +
      'because each part\'s S3 key is derived from the item key. ' +
      `Fix: use AttributeType.STRING or AttributeType.NUMBER for ${prop} (e.g. store binary ids base64-encoded as strings).`,
    );
  }
}

/** Characters of a key prefix: S3's "safe characters" for object keys, less `*` (a wildcard in IAM). */
const KEY_PREFIX_CHARACTERS = /^[A-Za-z0-9!_.'()/-]*$/;

/** The longest part name (runtime/limits.ts `PART_NAME_PATTERN`). */
export const LONGEST_PART_NAME = MAX_PART_NAME_LENGTH;

/**
 * The item keys every store accepts whatever its `keyPrefix`: the encoded key values
 * (`enc(pk)` plus `enc(sk)`, UTF-8 bytes) may take up to this many bytes together.
 */
export const PROMISED_ITEM_KEY_BYTES = 512;

/**
 * The longest `keyPrefix`: S3's 1,024-byte key limit less the promised item key, its two
 * `/` separators and the longest part name.
 */
export const MAX_KEY_PREFIX_BYTES = MAX_S3_KEY_BYTES - PROMISED_ITEM_KEY_BYTES - 2 - LONGEST_PART_NAME;

/**
 * `keyPrefix`: a relative S3 key prefix that ends with '/', made of '/'-separated segments
 * that are neither empty nor `.`/`..`, of S3's safe characters, and short enough that every
 * promised item key and part name still fits S3's key limit.
 */
export function checkKeyPrefix(prefix: string): void {
  if (Token.isUnresolved(prefix)) {
    throw new Error('SplitStore: keyPrefix must be a literal string, not a token: grants and S3 keys are derived from it at synth time.');
  }
  const refuse = (why: string) => {
    throw new Error(
      `SplitStore: keyPrefix ${why}, got ${JSON.stringify(prefix.length > 80 ? `${prefix.slice(0, 80)}...` : prefix)}` +
      `${prefix.length > 80 ? ` (${prefix.length} characters)` : ''}. ` +
      'Fix: use a value like \'items/\' (the default) or \'invoices/v1/\'.',
    );
  };
  if (prefix.length === 0 || !prefix.endsWith('/')) refuse('must be a non-empty S3 key prefix that ends with \'/\'');
  if (prefix.startsWith('/')) refuse('must be relative: it must not start with \'/\'');
  if (!KEY_PREFIX_CHARACTERS.test(prefix)) {
    refuse('may only hold letters, digits, \'/\' and the characters ! - _ . \' ( ) (S3\'s safe characters; no \'*\', which IAM reads as a wildcard)');
  }
  const segments = prefix.slice(0, -1).split('/');
  if (segments.some((segment) => segment === '')) refuse('must not have an empty segment (\'//\')');
  if (segments.some((segment) => segment === '.' || segment === '..')) {
    refuse('must not have a \'.\' or \'..\' segment: S3 keeps them as written but HTTP clients and SDKs normalise them away, so parts would be written and read at different keys');
  }
  if (prefix.length > MAX_KEY_PREFIX_BYTES) {
    refuse(`is ${prefix.length} bytes, longer than ${MAX_KEY_PREFIX_BYTES}: S3 keys are at most ${MAX_S3_KEY_BYTES} bytes, and a store keeps ` +
      `room for item keys of ${PROMISED_ITEM_KEY_BYTES} encoded bytes and part names of ${LONGEST_PART_NAME} characters`);
  }
}

/** Throws when two exclusive props are both given. */
export function exclusive(nameA: string, a: unknown, nameB: string, b: unknown, why: string): void {
  if (a !== undefined && b !== undefined) {
    throw new Error(`SplitStore: ${nameA} and ${nameB} are exclusive: ${why}`);
  }
}

/** The key attributes of a table defined in this app, as its L1 declares them. */
interface DeclaredKeys {
  readonly partitionKey?: { name: unknown; type: unknown };
  readonly sortKey?: { name: unknown; type: unknown };
}

function declaredKeys(table: dynamodb.ITable): DeclaredKeys | undefined {
  const cfn = table.node.defaultChild;
  if (!(cfn instanceof dynamodb.CfnTable) && !(cfn instanceof dynamodb.CfnGlobalTable)) return undefined;
  const stack = Stack.of(cfn);
  const keySchema: unknown = stack.resolve(cfn.keySchema);
  const definitions: unknown = stack.resolve(cfn.attributeDefinitions);
  if (!Array.isArray(keySchema) || !Array.isArray(definitions)) return undefined;
  const attribute = (keyType: string) => {
    const key = keySchema.find((entry) => entry?.keyType === keyType);
    if (!key) return undefined;
    const definition = definitions.find((entry) => entry?.attributeName === key.attributeName);
    return { name: key.attributeName, type: definition?.attributeType };
  };
  return { partitionKey: attribute('HASH'), sortKey: attribute('RANGE') };
}

/**
 * A brought table defined in this app (a `Table` or `TableV2`, not an imported one) must have
 * the key schema `partitionKey`/`sortKey` describe: the store reads and writes rows by them.
 */
export function checkTableKeys(table: dynamodb.ITable, partitionKey: dynamodb.Attribute, sortKey?: dynamodb.Attribute): void {
  const declared = declaredKeys(table);
  if (!declared) return;
  const values = [declared.partitionKey?.name, declared.partitionKey?.type, declared.sortKey?.name, declared.sortKey?.type];
  if (values.some((value) => value !== undefined && (typeof value !== 'string' || Token.isUnresolved(value)))) return;
  const same = (a: DeclaredKeys['partitionKey'], b?: dynamodb.Attribute) =>
    (a === undefined && b === undefined) || (a !== undefined && b !== undefined && a.name === b.name && a.type === b.type);
  if (same(declared.partitionKey, partitionKey) && same(declared.sortKey, sortKey)) return;
  const describe = (a?: { name: unknown; type: unknown }) => (a ? `'${a.name}' (${a.type})` : 'none');
  const code = (prop: string, a: { name: unknown; type: unknown }) =>
    `${prop}: { name: '${a.name}', type: AttributeType.${a.type === 'N' ? 'NUMBER' : a.type === 'B' ? 'BINARY' : 'STRING'} }`;
  throw new Error(
    `SplitStore: partitionKey ${describe(partitionKey)} and sortKey ${describe(sortKey)} do not match the key schema of ` +
    `table ${table.node.path}: partition key ${describe(declared.partitionKey)}, sort key ${describe(declared.sortKey)}. ` +
    'The store reads and writes rows by the keys you describe, so every operation would fail. ' +
    `Fix: pass ${declared.partitionKey ? code('partitionKey', declared.partitionKey) : 'the table\'s partition key'}` +
    `${declared.sortKey ? ` and ${code('sortKey', declared.sortKey)}` : ' and no sortKey'}.`,
  );
}

/**
 * A brought bucket defined in this app (not an imported one) must have versioning enabled:
 * every part is pinned to an object version.
 */
export function checkBucketVersioned(bucket: s3.IBucket): void {
  const cfn = bucket.node.defaultChild;
  if (!(cfn instanceof s3.CfnBucket)) return;
  const versioning: unknown = Stack.of(cfn).resolve(cfn.versioningConfiguration);
  const status = (versioning as { status?: unknown } | undefined)?.status;
  if (status === 'Enabled' || (versioning !== undefined && typeof status !== 'string')) return;
  throw new Error(
    `SplitStore: bucket ${bucket.node.path} is not versioned (versioning ${status === undefined ? 'off' : status}). ` +
    'Every part is pinned to an S3 object version: without versioning a write cannot be committed and the reader ' +
    'would answer every request with a retryable error for a fault no retry fixes. ' +
    'Fix: create the bucket with versioned: true, or remove bucket and let the store create its own.',
  );
}

/** What happens to a table or a bucket when its stack is deleted, and which props decide it. */
export interface RemovalSide {
  /** The table is deleted, or the bucket emptied and deleted, with the stack. */
  readonly destroyed: boolean;
  /** The props (or the brought resource) that decide it, for the error message. */
  readonly decidedBy: string;
}

/** The removal of a table defined in this app; undefined for an imported table or a token. */
export function tableRemoval(table: dynamodb.ITable, decidedBy: string): RemovalSide | undefined {
  const cfn = table.node.defaultChild;
  if (!(cfn instanceof dynamodb.CfnTable) && !(cfn instanceof dynamodb.CfnGlobalTable)) return undefined;
  const stack = Stack.of(cfn);
  const protection: unknown[] = cfn instanceof dynamodb.CfnTable
    ? [stack.resolve(cfn.deletionProtectionEnabled)]
    : ((stack.resolve(cfn.replicas) ?? []) as Array<{ deletionProtectionEnabled?: unknown }>).map((replica) => replica?.deletionProtectionEnabled);
  if (protection.some((value) => value !== undefined && typeof value !== 'boolean')) return undefined;
  const deleted = (cfn.cfnOptions.deletionPolicy ?? CfnDeletionPolicy.DELETE) === CfnDeletionPolicy.DELETE;
  return { destroyed: deleted && !protection.includes(true), decidedBy };
}

/** The removal of a bucket defined in this app; undefined for an imported bucket. */
export function bucketRemoval(bucket: s3.IBucket, decidedBy: string): RemovalSide | undefined {
  const cfn = bucket.node.defaultChild;
  if (!(cfn instanceof s3.CfnBucket)) return undefined;
  const deleted = (cfn.cfnOptions.deletionPolicy ?? CfnDeletionPolicy.DELETE) === CfnDeletionPolicy.DELETE;
  // A non-empty bucket is only deleted when aws-cdk-lib's auto-delete custom resource empties it.
  const emptied = bucket.node.tryFindChild('AutoDeleteObjectsCustomResource') !== undefined;
  return { destroyed: deleted && emptied, decidedBy };
}

/**
 * The table and the bucket must go together: a bucket emptied with the stack while the table
 * stays leaves rows pinned to deleted parts; a table deleted while the bucket stays strands the
 * parts of every item.
 */
export function checkRemovalCoherence(table?: RemovalSide, bucket?: RemovalSide): void {
  if (!table || !bucket || table.destroyed === bucket.destroyed) return;
  const fix = 'Fix: keep both (the default: removalPolicy RETAIN, no autoDeleteObjects), or delete both with the stack: ' +
    'removalPolicy: RemovalPolicy.DESTROY, deletionProtection: false and bucketProps: { autoDeleteObjects: true }.';
  if (bucket.destroyed) {
    throw new Error(
      `SplitStore: the bucket is emptied and deleted with the stack (${bucket.decidedBy}) while the table is kept ` +
      `(${table.decidedBy}): its rows would point at parts that no longer exist. ${fix}`,
    );
  }
  throw new Error(
    `SplitStore: the table is deleted with the stack (${table.decidedBy}) while the bucket and its parts are kept ` +
    `(${bucket.decidedBy}): every part would be left without the row that pins it. ${fix}`,
  );
}
