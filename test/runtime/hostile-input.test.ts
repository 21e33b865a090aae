/**
 * Hostile input through the reader handler over the real SplitStoreClient, with the SDK
 * mocked (aws-sdk-client-mock): each case of the data-safety issue's "bad input" half gets
 * an answer that names the problem, a 4xx rather than a 5xx, and, where the request itself
 * shows the problem, no AWS call at all. test/e2e/hostile-input.e2e.test.ts runs a larger
 * table through the built bundle against the local servers.
 */
import { Writable } from 'stream';
import { DynamoDBClient, DynamoDBServiceException, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { encodeRow } from '../../src/runtime/codec';
import type { StoreConfig } from '../../src/runtime/config';
import { createReaderHandler } from '../../src/runtime/handler';
import { parseFunctionUrlRequest } from '../../src/runtime/handler-request';
import { SplitStoreClient } from '../../src/runtime/store';
import type { IndexRow, PartPin } from '../../src/runtime/types';

const CONFIG: StoreConfig = {
  tableName: 'Invoices-Table1A2B3C',
  bucketName: 'invoices-bucket83908e77-1x2y3z',
  keyPrefix: 'items/',
  partitionKey: { name: 'id', type: 'S' },
  indexes: [],
  writerDeadlineMs: 20_000,
};

/** A store keyed by a number partition key and a string sort key. */
const NUMBERED: StoreConfig = { ...CONFIG, partitionKey: { name: 'tenant', type: 'N' }, sortKey: { name: 'invoice', type: 'S' } };

const ddb = mockClient(DynamoDBClient);
const s3 = mockClient(S3Client);

beforeEach(() => {
  ddb.reset();
  s3.reset();
});

afterAll(() => {
  ddb.restore();
  s3.restore();
});

/** What the caller of one request received, and what the function logged. */
interface Answer {
  readonly status?: number;
  readonly text: string;
  readonly logs: Array<Record<string, any>>;
  readonly client: SplitStoreClient;
}

/** Collects the bytes a handler writes; `from` records the HTTP status it was given. */
class Collected extends Writable {
  public status?: number;
  public text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

async function run(event: unknown, config: StoreConfig = CONFIG): Promise<Answer> {
  const logs: Array<Record<string, any>> = [];
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const client = new SplitStoreClient({
    config,
    dynamodb: new DynamoDBClient({ region: 'us-east-1', credentials }),
    s3: new S3Client({ region: 'us-east-1', credentials }),
    log: (entry) => logs.push(entry),
    retryDelayMs: 1,
  });
  const handler = createReaderHandler(client, {
    config,
    log: (entry) => logs.push(entry),
    httpResponseStream: (stream, metadata) => {
      (stream as Collected).status = metadata.statusCode;
      return stream;
    },
  });
  const out = new Collected();
  await handler(event, out, { awsRequestId: 'req-7' });
  return { status: out.status, text: out.text, logs, client };
}

function urlEvent(method: string, path: string, options: { query?: string; body?: string | object } = {}): unknown {
  const body = options.body === undefined || typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  return {
    rawPath: path,
    rawQueryString: options.query ?? '',
    headers: {},
    requestContext: { http: { method, path } },
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: false,
  };
}

const url = (method: string, path: string, options?: { query?: string; body?: string | object }, config?: StoreConfig) =>
  run(urlEvent(method, path, options), config);
/** A plain invocation whose event is JSON text, as Lambda parses it (own `__proto__` keys included). */
const invoke = (json: string, config?: StoreConfig) => run(JSON.parse(json), config);

function httpError(answer: Answer): { code: string; message: string; requestId?: string } {
  return JSON.parse(answer.text).error;
}

function invokeError(answer: Answer): { statusCode: number; code: string; message: string; requestId?: string } {
  const document = JSON.parse(answer.text);
  expect(document.ok).toBe(false);
  return document.error;
}

function expectNoAwsCall(): void {
  expect(ddb.calls()).toHaveLength(0);
  expect(s3.calls()).toHaveLength(0);
}

function pin(versionId: string, size = 2): PartPin {
  return { versionId, etag: `"${versionId}"`, size, contentType: 'application/json' };
}

function stored(parts: Record<string, PartPin>, revision = 2): IndexRow {
  return { key: { id: 'a' }, attributes: { id: 'a' }, revision, parts };
}

function object(versionId: string, content: string) {
  return { VersionId: versionId, ETag: `"${versionId}"`, Body: { transformToByteArray: async () => new TextEncoder().encode(content) } as never };
}

function lines(answer: Answer): any[] {
  return answer.text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
}

describe('prototype names as map keys', () => {
  test('fields=constructor:x reads the item: constructor is a valid part name the row does not pin', async () => {
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(CONFIG, stored({ summary: pin('s1') })) });
    s3.on(GetObjectCommand).resolves(object('s1', '{}'));
    const answer = await url('GET', '/items/a', { query: 'fields=constructor:x' });
    expect(answer.status).toBe(200);
    expect(lines(answer).map((l) => l.type)).toEqual(['index', 'part', 'end']);
  });

  test('fields=__proto__:x is a 400 naming the part name, before any AWS call', async () => {
    const answer = await url('GET', '/items/a', { query: 'fields=__proto__:x' });
    expect(answer.status).toBe(400);
    expect(httpError(answer)).toMatchObject({ code: 'ValidationError', message: expect.stringContaining('invalid part name "__proto__"') });
    expectNoAwsCall();
  });

  test('a row that pins a part named constructor is read without a ProjectionError (no fields asked)', async () => {
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(CONFIG, stored({ constructor: pin('c1') })) });
    s3.on(GetObjectCommand).resolves(object('c1', '{}'));
    const answer = await url('GET', '/items/a');
    expect(lines(answer).filter((l) => l.type !== 'index')).toEqual([
      expect.objectContaining({ type: 'part', name: 'constructor', body: '{}' }),
      expect.objectContaining({ type: 'end', errors: [] }),
    ]);
  });

  test('reading a part named constructor that the row does not pin is NotPinned, not a dangling pointer', async () => {
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(CONFIG, stored({ summary: pin('s1') })) });
    s3.on(GetObjectCommand).rejects(new S3ServiceException({ name: 'NoSuchKey', $fault: 'client', message: 'x', $metadata: { httpStatusCode: 404 } }));
    const answer = await url('GET', '/items/a', { query: 'parts=constructor' });
    expect(lines(answer).find((l) => l.type === 'part-error')).toMatchObject({ name: 'constructor', code: 'NotPinned' });
    expect(answer.client.danglingPointers).toBe(0);
    expect(answer.logs.some((l) => JSON.stringify(l).includes('DanglingPointers'))).toBe(false);
    // Only the current-version request that S3 was sent first: never a GetObject without a pin to check.
    expect(s3.commandCalls(GetObjectCommand).every((c) => c.args[0].input.VersionId === undefined)).toBe(true);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(1);
  });

  test('removeParts: [constructor] is not "both written and removed", and removes nothing the row does not pin', async () => {
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(CONFIG, stored({ summary: pin('s1') })) });
    ddb.on(UpdateItemCommand).resolves({ Attributes: encodeRow(CONFIG, stored({ summary: pin('s1') }, 3)) });
    const answer = await url('PATCH', '/items/a', { body: { removeParts: ['constructor'], attributes: { note: 'x' } } });
    expect(answer.status).toBe(200);
    const update = ddb.commandCalls(UpdateItemCommand)[0].args[0].input;
    expect(update.UpdateExpression).not.toContain('REMOVE');
    // No delete marker for a part that was never there.
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(0);
  });

  test('presign of a part named constructor that the row does not pin is a 404, never a URL without versionId', async () => {
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(CONFIG, stored({ summary: pin('s1') })) });
    const answer = await url('GET', '/items/a/parts/constructor/url');
    expect(answer.status).toBe(404);
    expect(httpError(answer).code).toBe('NotFound');
  });

  test('__proto__ as a part name in a body is a 400, not silently dropped', async () => {
    const answer = await url('PUT', '/items/a', { body: '{"parts":{"__proto__":{"json":{"a":1}}}}' });
    expect(answer.status).toBe(400);
    expect(httpError(answer).message).toContain('invalid part name "__proto__"');
    expectNoAwsCall();
  });

  test('__proto__ as a fields key of an invocation is a 400', async () => {
    const answer = await invoke('{"operation":"get","key":{"id":"a"},"fields":{"__proto__":["x"]}}');
    expect(invokeError(answer)).toMatchObject({ statusCode: 400, code: 'ValidationError', message: expect.stringContaining('"__proto__"') });
    expectNoAwsCall();
  });

  test('__proto__ as a top-level attribute name is a 400 before any call', async () => {
    const answer = await url('PUT', '/items/a', { body: '{"attributes":{"__proto__":{"x":1}}}' });
    expect(answer.status).toBe(400);
    expect(httpError(answer).message).toContain('"__proto__"');
    expectNoAwsCall();
  });

  test('__proto__ and constructor inside an attribute map are stored as map keys', async () => {
    ddb.on(GetItemCommand).resolves({});
    ddb.on(PutItemCommand).resolves({});
    const answer = await url('PUT', '/items/a', { body: '{"attributes":{"meta":{"__proto__":1,"constructor":2}}}' });
    expect(answer.status).toBe(201);
    const item = ddb.commandCalls(PutItemCommand)[0].args[0].input.Item!;
    expect(Object.keys(item.meta.M!).sort()).toEqual(['__proto__', 'constructor']);
    expect(JSON.parse(answer.text).attributes.meta).toEqual(JSON.parse('{"__proto__":1,"constructor":2}'));
  });
});

describe('JSON nesting', () => {
  const deep = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

  test('a json part nested 200,000 deep is a 400 over the URL, before any call', async () => {
    const answer = await url('PUT', '/items/a', { body: `{"parts":{"summary":{"json":${deep(200_000)}}}}` });
    expect(answer.status).toBe(400);
    expect(httpError(answer).message).toMatch(/nest/);
    expectNoAwsCall();
  });

  test('a json part nested 200,000 deep is a 400 in a plain invocation too', async () => {
    const answer = await invoke(`{"operation":"put","key":{"id":"a"},"parts":{"summary":{"json":${deep(200_000)}}}}`);
    expect(invokeError(answer)).toMatchObject({ statusCode: 400, message: expect.stringMatching(/nest/) });
    expectNoAwsCall();
  });

  test('a stored JSON part nested deeper than the cap fails that part alone with ProjectionError', async () => {
    const body = deep(100_000);
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(CONFIG, stored({ summary: pin('s1', body.length), lines: pin('l1') })) });
    s3.on(GetObjectCommand, { Key: 'items/a/summary' }).resolves(object('s1', body));
    s3.on(GetObjectCommand, { Key: 'items/a/lines' }).resolves(object('l1', '[]'));
    const answer = await url('GET', '/items/a', { query: 'parts=summary,lines&fields=summary:a' });
    expect(lines(answer).find((l) => l.type === 'part-error')).toMatchObject({ name: 'summary', code: 'ProjectionError' });
    expect(lines(answer).find((l) => l.type === 'part')).toMatchObject({ name: 'lines' });
  });
});

describe('numbers in keys', () => {
  test.each(['9007199254740993.0', '9.007199254740993e15', '0.30000000000000004441'])(
    'path segment %s is refused: it is not the number it looks like', async (text) => {
      const answer = await url('GET', `/items/${text}/inv-1`, {}, NUMBERED);
      expect(answer.status).toBe(400);
      expect(httpError(answer).message).toContain(text);
      expectNoAwsCall();
    });

  test('a number that is exactly what it says is accepted: 1e3, 1.50, -0.5', () => {
    for (const [text, value] of [['1e3', 1000], ['1.50', 1.5], ['-0.5', -0.5]] as const) {
      const op = parseFunctionUrlRequest(urlEvent('GET', `/items/${text}/x`) as never, NUMBERED);
      expect(op.request).toMatchObject({ key: { tenant: value } });
    }
  });

  test('an integer key beyond 2^53 in a plain invocation is refused: JSON parsing may have rounded it', async () => {
    const answer = await invoke('{"operation":"get","key":{"tenant":9007199254740993,"invoice":"x"}}', NUMBERED);
    expect(invokeError(answer)).toMatchObject({ statusCode: 400, message: expect.stringContaining('tenant') });
    expectNoAwsCall();
  });

  test('a number in a URL body that JSON parsing would change is refused, before any call', async () => {
    const answer = await url('PUT', '/items/a', { body: '{"attributes":{"amount":12345678901234567890}}' });
    expect(answer.status).toBe(400);
    expect(httpError(answer).message).toContain('12345678901234567890');
    expectNoAwsCall();
  });
});

describe('duplicates and fan-out', () => {
  test('duplicate removeParts is refused before any AWS call', async () => {
    const answer = await url('PATCH', '/items/a', { body: { removeParts: ['summary', 'summary'] } });
    expect(answer.status).toBe(400);
    expect(httpError(answer).message).toContain('"summary"');
    expectNoAwsCall();
  });

  test('a read naming 5,000 parts is refused before any S3 request (URL)', async () => {
    const names = Array.from({ length: 5000 }, (_, i) => `p${i}`).join(',');
    const answer = await url('GET', '/items/a', { query: `parts=${names}` });
    expect(answer.status).toBe(400);
    expect(httpError(answer).message).toContain('100');
    expectNoAwsCall();
  });

  test('a read naming 5,000 parts is refused before any S3 request (invocation)', async () => {
    const names = Array.from({ length: 5000 }, (_, i) => `p${i}`);
    const answer = await invoke(JSON.stringify({ operation: 'get', key: { id: 'a' }, parts: names }));
    expect(invokeError(answer)).toMatchObject({ statusCode: 400, message: expect.stringContaining('100') });
    expectNoAwsCall();
  });

  test('a read whose second part key is too long for S3 is refused before the first GetObject', async () => {
    // items/ + 1,010 + / + part: 'a' fits in 1,024 bytes, 'x'.repeat(10) does not.
    const answer = await url('GET', `/items/${'k'.repeat(1010)}`, { query: `parts=a,${'x'.repeat(10)}` });
    expect(answer.status).toBe(400);
    expect(httpError(answer).message).toContain('the S3 key of part "xxxxxxxxxx" would be 1027 bytes');
    expectNoAwsCall();
  });

  test('the store itself refuses more than 100 part names per read', async () => {
    const answer = await run({ operation: 'get', key: { id: 'a' }, parts: Array.from({ length: 101 }, (_, i) => `p${i}`) });
    expect(invokeError(answer).statusCode).toBe(400);
    const client = answer.client;
    const read = client.get({ key: { id: 'a' }, parts: Array.from({ length: 101 }, (_, i) => `p${i}`) });
    await expect(read.next()).rejects.toMatchObject({ statusCode: 400 });
    expectNoAwsCall();
  });
});

describe('AWS error texts stay in the log', () => {
  const arn = 'arn:aws:iam::123456789012:role/Invoices-ReaderRole';
  const text = `User: ${arn} is not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/${CONFIG.tableName}`;
  const accessDenied = () => new DynamoDBServiceException({
    name: 'AccessDeniedException', $fault: 'client', message: text, $metadata: { httpStatusCode: 400 },
  });

  test('a DynamoDB failure answers a stable code and a plain message with the request id; the AWS text is logged', async () => {
    ddb.on(GetItemCommand).rejects(accessDenied());
    const answer = await url('GET', '/items/a', { query: 'parts=' });
    expect(answer.status).toBeGreaterThanOrEqual(500);
    expect(answer.text).not.toMatch(/arn:|123456789012|AccessDenied|Invoices-Table|Exception/);
    expect(httpError(answer)).toMatchObject({ code: expect.any(String), requestId: 'req-7' });
    expect(JSON.stringify(answer.logs)).toContain(arn);
  });

  test('an S3 failure of one part answers a plain part error; the AWS text is logged', async () => {
    ddb.on(GetItemCommand).resolves({ Item: encodeRow(CONFIG, stored({ summary: pin('s1') })) });
    s3.on(GetObjectCommand).rejects(new S3ServiceException({
      name: 'AccessDenied', $fault: 'client', message: `${arn} may not read ${CONFIG.bucketName}`, $metadata: { httpStatusCode: 403 },
    }));
    const answer = await url('GET', '/items/a', { query: 'parts=summary' });
    const error = lines(answer).find((l) => l.type === 'part-error');
    expect(error).toMatchObject({ name: 'summary', code: 'S3Error' });
    expect(answer.text).not.toMatch(/arn:|123456789012|AccessDenied|invoices-bucket/);
    expect(JSON.stringify(answer.logs)).toContain(arn);
  });

  test('an invocation gets the same plain error document', async () => {
    ddb.onAnyCommand().rejects(accessDenied());
    const answer = await invoke('{"operation":"list"}');
    expect(answer.text).not.toMatch(/arn:|123456789012|AccessDenied|Invoices-Table|Exception/);
  });
});

describe('request bodies', () => {
  const withType = (type: string | undefined) => ({
    ...(urlEvent('PUT', '/items/a', { body: { attributes: { n: 1 } } }) as object),
    headers: type === undefined ? {} : { 'content-type': type },
  });

  test.each([undefined, '', 'application/json', 'application/json; charset=utf-8', 'Application/JSON', 'application/merge-patch+json'])(
    'content type %p is read as JSON', (type) => {
      expect(parseFunctionUrlRequest(withType(type) as never, CONFIG)).toMatchObject({ kind: 'put', request: { attributes: { n: 1 } } });
    });

  test.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx'])(
    'content type %p is a 415 that names it', async (type) => {
      const answer = await run(withType(type));
      expect(answer.status).toBe(415);
      expect(httpError(answer)).toMatchObject({ code: 'UnsupportedMediaType', message: expect.stringContaining(JSON.stringify(type)) });
      expectNoAwsCall();
    });
});

describe('one set of limits', () => {
  test('the parser refuses a presign lifetime over the store maximum of 3600 s', () => {
    expect(() => parseFunctionUrlRequest(urlEvent('GET', '/items/a/parts/summary/url', { query: 'expiresIn=3601' }) as never, CONFIG))
      .toThrow(/3600/);
    expect(() => parseFunctionUrlRequest(urlEvent('GET', '/items/a/parts/summary/url', { query: 'expiresIn=604800' }) as never, CONFIG))
      .toThrow(/3600/);
  });
});
