/**
 * The reference reader Lambda: split reads streamed as NDJSON over a Function URL (invoke
 * mode RESPONSE_STREAM), writes, deletes, lists and presigned URLs, and the same operations
 * as plain JSON invocations. The logic is in src/runtime/handler.ts.
 */
import { configFromEnv } from './runtime/config';
import { createLazyReaderHandler, jsonLog, streamOptionsFromEnv } from './runtime/handler';
import { sdkClientsFromEnv } from './runtime/handler-clients';
import { SplitStoreClient } from './runtime/store';

// Module scope: one set of clients per execution environment, reused by every invocation.
const clients = sdkClientsFromEnv();

export const handler = awslambda.streamifyResponse(createLazyReaderHandler(() => {
  const config = configFromEnv();
  return {
    store: new SplitStoreClient({ config, ...clients, log: jsonLog }),
    options: { config, ...streamOptionsFromEnv() },
  };
}));
