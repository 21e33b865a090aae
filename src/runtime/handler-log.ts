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

import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * A structured log sink: one JSON object per call. Every entry of the runtime has the same
 * shape, `{ level, msg, ... }` (handler, store and reconciler alike), so one log stream has
 * one format.
 */
export type LogSink = (entry: Record<string, unknown>) => void;

const context = new AsyncLocalStorage<Record<string, unknown>>();

/**
 * Runs `fn` with fields (the request id) that {@link jsonLog} adds to every entry logged
 * while it runs, however deep in the store: so an AWS error logged there carries the id the
 * caller was given.
 */
export function withLogContext<T>(fields: Record<string, unknown>, fn: () => T): T {
  return context.run(fields, fn);
}

/** Logs one JSON line on stdout, with the fields of the current {@link withLogContext}. */
export const jsonLog: LogSink = (entry) => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...context.getStore(), ...entry })}\n`);
};
