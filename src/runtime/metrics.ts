/**
 * The metrics the store's functions publish, named once: the reader, the reconciler and the
 * doctor write them as CloudWatch Embedded Metric Format entries (a JSON log line that
 * CloudWatch turns into metrics, no API call, no permission), and the construct's `metric*`
 * methods read them by the same names (test/metric-names.test.ts checks both sides).
 *
 * No CDK import here: this module is bundled into the Lambda assets.
 */
import type { ReconcileOutcome } from './types';

/** CloudWatch namespace of every metric the store's functions publish. */
export const METRICS_NAMESPACE = 'SplitStore';

/** Dimension names. Every metric has `TableName`; some have one more. */
export const METRIC_DIMENSIONS = {
  /** The store's table name: one store, whatever stack or account its functions run in. */
  tableName: 'TableName',
  /** A reconciler outcome (`ReconciledEvents`). */
  outcome: 'Outcome',
  /** A kind of drift the doctor found (`DoctorFindings`). */
  finding: 'Finding',
} as const;

/** Metric names. */
export const METRIC_NAMES = {
  /** Parts a read found pinned to a version S3 no longer has (reader; Count). */
  danglingPointers: 'DanglingPointers',
  /** Part-key events the reconciler handled, by `Outcome` (Count). */
  reconciledEvents: 'ReconciledEvents',
  /** Queue messages whose reconcile failed, to be retried or dead-lettered (Count). */
  reconcilerErrors: 'ReconcilerErrors',
  /** Drift the doctor found in one scan, by `Finding` (Count; published even when 0). */
  doctorFindings: 'DoctorFindings',
  /** Index rows one doctor scan read (Count). */
  doctorRowsScanned: 'DoctorRowsScanned',
} as const;

/** Every outcome of a reconcile (types.ts `ReconcileOutcome`), in the order the docs list them. */
export const RECONCILE_OUTCOMES = [
  'pinned', 'noncurrent', 'retired', 'deleted-unpinned', 'uncovered', 'retired-orphan', 'in-flight', 'dangling', 'not-a-part',
] as const satisfies readonly ReconcileOutcome[];

// Fails to compile when ReconcileOutcome gains an outcome this list lacks.
const _everyOutcomeListed: Exclude<ReconcileOutcome, typeof RECONCILE_OUTCOMES[number]> extends never ? true : never = true;
void _everyOutcomeListed;

/** The kinds of drift the doctor reports (src/runtime/doctor.ts). */
export const DOCTOR_FINDINGS = [
  /** A live row pins a version S3 does not have: reads of that part fail. */
  'dangling-pin',
  /** A live row pins a version that is not current: it expires after the retention window. */
  'pinned-noncurrent',
  /** A current version no live row pins, older than the reconciler's delay: an orphan the reconciler missed. */
  'unpinned-current',
  /** A row of a protocol version this code does not know, or not a store row at all. */
  'unknown-protocol',
] as const;

/** A kind of drift the doctor reports. */
export type DoctorFindingKind = typeof DOCTOR_FINDINGS[number];

/** One metric value of an Embedded Metric Format entry. */
export interface MetricValue {
  readonly name: string;
  readonly value: number;
  /** A dimension besides `TableName`, as `[name, value]`. */
  readonly dimension?: readonly [string, string];
}

/**
 * An Embedded Metric Format entry for one value: merged into a log line, it becomes the metric
 * `SplitStore/<name>` with the dimension `TableName` (and the value's own dimension, if any).
 */
export function metricEntry(tableName: string, metric: MetricValue, timestamp = Date.now()): Record<string, unknown> {
  const dimensions = [METRIC_DIMENSIONS.tableName, ...(metric.dimension ? [metric.dimension[0]] : [])];
  return {
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [{
        Namespace: METRICS_NAMESPACE,
        Dimensions: [dimensions],
        Metrics: [{ Name: metric.name, Unit: 'Count' }],
      }],
    },
    [METRIC_DIMENSIONS.tableName]: tableName,
    ...(metric.dimension ? { [metric.dimension[0]]: metric.dimension[1] } : {}),
    [metric.name]: metric.value,
  };
}
