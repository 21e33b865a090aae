/**
 * Injected latency shared by the versioned S3 test server and the fault proxy:
 * a base delay per operation plus uniform jitter, reproducible when seeded.
 */

/** How much latency to inject. All values in milliseconds. */
export interface LatencyOptions {
  /** Delay for every operation not listed in `perOp`. @default 0 */
  readonly default?: number;
  /** Delay per operation name (S3: 'GetObject', DynamoDB: 'GetItem', ...). */
  readonly perOp?: Readonly<Record<string, number>>;
  /**
   * Each delay is drawn uniformly from [base - jitterMs, base + jitterMs], never below 0,
   * so the mean stays at the base. @default 0
   */
  readonly jitterMs?: number;
  /** Seed of the PRNG that draws the jitter; unseeded draws use Math.random. */
  readonly seed?: number;
}

/** mulberry32: a small, fast, deterministic 32-bit PRNG returning floats in [0, 1). */
/* eslint-disable no-bitwise -- a PRNG is bit arithmetic */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
/* eslint-enable no-bitwise */

/** Draws delays for operations according to a {@link LatencyOptions}. */
export class LatencyInjector {
  private options: LatencyOptions = {};
  private random: () => number = Math.random;

  /** Replaces the current settings (and reseeds the PRNG when `seed` is given). */
  public set(options: LatencyOptions): void {
    for (const [name, value] of Object.entries({ default: options.default, jitterMs: options.jitterMs, ...options.perOp })) {
      if (value !== undefined && (!Number.isFinite(value) || value < 0)) {
        throw new Error(`latency ${name} must be a non-negative number of milliseconds, got ${value}`);
      }
    }
    this.options = { ...options, perOp: { ...options.perOp } };
    this.random = options.seed === undefined ? Math.random : mulberry32(options.seed);
  }

  /** The delay to inject before answering `operation`, in milliseconds. */
  public delayFor(operation: string): number {
    const base = this.options.perOp?.[operation] ?? this.options.default ?? 0;
    const jitter = this.options.jitterMs ?? 0;
    if (base === 0 && jitter === 0) return 0;
    return Math.max(0, base + (this.random() * 2 - 1) * jitter);
  }
}

/** Resolves after `ms` milliseconds (immediately, without a timer, when ms is 0). */
export function delay(ms: number): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => setTimeout(resolve, ms));
}
