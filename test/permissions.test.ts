/**
 * One permission vocabulary, checked against what the clients really send: each client
 * operation (SplitStoreClient's methods and the doctor's scan) runs against aws-sdk-client-mock,
 * every command it sends is recorded and turned into the IAM actions AWS authorizes it with
 * (the map below, written from the AWS service authorization reference, not from src/perms.ts),
 * and the policy of every grant and role that claims the operation must allow each of them, on
 * the right resource and, with customer managed keys, with the KMS action the data needs. The
 * store is built over a brought table and a brought bucket under two different keys.
 */
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { SplitStore } from '../src';
import { CLIENT_OPERATIONS, GRANTS, OperationId, ROLES } from '../src/perms';
import { encodeRow, encodeTombstone, Item } from '../src/runtime/codec';
import { StoreConfig } from '../src/runtime/config';
import { runDoctor } from '../src/runtime/doctor';
import { SplitStoreClient } from '../src/runtime/store';
import { PartPin } from '../src/runtime/types';

const ACCOUNT = '111111111111';
const TABLE_ARN = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/Items`;
const BUCKET_ARN = 'arn:aws:s3:::parts-bucket';
const TABLE_KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/11111111-1111-1111-1111-111111111111`;
const BUCKET_KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/22222222-2222-2222-2222-222222222222`;

const config: StoreConfig = {
  tableName: 'Items',
  bucketName: 'parts-bucket',
  keyPrefix: 'items/',
  partitionKey: { name: 'id', type: 'S' },
  indexes: [{ name: 'byCustomer', partitionKey: { name: 'customer', type: 'S' } }],
  writerDeadlineMs: 20_000,
};

// ---------------------------------------------------------------------------------------------
// What AWS authorizes each command with (Service Authorization Reference: DynamoDB, S3, KMS).
// ---------------------------------------------------------------------------------------------

/** One permission a request needs: an action on a resource, in a request context. */
interface Needed {
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string>;
}

/** A command as a client sent it. */
interface Sent {
  readonly name: string;
  readonly input: Record<string, any>;
}

const onTable = (input: Record<string, any>) => (input.IndexName ? `${TABLE_ARN}/index/${input.IndexName}` : TABLE_ARN);
const onObject = (input: Record<string, any>) => `${BUCKET_ARN}/${input.Key}`;
/** Reading or writing an item of a table under a customer managed key: DynamoDB decrypts the table key for the caller. */
const tableKey = { action: 'kms:Decrypt', resource: TABLE_KEY_ARN };

/** The IAM permissions one command needs. */
function permissionsOf(command: Sent): Needed[] {
  const { input } = command;
  switch (command.name) {
    case 'GetItemCommand': return [{ action: 'dynamodb:GetItem', resource: TABLE_ARN }, tableKey];
    case 'QueryCommand': return [{ action: 'dynamodb:Query', resource: onTable(input) }, tableKey];
    case 'ScanCommand': return [{ action: 'dynamodb:Scan', resource: onTable(input) }, tableKey];
    case 'PutItemCommand': return [{ action: 'dynamodb:PutItem', resource: TABLE_ARN }, tableKey];
    case 'UpdateItemCommand': return [{ action: 'dynamodb:UpdateItem', resource: TABLE_ARN }, tableKey];
    case 'DeleteItemCommand': return [{ action: 'dynamodb:DeleteItem', resource: TABLE_ARN }, tableKey];
    // GetObject of an SSE-KMS object: S3 decrypts its data key as the caller.
    case 'GetObjectCommand': return [
      { action: input.VersionId ? 's3:GetObjectVersion' : 's3:GetObject', resource: onObject(input) },
      { action: 'kms:Decrypt', resource: BUCKET_KEY_ARN },
    ];
    // HeadObject is authorized as GetObject (or GetObjectVersion with a VersionId).
    case 'HeadObjectCommand': return [{ action: input.VersionId ? 's3:GetObjectVersion' : 's3:GetObject', resource: onObject(input) }];
    // PutObject into an SSE-KMS bucket: S3 generates a data key as the caller.
    case 'PutObjectCommand': return [
      { action: 's3:PutObject', resource: onObject(input) },
      { action: 'kms:GenerateDataKey', resource: BUCKET_KEY_ARN },
    ];
    case 'DeleteObjectCommand': return [{ action: input.VersionId ? 's3:DeleteObjectVersion' : 's3:DeleteObject', resource: onObject(input) }];
    case 'ListObjectVersionsCommand': return [{ action: 's3:ListBucketVersions', resource: BUCKET_ARN, context: { 's3:prefix': input.Prefix ?? '' } }];
    // A presigned URL is a GetObject signed by the presigner: it needs what the GET needs.
    case 'PresignedGetObject': return permissionsOf({ name: 'GetObjectCommand', input });
    default: throw new Error(`the test's permission map does not know ${command.name}: add it from the AWS Service Authorization Reference`);
  }
}

// ---------------------------------------------------------------------------------------------
// A minimal IAM evaluation: Allow statements, exact or wildcard actions and resources, StringLike.
// ---------------------------------------------------------------------------------------------

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: string | string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
const glob = (pattern: string, value: string) =>
  new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(value);

function allows(statements: Statement[], needed: Needed): boolean {
  return statements.some((statement) => {
    if (statement.Effect !== 'Allow') return false;
    if (!list(statement.Action).some((action) => glob(action, needed.action))) return false;
    if (!list(statement.Resource).some((resource) => typeof resource === 'string' && glob(resource, needed.resource))) return false;
    for (const [operator, conditions] of Object.entries(statement.Condition ?? {})) {
      if (operator !== 'StringLike') return false;
      for (const [key, patterns] of Object.entries(conditions)) {
        const value = needed.context?.[key];
        if (value === undefined || !list(patterns).some((pattern) => glob(pattern, value))) return false;
      }
    }
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// The store: a brought table and a brought bucket, each under its own customer managed key.
// ---------------------------------------------------------------------------------------------

interface Policies {
  readonly grants: Record<keyof typeof GRANTS, Statement[]>;
  readonly roles: Record<keyof typeof ROLES, Statement[]>;
}

function synthesize(): Policies {
  const stack = new Stack(new App(), 'Perms', { env: { account: ACCOUNT, region: 'us-east-1' } });
  const table = dynamodb.Table.fromTableAttributes(stack, 'Table', {
    tableArn: TABLE_ARN,
    encryptionKey: kms.Key.fromKeyArn(stack, 'TableKey', TABLE_KEY_ARN),
  });
  const bucket = s3.Bucket.fromBucketAttributes(stack, 'Bucket', {
    bucketArn: BUCKET_ARN,
    encryptionKey: kms.Key.fromKeyArn(stack, 'BucketKey', BUCKET_KEY_ARN),
  });
  const store = new SplitStore(stack, 'Store', {
    table,
    bucket,
    partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
    globalSecondaryIndexes: [{ indexName: 'byCustomer', partitionKey: { name: 'customer', type: dynamodb.AttributeType.STRING } }],
    doctorEnabled: true,
  });
  const grantees = Object.fromEntries(Object.keys(GRANTS).map((grant) => {
    const role = new iam.Role(stack, grant, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    (store[grant as keyof typeof GRANTS] as (grantee: iam.IGrantable) => iam.Grant).call(store, role);
    return [grant, role];
  }));
  const template = Template.fromStack(stack);
  const statementsOf = (role: iam.IRole): Statement[] => {
    const roleId = stack.getLogicalId(role.node.defaultChild as iam.CfnRole);
    return Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy: any) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap((policy: any) => policy.Properties.PolicyDocument.Statement);
  };
  const roleOf = (id: string) => store.node.findChild(id).node.findChild('ServiceRole') as iam.IRole;
  return {
    grants: Object.fromEntries(Object.entries(grantees).map(([grant, role]) => [grant, statementsOf(role)])) as Policies['grants'],
    roles: { reader: statementsOf(roleOf('Reader')), reconciler: statementsOf(roleOf('Reconciler')), doctor: statementsOf(roleOf('Doctor')) },
  };
}

// ---------------------------------------------------------------------------------------------
// Each client operation against SDK mocks, its commands recorded.
// ---------------------------------------------------------------------------------------------

const ddb = mockClient(DynamoDBClient);
const s3mock = mockClient(S3Client);
const NOW = Date.parse('2026-01-01T12:00:00Z');
const OLD = new Date(NOW - 3_600_000);
const pin = (versionId: string): PartPin => ({ versionId, etag: '"e"', size: 2, contentType: 'application/json' });
const row = (parts: Record<string, PartPin>, token = 't1'): Item =>
  encodeRow(config, { key: { id: 'a' }, attributes: { id: 'a', customer: 'c-1' }, revision: 3, parts }, token);
const body = (text: string) => ({ transformToByteArray: async () => new TextEncoder().encode(text) }) as never;

afterAll(() => {
  ddb.restore();
  s3mock.restore();
});

function client(): SplitStoreClient {
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  return new SplitStoreClient({
    config,
    dynamodb: new DynamoDBClient({ region: 'us-east-1', credentials }),
    s3: new S3Client({ region: 'us-east-1', credentials }),
    wallClock: () => NOW,
    log: () => undefined,
    retryDelayMs: 1,
  });
}

/** Fresh mocks: a row that pins summary and lines, S3 that writes and deletes whatever it is asked. */
function resetMocks(): void {
  ddb.reset();
  s3mock.reset();
  let version = 0;
  ddb.on(GetItemCommand).resolves({ Item: row({ summary: pin('s1'), lines: pin('l1') }) });
  ddb.on(PutItemCommand).resolves({});
  // An applied UpdateItem answers the new row (ReturnValues ALL_NEW), with the commit's token.
  ddb.on(UpdateItemCommand).callsFake(async (input) => ({
    Attributes: encodeRow(config, { key: { id: 'a' }, attributes: { id: 'a' }, revision: 4, parts: { summary: pin('new-1') } }, input.ExpressionAttributeValues[':tok'].S),
  }));
  ddb.on(QueryCommand).resolves({ Items: [row({ summary: pin('s1') })] });
  ddb.on(ScanCommand).resolves({ Items: [row({ summary: pin('s1') })] });
  s3mock.on(PutObjectCommand).callsFake(async () => ({ VersionId: `new-${++version}`, ETag: '"e"' }));
  s3mock.on(DeleteObjectCommand).callsFake(async (input) => (input.VersionId ? { VersionId: input.VersionId } : { VersionId: 'marker', DeleteMarker: true }));
  // The current version is newer than the pin: a split read then fetches the pin by VersionId.
  s3mock.on(GetObjectCommand).callsFake(async (input) => ({ VersionId: input.VersionId ?? 'newer', ETag: '"e"', Body: body('{"a":1}') }));
}

/** Runs one scenario and returns every command it sent. */
async function record(scenario: () => Promise<unknown>): Promise<Sent[]> {
  resetMocks();
  let url: string | undefined;
  const result = await scenario();
  if (typeof result === 'string' && result.startsWith('https://')) url = result;
  const sent = [...ddb.calls(), ...s3mock.calls()].map((call) => {
    const command = call.args[0] as { constructor: { name: string }; input: Record<string, any> };
    return { name: command.constructor.name, input: command.input };
  });
  if (url) {
    const parsed = new URL(url);
    sent.push({ name: 'PresignedGetObject', input: { Key: decodeURIComponent(parsed.pathname.slice(1)), VersionId: parsed.searchParams.get('versionId') } });
  }
  return sent;
}

async function drain(events: AsyncIterable<unknown>): Promise<void> {
  for await (const _event of events) { /* consume */ }
}

/** Scenarios that, together, make each client operation send every kind of request it can. */
const SCENARIOS: Record<keyof typeof CLIENT_OPERATIONS, Array<() => Promise<unknown>>> = {
  get: [() => drain(client().get({ key: { id: 'a' }, parts: ['summary', 'lines'] }))],
  getIndex: [() => client().getIndex({ id: 'a' })],
  list: [
    () => client().list({}),
    () => client().list({ index: 'byCustomer', partitionValue: 'c-1' }),
  ],
  put: [
    // A replace that drops `lines`: read, put, commit, retire (a marker), re-check.
    () => client().put({ key: { id: 'a' }, attributes: { customer: 'c-1' }, parts: { summary: { body: '{}' } } }),
    // A conditional put that loses: compensation deletes its own version by VersionId.
    async () => {
      ddb.on(PutItemCommand).rejects(new ConditionalCheckFailedException({
        message: 'The conditional request failed', $metadata: { httpStatusCode: 400 }, Item: row({}, 'someone-else'),
      }));
      await client().put({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, expectedRevision: 3 }).catch(() => undefined);
    },
  ],
  updateParts: [() => client().updateParts({ key: { id: 'a' }, parts: { summary: { body: '{}' } }, removeParts: ['lines'] })],
  delete: [() => client().delete({ key: { id: 'a' } })],
  presign: [() => client().presign({ id: 'a' }, 'summary', 60)],
  reconcile: [
    // Rule A: an old version above the pin is deleted by VersionId.
    async () => {
      let listing = 0;
      s3mock.on(HeadObjectCommand).resolves({ VersionId: 'orphan' });
      s3mock.on(ListObjectVersionsCommand).callsFake(async (input) => ({
        Versions: listing++ === 0
          ? [{ Key: input.Prefix, VersionId: 'orphan', IsLatest: true, LastModified: OLD }, { Key: input.Prefix, VersionId: 's1', IsLatest: false, LastModified: OLD }]
          : [{ Key: input.Prefix, VersionId: 's1', IsLatest: true, LastModified: OLD }],
        IsTruncated: false,
      }));
      await client().reconcile('items/a/summary', 'orphan');
    },
    // Rule C: a current version no live row pins is hidden under a delete marker.
    async () => {
      ddb.on(GetItemCommand).resolves({ Item: encodeTombstone(config, { id: 'a' }, 4, 't2') });
      s3mock.on(HeadObjectCommand).resolves({ VersionId: 'left' });
      let listing = 0;
      s3mock.on(ListObjectVersionsCommand).callsFake(async (input) => ({
        Versions: [{ Key: input.Prefix, VersionId: 'left', IsLatest: listing === 0, LastModified: OLD }],
        DeleteMarkers: listing++ === 0 ? [] : [{ Key: input.Prefix, VersionId: 'marker', IsLatest: true, LastModified: new Date(NOW) }],
        IsTruncated: false,
      }));
      await client().reconcile('items/a/summary', 'left');
    },
  ],
  doctor: [
    // A dangling pin: the scan, the listing, then the candidate's row read again.
    async () => {
      s3mock.on(ListObjectVersionsCommand).resolves({ Versions: [], IsTruncated: false });
      const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
      await runDoctor({
        config,
        dynamodb: new DynamoDBClient({ region: 'us-east-1', credentials }),
        s3: new S3Client({ region: 'us-east-1', credentials }),
        repair: false,
        wallClock: () => NOW,
      });
    },
  ],
};

/** The commands each client operation sent, over all its scenarios. */
const SENT = new Map<string, Sent[]>();
let POLICIES: Policies;

beforeAll(async () => {
  for (const [operation, scenarios] of Object.entries(SCENARIOS)) {
    const sent: Sent[] = [];
    for (const scenario of scenarios) sent.push(...await record(scenario));
    SENT.set(operation, sent);
  }
  POLICIES = synthesize();
});

/** The grants and roles that claim a client operation: those covering every operation of the table it performs. */
function claimants(operation: keyof typeof CLIENT_OPERATIONS): Array<[string, Statement[]]> {
  const needs: readonly OperationId[] = CLIENT_OPERATIONS[operation];
  const covers = (ops: readonly OperationId[]) => needs.every((id) => ops.includes(id));
  return [
    ...Object.entries(GRANTS).filter(([, ops]) => covers(ops))
      .map(([grant]) => [grant, POLICIES.grants[grant as keyof typeof GRANTS]] as [string, Statement[]]),
    ...Object.entries(ROLES).filter(([, ops]) => covers(ops))
      .map(([role]) => [`${role} role`, POLICIES.roles[role as keyof typeof ROLES]] as [string, Statement[]]),
  ];
}

describe.each(Object.keys(CLIENT_OPERATIONS) as Array<keyof typeof CLIENT_OPERATIONS>)('client operation %s', (operation) => {
  test('is claimed by a grant or a role of the store', () => {
    expect(claimants(operation).length).toBeGreaterThan(0);
  });

  test('every command it sends is allowed by every grant and role that claims it, KMS included', () => {
    const sent = SENT.get(operation)!;
    expect(sent.length).toBeGreaterThan(0);
    const missing: string[] = [];
    for (const [who, statements] of claimants(operation)) {
      for (const command of sent) {
        for (const needed of permissionsOf(command)) {
          if (!allows(statements, needed)) missing.push(`${who}: ${command.name} needs ${needed.action} on ${needed.resource}`);
        }
      }
    }
    expect([...new Set(missing)]).toEqual([]);
  });
});

describe('the scenarios reach every kind of request', () => {
  test.each<[keyof typeof CLIENT_OPERATIONS, string[]]>([
    ['get', ['GetItemCommand', 'GetObjectCommand (current)', 'GetObjectCommand (version)']],
    ['list', ['ScanCommand (table)', 'QueryCommand (index)']],
    ['put', ['GetItemCommand', 'PutObjectCommand', 'PutItemCommand', 'DeleteObjectCommand (marker)', 'DeleteObjectCommand (version)']],
    ['updateParts', ['GetItemCommand', 'PutObjectCommand', 'UpdateItemCommand', 'DeleteObjectCommand (marker)']],
    ['delete', ['GetItemCommand', 'PutItemCommand', 'DeleteObjectCommand (marker)']],
    ['presign', ['GetItemCommand', 'PresignedGetObject (version)']],
    ['reconcile', ['GetItemCommand', 'HeadObjectCommand (current)', 'ListObjectVersionsCommand', 'DeleteObjectCommand (version)', 'DeleteObjectCommand (marker)']],
    ['doctor', ['ScanCommand (table)', 'ListObjectVersionsCommand', 'GetItemCommand']],
  ])('%s sends %p', (operation, kinds) => {
    const kindOf = (command: Sent) => {
      if (/^(GetObject|HeadObject|PresignedGetObject)/.test(command.name)) return `${command.name} (${command.input.VersionId ? 'version' : 'current'})`;
      if (command.name === 'DeleteObjectCommand') return `${command.name} (${command.input.VersionId ? 'version' : 'marker'})`;
      if (command.name === 'QueryCommand' || command.name === 'ScanCommand') return `${command.name} (${command.input.IndexName ? 'index' : 'table'})`;
      return command.name;
    };
    const seen = new Set(SENT.get(operation)!.map(kindOf));
    for (const kind of kinds) expect(seen).toContain(kind);
  });
});

describe('the check can fail', () => {
  test('grantReadIndex does not allow what a write sends', () => {
    const missing = SENT.get('put')!.flatMap(permissionsOf).filter((needed) => !allows(POLICIES.grants.grantReadIndex, needed));
    expect(missing.map((needed) => needed.action)).toEqual(expect.arrayContaining(['s3:PutObject', 'dynamodb:PutItem', 'kms:GenerateDataKey']));
  });

  test('a listing outside the key prefix is not allowed to the reconciler', () => {
    expect(allows(POLICIES.roles.reconciler, { action: 's3:ListBucketVersions', resource: BUCKET_ARN, context: { 's3:prefix': 'other/' } })).toBe(false);
    expect(allows(POLICIES.roles.reconciler, { action: 's3:ListBucketVersions', resource: BUCKET_ARN, context: { 's3:prefix': 'items/a/summary' } })).toBe(true);
  });

  test('the doctor\'s role writes nothing', () => {
    const writes = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 's3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion', 'kms:Encrypt', 'kms:GenerateDataKey'];
    const actions = POLICIES.roles.doctor.flatMap((statement) => list(statement.Action));
    expect(actions.filter((action) => writes.includes(action))).toEqual([]);
  });
});

describe('two customer managed keys, one for the table and one for the bucket', () => {
  const keysOf = (statements: Statement[]) => [...new Set(statements.filter((s) => list(s.Action).some((a) => a.startsWith('kms:'))).flatMap((s) => list(s.Resource)))].sort();

  test.each(['reader', 'reconciler'] as const)('the %s role names both keys', (role) => {
    expect(keysOf(POLICIES.roles[role])).toEqual([TABLE_KEY_ARN, BUCKET_KEY_ARN].sort());
  });

  test('the doctor\'s role names the table\'s key only (it reads rows, and lists versions without reading them)', () => {
    expect(keysOf(POLICIES.roles.doctor)).toEqual([TABLE_KEY_ARN]);
  });

  test.each<[keyof typeof GRANTS, string[]]>([
    ['grantReadIndex', [TABLE_KEY_ARN]],
    ['grantReadParts', [BUCKET_KEY_ARN]],
    ['grantRead', [TABLE_KEY_ARN, BUCKET_KEY_ARN]],
    ['grantWrite', [TABLE_KEY_ARN, BUCKET_KEY_ARN]],
    ['grantReadWrite', [TABLE_KEY_ARN, BUCKET_KEY_ARN]],
  ])('%s names the keys of the data it reaches', (grant, keys) => {
    expect(keysOf(POLICIES.grants[grant])).toEqual([...keys].sort());
  });
});
