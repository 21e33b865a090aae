/**
 * The seeded workload of a consistency run: what each client does at each step, and the
 * faults its proxies inject. Pure: the same seed plans the same operations (which item,
 * which parts, conditional or not, stale or not), whatever the interleaving; what an
 * operation then meets (revisions, conflicts, faults drawn per request) depends on the
 * interleaving of the clients and may differ between two runs of one seed.
 */
import type { FaultRule } from '../fault-proxy';
import { mulberry32 } from '../latency';
import type { OpKind } from './history';

/** Relative weights of the operations. */
export const DEFAULT_WEIGHTS: Readonly<Record<OpKind, number>> = {
  create: 8,
  put: 12,
  putIf: 14,
  update: 10,
  updateIf: 10,
  delete: 5,
  deleteIf: 6,
  get: 30,
  list: 5,
};

/** What a workload writes and how. */
export interface WorkloadShape {
  /** Item ids (a small key space, so that writers contend). */
  readonly items: readonly string[];
  /** Part names. */
  readonly parts: readonly string[];
  readonly weights?: Readonly<Record<OpKind, number>>;
  /** Share of conditional operations that use an older observation of the row on purpose. @default 0.25 */
  readonly staleRate?: number;
  /** Largest padding of a part body, in bytes. @default 2048 */
  readonly maxPadding?: number;
}

/** One planned operation. */
export interface PlannedOp {
  readonly kind: OpKind;
  readonly item: string;
  /** Writes: the parts to write (each with its padding); reads: the parts to ask for. */
  readonly parts: ReadonlyArray<{ readonly name: string; readonly padding: number }>;
  /** Updates: parts to remove (never one of `parts`). */
  readonly remove: readonly string[];
  /** Reads: every pinned part (`parts` unused). */
  readonly allParts: boolean;
  /** Conditional kinds: use an older observation of the row than the latest. */
  readonly stale: boolean;
  /** Which older observation (an index into the older ones, modulo their number). */
  readonly staleIndex: number;
}

/* eslint-disable no-bitwise -- seed mixing is bit arithmetic */
/** A 32-bit seed for the PRNG of one step of one client. */
export function stepSeed(seed: number, client: number, step: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (client + 0x632be5ab), 0xc2b2ae35);
  h = Math.imul(h ^ (step + 0x1b873593), 0x27d4eb2f);
  return (h ^ (h >>> 15)) >>> 0;
}
/* eslint-enable no-bitwise */

/** Plans step `step` of client `client` of the run of `seed`. */
export function planOp(seed: number, client: number, step: number, shape: WorkloadShape): PlannedOp {
  const random = mulberry32(stepSeed(seed, client, step));
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const weights = shape.weights ?? DEFAULT_WEIGHTS;
  const kinds = Object.keys(weights) as OpKind[];
  const total = kinds.reduce((sum, k) => sum + weights[k], 0);
  let draw = random() * total;
  let kind = kinds[kinds.length - 1];
  for (const k of kinds) {
    draw -= weights[k];
    if (draw < 0) {
      kind = k;
      break;
    }
  }
  const item = pick(shape.items);
  // A shuffled copy of the part names: the first n are written (or read), the next removed.
  const order = [...shape.parts];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const maxPadding = shape.maxPadding ?? 2048;
  const isUpdate = kind === 'update' || kind === 'updateIf';
  const count = 1 + Math.floor(random() * (isUpdate ? Math.min(2, order.length) : order.length));
  const parts = order.slice(0, count).map((name) => ({ name, padding: Math.floor(random() * (maxPadding + 1)) }));
  const removeDraw = random();
  const remove = isUpdate && count < order.length && removeDraw < 0.35 ? [order[count]] : [];
  const readDraw = random();
  return {
    kind,
    item,
    // A read asks for every pinned part, for some named parts (maybe unpinned ones), or for the index row only.
    parts: kind === 'get' && readDraw >= 0.85 ? [] : parts,
    remove,
    allParts: kind === 'get' && readDraw < 0.35,
    stale: random() < (shape.staleRate ?? 0.25),
    staleIndex: Math.floor(random() * 1024),
  };
}

/** Operations that change a DynamoDB row. */
export const MUTATING_DYNAMODB_OPERATIONS: ReadonlySet<string> = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'TransactWriteItems', 'BatchWriteItem']);
const DYNAMODB_WRITES = [...MUTATING_DYNAMODB_OPERATIONS];
const DYNAMODB_READS = ['GetItem', 'Query', 'Scan'];

/** Options of {@link faultRules}. */
export interface FaultMix {
  /** Multiplies every probability (0: no faults). @default 1 */
  readonly rate?: number;
  /**
   * The client's own socket timeout. With one, the mix includes requests that are never
   * answered (hang) and requests delivered only after the client gave up on them (late);
   * without one, neither (the client would wait for ever).
   */
  readonly clientTimeoutMs?: number;
}

/**
 * The random faults of one client's proxies: probabilities per request, favouring the
 * faults that make a protocol's outcomes ambiguous (a write applied and its reply lost, or
 * delivered after the writer stopped waiting for it).
 */
export function faultRules(mix: FaultMix = {}): { readonly dynamodb: FaultRule[]; readonly s3: FaultRule[] } {
  const rate = mix.rate ?? 1;
  if (rate <= 0) return { dynamodb: [], s3: [] };
  const p = (base: number) => Math.min(1, base * rate);
  const timeout = mix.clientTimeoutMs;
  /** Faults only a client with a timeout survives: a hang, and a delivery after it gave up. */
  const patient = (operation: string[], probabilities: { readonly hang?: number; readonly late: number }): FaultRule[] => {
    if (timeout === undefined) return [];
    const late: FaultRule = { name: `${operation[0]} delivered late`, operation, fault: 'delay', delayMs: timeout + 500, probability: p(probabilities.late) };
    if (probabilities.hang === undefined) return [late];
    return [{ name: `${operation[0]} applied, hang`, operation, fault: 'applyThenHang', probability: p(probabilities.hang) }, late];
  };
  const dynamodb: FaultRule[] = [
    { name: 'ddb write applied, 500', operation: DYNAMODB_WRITES, fault: 'applyThen500', probability: p(0.05) },
    { name: 'ddb write applied, reset', operation: DYNAMODB_WRITES, fault: 'applyThenReset', probability: p(0.02) },
    ...patient(DYNAMODB_WRITES, { hang: 0.01, late: 0.005 }),
    { name: 'ddb write refused, 500', operation: DYNAMODB_WRITES, fault: 'failBeforeApply', probability: p(0.02) },
    { name: 'ddb write throttled', operation: DYNAMODB_WRITES, fault: 'failBeforeApply', error: 'throttling', probability: p(0.01) },
    { name: 'ddb write reset', operation: DYNAMODB_WRITES, fault: 'resetBeforeApply', probability: p(0.01) },
    { name: 'ddb write slow', operation: DYNAMODB_WRITES, fault: 'delay', delayMs: 20, delayAfterMs: 20, probability: p(0.05) },
    { name: 'ddb read refused, 503', operation: DYNAMODB_READS, fault: 'failBeforeApply', error: 'unavailable', probability: p(0.02) },
    { name: 'ddb read reset', operation: DYNAMODB_READS, fault: 'applyThenReset', probability: p(0.01) },
    { name: 'ddb read slow', operation: DYNAMODB_READS, fault: 'delay', delayMs: 20, probability: p(0.05) },
  ];
  const s3: FaultRule[] = [
    { name: 's3 put applied, 500', operation: 'PutObject', fault: 'applyThen500', probability: p(0.02) },
    { name: 's3 put applied, reset', operation: 'PutObject', fault: 'applyThenReset', probability: p(0.01) },
    { name: 's3 put refused, 500', operation: 'PutObject', fault: 'failBeforeApply', probability: p(0.02) },
    { name: 's3 put reset', operation: 'PutObject', fault: 'resetBeforeApply', probability: p(0.01) },
    { name: 's3 put slow', operation: 'PutObject', fault: 'delay', delayMs: 30, delayAfterMs: 30, probability: p(0.05) },
    { name: 's3 delete applied, 500', operation: ['DeleteObject', 'DeleteObjects'], fault: 'applyThen500', probability: p(0.03) },
    { name: 's3 delete applied, reset', operation: ['DeleteObject', 'DeleteObjects'], fault: 'applyThenReset', probability: p(0.02) },
    ...patient(['DeleteObject', 'DeleteObjects'], { hang: 0.005, late: 0.005 }),
    ...patient(['PutObject'], { late: 0.005 }),
    { name: 's3 delete refused, 503', operation: ['DeleteObject', 'DeleteObjects'], fault: 'failBeforeApply', error: 'throttling', probability: p(0.03) },
    { name: 's3 read refused, 500', operation: ['GetObject', 'HeadObject'], fault: 'failBeforeApply', probability: p(0.02) },
    { name: 's3 read reset', operation: ['GetObject', 'HeadObject'], fault: 'applyThenReset', probability: p(0.01) },
    { name: 's3 read slow', operation: ['GetObject', 'HeadObject'], fault: 'delay', delayMs: 30, probability: p(0.05) },
  ];
  return { dynamodb, s3 };
}

/** Environment variable that replays seeds: `SPLIT_STORE_SEED=7` or `SPLIT_STORE_SEED=7,8`. */
export const SEED_ENV = 'SPLIT_STORE_SEED';

/** Seeds from SPLIT_STORE_SEED (`7` or `7,8,9`), else the defaults. */
export function seedsFromEnv(defaults: readonly number[], env: NodeJS.ProcessEnv = process.env): number[] {
  const raw = env[SEED_ENV];
  if (raw === undefined || raw.trim() === '') return [...defaults];
  return raw.split(',').map((part) => {
    const seed = Number(part.trim());
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`${SEED_ENV} must be whole numbers >= 0, separated by commas; got ${JSON.stringify(raw)}`);
    return seed;
  });
}
