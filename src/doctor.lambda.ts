/**
 * The doctor's scheduled function: a read-only scan of the store for drift (dangling pins,
 * pinned noncurrent versions, orphans the reconciler missed, rows of an unknown protocol
 * version), its counts published as metrics. The logic is in src/runtime/doctor.ts and
 * src/runtime/doctor-handler.ts.
 */
import { createDoctorHandler } from './runtime/doctor-handler';
import { sdkClientsFromEnv } from './runtime/handler-clients';

// Module scope: one set of clients per execution environment, reused by every invocation.
export const handler = createDoctorHandler(sdkClientsFromEnv());
