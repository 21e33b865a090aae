/**
 * The Lambda runtime emulation, against fixture handlers bundled here with esbuild the way
 * projen bundles the real ones (then loaded from the built file, not the source).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { functionUrlEvent, lambdaNodeExecutable, LambdaRuntime } from '../support/lambda-runtime';
import { LOOPBACK } from '../support/ports';

let dir: string;

function bundle(name: string): string {
  const outdir = path.join(dir, `${name}.lambda`);
  esbuild.buildSync({
    entryPoints: [path.join(__dirname, '..', 'support', 'fixtures', `${name}.ts`)],
    outfile: path.join(outdir, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node24',
    logLevel: 'silent',
  });
  return outdir;
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambda-runtime-test-'));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('streaming handler (awslambda.streamifyResponse)', () => {
  let runtime: LambdaRuntime;

  beforeAll(async () => {
    runtime = await LambdaRuntime.start({
      bundle: bundle('stream-handler'),
      environment: { FIXTURE_VALUE: 'from-template' },
      endpoints: { s3: 'http://127.0.0.1:1', dynamodb: 'http://127.0.0.1:2' },
    });
  });

  afterAll(async () => {
    await runtime?.stop();
  });

  test('separates the prelude (status, headers, cookies) from the body', async () => {
    const response = await runtime.invokeUrl('POST', '/echo', { body: { hello: 'world' }, headers: { 'X-Caller': 'test' } });
    expect(response.statusCode).toBe(201);
    expect(response.headers).toEqual({ 'content-type': 'application/json' });
    expect(response.cookies).toEqual(['a=1']);
    expect(response.text.includes('\u0000')).toBe(false);
    expect(JSON.parse(response.text)).toMatchObject({
      method: 'POST',
      body: '{"hello":"world"}',
      base64: false,
      headers: { 'x-caller': 'test', 'content-type': 'application/json' },
    });
  });

  test('sends binary bodies base64-encoded, as Function URLs do', async () => {
    const response = await runtime.invokeUrl('PUT', '/echo', { body: Buffer.from([0, 1, 254, 255]) });
    expect(JSON.parse(response.text)).toMatchObject({ body: '0001feff', base64: true });
  });

  test('delivers each NDJSON line while the handler is still running, in order, including a line split across writes', async () => {
    // The handler waits at a gate after each line; the test opens a gate only once the line
    // written before it has arrived. A front that held the lines back until the handler
    // finished would never open a gate (the invocation would time out instead).
    const events: string[] = [];
    const gate = await Gate.start();
    const open = (step: string) => {
      events.push(`open ${step}`);
      gate.open(step);
    };
    try {
      const response = await runtime.invokeUrl('GET', '/stream', {
        query: { gate: gate.url, tag: ['a', 'b'] },
        onLine: (line) => {
          events.push(`line ${line.json?.name ?? line.json?.type}`);
          if (line.json?.type === 'index') open('after-index');
          if (line.json?.name === 'first') {
            open('after-first');
            open('mid-second');
          }
        },
      });
      expect(response.statusCode).toBe(200);
      expect(response.headers).toEqual({ 'content-type': 'application/x-ndjson', 'x-fixture': 'yes' });
      expect(response.lines.map((l) => l.json)).toEqual([
        { type: 'index', query: { gate: gate.url, tag: 'a,b' } },
        { type: 'part', name: 'first' },
        { type: 'part', name: 'second' },
        { type: 'end' },
      ]);
      expect(events).toEqual(['line index', 'open after-index', 'line first', 'open after-first', 'open mid-second', 'line second', 'line end']);
      expect(gate.requested).toEqual(['after-index', 'after-first', 'mid-second']);
      // Arrival times are stamped in arrival order, on one monotonic clock.
      const times = response.lines.map((l) => l.atMs);
      expect([...times].sort((a, b) => a - b)).toEqual(times);
      expect(response.totalMs).toBeGreaterThanOrEqual(times[times.length - 1]);
      // The prelude, then index, first, half a line, the other half, end: separate writes, separate chunks.
      expect(response.rawChunks.length).toBeGreaterThanOrEqual(5);
    } finally {
      await gate.stop();
    }
  });

  test('a plain invocation returns the streamed payload as JSON, with the environment Lambda would set', async () => {
    const first = await runtime.invoke({ operation: 'get', key: { id: '1' } });
    expect(first).toMatchObject({
      echo: { operation: 'get', key: { id: '1' } },
      hasTimeLeft: true,
      env: { value: 'from-template', region: 'us-east-1', s3: 'http://127.0.0.1:1', executionEnv: 'AWS_Lambda_nodejs24.x' },
    });
    // Module scope ran once: the same execution environment serves the next invocation.
    const second = await runtime.invoke({});
    expect(second.loadedAt).toBe(first.loadedAt);
    expect(second.invocations).toBeGreaterThan(first.invocations);
  });

  test('a handler error is a 502 at the URL and a rejection for a plain invocation', async () => {
    const response = await runtime.invokeUrl('GET', '/throw');
    expect(response.statusCode).toBe(502);
    expect(response.error).toEqual({ name: 'Error', message: 'fixture failure' });
    await expect(runtime.invoke({ fail: true })).rejects.toThrow('Error: fixture failure');
    // The environment survives the error.
    expect((await runtime.invokeUrl('GET', '/nowhere')).statusCode).toBe(404);
  });

  test('is as strict as the real runtime: end(chunk) skips the prelude, setContentType after a write throws', async () => {
    const endChunk = await runtime.invokeUrl('GET', '/end-chunk');
    expect(endChunk.statusCode).toBe(502);
    expect(endChunk.error?.name).toBe('InvalidHttpPrelude');
    const late = await runtime.invokeUrl('GET', '/late-content-type');
    expect(late.error).toEqual({ name: 'Error', message: 'Cannot set content-type, too late.' });
  });

  test('runs the bundle on the Node.js major of the Lambda runtime (24), not on the one running the tests', async () => {
    expect(runtime.nodeVersion).toMatch(/^v24\./);
    expect((await runtime.invoke({})).node).toBe(runtime.nodeVersion);
  });

  test('reports the bundle\'s init time and captures its JSON logs', async () => {
    expect(Number.isFinite(runtime.initMs) && runtime.initMs >= 0).toBe(true);
    await runtime.flushLogs();
    const before = runtime.jsonLogs.filter((l) => l.msg === 'fixture invoked').length;
    await runtime.invoke({});
    await runtime.flushLogs();
    expect(runtime.jsonLogs.filter((l) => l.msg === 'fixture invoked')).toHaveLength(before + 1);
    expect(runtime.logs.some((l) => l.includes('lambda-runtime-flush'))).toBe(false);
  });
});

describe('buffered handler', () => {
  let runtime: LambdaRuntime;

  beforeAll(async () => {
    runtime = await LambdaRuntime.start({ bundle: path.join(bundle('buffered-handler'), 'index.js') });
  });

  afterAll(async () => {
    await runtime?.stop();
  });

  test('a returned { statusCode, headers, body } becomes the URL response', async () => {
    const response = await runtime.invokeUrl('GET', '/x');
    expect(response.statusCode).toBe(202);
    expect(response.headers).toEqual({ 'content-type': 'text/plain' });
    expect(response.text).toBe('buffered /x');
  });

  test('a plain invocation returns the handler\'s value', async () => {
    expect(await runtime.invoke({ a: 1 })).toEqual({ plain: true, got: { a: 1 } });
  });
});

describe('errors and events', () => {
  test('names the command that installs the Lambda Node.js when it is missing', () => {
    expect(() => lambdaNodeExecutable({ SPLIT_STORE_LAMBDA_NODE: path.join(dir, 'no-node') })).toThrow(/SPLIT_STORE_LAMBDA_NODE is .*no-node, which does not exist/);
    expect(lambdaNodeExecutable({ SPLIT_STORE_LAMBDA_NODE: process.execPath })).toBe(process.execPath);
  });

  test('fails to start without a built bundle, naming the command that builds it', async () => {
    await expect(LambdaRuntime.start({ bundle: path.join(dir, 'missing.lambda') })).rejects.toThrow('run `npx projen bundle` first');
  });

  test('fails to start when the bundle has no such export', async () => {
    await expect(LambdaRuntime.start({ bundle: bundle('buffered-handler'), handler: 'nope' })).rejects.toThrow(
      /Runtime\.ImportModuleError: .* does not export a function named nope/);
  });

  test('builds a payload 2.0 Function URL event', () => {
    const event = functionUrlEvent('get', '/items/a', { query: { parts: 'a,b' } }) as any;
    expect(event).toMatchObject({
      version: '2.0',
      rawPath: '/items/a',
      rawQueryString: 'parts=a%2Cb',
      queryStringParameters: { parts: 'a,b' },
      requestContext: { http: { method: 'GET', path: '/items/a' } },
      isBase64Encoded: false,
    });
    expect(event.body).toBeUndefined();
  });
});

/** A loopback HTTP server whose `GET /<step>` is answered only once the test has opened that step. */
class Gate {
  public static async start(): Promise<Gate> {
    const gate = new Gate();
    await new Promise<void>((resolve) => gate.server.listen(0, LOOPBACK, resolve));
    return gate;
  }

  /** The steps asked for, in arrival order. */
  public readonly requested: string[] = [];
  private readonly opened = new Set<string>();
  private readonly waiting = new Map<string, http.ServerResponse>();
  private readonly server = http.createServer((req, res) => {
    const step = (req.url ?? '/').slice(1);
    this.requested.push(step);
    if (this.opened.has(step)) res.end('go');
    else this.waiting.set(step, res);
  });

  public get url(): string {
    const address = this.server.address() as { port: number };
    return `http://${LOOPBACK}:${address.port}`;
  }

  public open(step: string): void {
    this.opened.add(step);
    this.waiting.get(step)?.end('go');
    this.waiting.delete(step);
  }

  public async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
