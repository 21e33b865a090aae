/**
 * The Lambda Node.js runtime's response-streaming contract, as the reader uses it.
 *
 * In a function deployed with a Function URL whose invoke mode is RESPONSE_STREAM, the
 * runtime provides a global `awslambda` with `streamifyResponse(handler)` and
 * `HttpResponseStream.from(stream, { statusCode, headers })`. `@types/aws-lambda`
 * declares that global (it is in the project's `types`), so nothing is re-declared here:
 * this module only adds the helpers the handler needs on top of it, written so that the
 * handler code can run (and be tested) without the global: the HTTP wrapper is injected.
 *
 * No CDK import here: this module is bundled into the Lambda assets.
 */
import type { Writable } from 'stream';

/** Status line and headers of a streamed HTTP response (Function URL). */
export interface HttpResponseMetadata {
  readonly statusCode: number;
  readonly headers?: Record<string, string>;
  readonly cookies?: string[];
}

/**
 * Turns the raw response stream into an HTTP response with a status and headers: in Lambda,
 * `awslambda.HttpResponseStream.from`. Must be called before the first write.
 */
export type HttpResponseStreamFactory = (stream: Writable, metadata: HttpResponseMetadata) => Writable;

/** The shape of the runtime's global, for the subset the reader uses. */
interface AwsLambdaGlobal {
  readonly HttpResponseStream?: { from(stream: Writable, metadata: Record<string, unknown>): Writable };
}

/**
 * The runtime's `awslambda.HttpResponseStream.from`, looked up when a response starts (not
 * when the module loads), with an error that says what is missing outside Lambda.
 */
export const lambdaHttpResponseStream: HttpResponseStreamFactory = (stream, metadata) => {
  const runtime = (globalThis as { awslambda?: AwsLambdaGlobal }).awslambda;
  if (!runtime?.HttpResponseStream) {
    throw new Error('awslambda.HttpResponseStream is not defined: the reader must run in the Lambda Node.js runtime '
      + '(or a test must define globalThis.awslambda before loading the bundle)');
  }
  return runtime.HttpResponseStream.from(stream, { ...metadata });
};

/**
 * Writes one chunk and waits for 'drain' when the stream asks for backpressure, so a slow
 * client never makes the function buffer whole parts in memory twice. Resolves at once when
 * the stream is already closed (client gone): the caller checks `isClosed`.
 */
export async function writeChunk(stream: Writable, chunk: string | Uint8Array): Promise<void> {
  if (isClosed(stream)) return;
  const ok = stream.write(chunk);
  if (ok || isClosed(stream)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

/**
 * Writes the last chunk (if any) with `write`, then ends the stream, and resolves when it
 * has finished (or closed, or failed: a client that disconnects must not hang the
 * invocation).
 *
 * Never `end(chunk)`: in the Lambda runtime the HTTP prelude that
 * `awslambda.HttpResponseStream.from` sets up (status and headers) is written by the
 * patched `write` only, and the runtime's `end` takes a callback alone (see
 * aws-lambda-nodejs-runtime-interface-client, ResponseStream.js), so a body given to `end`
 * would go out without its status line, or not at all.
 */
export async function endStream(stream: Writable, chunk?: string | Uint8Array): Promise<void> {
  if (chunk !== undefined) await writeChunk(stream, chunk);
  if (isClosed(stream)) return;
  await new Promise<void>((resolve) => {
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      stream.off('finish', done);
      stream.off('error', done);
      stream.off('close', done);
      resolve();
    };
    stream.once('finish', done);
    stream.once('error', done);
    stream.once('close', done);
    stream.end(done);
  });
}

/** True when nothing more can be written (ended, destroyed or errored). */
export function isClosed(stream: Writable): boolean {
  return Boolean(stream.destroyed || stream.writableEnded);
}
