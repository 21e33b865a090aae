import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { SplitStore, SplitStoreProps } from '../src';

function storeIn(props: SplitStoreProps = {}): { stack: Stack; store: SplitStore; template: () => Template } {
  const stack = new Stack(new App(), 'Stack');
  const store = new SplitStore(stack, 'Store', { readerEnabled: false, ...props });
  return { stack, store, template: () => Template.fromStack(stack) };
}

function doctorFunction(template: Template): Record<string, any> {
  const found = Object.values(template.findResources('AWS::Lambda::Function', {
    Properties: { Description: Match.stringLikeRegexp('cdk-split-store doctor') },
  }));
  expect(found).toHaveLength(1);
  return (found[0] as any).Properties;
}

function doctorStatements(template: Template): any[] {
  const found = Object.values(template.findResources('AWS::IAM::Policy', {
    Properties: { PolicyName: Match.stringLikeRegexp('^StoreDoctorServiceRoleDefaultPolicy') },
  }));
  expect(found).toHaveLength(1);
  return (found[0] as any).Properties.PolicyDocument.Statement;
}

describe('doctorEnabled', () => {
  test('off by default: no doctor', () => {
    const { store, template } = storeIn();
    expect(store.doctorFunction).toBeUndefined();
    expect(store.node.tryFindChild('Doctor')).toBeUndefined();
    template().resourceCountIs('AWS::Events::Rule', 0);
  });

  test('a daily schedule invokes the doctor\'s function, without retries', () => {
    // GIVEN / WHEN
    const { store, template } = storeIn({ doctorEnabled: true });
    // THEN
    expect(store.doctorFunction).toBeDefined();
    template().hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 day)',
      State: 'ENABLED',
      Targets: [Match.objectLike({
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StoreDoctorFunction'), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 0 },
      })],
    });
    template().hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: Match.stringLikeRegexp('^StoreDoctorFunction') },
      MaximumRetryAttempts: 0,
    });
    template().hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
    });
  });

  test('its function: Node.js 24, 1024 MiB, 15 minutes, the store\'s environment and the reconciler\'s delay as minimum age', () => {
    const { template } = storeIn({ doctorEnabled: true });
    const props = doctorFunction(template());
    expect(props).toMatchObject({ Runtime: 'nodejs24.x', MemorySize: 1024, Timeout: 900, Handler: 'index.handler' });
    expect(props.Environment.Variables).toMatchObject({
      SPLIT_STORE_TABLE_NAME: { Ref: expect.stringMatching(/^StoreTable/) },
      SPLIT_STORE_BUCKET_NAME: { Ref: expect.stringMatching(/^StoreBucket/) },
      SPLIT_STORE_KEY_PREFIX: 'items/',
      SPLIT_STORE_WRITER_DEADLINE_MS: '20000',
      SPLIT_STORE_DOCTOR_MIN_AGE_MS: '300000',
    });
  });

  test('its role reads, and only what a scan needs: Scan and GetItem on the table, ListBucketVersions under the prefix', () => {
    const { template } = storeIn({ doctorEnabled: true });
    const tableArn = { 'Fn::GetAtt': [expect.stringMatching(/^StoreTable/), 'Arn'] };
    const bucketArn = { 'Fn::GetAtt': [expect.stringMatching(/^StoreBucket/), 'Arn'] };
    expect(doctorStatements(template())).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: expect.anything() },
      { Effect: 'Allow', Action: ['dynamodb:Scan', 'dynamodb:GetItem'], Resource: tableArn },
      { Effect: 'Allow', Action: 's3:ListBucketVersions', Resource: bucketArn, Condition: { StringLike: { 's3:prefix': ['items/*'] } } },
    ]);
  });

  test('with a customer managed key, Decrypt and DescribeKey on it', () => {
    const stack = new Stack(new App(), 'Stack');
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new SplitStore(stack, 'Store', { encryptionKey: key, doctorEnabled: true });
    expect(doctorStatements(Template.fromStack(stack))).toContainEqual({
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:DescribeKey'],
      Resource: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] },
    });
  });

  test('keeps its construct ids stable', () => {
    const { store } = storeIn({ doctorEnabled: true });
    expect(store.node.findChild('Doctor').node.children.map((c) => c.node.id).sort()).toEqual(['Function', 'LogGroup', 'Schedule', 'ServiceRole']);
  });
});

describe('doctor options', () => {
  test('schedule, minAge, memorySize, timeout, logRetention, tracing', () => {
    // GIVEN / WHEN
    const { template } = storeIn({
      doctorEnabled: true,
      doctor: {
        schedule: events.Schedule.cron({ hour: '3', minute: '0' }),
        minAge: Duration.hours(1),
        memorySize: 3008,
        timeout: Duration.minutes(5),
        logRetention: logs.RetentionDays.ONE_WEEK,
        tracing: lambda.Tracing.ACTIVE,
      },
    });
    // THEN
    const t = template();
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(0 3 * * ? *)' });
    const props = doctorFunction(t);
    expect(props).toMatchObject({ MemorySize: 3008, Timeout: 300, TracingConfig: { Mode: 'Active' } });
    expect(props.Environment.Variables.SPLIT_STORE_DOCTOR_MIN_AGE_MS).toBe('3600000');
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  test('without a reconciler, the runtime\'s minimum age: the writer deadline plus the commit margin', () => {
    const { template } = storeIn({ doctorEnabled: true, reconcilerEnabled: false });
    expect(doctorFunction(template()).Environment.Variables.SPLIT_STORE_DOCTOR_MIN_AGE_MS).toBeUndefined();
  });

  test('a longer reconciler delay is the default minimum age', () => {
    const { template } = storeIn({ doctorEnabled: true, reconciler: { delay: Duration.minutes(12) } });
    expect(doctorFunction(template()).Environment.Variables.SPLIT_STORE_DOCTOR_MIN_AGE_MS).toBe('720000');
  });
});

describe('doctor refusals', () => {
  test('fails when doctor options come without doctorEnabled', () => {
    expect(() => storeIn({ doctor: { memorySize: 2048 } })).toThrow(
      'SplitStore: doctor options were given with doctorEnabled: false (the default). Fix: set doctorEnabled: true to deploy the doctor, or remove doctor.',
    );
  });

  test('fails when minAge is below the writer deadline plus 30 seconds', () => {
    expect(() => storeIn({ doctorEnabled: true, writerDeadline: Duration.seconds(40), doctor: { minAge: Duration.seconds(60) } })).toThrow(
      'doctor.minAge (1 minute) must be at least writerDeadline plus 30 seconds (1 minute 10 seconds)',
    );
  });

  test.each([Duration.seconds(30), Duration.minutes(16)])('fails when the timeout is %s', (timeout) => {
    expect(() => storeIn({ doctorEnabled: true, doctor: { timeout } })).toThrow('doctor.timeout must be between 1 minute and 15 minutes');
  });

  test('fails when memorySize is out of range', () => {
    expect(() => storeIn({ doctorEnabled: true, doctor: { memorySize: 64 } })).toThrow('doctor.memorySize must be a whole number of MiB between 128 and 10240, got 64');
  });

  test('runtime with only the doctor enabled is accepted', () => {
    expect(() => storeIn({ reconcilerEnabled: false, doctorEnabled: true, runtime: new lambda.Runtime('nodejs24.x', lambda.RuntimeFamily.NODEJS) })).not.toThrow();
  });
});
