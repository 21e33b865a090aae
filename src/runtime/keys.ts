/**
 * Key derivation (protocol v1): where a part of an item lives in S3.
 *
 *   <keyPrefix><enc(partitionKeyValue)>/<part>                          table without a sort key
 *   <keyPrefix><enc(partitionKeyValue)>/<enc(sortKeyValue)>/<part>      table with a sort key
 *
 * `enc` is `encodeURIComponent` of the value rendered as a string, except that the two
 * values `.` and `..` are written `%2E` and `%2E%2E` (so that no path segment is a dot
 * segment that an HTTP client might normalise away). Because `/` is always encoded,
 * no key value can climb out of its prefix or collide with another item's key.
 *
 * Numbers are rendered canonically: ECMAScript `Number.prototype.toString` (shortest
 * round-trip form, `-0` as `0`). See docs/PROTOCOL.md for the cross-language rules.
 *
 * No CDK import here: this module is bundled into the Lambda assets.
 */
import { KeyAttribute, StoreConfig } from './config';
import { significantDigits } from './json';
import {
  DYNAMODB_NUMBER_OVERFLOW, MAX_DYNAMODB_NUMBER_DIGITS, MAX_PART_NAME_LENGTH, MAX_S3_KEY_BYTES, MIN_DYNAMODB_NUMBER, PART_NAME_PATTERN,
} from './limits';
import { ItemKey, KeyValue, ValidationError } from './types';

export { MAX_S3_KEY_BYTES, PART_NAME_PATTERN };

/** A part key split back into its item key and part name. */
export interface ParsedPartKey {
  readonly key: ItemKey;
  readonly part: string;
}

/** The key attributes of a store, partition key first. */
export function keyAttributes(config: StoreConfig): KeyAttribute[] {
  return config.sortKey ? [config.partitionKey, config.sortKey] : [config.partitionKey];
}

/** Refuses a part name that does not match `[a-z0-9][a-z0-9_-]{0,62}`. */
export function validatePartName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !PART_NAME_PATTERN.test(name)) {
    throw new ValidationError(
      `invalid part name ${JSON.stringify(name)}: a part name is 1 to ${MAX_PART_NAME_LENGTH} characters, `
      + 'a lower-case letter or digit followed by lower-case letters, digits, \'_\' or \'-\'',
    );
  }
}

/**
 * Refuses a number DynamoDB cannot store: NaN, an infinity, a magnitude of 1e126 or more
 * (overflow) or a non-zero magnitude below 1e-130 (underflow). `what` names it in the message.
 */
export function checkDynamoDbNumber(value: number, what: string): void {
  const magnitude = Math.abs(value);
  if (!Number.isFinite(value) || magnitude >= DYNAMODB_NUMBER_OVERFLOW || (magnitude !== 0 && magnitude < MIN_DYNAMODB_NUMBER)) {
    throw new ValidationError(`${what} is ${value}, which DynamoDB cannot store: `
      + `a number is 0 or of magnitude ${MIN_DYNAMODB_NUMBER} to below ${DYNAMODB_NUMBER_OVERFLOW}`);
  }
}

/**
 * True when `text` is a number DynamoDB accepts as an `N`: decimal (`-12.5`, `1e3`), at most
 * 38 significant digits, in its range.
 */
export function isDynamoDbNumberText(text: string): boolean {
  if (!/^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return false;
  const digits = significantDigits(text);
  if (digits === undefined || digits > MAX_DYNAMODB_NUMBER_DIGITS) return false;
  const magnitude = Math.abs(Number(text));
  return magnitude === 0 ? digits === 0 : magnitude < DYNAMODB_NUMBER_OVERFLOW && magnitude >= MIN_DYNAMODB_NUMBER;
}

/** True when a string has no unpaired UTF-16 surrogate (so it has a UTF-8 encoding). */
export function isWellFormed(value: string): boolean {
  // String.prototype.isWellFormed is ES2024; do it by hand for the ES2022 target.
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value);
}

/** Renders a key value canonically (before URI encoding). */
export function renderKeyValue(value: KeyValue): string {
  if (typeof value === 'number') {
    return Object.is(value, -0) ? '0' : String(value);
  }
  return value;
}

/** Encodes one key value for use as an S3 key segment. */
export function encodeKeyValue(value: KeyValue): string {
  const rendered = renderKeyValue(value);
  if (rendered === '.') return '%2E';
  if (rendered === '..') return '%2E%2E';
  return encodeURIComponent(rendered);
}

function validateKeyValue(attribute: KeyAttribute, value: unknown): void {
  if (value === undefined || value === null) {
    throw new ValidationError(`key attribute "${attribute.name}" is missing`);
  }
  if (attribute.type === 'S') {
    if (typeof value !== 'string') {
      throw new ValidationError(
        `key attribute "${attribute.name}" must be a string (DynamoDB type S), got ${typeof value} ${JSON.stringify(value)}`,
      );
    }
    if (value.length === 0) {
      throw new ValidationError(`key attribute "${attribute.name}" must not be an empty string`);
    }
    if (!isWellFormed(value)) {
      throw new ValidationError(`key attribute "${attribute.name}" contains an unpaired UTF-16 surrogate`);
    }
  } else {
    if (typeof value !== 'number') {
      throw new ValidationError(
        `key attribute "${attribute.name}" must be a number (DynamoDB type N), got ${typeof value} ${JSON.stringify(value)}`,
      );
    }
    if (!Number.isFinite(value)) {
      throw new ValidationError(`key attribute "${attribute.name}" must be a finite number, got ${value}`);
    }
    checkDynamoDbNumber(value, `key attribute "${attribute.name}"`);
  }
}

/** The S3 key prefix of an item, ending with '/': `<keyPrefix><enc(pk)>/[<enc(sk)>/]`. */
export function itemPrefix(config: StoreConfig, key: ItemKey): string {
  validateKey(config, key, { checkLength: false });
  return unsafeItemPrefix(config, key);
}

function unsafeItemPrefix(config: StoreConfig, key: ItemKey): string {
  return config.keyPrefix + keyAttributes(config).map(a => encodeKeyValue(key[a.name]) + '/').join('');
}

/** Options of {@link validateKey}. */
export interface ValidateKeyOptions {
  /**
   * Also refuse a key whose shortest possible part key (a 1-character part name) would
   * exceed {@link MAX_S3_KEY_BYTES}.
   * @default true
   */
  readonly checkLength?: boolean;
}

/**
 * Refuses an item key that does not fit the store: not an object, a missing key attribute,
 * an unknown attribute, a value of the wrong type, an empty string, or a key so long that
 * no part of it would fit in an S3 key.
 */
export function validateKey(config: StoreConfig, key: unknown, options: ValidateKeyOptions = {}): asserts key is ItemKey {
  if (typeof key !== 'object' || key === null || Array.isArray(key)) {
    throw new ValidationError(`the item key must be an object with the key attributes ${describeKeyAttributes(config)}`);
  }
  const attributes = keyAttributes(config);
  for (const name of Object.keys(key)) {
    if (!attributes.some(a => a.name === name)) {
      throw new ValidationError(
        `unknown key attribute "${name}": the item key has exactly the attributes ${describeKeyAttributes(config)}`,
      );
    }
  }
  for (const attribute of attributes) {
    validateKeyValue(attribute, Object.hasOwn(key, attribute.name) ? (key as Record<string, unknown>)[attribute.name] : undefined);
  }
  if (options.checkLength ?? true) {
    const prefix = unsafeItemPrefix(config, key as ItemKey);
    checkLength(config, key as ItemKey, prefix + 'x', undefined);
  }
}

function describeKeyAttributes(config: StoreConfig): string {
  return keyAttributes(config).map(a => `"${a.name}" (${a.type === 'S' ? 'string' : 'number'})`).join(' and ');
}

function checkLength(config: StoreConfig, key: ItemKey, s3Key: string, part: string | undefined): void {
  const bytes = Buffer.byteLength(s3Key, 'utf8');
  if (bytes <= MAX_S3_KEY_BYTES) return;
  const sizes = keyAttributes(config)
    .map(a => `"${a.name}" encodes to ${Buffer.byteLength(encodeKeyValue(key[a.name]), 'utf8')} bytes`)
    .join(', ');
  const what = part === undefined ? 'the shortest part key of this item' : `the S3 key of part "${part}"`;
  throw new ValidationError(
    `key too long: ${what} would be ${bytes} bytes (UTF-8), over S3's limit of ${MAX_S3_KEY_BYTES} bytes `
    + `(key attribute ${sizes}; prefix "${config.keyPrefix}"); shorten the key value`
    + (part === undefined ? '' : ' or the part name'),
  );
}

/** The S3 key of one part of an item. Validates the key, the part name and the 1,024-byte limit. */
export function partKey(config: StoreConfig, key: ItemKey, part: string): string {
  validateKey(config, key, { checkLength: false });
  validatePartName(part);
  const s3Key = unsafeItemPrefix(config, key) + part;
  checkLength(config, key, s3Key, part);
  return s3Key;
}

function decodeSegment(attribute: KeyAttribute, segment: string): KeyValue | undefined {
  if (segment.length === 0) return undefined;
  let rendered: string;
  try {
    rendered = decodeURIComponent(segment);
  } catch {
    return undefined;
  }
  const value: KeyValue = attribute.type === 'N' ? Number(rendered) : rendered;
  if (attribute.type === 'N' && (rendered.trim() === '' || !Number.isFinite(value))) return undefined;
  if (attribute.type === 'S' && rendered.length === 0) return undefined;
  // Only the canonical encoding of a key is a part key: anything else was not written by us.
  return encodeKeyValue(value) === segment ? value : undefined;
}

/**
 * Splits an S3 key back into item key and part name, or returns undefined when the S3 key
 * is not the canonical part key of any item of this store.
 */
export function parsePartKey(config: StoreConfig, s3Key: string): ParsedPartKey | undefined {
  if (!s3Key.startsWith(config.keyPrefix)) return undefined;
  const segments = s3Key.slice(config.keyPrefix.length).split('/');
  const attributes = keyAttributes(config);
  if (segments.length !== attributes.length + 1) return undefined;
  const part = segments[attributes.length];
  if (!PART_NAME_PATTERN.test(part)) return undefined;
  const key: ItemKey = {};
  for (let i = 0; i < attributes.length; i++) {
    const value = decodeSegment(attributes[i], segments[i]);
    if (value === undefined) return undefined;
    key[attributes[i].name] = value;
  }
  if (Buffer.byteLength(s3Key, 'utf8') > MAX_S3_KEY_BYTES) return undefined;
  return { key, part };
}
