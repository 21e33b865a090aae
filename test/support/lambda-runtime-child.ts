/**
 * The child side of lambda-runtime.ts: one Node.js process per emulated Lambda execution
 * environment. It defines `globalThis.awslambda` the way the Lambda Node.js runtime does,
 * loads the built bundle once (module scope runs once, as in a real cold start), and serves
 * invocations sent by the parent over the IPC channel. Stdout/stderr stay free for the
 * handler's own logs.
 *
 * Messages (parent → child): { type: 'invoke', id, event, deadlineMs }.
 * Messages (child → parent): { type: 'ready', initMs } | { type: 'initError', error },
 * and per invocation: 'contentType', 'chunk' (base64), then 'result' or 'error'.
 *
 * This file is compiled by esbuild at run time (lambda-runtime.ts) and never imported.
 */
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';

const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HTTP_INTEGRATION_TYPE = 'application/vnd.awslambda.http-integration-response';

type Handler = (event: unknown, ...rest: unknown[]) => unknown;

interface InvokeMessage {
  readonly type: 'invoke';
  readonly id: number;
  readonly event: unknown;
  readonly timeoutMs: number;
}

interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
}

function send(message: Record<string, unknown>): void {
  process.send?.(message);
}

function serialize(e: unknown): SerializedError {
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { name: 'Error', message: String(e) };
}

/** The runtime's response stream: a Writable with setContentType (before the first write). */
class ResponseStream extends Writable {
  private written = false;

  constructor(private readonly id: number) {
    super();
  }

  public setContentType(contentType: string): void {
    if (this.written) throw new Error('setContentType must be called before the first write to the response stream');
    send({ type: 'contentType', id: this.id, value: contentType });
  }

  public _write(chunk: Buffer | string, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.written = true;
    const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, encoding);
    send({ type: 'chunk', id: this.id, data: data.toString('base64') });
    callback();
  }
}

/** `awslambda.HttpResponseStream`: the prelude (JSON metadata, then 8 NUL bytes) as in the runtime. */
class HttpResponseStream {
  public static from(underlying: ResponseStream, prelude: Record<string, unknown>): ResponseStream {
    underlying.setContentType(HTTP_INTEGRATION_TYPE);
    underlying.write(JSON.stringify(prelude));
    underlying.write(new Uint8Array(8));
    return underlying;
  }
}

(globalThis as Record<string, unknown>).awslambda = {
  streamifyResponse(handler: Handler): Handler {
    (handler as unknown as Record<symbol, string>)[STREAMING] = 'response';
    return handler;
  },
  HttpResponseStream,
};

function context(id: number, timeoutMs: number): Record<string, unknown> {
  const deadline = Date.now() + timeoutMs;
  const name = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'local';
  return {
    awsRequestId: `local-${process.pid}-${id}`,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:000000000000:function:${name}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '512',
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

async function invoke(handler: Handler, message: InvokeMessage): Promise<void> {
  const { id, event, timeoutMs } = message;
  const ctx = context(id, timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`Task timed out after ${timeoutMs / 1000} seconds`), { name: 'Sandbox.Timedout' })), timeoutMs);
  });
  try {
    if ((handler as unknown as Record<symbol, string>)[STREAMING] === 'response') {
      const stream = new ResponseStream(id);
      const finished = new Promise<void>((resolve) => {
        stream.once('finish', () => resolve());
        stream.once('close', () => resolve());
      });
      await Promise.race([handler(event, stream, ctx), timeout]);
      // The runtime ends the response when the handler's promise settles.
      if (!stream.writableEnded) stream.end();
      await Promise.race([finished, timeout]);
      send({ type: 'result', id, streamed: true });
    } else {
      const result = await Promise.race([Promise.resolve(handler(event, ctx)), timeout]);
      send({ type: 'result', id, streamed: false, value: result === undefined ? null : result });
    }
  } catch (e) {
    send({ type: 'error', id, error: serialize(e) });
  } finally {
    clearTimeout(timer);
  }
}

function main(): void {
  const bundle = process.env.LAMBDA_RUNTIME_EMULATOR_BUNDLE!;
  const exportName = process.env.LAMBDA_RUNTIME_EMULATOR_EXPORT ?? 'handler';
  delete process.env.LAMBDA_RUNTIME_EMULATOR_BUNDLE;
  delete process.env.LAMBDA_RUNTIME_EMULATOR_EXPORT;
  let handler: Handler;
  const started = performance.now();
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const module = require(bundle) as Record<string, unknown>;
    const candidate = module[exportName];
    if (typeof candidate !== 'function') throw new Error(`${bundle} does not export a function named ${exportName}`);
    handler = candidate as Handler;
  } catch (e) {
    send({ type: 'initError', error: serialize(e) });
    return;
  }
  send({ type: 'ready', initMs: performance.now() - started });
  process.on('message', (message: InvokeMessage) => {
    if (message?.type === 'invoke') void invoke(handler, message);
  });
}

main();
