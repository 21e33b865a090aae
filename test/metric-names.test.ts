/**
 * The construct's metric methods name exactly what the store's functions publish: each test
 * runs the runtime's own emission (the reader's dangling-pointer entry, the reconciler's
 * handler, the doctor's report), reads the Embedded Metric Format entries it wrote, and
 * compares them with the metric the construct's method returns, dimension values included.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { SQSEvent } from 'aws-lambda';
import { DoctorFinding, ISplitStore, ReconcilerOutcome, SplitStore } from '../src';
import { DoctorReport, doctorMetricEntries } from '../src/runtime/doctor';
import { danglingPointerMetric } from '../src/runtime/handler';
import { DOCTOR_FINDINGS, RECONCILE_OUTCOMES } from '../src/runtime/metrics';
import { createReconcilerHandler } from '../src/runtime/reconciler-handler';
import type { ReconcileOutcome } from '../src/runtime/types';

/** A metric as CloudWatch reads it out of an EMF entry. */
interface Emitted {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Record<string, string>;
  readonly unit: string;
}

/** Every metric an Embedded Metric Format entry defines (the EMF specification's rules). */
function emitted(entry: Record<string, any>): Emitted[] {
  const directives = entry._aws?.CloudWatchMetrics ?? [];
  return directives.flatMap((directive: any) => directive.Metrics.flatMap((metric: any) =>
    directive.Dimensions.map((names: string[]) => {
      expect(typeof entry[metric.Name]).toBe('number');
      return {
        namespace: directive.Namespace,
        metricName: metric.Name,
        unit: metric.Unit,
        dimensions: Object.fromEntries(names.map((name) => [name, entry[name]])),
      };
    })));
}

const TABLE = 'InvoicesTable-ABC';

/** A store whose table name is known (an imported one: the metric methods are the same). */
function store(): { stack: Stack; store: ISplitStore } {
  const stack = new Stack(new App(), 'Metrics');
  const s = SplitStore.fromStoreAttributes(stack, 'Store', {
    table: dynamodb.Table.fromTableName(stack, 'Table', TABLE),
    bucket: s3.Bucket.fromBucketName(stack, 'Bucket', 'parts'),
    partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
  });
  return { stack, store: s };
}

function asRead(stack: Stack, metric: cloudwatch.Metric): Omit<Emitted, 'unit'> {
  return { namespace: metric.namespace, metricName: metric.metricName, dimensions: stack.resolve(metric.dimensions) };
}

test('reader: DanglingPointers', () => {
  // GIVEN
  const { stack, store: s } = store();
  // WHEN
  const [metric] = emitted(danglingPointerMetric(TABLE, 2));
  // THEN
  expect(metric.unit).toBe('Count');
  const { unit, ...read } = metric;
  expect(asRead(stack, s.metricDanglingPointers())).toEqual(read);
});

describe('reconciler', () => {
  async function run(outcome: ReconcileOutcome | Error): Promise<Record<string, any>[]> {
    const lines: Record<string, any>[] = [];
    const handler = createReconcilerHandler({
      reconcile: async () => {
        if (outcome instanceof Error) throw outcome;
        return outcome;
      },
    }, { tableName: TABLE, log: (entry) => lines.push(entry) });
    const body = JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: 'items/a/summary', versionId: 'v1' } } }] });
    await handler({ Records: [{ messageId: 'm1', body }] } as unknown as SQSEvent);
    return lines;
  }

  test.each(Object.values(ReconcilerOutcome))('ReconciledEvents with Outcome %s', async (outcome) => {
    // GIVEN
    const { stack, store: s } = store();
    // WHEN
    const lines = await run(outcome as ReconcileOutcome);
    // THEN
    const metrics = lines.flatMap(emitted);
    expect(metrics).toHaveLength(1);
    const { unit, ...metric } = metrics[0];
    expect(unit).toBe('Count');
    expect(asRead(stack, s.metricReconcilerOutcome(outcome))).toEqual(metric);
  });

  test('ReconcilerErrors on a failed reconcile', async () => {
    // GIVEN
    const { stack, store: s } = store();
    // WHEN
    const lines = await run(new Error('S3 is down'));
    // THEN
    const metrics = lines.flatMap(emitted);
    expect(metrics).toHaveLength(1);
    const { unit, ...metric } = metrics[0];
    expect(asRead(stack, s.metricReconcilerErrors())).toEqual(metric);
  });

  test('no table name, no metric (the log lines stay as they were)', async () => {
    const lines: Record<string, any>[] = [];
    const handler = createReconcilerHandler({ reconcile: async () => 'pinned' }, { log: (entry) => lines.push(entry) });
    const body = JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: { object: { key: 'items/a/summary', versionId: 'v1' } } }] });
    await handler({ Records: [{ messageId: 'm1', body }] } as unknown as SQSEvent);
    expect(lines.flatMap(emitted)).toEqual([]);
    expect(lines).toEqual([expect.objectContaining({ msg: 'reconciled', outcome: 'pinned' })]);
  });

  test('the construct\'s outcomes are the runtime\'s outcomes', () => {
    expect(Object.values(ReconcilerOutcome).sort()).toEqual([...RECONCILE_OUTCOMES].sort());
  });
});

describe('doctor', () => {
  const report = (counts: Record<string, number>): DoctorReport => ({
    tableName: TABLE,
    bucketName: 'b',
    keyPrefix: 'items/',
    rowsScanned: 12,
    liveRows: 10,
    tombstones: 2,
    partKeys: 20,
    versionsListed: 25,
    foreignKeys: 0,
    counts: counts as DoctorReport['counts'],
    findings: [],
    truncated: false,
    healthy: false,
    minAgeMs: 300_000,
  });

  test('DoctorFindings for every finding, 0 included, and DoctorRowsScanned', () => {
    // GIVEN
    const { stack, store: s } = store();
    const counts = { 'dangling-pin': 1, 'pinned-noncurrent': 0, 'unpinned-current': 3, 'unknown-protocol': 0 };
    // WHEN
    const entries = doctorMetricEntries(report(counts));
    const metrics = entries.flatMap(emitted);
    // THEN
    expect(metrics).toHaveLength(Object.values(DoctorFinding).length + 1);
    for (const finding of Object.values(DoctorFinding)) {
      const entry = entries.find((e) => e.Finding === finding)!;
      const [{ unit, ...metric }] = emitted(entry);
      expect(asRead(stack, s.metricDoctorFindings(finding))).toEqual(metric);
      expect(entry.DoctorFindings).toBe(counts[finding]);
    }
    const rows = entries.find((e) => e.DoctorRowsScanned !== undefined)!;
    const [{ unit, ...rowsMetric }] = emitted(rows);
    expect(asRead(stack, s.metricDoctorRowsScanned())).toEqual(rowsMetric);
    expect(rows.DoctorRowsScanned).toBe(12);
  });

  test('the construct\'s findings are the runtime\'s findings', () => {
    expect(Object.values(DoctorFinding).sort()).toEqual([...DOCTOR_FINDINGS].sort());
  });
});

test('the table name the functions publish with is the table name the metrics read', () => {
  // GIVEN: a store whose name CloudFormation generates
  const stack = new Stack(new App(), 'Generated');
  const s = new SplitStore(stack, 'Store', { reconcilerEnabled: false });
  // THEN: the reader's SPLIT_STORE_TABLE_NAME (what it publishes with) is the metric's TableName
  const reader = s.node.findChild('Reader').node.findChild('Function').node.defaultChild as any;
  const env = stack.resolve(reader.environment).variables;
  expect(stack.resolve(s.metricDanglingPointers().dimensions)).toEqual({ TableName: env.SPLIT_STORE_TABLE_NAME });
});
