/**
 * Integration test: a store operated the way the README's "Monitoring" and "The doctor"
 * sections describe, deployed to a real account.
 *
 * What it checks, after deploying:
 * - the reference reader writes an item with two parts;
 * - the doctor's function, invoked by hand (its schedule would do the same), scans the store
 *   and finds it healthy: one row, two part keys, every finding kind at 0;
 * - the recommended alarms exist and are not in ALARM.
 *
 * Snapshot (test/integ.operations.ts.snapshot/) verified without deploying in CI:
 * `npx projen integ:snapshot`. Deploy, assert and destroy with an AWS account:
 * `npx projen integ:deploy`.
 */
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { SplitStore } from '../src';

const app = new App();
const stack = new Stack(app, 'SplitStoreIntegOperations');

const store = new SplitStore(stack, 'Store', {
  removalPolicy: RemovalPolicy.DESTROY,
  deletionProtection: false,
  bucketProps: { autoDeleteObjects: true },
  doctorEnabled: true,
});
const monitoring = store.addMonitoring();

const integ = new IntegTest(app, 'Operations', {
  testCases: [stack],
  stackUpdateWorkflow: false,
});

const key = { id: 'integ-operations-1' };
const put = integ.assertions.invokeFunction({
  functionName: store.readerFunction!.functionName,
  payload: JSON.stringify({
    operation: 'put',
    key,
    create: true,
    parts: { summary: { json: { total: 42 } }, lines: { json: [{ sku: 'A-1' }] } },
  }),
});
put.expect(ExpectedResult.objectLike({ Payload: Match.serializedJson(Match.objectLike({ ok: true })) }));

const scan = integ.assertions.invokeFunction({ functionName: store.doctorFunction!.functionName });
scan.expect(ExpectedResult.objectLike({
  Payload: Match.serializedJson(Match.objectLike({
    healthy: true,
    rowsScanned: 1,
    liveRows: 1,
    partKeys: 2,
    counts: { 'dangling-pin': 0, 'pinned-noncurrent': 0, 'unpinned-current': 0, 'unknown-protocol': 0 },
  })),
}));

const alarms = integ.assertions.awsApiCall('CloudWatch', 'describeAlarms', {
  AlarmNames: monitoring.alarms.map((alarm) => alarm.alarmName),
  StateValue: 'ALARM',
});
alarms.expect(ExpectedResult.objectLike({ MetricAlarms: [] }));

put.next(scan).next(alarms);

app.synth();
