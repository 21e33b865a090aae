import { parsePath, ProjectionError, projectJson, validatePaths } from '../../src/runtime/projection';

const doc = {
  total: 12.5,
  customer: { name: 'Ada', address: { city: 'Paris', zip: '75001' }, tags: ['x'] },
  lines: [{ sku: 'a' }],
  nothing: null,
};

function project(source: unknown, paths: string[]): unknown {
  const body = new TextEncoder().encode(JSON.stringify(source));
  return JSON.parse(new TextDecoder().decode(projectJson(body, paths)));
}

describe('projectJson', () => {
  test('top-level fields', () => {
    expect(project(doc, ['total', 'lines'])).toEqual({ total: 12.5, lines: [{ sku: 'a' }] });
  });

  test('dotted paths keep the nesting', () => {
    expect(project(doc, ['customer.name', 'customer.address.city'])).toEqual({
      customer: { name: 'Ada', address: { city: 'Paris' } },
    });
  });

  test('a parent path and a child path together give the parent', () => {
    expect(project(doc, ['customer.address.city', 'customer.address'])).toEqual({
      customer: { address: { city: 'Paris', zip: '75001' } },
    });
  });

  test('missing paths and paths through non-objects are left out', () => {
    expect(project(doc, ['missing', 'customer.missing', 'lines.0.sku', 'total.x', 'nothing.x', 'nothing'])).toEqual({ nothing: null });
  });

  test('a segment named __proto__ creates a field, not a prototype', () => {
    const source = JSON.parse('{"__proto__":{"polluted":true},"a":1}');
    const result = project(source, ['__proto__.polluted']) as Record<string, unknown>;
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(JSON.stringify(result)).toBe('{"__proto__":{"polluted":true}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('inherited properties are not projected', () => {
    expect(project({ a: 1 }, ['toString', 'constructor'])).toEqual({});
  });

  test('fails when the part is not JSON', () => {
    expect(() => projectJson(new TextEncoder().encode('not json'), ['a'])).toThrow(ProjectionError);
    expect(() => projectJson(new TextEncoder().encode('not json'), ['a'])).toThrow(/the part is not UTF-8 JSON/);
  });

  test('fails when the part is not UTF-8', () => {
    expect(() => projectJson(new Uint8Array([0x7b, 0xff, 0x7d]), ['a'])).toThrow(/not UTF-8 JSON/);
  });

  test('fails when the JSON is not an object', () => {
    expect(() => projectJson(new TextEncoder().encode('[1,2]'), ['a'])).toThrow(
      'the part is JSON but not an object (array): only object fields can be projected',
    );
    expect(() => projectJson(new TextEncoder().encode('3'), ['a'])).toThrow('the part is JSON but not an object (number)');
  });
});

describe('paths', () => {
  test('parsePath splits on dots', () => {
    expect(parsePath('a.b.c')).toEqual(['a', 'b', 'c']);
  });

  test.each([[''], ['.a'], ['a.'], ['a..b']])('fails on %j', (path) => {
    expect(() => parsePath(path)).toThrow(ProjectionError);
  });

  test('fails on a non-string path', () => {
    expect(() => parsePath(3)).toThrow('invalid field path 3: expected a non-empty string such as "total" or "customer.name"');
  });

  test('fails on an empty list and on too many paths', () => {
    expect(() => validatePaths([])).toThrow('fields must be a non-empty list of field paths');
    expect(() => validatePaths('a')).toThrow('fields must be a non-empty list of field paths');
    expect(() => validatePaths(Array.from({ length: 101 }, (_, i) => `f${i}`))).toThrow('at most 100 field paths per part, got 101');
  });
});
