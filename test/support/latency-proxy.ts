/**
 * An HTTP reverse proxy that adds injected latency in front of a JSON-protocol service
 * (DynamoDB Local), and counts requests per `X-Amz-Target` operation. Point a
 * `DynamoDBClient` at `proxy.endpoint` instead of the server's.
 *
 * The delay is applied once the request body has arrived, before it is forwarded, so the
 * service sees the request late, as over a slow network.
 */
import * as http from 'node:http';
import { performance } from 'node:perf_hooks';
import { delay, LatencyInjector, LatencyOptions } from './latency';
import { LOOPBACK } from './ports';

/** One proxied request. Times are `performance.now()` milliseconds. */
export interface ProxyLogEntry {
  /** From `X-Amz-Target` (`DynamoDB_20120810.GetItem` → `GetItem`), or `<METHOD> <path>`. */
  readonly operation: string;
  /** The injected delay. */
  readonly delayMs: number;
  readonly startMs: number;
  endMs?: number;
  status?: number;
}

/** Options of {@link LatencyProxy.start}. */
export interface LatencyProxyOptions {
  /** Where to forward, e.g. DynamoDB Local's endpoint. */
  readonly target: string;
  /** Initial injected latency. @default none */
  readonly latency?: LatencyOptions;
  /** Port on 127.0.0.1. @default a free port chosen by the kernel */
  readonly port?: number;
}

/** A latency-injecting reverse proxy on 127.0.0.1. */
export class LatencyProxy {
  /** Starts the proxy and resolves once it listens. */
  public static async start(options: LatencyProxyOptions): Promise<LatencyProxy> {
    const proxy = new LatencyProxy(options);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(options.port ?? 0, LOOPBACK, () => {
        proxy.server.off('error', reject);
        resolve();
      });
    });
    return proxy;
  }

  /** Requests per operation. */
  public readonly requests: Record<string, number> = {};
  /** Every request in arrival order. */
  public readonly log: ProxyLogEntry[] = [];

  private readonly target: URL;
  private readonly latency = new LatencyInjector();
  private readonly server: http.Server;
  private readonly agent = new http.Agent({ keepAlive: true });

  private constructor(options: LatencyProxyOptions) {
    this.target = new URL(options.target);
    if (options.latency) this.latency.set(options.latency);
    this.server = http.createServer((req, res) => this.onRequest(req, res));
    this.server.on('clientError', (_err, socket) => socket.destroy());
  }

  /** `http://127.0.0.1:<port>` */
  public get endpoint(): string {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('latency proxy is not listening');
    return `http://${LOOPBACK}:${address.port}`;
  }

  /** Replaces the injected latency. */
  public setLatency(options: LatencyOptions): void {
    this.latency.set(options);
  }

  /** Requests of `operation` (of all operations when omitted). */
  public count(operation?: string): number {
    if (operation) return this.requests[operation] ?? 0;
    return Object.values(this.requests).reduce((a, b) => a + b, 0);
  }

  /** Clears the counters and the log. */
  public resetStats(): void {
    for (const op of Object.keys(this.requests)) delete this.requests[op];
    this.log.length = 0;
  }

  /** Closes the proxy and its connections (the target keeps running). */
  public async stop(): Promise<void> {
    this.agent.destroy();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    req.on('end', () => {
      this.forward(req, res, Buffer.concat(chunks)).catch((e) => {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`latency proxy: ${(e as Error).message}`);
        }
      });
    });
  }

  private async forward(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    const target = req.headers['x-amz-target'];
    const operation = typeof target === 'string' ? target.slice(target.lastIndexOf('.') + 1) : `${req.method} ${req.url}`;
    const delayMs = this.latency.delayFor(operation);
    const entry: ProxyLogEntry = { operation, delayMs, startMs: performance.now() };
    this.requests[operation] = (this.requests[operation] ?? 0) + 1;
    this.log.push(entry);
    await delay(delayMs);
    if (res.destroyed) return;
    await new Promise<void>((resolve, reject) => {
      const upstream = http.request({
        protocol: this.target.protocol,
        hostname: this.target.hostname,
        port: this.target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: this.target.host },
        agent: this.agent,
      }, (response) => {
        entry.status = response.statusCode;
        if (res.destroyed) {
          response.resume();
          resolve();
          return;
        }
        res.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(res);
        response.on('end', () => {
          entry.endMs = performance.now();
          resolve();
        });
        response.on('error', reject);
      });
      upstream.on('error', reject);
      res.on('close', () => upstream.destroy());
      upstream.end(body);
    });
  }
}
