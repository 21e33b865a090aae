/**
 * Statistics for the benchmarks: percentiles, summaries and ratios of samples.
 *
 * One percentile definition everywhere: linear interpolation between the two closest
 * ranks (Hyndman & Fan type 7, the default of numpy, R and Excel's PERCENTILE.INC), so
 * that p50 is the usual median (the mean of the two middle values of an even sample).
 */

/**
 * The p-th percentile of `samples` (0 <= p <= 100), by linear interpolation between
 * the closest ranks. Throws on an empty sample, on a non-finite sample value and on a
 * p outside [0, 100]: a benchmark that measured nothing must not print a number.
 */
export function percentile(samples: readonly number[], p: number): number {
  if (!Number.isFinite(p) || p < 0 || p > 100) {
    throw new RangeError(`percentile must be between 0 and 100, got ${p}`);
  }
  const sorted = sortedCopy(samples);
  const rank = (p / 100) * (sorted.length - 1);
  const lower = Math.floor(rank);
  const upper = Math.ceil(rank);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (rank - lower);
}

/** The median: the 50th percentile (the mean of the two middle values of an even sample). */
export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

/** The arithmetic mean. Throws on an empty sample. */
export function mean(samples: readonly number[]): number {
  const sorted = sortedCopy(samples);
  return sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
}

/** What the benchmark tables print about one series of measurements. */
export interface Summary {
  /** Number of samples. */
  readonly n: number;
  readonly min: number;
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
  readonly mean: number;
}

/** n, min, p50, p95, max and mean of `samples`. Throws on an empty sample. */
export function summarize(samples: readonly number[]): Summary {
  const sorted = sortedCopy(samples);
  return {
    n: sorted.length,
    min: sorted[0],
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    max: sorted[sorted.length - 1],
    mean: mean(sorted),
  };
}

/**
 * `numerator / denominator`, refusing a zero or non-finite denominator instead of
 * printing Infinity or NaN as if it were a measurement.
 */
export function ratio(numerator: number, denominator: number): number {
  if (!Number.isFinite(numerator) || !Number.isFinite(denominator) || denominator === 0) {
    throw new RangeError(`cannot divide ${numerator} by ${denominator}`);
  }
  return numerator / denominator;
}

/**
 * Element-wise ratios of two paired series (e.g. each read's time to the index row over
 * the DynamoDB request it made), for percentiles of the ratio itself.
 */
export function pairedRatios(numerators: readonly number[], denominators: readonly number[]): number[] {
  if (numerators.length !== denominators.length) {
    throw new RangeError(`paired series differ in length: ${numerators.length} and ${denominators.length}`);
  }
  return numerators.map((value, i) => ratio(value, denominators[i]));
}

function sortedCopy(samples: readonly number[]): number[] {
  if (samples.length === 0) {
    throw new RangeError('no samples: the benchmark measured nothing');
  }
  for (const value of samples) {
    if (!Number.isFinite(value)) throw new RangeError(`sample is not a finite number: ${value}`);
  }
  return [...samples].sort((a, b) => a - b);
}

/** A statistic with its bootstrap confidence interval. */
export interface Interval {
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
}

/** Options of {@link bootstrapInterval}. */
export interface BootstrapOptions {
  /** Resamples. @default 2000 */
  readonly iterations?: number;
  /** Confidence level in (0, 1). @default 0.95 */
  readonly confidence?: number;
  /** Seed of the resampling PRNG, so a printed interval can be reproduced. @default 1 */
  readonly seed?: number;
}

/**
 * Percentile bootstrap confidence interval of `statistic` (default: the median) over
 * `samples`: resamples with replacement, takes the statistic of each resample, and
 * returns the (1 - confidence) / 2 and (1 + confidence) / 2 percentiles of those.
 * Used to say whether a difference between two builds is larger than the noise: an
 * interval of paired differences that contains 0 means "no measurable difference".
 */
export function bootstrapInterval(
  samples: readonly number[],
  statistic: (values: readonly number[]) => number = median,
  options: BootstrapOptions = {},
): Interval {
  const data = sortedCopy(samples);
  const iterations = options.iterations ?? 2000;
  const confidence = options.confidence ?? 0.95;
  if (!Number.isInteger(iterations) || iterations < 1) throw new RangeError(`iterations must be a whole number >= 1, got ${iterations}`);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  const random = seededRandom(options.seed ?? 1);
  const estimates: number[] = [];
  const resample = new Array<number>(data.length);
  for (let i = 0; i < iterations; i++) {
    for (let j = 0; j < data.length; j++) resample[j] = data[Math.floor(random() * data.length)];
    estimates.push(statistic(resample));
  }
  return {
    estimate: statistic(data),
    low: percentile(estimates, ((1 - confidence) / 2) * 100),
    high: percentile(estimates, ((1 + confidence) / 2) * 100),
  };
}

/**
 * Park–Miller "minimal standard" PRNG (multiplier 48271, modulus 2^31 - 1): deterministic,
 * exact in double arithmetic (products stay below 2^53), floats in (0, 1).
 */
function seededRandom(seed: number): () => number {
  const modulus = 2147483647;
  let state = Math.abs(Math.floor(seed)) % modulus || 1;
  return () => {
    state = (state * 48271) % modulus;
    return (state - 1) / (modulus - 1);
  };
}
