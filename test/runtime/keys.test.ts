import { StoreConfig } from '../../src/runtime/config';
import {
  encodeKeyValue,
  itemPrefix,
  MAX_S3_KEY_BYTES,
  parsePartKey,
  partKey,
  validateKey,
  validatePartName,
} from '../../src/runtime/keys';
import { ItemKey, ValidationError } from '../../src/runtime/types';

const base = { tableName: 't', bucketName: 'b', keyPrefix: 'items/', indexes: [], writerDeadlineMs: 20_000 };
const pkOnly: StoreConfig = { ...base, partitionKey: { name: 'id', type: 'S' } };
const withSort: StoreConfig = { ...base, partitionKey: { name: 'tenant', type: 'S' }, sortKey: { name: 'seq', type: 'N' } };
const numericPk: StoreConfig = { ...base, partitionKey: { name: 'n', type: 'N' } };

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as ValidationError).statusCode).toBe(400);
    return (e as Error).message;
  }
  throw new Error('expected a ValidationError');
}

describe('partKey', () => {
  test('partition key only', () => {
    expect(partKey(pkOnly, { id: 'inv-1' }, 'summary')).toBe('items/inv-1/summary');
  });

  test('partition and sort key', () => {
    expect(partKey(withSort, { tenant: 'acme', seq: 42 }, 'lines')).toBe('items/acme/42/lines');
  });

  test('encodes slashes, dots, percent signs and non-ASCII', () => {
    expect(partKey(pkOnly, { id: 'a/../b' }, 'p')).toBe('items/a%2F..%2Fb/p');
    expect(partKey(pkOnly, { id: '..' }, 'p')).toBe('items/%2E%2E/p');
    expect(partKey(pkOnly, { id: '.' }, 'p')).toBe('items/%2E/p');
    expect(partKey(pkOnly, { id: 'ü' }, 'p')).toBe('items/%C3%BC/p');
    expect(partKey(pkOnly, { id: '%2F' }, 'p')).toBe('items/%252F/p');
    expect(partKey(pkOnly, { id: 'a b+c?d#e' }, 'p')).toBe('items/a%20b%2Bc%3Fd%23e/p');
  });

  test('numbers are rendered canonically', () => {
    expect(partKey(numericPk, { n: 1.5 }, 'p')).toBe('items/1.5/p');
    expect(partKey(numericPk, { n: -0 }, 'p')).toBe('items/0/p');
    expect(partKey(numericPk, { n: 1e21 }, 'p')).toBe('items/1e%2B21/p');
    expect(partKey(numericPk, { n: 100 }, 'p')).toBe('items/100/p');
    expect(encodeKeyValue(0.1 + 0.2)).toBe('0.30000000000000004');
  });

  test('respects a custom prefix', () => {
    expect(partKey({ ...pkOnly, keyPrefix: 'tenants/x/' }, { id: 'a' }, 'p')).toBe('tenants/x/a/p');
    expect(itemPrefix(withSort, { tenant: 'a', seq: 1 })).toBe('items/a/1/');
  });
});

describe('refusals', () => {
  test('fails when a key attribute is missing', () => {
    expect(refusal(() => partKey(withSort, { tenant: 'a' }, 'p'))).toBe('key attribute "seq" is missing');
  });

  test('fails when a key attribute is unknown', () => {
    expect(refusal(() => validateKey(pkOnly, { id: 'a', other: 'b' }))).toBe(
      'unknown key attribute "other": the item key has exactly the attributes "id" (string)',
    );
  });

  test('fails when a string key is a number', () => {
    expect(refusal(() => validateKey(pkOnly, { id: 5 }))).toBe(
      'key attribute "id" must be a string (DynamoDB type S), got number 5',
    );
  });

  test('fails when a number key is a string', () => {
    expect(refusal(() => validateKey(numericPk, { n: '5' }))).toBe(
      'key attribute "n" must be a number (DynamoDB type N), got string "5"',
    );
  });

  test('fails when a number key is not finite', () => {
    expect(refusal(() => validateKey(numericPk, { n: NaN }))).toBe('key attribute "n" must be a finite number, got NaN');
    expect(refusal(() => validateKey(numericPk, { n: Infinity }))).toBe('key attribute "n" must be a finite number, got Infinity');
  });

  test('fails when a string key is empty', () => {
    expect(refusal(() => validateKey(pkOnly, { id: '' }))).toBe('key attribute "id" must not be an empty string');
  });

  test('fails when a string key has an unpaired surrogate', () => {
    expect(refusal(() => validateKey(pkOnly, { id: 'a\uD800' }))).toBe('key attribute "id" contains an unpaired UTF-16 surrogate');
  });

  test('fails when the key is not an object', () => {
    expect(refusal(() => validateKey(pkOnly, 'a'))).toBe('the item key must be an object with the key attributes "id" (string)');
    expect(refusal(() => validateKey(withSort, null))).toBe(
      'the item key must be an object with the key attributes "tenant" (string) and "seq" (number)',
    );
  });

  test.each([
    [''], ['Summary'], ['_x'], ['-x'], ['a.b'], ['a/b'], ['é'], ['a'.repeat(64)],
  ])('fails when the part name is %j', (name) => {
    expect(refusal(() => validatePartName(name))).toBe(
      `invalid part name ${JSON.stringify(name)}: a part name is 1 to 63 characters, a lower-case letter or digit `
      + 'followed by lower-case letters, digits, \'_\' or \'-\'',
    );
  });

  test.each([['a'], ['0'], ['summary_v2'], ['lines-1'], ['a'.repeat(63)]])('accepts part name %j', (name) => {
    expect(() => validatePartName(name)).not.toThrow();
  });
});

describe('the 1,024-byte limit', () => {
  // 'items/' (6) + value + '/' (1) + part name
  test('a part key of exactly 1,024 bytes is accepted, 1,025 is refused', () => {
    const part = 'p';
    const value = 'a'.repeat(MAX_S3_KEY_BYTES - 6 - 1 - part.length);
    const key = partKey(pkOnly, { id: value }, part);
    expect(Buffer.byteLength(key)).toBe(1024);
    expect(parsePartKey(pkOnly, key)).toEqual({ key: { id: value }, part });

    const message = refusal(() => partKey(pkOnly, { id: value + 'a' }, part));
    expect(message).toBe(
      'key too long: the S3 key of part "p" would be 1025 bytes (UTF-8), over S3\'s limit of 1024 bytes '
      + '(key attribute "id" encodes to 1017 bytes; prefix "items/"); shorten the key value or the part name',
    );
  });

  test('counts encoded UTF-8 bytes, not characters', () => {
    // 'ü' encodes to '%C3%BC': 6 bytes per character
    const value = 'ü'.repeat(169); // 1014 bytes encoded
    expect(Buffer.byteLength(partKey(pkOnly, { id: value }, 'abc'))).toBe(1024);
    expect(refusal(() => partKey(pkOnly, { id: value }, 'abcd'))).toContain('would be 1025 bytes');
  });

  test('validateKey refuses a key that leaves no room for the shortest part name', () => {
    // 'items/' + value + '/' + 1-character part = 1024 when value is 1016 bytes
    expect(() => validateKey(pkOnly, { id: 'a'.repeat(1016) })).not.toThrow();
    expect(refusal(() => validateKey(pkOnly, { id: 'a'.repeat(1017) }))).toBe(
      'key too long: the shortest part key of this item would be 1025 bytes (UTF-8), over S3\'s limit of 1024 bytes '
      + '(key attribute "id" encodes to 1017 bytes; prefix "items/"); shorten the key value',
    );
  });

  test('names every key attribute with its encoded size', () => {
    const message = refusal(() => validateKey(withSort, { tenant: 'x'.repeat(1020), seq: 7 }));
    expect(message).toContain('key attribute "tenant" encodes to 1020 bytes, "seq" encodes to 1 bytes');
  });
});

describe('parsePartKey', () => {
  const odd: ItemKey[] = [
    { id: 'a/../b' }, { id: 'ü' }, { id: '%2F' }, { id: '.' }, { id: '..' }, { id: ' ' },
    { id: 'a%' }, { id: '😀' }, { id: '!*\'()' }, { id: 'x/y/z' },
  ];
  test.each(odd)('round trip of %j', (key) => {
    expect(parsePartKey(pkOnly, partKey(pkOnly, key, 'summary'))).toEqual({ key, part: 'summary' });
  });

  test.each([[0], [-1], [1.5], [1e21], [1e-7], [Number.MAX_SAFE_INTEGER], [-123.456]])('round trip of number %p', (n) => {
    expect(parsePartKey(withSort, partKey(withSort, { tenant: 't', seq: n }, 'p'))).toEqual({ key: { tenant: 't', seq: n }, part: 'p' });
  });

  test.each([
    ['other/a/p', 'outside the prefix'],
    ['items/a', 'no part segment'],
    ['items/a/b/p', 'too many segments'],
    ['items//p', 'empty key segment'],
    ['items/a/P', 'invalid part name'],
    ['items/%E0%A4%A/p', 'broken percent-encoding'],
    ['items/../p', 'dot segment not written by us'],
    ['items/%61/p', 'non-canonical encoding'],
  ])('refuses %j (%s)', (s3Key) => {
    expect(parsePartKey(pkOnly, s3Key)).toBeUndefined();
  });

  test('refuses non-canonical numbers', () => {
    expect(parsePartKey(numericPk, 'items/01/p')).toBeUndefined();
    expect(parsePartKey(numericPk, 'items/1.50/p')).toBeUndefined();
    expect(parsePartKey(numericPk, 'items/abc/p')).toBeUndefined();
    expect(parsePartKey(numericPk, 'items/Infinity/p')).toBeUndefined();
    expect(parsePartKey(numericPk, 'items/%20/p')).toBeUndefined();
    expect(parsePartKey(numericPk, 'items/12/p')).toEqual({ key: { n: 12 }, part: 'p' });
  });
});
