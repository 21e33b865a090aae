import * as fs from 'fs';
import * as path from 'path';
import { renderGrantsTable, renderPermissionsTable } from '../src/perms';

// The docs show the permission table of src/perms.ts, not a copy that can drift: each marked
// block of README.md and docs/PROTOCOL.md must be exactly what the code renders. On a failure,
// paste the "Expected" block between the markers.

const ROOT = path.join(__dirname, '..');

/** The text between `<!-- <name>:start ... -->` and `<!-- <name>:end -->`, each occurrence. */
function blocks(file: string, name: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const pattern = new RegExp(`<!-- ${name}:start[^>]*-->\\n([\\s\\S]*?)\\n<!-- ${name}:end -->`, 'g');
  return [...text.matchAll(pattern)].map((match) => match[1]);
}

test.each([
  ['README.md', 'permissions-table', renderPermissionsTable],
  ['README.md', 'grants-table', renderGrantsTable],
  ['docs/PROTOCOL.md', 'permissions-table', renderPermissionsTable],
])('%s: the %s block is the one src/perms.ts renders', (file, name, render) => {
  const found = blocks(file, name);
  expect(found).toHaveLength(1);
  expect(found[0]).toEqual(render());
});

test('the check can fail: a changed action is seen', () => {
  expect(renderPermissionsTable().replace('`PutObject`', '`PutObjectAcl`')).not.toEqual(renderPermissionsTable());
  expect(blocks('README.md', 'no-such-table')).toEqual([]);
});
