/**
 * The docs give the same limits as src/runtime/limits.ts: the README's "Limits" table and
 * docs/PROTOCOL.md section 14 name every limit, with the module's numbers.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as limits from '../../src/runtime/limits';

/** Table label → the numbers its Value cell must give, in order (a code span is compared as text). */
const EXPECTED: Record<string, Array<number | string>> = {
  'Parts per write (written plus removed)': [limits.MAX_PARTS_PER_WRITE],
  'Part names per read': [limits.MAX_PARTS_PER_READ],
  'Part name': [limits.PART_NAME_PATTERN.source],
  'Part content type': [1, limits.MAX_CONTENT_TYPE_LENGTH],
  'Attributes set by one update': [limits.MAX_ATTRIBUTES_PER_UPDATE],
  'Index row (attributes and pins)': [limits.MAX_ITEM_BYTES],
  'Nesting of an attribute value': [limits.MAX_ATTRIBUTE_DEPTH],
  'Attribute name': [limits.MAX_ATTRIBUTE_NAME_BYTES],
  'Number (key or attribute)': [0, limits.MIN_DYNAMODB_NUMBER, limits.DYNAMODB_NUMBER_OVERFLOW, limits.MAX_DYNAMODB_NUMBER_DIGITS],
  'Part key (`<prefix><key>/<part>`)': [limits.MAX_S3_KEY_BYTES],
  'Index partition value (`pk=`)': [limits.MAX_PARTITION_KEY_BYTES],
  'Request body': [limits.MAX_BODY_BYTES],
  'Nesting of a request body or event': [limits.MAX_JSON_DEPTH],
  'Per-part timeout (`partTimeoutMs`)': [limits.DEFAULT_PART_TIMEOUT_MS, limits.MAX_PART_TIMEOUT_MS],
  'Field paths per part': [limits.MAX_PROJECTION_PATHS],
  'Field path': [limits.MAX_PROJECTION_PATH_LENGTH, limits.MAX_PROJECTION_PATH_SEGMENTS],
  'List page (`limit`)': [limits.DEFAULT_LIST_LIMIT, limits.MAX_LIST_LIMIT],
  'List cursor': [limits.MAX_CURSOR_LENGTH],
  'Presigned URL lifetime (`expiresIn`)': [limits.DEFAULT_PRESIGN_EXPIRES_SECONDS, limits.MAX_PRESIGN_EXPIRES_SECONDS],
};

/** The rows of the first Markdown table whose header starts with `| Limit | Value |`, after `heading`. */
function limitsTable(file: string, heading: string): Map<string, string> {
  const text = fs.readFileSync(path.join(__dirname, '..', '..', file), 'utf8');
  const from = text.indexOf(heading);
  expect(from).toBeGreaterThanOrEqual(0);
  const lines = text.slice(from).split('\n');
  const start = lines.findIndex((l) => l.startsWith('| Limit | Value |'));
  expect(start).toBeGreaterThan(0);
  const rows = new Map<string, string>();
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
    rows.set(cells[0], cells[1]);
  }
  return rows;
}

/** The numbers of a Value cell (`6,291,456 bytes` → 6291456; `1e-130` → 1e-130), or its code span. */
function valuesOf(cell: string): Array<number | string> {
  const code = /^`(.*)`$/.exec(cell);
  if (code) return [code[1]];
  return (cell.match(/\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?/gi) ?? []).map((n) => Number(n.replace(/,/g, '')));
}

describe.each([
  ['README.md', '#### Limits'],
  ['docs/PROTOCOL.md', '## 14. Defaults of the reference implementation'],
])('%s', (file, heading) => {
  const table = limitsTable(file, heading);

  test('lists every limit of src/runtime/limits.ts, and no other', () => {
    expect([...table.keys()].sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  test.each(Object.entries(EXPECTED))('%s', (label, expected) => {
    expect(valuesOf(table.get(label) ?? '')).toEqual(expected);
  });
});

test('the part name pattern admits exactly the documented length', () => {
  expect(limits.PART_NAME_PATTERN.test('a'.repeat(limits.MAX_PART_NAME_LENGTH))).toBe(true);
  expect(limits.PART_NAME_PATTERN.test('a'.repeat(limits.MAX_PART_NAME_LENGTH + 1))).toBe(false);
  expect(limits.CONTENT_TYPE_PATTERN.test('x'.repeat(limits.MAX_CONTENT_TYPE_LENGTH))).toBe(true);
  expect(limits.CONTENT_TYPE_PATTERN.test('x'.repeat(limits.MAX_CONTENT_TYPE_LENGTH + 1))).toBe(false);
});
