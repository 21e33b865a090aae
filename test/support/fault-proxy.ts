/**
 * A fault-injecting reverse proxy on 127.0.0.1, for DynamoDB's JSON protocol (DynamoDB
 * Local) and S3's REST protocol (the versioned S3 test server, moto). Point an SDK client
 * (or an emulated Lambda) at `proxy.endpoint` instead of the server's.
 *
 * Every request is named after its AWS operation (`X-Amz-Target` for DynamoDB; method, path
 * and sub-resource for path-style S3), counted and logged. Injected latency
 * ({@link LatencyOptions}) delays requests before they are forwarded. Fault rules, matched per
 * request, make the network fail the way it does in production:
 *
 * | fault | the target | the client |
 * |---|---|---|
 * | `applyThen500` | applies the request | gets a 500 (or 503) the SDK retries |
 * | `applyThenReset` | applies the request | gets a reset connection |
 * | `applyThenHang` | applies the request | gets no answer until it gives up (its `requestTimeout`) or the proxy stops |
 * | `failBeforeApply` | never sees the request | gets a 500, a 503 or a throttling error |
 * | `resetBeforeApply` | never sees the request | gets a reset connection |
 * | `delay` | sees it `delayMs` late | gets the answer `delayAfterMs` after the target gave it |
 *
 * The `apply*` faults wait for the target's whole answer before failing, so the request has
 * taken effect when the client sees the failure: the lost reply behind every ambiguous commit.
 */
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { performance } from 'node:perf_hooks';
import { classifyS3Request, dynamoDbOperation } from './aws-operations';
import { LatencyInjector, LatencyOptions, mulberry32 } from './latency';
import { LOOPBACK } from './ports';

/** The kinds of fault a rule injects. */
export type FaultKind = 'applyThen500' | 'applyThenReset' | 'applyThenHang' | 'failBeforeApply' | 'resetBeforeApply' | 'delay';

/** Every fault kind, for counters and random choices. */
export const FAULT_KINDS: readonly FaultKind[] = ['applyThen500', 'applyThenReset', 'applyThenHang', 'failBeforeApply', 'resetBeforeApply', 'delay'];

/**
 * The error answered by `applyThen500` and `failBeforeApply`:
 * - `internal`: 500 `InternalServerError` (DynamoDB) / `InternalError` (S3), retried by the SDK;
 * - `unavailable`: 503 `ServiceUnavailable`, retried by the SDK;
 * - `throttling`: DynamoDB 400 `ThrottlingException` / S3 503 `SlowDown`, which the SDK
 *   classifies as throttling (retried with the throttling backoff).
 */
export type InjectedError = 'internal' | 'unavailable' | 'throttling';

/** Which protocol the target speaks. */
export type ProxiedService = 'dynamodb' | 's3';

/** A request as the rules see it. */
export interface ProxiedRequest {
  readonly service: ProxiedService;
  /** `PutItem`, `GetObject`, ...: DynamoDB from `X-Amz-Target`, S3 from method, path and query. */
  readonly operation: string;
  /** 1-based arrival order among the requests of this proxy since it started (or `resetStats()`). */
  readonly ordinal: number;
  readonly method: string;
  /** Path without the query. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  /** The body parsed as JSON (DynamoDB requests); undefined when it is not JSON. */
  readonly json: unknown;
  /** S3: the bucket (path-style). */
  readonly bucket?: string;
  /** S3: the object key, decoded. */
  readonly key?: string;
  /** S3: `?versionId=`. */
  readonly versionId?: string;
}

/** A fault rule. A request gets the fault of the first rule that matches and fires. */
export interface FaultRule {
  /** Named in the log. @default `<fault>#<n>` */
  readonly name?: string;
  /** Only requests of this operation (or these). @default every operation */
  readonly operation?: string | readonly string[];
  /** Only requests for which this returns true (body, JSON, key...). @default every request */
  readonly when?: (request: ProxiedRequest) => boolean;
  /** Fire from the n-th matching request on (1-based). @default 1 */
  readonly nth?: number;
  /** Fire at most this many times. @default 1, or unlimited when `probability` is given */
  readonly count?: number;
  /** Fire on each eligible request with this probability, drawn from the proxy's seeded PRNG. @default 1 */
  readonly probability?: number;
  readonly fault: FaultKind;
  /** `applyThen500` and `failBeforeApply`: the error answered. @default 'internal' */
  readonly error?: InjectedError;
  /** `delay`: milliseconds before the request is forwarded. @default 0 */
  readonly delayMs?: number;
  /** `delay`: milliseconds between the target's answer and the client's. @default 0 */
  readonly delayAfterMs?: number;
}

/** A rule once added: how often it matched and fired. */
export interface FaultRuleHandle {
  readonly name: string;
  /** Requests that matched its operation and predicate. */
  readonly matched: number;
  /** Requests it was applied to. */
  readonly fired: number;
  /** Removes the rule (requests in flight keep their fault). */
  remove(): void;
}

/** What happened to a request. */
export type ProxyOutcome =
  /** The client got an answer (`status`). */
  | 'answered'
  /** The proxy reset the client's connection. */
  | 'reset'
  /** The proxy never answered; the client gave up or the proxy stopped. */
  | 'hung'
  /** The client went away before its answer. */
  | 'client-gone'
  /** The target could not be reached; the client got a 502. */
  | 'target-error';

/** One proxied request. Times are `performance.now()` milliseconds. */
export interface ProxyLogEntry {
  readonly ordinal: number;
  readonly service: ProxiedService;
  readonly operation: string;
  readonly bucket?: string;
  readonly key?: string;
  readonly versionId?: string;
  /** The rule applied, if any. */
  readonly rule?: string;
  readonly fault?: FaultKind;
  /** Injected latency plus a `delay` rule's `delayMs`. */
  readonly delayMs: number;
  readonly startMs: number;
  /** The target's status; undefined when the request was not forwarded (or the target failed). */
  upstreamStatus?: number;
  /** The status the client got; undefined when it got none. */
  status?: number;
  outcome?: ProxyOutcome;
  endMs?: number;
}

/** A finished request with the target's answer, for {@link FaultProxy.onExchange} listeners. */
export interface ProxyExchange {
  readonly request: ProxiedRequest;
  readonly entry: ProxyLogEntry;
  /** The target's answer body; undefined when the request was not forwarded. */
  readonly upstreamBody?: Buffer;
}

/** Options of {@link FaultProxy.start}. */
export interface FaultProxyOptions {
  /** Where to forward, e.g. DynamoDB Local's or the S3 server's endpoint. */
  readonly target: string;
  /** The target's protocol. @default per request: DynamoDB when `X-Amz-Target` is set, else S3 */
  readonly service?: ProxiedService;
  /** Initial injected latency. @default none */
  readonly latency?: LatencyOptions;
  /** Seed of the PRNG behind `probability`. @default unseeded (Math.random) */
  readonly seed?: number;
  /** Port on 127.0.0.1. @default a free port chosen by the kernel */
  readonly port?: number;
}

interface ActiveRule {
  readonly rule: FaultRule;
  readonly name: string;
  readonly operations?: ReadonlySet<string>;
  readonly count: number;
  matched: number;
  fired: number;
}

interface UpstreamAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

const DYNAMODB_ERRORS: Readonly<Record<InjectedError, readonly [number, string, string]>> = {
  internal: [500, 'InternalServerError', 'Internal server error (injected by the fault proxy)'],
  unavailable: [503, 'ServiceUnavailable', 'Service unavailable (injected by the fault proxy)'],
  throttling: [400, 'ThrottlingException', 'Rate of requests exceeds the allowed throughput (injected by the fault proxy)'],
};

const S3_ERRORS: Readonly<Record<InjectedError, readonly [number, string, string]>> = {
  internal: [500, 'InternalError', 'We encountered an internal error. Please try again. (injected by the fault proxy)'],
  unavailable: [503, 'ServiceUnavailable', 'Service is unable to handle request. (injected by the fault proxy)'],
  throttling: [503, 'SlowDown', 'Please reduce your request rate. (injected by the fault proxy)'],
};

/** Hop-by-hop and body-framing headers the proxy does not pass on as they are. */
const NOT_FORWARDED = new Set(['connection', 'keep-alive', 'expect', 'transfer-encoding', 'proxy-connection', 'upgrade']);

/** The fault-injecting reverse proxy. */
export class FaultProxy {
  /** Starts the proxy and resolves once it listens. */
  public static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const proxy = new FaultProxy(options);
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
  /** Faults applied per kind. */
  public readonly injected: Record<FaultKind, number> = emptyCounters();
  /** Every request in arrival order. */
  public readonly log: ProxyLogEntry[] = [];

  private readonly target: URL;
  private readonly service?: ProxiedService;
  private readonly latency = new LatencyInjector();
  private readonly server: http.Server;
  private readonly agent = new http.Agent({ keepAlive: true });
  private readonly rules: ActiveRule[] = [];
  private readonly listeners = new Set<(exchange: ProxyExchange) => void>();
  /** Pending delays, cancelled by stop(). */
  private readonly waits = new Map<ReturnType<typeof setTimeout>, () => void>();
  private stopped = false;
  private random: () => number;
  private ordinal = 0;
  private ruleNumber = 0;

  private constructor(options: FaultProxyOptions) {
    this.target = new URL(options.target);
    this.service = options.service;
    if (options.latency) this.latency.set(options.latency);
    this.random = options.seed === undefined ? Math.random : mulberry32(options.seed);
    this.server = http.createServer((req, res) => this.onRequest(req, res));
    this.server.on('clientError', (_err, socket) => socket.destroy());
  }

  /** `http://127.0.0.1:<port>` */
  public get endpoint(): string {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('fault proxy is not listening');
    return `http://${LOOPBACK}:${address.port}`;
  }

  /** Replaces the injected latency. */
  public setLatency(options: LatencyOptions): void {
    this.latency.set(options);
  }

  /** Reseeds the PRNG behind `probability`. */
  public reseed(seed: number): void {
    this.random = mulberry32(seed);
  }

  /** Adds a fault rule after the existing ones. */
  public addRule(rule: FaultRule): FaultRuleHandle {
    const active = checkRule(rule, ++this.ruleNumber);
    this.rules.push(active);
    const rules = this.rules;
    return {
      name: active.name,
      get matched() { return active.matched; },
      get fired() { return active.fired; },
      remove() {
        const index = rules.indexOf(active);
        if (index >= 0) rules.splice(index, 1);
      },
    };
  }

  /** Removes every fault rule. */
  public clearRules(): void {
    this.rules.length = 0;
  }

  /**
   * Calls `listener` once per finished request, with the target's answer body (so a test can
   * see what DynamoDB really applied behind an injected failure). Returns a function that
   * removes the listener.
   */
  public onExchange(listener: (exchange: ProxyExchange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Requests of `operation` (of all operations when omitted). */
  public count(operation?: string): number {
    if (operation) return this.requests[operation] ?? 0;
    return Object.values(this.requests).reduce((a, b) => a + b, 0);
  }

  /** Clears the counters and the log, and restarts ordinals at 1 (the rules stay). */
  public resetStats(): void {
    this.ordinal = 0;
    for (const op of Object.keys(this.requests)) delete this.requests[op];
    Object.assign(this.injected, emptyCounters());
    this.log.length = 0;
  }

  /** Removes every rule and clears the counters and the log. */
  public clear(): void {
    this.clearRules();
    this.resetStats();
  }

  /**
   * Closes the proxy and every connection, hung ones included (the target keeps running).
   * Requests still held by a delay are dropped, never forwarded.
   */
  public async stop(): Promise<void> {
    this.stopped = true;
    for (const [timer, cancel] of this.waits) {
      clearTimeout(timer);
      cancel();
    }
    this.waits.clear();
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
      this.handle(req, res, Buffer.concat(chunks)).catch((e) => {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`fault proxy: ${(e as Error).message}`);
        }
      });
    });
  }

  private describe(req: http.IncomingMessage, body: Buffer): ProxiedRequest {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const target = dynamoDbOperation(req.headers['x-amz-target']);
    const service: ProxiedService = this.service ?? (target !== undefined ? 'dynamodb' : 's3');
    const common = { service, ordinal: ++this.ordinal, method, path: url.pathname, query: url.searchParams, headers: req.headers, body };
    let parsed: { value: unknown } | undefined;
    const json = () => {
      if (!parsed) {
        try {
          parsed = { value: JSON.parse(body.toString('utf8')) };
        } catch {
          parsed = { value: undefined };
        }
      }
      return parsed.value;
    };
    if (service === 'dynamodb') {
      return { ...common, operation: target ?? `${method} ${url.pathname}`, get json() { return json(); } };
    }
    const s3 = classifyS3Request(method, url.pathname, url.searchParams, req.headers);
    return { ...common, ...s3, get json() { return json(); } };
  }

  /** The first rule that matches and fires, if any (counting matches and draws as it goes). */
  private pick(request: ProxiedRequest): ActiveRule | undefined {
    for (const active of this.rules) {
      if (active.operations && !active.operations.has(request.operation)) continue;
      if (active.rule.when && !active.rule.when(request)) continue;
      active.matched += 1;
      if (active.matched < (active.rule.nth ?? 1) || active.fired >= active.count) continue;
      if (active.rule.probability !== undefined && this.random() >= active.rule.probability) continue;
      active.fired += 1;
      return active;
    }
    return undefined;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    const request = this.describe(req, body);
    const active = this.pick(request);
    const rule = active?.rule;
    const delayMs = this.latency.delayFor(request.operation) + (rule?.fault === 'delay' ? rule.delayMs ?? 0 : 0);
    const entry: ProxyLogEntry = {
      ordinal: request.ordinal,
      service: request.service,
      operation: request.operation,
      bucket: request.bucket,
      key: request.key,
      versionId: request.versionId,
      rule: active?.name,
      fault: rule?.fault,
      delayMs,
      startMs: performance.now(),
    };
    this.requests[request.operation] = (this.requests[request.operation] ?? 0) + 1;
    if (rule) this.injected[rule.fault] += 1;
    this.log.push(entry);
    let clientGone = false;
    res.on('close', () => {
      if (!res.writableFinished) clientGone = true;
    });
    const finish = (outcome: ProxyOutcome, status?: number, upstreamBody?: Buffer) => {
      entry.outcome = clientGone && outcome === 'answered' ? 'client-gone' : outcome;
      entry.status = status;
      entry.endMs = performance.now();
      for (const listener of this.listeners) listener({ request, entry, upstreamBody });
    };

    if (!await this.wait(delayMs)) {
      finish('hung');
      return;
    }
    if (rule?.fault === 'resetBeforeApply') {
      reset(res);
      finish('reset');
      return;
    }
    if (rule?.fault === 'failBeforeApply') {
      finish('answered', this.answerError(req, res, request, rule.error ?? 'internal'));
      return;
    }

    let answer: UpstreamAnswer;
    try {
      answer = await this.forward(req, body);
    } catch (e) {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`fault proxy: the target failed: ${(e as Error).message}`);
      }
      finish('target-error', 502);
      return;
    }
    entry.upstreamStatus = answer.status;
    switch (rule?.fault) {
      case 'applyThen500':
        finish('answered', this.answerError(req, res, request, rule.error ?? 'internal'), answer.body);
        return;
      case 'applyThenReset':
        reset(res);
        finish('reset', undefined, answer.body);
        return;
      case 'applyThenHang':
        // Never answer: the client's own timeout (or stop()) closes the connection.
        finish('hung', undefined, answer.body);
        return;
      case 'delay':
        if (!await this.wait(rule.delayAfterMs ?? 0)) {
          finish('hung', undefined, answer.body);
          return;
        }
        break;
      default:
        break;
    }
    if (res.destroyed) {
      finish('client-gone', undefined, answer.body);
      return;
    }
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
    finish('answered', answer.status, answer.body);
  }

  /** Resolves true after `ms` milliseconds, or false at once when the proxy stops first. */
  private wait(ms: number): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    if (ms <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waits.delete(timer);
        resolve(true);
      }, ms);
      this.waits.set(timer, () => resolve(false));
    });
  }

  /** Sends the request to the target and reads its whole answer. */
  private forward(req: http.IncomingMessage, body: Buffer): Promise<UpstreamAnswer> {
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (!NOT_FORWARDED.has(name) && value !== undefined) headers[name] = value;
    }
    headers.host = this.target.host;
    headers['content-length'] = String(body.length);
    return new Promise<UpstreamAnswer>((resolve, reject) => {
      const upstream = http.request({
        protocol: this.target.protocol,
        hostname: this.target.hostname,
        port: this.target.port,
        method: req.method,
        path: req.url,
        headers,
        agent: this.agent,
      }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const answerHeaders = { ...response.headers };
          delete answerHeaders['transfer-encoding'];
          delete answerHeaders.connection;
          delete answerHeaders['keep-alive'];
          const answerBody = Buffer.concat(chunks);
          // HEAD answers carry the length of the body they do not send.
          if (req.method !== 'HEAD') answerHeaders['content-length'] = String(answerBody.length);
          resolve({ status: response.statusCode ?? 502, headers: answerHeaders, body: answerBody });
        });
        response.on('error', reject);
      });
      upstream.on('error', reject);
      upstream.end(body);
    });
  }

  /** Answers an injected error in the service's own format; returns the status. */
  private answerError(req: http.IncomingMessage, res: http.ServerResponse, request: ProxiedRequest, error: InjectedError): number | undefined {
    if (res.destroyed) return undefined;
    const requestId = crypto.randomBytes(8).toString('hex').toUpperCase();
    if (request.service === 'dynamodb') {
      const [status, code, message] = DYNAMODB_ERRORS[error];
      const body = JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${code}`, message });
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.0',
        'content-length': String(Buffer.byteLength(body)),
        'x-amzn-requestid': requestId,
      });
      res.end(body);
      return status;
    }
    const [status, code, message] = S3_ERRORS[error];
    const body = '<?xml version="1.0" encoding="UTF-8"?>\n'
      + `<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${requestId}</RequestId><HostId>fault-proxy</HostId></Error>`;
    const head = req.method === 'HEAD';
    res.writeHead(status, {
      'content-type': 'application/xml',
      'content-length': String(head ? 0 : Buffer.byteLength(body)),
      'x-amz-request-id': requestId,
    });
    res.end(head ? undefined : body);
    return status;
  }
}

function emptyCounters(): Record<FaultKind, number> {
  return Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>;
}

/** Resets the client's connection (TCP RST where the platform allows it). */
function reset(res: http.ServerResponse): void {
  const socket = res.socket as (NonNullable<typeof res.socket> & { resetAndDestroy?: () => void }) | null;
  if (!socket) return;
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

function checkRule(rule: FaultRule, n: number): ActiveRule {
  const fail = (field: string, value: unknown, expected: string) => {
    throw new Error(`fault rule ${rule.name ?? `#${n}`}: ${field} must be ${expected}, got ${JSON.stringify(value)}`);
  };
  if (!FAULT_KINDS.includes(rule.fault)) fail('fault', rule.fault, `one of ${FAULT_KINDS.join(', ')}`);
  if (rule.nth !== undefined && (!Number.isSafeInteger(rule.nth) || rule.nth < 1)) fail('nth', rule.nth, 'a positive integer');
  if (rule.count !== undefined && !(rule.count === Infinity || (Number.isSafeInteger(rule.count) && rule.count >= 1))) {
    fail('count', rule.count, 'a positive integer or Infinity');
  }
  if (rule.probability !== undefined && !(rule.probability > 0 && rule.probability <= 1)) fail('probability', rule.probability, 'in (0, 1]');
  if (rule.error !== undefined && !Object.prototype.hasOwnProperty.call(DYNAMODB_ERRORS, rule.error)) fail('error', rule.error, 'internal, unavailable or throttling');
  for (const field of ['delayMs', 'delayAfterMs'] as const) {
    const value = rule[field];
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) fail(field, value, 'a non-negative number of milliseconds');
  }
  if (rule.fault === 'delay' && !(rule.delayMs || rule.delayAfterMs)) fail('delayMs', rule.delayMs, 'positive (or delayAfterMs) for a delay rule');
  const operations = rule.operation === undefined ? undefined : new Set(typeof rule.operation === 'string' ? [rule.operation] : rule.operation);
  return {
    rule,
    name: rule.name ?? `${rule.fault}#${n}`,
    operations,
    count: rule.count ?? (rule.probability !== undefined ? Infinity : 1),
    matched: 0,
    fired: 0,
  };
}
