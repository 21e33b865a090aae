/**
 * Synth-time validation of SplitStore props. Internal: not exported from index.ts.
 *
 * Every error names the prop, the value received and the fix. Values that are
 * unresolved tokens are not validated (they are only known at deploy time).
 */
import { Duration, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';

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

/** `keyPrefix`: non-empty, ends with '/', does not start with '/'. */
export function checkKeyPrefix(prefix: string): void {
  if (Token.isUnresolved(prefix)) {
    throw new Error('SplitStore: keyPrefix must be a literal string, not a token: grants and S3 keys are derived from it at synth time.');
  }
  if (prefix.length === 0 || !prefix.endsWith('/') || prefix.startsWith('/') || prefix.includes('*') || prefix.includes('//')) {
    throw new Error(
      `SplitStore: keyPrefix must be a non-empty S3 key prefix that ends with '/', does not start with '/' and has no '*' or '//', got ${JSON.stringify(prefix)}. ` +
      'Fix: use a value like \'items/\' (the default) or \'invoices/v1/\'.',
    );
  }
}

/** Throws when two exclusive props are both given. */
export function exclusive(nameA: string, a: unknown, nameB: string, b: unknown, why: string): void {
  if (a !== undefined && b !== undefined) {
    throw new Error(`SplitStore: ${nameA} and ${nameB} are exclusive: ${why}`);
  }
}
