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
