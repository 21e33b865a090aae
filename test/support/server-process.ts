/**
 * A server run as a child process (DynamoDB Local's Java, moto's Python): started, polled
 * until it answers, stopped by its process id, and killed with the test process if a test
 * never calls stop() (a jest worker killed mid-run).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { waitFor } from './ports';

/** Options of {@link startServerProcess}. */
export interface ServerProcessOptions {
  /** Named in errors, e.g. 'DynamoDB Local on http://127.0.0.1:8000'. */
  readonly what: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  /** @default the test process's environment */
  readonly env?: NodeJS.ProcessEnv;
  /** Resolves truthy once the server answers; a throw or a falsy value means "not yet". */
  readonly ready: () => Promise<unknown>;
  /** Give up after this long. */
  readonly startTimeoutMs: number;
  /** Pause between two probes. @default 200 */
  readonly intervalMs?: number;
  /** Turns a spawn failure (ENOENT: no such executable) into the error the user sees. */
  readonly spawnError?: (error: Error) => Error;
}

/** A running server process. */
export interface ServerProcess {
  readonly pid: number;
  /** The last few KB the process wrote to stdout and stderr. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** Spawns the server and resolves once `ready` answers; kills it and rejects otherwise. */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const child = spawn(options.command, [...options.args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  // If the test process dies without calling stop() (a killed jest worker), take the server with it.
  const killOnExit = () => {
    if (running(child)) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    process.off('exit', killOnExit);
    resolve();
  }));
  let spawnError: Error | undefined;
  child.once('error', (e) => {
    spawnError = e;
  });

  try {
    await waitFor(options.ready, {
      timeoutMs: options.startTimeoutMs,
      intervalMs: options.intervalMs ?? 200,
      what: options.what,
      abortIf: () => {
        if (spawnError) return options.spawnError?.(spawnError) ?? spawnError;
        if (!running(child)) return new Error(`${options.what}: the process exited (${child.exitCode ?? child.signalCode}) before answering:\n${output}`);
        return undefined;
      },
    });
  } catch (e) {
    await kill(child, exited, 2_000);
    throw e;
  }

  let stopping: Promise<void> | undefined;
  return {
    pid: child.pid!,
    output: () => output,
    stop(graceMs = 5_000) {
      stopping ??= kill(child, exited, graceMs);
      return stopping;
    },
  };
}

/** Whether a process with this id exists (signal 0 checks without signalling). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

async function kill(child: ChildProcess, exited: Promise<void>, graceMs: number): Promise<void> {
  if (!running(child) || child.pid === undefined) return;
  process.kill(child.pid, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const forced = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      if (running(child)) process.kill(child.pid!, 'SIGKILL');
      resolve();
    }, graceMs);
  });
  await Promise.race([exited, forced]);
  await exited;
  clearTimeout(timer);
}
