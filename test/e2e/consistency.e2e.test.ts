/**
 * The randomized consistency test: concurrent clients run seeded schedules of create, put,
 * put with expectedRevision, updateParts, delete and get over a few items, through fault
 * proxies that lose replies, reset, hang, refuse, throttle and delay requests to DynamoDB
 * and S3; then the reconciler handles every S3 event and the checker holds the history, the
 * table's stream and the store at rest to invariants I1 to I5 (docs/PROTOCOL.md).
 *
 * Replay one seed: SPLIT_STORE_SEED=<seed> npx jest test/e2e/consistency.e2e.test.ts
 * The long run: npx projen bench:consistency (100,000 operations).
 */
import { ConsistencyRig, formatViolations, runConsistency, startConsistencyRig, summarizeViolations } from '../support/consistency/driver';
import { seedsFromEnv } from '../support/consistency/workload';

const SEEDS = seedsFromEnv([1, 2, 3, 4, 5]);
/** Operations per seed: 5 seeds × 400 = 2,000 operations in all. */
const OPS_PER_SEED = 400;
/** One seed is hundreds of operations against the servers, not a unit test's handful. */
const SEED_TIMEOUT_MS = 10 * 60_000;

describe('randomized consistency under injected faults', () => {
  let rig: ConsistencyRig;

  beforeAll(async () => {
    rig = await startConsistencyRig();
  });

  afterAll(async () => {
    await rig?.stop();
  });

  test.each(SEEDS)(`seed %i: ${OPS_PER_SEED} operations by 6 clients (1 through the reader bundle) keep I1 to I5`, async (seed) => {
    const result = await runConsistency(rig, { seed, ops: OPS_PER_SEED });
    const faults = Object.entries(result.faults).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
    process.stdout.write(`consistency seed ${seed}: ${result.ops.length} operations in ${Math.round(result.durationMs)} ms, `
      + `faults injected: ${faults}; ${result.streamRecords} committed changes, ${result.reconcile.events} S3 events reconciled; `
      + `violations: ${summarizeViolations(result.violations)}\n`);
    // The run must have exercised what it claims to: faults, and conditional writes that won and lost.
    expect(result.ops).toHaveLength(OPS_PER_SEED);
    expect(result.faults.applyThen500).toBeGreaterThan(0);
    if (result.violations.length > 0) {
      throw new Error(formatViolations(result, `SPLIT_STORE_SEED=${seed} npx jest test/e2e/consistency.e2e.test.ts`));
    }
  }, SEED_TIMEOUT_MS);
});
