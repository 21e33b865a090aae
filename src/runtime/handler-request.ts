/**
 * Request parsing for the reference reader: Function URL requests (routes) and plain JSON
 * invocations (operations) both become one {@link Operation}, so the two entry styles
 * cannot drift apart. Everything here is pure: malformed input is refused with a 4xx
 * {@link StoreError} that names the problem, before the store is called, so bad input
 * never reaches S3 or DynamoDB.
 *
 * No CDK import here: this module is bundled into the Lambda assets.
 */
import type { IndexConfig, KeyAttribute, StoreConfig } from './config';
import { checkJsonText, checkNesting, isExactNumberText } from './json';
import {
  CONTENT_TYPE_PATTERN, MAX_BODY_BYTES, MAX_CONTENT_TYPE_LENGTH, MAX_LIST_LIMIT, MAX_PART_TIMEOUT_MS, MAX_PARTS_PER_READ,
  MAX_PRESIGN_EXPIRES_SECONDS,
} from './limits';
import {
  DeleteRequest, GetRequest, ItemKey, KeyValue, ListRequest, PartInput, PutRequest,
  StoreError, UpdatePartsRequest, ValidationError,
} from './types';

/** Default limit on a request body, before base64 decoding. */
export const DEFAULT_MAX_BODY_BYTES = MAX_BODY_BYTES;

/** The valid `operation` values of a plain JSON invocation. */
export const OPERATIONS = ['get', 'list', 'put', 'updateParts', 'delete', 'presign'] as const;

/** One request, whichever way it arrived. `route` names it in logs (no key values, no bodies). */
export type Operation =
  | { readonly kind: 'get'; readonly route: string; readonly request: GetRequest }
  | { readonly kind: 'list'; readonly route: string; readonly request: ListRequest }
  | { readonly kind: 'put'; readonly route: string; readonly request: PutRequest }
  | { readonly kind: 'updateParts'; readonly route: string; readonly request: UpdatePartsRequest }
  | { readonly kind: 'delete'; readonly route: string; readonly request: DeleteRequest }
  | {
    readonly kind: 'presign';
    readonly route: string;
    readonly request: { readonly key: ItemKey; readonly part: string; readonly expiresInSeconds?: number };
  };

/** The subset of a Function URL event (API Gateway HTTP API payload v2.0) the reader reads. */
export interface FunctionUrlEvent {
  readonly rawPath?: string;
  readonly rawQueryString?: string;
  readonly queryStringParameters?: Record<string, string | undefined>;
  readonly headers?: Record<string, string | undefined>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly requestContext: { readonly http: { readonly method: string; readonly path?: string } };
}

/** A request body larger than the reader accepts: 413. */
export class PayloadTooLargeError extends StoreError {
  constructor(message: string) { super(413, 'PayloadTooLarge', message); }
}

/** A request body that is declared as something other than JSON: 415. */
export class UnsupportedMediaTypeError extends StoreError {
  constructor(message: string) { super(415, 'UnsupportedMediaType', message); }
}

/** A route or method the reader does not serve: 404, or 405 with the allowed methods. */
export class RouteError extends StoreError {
  constructor(statusCode: 404 | 405, message: string, public readonly allow?: string[]) {
    super(statusCode, statusCode === 404 ? 'RouteNotFound' : 'MethodNotAllowed', message);
  }
}

/** True when the event is a Function URL request (rather than a plain JSON invocation). */
export function isFunctionUrlEvent(event: unknown): event is FunctionUrlEvent {
  const http = (event as { requestContext?: { http?: { method?: unknown } } } | null)?.requestContext?.http;
  return typeof http?.method === 'string';
}

/** Options of the parsers. */
export interface ParseOptions {
  /** Largest accepted request body in bytes (as received, before base64 decoding). */
  readonly maxBodyBytes?: number;
}

// ---------------------------------------------------------------------------------------
// Function URL requests
// ---------------------------------------------------------------------------------------

const ITEM_METHODS = ['GET', 'PUT', 'PATCH', 'DELETE'];

/**
 * Parses a Function URL request into an operation. Routes:
 *
 * - `GET /items` list
 * - `GET|PUT|PATCH|DELETE /items/{pk}[/{sk}]` split read, put, update parts, delete
 * - `GET /items/{pk}[/{sk}]/parts/{part}/url` presigned URL of one part
 */
export function parseFunctionUrlRequest(event: FunctionUrlEvent, config: StoreConfig, options: ParseOptions = {}): Operation {
  const method = event.requestContext.http.method.toUpperCase();
  const rawPath = event.rawPath ?? event.requestContext.http.path ?? '/';
  // A base URL with a trailing slash joined to '/items' gives '//items': accept it. Inner empty
  // segments stay, so an empty key value is refused rather than silently skipped.
  const leading = rawPath.replace(/^\/{2,}/, '/');
  const trimmed = leading.length > 1 && leading.endsWith('/') ? leading.slice(0, -1) : leading;
  const segments = trimmed.split('/').slice(1).map(decodeSegment);
  if (segments[0] !== 'items') {
    throw new RouteError(404, `no route for ${JSON.stringify(rawPath)}: the reader serves /items and /items/${keyPattern(config)}`);
  }
  const rest = segments.slice(1);
  const keyLength = config.sortKey ? 2 : 1;
  const query = new QueryParams(event);

  if (rest.length === 0) {
    requireMethod(method, ['GET'], '/items');
    query.allowOnly(['limit', 'cursor', 'index', 'pk', 'order']);
    return { kind: 'list', route: 'GET /items', request: parseListQuery(query, config) };
  }

  if (rest.length === keyLength) {
    requireMethod(method, ITEM_METHODS, `/items/${keyPattern(config)}`);
    const key = keyFromSegments(rest, config);
    const route = `${method} /items/${keyPattern(config)}`;
    switch (method) {
      case 'GET': {
        query.allowOnly(['parts', 'fields']);
        const parts = query.list('parts');
        checkReadParts(parts, 'query parameter parts');
        const fields = parseFields(query.list('fields'));
        return { kind: 'get', route, request: compact({ key, parts, fields }) };
      }
      case 'PUT': {
        query.allowOnly([]);
        const body = parseJsonBody(event, options);
        checkFields(body, ['attributes', 'parts', 'expectedRevision', 'create'], 'request body');
        return { kind: 'put', route, request: { key, ...putFields(body, 'request body') } };
      }
      case 'PATCH': {
        query.allowOnly([]);
        const body = parseJsonBody(event, options);
        checkFields(body, ['parts', 'removeParts', 'attributes', 'expectedRevision'], 'request body');
        return { kind: 'updateParts', route, request: { key, ...updateFields(body, 'request body') } };
      }
      default: { // DELETE (requireMethod refused the others)
        query.allowOnly(['expectedRevision']);
        const expected = query.single('expectedRevision');
        return {
          kind: 'delete',
          route,
          request: compact({ key, expectedRevision: expected === undefined ? undefined : parseRevision(expected, 'query parameter expectedRevision') }),
        };
      }
    }
  }

  if (rest.length === keyLength + 3 && rest[keyLength] === 'parts' && rest[keyLength + 2] === 'url') {
    requireMethod(method, ['GET'], `/items/${keyPattern(config)}/parts/{part}/url`);
    query.allowOnly(['expiresIn']);
    const key = keyFromSegments(rest.slice(0, keyLength), config);
    const expiresIn = query.single('expiresIn');
    return {
      kind: 'presign',
      route: `GET /items/${keyPattern(config)}/parts/{part}/url`,
      request: compact({
        key,
        part: rest[keyLength + 1],
        expiresInSeconds: expiresIn === undefined ? undefined : parseInteger(expiresIn, 'query parameter expiresIn', 1, MAX_PRESIGN_EXPIRES_SECONDS),
      }),
    };
  }

  if (rest.length < keyLength) {
    throw new RouteError(404, `no route for ${JSON.stringify(rawPath)}: items of this store are addressed as /items/${keyPattern(config)}`);
  }
  throw new RouteError(404, `no route for ${JSON.stringify(rawPath)}: the reader serves /items, /items/${keyPattern(config)} `
    + `and /items/${keyPattern(config)}/parts/{part}/url`);
}

function keyPattern(config: StoreConfig): string {
  return config.sortKey ? `{${config.partitionKey.name}}/{${config.sortKey.name}}` : `{${config.partitionKey.name}}`;
}

function requireMethod(method: string, allowed: string[], path: string): void {
  if (!allowed.includes(method)) {
    throw new RouteError(405, `method ${method} is not allowed on ${path}: use ${allowed.join(', ')}`, allowed);
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ValidationError(`path segment ${JSON.stringify(segment)} is not valid percent-encoding: encode key values with encodeURIComponent`);
  }
}

function keyFromSegments(values: string[], config: StoreConfig): ItemKey {
  const key: Record<string, KeyValue> = Object.create(null);
  key[config.partitionKey.name] = parseKeyValue(values[0], config.partitionKey, 'partition key');
  if (config.sortKey) {
    key[config.sortKey.name] = parseKeyValue(values[1], config.sortKey, 'sort key');
  }
  return key;
}

const NUMBER_PATTERN = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parses a key value given as text (path segment or query parameter) by its attribute type.
 * A number must be exactly the number it parses to (docs/PROTOCOL.md section 2.2):
 * `9007199254740993.0` would address item 9007199254740992, so it is refused.
 */
export function parseKeyValue(text: string, attribute: KeyAttribute, what: string): KeyValue {
  if (text === '') {
    throw new ValidationError(`${what} '${attribute.name}' is empty`);
  }
  if (attribute.type === 'S') return text;
  const value = Number(text);
  if (!NUMBER_PATTERN.test(text) || !Number.isFinite(value)) {
    throw new ValidationError(`${what} '${attribute.name}' is a number, got ${JSON.stringify(text)}`);
  }
  if (!isExactNumberText(text)) {
    throw new ValidationError(`${what} '${attribute.name}' is ${text}, which a JavaScript number cannot hold exactly `
      + `(it would be ${String(value)}): the reader would address another item; give the number as ${String(value)} `
      + 'if that is the item, or use a string key for such values');
  }
  return value;
}

/** Query string access with "every parameter known, scalars given once" checks. */
class QueryParams {
  private readonly params: URLSearchParams;

  constructor(event: FunctionUrlEvent) {
    if (typeof event.rawQueryString === 'string') {
      this.params = new URLSearchParams(event.rawQueryString);
    } else {
      this.params = new URLSearchParams();
      const given = event.queryStringParameters;
      for (const name of typeof given === 'object' && given !== null ? Object.keys(given) : []) {
        // API Gateway joins repeated parameters with commas in this map.
        const value = given![name];
        if (typeof value === 'string') this.params.append(name, value);
      }
    }
  }

  allowOnly(names: string[]): void {
    for (const name of new Set(this.params.keys())) {
      if (!names.includes(name)) {
        const allowed = names.length ? `: this route takes ${names.join(', ')}` : ': this route takes none';
        throw new ValidationError(`unknown query parameter '${name}'${allowed}`);
      }
    }
  }

  single(name: string): string | undefined {
    const values = this.params.getAll(name);
    if (values.length > 1) {
      throw new ValidationError(`query parameter ${name} is given ${values.length} times: give it once`);
    }
    return values[0];
  }

  /** Comma-separated values, repeated parameters concatenated; undefined when absent. */
  list(name: string): string[] | undefined {
    const values = this.params.getAll(name);
    if (values.length === 0) return undefined;
    return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  }
}

/**
 * `fields=summary:total,lines:items.0` → `{ summary: ['total'], lines: ['items.0'] }`, in a
 * null-prototype object: part names are the caller's, `constructor` included (the store
 * checks each name).
 */
function parseFields(entries: string[] | undefined): Record<string, string[]> | undefined {
  if (entries === undefined) return undefined;
  const fields = new Map<string, string[]>();
  for (const entry of entries) {
    const colon = entry.indexOf(':');
    const part = colon > 0 ? entry.slice(0, colon) : '';
    const path = colon > 0 ? entry.slice(colon + 1) : '';
    if (!part || !path) {
      throw new ValidationError(`query parameter fields has ${JSON.stringify(entry)}: each entry is part:path, e.g. fields=summary:total,lines:items.0`);
    }
    const paths = fields.get(part) ?? [];
    paths.push(path);
    fields.set(part, paths);
  }
  return nullPrototype(fields);
}

/** Refuses a read that names more parts than {@link MAX_PARTS_PER_READ}, before any S3 request. */
function checkReadParts(parts: readonly unknown[] | undefined, where: string): void {
  if (parts !== undefined && parts.length > MAX_PARTS_PER_READ) {
    throw new ValidationError(`${where} names ${parts.length} parts, over the limit of ${MAX_PARTS_PER_READ} per read: `
      + 'split the read, or omit parts to read every part the row pins');
  }
}

/** A null-prototype object with the entries of a map: any key, `__proto__` included, stays a key. */
function nullPrototype<T>(entries: Map<string, T>): Record<string, T> {
  const out: Record<string, T> = Object.create(null);
  for (const [name, value] of entries) out[name] = value;
  return out;
}

function parseListQuery(query: QueryParams, config: StoreConfig): ListRequest {
  const indexName = query.single('index');
  let index: IndexConfig | undefined;
  if (indexName !== undefined) {
    index = config.indexes.find((i) => i.name === indexName);
    if (!index) {
      const known = config.indexes.map((i) => i.name);
      throw new ValidationError(`unknown index ${JSON.stringify(indexName)}: `
        + (known.length ? `this store's indexes are ${known.join(', ')}` : 'this store has no secondary index'));
    }
  }
  const pk = query.single('pk');
  const limit = query.single('limit');
  const order = query.single('order');
  if (order !== undefined && order !== 'asc' && order !== 'desc') {
    throw new ValidationError(`query parameter order is ${JSON.stringify(order)}: use asc or desc`);
  }
  const cursor = query.single('cursor');
  const partitionKey = index ? index.partitionKey : config.partitionKey;
  return compact({
    index: indexName,
    partitionValue: pk === undefined ? undefined : parseKeyValue(pk, partitionKey, `query parameter pk (${index ? `index ${index.name}` : 'the table'}'s partition key)`),
    limit: limit === undefined ? undefined : parseInteger(limit, 'query parameter limit', 1, MAX_LIST_LIMIT),
    cursor: cursor === '' ? undefined : cursor,
    ascending: order === undefined ? undefined : order === 'asc',
  });
}

function parseInteger(text: string, what: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ValidationError(`${what} is ${JSON.stringify(text)}: use an integer from ${min} to ${max}`);
  }
  return value;
}

function parseRevision(text: string, what: string): number {
  return parseInteger(text, what, 1, Number.MAX_SAFE_INTEGER);
}

/**
 * The JSON body of a PUT or PATCH: declared as JSON (or not declared), at most the size
 * limit, valid base64 when the Function URL encoded it, UTF-8, valid JSON, at most
 * {@link MAX_JSON_DEPTH} levels deep, every number exactly what its text says, an object.
 */
function parseJsonBody(event: FunctionUrlEvent, options: ParseOptions): Record<string, unknown> {
  const max = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const contentType = header(event, 'content-type')?.trim();
  if (contentType && !/^application\/(json|[\w.+-]+\+json)\s*(;|$)/i.test(contentType)) {
    throw new UnsupportedMediaTypeError(`request body is declared as ${JSON.stringify(contentType)}: send JSON with Content-Type: application/json`);
  }
  if (typeof event.body !== 'string' || event.body === '') {
    throw new ValidationError('request body is missing: send a JSON object');
  }
  const received = Buffer.byteLength(event.body, 'utf8');
  if (received > max) {
    throw new PayloadTooLargeError(`request body is ${received} bytes, over the limit of ${max}: `
      + 'write large parts directly to S3 with the protocol, or split the item into more parts');
  }
  let bytes: Uint8Array | undefined;
  if (event.isBase64Encoded) {
    if (!BASE64_PATTERN.test(event.body)) throw new ValidationError('request body is marked base64-encoded but is not valid base64');
    bytes = Buffer.from(event.body, 'base64');
  }
  let text: string;
  try {
    text = bytes ? new TextDecoder('utf-8', { fatal: true }).decode(bytes) : event.body;
  } catch {
    throw new ValidationError('request body is not UTF-8: send JSON encoded as UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ValidationError(`request body is not valid JSON: ${(e as Error).message}`);
  }
  checkJsonText(text, 'request body');
  return requireObject(parsed, 'request body');
}

/** A request header, by lower-case name (Function URLs send header names in lower case). */
function header(event: FunctionUrlEvent, name: string): string | undefined {
  const headers = event.headers;
  if (typeof headers !== 'object' || headers === null || !Object.hasOwn(headers, name)) return undefined;
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
}

// ---------------------------------------------------------------------------------------
// Plain JSON invocations
// ---------------------------------------------------------------------------------------

/**
 * Parses a plain JSON invocation: `{ "operation": "get" | "list" | "put" | "updateParts" |
 * "delete" | "presign", ... }` with the fields of the store request of that name.
 */
export function parseOperationEvent(event: unknown): Operation {
  const body = requireObject(event, 'event');
  checkNesting(body, 'event');
  const operation = body.operation;
  const route = `invoke ${String(operation)}`;
  switch (operation) {
    case 'get': {
      checkFields(body, ['operation', 'key', 'parts', 'fields', 'partTimeoutMs'], 'get');
      return {
        kind: 'get',
        route,
        request: compact({
          key: parseKey(body.key, 'get'),
          parts: optionalReadParts(body.parts, 'get.parts'),
          fields: optionalFields(body.fields, 'get.fields'),
          partTimeoutMs: optionalInteger(body.partTimeoutMs, 'get.partTimeoutMs', 1, MAX_PART_TIMEOUT_MS),
        }),
      };
    }
    case 'list': {
      checkFields(body, ['operation', 'index', 'partitionValue', 'limit', 'cursor', 'ascending'], 'list');
      return {
        kind: 'list',
        route,
        request: compact({
          index: optionalString(body.index, 'list.index'),
          partitionValue: optionalKeyValue(body.partitionValue, 'list.partitionValue'),
          limit: optionalInteger(body.limit, 'list.limit', 1, MAX_LIST_LIMIT),
          cursor: optionalString(body.cursor, 'list.cursor'),
          ascending: optionalBoolean(body.ascending, 'list.ascending'),
        }),
      };
    }
    case 'put':
      checkFields(body, ['operation', 'key', 'attributes', 'parts', 'expectedRevision', 'create'], 'put');
      return { kind: 'put', route, request: { key: parseKey(body.key, 'put'), ...putFields(body, 'put') } };
    case 'updateParts':
      checkFields(body, ['operation', 'key', 'parts', 'removeParts', 'attributes', 'expectedRevision'], 'updateParts');
      return { kind: 'updateParts', route, request: { key: parseKey(body.key, 'updateParts'), ...updateFields(body, 'updateParts') } };
    case 'delete':
      checkFields(body, ['operation', 'key', 'expectedRevision'], 'delete');
      return {
        kind: 'delete',
        route,
        request: compact({ key: parseKey(body.key, 'delete'), expectedRevision: optionalInteger(body.expectedRevision, 'delete.expectedRevision', 1, Number.MAX_SAFE_INTEGER) }),
      };
    case 'presign': {
      checkFields(body, ['operation', 'key', 'part', 'expiresIn'], 'presign');
      const part = optionalString(body.part, 'presign.part');
      if (part === undefined) throw new ValidationError('presign.part is missing: name the part to sign a URL for');
      return {
        kind: 'presign',
        route,
        request: compact({
          key: parseKey(body.key, 'presign'),
          part,
          expiresInSeconds: optionalInteger(body.expiresIn, 'presign.expiresIn', 1, MAX_PRESIGN_EXPIRES_SECONDS),
        }),
      };
    }
    default:
      throw new ValidationError(`unknown operation ${JSON.stringify(operation)}: valid operations are ${OPERATIONS.join(', ')}`);
  }
}

// ---------------------------------------------------------------------------------------
// Shared body fields
// ---------------------------------------------------------------------------------------

function putFields(body: Record<string, unknown>, where: string): Omit<PutRequest, 'key'> {
  return compact({
    attributes: optionalObject(body.attributes, `${where}.attributes`),
    parts: optionalParts(body.parts, `${where}.parts`),
    expectedRevision: optionalInteger(body.expectedRevision, `${where}.expectedRevision`, 1, Number.MAX_SAFE_INTEGER),
    create: optionalBoolean(body.create, `${where}.create`),
  });
}

function updateFields(body: Record<string, unknown>, where: string): Omit<UpdatePartsRequest, 'key'> {
  return compact({
    parts: optionalParts(body.parts, `${where}.parts`),
    removeParts: optionalStringArray(body.removeParts, `${where}.removeParts`),
    attributes: optionalObject(body.attributes, `${where}.attributes`),
    expectedRevision: optionalInteger(body.expectedRevision, `${where}.expectedRevision`, 1, Number.MAX_SAFE_INTEGER),
  });
}

const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Parts of a write: `{ name: { body: "text" } | { base64: "..." } | { json: <any JSON> },
 * contentType? }`. `json` is serialized with JSON.stringify and defaults to
 * application/json; `base64` is decoded to bytes (application/octet-stream by default).
 */
function optionalParts(value: unknown, where: string): Record<string, PartInput> | undefined {
  if (value === undefined) return undefined;
  const parts = requireObject(value, where);
  const result = new Map<string, PartInput>();
  for (const [name, raw] of Object.entries(parts)) {
    const at = `${where}.${name}`;
    const part = requireObject(raw, at);
    checkFields(part, ['body', 'base64', 'json', 'contentType'], at);
    const given = ['body', 'base64', 'json'].filter((f) => part[f] !== undefined);
    if (given.length !== 1) {
      throw new ValidationError(`${at} must have exactly one of body (text), base64 (bytes) or json (a JSON value), got `
        + (given.length ? given.join(' and ') : 'none'));
    }
    const contentType = optionalString(part.contentType, `${at}.contentType`);
    if (contentType !== undefined && !CONTENT_TYPE_PATTERN.test(contentType)) {
      throw new ValidationError(`${at}.contentType must be a single-line media type of 1 to ${MAX_CONTENT_TYPE_LENGTH} `
        + `printable ASCII characters, got ${JSON.stringify(contentType)}`);
    }
    if (part.body !== undefined) {
      if (typeof part.body !== 'string') {
        throw new ValidationError(`${at}.body must be a string (use json for a JSON value or base64 for bytes), got ${typeName(part.body)}`);
      }
      result.set(name, compact({ body: part.body, contentType }));
    } else if (part.base64 !== undefined) {
      if (typeof part.base64 !== 'string' || !BASE64_PATTERN.test(part.base64)) {
        throw new ValidationError(`${at}.base64 is not valid base64 (standard alphabet, padded)`);
      }
      result.set(name, compact({ body: new Uint8Array(Buffer.from(part.base64, 'base64')), contentType }));
    } else {
      // The request's nesting was checked when it was parsed, so serializing cannot run out of stack.
      result.set(name, { body: JSON.stringify(part.json), contentType: contentType ?? 'application/json' });
    }
  }
  return nullPrototype(result);
}

function parseKey(value: unknown, where: string): ItemKey {
  if (value === undefined) throw new ValidationError(`${where}.key is missing: give the item key as an object of key attributes`);
  const key = requireObject(value, `${where}.key`);
  const result = new Map<string, KeyValue>();
  for (const [name, v] of Object.entries(key)) {
    result.set(name, requireKeyValue(v, `${where}.key.${name}`));
  }
  return nullPrototype(result);
}

function optionalKeyValue(value: unknown, where: string): KeyValue | undefined {
  return value === undefined ? undefined : requireKeyValue(value, where);
}

/**
 * A key value of a plain invocation: a string, or a number. The event was parsed before the
 * reader saw it, so the text of a number is lost: an integer beyond ±(2^53 − 1) may have been
 * rounded from another one (9007199254740993 reads as 9007199254740992), and is refused.
 */
function requireKeyValue(value: unknown, where: string): KeyValue {
  if (typeof value === 'string') return value;
  if (typeof value !== 'number') throw new ValidationError(`${where} must be a string or a number, got ${typeName(value)}`);
  if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
    throw new ValidationError(`${where} is ${value}, beyond ±${Number.MAX_SAFE_INTEGER}: JSON parsing may have rounded it from `
      + 'another number, which would address another item; use the Function URL route (whose path keeps the digits) or a string key');
  }
  return value;
}

function optionalFields(value: unknown, where: string): Record<string, string[]> | undefined {
  if (value === undefined) return undefined;
  const fields = requireObject(value, where);
  const result = new Map<string, string[]>();
  for (const [part, paths] of Object.entries(fields)) {
    result.set(part, optionalStringArray(paths, `${where}.${part}`) ?? []);
  }
  return nullPrototype(result);
}

function optionalReadParts(value: unknown, where: string): string[] | undefined {
  const parts = optionalStringArray(value, where);
  checkReadParts(parts, where);
  return parts;
}

function optionalStringArray(value: unknown, where: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new ValidationError(`${where} must be an array of strings, got ${typeName(value)}`);
  }
  return value;
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  throw new ValidationError(`${where} must be a string, got ${typeName(value)}`);
}

function optionalBoolean(value: unknown, where: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw new ValidationError(`${where} must be true or false, got ${typeName(value)}`);
}

function optionalInteger(value: unknown, where: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(`${where} must be an integer from ${min} to ${max}, got ${JSON.stringify(value) ?? typeName(value)}`);
  }
  return value;
}

function optionalObject(value: unknown, where: string): Record<string, unknown> | undefined {
  return value === undefined ? undefined : requireObject(value, where);
}

function requireObject(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(`${where} must be a JSON object, got ${typeName(value)}`);
  }
  return value as Record<string, unknown>;
}

function checkFields(value: Record<string, unknown>, allowed: string[], where: string): void {
  for (const field of Object.keys(value)) {
    if (!allowed.includes(field)) {
      throw new ValidationError(`unknown field '${field}' in ${where}: allowed fields are ${allowed.join(', ')}`);
    }
  }
}

/** Drops properties whose value is undefined, so the store sees only what the caller gave. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
