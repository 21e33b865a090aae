/**
 * Benchmark options from the command line (`--reads=300` or `--reads 300`) or the
 * environment (`BENCH_READS=300`); the command line wins.
 */

/** Reads a benchmark's options. */
export class BenchArgs {
  private readonly flags = new Map<string, string>();

  constructor(argv: readonly string[] = process.argv.slice(2), private readonly env: NodeJS.ProcessEnv = process.env) {
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i];
      if (!arg.startsWith('--')) throw new Error(`unexpected argument ${JSON.stringify(arg)}: options look like --name=value`);
      const eq = arg.indexOf('=');
      if (eq > 0) {
        this.flags.set(arg.slice(2, eq), arg.slice(eq + 1));
      } else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) {
        this.flags.set(arg.slice(2), argv[++i]);
      } else {
        this.flags.set(arg.slice(2), 'true');
      }
    }
  }

  /** The raw value of option `name` (flag `--name`, else env `BENCH_NAME` with dashes as underscores). */
  public raw(name: string): string | undefined {
    return this.flags.get(name) ?? this.env[`BENCH_${name.replace(/-/g, '_').toUpperCase()}`];
  }

  /** A number option; refuses anything that is not a finite number >= min. */
  public number(name: string, fallback: number, min = 0): number {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min) {
      throw new Error(`--${name} must be a number >= ${min}, got ${JSON.stringify(raw)}`);
    }
    return value;
  }

  /** An integer option >= min. */
  public integer(name: string, fallback: number, min = 1): number {
    const value = this.number(name, fallback, min);
    if (!Number.isInteger(value)) throw new Error(`--${name} must be a whole number, got ${value}`);
    return value;
  }

  /** A comma-separated list of integers (e.g. `--stores=1,10,50`). */
  public integers(name: string, fallback: readonly number[]): number[] {
    const raw = this.raw(name);
    if (raw === undefined) return [...fallback];
    return raw.split(',').map((part) => {
      const value = Number(part.trim());
      if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be whole numbers >= 1, got ${JSON.stringify(raw)}`);
      return value;
    });
  }

  /** A string option. */
  public string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  /** A boolean flag: present (or 'true'/'1') is true. */
  public flag(name: string): boolean {
    const raw = this.raw(name);
    return raw === 'true' || raw === '1' || raw === '';
  }
}
