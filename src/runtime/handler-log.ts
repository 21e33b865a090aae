/**
 * Structured logging for the Lambda entry points: one JSON object per line on stdout.
 *
 * Written with `process.stdout.write`, not `console.log`: the Lambda Node.js runtime prefixes
 * console output with a timestamp, request id and level in its text log format, and wraps it
 * in its own JSON document in the JSON log format. A bare JSON line is the same in both, so
 * CloudWatch Logs Insights parses it and CloudWatch extracts Embedded Metric Format entries
 * from it (the approach of the EMF client library for the JSON log format).
 *
 * No CDK import here: this module is bundled into the Lambda assets.
 */

/** A structured log sink: one JSON object per call. */
export type LogSink = (entry: Record<string, unknown>) => void;

/** Logs one JSON line on stdout. */
export const jsonLog: LogSink = (entry) => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
};
