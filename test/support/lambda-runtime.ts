/**
 * Runs a BUILT Lambda bundle (`assets/<name>.lambda/index.js`) the way the Lambda Node.js
 * runtime does, without Lambda: one child process per execution environment (so module
 * scope runs once per "cold start", and timings are not distorted by the test's own event
 * loop), `globalThis.awslambda` with `streamifyResponse` and `HttpResponseStream` as in the
 * runtime, and a Function URL front that turns the streamed bytes back into a status,
 * headers and a body, recording when each NDJSON line arrived.
 *
 * Environment of the child: only what Lambda would set (AWS_REGION, dummy credentials,
 * AWS_LAMBDA_FUNCTION_NAME, ...), the function's own variables (e.g. from
 * from-template.ts), and the local endpoints: AWS_ENDPOINT_URL_DYNAMODB and
 * AWS_ENDPOINT_URL_S3 (honoured by the AWS SDK v3 itself) and AWS_S3_FORCE_PATH_STYLE=1
 * (NOT an SDK setting: the SDK has no environment variable for path-style addressing; the
 * project's handler-clients.ts reads it, and the SDK also picks path-style for IP
 * endpoints such as 127.0.0.1).
 *
 * The child runs on the Node.js major of the construct's Lambda runtime (nodejs24.x), not on
 * the Node.js that runs the tests: `bash scripts/use-node.sh lambda` installs the pinned
 * binary into .tools/lambda-node (the local test tier does it first);
 * SPLIT_STORE_LAMBDA_NODE=/path/to/node chooses another one. `nodeVersion` says what runs.
 *
 * Unlike Lambda, one environment here serves concurrent invocations interleaved on its
 * event loop; start several runtimes to model several environments.
 */
import { ChildProcess, fork } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './dynamodb-local';

/** Options of {@link LambdaRuntime.start}. */
export interface LambdaRuntimeOptions {
  /** The bundle: `assets/reader.lambda/index.js` or its directory. */
  readonly bundle: string;
  /** Exported handler name. @default 'handler' */
  readonly handler?: string;
  /** The function's environment variables (e.g. `plan.environment` from from-template.ts). */
  readonly environment?: Record<string, string>;
  /** Local endpoints, set as AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_S3. */
  readonly endpoints?: { readonly dynamodb?: string; readonly s3?: string };
  /** Per-invocation timeout, as the function's Timeout. @default 30000 */
  readonly timeoutMs?: number;
  /** AWS_LAMBDA_FUNCTION_NAME. @default 'local-function' */
  readonly functionName?: string;
  /** How long module initialisation may take. @default 10000 (Lambda's init limit) */
  readonly initTimeoutMs?: number;
}

/** An HTTP request to the function's URL. */
export interface UrlRequest {
  readonly query?: Record<string, string | string[]>;
  /** A string, a Buffer (sent base64-encoded, as Function URLs do for binary) or JSON. */
  readonly body?: string | Buffer | object;
  readonly headers?: Record<string, string>;
  /**
   * Called with each NDJSON line of the body the moment it has arrived, while the response
   * is still streaming: a test can act between two lines (release a held request, say).
   */
  readonly onLine?: (line: ResponseLine) => void;
}

/** One NDJSON line of a streamed response. */
export interface ResponseLine {
  /** The line parsed as JSON (undefined when it is not JSON). */
  readonly json: any;
  readonly text: string;
  /** When the line's last byte arrived, in ms since the request was sent. */
  readonly atMs: number;
}

/** One chunk as the client received it. */
export interface RawChunk {
  readonly data: Buffer;
  readonly atMs: number;
}

/** What a Function URL client would receive. */
export interface UrlResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly cookies: string[];
  /** The body without the HTTP prelude. */
  readonly body: Buffer;
  readonly text: string;
  /** The body split into non-empty lines, each with its arrival time. */
  readonly lines: ResponseLine[];
  /** Body chunks as they arrived (prelude removed). */
  readonly rawChunks: RawChunk[];
  /** Time from sending the request to the end of the response. */
  readonly totalMs: number;
  /** Set when the handler threw (the URL then answers 502 if nothing was streamed yet). */
  readonly error?: { readonly name: string; readonly message: string };
}

/** The bytes and result of one invocation, before any HTTP interpretation. */
export interface RawInvocation {
  readonly streamed: boolean;
  readonly contentType?: string;
  readonly chunks: RawChunk[];
  /** The handler's return value (non-streaming handlers). */
  readonly value?: unknown;
  readonly error?: { readonly name: string; readonly message: string; readonly stack?: string };
  readonly totalMs: number;
}

const HTTP_INTEGRATION_TYPE = 'application/vnd.awslambda.http-integration-response';
const PRELUDE_DELIMITER = Buffer.alloc(8);

interface Pending {
  readonly started: number;
  readonly chunks: RawChunk[];
  contentType?: string;
  onChunk?: (chunk: RawChunk) => void;
  resolve(result: RawInvocation): void;
}

let compiledChild: string | undefined;

/** Where `bash scripts/use-node.sh lambda` installs the Node.js the child runs on. */
const PINNED_LAMBDA_NODE = path.resolve(__dirname, '..', '..', '.tools', 'lambda-node', 'bin', 'node');

/**
 * The Node.js binary of the emulated execution environment: SPLIT_STORE_LAMBDA_NODE, else the
 * pinned one in .tools/lambda-node. Throws the way to install it when there is none.
 */
export function lambdaNodeExecutable(env: NodeJS.ProcessEnv = process.env): string {
  const chosen = env.SPLIT_STORE_LAMBDA_NODE;
  if (chosen) {
    if (!fs.existsSync(chosen)) throw new Error(`SPLIT_STORE_LAMBDA_NODE is ${chosen}, which does not exist: point it at a Node.js binary, or unset it to use .tools/lambda-node`);
    return chosen;
  }
  if (!fs.existsSync(PINNED_LAMBDA_NODE)) {
    throw new Error(`the Lambda emulation runs bundles on the Node.js of the Lambda runtime (24), and ${PINNED_LAMBDA_NODE} is missing: `
      + 'run `bash scripts/use-node.sh lambda` to install it (or `npx projen test:local`, which does), or set SPLIT_STORE_LAMBDA_NODE to a Node.js 24 binary');
  }
  return PINNED_LAMBDA_NODE;
}

/** Compiles lambda-runtime-child.ts once per test process (esbuild, no type check), in memory. */
function childSource(): string {
  if (compiledChild === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const esbuild = require('esbuild') as typeof import('esbuild');
    const result = esbuild.buildSync({
      entryPoints: [path.join(__dirname, 'lambda-runtime-child.ts')],
      write: false,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node24',
      logLevel: 'silent',
    });
    compiledChild = result.outputFiles[0].text;
  }
  return compiledChild;
}

/** An emulated Lambda execution environment running one built bundle. */
export class LambdaRuntime {
  /**
   * Starts the child process, loads the bundle (its module scope runs now) and resolves
   * once it is ready; rejects with the init error otherwise.
   */
  public static async start(options: LambdaRuntimeOptions): Promise<LambdaRuntime> {
    let bundle = path.resolve(options.bundle);
    if (fs.existsSync(bundle) && fs.statSync(bundle).isDirectory()) bundle = path.join(bundle, 'index.js');
    if (!fs.existsSync(bundle)) {
      throw new Error(`no bundle at ${bundle}: run \`npx projen bundle\` first (the e2e tests load the built assets, not the sources)`);
    }
    const execPath = lambdaNodeExecutable();
    const functionName = options.functionName ?? 'local-function';
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      TZ: 'UTC',
      AWS_REGION: LOCAL_REGION,
      AWS_DEFAULT_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_SESSION_TOKEN: 'local-session-token',
      AWS_LAMBDA_FUNCTION_NAME: functionName,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
      LAMBDA_TASK_ROOT: path.dirname(bundle),
      _HANDLER: `index.${options.handler ?? 'handler'}`,
      ...(options.endpoints?.dynamodb ? { AWS_ENDPOINT_URL_DYNAMODB: options.endpoints.dynamodb } : {}),
      ...(options.endpoints?.s3 ? { AWS_ENDPOINT_URL_S3: options.endpoints.s3, AWS_S3_FORCE_PATH_STYLE: '1' } : {}),
      ...options.environment,
      LAMBDA_RUNTIME_EMULATOR_BUNDLE: bundle,
      LAMBDA_RUNTIME_EMULATOR_EXPORT: options.handler ?? 'handler',
    };
    // The child script is written to a temporary directory that is removed as soon as the
    // child has loaded it (or failed to), so test runs leave nothing behind.
    const scriptDir = fs.mkdtempSync(path.join(os.tmpdir(), 'split-store-lambda-runtime-'));
    const script = path.join(scriptDir, 'child.js');
    fs.writeFileSync(script, childSource());
    const child = fork(script, [], {
      cwd: path.dirname(bundle),
      env,
      execPath,
      execArgv: [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const runtime = new LambdaRuntime(child, options.timeoutMs ?? 30_000);
    try {
      ({ initMs: runtime.initMs, nodeVersion: runtime.nodeVersion } = await runtime.ready(options.initTimeoutMs ?? 10_000));
    } catch (e) {
      await runtime.stop();
      throw e;
    } finally {
      fs.rmSync(scriptDir, { recursive: true, force: true });
    }
    return runtime;
  }

  /** Module initialisation time of the bundle in the child (require of the bundle). */
  public initMs = 0;
  /** `process.version` of the child, e.g. 'v24.22.3': the Node.js the bundle runs on. */
  public nodeVersion = '';
  /** The handler's stdout and stderr, line by line. */
  public readonly logs: string[] = [];

  private readonly pending = new Map<number, Pending>();
  /** Markers written by the child on request (flushLogs), each awaited on stdout and stderr. */
  private readonly markers = new Map<string, () => void>();
  private nextId = 1;
  private exited = false;
  private exitReason?: string;
  private readonly exit: Promise<void>;

  private constructor(private readonly child: ChildProcess, private readonly timeoutMs: number) {
    for (const stream of [child.stdout!, child.stderr!]) {
      let rest = '';
      stream.on('data', (chunk: Buffer) => {
        const lines = (rest + chunk.toString('utf8')).split('\n');
        rest = lines.pop()!;
        for (const line of lines) {
          const marker = this.markers.get(line);
          if (marker) marker();
          // Long lines (a minified bundle's source in a stack trace) are cut to keep reports readable.
          else if (line.length > 0) this.logs.push(line.length > 2000 ? `${line.slice(0, 2000)}…` : line);
        }
      });
    }
    this.exit = new Promise((resolve) => child.once('exit', (code, signal) => {
      this.exited = true;
      this.exitReason = `the execution environment exited (${signal ?? `code ${code}`}); last log lines:\n${this.logs.slice(-10).join('\n')}`;
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        p.resolve({
          streamed: true,
          contentType: p.contentType,
          chunks: p.chunks,
          totalMs: performance.now() - p.started,
          error: { name: 'Runtime.ExitError', message: this.exitReason! },
        });
      }
      resolve();
    }));
    child.on('message', (message: any) => this.onMessage(message));
  }

  /** The child's process id. */
  public get pid(): number {
    return this.child.pid!;
  }

  /** The JSON log lines the handler wrote (lines that are not JSON are skipped). */
  public get jsonLogs(): any[] {
    return this.logs.flatMap((line) => {
      try {
        return [JSON.parse(line)];
      } catch {
        return [];
      }
    });
  }

  /**
   * Invokes the function through its (emulated) Function URL: builds the payload-2.0 event
   * Lambda sends for an HTTP request, and reads the response the way the URL front does
   * (prelude → status and headers; the rest → body, line by line as it arrives).
   */
  public invokeUrl(method: string, rawPath: string, request: UrlRequest = {}): Promise<UrlResponse> {
    return this.invokeUrlEvent(functionUrlEvent(method, rawPath, request), request.onLine);
  }

  /**
   * Sends a Function URL event as given (e.g. one from {@link functionUrlEvent}, then altered:
   * a body marked base64 that is not, headers the builder does not set) and reads the
   * response as {@link invokeUrl} does (`onLine`: as {@link UrlRequest.onLine}).
   */
  public async invokeUrlEvent(event: Record<string, unknown>, onLine?: (line: ResponseLine) => void): Promise<UrlResponse> {
    let prelude: Buffer | undefined = Buffer.alloc(0);
    let preludeDone = false;
    const bodyChunks: RawChunk[] = [];
    const lines: ResponseLine[] = [];
    let partial = '';
    const decoder = new TextDecoder();
    const onBody = (chunk: RawChunk) => {
      bodyChunks.push(chunk);
      const text = partial + decoder.decode(chunk.data, { stream: true });
      const pieces = text.split('\n');
      partial = pieces.pop()!;
      for (const piece of pieces) {
        if (!piece.trim()) continue;
        const line = toLine(piece, chunk.atMs);
        lines.push(line);
        onLine?.(line);
      }
    };
    let isHttpIntegration: boolean | undefined;
    const raw = await this.invokeRaw(event, (chunk, contentType) => {
      isHttpIntegration ??= contentType === HTTP_INTEGRATION_TYPE;
      if (!isHttpIntegration || preludeDone) {
        onBody(chunk);
        return;
      }
      prelude = Buffer.concat([prelude!, chunk.data]);
      const end = prelude.indexOf(PRELUDE_DELIMITER);
      if (end < 0) return;
      preludeDone = true;
      const rest = prelude.subarray(end + PRELUDE_DELIMITER.length);
      prelude = prelude.subarray(0, end);
      if (rest.length > 0) onBody({ data: rest, atMs: chunk.atMs });
    });
    if (partial.trim()) lines.push(toLine(partial, raw.chunks[raw.chunks.length - 1]?.atMs ?? raw.totalMs));

    let statusCode = 200;
    let headers: Record<string, string> = {};
    let cookies: string[] = [];
    let body = Buffer.concat(bodyChunks.map((c) => c.data));
    let invalidPrelude: { name: string; message: string } | undefined;
    if (!raw.streamed) {
      // A buffered handler: Function URLs interpret { statusCode, headers, body } or JSON-encode anything else.
      const value = raw.value as any;
      if (value && typeof value === 'object' && typeof value.statusCode === 'number') {
        statusCode = value.statusCode;
        headers = lowerCase(value.headers ?? {});
        cookies = value.cookies ?? [];
        body = value.body === undefined ? Buffer.alloc(0) : Buffer.from(value.body, value.isBase64Encoded ? 'base64' : 'utf8');
      } else if (value !== undefined && value !== null) {
        headers = { 'content-type': 'application/json' };
        body = Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
      }
      const text = body.toString('utf8');
      lines.push(...text.split('\n').filter((l) => l.trim()).map((l) => toLine(l, raw.totalMs)));
    } else if (isHttpIntegration && preludeDone) {
      const metadata = JSON.parse(prelude!.toString('utf8')) as { statusCode?: number; headers?: Record<string, string>; cookies?: string[] };
      statusCode = metadata.statusCode ?? 200;
      headers = lowerCase(metadata.headers ?? {});
      cookies = metadata.cookies ?? [];
    } else if (isHttpIntegration && raw.chunks.length > 0) {
      // Bytes came, but no prelude: in the real runtime end(chunk) bypasses the prelude hook.
      statusCode = 502;
      headers = { 'content-type': 'application/json', 'x-amzn-errortype': 'InvalidHttpPrelude' };
      body = Buffer.from(JSON.stringify({ Message: 'Internal Server Error' }));
      invalidPrelude = {
        name: 'InvalidHttpPrelude',
        message: 'the response has the HTTP integration content type but no prelude (JSON + 8 NUL bytes) before its bytes: '
          + 'was the first chunk passed to end(chunk)? The Lambda runtime writes the prelude only from write()',
      };
    } else if (isHttpIntegration) {
      statusCode = 200;
      headers = {};
    } else {
      headers = { 'content-type': raw.contentType ?? 'application/octet-stream' };
    }
    if (raw.error && raw.chunks.length === 0) {
      statusCode = 502;
      headers = { 'content-type': 'application/json', 'x-amzn-errortype': raw.error.name };
      body = Buffer.from(JSON.stringify({ Message: 'Internal Server Error' }));
    }
    return {
      statusCode,
      headers,
      cookies,
      body,
      text: body.toString('utf8'),
      lines,
      rawChunks: bodyChunks,
      totalMs: raw.totalMs,
      error: raw.error ? { name: raw.error.name, message: raw.error.message } : invalidPrelude,
    };
  }

  /**
   * A plain invocation (`lambda:Invoke`, RequestResponse): the payload parsed as JSON.
   * A streaming handler's payload is the bytes it wrote. Rejects when the handler throws,
   * as the SDK reports a FunctionError.
   */
  public async invoke(event: unknown): Promise<any> {
    const raw = await this.invokeRaw(event);
    if (raw.error) throw Object.assign(new Error(`${raw.error.name}: ${raw.error.message}`), { functionError: raw.error });
    if (!raw.streamed) return raw.value;
    const payload = Buffer.concat(raw.chunks.map((c) => c.data)).toString('utf8');
    return payload.length === 0 ? null : JSON.parse(payload);
  }

  /** Sends an event and collects everything the handler produced, with arrival times. */
  public invokeRaw(event: unknown, onChunk?: (chunk: RawChunk, contentType: string | undefined) => void): Promise<RawInvocation> {
    if (this.exited) return Promise.reject(new Error(this.exitReason ?? 'the execution environment has exited'));
    const id = this.nextId++;
    return new Promise<RawInvocation>((resolve) => {
      const pending: Pending = {
        started: performance.now(),
        chunks: [],
        resolve,
        onChunk: onChunk ? (chunk) => onChunk(chunk, pending.contentType) : undefined,
      };
      this.pending.set(id, pending);
      this.child.send({ type: 'invoke', id, event, timeoutMs: this.timeoutMs });
    });
  }

  /**
   * Resolves once everything the handler wrote to stdout and stderr before this call is in
   * `logs`: the child writes a marker line to both (after what came before it on each
   * pipe), and this waits until both markers have arrived.
   */
  public async flushLogs(): Promise<void> {
    if (this.exited) return;
    const marker = `--lambda-runtime-flush-${this.pid}-${this.nextId++}--`;
    let seen = 0;
    const arrived = new Promise<void>((resolve) => this.markers.set(marker, () => {
      seen += 1;
      if (seen === 2) resolve();
    }));
    this.child.send({ type: 'flush', marker });
    try {
      await Promise.race([arrived, this.exit]);
    } finally {
      this.markers.delete(marker);
    }
  }

  /** Ends the execution environment (SIGTERM, then SIGKILL after 3 s) and waits for it. */
  public async stop(): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (!this.exited) this.child.kill('SIGKILL');
    }, 3_000);
    await this.exit;
    clearTimeout(timer);
  }

  private ready(timeoutMs: number): Promise<{ initMs: number; nodeVersion: string }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the bundle did not initialise within ${timeoutMs} ms`)), timeoutMs);
      const onMessage = (message: any) => {
        if (message?.type === 'ready') {
          clearTimeout(timer);
          this.child.off('message', onMessage);
          resolve({ initMs: message.initMs, nodeVersion: message.nodeVersion });
        } else if (message?.type === 'initError') {
          clearTimeout(timer);
          this.child.off('message', onMessage);
          reject(new Error(`Runtime.ImportModuleError: ${message.error.message}`));
        }
      };
      this.child.on('message', onMessage);
      void this.exit.then(() => {
        clearTimeout(timer);
        reject(new Error(`the execution environment exited during init:\n${this.logs.slice(-10).join('\n')}`));
      });
    });
  }

  private onMessage(message: any): void {
    const pending = this.pending.get(message?.id);
    if (!pending) return;
    const atMs = performance.now() - pending.started;
    switch (message.type) {
      case 'contentType':
        pending.contentType = message.value;
        break;
      case 'chunk': {
        const chunk = { data: Buffer.from(message.data, 'base64'), atMs };
        pending.chunks.push(chunk);
        pending.onChunk?.(chunk);
        break;
      }
      case 'result':
      case 'error':
        this.pending.delete(message.id);
        pending.resolve({
          streamed: message.type === 'result' ? message.streamed : pending.chunks.length > 0 || pending.contentType !== undefined,
          contentType: pending.contentType,
          chunks: pending.chunks,
          value: message.value ?? undefined,
          error: message.error,
          totalMs: atMs,
        });
        break;
      default:
        break;
    }
  }
}

/** Starts a {@link LambdaRuntime}; same as `LambdaRuntime.start(options)`. */
export function startLambdaRuntime(options: LambdaRuntimeOptions): Promise<LambdaRuntime> {
  return LambdaRuntime.start(options);
}

/** The event a Function URL sends (payload format 2.0). */
export function functionUrlEvent(method: string, rawPath: string, request: UrlRequest = {}): Record<string, unknown> {
  const queryStringParameters: Record<string, string> = {};
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(request.query ?? {})) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) search.append(name, v);
    // Function URLs join repeated parameters with commas.
    queryStringParameters[name] = values.join(',');
  }
  const headers: Record<string, string> = { host: 'local.lambda-url.us-east-1.on.aws', ...lowerCase(request.headers ?? {}) };
  let body: string | undefined;
  let isBase64Encoded = false;
  if (Buffer.isBuffer(request.body)) {
    body = request.body.toString('base64');
    isBase64Encoded = true;
  } else if (typeof request.body === 'string') {
    body = request.body;
  } else if (request.body !== undefined) {
    body = JSON.stringify(request.body);
    headers['content-type'] ??= 'application/json';
  }
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: search.toString(),
    headers,
    ...(Object.keys(queryStringParameters).length ? { queryStringParameters } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local',
      domainName: headers.host,
      domainPrefix: 'local',
      http: { method: method.toUpperCase(), path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: headers['user-agent'] ?? 'lambda-runtime-emulator' },
      requestId: crypto.randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded,
  };
}

function toLine(text: string, atMs: number): ResponseLine {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { json, text, atMs };
}

function lowerCase(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
}
