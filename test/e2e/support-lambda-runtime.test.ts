/**
 * The Lambda runtime emulation, against fixture handlers bundled here with esbuild the way
 * projen bundles the real ones (then loaded from the built file, not the source).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { functionUrlEvent, LambdaRuntime } from '../support/lambda-runtime';

let dir: string;

function bundle(name: string): string {
  const outdir = path.join(dir, `${name}.lambda`);
  esbuild.buildSync({
    entryPoints: [path.join(__dirname, '..', 'support', 'fixtures', `${name}.ts`)],
    outfile: path.join(outdir, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
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

  test('records each NDJSON line with its arrival time, in order, including a line split across writes', async () => {
    const response = await runtime.invokeUrl('GET', '/stream', { query: { pauseMs: '150', tag: ['a', 'b'] } });
    expect(response.statusCode).toBe(200);
    expect(response.headers).toEqual({ 'content-type': 'application/x-ndjson', 'x-fixture': 'yes' });
    expect(response.lines.map((l) => l.json)).toEqual([
      { type: 'index', query: { pauseMs: '150', tag: 'a,b' } },
      { type: 'part', name: 'first' },
      { type: 'part', name: 'second' },
      { type: 'end' },
    ]);
    const [index, first, second, end] = response.lines.map((l) => l.atMs);
    // Each pause is injected by the handler, so these gaps are lower bounds on any machine.
    expect(first - index).toBeGreaterThanOrEqual(140);
    expect(second - first).toBeGreaterThanOrEqual(280);
    expect(end).toBeGreaterThanOrEqual(second);
    expect(response.rawChunks.length).toBeGreaterThanOrEqual(5);
    expect(response.totalMs).toBeGreaterThanOrEqual(end);
  });

  test('a plain invocation returns the streamed payload as JSON, with the environment Lambda would set', async () => {
    const first = await runtime.invoke({ operation: 'get', key: { id: '1' } });
    expect(first).toMatchObject({
      echo: { operation: 'get', key: { id: '1' } },
      hasTimeLeft: true,
      env: { value: 'from-template', region: 'us-east-1', s3: 'http://127.0.0.1:1' },
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

  test('reports the bundle\'s init time and captures its JSON logs', async () => {
    expect(runtime.initMs).toBeGreaterThan(0);
    await runtime.invoke({});
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(runtime.jsonLogs).toContainEqual(expect.objectContaining({ msg: 'fixture invoked' }));
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
