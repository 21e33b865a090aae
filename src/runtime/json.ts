/**
 * JSON input safety: how deep a document nests, and whether a number is exactly what its
 * text says.
 *
 * - Depth: `JSON.parse` is iterative, but `JSON.stringify`, the DynamoDB marshaller and field
 *   projection recurse, so a document nested 200,000 deep would end in a RangeError (a 500).
 *   Request bodies and events are refused past {@link MAX_JSON_DEPTH} before anything else.
 * - Numbers: a JSON parser reads `9007199254740993` and `9007199254740993.0` as
 *   9007199254740992. A number is accepted only when its text and the shortest rendering of
 *   the number it parses to (ECMAScript `Number.prototype.toString`, the key rendering of
 *   docs/PROTOCOL.md section 2.2) denote the same decimal value.
 *
 * No CDK import here: this module is bundled into the Lambda assets.
 */
import { MAX_JSON_DEPTH } from './limits';
import { ValidationError } from './types';

/**
 * The nesting depth of arrays and objects in a parsed value (a scalar is 0, `{}` and `[]`
 * are 1), counted without recursion, or `limit + 1` as soon as it is known to be deeper than
 * `limit` (so a cyclic value ends too).
 */
export function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null || ArrayBuffer.isView(current)) continue;
    const level = depth + 1;
    if (level > limit) return limit + 1;
    if (level > deepest) deepest = level;
    const children = current instanceof Map || current instanceof Set ? [...current.values()] : Object.values(current);
    for (const child of children) stack.push([child, level]);
  }
  return deepest;
}

/** Refuses a parsed request (an invocation event) that nests deeper than {@link MAX_JSON_DEPTH}. */
export function checkNesting(value: unknown, where: string): void {
  if (nestingDepth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) throw tooDeep(where);
}

/**
 * Checks the text of a JSON document that `JSON.parse` has accepted: it nests at most
 * {@link MAX_JSON_DEPTH} levels, and every number in it is exactly the number a parser reads.
 * One pass over the text, no recursion.
 */
export function checkJsonText(text: string, where: string): void {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) {
        if (text[i] === '\\') i++;
      }
    } else if (c === '{' || c === '[') {
      if (++depth > MAX_JSON_DEPTH) throw tooDeep(where);
    } else if (c === '}' || c === ']') {
      depth--;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      let end = i + 1;
      while (end < text.length && NUMBER_CHARACTERS.includes(text[end])) end++;
      const literal = text.slice(i, end);
      if (!isExactNumberText(literal)) {
        throw new ValidationError(`${where} has the number ${literal}, which JSON parsing would turn into `
          + `${String(Number(literal))}: send it as a string (in a part, as body text)`);
      }
      i = end - 1;
    }
  }
}

/** The characters a JSON number is written with. */
const NUMBER_CHARACTERS = '0123456789.-+eE';

/**
 * True when `text` (a decimal number: sign, digits, fraction, exponent) parses to a finite
 * number whose shortest rendering denotes the same decimal value: `1e3`, `1.50` and `0.1`
 * are exact; `9007199254740993.0`, `9.007199254740993e15` and `1e400` are not.
 */
export function isExactNumberText(text: string): boolean {
  const value = Number(text);
  if (!Number.isFinite(value)) return false;
  const written = decimal(text);
  const rendered = decimal(String(value));
  return written !== undefined && rendered !== undefined
    && written.digits === rendered.digits && written.exponent === rendered.exponent
    && (written.digits === '' || written.negative === rendered.negative);
}

/** The number of significant digits of a decimal number's text (`0.0120` has 2), or undefined if it is not one. */
export function significantDigits(text: string): number | undefined {
  return decimal(text)?.digits.length;
}

/** A decimal number as sign, significant digits (no leading or trailing zeros) and exponent. */
interface Decimal {
  readonly negative: boolean;
  /** Significant digits; '' for zero. */
  readonly digits: string;
  /** The value is 0.digits × 10^exponent. */
  readonly exponent: number;
}

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

function decimal(text: string): Decimal | undefined {
  const match = DECIMAL.exec(text);
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) return undefined;
  const whole = match[2];
  const fraction = match[3] ?? '';
  const all = whole + fraction;
  const leading = all.length - all.replace(/^0+/, '').length;
  const digits = all.slice(leading).replace(/0+$/, '');
  if (digits === '') return { negative: false, digits: '', exponent: 0 };
  const exponent = Number(match[4] ?? '0') + whole.length - leading;
  if (!Number.isSafeInteger(exponent)) return undefined;
  return { negative: match[1] === '-', digits, exponent };
}

function tooDeep(where: string): ValidationError {
  return new ValidationError(`${where} nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep: `
    + 'flatten the document, or store it as body text');
}
