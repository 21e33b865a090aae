/**
 * The IAM actions behind each SplitStore grant. Internal: not exported from index.ts.
 *
 * Action lists are explicit (no `*` suffixes) so that a grantee's policy passes cdk-nag's
 * AwsSolutions-IAM5 without suppression for its actions.
 */

/** DynamoDB actions to read index rows, on the table and its indexes. */
export const TABLE_READ_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
];

/**
 * DynamoDB actions to write index rows, on the table. GetItem is part of writing: a writer
 * reads the row's revision before an unconditional put or a parts update, tells a missing
 * row (404) from a revision conflict (409) on delete, and checks an ambiguous commit.
 */
export const TABLE_WRITE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:ConditionCheckItem',
];

/** S3 actions to read parts (current or pinned version), on the objects under the key prefix. */
export const PARTS_READ_ACTIONS = [
  's3:GetObject',
  's3:GetObjectVersion',
];

/** S3 actions to write parts and compensate (delete exactly the versions written). */
export const PARTS_WRITE_ACTIONS = [
  's3:PutObject',
  's3:DeleteObject',
  's3:DeleteObjectVersion',
];

/** KMS actions to read data encrypted with a customer key (DynamoDB and SSE-KMS GetObject). */
export const KEY_READ_ACTIONS = [
  'kms:Decrypt',
  'kms:DescribeKey',
];

/** KMS actions to write data encrypted with a customer key (DynamoDB and SSE-KMS PutObject). */
export const KEY_WRITE_ACTIONS = [
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:Decrypt',
  'kms:DescribeKey',
];
