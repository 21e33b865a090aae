/**
 * The index-row codec (protocol v2, reading v1 rows too): an {@link IndexRow} and the
 * state of a key ({@link RowState}) to and from a DynamoDB item.
 *
 * A row is the user's attributes (key attributes included) plus reserved attributes:
 *
 * | attribute | type | content                                                          |
 * |-----------|------|------------------------------------------------------------------|
 * | `_rev`    | N    | revision: 1 after the first create, +1 on every commit, for ever (deletes included) |
 * | `_tok`    | S    | the unique token of the commit that wrote this state (v2)        |
 * | `_proto`  | N    | `2` on every row v2 writes; absent on a v1 row                   |
 * | `_parts`  | M    | part name → M { `v`: S VersionId, `e`: S ETag, `s`: N size, `t`: S content type } |
 * | `_del`    | BOOL | `true` on a tombstone: the state a delete leaves (key, `_rev`, `_tok`, `_proto`, `_del` only) |
 *
 * No CDK import here: this module is bundled into the Lambda assets.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { NumberValueImpl as NumberValue } from '@aws-sdk/util-dynamodb';
import { KeyAttribute, StoreConfig } from './config';
import { isExactNumberText, significantDigits } from './json';
import { checkDynamoDbNumber, isDynamoDbNumberText, isWellFormed, keyAttributes, validateKey } from './keys';
import {
  DYNAMODB_NUMBER_OVERFLOW, MAX_ATTRIBUTE_DEPTH, MAX_ATTRIBUTE_NAME_BYTES, MAX_DYNAMODB_NUMBER_DIGITS, MAX_ITEM_BYTES,
  MAX_PARTITION_KEY_BYTES, MAX_SORT_KEY_BYTES, MIN_DYNAMODB_NUMBER, PART_NAME_PATTERN,
} from './limits';
import { IndexRow, ItemKey, PartPin, StoreError, ValidationError } from './types';

/** Reserved attribute: the revision number (N). */
export const REVISION_ATTRIBUTE = '_rev';
/** Reserved attribute: the part pins (M). */
export const PARTS_ATTRIBUTE = '_parts';
/**
 * Reserved attribute: the protocol version of a row (`2`). Absent in v1. A v1 reader refuses a
 * row that has it; a v1 writer's conditions include `attribute_not_exists(_proto)`.
 */
export const PROTOCOL_ATTRIBUTE = '_proto';
/** Reserved attribute: the token of the commit that wrote the row's state (S, v2). */
export const TOKEN_ATTRIBUTE = '_tok';
/** Reserved attribute: `true` (BOOL) on a tombstone, the state a delete leaves (v2). */
export const DELETED_ATTRIBUTE = '_del';

/** Attribute names an application may not use. */
export const RESERVED_ATTRIBUTES: readonly string[] = [
  REVISION_ATTRIBUTE, PARTS_ATTRIBUTE, PROTOCOL_ATTRIBUTE, TOKEN_ATTRIBUTE, DELETED_ATTRIBUTE,
];

/** Field names inside one pin (M) of `_parts`. */
export const PIN_FIELDS = { versionId: 'v', etag: 'e', size: 's', contentType: 't' } as const;

/** The protocol version this code writes. It reads v1 rows (no `_proto`) too. */
export const PROTOCOL_VERSION = 2;

/** A DynamoDB item, as the low-level client sends and returns it. */
export type Item = Record<string, AttributeValue>;

/**
 * The state of one key, as a writer reads it before it commits (docs/PROTOCOL.md, "The state
 * of a key"): no row at all, a tombstone, or a live row (v1: no token; v2: with its token).
 */
export type RowState =
  | { readonly kind: 'none' }
  | { readonly kind: 'tombstone'; readonly revision: number; readonly token: string }
  | {
    readonly kind: 'live';
    readonly revision: number;
    /** The commit token; undefined on a v1 row. */
    readonly token?: string;
    readonly row: IndexRow;
    /** The item as DynamoDB returned it. */
    readonly item: Item;
  };

/** A row that this version of the protocol cannot read (written by a later version, or corrupt). */
export class UnsupportedRowError extends StoreError {
  constructor(message: string) { super(500, 'UnsupportedRow', message); }
}

/**
 * Marshals user attributes, refusing before any call what DynamoDB would refuse (or the
 * AWS SDK would lose): reserved names, `__proto__` as an attribute name, empty names or map
 * keys, strings with unpaired surrogates, numbers out of DynamoDB's range, nesting deeper
 * than {@link MAX_ATTRIBUTE_DEPTH}, empty or mixed sets, and values that are not data
 * (functions, dates, class instances). `undefined` values are dropped. Maps become
 * null-prototype objects, so any key, `__proto__` and `constructor` included, stays a key.
 */
export function marshallAttributes(attributes: Record<string, unknown>): Record<string, AttributeValue> {
  if (!isPlainObject(attributes)) {
    throw new ValidationError('attributes must be an object of attribute name to value');
  }
  const out: Record<string, AttributeValue> = Object.create(null);
  for (const name of Object.keys(attributes)) {
    if (RESERVED_ATTRIBUTES.includes(name)) {
      throw new ValidationError(
        `attribute name "${name}" is reserved by cdk-split-store (reserved: ${RESERVED_ATTRIBUTES.join(', ')}); rename the attribute`,
      );
    }
    if (name === '__proto__') {
      throw new ValidationError('attribute name "__proto__" cannot be used: the AWS SDK for JavaScript drops its value when it '
        + 'reads the row back; rename the attribute (inside a map attribute the key is fine)');
    }
    checkMapKey(name, 'attribute names');
    const value = attributes[name];
    if (value !== undefined) out[name] = toAttributeValue(value, `attribute ${JSON.stringify(name)}`, 0);
  }
  return out;
}

function toAttributeValue(value: unknown, where: string, depth: number): AttributeValue {
  switch (typeof value) {
    case 'string':
      if (!isWellFormed(value)) throw new ValidationError(`${where} contains an unpaired UTF-16 surrogate, which has no UTF-8 encoding`);
      return { S: value };
    case 'number':
      checkDynamoDbNumber(value, where);
      return { N: String(value) };
    case 'bigint':
      return { N: checkNumberText(value.toString(), where) };
    case 'boolean':
      return { BOOL: value };
    default:
      break;
  }
  if (value === null) return { NULL: true };
  if (value instanceof NumberValue) return { N: checkNumberText(value.toString(), where) };
  if (value instanceof Uint8Array) return { B: value };
  if (typeof value !== 'object') {
    throw new ValidationError(`${where} is a ${typeof value}: DynamoDB stores strings, numbers, booleans, null, lists, maps, sets and bytes`);
  }
  if (depth + 1 > MAX_ATTRIBUTE_DEPTH) {
    throw new ValidationError(`${where} nests lists and maps more than ${MAX_ATTRIBUTE_DEPTH} levels deep, DynamoDB's limit: flatten it`);
  }
  if (Array.isArray(value)) {
    return { L: value.filter(v => v !== undefined).map((v, i) => toAttributeValue(v, `${where}[${i}]`, depth + 1)) };
  }
  if (value instanceof Set) return toSet(value, where);
  const entries = value instanceof Map ? [...value.entries()] : isPlainObject(value) ? Object.entries(value) : undefined;
  if (!entries) {
    throw new ValidationError(`${where} is an instance of ${(value as object).constructor?.name ?? 'a class'}: DynamoDB stores strings, numbers, `
      + 'booleans, null, lists, maps, sets and bytes (a date as an ISO string, for example)');
  }
  const map: Record<string, AttributeValue> = Object.create(null);
  for (const [key, v] of entries) {
    if (typeof key !== 'string') throw new ValidationError(`${where} has a map key that is not a string`);
    checkMapKey(key, `map keys of ${where}`);
    if (v !== undefined) map[key] = toAttributeValue(v, `${where}.${JSON.stringify(key)}`, depth + 1);
  }
  return { M: map };
}

function toSet(set: Set<unknown>, where: string): AttributeValue {
  const items = [...set].filter(v => v !== undefined);
  if (items.length === 0) throw new ValidationError(`${where} is an empty set, which DynamoDB cannot store: omit it or use an empty list`);
  if (items.every(v => typeof v === 'string')) {
    return { SS: items.map(v => (toAttributeValue(v, `${where} (a string set)`, 0) as { S: string }).S) };
  }
  if (items.every(v => typeof v === 'number' || typeof v === 'bigint' || v instanceof NumberValue)) {
    return { NS: items.map(v => (toAttributeValue(v, `${where} (a number set)`, 0) as { N: string }).N) };
  }
  if (items.every(v => v instanceof Uint8Array)) return { BS: items as Uint8Array[] };
  throw new ValidationError(`${where} is a set of mixed types: DynamoDB sets are all strings, all numbers or all bytes`);
}

function checkMapKey(key: string, what: string): void {
  if (key.length === 0) throw new ValidationError(`${what} must not be empty`);
  if (!isWellFormed(key)) throw new ValidationError(`${what} must not contain an unpaired UTF-16 surrogate, got ${JSON.stringify(key)}`);
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_ATTRIBUTE_NAME_BYTES) {
    throw new ValidationError(`${what} are at most ${MAX_ATTRIBUTE_NAME_BYTES} bytes, got one of ${bytes}`);
  }
}

/** A number given as text (a bigint, a NumberValue): DynamoDB's precision and range. */
function checkNumberText(text: string, where: string): string {
  if (!isDynamoDbNumberText(text)) {
    throw new ValidationError(`${where} is ${text}, which DynamoDB cannot store: a number has at most `
      + `${MAX_DYNAMODB_NUMBER_DIGITS} significant digits and a magnitude of ${MIN_DYNAMODB_NUMBER} to below ${DYNAMODB_NUMBER_OVERFLOW}`);
  }
  return text;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Refuses attributes that are keys of one of the store's secondary indexes and that DynamoDB
 * would refuse in the commit: the wrong type (null included: leave the attribute out to keep
 * the item out of the index), an empty string, a value over the key size limit.
 */
export function checkIndexKeyAttributes(config: StoreConfig, attributes: Record<string, unknown>): void {
  for (const index of config.indexes) {
    const keys: Array<[KeyAttribute | undefined, number]> = [[index.partitionKey, MAX_PARTITION_KEY_BYTES], [index.sortKey, MAX_SORT_KEY_BYTES]];
    for (const [attribute, maxBytes] of keys) {
      if (!attribute || !Object.hasOwn(attributes, attribute.name)) continue;
      const value = attributes[attribute.name];
      const what = `attribute "${attribute.name}" (a key of index ${index.name})`;
      if (value === undefined) continue;
      if (attribute.type === 'S' && (typeof value !== 'string' || value.length === 0)) {
        throw new ValidationError(`${what} must be a non-empty string, got ${describeValue(value)}`);
      }
      if (attribute.type === 'N' && typeof value !== 'number') {
        throw new ValidationError(`${what} must be a number, got ${describeValue(value)}`);
      }
      if (typeof value === 'string' && Buffer.byteLength(value, 'utf8') > maxBytes) {
        throw new ValidationError(`${what} is ${Buffer.byteLength(value, 'utf8')} bytes, over DynamoDB's limit of ${maxBytes} for a key value`);
      }
    }
  }
}

function describeValue(value: unknown): string {
  if (value === null) return 'null (leave the attribute out to keep the item out of the index)';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return Array.isArray(value) ? 'a list' : `a ${typeof value}`;
}

/**
 * The size DynamoDB counts for an item (attribute names and values, UTF-8), to refuse a row
 * over {@link MAX_ITEM_BYTES} before writing anything. `extraBytes` is added (pins not yet known).
 */
export function checkItemSize(item: Record<string, AttributeValue>, extraBytes: number, what: string): void {
  let bytes = extraBytes;
  for (const name of Object.keys(item)) bytes += Buffer.byteLength(name, 'utf8') + attributeValueBytes(item[name]);
  if (bytes > MAX_ITEM_BYTES) {
    throw new ValidationError(`${what} would be about ${bytes} bytes, over DynamoDB's limit of ${MAX_ITEM_BYTES} for an item: `
      + 'move bulky attributes into parts');
  }
}

/**
 * The reserved attributes of a live v2 row without any pin, in DynamoDB's size rules: `_rev`
 * (up to 16 digits), `_tok` (a 22-character commit token), `_proto` and an empty `_parts`.
 */
export const RESERVED_ATTRIBUTES_BYTES = REVISION_ATTRIBUTE.length + 9 + TOKEN_ATTRIBUTE.length + 22
  + PROTOCOL_ATTRIBUTE.length + 2 + PARTS_ATTRIBUTE.length + 3;

/**
 * An upper estimate of one pin's size in `_parts`: S3 version ids (32 characters) and ETags (34,
 * or a few more for multipart uploads) are counted as 64 bytes each.
 */
export function estimatePinBytes(part: string, contentType: string): number {
  return 1 + part.length + 3 + 4 * 2 + 64 + 64 + 9 + contentType.length;
}

/** DynamoDB's size rules for one attribute value. */
function attributeValueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S, 'utf8');
  if (value.N !== undefined) return numberBytes(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.SS !== undefined) return value.SS.reduce((sum, v) => sum + Buffer.byteLength(v, 'utf8'), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, v) => sum + numberBytes(v), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, v) => sum + v.byteLength, 0);
  if (value.L !== undefined) return value.L.reduce((sum, v) => sum + 1 + attributeValueBytes(v), 3);
  if (value.M !== undefined) {
    const map = value.M;
    return Object.keys(map).reduce((sum, k) => sum + 1 + Buffer.byteLength(k, 'utf8') + attributeValueBytes(map[k]), 3);
  }
  return 1; // BOOL, NULL
}

function numberBytes(text: string): number {
  return Math.ceil((significantDigits(text) ?? text.length) / 2) + 1;
}

/**
 * Checks that attributes agree with the item key: a key attribute present in `attributes`
 * must equal the key's value. Returns the attributes with the key attributes set.
 */
export function mergeKeyIntoAttributes(
  config: StoreConfig,
  key: ItemKey,
  attributes: Record<string, unknown> = {},
): Record<string, unknown> {
  for (const attribute of keyAttributes(config)) {
    const value = Object.hasOwn(attributes, attribute.name) ? attributes[attribute.name] : undefined;
    if (value !== undefined && value !== key[attribute.name]) {
      throw new ValidationError(
        `attribute "${attribute.name}" is a key attribute and differs from the item key `
        + `(${JSON.stringify(value)} vs ${JSON.stringify(key[attribute.name])}); omit it or make it equal`,
      );
    }
  }
  // A null-prototype copy: an own `__proto__` key (JSON.parse makes one) stays a key.
  return Object.assign(Object.create(null), attributes, key);
}

/** A pin as a DynamoDB map. */
export function encodePin(pin: PartPin): AttributeValue {
  return {
    M: {
      [PIN_FIELDS.versionId]: { S: pin.versionId },
      [PIN_FIELDS.etag]: { S: pin.etag },
      [PIN_FIELDS.size]: { N: String(pin.size) },
      [PIN_FIELDS.contentType]: { S: pin.contentType },
    },
  };
}

/** All pins as the `_parts` map. */
export function encodePins(parts: Record<string, PartPin>): AttributeValue {
  const m: Record<string, AttributeValue> = Object.create(null);
  for (const [name, pin] of Object.entries(parts)) m[name] = encodePin(pin);
  return { M: m };
}

/**
 * The pin of a part, or undefined when the row does not pin it. Always use this rather than
 * `row.parts[name]`: a part may be called `constructor`.
 */
export function pinOf(row: IndexRow, part: string): PartPin | undefined {
  return Object.hasOwn(row.parts, part) ? row.parts[part] : undefined;
}

/**
 * The DynamoDB item of a row: user attributes, key attributes, `_rev` and `_parts`; with a
 * commit token, a v2 row (`_tok`, `_proto = 2`), without one a row as protocol v1 wrote it.
 */
export function encodeRow(config: StoreConfig, row: IndexRow, token?: string): Item {
  validateKey(config, row.key);
  const attributes = marshallAttributes(mergeKeyIntoAttributes(config, row.key, row.attributes));
  if (!Number.isSafeInteger(row.revision) || row.revision < 1) {
    throw new ValidationError(`revision must be a positive integer, got ${row.revision}`);
  }
  return {
    ...attributes,
    [REVISION_ATTRIBUTE]: { N: String(row.revision) },
    [PARTS_ATTRIBUTE]: encodePins(row.parts),
    ...(token === undefined ? {} : versionAttributes(token)),
  };
}

/** `_tok` and `_proto` of a v2 state. */
function versionAttributes(token: string): Item {
  return { [TOKEN_ATTRIBUTE]: { S: token }, [PROTOCOL_ATTRIBUTE]: { N: String(PROTOCOL_VERSION) } };
}

/** The item of a tombstone: the key, `_rev`, `_tok`, `_proto` and `_del`, nothing else. */
export function encodeTombstone(config: StoreConfig, key: ItemKey, revision: number, token: string): Item {
  return {
    ...marshallKey(config, key),
    [REVISION_ATTRIBUTE]: { N: String(revision) },
    ...versionAttributes(token),
    [DELETED_ATTRIBUTE]: { BOOL: true },
  };
}

/** The item key of a DynamoDB item (the key attributes only), marshalled. */
export function marshallKey(config: StoreConfig, key: ItemKey): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const attribute of keyAttributes(config)) {
    const value = key[attribute.name];
    out[attribute.name] = attribute.type === 'S' ? { S: String(value) } : { N: String(value) };
  }
  return out;
}

function decodePin(name: string, value: AttributeValue | undefined): PartPin {
  const m = value?.M;
  const v = m?.[PIN_FIELDS.versionId]?.S;
  const e = m?.[PIN_FIELDS.etag]?.S;
  const s = m?.[PIN_FIELDS.size]?.N;
  const t = m?.[PIN_FIELDS.contentType]?.S;
  if (v === undefined || e === undefined || s === undefined || t === undefined) {
    throw new UnsupportedRowError(`malformed pin for part "${name}" in ${PARTS_ATTRIBUTE}: expected M {v:S, e:S, s:N, t:S}`);
  }
  return { versionId: v, etag: e, size: Number(s), contentType: t };
}

/**
 * DynamoDB numbers become JavaScript numbers, except those a number cannot hold exactly
 * (`123456789012345678901234567890`, `0.1000000000000000000001`): those are returned as their
 * decimal string, never rounded.
 */
function numberOrString(value: string): number | string {
  return isExactNumberText(value) ? Number(value) : value;
}

/** A DynamoDB attribute value as a JavaScript value; maps become null-prototype objects. */
function fromAttributeValue(value: AttributeValue, where: string): unknown {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return numberOrString(value.N);
  if (value.BOOL !== undefined) return value.BOOL;
  if (value.NULL !== undefined) return null;
  if (value.B !== undefined) return value.B;
  if (value.L !== undefined) return value.L.map((v, i) => fromAttributeValue(v, `${where}[${i}]`));
  if (value.M !== undefined) return fromMap(value.M, where);
  if (value.SS !== undefined) return new Set(value.SS);
  if (value.NS !== undefined) return new Set(value.NS.map(numberOrString));
  if (value.BS !== undefined) return new Set(value.BS);
  throw new UnsupportedRowError(`${where} has a DynamoDB type this code does not know`);
}

function fromMap(map: Record<string, AttributeValue | undefined>, where: string): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  for (const name of Object.keys(map)) {
    const value = map[name];
    if (value !== undefined) out[name] = fromAttributeValue(value, `${where}.${JSON.stringify(name)}`);
  }
  return out;
}

/**
 * The protocol version of an item: 1 (no `_proto`, or `1`) or 2. Refuses anything else, and
 * v1 rows carrying an attribute v2 reserves (which v2 would otherwise strip or overwrite).
 */
function protocolOf(item: Item): 1 | 2 {
  const proto = item[PROTOCOL_ATTRIBUTE];
  if (proto === undefined || proto.N === '1') {
    for (const name of [TOKEN_ATTRIBUTE, DELETED_ATTRIBUTE]) {
      if (item[name] !== undefined) {
        throw new UnsupportedRowError(
          `row has no ${PROTOCOL_ATTRIBUTE} (a protocol v1 row) but has attribute ${name}, which protocol v2 reserves: `
          + 'rename that attribute before writing the row with cdk-split-store',
        );
      }
    }
    return 1;
  }
  if (proto.N === String(PROTOCOL_VERSION)) return 2;
  throw new UnsupportedRowError(
    `row was written by protocol version ${proto.N ?? JSON.stringify(proto)} (attribute ${PROTOCOL_ATTRIBUTE}); `
    + `this code speaks versions 1 and ${PROTOCOL_VERSION}: upgrade cdk-split-store`,
  );
}

function revisionOf(item: Item): number {
  const rev = item[REVISION_ATTRIBUTE]?.N;
  const revision = rev === undefined ? NaN : Number(rev);
  if (!Number.isSafeInteger(revision) || revision < 0) {
    throw new UnsupportedRowError(`row has no valid ${REVISION_ATTRIBUTE} (N): not written by cdk-split-store?`);
  }
  return revision;
}

/**
 * The state of a key from the item a consistent GetItem returned (undefined: no item).
 * Throws {@link UnsupportedRowError} for a row this code must not interpret.
 */
export function decodeState(config: StoreConfig, item: Item | undefined): RowState {
  if (item === undefined) return { kind: 'none' };
  const proto = protocolOf(item);
  const revision = revisionOf(item);
  if (proto === 1) return { kind: 'live', revision, row: decodeLive(config, item, revision), item };
  const token = item[TOKEN_ATTRIBUTE]?.S;
  if (!token) throw new UnsupportedRowError(`protocol v2 row without ${TOKEN_ATTRIBUTE} (S)`);
  const deleted = item[DELETED_ATTRIBUTE];
  if (deleted !== undefined) {
    if (deleted.BOOL !== true) throw new UnsupportedRowError(`${DELETED_ATTRIBUTE} must be BOOL true on a tombstone`);
    return { kind: 'tombstone', revision, token };
  }
  return { kind: 'live', revision, token, row: decodeLive(config, item, revision), item };
}

/**
 * Decodes a live row (v1 or v2). Refuses rows of another protocol version, and tombstones
 * (use {@link decodeState} where a tombstone may be met).
 */
export function decodeRow(config: StoreConfig, item: Item): IndexRow {
  const state = decodeState(config, item);
  if (state.kind !== 'live') throw new UnsupportedRowError('a tombstone (deleted item) is not a row');
  return state.row;
}

function decodeLive(config: StoreConfig, item: Item, revision: number): IndexRow {
  if (revision < 1) throw new UnsupportedRowError(`row has ${REVISION_ATTRIBUTE} ${revision}: a live row starts at 1`);
  const pinsMap = (item[PARTS_ATTRIBUTE] ?? { M: {} }).M;
  if (pinsMap === undefined) throw new UnsupportedRowError(`row has a ${PARTS_ATTRIBUTE} that is not a map (M)`);
  // Null prototype: a part name such as "constructor" must not find an inherited property.
  const parts: Record<string, PartPin> = Object.create(null);
  for (const name of Object.keys(pinsMap)) {
    if (!PART_NAME_PATTERN.test(name)) {
      throw new UnsupportedRowError(`row pins an invalid part name ${JSON.stringify(name)}`);
    }
    parts[name] = decodePin(name, pinsMap[name]);
  }
  const user: Record<string, AttributeValue> = Object.create(null);
  for (const [name, value] of Object.entries(item)) {
    if (!RESERVED_ATTRIBUTES.includes(name)) user[name] = value;
  }
  const attributes = fromMap(user, 'attribute');
  const key: ItemKey = {};
  for (const attribute of keyAttributes(config)) {
    const stored = Object.hasOwn(user, attribute.name) ? user[attribute.name] : undefined;
    const value = Object.hasOwn(attributes, attribute.name) ? attributes[attribute.name] : undefined;
    const ofType = attribute.type === 'S' ? stored?.S !== undefined : stored?.N !== undefined;
    if (!ofType || (typeof value !== 'string' && typeof value !== 'number')) {
      throw new UnsupportedRowError(`row has no key attribute "${attribute.name}" of type ${attribute.type}`);
    }
    key[attribute.name] = value;
  }
  return { key, attributes, revision, parts };
}

/**
 * What a writer needs to know of the row a failed condition (or a verification read)
 * returned: its revision and commit token, read without decoding the rest, so that even a
 * row this code cannot decode is compared correctly (it is simply not ours).
 */
export interface ObservedRow {
  readonly revision?: number;
  readonly token?: string;
}

/** The revision and token of an item (undefined item: no row). */
export function observeRow(item: Item | undefined): ObservedRow | undefined {
  if (item === undefined) return undefined;
  const rev = Number(item[REVISION_ATTRIBUTE]?.N);
  return {
    revision: Number.isSafeInteger(rev) ? rev : undefined,
    token: item[TOKEN_ATTRIBUTE]?.S,
  };
}
