import { checkJsonText, checkNesting, isExactNumberText, nestingDepth, significantDigits } from '../../src/runtime/json';
import { ValidationError } from '../../src/runtime/types';

describe('isExactNumberText', () => {
  test.each(['0', '-0', '1', '-7', '1e3', '1E3', '1.50', '0.1', '-0.5', '.5', '5.', '1e21', '1e+21', '0.30000000000000004', '9007199254740991', '1e-7', '0e999'])(
    '%s is exactly the number it parses to', (text) => {
      expect(isExactNumberText(text)).toBe(true);
    });

  test.each(['9007199254740993', '9007199254740993.0', '9.007199254740993e15', '0.30000000000000004441', '1e400', '1e-400',
    '12345678901234567890', '0.1000000000000000000001', '', '-', '1e', '0x10', ' 1', 'Infinity', 'NaN'])(
    '%s is not', (text) => {
      expect(isExactNumberText(text)).toBe(false);
    });
});

test('significantDigits ignores leading and trailing zeros and the exponent', () => {
  expect([significantDigits('0.0120'), significantDigits('1200e5'), significantDigits('0'), significantDigits('x')]).toEqual([2, 2, 0, undefined]);
});

describe('nestingDepth', () => {
  test('counts arrays and objects, not scalars, without recursion', () => {
    expect(nestingDepth(1, 64)).toBe(0);
    expect(nestingDepth({ a: [1, { b: 2 }] }, 64)).toBe(3);
    expect(nestingDepth(JSON.parse('['.repeat(200_000) + ']'.repeat(200_000)), 64)).toBe(65);
  });

  test('stops at a cycle', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(nestingDepth(cyclic, 10)).toBe(11);
  });

  test('checkNesting refuses a value deeper than 64 levels, naming where', () => {
    const deep = JSON.parse('{"a":'.repeat(65) + '1' + '}'.repeat(65));
    expect(() => checkNesting(deep, 'event')).toThrow(new ValidationError('event nests arrays and objects more than 64 levels deep: flatten the document, or store it as body text'));
    expect(() => checkNesting(JSON.parse('{"a":'.repeat(64) + '1' + '}'.repeat(64)), 'event')).not.toThrow();
  });
});

describe('checkJsonText', () => {
  test('64 levels pass, 65 do not; brackets inside strings do not count', () => {
    expect(() => checkJsonText('['.repeat(64) + ']'.repeat(64), 'body')).not.toThrow();
    expect(() => checkJsonText('['.repeat(65) + ']'.repeat(65), 'body')).toThrow('body nests arrays and objects more than 64 levels deep');
    expect(() => checkJsonText(`["${'['.repeat(100)}", "\\"[[["]`, 'body')).not.toThrow();
  });

  test('a number that parsing would change is refused with its text; numbers inside strings are text', () => {
    expect(() => checkJsonText('{"a":[1, -2.5e3, 0.1]}', 'body')).not.toThrow();
    expect(() => checkJsonText('{"a":"9007199254740993"}', 'body')).not.toThrow();
    expect(() => checkJsonText('{"a":9007199254740993}', 'body')).toThrow(
      'body has the number 9007199254740993, which JSON parsing would turn into 9007199254740992: send it as a string (in a part, as body text)',
    );
    expect(() => checkJsonText('[1e400]', 'body')).toThrow('which JSON parsing would turn into Infinity');
  });
});
