/**
 * The consistency checker (test/support/consistency/checker.ts) on synthetic histories: a
 * consistent one passes, and each kind of violation is reported with its invariant, item and
 * operations. This is what proves the randomized test can fail.
 */
import { checkConsistency, CheckInput, countByInvariant, Violation } from '../support/consistency/checker';
import { FinalState, ObjectVersion, OpRecord, RowChange, RowImage } from '../support/consistency/history';

const objectKey = (item: string, part: string) => `items/${item}/${part}`;

/** A live row: parts as `{ part: [write id of the content, versionId] }`. */
function row(item: string, rev: number, wid: string, parts: Record<string, [string, string]> = {}): RowImage {
  const w: Record<string, string> = {};
  const pins: Record<string, string> = {};
  for (const [name, [partWid, versionId]] of Object.entries(parts)) {
    w[name] = partWid;
    pins[name] = versionId;
  }
  return { item, rev, tombstone: false, wid, w, pins };
}

function op(fields: Partial<OpRecord> & Pick<OpRecord, 'id' | 'kind'>): OpRecord {
  return { client: 0, seq: 0, via: 'client', startMs: 0, endMs: 1, status: 200, mutations: [], item: 'k0', ...fields };
}

const change = (item: string, seq: number, old: RowImage | undefined, next: RowImage | undefined): RowChange =>
  ({ item, seq: String(seq), old, new: next });

const version = (key: string, versionId: string, isLatest = false, isDeleteMarker = false): ObjectVersion =>
  ({ key, versionId, isLatest, isDeleteMarker });

const body = (wid: string, item: string, part: string) => JSON.stringify({ wid, item, part, pad: '' });

/**
 * A consistent history of item k0: W1 creates it (part a = v1), W2 puts over it with
 * expectedRevision 1 (part a = v2), a read serves W2's row and part, the final row is W2's
 * and v2 is current, v1 noncurrent.
 */
function consistent(): CheckInput {
  const r1 = row('k0', 1, 'W1', { a: ['W1', 'v1'] });
  const r2 = row('k0', 2, 'W2', { a: ['W2', 'v2'] });
  const final: FinalState = {
    rows: [r2],
    versions: [version('items/k0/a', 'v1'), version('items/k0/a', 'v2', true)],
  };
  return {
    ops: [
      op({ id: 'W1', kind: 'create', written: ['a'], row: r1 }),
      op({ id: 'W2', kind: 'putIf', expectedRevision: 1, basis: { rev: 1, wid: 'W1' }, written: ['a'], row: r2 }),
      op({ id: 'R1', kind: 'get', requested: ['a'], row: r2, served: [{ name: 'a', versionId: 'v2', body: body('W2', 'k0', 'a') }] }),
      op({ id: 'R2', kind: 'get', requested: ['a'], status: 404, code: 'NotFound' }),
      op({ id: 'W3', kind: 'putIf', expectedRevision: 1, basis: { rev: 1, wid: 'W1' }, written: ['a'], status: 409, code: 'Conflict' }),
      op({ id: 'W4', kind: 'put', written: ['a'], status: 503, code: 'Unavailable' }),
    ],
    changes: [change('k0', 1, undefined, r1), change('k0', 2, r1, r2)],
    final,
    objectKey,
    items: ['k0'],
    parts: ['a', 'b'],
  };
}

function check(input: CheckInput): Violation[] {
  return checkConsistency(input);
}

function only(violations: Violation[], invariant: string): Violation {
  expect(violations.map((v) => v.invariant)).toEqual([invariant]);
  return violations[0];
}

describe('consistency checker', () => {
  test('a consistent history has no violation', () => {
    expect(check(consistent())).toEqual([]);
  });

  test('I1: a torn read, a part of another write than the row served with it', () => {
    const input = consistent();
    const r2 = row('k0', 2, 'W2', { a: ['W2', 'v2'] });
    const torn = op({ id: 'R9', kind: 'get', row: r2, served: [{ name: 'a', versionId: 'v2', body: body('W1', 'k0', 'a') }] });
    const v = only(check({ ...input, ops: [...input.ops, torn] }), 'I1');
    expect(v.item).toBe('k0');
    expect(v.ops).toEqual(['R9', 'W1', 'W2']);
    expect(v.message).toContain('torn read: R9 served part "a" written by W1 with the row of W2 (rev 2)');
  });

  test('I1: a part served at another version than the row pins, or of another item', () => {
    const input = consistent();
    const r2 = row('k0', 2, 'W2', { a: ['W2', 'v2'] });
    const wrongVersion = op({ id: 'R8', kind: 'get', row: r2, served: [{ name: 'a', versionId: 'v1', body: body('W2', 'k0', 'a') }] });
    const wrongItem = op({ id: 'R7', kind: 'get', row: r2, served: [{ name: 'a', versionId: 'v2', body: body('W2', 'k1', 'a') }] });
    const violations = check({ ...input, ops: [...input.ops, wrongVersion, wrongItem] });
    expect(violations.map((v) => [v.invariant, v.ops[0]])).toEqual([['I1', 'R8'], ['I1', 'R7']]);
    expect(violations[0].message).toContain('served version v1 of part "a" with the row of W2 (rev 2), which pins v2');
  });

  test('I2: a version a committed row pinned was destroyed', () => {
    const input = consistent();
    const final = { ...input.final, versions: input.final.versions.filter((v) => v.versionId !== 'v1') };
    const v = only(check({ ...input, final }), 'I2');
    expect(v.item).toBe('k0');
    expect(v.ops).toEqual(['W1']);
    expect(v.message).toBe('version v1 of items/k0/a (part "a" of the row of W1 (rev 1)) is gone, although a committed row pinned it');
  });

  test('I2: a read met a dangling pointer', () => {
    const input = consistent();
    const r2 = row('k0', 2, 'W2', { a: ['W2', 'v2'] });
    const dangling = op({ id: 'R6', kind: 'get', row: r2, served: [], partErrors: [{ name: 'a', code: 'DanglingPointer' }] });
    const v = only(check({ ...input, ops: [...input.ops, dangling] }), 'I2');
    expect(v.message).toContain('read R6 met a dangling pointer: part "a" of the row of W2 (rev 2) pins version v2');
  });

  test('I3: a write answered 409 that became visible', () => {
    const input = consistent();
    const r3 = row('k0', 3, 'W3', { a: ['W3', 'v3'] });
    const changes = [...input.changes, change('k0', 3, row('k0', 2, 'W2', { a: ['W2', 'v2'] }), r3)];
    const final: FinalState = { rows: [r3], versions: [...input.final.versions.map((x) => ({ ...x, isLatest: false })), version('items/k0/a', 'v3', true)] };
    const violations = check({ ...input, changes, final });
    const v = violations.find((x) => x.invariant === 'I3')!;
    expect(v.ops).toEqual(['W3']);
    expect(v.message).toBe('W3 (putIf) was answered 409 Conflict, but it committed (revision 3)');
  });

  test('I3: a write answered 2xx that never committed', () => {
    const input = consistent();
    const phantom = op({ id: 'W5', kind: 'put', written: ['a'], row: row('k0', 3, 'W5', { a: ['W5', 'v2'] }) });
    const v = only(check({ ...input, ops: [...input.ops, phantom] }), 'I3');
    expect(v.message).toBe('W5 (put) was answered 200 with revision 3, but no committed row carries it');
  });

  test('I3: a delete answered 404 whose DeleteItem DynamoDB applied', () => {
    const input = consistent();
    const lost = op({ id: 'D1', kind: 'delete', status: 404, code: 'NotFound', mutations: [{ operation: 'DeleteItem', upstreamStatus: 200, fault: 'applyThen500', status: 500 }, { operation: 'DeleteItem', upstreamStatus: 400, status: 400 }] });
    const v = only(check({ ...input, ops: [...input.ops, lost] }), 'I3');
    expect(v.message).toBe('D1 (delete) was answered 404 NotFound, but DynamoDB applied its DeleteItem');
  });

  test('I3: an answer the protocol does not define (500)', () => {
    const input = consistent();
    const crash = op({ id: 'W6', kind: 'update', written: ['a'], status: 500, code: 'InternalError', message: 'boom' });
    const v = only(check({ ...input, ops: [...input.ops, crash] }), 'I3');
    expect(v.message).toBe('W6 (update) was answered 500 InternalError: not an answer the protocol defines (2xx, 404, 409, 503): boom');
  });

  test('I4: a lost update across delete and re-create (ABA)', () => {
    // W1 creates k0 (rev 1); D deletes it; W7 creates it again (rev 1); W8, holding
    // expectedRevision 1 from W1's row, commits over W7's row.
    const r1 = row('k0', 1, 'W1', { a: ['W1', 'v1'] });
    const r7 = row('k0', 1, 'W7', { a: ['W7', 'v7'] });
    const r8 = row('k0', 2, 'W8', { a: ['W8', 'v8'] });
    const input: CheckInput = {
      ops: [
        op({ id: 'W1', kind: 'create', written: ['a'], row: r1 }),
        op({ id: 'D', kind: 'delete', row: r1 }),
        op({ id: 'W7', kind: 'create', written: ['a'], row: r7 }),
        op({ id: 'W8', kind: 'putIf', expectedRevision: 1, basis: { rev: 1, wid: 'W1' }, stale: true, written: ['a'], row: r8 }),
      ],
      changes: [change('k0', 1, undefined, r1), change('k0', 2, r1, undefined), change('k0', 3, undefined, r7), change('k0', 4, r7, r8)],
      final: {
        rows: [r8],
        versions: [version('items/k0/a', 'v1'), version('items/k0/a', 'm1', false, true), version('items/k0/a', 'v7'), version('items/k0/a', 'v8', true)],
      },
      objectKey,
      items: ['k0'],
      parts: ['a'],
    };
    const v = only(check(input), 'I4');
    expect(v.ops).toEqual(['W8', 'W1', 'W7']);
    expect(v.message).toBe('putIf W8 with expectedRevision 1 (read from the row of W1) committed over the row of W7 (rev 1), which it never saw '
      + '(the item was deleted and created again since: ABA)');
  });

  test('I4: two writes acknowledged at the same revision of one generation', () => {
    const r1 = row('k0', 1, 'W1', { a: ['W1', 'v1'] });
    const r2 = row('k0', 2, 'W2', { a: ['W2', 'v2'] });
    const r2b = row('k0', 2, 'W9', { a: ['W9', 'v9'] });
    const input: CheckInput = {
      ops: [
        op({ id: 'W1', kind: 'create', written: ['a'], row: r1 }),
        op({ id: 'W2', kind: 'put', written: ['a'], row: r2 }),
        op({ id: 'W9', kind: 'put', written: ['a'], row: r2b }),
      ],
      // The second commit at revision 2 overwrote the first without advancing the revision.
      changes: [change('k0', 1, undefined, r1), change('k0', 2, r1, r2), change('k0', 3, r2, r2b)],
      final: { rows: [r2b], versions: [version('items/k0/a', 'v1'), version('items/k0/a', 'v2'), version('items/k0/a', 'v9', true)] },
      objectKey,
      items: ['k0'],
      parts: ['a'],
    };
    const violations = check(input);
    expect(countByInvariant(violations)).toEqual({ I4: 2 });
    expect(violations.map((v) => v.message)).toEqual([
      'W2 and W9 were both acknowledged at revision 2 of the same generation of k0: one overwrote the other unseen',
      'a commit took k0 from the row of W2 (rev 2) to the row of W9 (rev 2): the revision did not advance by one',
    ]);
  });

  test('I4: an update that changed a part it did not name', () => {
    const r1 = row('k0', 1, 'W1', { a: ['W1', 'v1'], b: ['W1', 'vb1'] });
    const r2 = row('k0', 2, 'U1', { a: ['U1', 'v2'] }); // b vanished
    const input: CheckInput = {
      ops: [op({ id: 'W1', kind: 'create', written: ['a', 'b'], row: r1 }), op({ id: 'U1', kind: 'update', written: ['a'], removed: [], row: r2 })],
      changes: [change('k0', 1, undefined, r1), change('k0', 2, r1, r2)],
      final: { rows: [r2], versions: [version('items/k0/a', 'v1'), version('items/k0/a', 'v2', true), version('items/k0/b', 'vb1'), version('items/k0/b', 'm', true, true)] },
      objectKey,
      items: ['k0'],
      parts: ['a', 'b'],
    };
    const v = only(check(input), 'I4');
    expect(v.message).toBe('update U1 changed part "b", which it did not name: the row of W1 (rev 1) had W1 content (vb1), it committed no content (unpinned)');
  });

  test('I5: an unpinned current version at rest', () => {
    const input = consistent();
    const final = { ...input.final, versions: [...input.final.versions, version('items/k0/b', 'vx', true)] };
    const v = only(check({ ...input, final }), 'I5');
    expect(v.item).toBe('k0');
    expect(v.message).toBe('at rest, version vx of items/k0/b is current but the row of W2 (rev 2) pins no version of it');
  });

  test('I5: a pinned version that is not current at rest', () => {
    const input = consistent();
    const final = { ...input.final, versions: [...input.final.versions.map((x) => ({ ...x, isLatest: false })), version('items/k0/a', 'dm', true, true)] };
    const v = only(check({ ...input, final }), 'I5');
    expect(v.message).toBe('at rest, the row of W2 (rev 2) pins version v2 of items/k0/a, but the current one is delete marker dm');
  });

  test('a tombstone at rest pins nothing and its parts may stay deleted', () => {
    const input = consistent();
    const tomb: RowImage = { item: 'k0', rev: 3, tombstone: true, w: {}, pins: {} };
    const changes = [...input.changes, change('k0', 3, row('k0', 2, 'W2', { a: ['W2', 'v2'] }), tomb)];
    const del = op({ id: 'D2', kind: 'delete', row: row('k0', 2, 'W2', { a: ['W2', 'v2'] }) });
    const final: FinalState = { rows: [tomb], versions: [version('items/k0/a', 'v1'), version('items/k0/a', 'v2'), version('items/k0/a', 'dm', true, true)] };
    expect(check({ ...input, ops: [...input.ops, del], changes, final })).toEqual([]);
  });
});
