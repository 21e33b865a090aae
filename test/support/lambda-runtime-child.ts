/**
 * The child side of lambda-runtime.ts: one Node.js process per emulated Lambda execution
 * environment. It defines `globalThis.awslambda` the way the Lambda Node.js runtime does,
 * loads the built bundle once (module scope runs once, as in a real cold start), and serves
 * invocations sent by the parent over the IPC channel. Stdout/stderr stay free for the
 * handler's own logs.
 *
 * Messages (parent → child): { type: 'invoke', id, event, timeoutMs } | { type: 'flush', marker }.
 * Messages (child → parent): { type: 'ready', initMs, nodeVersion } | { type: 'initError', error },
 * and per invocation: 'contentType', 'chunk' (base64), then 'result' or 'error'. A flush
 * writes its marker as one line to stdout and to stderr.
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

interface FlushMessage {
  readonly type: 'flush';
  readonly marker: string;
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

/**
 * The runtime's response stream, built the way aws-lambda-nodejs-runtime-interface-client
 * builds it (src/stream/response-stream.ts), because handler bugs hide in the differences:
 *
 * - the handler gets a plain object of bound Writable methods and getters, not a Writable;
 * - `write` is patched: non-binary chunks are JSON-stringified, and a `_onBeforeFirstWrite`
 *   hook (installed by HttpResponseStream.from) runs before the first write;
 * - `end(chunk)` is NOT patched: its chunk bypasses the hook, so a response whose first
 *   bytes come from `end(chunk)` has no HTTP prelude;
 * - `setContentType` after the first write throws ("Cannot set content-type, too late.").
 */
interface RuntimeStream {
  _onBeforeFirstWrite?: (write: (chunk: unknown) => void) => void;
  [name: string]: unknown;
}

class Sink extends Writable {
  constructor(private readonly id: number) {
    super();
  }

  public _write(chunk: Buffer | string, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, encoding);
    send({ type: 'chunk', id: this.id, data: data.toString('base64') });
    callback();
  }
}

const WRITABLE_METHODS = [
  'cork', 'destroy', 'end', 'uncork', 'addListener', 'on', 'once', 'prependListener', 'prependOnceListener', 'off',
  'removeListener', 'removeAllListeners', 'setMaxListeners', 'getMaxListeners', 'listeners', 'rawListeners',
  'listenerCount', 'eventNames', 'emit',
] as const;
const READ_ONLY_PROPERTIES = [
  'writableFinished', 'writableObjectMode', 'writableEnded', 'writableNeedDrain', 'writableHighWaterMark',
  'writableCorked', 'writableLength', 'writable',
] as const;

function responseStream(id: number): { stream: RuntimeStream; sink: Sink } {
  const sink = new Sink(id);
  let written = false;
  const stream: RuntimeStream = {};
  for (const method of WRITABLE_METHODS) {
    stream[method] = (sink[method] as (...args: unknown[]) => unknown).bind(sink);
  }
  for (const property of READ_ONLY_PROPERTIES) {
    Object.defineProperty(stream, property, { get: () => sink[property] });
  }
  Object.defineProperty(stream, 'destroyed', { get: () => sink.destroyed, set: (v: boolean) => { sink.destroyed = v; } });
  stream.setContentType = (contentType: string) => {
    if (written) throw new Error('Cannot set content-type, too late.');
    send({ type: 'contentType', id, value: contentType });
  };
  stream.write = (chunk: unknown, encoding?: BufferEncoding, callback?: (error?: Error | null) => void) => {
    const data = typeof chunk === 'string' || chunk instanceof Uint8Array ? chunk : JSON.stringify(chunk);
    if (!written && typeof stream._onBeforeFirstWrite === 'function') {
      stream._onBeforeFirstWrite((c) => sink.write(c as string | Uint8Array));
    }
    written = true;
    return sink.write(data, encoding as BufferEncoding, callback);
  };
  return { stream, sink };
}

/** `awslambda.HttpResponseStream`: the prelude (JSON metadata, then 8 NUL bytes) before the first write. */
class HttpResponseStream {
  public static from(underlying: RuntimeStream, prelude: Record<string, unknown>): RuntimeStream {
    (underlying.setContentType as (type: string) => void)(HTTP_INTEGRATION_TYPE);
    const metadata = JSON.stringify(prelude);
    underlying._onBeforeFirstWrite = (write) => {
      write(metadata);
      write(new Uint8Array(8));
    };
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
      // As the runtime's StreamingInvokeProcessor: await the handler, then the end of the stream.
      const { stream, sink } = responseStream(id);
      const finished = new Promise<void>((resolve) => {
        sink.once('finish', () => resolve());
        sink.once('close', () => resolve());
      });
      const returned = handler(event, stream, ctx) as Promise<unknown> | undefined;
      if (typeof (returned as Promise<unknown> | undefined)?.then !== 'function') {
        throw new Error('Streaming does not support non-async handlers.');
      }
      const result = await Promise.race([returned, timeout]);
      if (result !== undefined) console.warn('Streaming handlers ignore return values.');
      // A handler that never ends its stream runs into the function timeout, as in Lambda.
      await Promise.race([finished, timeout]);
      if (!sink.writableFinished) throw new Error('Response stream is not finished.');
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
  // The parent (a test or a benchmark) went away: an execution environment never outlives it.
  process.once('disconnect', () => process.exit(0));
  const bundle = process.env.LAMBDA_RUNTIME_EMULATOR_BUNDLE!;
  const exportName = process.env.LAMBDA_RUNTIME_EMULATOR_EXPORT ?? 'handler';
  delete process.env.LAMBDA_RUNTIME_EMULATOR_BUNDLE;
  delete process.env.LAMBDA_RUNTIME_EMULATOR_EXPORT;
  // As the Lambda runtime sets it: AWS_Lambda_nodejs24.x on Node.js 24.
  process.env.AWS_EXECUTION_ENV ??= `AWS_Lambda_nodejs${process.versions.node.split('.')[0]}.x`;
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
  send({ type: 'ready', initMs: performance.now() - started, nodeVersion: process.version });
  process.on('message', (message: InvokeMessage | FlushMessage) => {
    if (message?.type === 'invoke') void invoke(handler, message);
    if (message?.type === 'flush') {
      process.stdout.write(`${message.marker}\n`);
      process.stderr.write(`${message.marker}\n`);
    }
  });
}

main();
