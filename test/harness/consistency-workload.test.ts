/**
 * The seeded workload of the consistency run (test/support/consistency/workload.ts) and its
 * seed parsing: a seed plans the same schedule every time, whatever happens when it runs.
 */
import { faultRules, planOp, seedsFromEnv, WorkloadShape } from '../support/consistency/workload';

const shape: WorkloadShape = { items: ['k0', 'k1', 'k2', 'k3'], parts: ['a', 'b', 'c'] };
const schedule = (seed: number, client: number) => Array.from({ length: 200 }, (_, step) => planOp(seed, client, step, shape));

describe('consistency workload', () => {
  test('a seed plans the same schedule twice; another seed or client plans another', () => {
    expect(schedule(7, 0)).toEqual(schedule(7, 0));
    expect(schedule(8, 0)).not.toEqual(schedule(7, 0));
    expect(schedule(7, 1)).not.toEqual(schedule(7, 0));
  });

  test('every kind, item and part occurs, and an update never removes a part it writes', () => {
    const plans = [0, 1, 2, 3, 4, 5].flatMap((client) => schedule(3, client));
    expect(new Set(plans.map((p) => p.kind))).toEqual(new Set(['create', 'put', 'putIf', 'update', 'updateIf', 'delete', 'deleteIf', 'get', 'list']));
    expect(new Set(plans.map((p) => p.item))).toEqual(new Set(shape.items));
    expect(new Set(plans.flatMap((p) => p.parts.map((q) => q.name)))).toEqual(new Set(shape.parts));
    for (const plan of plans) {
      const written = plan.parts.map((p) => p.name);
      expect(plan.remove.filter((name) => written.includes(name))).toEqual([]);
      if (plan.kind !== 'update' && plan.kind !== 'updateIf') expect(plan.remove).toEqual([]);
    }
    expect(plans.some((p) => p.remove.length > 0)).toBe(true);
    expect(plans.some((p) => p.stale)).toBe(true);
  });

  test('fault rules: none at rate 0; hangs and late deliveries only for a client with a timeout', () => {
    expect(faultRules({ rate: 0 })).toEqual({ dynamodb: [], s3: [] });
    const patient = faultRules({ clientTimeoutMs: 2000 });
    const rules = [...patient.dynamodb, ...patient.s3];
    expect(rules.some((r) => r.fault === 'applyThenHang')).toBe(true);
    expect(rules.filter((r) => r.name?.endsWith('delivered late')).map((r) => r.delayMs)).toEqual([2500, 2500, 2500]);
    const impatient = faultRules();
    expect([...impatient.dynamodb, ...impatient.s3].some((r) => r.fault === 'applyThenHang' || (r.delayMs ?? 0) > 100)).toBe(false);
    expect(faultRules({ rate: 100 }).dynamodb.every((r) => r.probability === 1)).toBe(true);
  });
});

describe('seedsFromEnv', () => {
  test('reads one seed or a list from SPLIT_STORE_SEED, else the defaults', () => {
    expect(seedsFromEnv([1, 2], {})).toEqual([1, 2]);
    expect(seedsFromEnv([1, 2], { SPLIT_STORE_SEED: '42' })).toEqual([42]);
    expect(seedsFromEnv([1, 2], { SPLIT_STORE_SEED: '4, 5,6' })).toEqual([4, 5, 6]);
  });

  test('fails on something that is not a seed, naming the variable', () => {
    expect(() => seedsFromEnv([1], { SPLIT_STORE_SEED: 'x' })).toThrow('SPLIT_STORE_SEED must be whole numbers >= 0, separated by commas; got "x"');
  });
});
