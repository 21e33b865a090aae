/**
 * Loopback ports and readiness polling for the local test servers.
 */
import * as net from 'node:net';

/** The only interface the test servers listen on. */
export const LOOPBACK = '127.0.0.1';

/**
 * Returns a TCP port that was free on 127.0.0.1 a moment ago: listens on port 0, reads the
 * port the kernel picked, closes. Another process may take it before the caller binds, so
 * prefer `server.listen(0)` when the server is ours; use this for child processes (Java)
 * that need the port on their command line.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the port of a loopback listener'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this many milliseconds. @default 30000 */
  readonly timeoutMs?: number;
  /** Pause between two attempts. @default 100 */
  readonly intervalMs?: number;
  /** Named in the timeout error. @default the URL, or 'condition' */
  readonly what?: string;
  /** Stop early (and rethrow) when this returns an error, e.g. the child process exited. */
  readonly abortIf?: () => Error | undefined;
}

/**
 * Polls until `target` is ready: a URL is ready when an HTTP request to it gets any response
 * (any status); a predicate is ready when it resolves truthy. Errors thrown by the predicate
 * count as "not yet". Rejects with the last error after the timeout.
 */
export async function waitFor(target: string | (() => Promise<unknown> | unknown), options: WaitForOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 100;
  const what = options.what ?? (typeof target === 'string' ? target : 'condition');
  const probe = typeof target === 'string' ? () => httpAnswers(target) : target;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const aborted = options.abortIf?.();
    if (aborted) throw aborted;
    try {
      if (await probe()) return;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`${what} was not ready after ${timeoutMs} ms${reason}`);
    }
    await sleep(intervalMs);
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves true when an HTTP GET of `url` gets any response (any status) within 2 s; rejects otherwise. */
export async function httpAnswers(url: string): Promise<boolean> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 2_000);
  try {
    const response = await fetch(url, { signal: controller.signal });
    await response.arrayBuffer();
    return true;
  } finally {
    clearTimeout(timer);
  }
}
