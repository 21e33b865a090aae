import {
  decodeRow,
  decodeState,
  encodeRow,
  encodeTombstone,
  marshallAttributes,
  marshallKey,
  mergeKeyIntoAttributes,
  observeRow,
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
    expect(() => marshallAttributes({ when: new Date(0) })).toThrow(ValidationError);
    expect(() => marshallAttributes({ n: NaN })).toThrow('attributes cannot be stored in DynamoDB: Special numeric value NaN is not allowed');
    expect(() => marshallAttributes({ s: new Set() })).toThrow(/cannot be stored in DynamoDB/);
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
