/**
 * Checks the protocol's invariants I1 to I5 (docs/PROTOCOL.md) against the history of a
 * consistency run: the operations and their answers, the committed row changes (the
 * table's stream, in commit order) and the store at rest after the reconciler.
 *
 * - I1 no torn read: every part served belongs to the revision of the row served with it.
 * - I2 nothing committed is destroyed: every version a committed row pinned still exists.
 * - I3 answers are true: a 2xx write committed; a 409 (or 404) never did; every answer is
 *   one the protocol defines (2xx, 404, 409, 503).
 * - I4 no lost update: a conditional write committed over exactly the row it was conditioned
 *   on, never over another generation of the item; an update kept the parts it did not name;
 *   every commit advanced the revision by one.
 * - I5 at rest: every pinned version is current, and no unpinned current version remains.
 *
 * Pure: no I/O, so it can be fed synthetic histories.
 */
import {
  CONDITIONAL,
  FinalState,
  ObjectVersion,
  OpRecord,
  PartBody,
  ROW_WRITES,
  RowChange,
  RowImage,
} from './history';

/** The invariants. */
export type Invariant = 'I1' | 'I2' | 'I3' | 'I4' | 'I5';

/** One violation: which invariant, which item, which operations, and what happened. */
export interface Violation {
  readonly invariant: Invariant;
  readonly item?: string;
  /** Operation ids involved (write ids for writes). */
  readonly ops: readonly string[];
  readonly message: string;
}

/** What the checker reads. */
export interface CheckInput {
  readonly ops: readonly OpRecord[];
  /** Committed row changes, in commit order per item. */
  readonly changes: readonly RowChange[];
  readonly final: FinalState;
  /** The S3 key of a part of an item. */
  readonly objectKey: (item: string, part: string) => string;
  /** Every item and part name the workload may write (to name the owner of an object key). */
  readonly items: readonly string[];
  readonly parts: readonly string[];
}

const isLive = (image: RowImage | undefined): image is RowImage => image !== undefined && !image.tombstone;
const isSuccess = (status: number | undefined) => status !== undefined && status >= 200 && status < 300;
/** Answers that say "nothing happened". */
const isDefiniteFailure = (status: number | undefined) => status === 404 || status === 409;
const describe = (image: RowImage | undefined) =>
  image === undefined ? 'no row' : image.tombstone ? `a tombstone (rev ${image.rev})` : `the row of ${image.wid ?? '?'} (rev ${image.rev})`;

/** Checks a history; returns every violation found (empty when the history is consistent). */
export function checkConsistency(input: CheckInput): Violation[] {
  const violations: Violation[] = [];
  const report = (invariant: Invariant, item: string | undefined, ops: readonly string[], message: string) =>
    violations.push({ invariant, item, ops, message });
  const model = indexChanges(input.changes);

  checkReads(input.ops, report);
  checkPinnedVersionsExist(input, model, report);
  checkAnswers(input.ops, model, report);
  checkConditions(input.ops, model, report);
  checkAtRest(input, report);
  return violations;
}

type Report = (invariant: Invariant, item: string | undefined, ops: readonly string[], message: string) => void;

interface Commit {
  readonly change: RowChange;
  /** Generation of the item the commit belongs to: how many times it was created up to it. */
  readonly generation: number;
}

interface ChangeModel {
  readonly byItem: Map<string, RowChange[]>;
  /** Commits whose new row carries the write id. */
  readonly byWid: Map<string, Commit[]>;
}

function indexChanges(changes: readonly RowChange[]): ChangeModel {
  const byItem = new Map<string, RowChange[]>();
  const byWid = new Map<string, Commit[]>();
  for (const change of changes) {
    const list = byItem.get(change.item) ?? [];
    list.push(change);
    byItem.set(change.item, list);
  }
  for (const list of byItem.values()) {
    let generation = 0;
    for (const change of list) {
      if (isLive(change.new) && !isLive(change.old)) generation += 1;
      const wid = isLive(change.new) ? change.new.wid : undefined;
      if (wid === undefined) continue;
      const commits = byWid.get(wid) ?? [];
      commits.push({ change, generation });
      byWid.set(wid, commits);
    }
  }
  return { byItem, byWid };
}

/** I1 on every read; a dangling pointer a read met is an I2 violation. */
function checkReads(ops: readonly OpRecord[], report: Report): void {
  for (const op of ops) {
    if (op.kind !== 'get' || !isSuccess(op.status) || !op.row) continue;
    const row = op.row;
    for (const part of op.served ?? []) {
      let body: Partial<PartBody> | undefined;
      try {
        body = JSON.parse(part.body) as Partial<PartBody>;
      } catch {
        body = undefined;
      }
      if (typeof body !== 'object' || body === null || typeof body.wid !== 'string') {
        report('I1', op.item, [op.id], `read ${op.id} served part "${part.name}" with a body no write of the run produced: ${part.body.slice(0, 80)}`);
      } else if (body.item !== op.item || body.part !== part.name) {
        report('I1', op.item, [op.id, body.wid], `read ${op.id} of ${op.item} served part "${part.name}" with the content of part "${body.part}" of ${body.item}`);
      } else if (body.wid !== row.w[part.name]) {
        report('I1', op.item, [op.id, body.wid, row.wid ?? '?'],
          `torn read: ${op.id} served part "${part.name}" written by ${body.wid} with ${describe(row)}, whose "${part.name}" was written by ${row.w[part.name] ?? 'nobody'}`);
      }
      if (part.versionId !== row.pins[part.name]) {
        report('I1', op.item, [op.id], `read ${op.id} served version ${part.versionId} of part "${part.name}" with ${describe(row)}, which pins ${row.pins[part.name] ?? 'no version'}`);
      }
    }
    for (const failure of op.partErrors ?? []) {
      if (failure.code === 'DanglingPointer') {
        const writer = row.w[failure.name];
        report('I2', op.item, [...new Set([op.id, ...(writer ? [writer] : []), row.wid ?? '?'])],
          `read ${op.id} met a dangling pointer: part "${failure.name}" of ${describe(row)} pins version ${row.pins[failure.name] ?? '?'}`
          + `${writer !== undefined && writer !== row.wid ? ` (content of ${writer})` : ''}, which no longer exists`);
      }
    }
  }
}

/** I2: every version pinned by a committed row (in the stream, an answer, a read, or at rest) still exists. */
function checkPinnedVersionsExist(input: CheckInput, model: ChangeModel, report: Report): void {
  const existing = new Set(input.final.versions.filter((v) => !v.isDeleteMarker).map((v) => `${v.key}\n${v.versionId}`));
  const reported = new Set<string>();
  const check = (image: RowImage | undefined, source: string, ops: readonly string[]) => {
    if (!isLive(image)) return;
    for (const [part, versionId] of Object.entries(image.pins)) {
      const key = input.objectKey(image.item, part);
      const id = `${key}\n${versionId}`;
      if (existing.has(id) || reported.has(id)) continue;
      reported.add(id);
      const writer = image.w[part];
      const content = writer !== undefined && writer !== image.wid ? `, content of ${writer}` : '';
      report('I2', image.item, [...new Set([...ops, ...(writer ? [writer] : []), ...(image.wid ? [image.wid] : [])])],
        `version ${versionId} of ${key} (part "${part}" of ${describe(image)}${content}) is gone, although ${source} pinned it`);
    }
  };
  for (const changes of model.byItem.values()) {
    for (const change of changes) check(change.new, 'a committed row', []);
  }
  for (const op of input.ops) {
    if (isSuccess(op.status)) check(op.row, `${op.id} (${op.kind}) was answered with a row that`, [op.id]);
    for (const row of op.listed ?? []) check(row, `list ${op.id} was served a row that`, [op.id]);
  }
  for (const row of input.final.rows) check(row, 'the row at rest', []);
}

/** I3: the answers are true. */
function checkAnswers(ops: readonly OpRecord[], model: ChangeModel, report: Report): void {
  for (const op of ops) {
    const status = op.status;
    if (!isSuccess(status) && !isDefiniteFailure(status) && status !== 503) {
      report('I3', op.item, [op.id], `${op.id} (${op.kind}) was answered ${status} ${op.code ?? ''}: not an answer the protocol defines `
        + `(2xx, 404, 409, 503): ${op.message ?? ''}`.trim());
      continue;
    }
    if (ROW_WRITES.has(op.kind)) {
      const commits = model.byWid.get(op.id) ?? [];
      if (isSuccess(status) && commits.length === 0) {
        report('I3', op.item, [op.id], `${op.id} (${op.kind}) was answered ${status} with revision ${op.row?.rev}, but no committed row carries it`);
      } else if (isSuccess(status) && op.row?.wid === op.id && !commits.some((c) => c.change.new?.rev === op.row?.rev)) {
        report('I3', op.item, [op.id], `${op.id} (${op.kind}) was answered revision ${op.row.rev}, but committed as revision ${commits.map((c) => c.change.new?.rev).join(', ')}`);
      } else if (isDefiniteFailure(status) && commits.length > 0) {
        report('I3', op.item, [op.id], `${op.id} (${op.kind}) was answered ${status} ${op.code ?? ''}, but it committed `
          + `(revision ${commits.map((c) => c.change.new?.rev).join(', ')})`);
      }
    } else if (op.kind === 'delete' || op.kind === 'deleteIf') {
      if (isSuccess(status) && op.row) {
        const deleted = op.row;
        const removal = (model.byItem.get(op.item ?? '') ?? []).some((c) =>
          isLive(c.old) && c.old.wid === deleted.wid && c.old.rev === deleted.rev && !isLive(c.new));
        if (!removal) report('I3', op.item, [op.id, deleted.wid ?? '?'], `${op.id} (${op.kind}) answered that it deleted ${describe(deleted)}, but no committed change removed it`);
      } else if (isDefiniteFailure(status)) {
        const applied = op.mutations.filter((m) => m.upstreamStatus !== undefined && m.upstreamStatus >= 200 && m.upstreamStatus < 300);
        if (applied.length > 0) {
          report('I3', op.item, [op.id], `${op.id} (${op.kind}) was answered ${status} ${op.code ?? ''}, but DynamoDB applied its ${applied.map((m) => m.operation).join(', ')}`);
        }
      }
    }
  }
}

/** I4: no lost update. */
function checkConditions(ops: readonly OpRecord[], model: ChangeModel, report: Report): void {
  const acknowledged = new Map<string, string>(); // item, generation, revision → write id
  for (const op of ops) {
    if (!ROW_WRITES.has(op.kind) && op.kind !== 'deleteIf') continue;
    const commits = model.byWid.get(op.id) ?? [];
    if (op.kind === 'create') {
      for (const { change } of commits) {
        if (isLive(change.old)) report('I4', op.item, [op.id, change.old.wid ?? '?'], `create ${op.id} committed over ${describe(change.old)}`);
      }
    }
    if (CONDITIONAL.has(op.kind) && op.basis) {
      const basis = op.basis;
      const basisGeneration = basis.wid === undefined ? undefined
        : (model.byWid.get(basis.wid) ?? []).find((c) => c.change.new?.rev === basis.rev)?.generation;
      const check = (old: RowImage | undefined, generation: number | undefined) => {
        if (isLive(old) && old.wid === basis.wid && old.rev === basis.rev) return;
        const aba = basisGeneration !== undefined && generation !== undefined && generation !== basisGeneration
          ? ' (the item was deleted and created again since: ABA)' : '';
        report('I4', op.item, [op.id, ...(basis.wid ? [basis.wid] : []), ...(old?.wid ? [old.wid] : [])],
          `${op.kind} ${op.id} with expectedRevision ${op.expectedRevision} (read from the row of ${basis.wid ?? '?'}) committed over ${describe(old)}, which it never saw${aba}`);
      };
      if (op.kind === 'deleteIf') {
        if (isSuccess(op.status) && op.row) {
          const deleted = op.row;
          const change = (model.byItem.get(op.item ?? '') ?? []).find((c) => isLive(c.old) && c.old.wid === deleted.wid && c.old.rev === deleted.rev && !isLive(c.new));
          const generation = change ? generationOf(model, change) : undefined;
          check(deleted, generation);
        }
      } else {
        for (const { change, generation } of commits) check(change.old, generation - (isLive(change.old) ? 0 : 1));
      }
    }
    if (op.kind === 'update' || op.kind === 'updateIf') {
      const named = new Set([...(op.written ?? []), ...(op.removed ?? [])]);
      for (const { change } of commits) {
        if (!isLive(change.old) || !isLive(change.new)) continue;
        const old = change.old;
        const updated = change.new;
        for (const part of new Set([...Object.keys(old.pins), ...Object.keys(updated.pins)])) {
          if (named.has(part)) continue;
          if (old.pins[part] !== updated.pins[part] || old.w[part] !== updated.w[part]) {
            report('I4', op.item, [op.id, old.wid ?? '?'],
              `update ${op.id} changed part "${part}", which it did not name: ${describe(old)} had ${old.w[part] ?? 'no'} content (${old.pins[part] ?? 'unpinned'}), `
              + `it committed ${updated.w[part] ?? 'no'} content (${updated.pins[part] ?? 'unpinned'})`);
          }
        }
      }
    }
    if (isSuccess(op.status) && op.row && op.row.wid === op.id) {
      const commit = commits.find((c) => c.change.new?.rev === op.row?.rev);
      if (commit) {
        const slot = `${op.item}\n${commit.generation}\n${op.row.rev}`;
        const other = acknowledged.get(slot);
        if (other !== undefined && other !== op.id) {
          report('I4', op.item, [other, op.id], `${other} and ${op.id} were both acknowledged at revision ${op.row.rev} of the same generation of ${op.item}: one overwrote the other unseen`);
        }
        acknowledged.set(slot, op.id);
      }
    }
  }
  for (const [item, changes] of model.byItem) {
    for (const change of changes) {
      if (change.old === undefined || change.new === undefined) continue;
      if (change.new.rev !== change.old.rev + 1) {
        report('I4', item, [change.old.wid ?? '?', change.new.wid ?? '?'],
          `a commit took ${item} from ${describe(change.old)} to ${describe(change.new)}: the revision did not advance by one`);
      }
    }
  }
}

function generationOf(model: ChangeModel, target: RowChange): number {
  let generation = 0;
  for (const change of model.byItem.get(target.item) ?? []) {
    if (isLive(change.new) && !isLive(change.old)) generation += 1;
    if (change === target) return generation;
  }
  return generation;
}

/** I5: at rest, every pinned version is current and no unpinned current version remains. */
function checkAtRest(input: CheckInput, report: Report): void {
  const current = new Map<string, ObjectVersion>();
  for (const version of input.final.versions) if (version.isLatest) current.set(version.key, version);
  const owner = new Map<string, { item: string; part: string }>();
  for (const item of input.items) for (const part of input.parts) owner.set(input.objectKey(item, part), { item, part });
  const rows = new Map<string, RowImage>();
  for (const row of input.final.rows) if (isLive(row)) rows.set(row.item, row);

  for (const row of rows.values()) {
    for (const [part, versionId] of Object.entries(row.pins)) {
      const key = input.objectKey(row.item, part);
      const top = current.get(key);
      if (top?.versionId === versionId && !top.isDeleteMarker) continue;
      const what = top === undefined ? 'no version' : top.isDeleteMarker ? `delete marker ${top.versionId}` : `version ${top.versionId}`;
      report('I5', row.item, row.wid ? [row.wid] : [], `at rest, ${describe(row)} pins version ${versionId} of ${key}, but the current one is ${what}`);
    }
  }
  for (const version of current.values()) {
    if (version.isDeleteMarker) continue;
    const named = owner.get(version.key);
    if (!named) {
      report('I5', undefined, [], `at rest, ${version.key} (version ${version.versionId}) is no part of any item of the run`);
      continue;
    }
    const row = rows.get(named.item);
    if (row?.pins[named.part] !== version.versionId) {
      report('I5', named.item, row?.wid ? [row.wid] : [],
        `at rest, version ${version.versionId} of ${version.key} is current but ${row ? `${describe(row)} pins ${row.pins[named.part] ?? 'no version of it'}` : 'the item has no row'}`);
    }
  }
}

/** Violations per invariant, e.g. `{ I2: 3, I4: 1 }`. */
export function countByInvariant(violations: readonly Violation[]): Partial<Record<Invariant, number>> {
  const counts: Partial<Record<Invariant, number>> = {};
  for (const v of violations) counts[v.invariant] = (counts[v.invariant] ?? 0) + 1;
  return counts;
}
