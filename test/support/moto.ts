/**
 * moto (PyPI, `moto[server]`), a third party's S3 with versioning, run in server mode on a
 * free loopback port: the S3 contract suite holds the versioned test server to it, and the
 * e2e suites run the store on it.
 *
 * moto is installed by `scripts/setup-moto.sh` into the project-local virtual environment
 * `.tools/moto-venv`, at the exact, hash-pinned versions of `scripts/moto-requirements.txt`.
 * `startMoto` runs that script first: it returns at once when the venv is there, installs it
 * otherwise (pip, a few minutes), and serialises concurrent callers with a lock.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { freePort, httpAnswers, LOOPBACK } from './ports';
import { startServerProcess } from './server-process';

const ROOT = path.resolve(__dirname, '..', '..');
const SETUP_SCRIPT = path.join(ROOT, 'scripts', 'setup-moto.sh');

/**
 * How long a hook that starts moto may take: the first start on a clone installs moto
 * (pip downloads and unpacks about 60 distributions). Later starts take a few seconds.
 */
export const MOTO_FIRST_START_TIMEOUT_MS = 10 * 60_000;

/** Options of {@link startMoto}. */
export interface MotoOptions {
  /** Port on 127.0.0.1. @default a free port */
  readonly port?: number;
  /** How long to wait for the server to answer once started. @default 60000 */
  readonly startTimeoutMs?: number;
}

/** A running moto server. */
export interface MotoServer {
  /** `http://127.0.0.1:<port>`: the S3 endpoint (path-style; any credentials). */
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5000); resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Installs moto if needed (scripts/setup-moto.sh) and resolves with the path of moto_server. */
export async function ensureMoto(): Promise<string> {
  const child = spawn('bash', [SETUP_SCRIPT], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`installing moto failed (bash scripts/setup-moto.sh exited ${code}):\n${stderr}`);
  return stdout.trim().split('\n').pop()!;
}

/**
 * Starts `moto_server -H 127.0.0.1 -p <port>` and resolves once it answers. moto keeps
 * everything in memory: a new server starts empty. Always call `stop()` (in afterAll).
 */
export async function startMoto(options: MotoOptions = {}): Promise<MotoServer> {
  const executable = await ensureMoto();
  const port = options.port ?? await freePort();
  const endpoint = `http://${LOOPBACK}:${port}`;
  const server = await startServerProcess({
    what: `moto on ${endpoint}`,
    command: executable,
    args: ['-H', LOOPBACK, '-p', String(port)],
    cwd: ROOT,
    // No proxy is ever consulted. (The first start writes moto's bytecode into the venv.)
    env: { ...process.env, NO_PROXY: '*' },
    ready: () => httpAnswers(`${endpoint}/moto-api/`),
    startTimeoutMs: options.startTimeoutMs ?? 60_000,
  });
  return { endpoint, port, pid: server.pid, stop: (graceMs) => server.stop(graceMs) };
}
