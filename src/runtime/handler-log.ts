/**
 * Structured logging for the Lambda entry points: one JSON object per line on stdout, which
 * CloudWatch Logs stores as is (and Logs Insights parses without configuration).
 *
 * No CDK import here: this module is bundled into the Lambda assets.
 */

/** A structured log sink: one JSON object per call. */
export type LogSink = (entry: Record<string, unknown>) => void;

/** Logs one JSON line on stdout. */
export const jsonLog: LogSink = (entry) => {
  console.log(JSON.stringify({ time: new Date().toISOString(), ...entry }));
};
