/**
 * The doctor's scheduled function: one read-only scan of the store per invocation
 * (runDoctor), its finding counts published as metrics (Embedded Metric Format, namespace
 * `SplitStore`) and its findings logged. A scan that fails or runs out of time throws, so
 * the invocation counts as an error and no finding metric is published for it.
 *
 * No CDK import here: this module is bundled into the Lambda assets.
 */
import { configFromEnv } from './config';
import { doctorMetricEntries, DoctorReport, runDoctor } from './doctor';
import { DOCTOR_ENV } from './doctor-env';
import { jsonLog, LogSink } from './handler-log';
import type { SdkClient } from './send';

/** Time kept at the end of an invocation to log what the scan found, ms. */
export const DOCTOR_RESERVE_MS = 10_000;

/** Findings written to the log per scan (the metrics count them all). */
export const LOGGED_FINDINGS = 100;

/** What the handler needs. */
export interface DoctorHandlerDependencies {
  readonly dynamodb: SdkClient;
  readonly s3: SdkClient;
  /** @default one JSON line on stdout */
  readonly log?: LogSink;
  /** @default process.env */
  readonly env?: Record<string, string | undefined>;
}

/** The summary an invocation returns (the log has the findings). */
export type DoctorSummary = Omit<DoctorReport, 'findings'>;

/** The subset of the Lambda context the handler reads. */
export interface DoctorContext {
  readonly awsRequestId?: string;
  getRemainingTimeInMillis?(): number;
}

/** The doctor's handler. */
export type DoctorHandler = (event: unknown, context?: DoctorContext) => Promise<DoctorSummary>;

/** Creates the doctor's handler. */
export function createDoctorHandler(deps: DoctorHandlerDependencies): DoctorHandler {
  const log = deps.log ?? jsonLog;
  return async (_event, context) => {
    const env = deps.env ?? process.env;
    const config = configFromEnv(env);
    const minAge = env[DOCTOR_ENV.minAgeMs];
    const minAgeMs = minAge === undefined || minAge === '' ? undefined : Number(minAge);
    if (minAgeMs !== undefined && !Number.isSafeInteger(minAgeMs)) {
      throw new Error(`${DOCTOR_ENV.minAgeMs} must be a whole number of milliseconds, got ${JSON.stringify(minAge)}`);
    }
    const controller = new AbortController();
    const remaining = context?.getRemainingTimeInMillis?.();
    const timer = remaining === undefined ? undefined : setTimeout(() => controller.abort(), Math.max(0, remaining - DOCTOR_RESERVE_MS));
    let report: DoctorReport;
    try {
      report = await runDoctor({ config, dynamodb: deps.dynamodb, s3: deps.s3, repair: false, minAgeMs, signal: controller.signal });
    } catch (e) {
      const error = e as Error;
      log({ level: 'error', msg: 'doctor scan failed', requestId: context?.awsRequestId, error: { name: error?.name, message: error?.message } });
      throw e;
    } finally {
      clearTimeout(timer);
    }
    for (const entry of doctorMetricEntries(report)) {
      log({ ...entry, msg: 'doctor metric' });
    }
    const { findings, ...summary } = report;
    log({
      level: report.healthy ? 'info' : 'warn',
      msg: report.healthy ? 'doctor found no drift' : 'doctor found drift',
      requestId: context?.awsRequestId,
      ...summary,
      findings: findings.slice(0, LOGGED_FINDINGS),
    });
    return summary;
  };
}
