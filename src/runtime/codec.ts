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
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { StoreConfig } from './config';
import { keyAttributes, PART_NAME_PATTERN, validateKey } from './keys';
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

/** Marshals user attributes, refusing reserved names and values DynamoDB cannot store. */
export function marshallAttributes(attributes: Record<string, unknown>): Record<string, AttributeValue> {
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
    throw new ValidationError('attributes must be an object of attribute name to value');
  }
  for (const name of Object.keys(attributes)) {
    if (RESERVED_ATTRIBUTES.includes(name)) {
      throw new ValidationError(
        `attribute name "${name}" is reserved by cdk-split-store (reserved: ${RESERVED_ATTRIBUTES.join(', ')}); rename the attribute`,
      );
    }
    if (name.length === 0) {
      throw new ValidationError('attribute names must not be empty');
    }
  }
  try {
    return marshall(attributes, { removeUndefinedValues: true, convertEmptyValues: false });
  } catch (e) {
    throw new ValidationError(`attributes cannot be stored in DynamoDB: ${(e as Error).message}`);
  }
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
    const value = attributes[attribute.name];
    if (value !== undefined && value !== key[attribute.name]) {
      throw new ValidationError(
        `attribute "${attribute.name}" is a key attribute and differs from the item key `
        + `(${JSON.stringify(value)} vs ${JSON.stringify(key[attribute.name])}); omit it or make it equal`,
      );
    }
  }
  return { ...attributes, ...key };
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
  const m: Record<string, AttributeValue> = {};
  for (const [name, pin] of Object.entries(parts)) m[name] = encodePin(pin);
  return { M: m };
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
 * DynamoDB numbers become JavaScript numbers, except integers beyond 2^53 that a number
 * cannot hold exactly: those are returned as their decimal string, never rounded.
 */
function numberOrString(value: string): number | string {
  const n = Number(value);
  return Number.isInteger(n) && !Number.isSafeInteger(n) ? value : n;
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
  const pinsMap = item[PARTS_ATTRIBUTE]?.M ?? {};
  // Null prototype: a part name such as "constructor" must not find an inherited property.
  const parts: Record<string, PartPin> = Object.create(null);
  for (const name of Object.keys(pinsMap)) {
    if (!PART_NAME_PATTERN.test(name)) {
      throw new UnsupportedRowError(`row pins an invalid part name ${JSON.stringify(name)}`);
    }
    parts[name] = decodePin(name, pinsMap[name]);
  }
  const user: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(item)) {
    if (!RESERVED_ATTRIBUTES.includes(name)) user[name] = value;
  }
  const attributes = unmarshall(user, { wrapNumbers: numberOrString });
  const key: ItemKey = {};
  for (const attribute of keyAttributes(config)) {
    const value = attributes[attribute.name];
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw new UnsupportedRowError(`row has no key attribute "${attribute.name}"`);
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
