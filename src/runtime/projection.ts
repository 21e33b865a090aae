/**
 * JSON field projection of a part: keep only some fields of a JSON document, so a caller
 * can fetch `summary.total` of a large part without downloading all of it to the client.
 * (The reader still reads the whole part from S3: S3 Select is closed to new customers.)
 *
 * Paths are top-level names (`total`) or dotted paths into nested objects
 * (`customer.address.city`). The result keeps the nesting of the source:
 * `["customer.name", "total"]` on `{"customer":{"name":"A","vat":"X"},"total":3}` gives
 * `{"customer":{"name":"A"},"total":3}`. A path that does not exist in the document, or
 * that goes through a value that is not an object (an array, a string...), is left out.
 *
 * No CDK import here: this module is bundled into the Lambda assets.
 */

import { nestingDepth } from './json';
import { MAX_JSON_DEPTH, MAX_PROJECTION_PATH_LENGTH, MAX_PROJECTION_PATH_SEGMENTS, MAX_PROJECTION_PATHS } from './limits';

export { MAX_PROJECTION_PATHS };

/** The part could not be projected: not JSON, not an object, too deep, or a malformed path. */
export class ProjectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProjectionError';
  }
}

const SEGMENT = /^[^.]+$/;

type JsonObject = { [key: string]: unknown };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Splits and checks a dotted path. */
export function parsePath(path: unknown): string[] {
  if (typeof path !== 'string' || path.length === 0) {
    throw new ProjectionError(`invalid field path ${JSON.stringify(path)}: expected a non-empty string such as "total" or "customer.name"`);
  }
  if (path.length > MAX_PROJECTION_PATH_LENGTH) {
    throw new ProjectionError(`field path of ${path.length} characters, over the limit of ${MAX_PROJECTION_PATH_LENGTH}`);
  }
  const segments = path.split('.');
  if (segments.length > MAX_PROJECTION_PATH_SEGMENTS) {
    throw new ProjectionError(`field path of ${segments.length} segments, over the limit of ${MAX_PROJECTION_PATH_SEGMENTS} `
      + '(a document nests at most that deep)');
  }
  if (!segments.every(s => SEGMENT.test(s))) {
    throw new ProjectionError(`invalid field path ${JSON.stringify(path)}: empty segment (leading, trailing or double dot)`);
  }
  return segments;
}

/** Checks a list of paths without a document (to refuse bad input before reading anything). */
export function validatePaths(paths: unknown): string[][] {
  if (!Array.isArray(paths) || paths.length === 0) {
    throw new ProjectionError('fields must be a non-empty list of field paths');
  }
  if (paths.length > MAX_PROJECTION_PATHS) {
    throw new ProjectionError(`at most ${MAX_PROJECTION_PATHS} field paths per part, got ${paths.length}`);
  }
  return paths.map(parsePath);
}

/**
 * Projects an already parsed JSON value into a new object (null prototype: its keys are the
 * document's). A document nested deeper than {@link MAX_JSON_DEPTH} is refused, so that
 * serializing the result never runs out of stack.
 */
export function projectValue(document: unknown, paths: string[][]): JsonObject {
  if (!isObject(document)) {
    throw new ProjectionError(`the part is JSON but not an object (${Array.isArray(document) ? 'array' : typeof document}): only object fields can be projected`);
  }
  if (nestingDepth(document, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new ProjectionError(`the part nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep: it cannot be projected; read it whole`);
  }
  const result: JsonObject = Object.create(null);
  for (const segments of paths) {
    let source: unknown = document;
    let found = true;
    for (const segment of segments) {
      if (!isObject(source) || !Object.hasOwn(source, segment)) {
        found = false;
        break;
      }
      source = source[segment];
    }
    if (!found) continue;
    let target = result;
    for (let i = 0; i < segments.length - 1; i++) {
      const segment = segments[i];
      const next = Object.hasOwn(target, segment) ? target[segment] : undefined;
      if (isObject(next)) {
        target = next;
      } else {
        const created: JsonObject = Object.create(null);
        define(target, segment, created);
        target = created;
      }
    }
    define(target, segments[segments.length - 1], source);
  }
  return result;
}

// defineProperty, not assignment: a path segment "__proto__" must create a field, not a prototype.
function define(target: JsonObject, name: string, value: unknown): void {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}

/** Projects a part body (UTF-8 JSON) to the given paths; returns UTF-8 JSON. */
export function projectJson(body: Uint8Array, paths: string[]): Uint8Array {
  const parsed = validatePaths(paths);
  let document: unknown;
  try {
    document = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (e) {
    throw new ProjectionError(`the part is not UTF-8 JSON (${(e as Error).message}): field projection needs a JSON object`);
  }
  return new TextEncoder().encode(JSON.stringify(projectValue(document, parsed)));
}
