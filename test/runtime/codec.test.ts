import {
  checkIndexKeyAttributes,
  decodeRow,
  decodeState,
  encodeRow,
  encodeTombstone,
  marshallAttributes,
  marshallKey,
  mergeKeyIntoAttributes,
  observeRow,
  pinOf,
  RESERVED_ATTRIBUTES,
  UnsupportedRowError,
} from '../../src/runtime/codec';
import { StoreConfig } from '../../src/runtime/config';
import { IndexRow, ValidationError } from '../../src/runtime/types';

const config: StoreConfig = {
  tableName: 't',
  bucketName: 'b',
  keyPrefix: 'items/',
  indexes: [],
  writerDeadlineMs: 20_000,
  partitionKey: { name: 'tenant', type: 'S' },
  sortKey: { name: 'seq', type: 'N' },
};

const row: IndexRow = {
  key: { tenant: 'acme', seq: 7 },
  attributes: {
    tenant: 'acme',
    seq: 7,
    number: 'INV-7',
    total: 12.5,
    paid: false,
    tags: ['a', 'b'],
    customer: { name: 'Ada', vat: null },
    nested: { deep: { list: [1, { x: 'y' }] } },
  },
  revision: 3,
  parts: {
    summary: { versionId: 'v-1', etag: '"abc"', size: 10, contentType: 'application/json' },
    lines: { versionId: 'v-2', etag: '"def-2"', size: 123456, contentType: 'application/octet-stream' },
  },
};

const pin = { versionId: 'v-9', etag: '"e"', size: 1, contentType: 'text/plain' };

describe('encodeRow / decodeRow', () => {
  test('round trip', () => {
    expect(decodeRow(config, encodeRow(config, row))).toEqual(row);
  });

  test('reserved attributes have the documented DynamoDB types', () => {
    const item = encodeRow(config, row);
    expect(item._rev).toEqual({ N: '3' });
    expect(item._parts).toEqual({
      M: {
        summary: { M: { v: { S: 'v-1' }, e: { S: '"abc"' }, s: { N: '10' }, t: { S: 'application/json' } } },
        lines: { M: { v: { S: 'v-2' }, e: { S: '"def-2"' }, s: { N: '123456' }, t: { S: 'application/octet-stream' } } },
      },
    });
    expect(item._proto).toBeUndefined();
    expect(item.tenant).toEqual({ S: 'acme' });
    expect(item.seq).toEqual({ N: '7' });
  });

  test('a row without parts has an empty _parts map', () => {
    const item = encodeRow(config, { ...row, parts: {} });
    expect(item._parts).toEqual({ M: {} });
    expect(decodeRow(config, item).parts).toEqual({});
  });

  test('key attributes are added to the attributes', () => {
    const item = encodeRow(config, { ...row, attributes: { total: 1 } });
    expect(decodeRow(config, item).attributes).toEqual({ tenant: 'acme', seq: 7, total: 1 });
  });

  test('undefined attributes are dropped', () => {
    const item = encodeRow(config, { ...row, attributes: { total: 1, gone: undefined } });
    expect(Object.keys(item).sort()).toEqual(['_parts', '_rev', 'seq', 'tenant', 'total']);
  });

  test('integers beyond 2^53 are decoded as strings, never rounded', () => {
    const item = { ...encodeRow(config, row), big: { N: '123456789012345678901234567890' } };
    expect(decodeRow(config, item).attributes.big).toBe('123456789012345678901234567890');
  });

  test('fails when a user attribute has a reserved name', () => {
    for (const name of RESERVED_ATTRIBUTES) {
      expect(() => encodeRow(config, { ...row, attributes: { [name]: 1 } })).toThrow(
        new ValidationError(`attribute name "${name}" is reserved by cdk-split-store (reserved: _rev, _parts, _proto, _tok, _del); rename the attribute`),
      );
    }
  });

  test('fails when a key attribute in the attributes differs from the key', () => {
    expect(() => mergeKeyIntoAttributes(config, { tenant: 'a', seq: 1 }, { seq: 2 })).toThrow(
      'attribute "seq" is a key attribute and differs from the item key (2 vs 1); omit it or make it equal',
    );
  });

  test('fails when an attribute cannot be marshalled', () => {
    expect(() => marshallAttributes({ when: new Date(0) })).toThrow('attribute "when" is an instance of Date');
    expect(() => marshallAttributes({ n: NaN })).toThrow('attribute "n" is NaN, which DynamoDB cannot store');
    expect(() => marshallAttributes({ s: new Set() })).toThrow('attribute "s" is an empty set, which DynamoDB cannot store');
    expect(() => marshallAttributes({ f: () => 1 })).toThrow('attribute "f" is a function');
  });

  test('fails, before any call, on what DynamoDB would refuse in the commit', () => {
    const nested = (n: number): unknown => (n === 0 ? 'leaf' : { a: nested(n - 1) });
    expect(() => marshallAttributes({ deep: nested(31) })).not.toThrow();
    expect(() => marshallAttributes({ deep: nested(32) })).toThrow('nests lists and maps more than 31 levels deep');
    expect(() => marshallAttributes({ big: 1e126 })).toThrow('attribute "big" is 1e+126, which DynamoDB cannot store');
    expect(() => marshallAttributes({ tiny: 5e-324 })).toThrow('which DynamoDB cannot store');
    expect(() => marshallAttributes({ wide: 123456789012345678901234567890123456789n })).toThrow('at most 38 significant digits');
    expect(() => marshallAttributes({ m: { '': 1 } })).toThrow('map keys of attribute "m" must not be empty');
    expect(() => marshallAttributes({ s: '\ud800' })).toThrow('attribute "s" contains an unpaired UTF-16 surrogate');
    expect(() => marshallAttributes({ mixed: new Set(['a', 1]) })).toThrow('a set of mixed types');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => marshallAttributes({ cyclic })).toThrow('more than 31 levels deep');
  });

  test('numbers DynamoDB holds are kept: 1e21, bigints up to 38 digits, the smallest and largest magnitudes', () => {
    expect(marshallAttributes({ a: 1e21, b: 12345678901234567890123456789012345678n, c: 1e-130, d: -9.99999999999999e125 })).toEqual({
      a: { N: '1e+21' }, b: { N: '12345678901234567890123456789012345678' }, c: { N: '1e-130' }, d: { N: '-9.99999999999999e+125' },
    });
  });

  test('__proto__ and constructor are ordinary keys inside a map, and read back as keys', () => {
    const attributes = JSON.parse('{"meta":{"__proto__":{"x":1},"constructor":"c"}}');
    const item = encodeRow(config, { ...row, attributes });
    expect(Object.keys(item.meta.M!).sort()).toEqual(['__proto__', 'constructor']);
    const decoded = decodeRow(config, item).attributes.meta as Record<string, unknown>;
    expect(Object.keys(decoded).sort()).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(decoded)).toBeNull();
    expect(JSON.stringify(decoded)).toBe('{"__proto__":{"x":1},"constructor":"c"}');
  });

  test('index key attributes of the wrong type, null, empty or too long are refused (DynamoDB refuses them in the commit)', () => {
    const indexed: StoreConfig = {
      ...config,
      indexes: [{ name: 'byCustomer', partitionKey: { name: 'customer', type: 'S' }, sortKey: { name: 'total', type: 'N' } }],
    };
    expect(() => checkIndexKeyAttributes(indexed, { customer: 'c-1', total: 3, other: null })).not.toThrow();
    expect(() => checkIndexKeyAttributes(indexed, { other: 1 })).not.toThrow();
    expect(() => checkIndexKeyAttributes(indexed, { customer: null })).toThrow(
      'attribute "customer" (a key of index byCustomer) must be a non-empty string, got null (leave the attribute out to keep the item out of the index)',
    );
    expect(() => checkIndexKeyAttributes(indexed, { customer: '' })).toThrow('must be a non-empty string, got ""');
    expect(() => checkIndexKeyAttributes(indexed, { total: '3' })).toThrow('attribute "total" (a key of index byCustomer) must be a number, got "3"');
    expect(() => checkIndexKeyAttributes(indexed, { customer: 'c'.repeat(2049) })).toThrow("is 2049 bytes, over DynamoDB's limit of 2048");
  });

  test('fails when __proto__ is a top-level attribute name: the SDK would drop its value on read', () => {
    expect(() => marshallAttributes(JSON.parse('{"__proto__":1}'))).toThrow('attribute name "__proto__" cannot be used');
  });

  test('numbers a JavaScript number cannot hold exactly are decoded as their decimal string', () => {
    const item = { ...encodeRow(config, row), a: { N: '0.1000000000000000000001' }, b: { N: '1000000000000000000000' }, c: { N: '0.1' } };
    expect(decodeRow(config, item).attributes).toMatchObject({ a: '0.1000000000000000000001', b: 1e21, c: 0.1 });
  });

  test('a row that pins a part named constructor, or none, answers pinOf truthfully', () => {
    const pinned = decodeRow(config, encodeRow(config, { ...row, parts: { constructor: pin } }));
    expect(pinOf(pinned, 'constructor')).toEqual(pin);
    const none = decodeRow(config, encodeRow(config, { ...row, parts: {} }));
    expect(pinOf(none, 'constructor')).toBeUndefined();
    expect(pinOf(none, 'toString')).toBeUndefined();
  });

  test('fails when the revision is not a positive integer', () => {
    expect(() => encodeRow(config, { ...row, revision: 0 })).toThrow('revision must be a positive integer, got 0');
  });
});

describe('decodeRow refusals', () => {
  test('fails on a row of a later protocol version', () => {
    const item = { ...encodeRow(config, row, 'tok'), _proto: { N: '3' } };
    expect(() => decodeRow(config, item)).toThrow(UnsupportedRowError);
    expect(() => decodeRow(config, item)).toThrow(/written by protocol version 3/);
  });

  test('fails on a v2 row without its token', () => {
    const { _tok, ...item } = encodeRow(config, row, 'tok');
    expect(_tok).toEqual({ S: 'tok' });
    expect(() => decodeRow(config, item)).toThrow('protocol v2 row without _tok (S)');
  });

  test('fails on a v1 row carrying an attribute v2 reserves (it would be stripped or overwritten)', () => {
    expect(() => decodeRow(config, { ...encodeRow(config, row), _del: { S: 'app data' } })).toThrow(
      /row has no _proto \(a protocol v1 row\) but has attribute _del, which protocol v2 reserves/,
    );
  });

  test('a tombstone is not a row', () => {
    expect(() => decodeRow(config, encodeTombstone(config, row.key, 4, 'tok'))).toThrow('a tombstone (deleted item) is not a row');
  });

  test('accepts an explicit _proto of 1', () => {
    expect(decodeRow(config, { ...encodeRow(config, row), _proto: { N: '1' } }).revision).toBe(3);
  });

  test('fails on a row without _rev', () => {
    const { _rev, ...item } = encodeRow(config, row);
    expect(_rev).toBeDefined();
    expect(() => decodeRow(config, item)).toThrow('row has no valid _rev (N): not written by cdk-split-store?');
  });

  test('fails on a malformed pin', () => {
    const item = encodeRow(config, row);
    item._parts = { M: { summary: { M: { v: { S: 'x' } } } } };
    expect(() => decodeRow(config, item)).toThrow('malformed pin for part "summary" in _parts: expected M {v:S, e:S, s:N, t:S}');
  });

  test('fails on a pin with an invalid part name', () => {
    const item = encodeRow(config, row);
    item._parts = { M: { 'Bad/Name': item._parts.M!.summary } };
    expect(() => decodeRow(config, item)).toThrow('row pins an invalid part name "Bad/Name"');
  });

  test('fails on a row without its key attribute', () => {
    const { seq, ...item } = encodeRow(config, row);
    expect(seq).toBeDefined();
    expect(() => decodeRow(config, item)).toThrow('row has no key attribute "seq"');
  });
});

describe('decodeState: what a writer reads before it commits', () => {
  test('no item: no row', () => {
    expect(decodeState(config, undefined)).toEqual({ kind: 'none' });
  });

  test('a v1 row: live, without a token', () => {
    const item = encodeRow(config, row);
    expect(decodeState(config, item)).toEqual({ kind: 'live', revision: 3, token: undefined, row, item });
  });

  test('a v2 row: live, with its token; the reserved attributes are not user attributes', () => {
    const item = encodeRow(config, row, 'tok');
    expect(item).toMatchObject({ _tok: { S: 'tok' }, _proto: { N: '2' } });
    expect(decodeState(config, item)).toEqual({ kind: 'live', revision: 3, token: 'tok', row, item });
  });

  test('a tombstone: its revision and token', () => {
    expect(decodeState(config, encodeTombstone(config, row.key, 4, 'tok'))).toEqual({ kind: 'tombstone', revision: 4, token: 'tok' });
  });

  test('observeRow reads revision and token without decoding the rest', () => {
    expect(observeRow(undefined)).toBeUndefined();
    expect(observeRow({ _rev: { N: '9' }, _tok: { S: 't' }, _proto: { N: '7' } })).toEqual({ revision: 9, token: 't' });
    expect(observeRow({ junk: { S: 'x' } })).toEqual({ revision: undefined, token: undefined });
  });
});

test('marshallKey marshals only the key attributes, with their types', () => {
  expect(marshallKey(config, { tenant: 'a', seq: 2 })).toEqual({ tenant: { S: 'a' }, seq: { N: '2' } });
});
