import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { SplitStore, SplitStoreAccess, SplitStoreProps } from '../src';

const TABLE_READ = [
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:BatchGetItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
];
const INDEX_READ = ['dynamodb:Query', 'dynamodb:Scan'];
const TABLE_WRITE = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'];
/** TABLE_READ then what TABLE_WRITE adds, each action once. */
const TABLE_READ_WRITE = [...TABLE_READ, 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];
const PARTS_READ = ['s3:GetObject', 's3:GetObjectVersion'];
const PARTS_WRITE = ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'];
const KEY_READ = ['kms:Decrypt', 'kms:DescribeKey'];
const KEY_WRITE = ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:Decrypt', 'kms:DescribeKey'];
const KEY_READ_WRITE = ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'];

interface Fixture {
  readonly stack: Stack;
  readonly store: SplitStore;
  readonly role: iam.Role;
  readonly key?: kms.Key;
}

function fixture(props: SplitStoreProps = {}, withKey = false): Fixture {
  const stack = new Stack(new App(), 'TestStack');
  const key = withKey ? new kms.Key(stack, 'Key', { enableKeyRotation: true }) : undefined;
  const store = new SplitStore(stack, 'Store', { readerEnabled: false, reconcilerEnabled: false, encryptionKey: key, ...props });
  const role = new iam.Role(stack, 'App', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  return { stack, store, role, key };
}

function arnOf(stack: Stack, construct: { node: { defaultChild?: unknown } }): unknown {
  return { 'Fn::GetAtt': [stack.getLogicalId(construct.node.defaultChild as any), 'Arn'] };
}

/** The statements of the grantee's policy. */
function statementsOf(f: Fixture): any[] {
  const policies = Template.fromStack(f.stack).findResources('AWS::IAM::Policy');
  const roleId = f.stack.getLogicalId(f.role.node.defaultChild as iam.CfnRole);
  const mine = Object.values(policies).filter((p: any) => JSON.stringify(p.Properties.Roles).includes(roleId));
  expect(mine).toHaveLength(1);
  return (mine[0] as any).Properties.PolicyDocument.Statement;
}

function tableArn(f: Fixture): unknown {
  return arnOf(f.stack, f.store.table as dynamodb.Table);
}

function partsArn(f: Fixture, prefix = 'items/'): unknown {
  return { 'Fn::Join': ['', [arnOf(f.stack, f.store.bucket as s3.Bucket), `/${prefix}*`]] };
}

describe('grantReadIndex', () => {
  test('allows reading rows of the table and nothing else', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    const grant = f.store.grantReadIndex(f.role);
    // THEN
    expect(grant.success).toBe(true);
    expect(statementsOf(f)).toEqual([{ Effect: 'Allow', Action: TABLE_READ, Resource: tableArn(f) }]);
  });

  test('covers each global secondary index by name', () => {
    // GIVEN
    const f = fixture({
      globalSecondaryIndexes: [
        { indexName: 'byCustomer', partitionKey: { name: 'customerId', type: dynamodb.AttributeType.STRING } },
        { indexName: 'byStatus', partitionKey: { name: 'status', type: dynamodb.AttributeType.STRING } },
      ],
    });
    // WHEN
    f.store.grantReadIndex(f.role);
    // THEN
    expect(statementsOf(f)).toEqual([
      { Effect: 'Allow', Action: TABLE_READ, Resource: tableArn(f) },
      {
        Effect: 'Allow',
        Action: INDEX_READ,
        Resource: [
          { 'Fn::Join': ['', [tableArn(f), '/index/byCustomer']] },
          { 'Fn::Join': ['', [tableArn(f), '/index/byStatus']] },
        ],
      },
    ]);
  });

  test('adds kms:Decrypt and kms:DescribeKey on the customer managed key', () => {
    // GIVEN
    const f = fixture({}, true);
    // WHEN
    f.store.grantReadIndex(f.role);
    // THEN
    expect(statementsOf(f)).toEqual([
      { Effect: 'Allow', Action: TABLE_READ, Resource: tableArn(f) },
      { Effect: 'Allow', Action: KEY_READ, Resource: arnOf(f.stack, f.key!) },
    ]);
  });
});

describe('grantReadParts', () => {
  test('allows reading objects under the key prefix and nothing else', () => {
    const f = fixture();
    const grant = f.store.grantReadParts(f.role);
    expect(grant.success).toBe(true);
    expect(statementsOf(f)).toEqual([{ Effect: 'Allow', Action: PARTS_READ, Resource: partsArn(f) }]);
  });

  test('follows keyPrefix', () => {
    const f = fixture({ keyPrefix: 'invoices/' });
    f.store.grantReadParts(f.role);
    expect(statementsOf(f)).toEqual([{ Effect: 'Allow', Action: PARTS_READ, Resource: partsArn(f, 'invoices/') }]);
  });

  test('adds kms:Decrypt and kms:DescribeKey on the customer managed key', () => {
    const f = fixture({}, true);
    f.store.grantReadParts(f.role);
    expect(statementsOf(f)).toEqual([
      { Effect: 'Allow', Action: PARTS_READ, Resource: partsArn(f) },
      { Effect: 'Allow', Action: KEY_READ, Resource: arnOf(f.stack, f.key!) },
    ]);
  });
});

describe('grantRead', () => {
  test('is grantReadIndex plus grantReadParts', () => {
    const f = fixture();
    f.store.grantRead(f.role);
    expect(statementsOf(f)).toEqual([
      { Effect: 'Allow', Action: TABLE_READ, Resource: tableArn(f) },
      { Effect: 'Allow', Action: PARTS_READ, Resource: partsArn(f) },
    ]);
  });
});

describe('grantWrite', () => {
  test('allows writing rows and parts, not reading them', () => {
    const f = fixture();
    const grant = f.store.grantWrite(f.role);
    expect(grant.success).toBe(true);
    expect(statementsOf(f)).toEqual([
      { Effect: 'Allow', Action: TABLE_WRITE, Resource: tableArn(f) },
      { Effect: 'Allow', Action: PARTS_WRITE, Resource: partsArn(f) },
    ]);
  });

  test('adds the KMS write actions on the customer managed key, with no wildcard action', () => {
    const f = fixture({}, true);
    f.store.grantWrite(f.role);
    const statements = statementsOf(f);
    expect(statements).toContainEqual({ Effect: 'Allow', Action: KEY_WRITE, Resource: arnOf(f.stack, f.key!) });
    expect(statements.flatMap(s => s.Action).filter((action: string) => action.includes('*'))).toEqual([]);
  });
});

describe('grantReadWrite', () => {
  test('is grantRead plus grantWrite, one statement per resource', () => {
    const f = fixture();
    f.store.grantReadWrite(f.role);
    expect(statementsOf(f)).toEqual([
      { Effect: 'Allow', Action: TABLE_READ_WRITE, Resource: tableArn(f) },
      { Effect: 'Allow', Action: [...PARTS_READ, ...PARTS_WRITE], Resource: partsArn(f) },
    ]);
  });

  test('with a customer managed key, one statement for the key with the read and write actions', () => {
    const f = fixture({}, true);
    f.store.grantReadWrite(f.role);
    expect(statementsOf(f)).toContainEqual({ Effect: 'Allow', Action: KEY_READ_WRITE, Resource: arnOf(f.stack, f.key!) });
  });
});

describe('grantInvokeReader', () => {
  test('grants lambda:InvokeFunction on the reader and lambda:InvokeFunctionUrl on its URL', () => {
    // GIVEN
    const stack = new Stack(new App(), 'TestStack');
    const store = new SplitStore(stack, 'Store', { reconcilerEnabled: false });
    const role = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    // WHEN
    store.grantInvokeReader(role);
    // THEN
    const readerArn = stack.resolve(store.readerFunction!.functionArn);
    const statements = Template.fromStack(stack).findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: stack.getLogicalId(role.node.defaultChild as iam.CfnRole) }] },
    });
    const all = Object.values(statements).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(all).toContainEqual(expect.objectContaining({ Action: 'lambda:InvokeFunctionUrl', Resource: readerArn }));
    expect(all).toContainEqual(expect.objectContaining({ Action: 'lambda:InvokeFunction', Resource: readerArn }));
    expect(all.flatMap((st: any) => [st.Action].flat())).not.toContain('lambda:*');
    // No `<arn>:*` (versions and aliases): the reader is invoked unqualified, and the wildcard
    // would be a cdk-nag AwsSolutions-IAM5 finding on every caller.
    expect(JSON.stringify(all)).not.toContain(':*');
  });

  test('a service principal gets a resource-based permission on the reader', () => {
    // GIVEN
    const stack = new Stack(new App(), 'TestStack');
    const store = new SplitStore(stack, 'Store', { reconcilerEnabled: false, reader: { functionUrl: false } });
    // WHEN
    const grant = store.grantInvokeReader(new iam.ServicePrincipal('apigateway.amazonaws.com'));
    // THEN
    expect(grant.success).toBe(true);
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'apigateway.amazonaws.com',
    });
  });

  test('grants only lambda:InvokeFunction when the reader has no Function URL', () => {
    // GIVEN
    const stack = new Stack(new App(), 'TestStack');
    const store = new SplitStore(stack, 'Store', { reconcilerEnabled: false, reader: { functionUrl: false } });
    const role = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    // WHEN
    store.grantInvokeReader(role);
    // THEN
    const all = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
      .flatMap((st: any) => [st.Action].flat());
    expect(all).toContain('lambda:InvokeFunction');
    expect(all).not.toContain('lambda:InvokeFunctionUrl');
  });

  test('fails when the store has no reader', () => {
    const f = fixture();
    expect(() => f.store.grantInvokeReader(f.role)).toThrow(/grantInvokeReader: this store has no reader \(readerEnabled is false\)/);
  });
});

describe('brought resources', () => {
  test('grants use the brought table and its described indexes', () => {
    // GIVEN
    const f = fixture({
      table: dynamodb.Table.fromTableName(new Stack(), 'T', 'existing'),
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      globalSecondaryIndexes: [{ indexName: 'byCustomer', partitionKey: { name: 'c', type: dynamodb.AttributeType.STRING } }],
    });
    // WHEN
    f.store.grantReadIndex(f.role);
    // THEN
    const [table, indexes] = statementsOf(f).map((statement) => JSON.stringify(f.stack.resolve(statement.Resource)));
    expect(table).toContain(':table/existing');
    expect(indexes).toContain(':table/existing/index/byCustomer');
  });

  test('grants include the brought bucket\'s own key', () => {
    // GIVEN
    const stack = new Stack(new App(), 'TestStack');
    const key = new kms.Key(stack, 'BucketKey', { enableKeyRotation: true });
    const bucket = s3.Bucket.fromBucketAttributes(stack, 'B', { bucketName: 'existing-parts', encryptionKey: key });
    const store = new SplitStore(stack, 'Store', { bucket, readerEnabled: false, reconcilerEnabled: false });
    const role = new iam.Role(stack, 'App', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    // WHEN
    store.grantReadParts(role);
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([{ Effect: 'Allow', Action: KEY_READ, Resource: arnOf(stack, key) }]) },
    });
  });
});

describe('grantAndConfigure', () => {
  function fnIn(stack: Stack): lambda.Function {
    return new lambda.Function(stack, 'AppFn', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {};'),
    });
  }

  function fnStatements(stack: Stack): any[] {
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy');
    const mine = Object.values(policies).filter((p: any) => JSON.stringify(p.Properties.Roles).includes('AppFnServiceRole'));
    expect(mine).toHaveLength(1);
    return (mine[0] as any).Properties.PolicyDocument.Statement;
  }

  test('grants read-write by default', () => {
    // GIVEN
    const f = fixture();
    const fn = fnIn(f.stack);
    // WHEN
    const grant = f.store.grantAndConfigure(fn);
    // THEN
    expect(grant.success).toBe(true);
    const actions = fnStatements(f.stack).flatMap(s => s.Action);
    expect(actions).toEqual([...TABLE_READ_WRITE, ...PARTS_READ, ...PARTS_WRITE]);
  });

  test.each<[SplitStoreAccess, string[]]>([
    [SplitStoreAccess.READ_INDEX, TABLE_READ],
    [SplitStoreAccess.READ_PARTS, PARTS_READ],
    [SplitStoreAccess.READ, [...TABLE_READ, ...PARTS_READ]],
    [SplitStoreAccess.WRITE, [...TABLE_WRITE, ...PARTS_WRITE]],
    [SplitStoreAccess.READ_WRITE, [...TABLE_READ_WRITE, ...PARTS_READ, ...PARTS_WRITE]],
  ])('access %s grants exactly its actions', (access, expected) => {
    const f = fixture();
    const fn = fnIn(f.stack);
    f.store.grantAndConfigure(fn, access);
    expect(fnStatements(f.stack).flatMap(s => s.Action)).toEqual(expected);
  });

  test('sets the environment whatever the access', () => {
    const f = fixture();
    const fn = fnIn(f.stack);
    f.store.grantAndConfigure(fn, SplitStoreAccess.READ_INDEX);
    Template.fromStack(f.stack).hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Environment: { Variables: Match.objectLike({ SPLIT_STORE_TABLE_NAME: { Ref: Match.stringLikeRegexp('^StoreTable') }, SPLIT_STORE_KEY_PREFIX: 'items/' }) },
    });
  });

  test('fails on an access level that is not a SplitStoreAccess', () => {
    const f = fixture();
    const fn = fnIn(f.stack);
    expect(() => f.store.grantAndConfigure(fn, 'ADMIN' as SplitStoreAccess)).toThrow(/unknown access "ADMIN"; use a SplitStoreAccess value/);
  });
});

describe('writer deadline', () => {
  test('grantAndConfigure passes on the store\'s writerDeadline, the one the reconciler delay is checked against', () => {
    // GIVEN
    const stack = new Stack(new App(), 'TestStack');
    const store = new SplitStore(stack, 'Store', { writerDeadline: Duration.seconds(10) });
    const fn = new lambda.Function(stack, 'AppFn', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {};'),
    });
    // WHEN
    store.grantAndConfigure(fn);
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Environment: { Variables: Match.objectLike({ SPLIT_STORE_WRITER_DEADLINE_MS: '10000' }) },
    });
  });
});
