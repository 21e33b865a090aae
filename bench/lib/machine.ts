/**
 * The machine a benchmark ran on, printed above every table: numbers from a 2-core
 * shared VM and from a laptop are not the same numbers.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';

/** What the benchmark output says about the machine. */
export interface MachineInfo {
  readonly cpuModel: string;
  /** Logical CPUs available to this process. */
  readonly cpus: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  /** 1-minute load average when the benchmark started (a busy machine gives noisier numbers). */
  readonly loadAverage1m: number;
  /** ISO 8601, UTC. */
  readonly date: string;
}

/** Reads the machine description (CPU model from /proc/cpuinfo where it exists). */
export function machineInfo(): MachineInfo {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (match) cpuModel = match[1].trim();
  } catch {
    // not Linux: keep os.cpus()'s model
  }
  return {
    cpuModel,
    cpus: typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverage1m: Math.round(os.loadavg()[0] * 100) / 100,
    date: new Date().toISOString(),
  };
}

/** The commit the benchmark ran on ("abc1234", "+ local changes" when the tree differs), or 'unknown'. */
export function codeVersion(cwd: string = process.cwd()): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src', 'bench'], {
      cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return dirty ? `${commit} + local changes in src/ or bench/` : commit;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

/** The machine header every benchmark prints before its table(s). */
export function machineHeader(title: string, command: string): string {
  const m = machineInfo();
  return [
    `### ${title}`,
    '',
    `- command: \`${command}\``,
    `- date: ${m.date}; code: commit ${codeVersion()}`,
    `- machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB RAM, ${m.platform}`,
    `- node: ${m.node}; load average (1 min) at start: ${m.loadAverage1m}`,
  ].join('\n');
}
