/**
 * The reconciler Lambda: SQS messages carrying the bucket's ObjectCreated and ObjectRemoved
 * notifications, each event's part key brought back to "the pinned version is current"
 * (docs/PROTOCOL.md, section 9). The logic is in src/runtime/reconciler-handler.ts and
 * src/runtime/reconcile.ts.
 */
import type { SQSBatchResponse, SQSEvent, Context } from 'aws-lambda';
import { configFromEnv } from './runtime/config';
import { sdkClientsFromEnv } from './runtime/handler-clients';
import { jsonLog } from './runtime/handler-log';
import { createReconcilerHandler, ReconcilerHandler } from './runtime/reconciler-handler';
import { SplitStoreClient } from './runtime/store';

// Module scope: one set of clients per execution environment, reused by every invocation.
const clients = sdkClientsFromEnv();
let reconciler: ReconcilerHandler | undefined;

export const handler = async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
  // Built on the first batch, so the bundle loads without the store's environment.
  if (!reconciler) {
    const config = configFromEnv();
    reconciler = createReconcilerHandler(new SplitStoreClient({ config, ...clients, log: jsonLog }), { tableName: config.tableName });
  }
  return reconciler(event, context);
};
