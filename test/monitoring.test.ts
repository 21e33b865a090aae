import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { SplitStore, SplitStoreMonitoring, SplitStoreMonitoringOptions, SplitStoreProps } from '../src';

function storeIn(props: SplitStoreProps = {}): { stack: Stack; store: SplitStore } {
  const stack = new Stack(new App(), 'Stack');
  return { stack, store: new SplitStore(stack, 'Store', props) };
}

/** The alarms of a template, by the construct id of each (the part of the logical id before its hash). */
function alarms(stack: Stack): Record<string, any> {
  const found = Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm');
  return Object.fromEntries(Object.entries(found).map(([logicalId, resource]) => [
    logicalId.replace(/^StoreMonitoring/, '').replace(/[0-9A-F]{8}$/, ''),
    (resource as any).Properties,
  ]));
}

/** The ids of a math expression's metrics, by metric name. */
function expressionMetrics(props: any): Record<string, any> {
  return Object.fromEntries(props.Metrics.filter((m: any) => m.MetricStat).map((m: any) => [m.MetricStat.Metric.MetricName, m.MetricStat]));
}

describe('store.addMonitoring() with the defaults', () => {
  test('the five recommended alarms of a default store, each firing at or above its threshold, quiet without data', () => {
    // GIVEN
    const { stack, store } = storeIn();
    // WHEN
    const monitoring = store.addMonitoring();
    // THEN
    const found = alarms(stack);
    expect(Object.keys(found).sort()).toEqual([
      'DanglingPointersAlarm', 'DeadLetterQueueAlarm', 'ReaderErrorRateAlarm', 'ReconcilerErrorsAlarm', 'TableThrottlingAlarm',
    ]);
    for (const props of Object.values(found)) {
      expect(props.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
      expect(props.TreatMissingData).toBe('notBreaching');
      expect(props.AlarmDescription).toMatch(/^cdk-split-store Stack\/Store: /);
      expect(props.AlarmActions).toBeUndefined();
    }
    expect(monitoring.alarms).toHaveLength(5);
    expect(monitoring.doctorFindingsAlarm).toBeUndefined();
  });

  test('dead-letter queue: any visible message (Maximum, 5 minutes, 1 period)', () => {
    const { stack, store } = storeIn();
    store.addMonitoring();
    expect(alarms(stack).DeadLetterQueueAlarm).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 1,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [expect.stringMatching(/^StoreReconcilerDeadLetterQueue/), 'QueueName'] } }],
    });
  });

  test('dangling pointers: any (SplitStore/DanglingPointers, Sum, by table)', () => {
    const { stack, store } = storeIn();
    store.addMonitoring();
    expect(alarms(stack).DanglingPointersAlarm).toMatchObject({
      Namespace: 'SplitStore',
      MetricName: 'DanglingPointers',
      Statistic: 'Sum',
      Threshold: 1,
      Dimensions: [{ Name: 'TableName', Value: { Ref: expect.stringMatching(/^StoreTable/) } }],
    });
  });

  test('reader error rate: 5% of URL requests answered 5xx, 3 periods of 5 minutes', () => {
    const { stack, store } = storeIn();
    store.addMonitoring();
    const props = alarms(stack).ReaderErrorRateAlarm;
    expect(props).toMatchObject({ Threshold: 5, EvaluationPeriods: 3, DatapointsToAlarm: 3 });
    expect(props.Metrics.find((m: any) => m.Expression)).toMatchObject({ Expression: '100 * FILL(errors, 0) / requests' });
    const metrics = expressionMetrics(props);
    expect(Object.keys(metrics).sort()).toEqual(['Url5xxCount', 'UrlRequestCount']);
    for (const stat of Object.values(metrics)) {
      expect(stat).toMatchObject({ Stat: 'Sum', Period: 300, Metric: { Namespace: 'AWS/Lambda' } });
      expect(stat.Metric.Dimensions).toEqual([{ Name: 'FunctionName', Value: { Ref: expect.stringMatching(/^StoreReaderFunction/) } }]);
    }
  });

  test('reader error rate without a Function URL: function errors per invocation', () => {
    const { stack, store } = storeIn({ reader: { functionUrl: false } });
    store.addMonitoring();
    expect(Object.keys(expressionMetrics(alarms(stack).ReaderErrorRateAlarm)).sort()).toEqual(['Errors', 'Invocations']);
  });

  test('table throttling: read and write throttle events added up, 10 in each of 2 periods', () => {
    const { stack, store } = storeIn();
    store.addMonitoring();
    const props = alarms(stack).TableThrottlingAlarm;
    expect(props).toMatchObject({ Threshold: 10, EvaluationPeriods: 2 });
    expect(props.Metrics.find((m: any) => m.Expression).Expression).toBe('FILL(reads, 0) + FILL(writes, 0)');
    expect(Object.keys(expressionMetrics(props)).sort()).toEqual(['ReadThrottleEvents', 'WriteThrottleEvents']);
  });

  test('reconciler errors: 5 failed messages in 5 minutes', () => {
    const { stack, store } = storeIn();
    store.addMonitoring();
    expect(alarms(stack).ReconcilerErrorsAlarm).toMatchObject({ Namespace: 'SplitStore', MetricName: 'ReconcilerErrors', Statistic: 'Sum', Threshold: 5 });
  });

  test('a dashboard with the store at a glance', () => {
    // GIVEN
    const { stack, store } = storeIn();
    // WHEN
    const monitoring = store.addMonitoring();
    // THEN
    expect(monitoring.dashboard).toBeDefined();
    const body = JSON.stringify(stack.resolve((monitoring.dashboard!.node.defaultChild as cloudwatch.CfnDashboard).dashboardBody));
    for (const title of ['Alarms', 'Requests', 'Latency (ms)', 'Errors', 'Data at risk', 'Reconciler outcomes', 'S3 requests on the parts']) {
      expect(body).toContain(`\\"title\\":\\"${title}\\"`);
    }
    for (const metric of ['DanglingPointers', 'ReconciledEvents', 'ApproximateNumberOfMessagesVisible', 'UrlRequestCount', 'FirstByteLatency', 'AllRequests', 'SuccessfulRequestLatency']) {
      expect(body).toContain(metric);
    }
    expect(body).not.toContain('Doctor');
  });
});

describe('with the doctor', () => {
  test('an alarm on dangling pins and pinned noncurrent versions of the last scan, and a dashboard row', () => {
    // GIVEN
    const { stack, store } = storeIn({ doctorEnabled: true });
    // WHEN
    const monitoring = store.addMonitoring();
    // THEN
    const props = alarms(stack).DoctorFindingsAlarm;
    expect(props).toMatchObject({ Threshold: 1, EvaluationPeriods: 1 });
    const findings = props.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat);
    expect(findings.map((stat: any) => stat.Metric.Dimensions.find((d: any) => d.Name === 'Finding').Value).sort())
      .toEqual(['dangling-pin', 'pinned-noncurrent']);
    for (const stat of findings) expect(stat).toMatchObject({ Stat: 'Maximum', Period: 86400, Metric: { MetricName: 'DoctorFindings' } });
    expect(monitoring.alarms).toHaveLength(6);
    const body = JSON.stringify(stack.resolve((monitoring.dashboard!.node.defaultChild as cloudwatch.CfnDashboard).dashboardBody));
    expect(body).toContain('Doctor: drift found by each scan');
    expect(body).toContain('DoctorRowsScanned');
  });
});

describe('options', () => {
  test('alarmActions run on alarm and on OK, for every alarm', () => {
    // GIVEN
    const { stack, store } = storeIn();
    const topic = new sns.Topic(stack, 'Alarms');
    // WHEN
    store.addMonitoring({ alarmActions: [new actions.SnsAction(topic)] });
    // THEN
    for (const props of Object.values(alarms(stack))) {
      expect(props.AlarmActions).toEqual([{ Ref: stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic) }]);
      expect(props.OKActions).toEqual(props.AlarmActions);
    }
  });

  test('threshold, period, evaluation periods and datapoints of one alarm', () => {
    const { stack, store } = storeIn();
    store.addMonitoring({ readerErrorRateAlarm: { threshold: 1, period: Duration.minutes(1), evaluationPeriods: 5, datapointsToAlarm: 3 } });
    const props = alarms(stack).ReaderErrorRateAlarm;
    expect(props).toMatchObject({ Threshold: 1, EvaluationPeriods: 5, DatapointsToAlarm: 3 });
    for (const stat of Object.values(expressionMetrics(props))) expect(stat.Period).toBe(60);
  });

  test('enabled: false leaves an alarm out', () => {
    const { stack, store } = storeIn();
    const monitoring = store.addMonitoring({ tableThrottlingAlarm: { enabled: false } });
    expect(alarms(stack).TableThrottlingAlarm).toBeUndefined();
    expect(monitoring.tableThrottlingAlarm).toBeUndefined();
    expect(monitoring.alarms).toHaveLength(4);
  });

  test('dashboard: false creates none; dashboardName names it', () => {
    const a = storeIn();
    a.store.addMonitoring({ dashboard: false });
    Template.fromStack(a.stack).resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    const b = storeIn();
    b.store.addMonitoring({ dashboardName: 'invoices-store' });
    Template.fromStack(b.stack).hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'invoices-store' });
  });

  test('a store without reader and reconciler gets the alarms that still apply', () => {
    const { stack, store } = storeIn({ readerEnabled: false, reconcilerEnabled: false });
    store.addMonitoring();
    expect(Object.keys(alarms(stack)).sort()).toEqual(['DanglingPointersAlarm', 'TableThrottlingAlarm']);
  });

  test('a brought bucket without request metrics: no S3 widgets, nothing throws', () => {
    const stack = new Stack(new App(), 'Stack');
    const bucket = s3.Bucket.fromBucketName(stack, 'Parts', 'existing-parts');
    const store = new SplitStore(stack, 'Store', { bucket });
    const body = JSON.stringify(stack.resolve((store.addMonitoring().dashboard!.node.defaultChild as cloudwatch.CfnDashboard).dashboardBody));
    expect(body).not.toContain('AWS/S3');
  });
});

describe('SplitStoreMonitoring in another stack', () => {
  test('watches a store of another stack of the app', () => {
    // GIVEN
    const app = new App();
    const data = new Stack(app, 'Data');
    const store = new SplitStore(data, 'Store');
    const ops = new Stack(app, 'Ops');
    // WHEN
    new SplitStoreMonitoring(ops, 'Invoices', { store });
    // THEN
    const template = Template.fromStack(ops);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    Template.fromStack(data).resourceCountIs('AWS::CloudWatch::Alarm', 0);
  });

  test('watches an imported store: the metrics of its data, not of functions it does not know', () => {
    // GIVEN
    const stack = new Stack(new App(), 'Ops');
    const store = SplitStore.fromStoreAttributes(stack, 'Store', {
      table: dynamodb.Table.fromTableName(stack, 'Table', 'invoices'),
      bucket: s3.Bucket.fromBucketName(stack, 'Bucket', 'invoice-parts'),
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      requestMetricsId: 'SplitStoreParts',
    });
    // WHEN
    const monitoring = new SplitStoreMonitoring(stack, 'Monitoring', { store });
    // THEN
    expect(monitoring.alarms).toHaveLength(2);
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DanglingPointers',
      Dimensions: [{ Name: 'TableName', Value: 'invoices' }],
    });
  });
});

describe('refusals', () => {
  test.each<[string, SplitStoreProps, SplitStoreMonitoringOptions, string]>([
    ['a threshold is 0', {}, { danglingPointersAlarm: { threshold: 0 } },
      'SplitStoreMonitoring: danglingPointersAlarm.threshold must be a number above 0, got 0'],
    ['datapointsToAlarm exceeds evaluationPeriods', {}, { readerErrorRateAlarm: { datapointsToAlarm: 4 } },
      'SplitStoreMonitoring: readerErrorRateAlarm.datapointsToAlarm must be a whole number between 1 and evaluationPeriods (3), got 4'],
    ['evaluationPeriods is 0', {}, { tableThrottlingAlarm: { evaluationPeriods: 0 } },
      'SplitStoreMonitoring: tableThrottlingAlarm.evaluationPeriods must be a whole number of at least 1, got 0'],
    ['a period CloudWatch does not accept', {}, { deadLetterQueueAlarm: { period: Duration.seconds(45) } },
      'SplitStoreMonitoring: deadLetterQueueAlarm.period must be 10 seconds, 30 seconds or a whole number of minutes, got 45 seconds'],
    ['the alarm would look back more than a day', { doctorEnabled: true }, { doctorFindingsAlarm: { evaluationPeriods: 2 } },
      'SplitStoreMonitoring: doctorFindingsAlarm.period times evaluationPeriods must be at most 1 day'],
  ])('fails when %s', (_name, props, options, message) => {
    const { store } = storeIn(props);
    expect(() => store.addMonitoring(options)).toThrow(message);
  });

  test('fails when called twice', () => {
    const { store } = storeIn();
    store.addMonitoring();
    expect(() => store.addMonitoring()).toThrow('SplitStore.addMonitoring: Stack/Store already has its monitoring');
  });
});
