/**
 * Hostile requests through the BUILT reader (assets/reader.lambda/index.js, `npx projen
 * bundle`) in the Lambda runtime emulation, against DynamoDB Local (behind a FaultProxy
 * that counts its requests and injects nothing) and the versioned S3 test server, with the table and bucket
 * created from the SplitStore construct's template.
 *
 * One table of requests over both entry styles (Function URL routes and plain invocations).
 * For each: the status and error code; a message that names the problem; no 5xx; no AWS
 * error text (no ARN, account id, table or bucket name, SDK exception name, stack); nothing
 * written (a full table scan and ListObjectVersions of the bucket are equal before and
 * after); and, where the request itself shows the problem, no request at all to S3 or
 * DynamoDB. Requests that need the row (a 404, a part the row does not pin) may read, never
 * write.
 */
import * as path from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { AttributeType } from 'aws-cdk-lib/aws-dynamodb';
import { FaultProxy } from '../support/fault-proxy';
import { functionUrlEvent, LambdaRuntime, UrlRequest } from '../support/lambda-runtime';
import { OUT_OF_REACH_MS, PATIENT_READER_ENVIRONMENT, startLocalStore, VersionedLocalStore } from '../support/local-store';

const BUNDLE = path.join(__dirname, '..', '..', 'assets', 'reader.lambda', 'index.js');

/** What a request is: a Function URL request, a hand-made Function URL event, or a plain invocation. */
type HostileRequest =
  | { readonly url: readonly [method: string, path: string, request?: UrlRequest] }
  | { readonly event: Record<string, unknown> }
  | { readonly invoke: unknown };

interface HostileCase {
  readonly name: string;
  readonly request: HostileRequest;
  readonly status: number;
  /** The error code; absent for a request answered normally (a 200 read that is handled correctly). */
  readonly code?: string;
  /** What the message must name. */
  readonly names?: string | RegExp;
  /** The answer needs the row: DynamoDB and S3 may be called, nothing may be written. */
  readonly reads?: boolean;
  /** Extra checks of a 200 answer. */
  readonly check?: (answer: Answer) => void;
}

interface Answer {
  readonly status: number;
  /** The error the caller got (HTTP body `error`, invocation `error`), if any. */
  readonly error?: { readonly code: string; readonly message: string; readonly requestId?: string; readonly statusCode?: number };
  /** Everything the caller could read about errors: the error document, part-error and error lines. */
  readonly errorText: string;
  /** NDJSON lines of a streamed read. */
  readonly lines: any[];
}

// ---- the table ------------------------------------------------------------------------

const KEY = { tenant: 'acme', number: 1 };
const ITEM = '/items/acme/1';
const get = (query: string): HostileRequest => ({ url: ['GET', ITEM, { query: Object.fromEntries(new URLSearchParams(query)) }] });
const getRaw = (rawQuery: string): HostileRequest => ({ event: { ...functionUrlEvent('GET', ITEM), rawQueryString: rawQuery } });
const put = (body: string | object, headers?: Record<string, string>): HostileRequest => ({ url: ['PUT', ITEM, { body, headers }] });
const patch = (body: string | object): HostileRequest => ({ url: ['PATCH', ITEM, { body }] });
const invoke = (event: unknown): HostileRequest => ({ invoke: event });
/** A plain invocation given as JSON text, so `__proto__` keys are own keys as in a real Lambda event. */
const invokeJson = (json: string): HostileRequest => ({ invoke: JSON.parse(json) });
const deep = (levels: number, leaf = '1') => '{"a":'.repeat(levels) + leaf + '}'.repeat(levels);
const nested = (levels: number): unknown => (levels === 0 ? 'leaf' : { a: nested(levels - 1) });
const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
const names = (n: number) => Array.from({ length: n }, (_, i) => `p${i}`);

const routes: HostileCase[] = [
  { name: 'GET / is no route', request: { url: ['GET', '/'] }, status: 404, code: 'RouteNotFound', names: 'no route for "/"' },
  { name: 'GET /things/1 is no route', request: { url: ['GET', '/things/1'] }, status: 404, code: 'RouteNotFound', names: '/things/1' },
  { name: 'an item without its sort key', request: { url: ['GET', '/items/acme'] }, status: 404, code: 'RouteNotFound', names: '{tenant}/{number}' },
  { name: 'an extra path segment', request: { url: ['GET', '/items/acme/1/extra'] }, status: 404, code: 'RouteNotFound' },
  { name: 'a part without /url', request: { url: ['GET', '/items/acme/1/parts/summary'] }, status: 404, code: 'RouteNotFound' },
  { name: 'a part URL with a trailing segment', request: { url: ['GET', '/items/acme/1/parts/summary/url/x'] }, status: 404, code: 'RouteNotFound' },
  { name: 'POST on an item', request: { url: ['POST', ITEM] }, status: 405, code: 'MethodNotAllowed', names: 'POST' },
  { name: 'HEAD on the collection', request: { url: ['HEAD', '/items'] }, status: 405, code: 'MethodNotAllowed', names: 'HEAD' },
  { name: 'OPTIONS on an item', request: { url: ['OPTIONS', ITEM] }, status: 405, code: 'MethodNotAllowed', names: 'OPTIONS' },
  { name: 'DELETE on the collection', request: { url: ['DELETE', '/items'] }, status: 405, code: 'MethodNotAllowed', names: 'DELETE' },
  { name: 'PUT on the collection', request: { url: ['PUT', '/items', { body: {} }] }, status: 405, code: 'MethodNotAllowed', names: 'PUT' },
  { name: 'PATCH on a part URL', request: { url: ['PATCH', '/items/acme/1/parts/summary/url', { body: {} }] }, status: 405, code: 'MethodNotAllowed' },
  { name: 'TRACE on an item', request: { url: ['TRACE', ITEM] }, status: 405, code: 'MethodNotAllowed', names: 'TRACE' },
  { name: 'bad percent-encoding', request: { url: ['GET', '/items/%ZZ/1'] }, status: 400, code: 'ValidationError', names: 'percent-encoding' },
  { name: 'truncated percent-encoding', request: { url: ['GET', '/items/%E0%A4%A/1'] }, status: 400, code: 'ValidationError', names: 'percent-encoding' },
  { name: 'a UTF-8-encoded surrogate in the path', request: { url: ['GET', '/items/%ED%A0%80/1'] }, status: 400, code: 'ValidationError', names: 'percent-encoding' },
];

const pathKeys: HostileCase[] = [
  { name: 'an empty partition key', request: { url: ['GET', '//items//1'] }, status: 400, code: 'ValidationError', names: "partition key 'tenant' is empty" },
  ...['abc', '1e', '--1', '0x10', 'Infinity', 'NaN', '1e400', '%201', '1,5', '+1', '1_000', '١'].map((text): HostileCase => ({
    name: `sort key ${JSON.stringify(decodeURIComponent(text))} is not a number`,
    request: { url: ['GET', `/items/acme/${text}`] },
    status: 400,
    code: 'ValidationError',
    names: "sort key 'number' is a number",
  })),
  ...['9007199254740993', '9007199254740993.0', '9.007199254740993e15', '0.30000000000000004441', '1e-400', '123456789012345678901'].map((text): HostileCase => ({
    name: `sort key ${text} is not the number it looks like`,
    request: { url: ['GET', `/items/acme/${text}`] },
    status: 400,
    code: 'ValidationError',
    names: `is ${text}, which a JavaScript number cannot hold exactly`,
  })),
  { name: 'a sort key DynamoDB overflows on (1e126)', request: { url: ['GET', '/items/acme/1e126'] }, status: 400, code: 'ValidationError', names: 'DynamoDB cannot store' },
  { name: 'a sort key DynamoDB underflows on (5e-324)', request: { url: ['GET', '/items/acme/5e-324'] }, status: 400, code: 'ValidationError', names: 'DynamoDB cannot store' },
  { name: 'a partition key too long for S3', request: { url: ['GET', `/items/${'a'.repeat(1100)}/1`] }, status: 400, code: 'ValidationError', names: 'key too long' },
  { name: 'a partition key too long once encoded', request: { url: ['GET', `/items/${encodeURIComponent('é'.repeat(400))}/1`] }, status: 400, code: 'ValidationError', names: 'key too long' },
  { name: 'a key too long for a presigned part', request: { url: ['GET', `/items/${'a'.repeat(1100)}/1/parts/summary/url`] }, status: 400, code: 'ValidationError', names: 'key too long' },
  { name: 'a read whose second part key is too long', request: { url: ['GET', `/items/${'k'.repeat(1008)}/1`, { query: { parts: `a,${'x'.repeat(10)}` } }] }, status: 400, code: 'ValidationError', names: 'the S3 key of part "xxxxxxxxxx"' },
  { name: 'a removed part whose key is too long', request: { url: ['PATCH', `/items/${'k'.repeat(1008)}/1`, { body: { removeParts: ['x'.repeat(10)] } }] }, status: 400, code: 'ValidationError', names: 'the S3 key of part "xxxxxxxxxx"' },
  { name: 'a delete with a key too long', request: { url: ['DELETE', `/items/${'a'.repeat(1100)}/1`] }, status: 400, code: 'ValidationError', names: 'key too long' },
  { name: 'a put with an inexact number key', request: { url: ['PUT', '/items/acme/9007199254740993.0', { body: {} }] }, status: 400, code: 'ValidationError', names: '9007199254740993.0' },
  { name: 'a key of dots is a key, and no such item is a 404', request: { url: ['GET', '/items/../1'] }, status: 404, code: 'NotFound', reads: true },
];

const invokeKeys: HostileCase[] = [
  { name: 'invoke: no key', request: invoke({ operation: 'get' }), status: 400, code: 'ValidationError', names: 'get.key is missing' },
  { name: 'invoke: a key that is a string', request: invoke({ operation: 'get', key: 'acme/1' }), status: 400, code: 'ValidationError', names: 'get.key must be a JSON object' },
  { name: 'invoke: a key that is an array', request: invoke({ operation: 'get', key: ['acme', 1] }), status: 400, code: 'ValidationError', names: 'get.key must be a JSON object' },
  { name: 'invoke: a key that is null', request: invoke({ operation: 'delete', key: null }), status: 400, code: 'ValidationError', names: 'delete.key must be a JSON object' },
  { name: 'invoke: a key without its sort key', request: invoke({ operation: 'get', key: { tenant: 'acme' } }), status: 400, code: 'ValidationError', names: '"number" is missing' },
  { name: 'invoke: a key with an extra attribute', request: invoke({ operation: 'get', key: { ...KEY, id: 'x' } }), status: 400, code: 'ValidationError', names: 'unknown key attribute "id"' },
  { name: 'invoke: a string sort key', request: invoke({ operation: 'get', key: { tenant: 'acme', number: '1' } }), status: 400, code: 'ValidationError', names: '"number" must be a number' },
  { name: 'invoke: a number partition key', request: invoke({ operation: 'get', key: { tenant: 7, number: 1 } }), status: 400, code: 'ValidationError', names: '"tenant" must be a string' },
  { name: 'invoke: a boolean key value', request: invoke({ operation: 'get', key: { tenant: 'acme', number: true } }), status: 400, code: 'ValidationError', names: 'get.key.number must be a string or a number' },
  { name: 'invoke: a null key value', request: invoke({ operation: 'get', key: { tenant: 'acme', number: null } }), status: 400, code: 'ValidationError', names: 'get.key.number' },
  { name: 'invoke: an object key value', request: invoke({ operation: 'get', key: { tenant: { S: 'acme' }, number: 1 } }), status: 400, code: 'ValidationError', names: 'get.key.tenant' },
  { name: 'invoke: an empty partition key', request: invoke({ operation: 'get', key: { tenant: '', number: 1 } }), status: 400, code: 'ValidationError', names: 'must not be an empty string' },
  { name: 'invoke: an unpaired surrogate in the key', request: invokeJson('{"operation":"get","key":{"tenant":"a\\ud800","number":1}}'), status: 400, code: 'ValidationError', names: 'unpaired UTF-16 surrogate' },
  { name: 'invoke: an integer key beyond 2^53 (rounded by JSON parsing)', request: invokeJson('{"operation":"get","key":{"tenant":"acme","number":9007199254740993}}'), status: 400, code: 'ValidationError', names: 'get.key.number is 9007199254740992' },
  { name: 'invoke: a huge number key', request: invoke({ operation: 'delete', key: { tenant: 'acme', number: 1e300 } }), status: 400, code: 'ValidationError', names: 'delete.key.number' },
  { name: 'invoke: a tiny number key DynamoDB underflows on', request: invoke({ operation: 'get', key: { tenant: 'acme', number: 1.5e-200 } }), status: 400, code: 'ValidationError', names: 'DynamoDB cannot store' },
  { name: 'invoke: a key too long', request: invoke({ operation: 'put', key: { tenant: 'x'.repeat(1100), number: 1 } }), status: 400, code: 'ValidationError', names: 'key too long' },
  { name: 'invoke: __proto__ in the key', request: invokeJson('{"operation":"get","key":{"tenant":"acme","number":1,"__proto__":"x"}}'), status: 400, code: 'ValidationError', names: '__proto__' },
  { name: 'invoke: constructor in the key', request: invoke({ operation: 'get', key: { ...KEY, constructor: 'x' } }), status: 400, code: 'ValidationError', names: 'unknown key attribute "constructor"' },
  { name: 'invoke: a key that is __proto__ only', request: invokeJson('{"operation":"delete","key":{"__proto__":{"tenant":"acme","number":1}}}'), status: 400, code: 'ValidationError', names: '__proto__' },
];

const partNames: HostileCase[] = [
  ...['Summary', '_x', '-x', 'a.b', 'a/b', 'x'.repeat(64), '__proto__', 'toString', 'hasOwnProperty', 'a b', 'é'].map((part): HostileCase => ({
    name: `read of part ${JSON.stringify(part.length > 20 ? `${part.slice(0, 8)}…` : part)}`,
    request: get(`parts=${part}`),
    status: 400,
    code: 'ValidationError',
    names: 'invalid part name',
  })),
  { name: 'invoke: read of part __proto__', request: invoke({ operation: 'get', key: KEY, parts: ['__proto__'] }), status: 400, code: 'ValidationError', names: 'invalid part name "__proto__"' },
  { name: 'invoke: read of a part that is a number', request: invoke({ operation: 'get', key: KEY, parts: [1] }), status: 400, code: 'ValidationError', names: 'get.parts must be an array of strings' },
  { name: 'invoke: read of an empty part name', request: invoke({ operation: 'get', key: KEY, parts: [''] }), status: 400, code: 'ValidationError', names: 'invalid part name ""' },
  { name: 'presign of part Bad', request: { url: ['GET', '/items/acme/1/parts/Bad/url'] }, status: 400, code: 'ValidationError', names: 'invalid part name "Bad"' },
  { name: 'presign of part __proto__', request: { url: ['GET', '/items/acme/1/parts/__proto__/url'] }, status: 400, code: 'ValidationError', names: 'invalid part name "__proto__"' },
  { name: 'presign of part constructor, which the row does not pin', request: { url: ['GET', '/items/acme/1/parts/constructor/url'] }, status: 404, code: 'NotFound', names: 'no part "constructor"', reads: true },
  { name: 'invoke: presign without a part', request: invoke({ operation: 'presign', key: KEY }), status: 400, code: 'ValidationError', names: 'presign.part is missing' },
  { name: 'invoke: presign of a part that is a number', request: invoke({ operation: 'presign', key: KEY, part: 7 }), status: 400, code: 'ValidationError', names: 'presign.part must be a string' },
  { name: 'invoke: presign of part toString', request: invoke({ operation: 'presign', key: KEY, part: 'toString' }), status: 400, code: 'ValidationError', names: 'invalid part name "toString"' },
  { name: 'invoke: presign of part constructor, which the row does not pin', request: invoke({ operation: 'presign', key: KEY, part: 'constructor' }), status: 404, code: 'NotFound', reads: true },
  { name: 'a write of part Bad', request: put({ parts: { Bad: { body: 'x' } } }), status: 400, code: 'ValidationError', names: 'invalid part name "Bad"' },
  { name: 'a write of part __proto__', request: put('{"parts":{"__proto__":{"json":{"a":1}}}}'), status: 400, code: 'ValidationError', names: 'invalid part name "__proto__"' },
  { name: 'a write of an empty part name', request: put({ parts: { '': { body: 'x' } } }), status: 400, code: 'ValidationError', names: 'invalid part name ""' },
  { name: 'a write of 101 parts', request: put({ parts: Object.fromEntries(names(101).map((n) => [n, { body: 'x' }])) }), status: 400, code: 'ValidationError', names: 'at most 100 parts per write' },
  { name: 'invoke: a write of part hasOwnProperty', request: invoke({ operation: 'put', key: KEY, parts: { hasOwnProperty: { body: 'x' } } }), status: 400, code: 'ValidationError', names: 'invalid part name "hasOwnProperty"' },
  { name: 'invoke: a write of part __proto__', request: invokeJson('{"operation":"updateParts","key":{"tenant":"acme","number":1},"parts":{"__proto__":{"body":"x"}}}'), status: 400, code: 'ValidationError', names: 'invalid part name "__proto__"' },
];

const bodies: HostileCase[] = [
  { name: 'a PUT without a body', request: { url: ['PUT', ITEM] }, status: 400, code: 'ValidationError', names: 'request body is missing' },
  { name: 'a PUT with an empty body', request: put(''), status: 400, code: 'ValidationError', names: 'request body is missing' },
  { name: 'a body that is not JSON', request: put('attributes=1'), status: 400, code: 'ValidationError', names: 'request body is not valid JSON' },
  { name: 'truncated JSON', request: put('{"attributes":{'), status: 400, code: 'ValidationError', names: 'not valid JSON' },
  { name: 'a body that is an array', request: put('[1,2]'), status: 400, code: 'ValidationError', names: 'request body must be a JSON object, got an array' },
  { name: 'a body that is a string', request: put('"x"'), status: 400, code: 'ValidationError', names: 'got a string' },
  { name: 'a body that is null', request: put('null'), status: 400, code: 'ValidationError', names: 'got null' },
  { name: 'an unknown body field', request: put({ revision: 3 }), status: 400, code: 'ValidationError', names: "unknown field 'revision'" },
  { name: 'a __proto__ body field', request: put('{"__proto__":{"create":true}}'), status: 400, code: 'ValidationError', names: "unknown field '__proto__'" },
  { name: 'a constructor body field', request: put({ constructor: 1 }), status: 400, code: 'ValidationError', names: "unknown field 'constructor'" },
  { name: 'attributes that are an array', request: put({ attributes: [1] }), status: 400, code: 'ValidationError', names: 'attributes must be a JSON object, got an array' },
  { name: 'parts that are a string', request: put({ parts: 'summary' }), status: 400, code: 'ValidationError', names: 'parts must be a JSON object, got a string' },
  { name: 'a part that is null', request: put({ parts: { summary: null } }), status: 400, code: 'ValidationError', names: 'parts.summary must be a JSON object, got null' },
  { name: 'a part with no body', request: put({ parts: { summary: { contentType: 'text/plain' } } }), status: 400, code: 'ValidationError', names: 'got none' },
  { name: 'a part with two bodies', request: put({ parts: { summary: { body: 'x', json: 1 } } }), status: 400, code: 'ValidationError', names: 'got body and json' },
  { name: 'a part body that is an object', request: put({ parts: { summary: { body: { a: 1 } } } }), status: 400, code: 'ValidationError', names: 'body must be a string' },
  { name: 'invalid base64', request: put({ parts: { scan: { base64: 'not base64!' } } }), status: 400, code: 'ValidationError', names: 'is not valid base64' },
  { name: 'unpadded base64', request: put({ parts: { scan: { base64: 'YWJjZA' } } }), status: 400, code: 'ValidationError', names: 'is not valid base64' },
  { name: 'base64 with a line break', request: put({ parts: { scan: { base64: 'YWJj\nZA==' } } }), status: 400, code: 'ValidationError', names: 'is not valid base64' },
  { name: 'base64 url alphabet', request: put({ parts: { scan: { base64: 'YW-_ZA==' } } }), status: 400, code: 'ValidationError', names: 'is not valid base64' },
  { name: 'a json part nested 200,000 deep', request: put(`{"parts":{"summary":{"json":${deep(200_000)}}}}`), status: 400, code: 'ValidationError', names: 'nests arrays and objects more than 64 levels' },
  { name: 'a json part one level over the cap', request: put(`{"parts":{"summary":{"json":${deep(62)}}}}`), status: 400, code: 'ValidationError', names: 'more than 64 levels' },
  { name: 'a json array nested 100,000 deep', request: put(`{"attributes":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`), status: 400, code: 'ValidationError', names: 'more than 64 levels' },
  { name: 'an attribute nested deeper than DynamoDB allows', request: put({ attributes: { deep: nested(32) } }), status: 400, code: 'ValidationError', names: 'more than 31 levels deep' },
  { name: 'a number JSON parsing would round', request: put('{"attributes":{"amount":12345678901234567890}}'), status: 400, code: 'ValidationError', names: '12345678901234567890' },
  { name: 'a number JSON parsing would make infinite', request: put('{"attributes":{"amount":1e400}}'), status: 400, code: 'ValidationError', names: '1e400' },
  { name: 'a number JSON parsing would make zero', request: put('{"parts":{"summary":{"json":{"x":1e-400}}}}'), status: 400, code: 'ValidationError', names: '1e-400' },
  { name: 'an attribute DynamoDB overflows on', request: put({ attributes: { big: 1e200 } }), status: 400, code: 'ValidationError', names: 'attribute "big" is 1e+200, which DynamoDB cannot store' },
  { name: 'an attribute DynamoDB underflows on', request: put({ attributes: { tiny: 1e-200 } }), status: 400, code: 'ValidationError', names: 'attribute "tiny"' },
  { name: 'a body over the size limit', request: put({ attributes: { blob: 'x'.repeat(6.5 * 1024 * 1024) } }), status: 413, code: 'PayloadTooLarge', names: 'over the limit of 6291456' },
  { name: 'a body declared text/plain', request: put({ attributes: {} }, { 'content-type': 'text/plain' }), status: 415, code: 'UnsupportedMediaType', names: 'text/plain' },
  { name: 'a body declared as a form', request: put('a=1', { 'content-type': 'application/x-www-form-urlencoded' }), status: 415, code: 'UnsupportedMediaType', names: 'application/x-www-form-urlencoded' },
  { name: 'a body marked base64 that is not', request: { event: { ...functionUrlEvent('PUT', ITEM), body: '{"attributes":{}}', isBase64Encoded: true } }, status: 400, code: 'ValidationError', names: 'not valid base64' },
  { name: 'a base64 body that is not UTF-8', request: { event: { ...functionUrlEvent('PUT', ITEM), body: Buffer.from([0x7b, 0xff, 0x7d]).toString('base64'), isBase64Encoded: true } }, status: 400, code: 'ValidationError', names: 'not UTF-8' },
  { name: 'expectedRevision 0', request: put({ expectedRevision: 0 }), status: 400, code: 'ValidationError', names: 'expectedRevision must be an integer from 1' },
  { name: 'expectedRevision -1', request: patch({ expectedRevision: -1, attributes: { a: 1 } }), status: 400, code: 'ValidationError', names: 'expectedRevision' },
  { name: 'expectedRevision 1.5', request: put({ expectedRevision: 1.5 }), status: 400, code: 'ValidationError', names: 'expectedRevision' },
  { name: 'expectedRevision as a string', request: put({ expectedRevision: '1' }), status: 400, code: 'ValidationError', names: 'got "1"' },
  { name: 'expectedRevision beyond 2^53', request: put('{"expectedRevision":9007199254740993}'), status: 400, code: 'ValidationError', names: '9007199254740993' },
  { name: 'create as a string', request: put({ create: 'yes' }), status: 400, code: 'ValidationError', names: 'create must be true or false' },
  { name: 'create with expectedRevision', request: put({ create: true, expectedRevision: 1 }), status: 400, code: 'ValidationError', names: 'create and expectedRevision are exclusive' },
  { name: 'a key attribute that differs from the path', request: put({ attributes: { tenant: 'other' } }), status: 400, code: 'ValidationError', names: 'attribute "tenant" is a key attribute and differs' },
  ...['_rev', '_parts', '_proto'].map((name): HostileCase => ({
    name: `the reserved attribute ${name}`, request: put({ attributes: { [name]: 1 } }), status: 400, code: 'ValidationError', names: `attribute name "${name}" is reserved`,
  })),
  { name: 'a top-level attribute named __proto__', request: put('{"attributes":{"__proto__":{"x":1}}}'), status: 400, code: 'ValidationError', names: 'attribute name "__proto__" cannot be used' },
  { name: 'an empty attribute name', request: put({ attributes: { '': 1 } }), status: 400, code: 'ValidationError', names: 'attribute names must not be empty' },
  { name: 'an empty key inside a map attribute', request: put({ attributes: { m: { '': 1 } } }), status: 400, code: 'ValidationError', names: 'map keys of attribute "m" must not be empty' },
  { name: 'an unpaired surrogate in an attribute', request: put('{"attributes":{"note":"\\udc00x"}}'), status: 400, code: 'ValidationError', names: 'unpaired UTF-16 surrogate' },
  { name: 'an unpaired surrogate in an attribute name', request: put('{"attributes":{"\\ud800":1}}'), status: 400, code: 'ValidationError', names: 'unpaired UTF-16 surrogate' },
  { name: 'an unpaired surrogate in a text part', request: put('{"parts":{"notes":{"body":"a\\ud800b"}}}'), status: 400, code: 'ValidationError', names: 'unpaired UTF-16 surrogate' },
  { name: 'an index row over 400 KB', request: put({ attributes: { blob: 'x'.repeat(420 * 1024) } }), status: 400, code: 'ValidationError', names: "over DynamoDB's limit of 409600" },
  { name: 'an index key of the wrong type', request: put({ attributes: { customer: 5 } }), status: 400, code: 'ValidationError', names: 'attribute "customer" (a key of index byCustomer) must be a non-empty string' },
  { name: 'an empty index key', request: put({ attributes: { customer: '' } }), status: 400, code: 'ValidationError', names: 'a key of index byCustomer' },
  { name: 'a null index key', request: patch({ attributes: { customer: null } }), status: 400, code: 'ValidationError', names: 'got null (leave the attribute out' },
  { name: 'a string for a number index key', request: put({ attributes: { year: '2026' } }), status: 400, code: 'ValidationError', names: 'attribute "year" (a key of index byYear) must be a number' },
  { name: 'an index key over DynamoDB key size', request: put({ attributes: { customer: 'c'.repeat(2100) } }), status: 400, code: 'ValidationError', names: "over DynamoDB's limit of 2048" },
  { name: 'a content type with a line break', request: put({ parts: { notes: { body: 'x', contentType: 'text/plain\r\nx-evil: 1' } } }), status: 400, code: 'ValidationError', names: 'contentType' },
  { name: 'a content type that is not ASCII', request: put({ parts: { notes: { body: 'x', contentType: 'text/plain; charset=é' } } }), status: 400, code: 'ValidationError', names: 'printable ASCII' },
  { name: 'a content type of 300 characters', request: put({ parts: { notes: { body: 'x', contentType: `text/${'x'.repeat(295)}` } } }), status: 400, code: 'ValidationError', names: '1 to 255' },
  { name: 'an empty content type', request: put({ parts: { notes: { body: 'x', contentType: '' } } }), status: 400, code: 'ValidationError', names: 'contentType' },
  { name: 'a content type that is a number', request: put({ parts: { notes: { body: 'x', contentType: 5 } } }), status: 400, code: 'ValidationError', names: 'contentType must be a string' },
  { name: 'duplicate removeParts', request: patch({ removeParts: ['summary', 'summary'] }), status: 400, code: 'ValidationError', names: 'removeParts names part "summary" more than once' },
  { name: 'a part both written and removed', request: patch({ parts: { summary: { body: 'x' } }, removeParts: ['summary'] }), status: 400, code: 'ValidationError', names: 'both written (parts) and removed' },
  { name: 'an invalid removed part', request: patch({ removeParts: ['__proto__'] }), status: 400, code: 'ValidationError', names: 'invalid part name "__proto__"' },
  { name: 'removeParts that is a string', request: patch({ removeParts: 'summary' }), status: 400, code: 'ValidationError', names: 'removeParts must be an array of strings' },
  { name: 'removeParts of 101 parts', request: patch({ removeParts: names(101) }), status: 400, code: 'ValidationError', names: 'over the limit of 100' },
  { name: 'an update of 60 parts and 60 removals', request: patch({ parts: Object.fromEntries(names(60).map((n) => [n, { body: 'x' }])), removeParts: names(120).slice(60) }), status: 400, code: 'ValidationError', names: 'over the limit of 100 parts per write' },
  { name: 'an update of 101 attributes', request: patch({ attributes: Object.fromEntries(names(101).map((n) => [n, 1])) }), status: 400, code: 'ValidationError', names: 'over the limit of 100 per update' },
  { name: 'an update with nothing to do', request: patch({}), status: 400, code: 'ValidationError', names: 'nothing to update' },
  { name: 'an update with a create field', request: patch({ create: true }), status: 400, code: 'ValidationError', names: "unknown field 'create'" },
];

const invokeBodies: HostileCase[] = [
  { name: 'invoke: an event that is a string', request: invoke('get'), status: 400, code: 'ValidationError', names: 'event must be a JSON object, got a string' },
  { name: 'invoke: an event that is an array', request: invoke([{ operation: 'get' }]), status: 400, code: 'ValidationError', names: 'event must be a JSON object, got an array' },
  { name: 'invoke: an event that is null', request: invoke(null), status: 400, code: 'ValidationError', names: 'got null' },
  { name: 'invoke: no operation', request: invoke({ key: KEY }), status: 400, code: 'ValidationError', names: 'unknown operation undefined' },
  { name: 'invoke: an unknown operation', request: invoke({ operation: 'scan' }), status: 400, code: 'ValidationError', names: 'unknown operation "scan"' },
  { name: 'invoke: operation __proto__', request: invoke({ operation: '__proto__' }), status: 400, code: 'ValidationError', names: 'unknown operation "__proto__"' },
  { name: 'invoke: operation constructor', request: invoke({ operation: 'constructor' }), status: 400, code: 'ValidationError', names: 'unknown operation "constructor"' },
  { name: 'invoke: operation that is a number', request: invoke({ operation: 1 }), status: 400, code: 'ValidationError', names: 'unknown operation 1' },
  { name: 'invoke: an unknown field', request: invoke({ operation: 'delete', key: KEY, force: true }), status: 400, code: 'ValidationError', names: "unknown field 'force' in delete" },
  { name: 'invoke: a __proto__ field', request: invokeJson('{"operation":"delete","key":{"tenant":"acme","number":1},"__proto__":{"expectedRevision":1}}'), status: 400, code: 'ValidationError', names: "unknown field '__proto__'" },
  // 1,000 levels: the emulation's IPC serializes the event recursively (test/runtime/hostile-input.test.ts sends 200,000).
  { name: 'invoke: an event nested 1,000 deep', request: invokeJson(`{"operation":"put","key":{"tenant":"acme","number":1},"parts":{"summary":{"json":${deep(1000)}}}}`), status: 400, code: 'ValidationError', names: 'event nests arrays and objects more than 64 levels' },
  { name: 'invoke: attributes deeper than DynamoDB allows', request: invoke({ operation: 'put', key: KEY, attributes: { deep: nested(40) } }), status: 400, code: 'ValidationError', names: 'more than 31 levels deep' },
  { name: 'invoke: a part with base64 that is not', request: invoke({ operation: 'put', key: KEY, parts: { scan: { base64: '***' } } }), status: 400, code: 'ValidationError', names: 'put.parts.scan.base64 is not valid base64' },
  { name: 'invoke: __proto__ as a top-level attribute', request: invokeJson('{"operation":"put","key":{"tenant":"acme","number":1},"attributes":{"__proto__":1}}'), status: 400, code: 'ValidationError', names: 'attribute name "__proto__" cannot be used' },
  { name: 'invoke: a reserved attribute in an update', request: invoke({ operation: 'updateParts', key: KEY, attributes: { _parts: {} } }), status: 400, code: 'ValidationError', names: 'attribute name "_parts" is reserved' },
  { name: 'invoke: duplicate removeParts', request: invoke({ operation: 'updateParts', key: KEY, removeParts: ['lines', 'lines'] }), status: 400, code: 'ValidationError', names: 'more than once' },
  { name: 'invoke: removeParts with a number', request: invoke({ operation: 'updateParts', key: KEY, removeParts: [1] }), status: 400, code: 'ValidationError', names: 'updateParts.removeParts must be an array of strings' },
  { name: 'invoke: a read of 5,000 parts', request: invoke({ operation: 'get', key: KEY, parts: names(5000) }), status: 400, code: 'ValidationError', names: 'get.parts names 5000 parts, over the limit of 100' },
  { name: 'invoke: a read of 101 parts', request: invoke({ operation: 'get', key: KEY, parts: names(101) }), status: 400, code: 'ValidationError', names: 'over the limit of 100' },
  { name: 'invoke: fields that are an array', request: invoke({ operation: 'get', key: KEY, fields: ['total'] }), status: 400, code: 'ValidationError', names: 'get.fields must be a JSON object' },
  { name: 'invoke: fields whose paths are a string', request: invoke({ operation: 'get', key: KEY, fields: { summary: 'total' } }), status: 400, code: 'ValidationError', names: 'get.fields.summary must be an array of strings' },
  { name: 'invoke: fields of part __proto__', request: invokeJson('{"operation":"get","key":{"tenant":"acme","number":1},"fields":{"__proto__":["x"]}}'), status: 400, code: 'ValidationError', names: 'invalid part name "__proto__"' },
  { name: 'invoke: fields of a part not requested', request: invoke({ operation: 'get', key: KEY, parts: ['summary'], fields: { lines: ['x'] } }), status: 400, code: 'ValidationError', names: 'fields names part "lines", which is not among the requested parts' },
  { name: 'invoke: an empty field path', request: invoke({ operation: 'get', key: KEY, fields: { summary: [''] } }), status: 400, code: 'ValidationError', names: 'invalid field path ""' },
  { name: 'invoke: no field paths', request: invoke({ operation: 'get', key: KEY, fields: { summary: [] } }), status: 400, code: 'ValidationError', names: 'non-empty list of field paths' },
  { name: 'invoke: 101 field paths', request: invoke({ operation: 'get', key: KEY, fields: { summary: names(101) } }), status: 400, code: 'ValidationError', names: 'at most 100 field paths per part' },
  { name: 'invoke: a field path of 2,000 characters', request: invoke({ operation: 'get', key: KEY, fields: { summary: ['x'.repeat(2000)] } }), status: 400, code: 'ValidationError', names: 'over the limit of 1024' },
  { name: 'invoke: a field path of 100 segments', request: invoke({ operation: 'get', key: KEY, fields: { summary: [Array(100).fill('a').join('.')] } }), status: 400, code: 'ValidationError', names: '100 segments, over the limit of 64' },
  { name: 'invoke: fields of 101 parts', request: invoke({ operation: 'get', key: KEY, fields: Object.fromEntries(names(101).map((n) => [n, ['x']])) }), status: 400, code: 'ValidationError', names: 'fields names 101 parts' },
  ...[0, -1, 1.5, 900_001, '10'].map((value): HostileCase => ({
    name: `invoke: partTimeoutMs ${JSON.stringify(value)}`,
    request: invoke({ operation: 'get', key: KEY, partTimeoutMs: value }),
    status: 400,
    code: 'ValidationError',
    names: 'get.partTimeoutMs must be an integer from 1 to 900000',
  })),
  ...[0, 3601, 604_800, '300', 1.5].map((value): HostileCase => ({
    name: `invoke: presign expiresIn ${JSON.stringify(value)}`,
    request: invoke({ operation: 'presign', key: KEY, part: 'summary', expiresIn: value }),
    status: 400,
    code: 'ValidationError',
    names: 'presign.expiresIn must be an integer from 1 to 3600',
  })),
  { name: 'invoke: delete expectedRevision 0', request: invoke({ operation: 'delete', key: KEY, expectedRevision: 0 }), status: 400, code: 'ValidationError', names: 'delete.expectedRevision' },
  { name: 'invoke: delete expectedRevision as a string', request: invoke({ operation: 'delete', key: KEY, expectedRevision: '1' }), status: 400, code: 'ValidationError', names: 'delete.expectedRevision' },
  { name: 'invoke: a stale delete is a conflict, nothing deleted', request: invoke({ operation: 'delete', key: KEY, expectedRevision: 99 }), status: 409, code: 'Conflict', names: 'not at revision 99', reads: true },
  { name: 'invoke: an update of a missing item is a 404, nothing written', request: invoke({ operation: 'updateParts', key: { tenant: 'ghost', number: 1 }, attributes: { a: 1 } }), status: 404, code: 'NotFound', reads: true },
];

const lists: HostileCase[] = [
  ...['0', '1001', 'ten', '-1', '1.5', '1e2', ''].map((limit): HostileCase => ({
    name: `list limit ${JSON.stringify(limit)}`, request: { url: ['GET', '/items', { query: { limit } }] }, status: 400, code: 'ValidationError', names: 'query parameter limit',
  })),
  { name: 'list limit given twice', request: { url: ['GET', '/items', { query: { limit: ['1', '2'] } }] }, status: 400, code: 'ValidationError', names: 'given 2 times' },
  { name: 'list order up', request: { url: ['GET', '/items', { query: { order: 'up' } }] }, status: 400, code: 'ValidationError', names: 'query parameter order is "up"' },
  { name: 'list of an unknown index', request: { url: ['GET', '/items', { query: { index: 'byDate' } }] }, status: 400, code: 'ValidationError', names: 'unknown index "byDate"' },
  { name: 'list of index __proto__', request: { url: ['GET', '/items', { query: { index: '__proto__' } }] }, status: 400, code: 'ValidationError', names: 'unknown index "__proto__"' },
  { name: 'list of index constructor', request: { url: ['GET', '/items', { query: { index: 'constructor' } }] }, status: 400, code: 'ValidationError', names: 'unknown index "constructor"' },
  { name: 'list with an empty pk', request: { url: ['GET', '/items', { query: { pk: '' } }] }, status: 400, code: 'ValidationError', names: 'is empty' },
  { name: 'list with a pk too long for DynamoDB', request: { url: ['GET', '/items', { query: { index: 'byCustomer', pk: 'c'.repeat(2100) } }] }, status: 400, code: 'ValidationError', names: "over DynamoDB's limit of 2048" },
  { name: 'list of a number index by text', request: { url: ['GET', '/items', { query: { index: 'byYear', pk: 'twenty' } }] }, status: 400, code: 'ValidationError', names: 'is a number, got "twenty"' },
  { name: 'list of a number index by an inexact number', request: { url: ['GET', '/items', { query: { index: 'byYear', pk: '9007199254740993' } }] }, status: 400, code: 'ValidationError', names: 'cannot hold exactly' },
  { name: 'list of a number index by a number DynamoDB overflows on', request: { url: ['GET', '/items', { query: { index: 'byYear', pk: '1e200' } }] }, status: 400, code: 'ValidationError', names: 'DynamoDB cannot store' },
  { name: 'list with an unknown parameter', request: { url: ['GET', '/items', { query: { filter: 'x' } }] }, status: 400, code: 'ValidationError', names: "unknown query parameter 'filter'" },
  { name: 'list with a __proto__ parameter', request: { event: { ...functionUrlEvent('GET', '/items'), rawQueryString: '__proto__=1' } }, status: 400, code: 'ValidationError', names: "unknown query parameter '__proto__'" },
  { name: 'a cursor that is not base64url', request: { url: ['GET', '/items', { query: { cursor: 'not a cursor!' } }] }, status: 400, code: 'ValidationError', names: 'malformed cursor (not a base64url string)' },
  { name: 'a cursor that is not JSON', request: { url: ['GET', '/items', { query: { cursor: Buffer.from('{oops').toString('base64url') } }] }, status: 400, code: 'ValidationError', names: 'malformed cursor (not JSON)' },
  { name: 'a cursor that is not UTF-8', request: { url: ['GET', '/items', { query: { cursor: Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url') } }] }, status: 400, code: 'ValidationError', names: 'malformed cursor (not JSON)' },
  { name: 'a cursor that is an array', request: { url: ['GET', '/items', { query: { cursor: cursorOf([1]) } }] }, status: 400, code: 'ValidationError', names: 'not an object' },
  { name: 'a cursor with a foreign attribute', request: { url: ['GET', '/items', { query: { cursor: cursorOf({ tenant: { S: 'acme' }, number: { N: '1' }, total: { N: '1' } }) } }] }, status: 400, code: 'ValidationError', names: 'unexpected attribute "total"' },
  { name: 'a cursor with a __proto__ attribute', request: { url: ['GET', '/items', { query: { cursor: Buffer.from('{"tenant":{"S":"a"},"number":{"N":"1"},"__proto__":{"S":"x"}}').toString('base64url') } }] }, status: 400, code: 'ValidationError', names: 'unexpected attribute "__proto__"' },
  { name: 'a cursor without the sort key', request: { url: ['GET', '/items', { query: { cursor: cursorOf({ tenant: { S: 'acme' } }) } }] }, status: 400, code: 'ValidationError', names: 'missing key attribute "number"' },
  { name: 'a cursor with a type mismatch', request: { url: ['GET', '/items', { query: { cursor: cursorOf({ tenant: { N: '1' }, number: { N: '1' } }) } }] }, status: 400, code: 'ValidationError', names: 'bad value of "tenant"' },
  { name: 'a cursor with a hex number', request: { url: ['GET', '/items', { query: { cursor: cursorOf({ tenant: { S: 'acme' }, number: { N: '0x10' } }) } }] }, status: 400, code: 'ValidationError', names: 'bad value of "number"' },
  { name: 'a cursor with a number DynamoDB overflows on', request: { url: ['GET', '/items', { query: { cursor: cursorOf({ tenant: { S: 'acme' }, number: { N: '1e200' } }) } }] }, status: 400, code: 'ValidationError', names: 'bad value of "number"' },
  { name: 'a cursor with an empty string', request: { url: ['GET', '/items', { query: { cursor: cursorOf({ tenant: { S: '' }, number: { N: '1' } }) } }] }, status: 400, code: 'ValidationError', names: 'bad value of "tenant"' },
  { name: 'a cursor with two types in one value', request: { url: ['GET', '/items', { query: { cursor: cursorOf({ tenant: { S: 'a', N: '1' }, number: { N: '1' } }) } }] }, status: 400, code: 'ValidationError', names: 'bad value of "tenant"' },
  { name: 'a cursor of 9,000 characters', request: { url: ['GET', '/items', { query: { cursor: 'A'.repeat(9000) } }] }, status: 400, code: 'ValidationError', names: 'over the limit of 8192' },
  { name: 'a table cursor used for an index', request: { url: ['GET', '/items', { query: { index: 'byCustomer', pk: 'c-1', cursor: cursorOf({ tenant: { S: 'acme' }, number: { N: '1' } }) } }] }, status: 400, code: 'ValidationError', names: 'missing key attribute "customer"' },
  { name: 'a cursor of another partition value', request: { url: ['GET', '/items', { query: { index: 'byCustomer', pk: 'c-1', cursor: cursorOf({ tenant: { S: 'acme' }, number: { N: '1' }, customer: { S: 'c-9' } }) } }] }, status: 400, code: 'ValidationError', names: 'another partition value' },
  { name: 'invoke: list limit 0', request: invoke({ operation: 'list', limit: 0 }), status: 400, code: 'ValidationError', names: 'list.limit must be an integer from 1 to 1000' },
  { name: 'invoke: list limit as a string', request: invoke({ operation: 'list', limit: '10' }), status: 400, code: 'ValidationError', names: 'list.limit' },
  { name: 'invoke: a cursor that is a number', request: invoke({ operation: 'list', cursor: 5 }), status: 400, code: 'ValidationError', names: 'list.cursor must be a string' },
  { name: 'invoke: a tampered cursor', request: invoke({ operation: 'list', cursor: cursorOf({ tenant: { S: 'acme' }, number: { N: '1' }, _rev: { N: '1' } }) }), status: 400, code: 'ValidationError', names: 'unexpected attribute "_rev"' },
  { name: 'invoke: list of an unknown index', request: invoke({ operation: 'list', index: 'byDate' }), status: 400, code: 'ValidationError', names: 'unknown index "byDate"' },
  { name: 'invoke: list of index __proto__', request: invoke({ operation: 'list', index: '__proto__' }), status: 400, code: 'ValidationError', names: '"__proto__"' },
  { name: 'invoke: partitionValue that is an object', request: invoke({ operation: 'list', partitionValue: { S: 'acme' } }), status: 400, code: 'ValidationError', names: 'list.partitionValue must be a string or a number' },
  { name: 'invoke: partitionValue of the wrong type', request: invoke({ operation: 'list', index: 'byYear', partitionValue: 'twenty' }), status: 400, code: 'ValidationError', names: 'must be a finite number' },
  { name: 'invoke: an empty partitionValue', request: invoke({ operation: 'list', partitionValue: '' }), status: 400, code: 'ValidationError', names: 'must be a non-empty string' },
  { name: 'invoke: a partitionValue with an unpaired surrogate', request: invokeJson('{"operation":"list","partitionValue":"\\ud800"}'), status: 400, code: 'ValidationError', names: 'unpaired UTF-16 surrogate' },
  { name: 'invoke: a partitionValue beyond 2^53', request: invokeJson('{"operation":"list","index":"byYear","partitionValue":9007199254740993}'), status: 400, code: 'ValidationError', names: 'list.partitionValue' },
  { name: 'invoke: ascending as a string', request: invoke({ operation: 'list', ascending: 'yes' }), status: 400, code: 'ValidationError', names: 'list.ascending must be true or false' },
];

const queries: HostileCase[] = [
  { name: 'an unknown parameter on a read', request: get('part=summary'), status: 400, code: 'ValidationError', names: "unknown query parameter 'part'" },
  { name: 'a constructor parameter on a read', request: get('constructor=1'), status: 400, code: 'ValidationError', names: "unknown query parameter 'constructor'" },
  { name: 'a __proto__ parameter on a read', request: getRaw('__proto__=x'), status: 400, code: 'ValidationError', names: "unknown query parameter '__proto__'" },
  { name: 'a parameter on a put', request: { url: ['PUT', ITEM, { query: { create: 'true' }, body: {} }] }, status: 400, code: 'ValidationError', names: "unknown query parameter 'create': this route takes none" },
  { name: 'a read of 5,000 parts', request: get(`parts=${names(5000).join(',')}`), status: 400, code: 'ValidationError', names: 'query parameter parts names 5000 parts, over the limit of 100' },
  { name: 'a read of 101 parts over repeated parameters', request: getRaw(names(101).map((n) => `parts=${n}`).join('&')), status: 400, code: 'ValidationError', names: 'over the limit of 100' },
  { name: 'fields without a colon', request: get('fields=summary'), status: 400, code: 'ValidationError', names: 'each entry is part:path' },
  { name: 'fields without a part', request: get('fields=:total'), status: 400, code: 'ValidationError', names: 'each entry is part:path' },
  { name: 'fields without a path', request: get('fields=summary:'), status: 400, code: 'ValidationError', names: 'each entry is part:path' },
  { name: 'fields of part __proto__', request: get('fields=__proto__:x'), status: 400, code: 'ValidationError', names: 'invalid part name "__proto__"' },
  { name: 'fields of part toString', request: get('fields=toString:x'), status: 400, code: 'ValidationError', names: 'invalid part name "toString"' },
  { name: 'fields with a double dot', request: get('fields=summary:a..b'), status: 400, code: 'ValidationError', names: 'empty segment' },
  { name: 'fields of a part not requested', request: get('parts=summary&fields=lines:x'), status: 400, code: 'ValidationError', names: 'not among the requested parts' },
  { name: 'fields with a path of 2,000 characters', request: get(`fields=summary:${'x'.repeat(2000)}`), status: 400, code: 'ValidationError', names: 'over the limit of 1024' },
  { name: 'fields with 101 paths for a part', request: get(`fields=${names(101).map((n) => `summary:${n}`).join(',')}`), status: 400, code: 'ValidationError', names: 'at most 100 field paths per part' },
  {
    name: 'fields=constructor:x reads the item (constructor is a valid part name the row does not pin)',
    request: get('fields=constructor:x'),
    status: 200,
    reads: true,
    check: (answer) => expect(answer.lines.map((l) => l.type)).toEqual(['index', 'part', 'part', 'end']),
  },
  {
    name: 'parts=constructor is NotPinned, not a dangling pointer',
    request: get('parts=constructor,summary'),
    status: 200,
    reads: true,
    check: (answer) => {
      expect(answer.lines.find((l) => l.type === 'part-error')).toMatchObject({ name: 'constructor', code: 'NotPinned' });
      expect(answer.lines.find((l) => l.type === 'part')).toMatchObject({ name: 'summary' });
    },
  },
  {
    name: 'a row that pins a part named constructor reads it without a ProjectionError',
    request: { url: ['GET', '/items/acme/2'] },
    status: 200,
    reads: true,
    check: (answer) => {
      expect(answer.lines.find((l) => l.name === 'constructor')).toMatchObject({ type: 'part', body: '{"c":1}' });
      expect(answer.lines[answer.lines.length - 1]).toMatchObject({ type: 'end', errors: [] });
    },
  },
  { name: 'a read of a part twice reads it once', request: get('parts=summary,summary'), status: 200, reads: true, check: (answer) => expect(answer.lines.filter((l) => l.type === 'part')).toHaveLength(1) },
  { name: 'delete expectedRevision 0', request: { url: ['DELETE', ITEM, { query: { expectedRevision: '0' } }] }, status: 400, code: 'ValidationError', names: 'query parameter expectedRevision is "0"' },
  { name: 'delete expectedRevision abc', request: { url: ['DELETE', ITEM, { query: { expectedRevision: 'abc' } }] }, status: 400, code: 'ValidationError', names: 'expectedRevision is "abc"' },
  { name: 'delete expectedRevision 1e3', request: { url: ['DELETE', ITEM, { query: { expectedRevision: '1e3' } }] }, status: 400, code: 'ValidationError', names: 'expectedRevision is "1e3"' },
  { name: 'delete expectedRevision given twice', request: { url: ['DELETE', ITEM, { query: { expectedRevision: ['1', '2'] } }] }, status: 400, code: 'ValidationError', names: 'given 2 times' },
  { name: 'a stale delete is a conflict and deletes nothing', request: { url: ['DELETE', ITEM, { query: { expectedRevision: '99' } }] }, status: 409, code: 'Conflict', reads: true },
  { name: 'a delete of a missing item is a 404', request: { url: ['DELETE', '/items/ghost/1'] }, status: 404, code: 'NotFound', reads: true },
  ...['0', '3601', '604800', 'soon', '-5', '1.5'].map((expiresIn): HostileCase => ({
    name: `presign expiresIn ${expiresIn}`,
    request: { url: ['GET', '/items/acme/1/parts/summary/url', { query: { expiresIn } }] },
    status: 400,
    code: 'ValidationError',
    names: `query parameter expiresIn is "${expiresIn}": use an integer from 1 to 3600`,
  })),
  { name: 'presign with an unknown parameter', request: { url: ['GET', '/items/acme/1/parts/summary/url', { query: { versionId: 'x' } }] }, status: 400, code: 'ValidationError', names: "unknown query parameter 'versionId'" },
  { name: 'presign of a missing item', request: { url: ['GET', '/items/ghost/1/parts/summary/url'] }, status: 404, code: 'NotFound', reads: true },
];

const CASES: HostileCase[] = [...routes, ...pathKeys, ...invokeKeys, ...partNames, ...bodies, ...invokeBodies, ...lists, ...queries];

/** What an AWS error text looks like; none of it may reach a caller. */
const AWS_TEXT = [
  /arn:aws/i, /\b\d{12}\b/, /Exception/, /AccessDenied|NoSuchKey|NoSuchVersion|NoSuchBucket|SlowDown|Throttl/,
  /\$metadata|httpStatusCode|\$fault/, /"stack"|\n\s+at /, /One or more parameter values|The provided (starting )?key/i,
];

// ---- the run ----------------------------------------------------------------------------

describe('hostile requests through the built reader', () => {
  let local: VersionedLocalStore;
  let proxy: FaultProxy;
  let reader: LambdaRuntime;

  beforeAll(async () => {
    local = await startLocalStore({
      namePrefix: 'hostile',
      storeProps: {
        partitionKey: { name: 'tenant', type: AttributeType.STRING },
        sortKey: { name: 'number', type: AttributeType.NUMBER },
        globalSecondaryIndexes: [
          { indexName: 'byCustomer', partitionKey: { name: 'customer', type: AttributeType.STRING } },
          { indexName: 'byYear', partitionKey: { name: 'year', type: AttributeType.NUMBER }, sortKey: { name: 'total', type: AttributeType.NUMBER } },
        ],
      },
    });
    // Every DynamoDB request of the reader goes through the proxy, which counts it.
    proxy = await FaultProxy.start({ target: local.ddb.endpoint, service: 'dynamodb' });
    // The product's wall-clock guards out of reach: a loaded machine must not turn a read into a part timeout.
    reader = await LambdaRuntime.start({
      bundle: BUNDLE,
      environment: { ...local.plan.environment, ...PATIENT_READER_ENVIRONMENT },
      timeoutMs: 2 * OUT_OF_REACH_MS,
      endpoints: { dynamodb: proxy.endpoint, s3: local.s3server.endpoint },
      functionName: 'hostile-reader',
    });
    const seeded = [
      await reader.invokeUrl('PUT', ITEM, {
        body: { attributes: { customer: 'c-1', year: 2026, total: 10 }, parts: { summary: { json: { total: 10 } }, lines: { body: 'one\ntwo', contentType: 'text/plain' } } },
      }),
      await reader.invokeUrl('PUT', '/items/acme/2', { body: { parts: { constructor: { json: { c: 1 } }, summary: { json: {} } } } }),
    ];
    expect(seeded.map((r) => r.statusCode)).toEqual([201, 201]);
  });

  afterAll(async () => {
    await reader?.stop();
    await proxy?.stop();
    await local?.stop();
  });

  /** Every row of the table and every version and delete marker of the bucket. */
  async function snapshot(): Promise<string> {
    const scan = await local.dynamodb.send(new ScanCommand({ TableName: local.plan.tableName, ConsistentRead: true }));
    const versions = await local.s3.send(new ListObjectVersionsCommand({ Bucket: local.plan.bucketName }));
    expect(scan.LastEvaluatedKey).toBeUndefined();
    expect(versions.IsTruncated).toBeFalsy();
    return JSON.stringify({ items: scan.Items, versions: versions.Versions, markers: versions.DeleteMarkers });
  }

  async function send(request: HostileRequest): Promise<Answer> {
    if ('invoke' in request) {
      const document = await reader.invoke(request.invoke);
      const error = document?.ok === false ? document.error : undefined;
      return {
        status: error ? error.statusCode : 200,
        error,
        errorText: JSON.stringify(error ?? document?.result?.errors ?? ''),
        lines: [],
      };
    }
    const response = 'url' in request ? await reader.invokeUrl(...request.url) : await reader.invokeUrlEvent(request.event);
    const contentType = response.headers['content-type'] ?? '';
    const error = contentType.startsWith('application/json') ? JSON.parse(response.text)?.error : undefined;
    const lines = contentType.startsWith('application/x-ndjson') ? response.lines.map((l) => l.json) : [];
    const errorLines = lines.filter((l) => l?.type === 'part-error' || l?.type === 'error');
    return { status: response.statusCode, error, errorText: error ? response.text : JSON.stringify(errorLines), lines };
  }

  test('the table has at least 150 requests over both entry styles', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(150);
    expect(CASES.filter((c) => 'invoke' in c.request).length).toBeGreaterThanOrEqual(50);
    expect(CASES.filter((c) => !('invoke' in c.request)).length).toBeGreaterThanOrEqual(50);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  test.each(CASES)('$name → $status', async (c) => {
    const before = await snapshot();
    local.s3server.resetStats();
    proxy.resetStats();

    const answer = await send(c.request);
    const s3Requests = { ...local.s3server.requests };
    const dynamoRequests = { ...proxy.requests };

    expect({ status: answer.status, code: answer.error?.code }).toEqual({ status: c.status, code: c.code });
    if (c.names !== undefined) expect(answer.error?.message).toMatch(c.names);
    if (answer.error) expect(answer.error.requestId).toMatch(/^local-/);
    for (const pattern of AWS_TEXT) expect(answer.errorText).not.toMatch(pattern);
    expect(answer.errorText).not.toContain(local.plan.bucketName);
    expect(answer.errorText).not.toContain(local.plan.tableName);
    c.check?.(answer);

    if (c.reads) {
      // The answer needed the row: S3 is only read; DynamoDB is read, or sent a conditional
      // write whose condition fails (a stale delete), which the snapshots show changed nothing.
      for (const op of ['PutObject', 'DeleteObject', 'DeleteObjects', 'CopyObject']) expect(s3Requests[op] ?? 0).toBe(0);
      for (const op of ['PutItem', 'UpdateItem', 'BatchWriteItem', 'TransactWriteItems']) expect(dynamoRequests[op] ?? 0).toBe(0);
    } else {
      // The request itself shows the problem: refused before any call.
      expect({ s3: s3Requests, dynamodb: dynamoRequests }).toEqual({ s3: {}, dynamodb: {} });
    }
    expect(await snapshot()).toEqual(before);
  });
});
