import { BenchArgs } from '../../bench/lib/args';
import { bootstrapInterval, mean, median, pairedRatios, percentile, ratio, summarize } from '../../bench/lib/stats';
import { bytes, ms, renderTable, times } from '../../bench/lib/table';

describe('percentile', () => {
  test('interpolates linearly between the closest ranks (type 7)', () => {
    // GIVEN 1..10 (unsorted on purpose)
    const samples = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5];
    // THEN rank = p/100 * (n - 1)
    expect(percentile(samples, 0)).toBe(1);
    expect(percentile(samples, 100)).toBe(10);
    expect(percentile(samples, 50)).toBeCloseTo(5.5, 10);
    expect(percentile(samples, 95)).toBeCloseTo(9.55, 10);
    expect(percentile(samples, 25)).toBeCloseTo(3.25, 10);
  });

  test('p95 of 1..200 lies between the 190th and 191st values', () => {
    const samples = Array.from({ length: 200 }, (_, i) => i + 1);
    expect(percentile(samples, 95)).toBeCloseTo(190.05, 10);
  });

  test('a single sample is every percentile', () => {
    expect(percentile([42], 5)).toBe(42);
    expect(percentile([42], 95)).toBe(42);
  });

  test('does not reorder the caller\'s array', () => {
    const samples = [3, 1, 2];
    percentile(samples, 50);
    expect(samples).toEqual([3, 1, 2]);
  });

  test('fails when there are no samples', () => {
    expect(() => percentile([], 50)).toThrow(/no samples/);
  });

  test('fails when p is outside 0..100', () => {
    expect(() => percentile([1], 101)).toThrow(/between 0 and 100, got 101/);
    expect(() => percentile([1], -1)).toThrow(/between 0 and 100, got -1/);
  });

  test('fails when a sample is not a finite number', () => {
    expect(() => percentile([1, NaN], 50)).toThrow(/not a finite number: NaN/);
    expect(() => percentile([1, Infinity], 50)).toThrow(/not a finite number: Infinity/);
  });
});

describe('median and mean', () => {
  test('median of an even sample is the mean of the two middle values', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  test('median of an odd sample is the middle value', () => {
    expect(median([5, 1, 100])).toBe(5);
  });

  test('mean', () => {
    expect(mean([1, 2, 3, 10])).toBe(4);
    expect(() => mean([])).toThrow(/no samples/);
  });
});

describe('summarize', () => {
  test('n, min, p50, p95, max, mean', () => {
    const samples = Array.from({ length: 21 }, (_, i) => 20 - i); // 20..0
    expect(summarize(samples)).toEqual({ n: 21, min: 0, p50: 10, p95: 19, max: 20, mean: 10 });
  });
});

describe('ratio', () => {
  test('divides', () => {
    expect(ratio(9, 4)).toBe(2.25);
  });

  test('fails when the denominator is zero or not finite', () => {
    expect(() => ratio(1, 0)).toThrow(/cannot divide 1 by 0/);
    expect(() => ratio(NaN, 1)).toThrow(/cannot divide NaN by 1/);
  });

  test('paired ratios are element-wise', () => {
    expect(pairedRatios([10, 30], [5, 20])).toEqual([2, 1.5]);
    expect(() => pairedRatios([1], [1, 2])).toThrow(/differ in length: 1 and 2/);
  });
});

describe('bootstrapInterval', () => {
  test('a constant sample has a zero-width interval at its value', () => {
    expect(bootstrapInterval([3, 3, 3, 3])).toEqual({ estimate: 3, low: 3, high: 3 });
  });

  test('the interval contains the estimate and lies within the sample\'s range', () => {
    const samples = Array.from({ length: 41 }, (_, i) => i); // 0..40, median 20
    const interval = bootstrapInterval(samples);
    expect(interval.estimate).toBe(20);
    expect(interval.low).toBeLessThanOrEqual(20);
    expect(interval.high).toBeGreaterThanOrEqual(20);
    expect(interval.low).toBeGreaterThan(10);
    expect(interval.high).toBeLessThan(30);
  });

  test('is reproducible with a seed and changes with another seed', () => {
    const samples = [5, 1, 9, 3, 7, 2, 8, 4, 6, 10, 15, 0];
    expect(bootstrapInterval(samples, median, { seed: 7 })).toEqual(bootstrapInterval(samples, median, { seed: 7 }));
    const a = bootstrapInterval(samples, median, { seed: 1, iterations: 50 });
    const b = bootstrapInterval(samples, median, { seed: 2, iterations: 50 });
    expect([a.low, a.high]).not.toEqual([b.low, b.high]);
  });

  test('a clearly positive shift gives an interval above zero; a symmetric one contains zero', () => {
    const shifted = Array.from({ length: 30 }, (_, i) => 5 + (i % 5) - 2); // 3..7
    expect(bootstrapInterval(shifted).low).toBeGreaterThan(0);
    const centred = Array.from({ length: 30 }, (_, i) => (i % 5) - 2); // -2..2
    const interval = bootstrapInterval(centred);
    expect(interval.low).toBeLessThanOrEqual(0);
    expect(interval.high).toBeGreaterThanOrEqual(0);
  });

  test('fails when the options are out of range', () => {
    expect(() => bootstrapInterval([1], median, { iterations: 0 })).toThrow(/iterations must be a whole number >= 1, got 0/);
    expect(() => bootstrapInterval([1], median, { confidence: 1 })).toThrow(/confidence must be in \(0, 1\), got 1/);
    expect(() => bootstrapInterval([], median)).toThrow(/no samples/);
  });
});

describe('renderTable', () => {
  test('pads columns and right-aligns numeric columns', () => {
    const table = renderTable(['case', { header: 'p50 ms', align: 'right' }], [['sequential', '45.2'], ['split', '5.1']]);
    expect(table.split('\n')).toEqual([
      '| case       | p50 ms |',
      '|------------|-------:|',
      '| sequential |   45.2 |',
      '| split      |    5.1 |',
    ]);
  });

  test('escapes pipes inside cells', () => {
    expect(renderTable(['a'], [['x|y']])).toContain('x\\|y');
  });

  test('formats milliseconds, ratios and sizes', () => {
    expect(ms(12.345)).toBe('12.3');
    expect(times(1.074)).toBe('1.07×');
    expect(bytes(1023)).toBe('1023 B');
    expect(bytes(1536)).toBe('1.5 KiB');
  });

  test('fails when a row has the wrong number of cells', () => {
    expect(() => renderTable(['a', 'b'], [['1']])).toThrow(/row 0 has 1 cells, the table has 2 columns/);
  });
});

describe('BenchArgs', () => {
  test('reads --name=value, --name value, and BENCH_NAME from the environment; flags win', () => {
    const args = new BenchArgs(['--reads=300', '--s3-ms', '60', '--quiet'], { BENCH_READS: '1', BENCH_DDB_MS: '7' });
    expect(args.integer('reads', 200)).toBe(300);
    expect(args.number('s3-ms', 40)).toBe(60);
    expect(args.number('ddb-ms', 5)).toBe(7);
    expect(args.number('jitter-ms', 2)).toBe(2);
    expect(args.flag('quiet')).toBe(true);
  });

  test('parses integer lists', () => {
    expect(new BenchArgs(['--stores=1,10,50'], {}).integers('stores', [1])).toEqual([1, 10, 50]);
  });

  test('fails when a value is not a number', () => {
    expect(() => new BenchArgs(['--reads=lots'], {}).integer('reads', 200)).toThrow(/--reads must be a number >= 1, got "lots"/);
    expect(() => new BenchArgs(['--reads=2.5'], {}).integer('reads', 200)).toThrow(/--reads must be a whole number/);
    expect(() => new BenchArgs(['reads'], {})).toThrow(/unexpected argument "reads"/);
  });
});
