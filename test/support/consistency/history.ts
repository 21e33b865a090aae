/**
 * The history of a consistency run, as the checker reads it: every operation a client ran
 * (what it asked, what it was answered, what it was served), every change DynamoDB committed
 * to a row (from the table's stream, in commit order), and the state at rest (the table and
 * every object version of the bucket).
 *
 * Writes are self-describing: each write has a unique id (`wid`), written into the row
 * (attribute `wid`, and `w_<part>` for each part it wrote) and into each part's body
 * (`{"wid","item","part"}`), so a reader can tell which write produced the row and each part
 * it was served with them.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** The operations of a schedule. */
export type OpKind =
  /** put with `create: true` */
  | 'create'
  /** unconditional put */
  | 'put'
  /** put with `expectedRevision` */
  | 'putIf'
  /** updateParts without `expectedRevision` */
  | 'update'
  /** updateParts with `expectedRevision` */
  | 'updateIf'
  | 'delete'
  /** delete with `expectedRevision` */
  | 'deleteIf'
  /** split read */
  | 'get'
  /** index-only list (a scan) */
  | 'list';

/** The write kinds that commit a row carrying their write id. */
export const ROW_WRITES: ReadonlySet<OpKind> = new Set<OpKind>(['create', 'put', 'putIf', 'update', 'updateIf']);
/** The kinds that carry an `expectedRevision`. */
export const CONDITIONAL: ReadonlySet<OpKind> = new Set<OpKind>(['putIf', 'updateIf', 'deleteIf']);

/** The row of one item in a given state, reduced to what the checker needs. */
export interface RowImage {
  readonly item: string;
  readonly rev: number;
  /** A protocol tombstone (the state a delete leaves, where the protocol keeps one). */
  readonly tombstone: boolean;
  /** The write that produced this state (attribute `wid`). */
  readonly wid?: string;
  /** Part name to the write id of its content (attributes `w_<part>`). */
  readonly w: Readonly<Record<string, string>>;
  /** Part name to the pinned S3 VersionId. */
  readonly pins: Readonly<Record<string, string>>;
}

/** One committed change of a row, from the table's stream. */
export interface RowChange {
  readonly item: string;
  /** The stream's sequence number (orders the changes of one item). */
  readonly seq: string;
  /** The row before (undefined: there was none). */
  readonly old?: RowImage;
  /** The row after (undefined: the item was removed). */
  readonly new?: RowImage;
}

/** The row a conditional operation's `expectedRevision` came from. */
export interface Basis {
  readonly rev: number;
  readonly wid?: string;
}

/** A part a read served. */
export interface ServedPart {
  readonly name: string;
  readonly versionId: string;
  /** The body as text (every part of the workload is JSON). */
  readonly body: string;
}

/** A part a read could not serve. */
export interface PartFailure {
  readonly name: string;
  readonly code: string;
  readonly message?: string;
}

/** A mutating DynamoDB request an operation sent, as its client's proxy saw it. */
export interface Mutation {
  readonly operation: string;
  /** DynamoDB's own status; undefined when the request never reached it. */
  readonly upstreamStatus?: number;
  /** The status the client got; undefined when it got none (reset, hang). */
  readonly status?: number;
  /** The fault injected, if any. */
  readonly fault?: string;
}

/** One operation of one client. */
export interface OpRecord {
  /** Unique in the run; a write's id is its `wid`. */
  readonly id: string;
  readonly client: number;
  readonly seq: number;
  /** How the client reached the store: the runtime in process, or the built reader in the Lambda emulation. */
  readonly via: 'client' | 'lambda';
  readonly kind: OpKind;
  readonly item?: string;
  /** Conditional kinds: the revision sent. */
  readonly expectedRevision?: number;
  /** Conditional kinds: the row the revision came from. */
  readonly basis?: Basis;
  /** True when the basis was deliberately not the client's latest observation. */
  readonly stale?: boolean;
  /** Writes: the parts written. */
  readonly written?: readonly string[];
  /** Updates: the parts removed. */
  readonly removed?: readonly string[];
  /** Reads: the parts asked for ('all': every pinned part). */
  readonly requested?: readonly string[] | 'all';
  /** `performance.now()` of the driver. */
  readonly startMs: number;
  endMs?: number;
  /** HTTP-like status: 200/201, or the error's status; 0 when the operation threw something without one. */
  status?: number;
  code?: string;
  message?: string;
  /** Writes: the row answered; deletes: the row deleted; reads: the row served. */
  row?: RowImage;
  served?: ServedPart[];
  partErrors?: PartFailure[];
  /** Lists: the rows listed. */
  listed?: RowImage[];
  /** Mutating DynamoDB requests sent while this operation ran. */
  readonly mutations: Mutation[];
}

/** One object version (or delete marker) of the bucket at rest. */
export interface ObjectVersion {
  readonly key: string;
  readonly versionId: string;
  readonly isLatest: boolean;
  readonly isDeleteMarker: boolean;
}

/** The store at rest, after the run and the reconciler. */
export interface FinalState {
  /** Every row of the table (tombstones included). */
  readonly rows: readonly RowImage[];
  readonly versions: readonly ObjectVersion[];
}

/** The body of every part the workload writes. */
export interface PartBody {
  readonly wid: string;
  readonly item: string;
  readonly part: string;
}

/** Attribute of the row that names the write that produced it. */
export const WID_ATTRIBUTE = 'wid';
/** Prefix of the attribute that names the write of one part's content. */
export const PART_WID_PREFIX = 'w_';

/** A row as the runtime answers it (IndexRow, or its JSON from the reader) as a {@link RowImage}. */
export function imageOfRow(item: string, row: {
  readonly revision: number;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly parts: Readonly<Record<string, { readonly versionId: string }>>;
}): RowImage {
  const w: Record<string, string> = {};
  for (const [name, value] of Object.entries(row.attributes)) {
    if (name.startsWith(PART_WID_PREFIX) && typeof value === 'string') w[name.slice(PART_WID_PREFIX.length)] = value;
  }
  const pins: Record<string, string> = {};
  for (const [name, pin] of Object.entries(row.parts)) pins[name] = pin.versionId;
  const wid = row.attributes[WID_ATTRIBUTE];
  return { item, rev: row.revision, tombstone: false, wid: typeof wid === 'string' ? wid : undefined, w, pins };
}

/**
 * A raw DynamoDB item (a stream image or a scanned row) as a {@link RowImage}. Reads the
 * protocol's reserved attributes directly (`_rev`, `_parts` with `v` per pin, `_del` on a
 * tombstone), so rows of any protocol version are read the same way.
 */
export function imageOfItem(partitionKey: string, item: Readonly<Record<string, AttributeValue>>): RowImage {
  const w: Record<string, string> = {};
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith(PART_WID_PREFIX) && value.S !== undefined) w[name.slice(PART_WID_PREFIX.length)] = value.S;
  }
  const pins: Record<string, string> = {};
  for (const [name, pin] of Object.entries(item._parts?.M ?? {})) {
    const versionId = pin.M?.v?.S;
    if (versionId !== undefined) pins[name] = versionId;
  }
  const key = item[partitionKey];
  return {
    item: key?.S ?? key?.N ?? '',
    rev: Number(item._rev?.N ?? NaN),
    tombstone: item._del?.BOOL === true,
    wid: item[WID_ATTRIBUTE]?.S,
    w,
    pins,
  };
}
