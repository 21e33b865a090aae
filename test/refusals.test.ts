import { App, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { SplitStore, SplitStoreAccess, SplitStoreProps } from '../src';
import { StoreConfig } from '../src/runtime/config';
import { MAX_S3_KEY_BYTES, PART_NAME_PATTERN, partKey } from '../src/runtime/keys';
import { LONGEST_PART_NAME, MAX_KEY_PREFIX_BYTES, PROMISED_ITEM_KEY_BYTES } from '../src/validation';

// Synth-time refusals of what would deploy and then fail at run time. Each error names the
// prop, the value received and the fix.

function newStack(): Stack {
  return new Stack(new App(), 'TestStack');
}

function store(props: SplitStoreProps, stack = newStack()): SplitStore {
  return new SplitStore(stack, 'Store', { readerEnabled: false, reconcilerEnabled: false, ...props });
}

function appFunction(stack: Stack, id: string): lambda.Function {
  return new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {};'),
  });
}

describe('keyPrefix', () => {
  test.each([
    ['items/'],
    ['invoices/v1/'],
    ['a-b_c.d!e\'(f)/x.y/'],
    ['..a/b../'],
  ])('accepts %j', (keyPrefix) => {
    expect(store({ keyPrefix }).keyPrefix).toBe(keyPrefix);
  });

  test.each([
    ['', /keyPrefix must be a non-empty S3 key prefix that ends with '\/', got ""/],
    ['items', /keyPrefix must be a non-empty S3 key prefix that ends with '\/', got "items"/],
    ['/items/', /keyPrefix must be relative: it must not start with '\/', got "\/items\/"/],
    ['items//', /keyPrefix must not have an empty segment \('\/\/'\), got "items\/\/"/],
    ['../', /keyPrefix must not have a '\.' or '\.\.' segment.*got "\.\.\/"/],
    ['items/../', /keyPrefix must not have a '\.' or '\.\.' segment.*got "items\/\.\.\/"/],
    ['a/./b/', /keyPrefix must not have a '\.' or '\.\.' segment/],
    ['it*ms/', /keyPrefix may only hold letters, digits.*no '\*', which IAM reads as a wildcard\), got "it\*ms\/"/],
    ['my items/', /keyPrefix may only hold letters, digits.*got "my items\/"/],
    ['itéms/', /keyPrefix may only hold letters, digits/],
    ['a?b/', /keyPrefix may only hold letters, digits/],
    ['a\\b/', /keyPrefix may only hold letters, digits/],
  ])('fails when keyPrefix is %j', (keyPrefix, message) => {
    expect(() => store({ keyPrefix })).toThrow(message);
    expect(() => store({ keyPrefix })).toThrow(/Fix: use a value like 'items\/' \(the default\) or 'invoices\/v1\/'/);
  });

  test('fails when keyPrefix is too long for the promised item keys, naming its length and the limit', () => {
    const keyPrefix = `${'p'.repeat(1999)}/`;
    expect(() => store({ keyPrefix })).toThrow(
      new RegExp(`keyPrefix is 2000 bytes, longer than ${MAX_KEY_PREFIX_BYTES}: S3 keys are at most 1024 bytes, and a store keeps room ` +
        `for item keys of ${PROMISED_ITEM_KEY_BYTES} encoded bytes and part names of 63 characters, got "p{80}\\.\\.\\." \\(2000 characters\\)`),
    );
  });

  test(`accepts a keyPrefix of exactly ${MAX_KEY_PREFIX_BYTES} bytes and refuses one more`, () => {
    expect(MAX_KEY_PREFIX_BYTES).toBe(447);
    expect(() => store({ keyPrefix: `${'p'.repeat(MAX_KEY_PREFIX_BYTES - 1)}/` })).not.toThrow();
    expect(() => store({ keyPrefix: `${'p'.repeat(MAX_KEY_PREFIX_BYTES)}/` })).toThrow(/longer than 447/);
  });

  test('the longest accepted keyPrefix still fits the promised item key and the longest part name (runtime keys)', () => {
    // GIVEN: a store whose prefix is as long as allowed, and an item key at the promise
    const config: StoreConfig = {
      tableName: 't',
      bucketName: 'b',
      keyPrefix: `${'p'.repeat(MAX_KEY_PREFIX_BYTES - 1)}/`,
      partitionKey: { name: 'pk', type: 'S' },
      sortKey: { name: 'sk', type: 'S' },
      indexes: [],
      writerDeadlineMs: 20_000,
    };
    // 256 bytes + 256 bytes encoded ('%' encodes to 3 bytes: 85 x 3 + 1): the promised 512
    const key = { pk: 'a'.repeat(PROMISED_ITEM_KEY_BYTES / 2), sk: `${'%'.repeat(85)}b` };
    const part = 'x'.repeat(LONGEST_PART_NAME);
    // WHEN
    const s3Key = partKey(config, key, part);
    // THEN: 447 + 256 + '/' + 256 + '/' + 63 = 1024, exactly S3's limit; one byte more is refused
    expect(Buffer.byteLength(s3Key)).toBe(MAX_S3_KEY_BYTES);
    expect(() => partKey(config, { ...key, pk: `${key.pk}a` }, part)).toThrow(/key too long/);
  });

  test('LONGEST_PART_NAME is the runtime\'s longest part name', () => {
    expect(PART_NAME_PATTERN.test('x'.repeat(LONGEST_PART_NAME))).toBe(true);
    expect(PART_NAME_PATTERN.test('x'.repeat(LONGEST_PART_NAME + 1))).toBe(false);
  });

  test('fails when keyPrefix is a token', () => {
    expect(() => store({ keyPrefix: Token.asString({ Ref: 'Prefix' }) })).toThrow(/keyPrefix must be a literal string, not a token/);
  });
});

describe('a brought table', () => {
  const keys = (stack: Stack, id: string, partitionKey: dynamodb.Attribute, sortKey?: dynamodb.Attribute) =>
    new dynamodb.Table(stack, id, { partitionKey, sortKey });

  test('with the described key schema is accepted (Table and TableV2)', () => {
    const stack = newStack();
    const table = keys(stack, 'T', { name: 'pk', type: dynamodb.AttributeType.STRING }, { name: 'sk', type: dynamodb.AttributeType.NUMBER });
    const tableV2 = new dynamodb.TableV2(stack, 'T2', { partitionKey: { name: 'id', type: dynamodb.AttributeType.NUMBER } });
    expect(() => new SplitStore(stack, 'A', {
      table,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.NUMBER },
      readerEnabled: false,
      reconcilerEnabled: false,
    })).not.toThrow();
    expect(() => new SplitStore(stack, 'B', {
      table: tableV2,
      partitionKey: { name: 'id', type: dynamodb.AttributeType.NUMBER },
      readerEnabled: false,
      reconcilerEnabled: false,
    })).not.toThrow();
  });

  test.each([
    ['another partition key name', { name: 'id', type: dynamodb.AttributeType.STRING }, undefined,
      /partitionKey 'id' \(S\) and sortKey none do not match the key schema of table TestStack\/Table: partition key 'pk' \(S\), sort key 'sk' \(N\)\..*Fix: pass partitionKey: \{ name: 'pk', type: AttributeType\.STRING \} and sortKey: \{ name: 'sk', type: AttributeType\.NUMBER \}\./],
    ['another partition key type', { name: 'pk', type: dynamodb.AttributeType.NUMBER }, { name: 'sk', type: dynamodb.AttributeType.NUMBER },
      /partitionKey 'pk' \(N\) and sortKey 'sk' \(N\) do not match/],
    ['no sort key', { name: 'pk', type: dynamodb.AttributeType.STRING }, undefined,
      /sortKey none do not match.*sort key 'sk' \(N\)/],
    ['another sort key', { name: 'pk', type: dynamodb.AttributeType.STRING }, { name: 'created', type: dynamodb.AttributeType.NUMBER },
      /sortKey 'created' \(N\) do not match/],
  ])('fails when the store describes %s', (_what, partitionKey, sortKey, message) => {
    const stack = newStack();
    const table = keys(stack, 'Table', { name: 'pk', type: dynamodb.AttributeType.STRING }, { name: 'sk', type: dynamodb.AttributeType.NUMBER });
    expect(() => store({ table, partitionKey, sortKey }, stack)).toThrow(message);
  });

  test('fails when the store describes a sort key the table does not have (TableV2)', () => {
    const stack = newStack();
    const table = new dynamodb.TableV2(stack, 'Table', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    expect(() => store({
      table,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    }, stack)).toThrow(/sort key none\..*Fix: pass partitionKey: \{ name: 'pk', type: AttributeType\.STRING \} and no sortKey\./);
  });

  test('an imported table is not checked (its key schema is unknown)', () => {
    const stack = newStack();
    const table = dynamodb.Table.fromTableName(stack, 'Table', 'existing');
    expect(() => store({ table, partitionKey: { name: 'anything', type: dynamodb.AttributeType.STRING } }, stack)).not.toThrow();
  });
});

describe('a brought bucket', () => {
  test('fails when it is not versioned', () => {
    const stack = newStack();
    const bucket = new s3.Bucket(stack, 'Parts');
    expect(() => store({ bucket }, stack)).toThrow(
      /bucket TestStack\/Parts is not versioned \(versioning off\)\..*retryable error for a fault no retry fixes\. Fix: create the bucket with versioned: true, or remove bucket/,
    );
  });

  test('fails when its versioning is suspended (an override)', () => {
    const stack = newStack();
    const bucket = new s3.Bucket(stack, 'Parts', { versioned: true });
    (bucket.node.defaultChild as s3.CfnBucket).versioningConfiguration = { status: 'Suspended' };
    expect(() => store({ bucket }, stack)).toThrow(/is not versioned \(versioning Suspended\)/);
  });

  test('a versioned bucket, or an imported one, is accepted', () => {
    const stack = newStack();
    expect(() => store({ bucket: new s3.Bucket(stack, 'Parts', { versioned: true }) }, stack)).not.toThrow();
    expect(() => new SplitStore(stack, 'Other', {
      bucket: s3.Bucket.fromBucketName(stack, 'Imported', 'existing'),
      readerEnabled: false,
      reconcilerEnabled: false,
    })).not.toThrow();
  });
});

describe('the table and the bucket are removed together', () => {
  test('fails when the bucket is emptied with the stack while the table is retained', () => {
    expect(() => store({ bucketProps: { removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true } })).toThrow(
      /the bucket is emptied and deleted with the stack \(bucketProps\.removalPolicy DESTROY, bucketProps\.autoDeleteObjects true\) while the table is kept \(removalPolicy RETAIN, deletionProtection true\): its rows would point at parts that no longer exist\. Fix: keep both/,
    );
  });

  test('fails when the bucket is emptied with the stack while deletion protection keeps the table', () => {
    expect(() => store({ removalPolicy: RemovalPolicy.DESTROY, bucketProps: { autoDeleteObjects: true } })).toThrow(
      /while the table is kept \(removalPolicy DESTROY, deletionProtection true\).*Fix: .*removalPolicy: RemovalPolicy\.DESTROY, deletionProtection: false and bucketProps: \{ autoDeleteObjects: true \}/,
    );
  });

  test('fails when the table is deleted with the stack while the bucket keeps its parts', () => {
    expect(() => store({ removalPolicy: RemovalPolicy.DESTROY, deletionProtection: false })).toThrow(
      /the table is deleted with the stack \(removalPolicy DESTROY, deletionProtection false\) while the bucket and its parts are kept \(removalPolicy DESTROY, bucketProps\.autoDeleteObjects false\)/,
    );
  });

  test('fails when a brought table is retained and the store\'s bucket is emptied with the stack', () => {
    const stack = newStack();
    const table = new dynamodb.Table(stack, 'Table', { partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING } });
    expect(() => store({
      table,
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      removalPolicy: RemovalPolicy.DESTROY,
      bucketProps: { autoDeleteObjects: true },
    }, stack)).toThrow(/while the table is kept \(the brought table TestStack\/Table\)/);
  });

  test('fails when a brought bucket is emptied with the stack and the store\'s table is retained', () => {
    const stack = newStack();
    const bucket = new s3.Bucket(stack, 'Parts', { versioned: true, removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true });
    expect(() => store({ bucket }, stack)).toThrow(/the bucket is emptied and deleted with the stack \(the brought bucket TestStack\/Parts\)/);
  });

  test('both kept (the default) or both deleted is accepted', () => {
    expect(() => store({})).not.toThrow();
    expect(() => store({ removalPolicy: RemovalPolicy.DESTROY, deletionProtection: false, bucketProps: { autoDeleteObjects: true } })).not.toThrow();
  });
});

describe('two stores on one function', () => {
  test('fails when grantAndConfigure wires a function already configured for another store', () => {
    // GIVEN
    const stack = newStack();
    const first = new SplitStore(stack, 'Invoices', { readerEnabled: false, reconcilerEnabled: false });
    const second = new SplitStore(stack, 'Customers', { readerEnabled: false, reconcilerEnabled: false });
    const fn = appFunction(stack, 'App');
    first.grantAndConfigure(fn);
    // WHEN / THEN
    expect(() => second.grantAndConfigure(fn)).toThrow(
      /SplitStore\.grantAndConfigure: function TestStack\/App is already configured for the store TestStack\/Invoices, and this is the store TestStack\/Customers\..*Fix: give each store its own function/,
    );
  });

  test('fails when grantInvokeReaderAndConfigure wires a function configured for another store', () => {
    const stack = newStack();
    const first = new SplitStore(stack, 'Invoices', { readerEnabled: false, reconcilerEnabled: false });
    const second = new SplitStore(stack, 'Customers', { reconcilerEnabled: false });
    const fn = appFunction(stack, 'App');
    first.grantAndConfigure(fn);
    expect(() => second.grantInvokeReaderAndConfigure(fn)).toThrow(/SplitStore\.grantInvokeReaderAndConfigure: function TestStack\/App is already configured for the store TestStack\/Invoices/);
  });

  test('one store may configure a function twice (another access level, the reader too)', () => {
    const stack = newStack();
    const one = new SplitStore(stack, 'Invoices', { reconcilerEnabled: false });
    const fn = appFunction(stack, 'App');
    one.grantAndConfigure(fn);
    expect(() => one.grantAndConfigure(fn, SplitStoreAccess.READ)).not.toThrow();
    expect(() => one.grantInvokeReaderAndConfigure(fn)).not.toThrow();
  });

  test('two stores each configure their own function', () => {
    const stack = newStack();
    const first = new SplitStore(stack, 'Invoices', { readerEnabled: false, reconcilerEnabled: false });
    const second = new SplitStore(stack, 'Customers', { readerEnabled: false, reconcilerEnabled: false });
    expect(() => first.grantAndConfigure(appFunction(stack, 'A'))).not.toThrow();
    expect(() => second.grantAndConfigure(appFunction(stack, 'B'))).not.toThrow();
  });
});
