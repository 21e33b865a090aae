/**
 * The one permission vocabulary of a store: every operation of the protocol (and the few
 * direct accesses the public grants keep), with the IAM actions it needs on each resource.
 * The public grants, the reader's, the reconciler's and the doctor's roles, README.md and
 * docs/PROTOCOL.md all read this table (the docs through `renderPermissionsTable`, checked by
 * test/perms-docs.test.ts); test/permissions.test.ts runs each client operation against SDK
 * mocks and checks that every command it sends is covered.
 *
 * Internal: not exported from index.ts. No CDK import here.
 *
 * Action lists are explicit (no `*` suffixes) so that a grantee's policy passes cdk-nag's
 * AwsSolutions-IAM5 without suppression for its actions.
 */

/** KMS actions to read data encrypted with a customer key (DynamoDB and SSE-KMS GetObject). */
export const KEY_READ_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey'] as const;

/** KMS actions to write data encrypted with a customer key (DynamoDB and SSE-KMS PutObject). */
export const KEY_WRITE_ACTIONS = ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:Decrypt', 'kms:DescribeKey'] as const;

/** The IAM actions one operation needs, by the resource they apply to. */
export interface OperationPermissions {
  /** The operation's name in the docs. */
  readonly name: string;
  /** What the operation is, for the docs. */
  readonly summary: string;
  /** Whether the protocol's clients send it, or only an application's own code does. */
  readonly protocol: boolean;
  /** DynamoDB actions on the table. */
  readonly table?: readonly string[];
  /** DynamoDB actions on each global secondary index (`<tableArn>/index/<name>`). */
  readonly indexes?: readonly string[];
  /** S3 actions on the parts, `<bucketArn>/<keyPrefix>*`. */
  readonly parts?: readonly string[];
  /** S3 actions on the bucket itself. */
  readonly bucket?: readonly string[];
  /** S3 actions on the bucket, limited to keys under the prefix (condition `s3:prefix`). */
  readonly bucketUnderPrefix?: readonly string[];
  /** KMS actions on the table's customer managed key, if it has one. */
  readonly tableKey?: readonly string[];
  /** KMS actions on the bucket's customer managed key, if it has one. */
  readonly bucketKey?: readonly string[];
}

/** Every operation, by the id the grants and roles use. */
export const OPERATIONS = {
  readIndex: {
    name: 'read index row',
    summary: 'one index row: `getIndex`, the row of a split read, the row a presigned URL is pinned by',
    protocol: true,
    table: ['dynamodb:GetItem'],
    tableKey: KEY_READ_ACTIONS,
  },
  list: {
    name: 'list',
    summary: 'a page of index rows, from the table or an index; never reads S3',
    protocol: true,
    table: ['dynamodb:Query', 'dynamodb:Scan'],
    indexes: ['dynamodb:Query', 'dynamodb:Scan'],
    tableKey: KEY_READ_ACTIONS,
  },
  readParts: {
    name: 'read parts',
    summary: 'parts, current or at the pinned version (a split read; the signer of a presigned URL)',
    protocol: true,
    parts: ['s3:GetObject', 's3:GetObjectVersion'],
    bucketKey: KEY_READ_ACTIONS,
  },
  write: {
    name: 'write',
    summary: 'put, update parts, delete: read the row, put the parts, commit, compensate, retire removed parts',
    protocol: true,
    table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    parts: ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
    tableKey: KEY_WRITE_ACTIONS,
    bucketKey: KEY_WRITE_ACTIONS,
  },
  reconcile: {
    name: 'reconcile',
    summary: 'one part key brought back to "the pinned version is current" (HeadObject is `s3:GetObject`)',
    protocol: true,
    table: ['dynamodb:GetItem'],
    parts: ['s3:GetObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
    bucketUnderPrefix: ['s3:ListBucketVersions'],
    tableKey: KEY_READ_ACTIONS,
    bucketKey: KEY_READ_ACTIONS,
  },
  scan: {
    name: 'scan (doctor)',
    summary: 'every row and every part version, compared; read-only',
    protocol: true,
    table: ['dynamodb:Scan', 'dynamodb:GetItem'],
    bucketUnderPrefix: ['s3:ListBucketVersions'],
    tableKey: KEY_READ_ACTIONS,
  },
  missingKeysAre404: {
    name: 'missing keys are 404',
    summary: 'S3 answers a read of a missing key or version with 404, not 403: the reader reports a dangling pointer, the reconciler a retired key',
    protocol: true,
    bucket: ['s3:ListBucket'],
  },
  directRead: {
    name: 'direct index reads',
    summary: 'not sent by the clients: your own code\'s `BatchGetItem`, a `ConditionCheck` in your own transaction, `DescribeTable`',
    protocol: false,
    table: ['dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable'],
  },
  directWrite: {
    name: 'direct index writes',
    summary: 'not sent by the clients: `DeleteItem` of protocol v1 code still running during an upgrade, a `ConditionCheck` in your own transaction',
    protocol: false,
    table: ['dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'],
  },
} as const satisfies Record<string, OperationPermissions>;

/** The id of an operation in {@link OPERATIONS}. */
export type OperationId = keyof typeof OPERATIONS;

/** The operations each public grant covers. */
export const GRANTS = {
  grantReadIndex: ['readIndex', 'list', 'directRead'],
  grantReadParts: ['readParts'],
  grantRead: ['readIndex', 'list', 'directRead', 'readParts'],
  grantWrite: ['write', 'directWrite'],
  grantReadWrite: ['readIndex', 'list', 'directRead', 'readParts', 'write', 'directWrite'],
} as const satisfies Record<string, readonly OperationId[]>;

/** The operations each of the store's own functions performs: its role gets exactly these. */
export const ROLES = {
  reader: ['readIndex', 'list', 'readParts', 'write', 'missingKeysAre404'],
  reconciler: ['reconcile', 'missingKeysAre404'],
  doctor: ['scan'],
} as const satisfies Record<string, readonly OperationId[]>;

/** The client operations (`SplitStoreClient` methods, the doctor's scan) and the table's operations each performs. */
export const CLIENT_OPERATIONS = {
  get: ['readIndex', 'readParts'],
  getIndex: ['readIndex'],
  list: ['list'],
  put: ['write'],
  updateParts: ['write'],
  delete: ['write'],
  presign: ['readIndex', 'readParts'],
  reconcile: ['reconcile'],
  doctor: ['scan'],
} as const satisfies Record<string, readonly OperationId[]>;

/** The IAM actions of several operations, merged per resource, each action once, in table order. */
export interface MergedPermissions {
  readonly table: string[];
  readonly indexes: string[];
  readonly parts: string[];
  readonly bucket: string[];
  readonly bucketUnderPrefix: string[];
  readonly tableKey: string[];
  readonly bucketKey: string[];
}

/** Merges the permissions of `operations`. */
export function mergePermissions(operations: readonly OperationId[]): MergedPermissions {
  const merged: MergedPermissions = { table: [], indexes: [], parts: [], bucket: [], bucketUnderPrefix: [], tableKey: [], bucketKey: [] };
  for (const id of operations) {
    const operation: OperationPermissions = OPERATIONS[id];
    for (const resource of Object.keys(merged) as Array<keyof MergedPermissions>) {
      for (const action of operation[resource] ?? []) {
        if (!merged[resource].includes(action)) merged[resource].push(action);
      }
    }
  }
  return merged;
}

/** Actions without their service prefix, for the docs: `dynamodb:GetItem` → `GetItem`. */
function short(actions: readonly string[] | undefined): string {
  return actions && actions.length > 0 ? actions.map((action) => `\`${action.split(':')[1]}\``).join(', ') : '';
}

/** The S3 and KMS cells of one row of the docs' tables. */
function cells(p: Omit<OperationPermissions, 'name' | 'summary' | 'protocol'>): string[] {
  const s3 = [
    short(p.parts),
    p.bucket?.length ? `${short(p.bucket)} on the bucket` : '',
    p.bucketUnderPrefix?.length ? `${short(p.bucketUnderPrefix)} on the bucket (\`s3:prefix\` under the key prefix)` : '',
  ].filter(Boolean).join('; ');
  const dynamodb = [short(p.table), p.indexes?.length ? `${short(p.indexes)} on each index` : ''].filter(Boolean).join('; ');
  const keys = [
    p.tableKey?.length ? `table's key: ${short(p.tableKey)}` : '',
    p.bucketKey?.length ? `bucket's key: ${short(p.bucketKey)}` : '',
  ].filter(Boolean).join('; ');
  return [dynamodb, s3, keys].map((cell) => cell || '—');
}

/**
 * The docs' table of operations (README "Grants", docs/PROTOCOL.md section 13): each operation,
 * what it is, and its actions on the table, the bucket and the customer managed keys.
 */
export function renderPermissionsTable(): string {
  const lines = [
    '| Operation | What it is | DynamoDB (the table) | S3 (`<bucket>/<keyPrefix>*` unless said) | KMS (customer managed keys, if any) |',
    '|---|---|---|---|---|',
  ];
  for (const operation of Object.values(OPERATIONS) as OperationPermissions[]) {
    lines.push(`| ${operation.name} | ${operation.summary} | ${cells(operation).join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The docs' table of what each public grant and each of the store's roles covers. */
export function renderGrantsTable(): string {
  const name = (id: OperationId) => OPERATIONS[id].name;
  const lines = [
    '| Grant or role | Operations | DynamoDB | S3 | KMS |',
    '|---|---|---|---|---|',
  ];
  const rows: Array<[string, readonly OperationId[]]> = [
    ...Object.entries(GRANTS).map(([grant, ops]) => [`\`${grant}\``, ops] as [string, readonly OperationId[]]),
    ...Object.entries(ROLES).map(([role, ops]) => [`the ${role}'s role`, ops] as [string, readonly OperationId[]]),
  ];
  for (const [who, ops] of rows) {
    lines.push(`| ${who} | ${ops.map(name).join(', ')} | ${cells(mergePermissions(ops)).join(' | ')} |`);
  }
  return lines.join('\n');
}
