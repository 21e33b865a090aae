/**
 * The index-row codec (protocol v1): an {@link IndexRow} to and from a DynamoDB item.
 *
 * A row is the user's attributes (key attributes included) plus reserved attributes:
 *
 * | attribute | type | content                                                          |
 * |-----------|------|------------------------------------------------------------------|
 * | `_rev`    | N    | revision: 1 after create, +1 on every committed write            |
 * | `_parts`  | M    | part name → M { `v`: S VersionId, `e`: S ETag, `s`: N size, `t`: S content type } |
 * | `_proto`  | N    | never written by v1; a row carrying it was written by a later protocol version |
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
 * Reserved attribute: the protocol version of a row. Absent in v1. A v1 reader refuses a
 * row that has it; a v1 writer's conditions include `attribute_not_exists(_proto)`.
 */
export const PROTOCOL_ATTRIBUTE = '_proto';

/** Attribute names an application may not use. */
export const RESERVED_ATTRIBUTES: readonly string[] = [REVISION_ATTRIBUTE, PARTS_ATTRIBUTE, PROTOCOL_ATTRIBUTE];

/** Field names inside one pin (M) of `_parts`. */
export const PIN_FIELDS = { versionId: 'v', etag: 'e', size: 's', contentType: 't' } as const;

/** The protocol version this code speaks. */
export const PROTOCOL_VERSION = 1;

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

/** The DynamoDB item of a row: user attributes, key attributes, `_rev` and `_parts`. */
export function encodeRow(config: StoreConfig, row: IndexRow): Record<string, AttributeValue> {
  validateKey(config, row.key);
  const attributes = marshallAttributes(mergeKeyIntoAttributes(config, row.key, row.attributes));
  if (!Number.isSafeInteger(row.revision) || row.revision < 1) {
    throw new ValidationError(`revision must be a positive integer, got ${row.revision}`);
  }
  return {
    ...attributes,
    [REVISION_ATTRIBUTE]: { N: String(row.revision) },
    [PARTS_ATTRIBUTE]: encodePins(row.parts),
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

/** Decodes a DynamoDB item into a row. Refuses rows of a later protocol version. */
export function decodeRow(config: StoreConfig, item: Record<string, AttributeValue>): IndexRow {
  const proto = item[PROTOCOL_ATTRIBUTE];
  if (proto !== undefined && proto.N !== String(PROTOCOL_VERSION)) {
    throw new UnsupportedRowError(
      `row was written by protocol version ${proto.N ?? JSON.stringify(proto)} (attribute ${PROTOCOL_ATTRIBUTE}); `
      + `this code speaks version ${PROTOCOL_VERSION}: upgrade cdk-split-store`,
    );
  }
  const rev = item[REVISION_ATTRIBUTE]?.N;
  const revision = rev === undefined ? NaN : Number(rev);
  if (!Number.isSafeInteger(revision)) {
    throw new UnsupportedRowError(`row has no valid ${REVISION_ATTRIBUTE} (N): not written by cdk-split-store?`);
  }
  const pinsMap = item[PARTS_ATTRIBUTE]?.M ?? {};
  const parts: Record<string, PartPin> = {};
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
