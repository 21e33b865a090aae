/**
 * The randomized consistency run, shared by the CI test (test/e2e/consistency.e2e.test.ts)
 * and the long run (bench/consistency.ts).
 *
 * One run: a fresh table and bucket from the SplitStore template, with the table's stream on;
 * N concurrent clients, each behind its own fault proxies (DynamoDB and S3), most of them the
 * protocol runtime in process and some the built reader bundle in the Lambda emulation; each
 * runs its seeded schedule (workload.ts) over a few items, so that writers contend, items are
 * deleted and created again, and stale revisions meet new generations. Then the faults stop,
 * the reconciler handles every S3 event of the run, and the checker (checker.ts) holds the
 * history, the table's stream and the store at rest to invariants I1 to I5.
 */
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { S3Client } from '@aws-sdk/client-s3';
import { configFromEnv } from '../../../src/runtime/config';
import { partKey } from '../../../src/runtime/keys';
import { SplitStoreClient } from '../../../src/runtime/store';
import type { PartInput } from '../../../src/runtime/types';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../dynamodb-local';
import { FAULT_KINDS, FaultKind, FaultProxy } from '../fault-proxy';
import { createStoreFromTemplate } from '../from-template';
import { LambdaRuntime } from '../lambda-runtime';
import { startLocalStore, VersionedLocalStore } from '../local-store';
import { ClientAccess, LambdaAccess, Outcome, StoreAccess } from './access';
import { checkConsistency, countByInvariant, Invariant, Violation } from './checker';
import { Basis, CONDITIONAL, OpKind, OpRecord, PART_WID_PREFIX, PartBody, WID_ATTRIBUTE } from './history';
import { dropStore, enableStream, listVersions, readStream, ReconcileReport, reconcileAll, scanTable } from './store-state';
import { faultRules, MUTATING_DYNAMODB_OPERATIONS, planOp, WorkloadShape } from './workload';

/** The reader bundle `npx projen bundle` builds. */
export const READER_BUNDLE = path.join(__dirname, '..', '..', '..', 'assets', 'reader.lambda', 'index.js');
/** The parts every item may have. */
export const PARTS = ['a', 'b', 'c'] as const;

/** The servers every run of a process shares. */
export interface ConsistencyRig {
  readonly local: VersionedLocalStore;
  readonly streams: DynamoDBStreamsClient;
  stop(): Promise<void>;
}

/** Starts DynamoDB Local and the versioned S3 server, and synthesizes the store's template. */
export async function startConsistencyRig(): Promise<ConsistencyRig> {
  const local = await startLocalStore({ namePrefix: 'consistency' });
  const streams = new DynamoDBStreamsClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: local.ddb.endpoint });
  return {
    local,
    streams,
    stop: async () => {
      streams.destroy();
      await local.stop();
    },
  };
}

/** Options of one run. */
export interface RunOptions {
  readonly seed: number;
  /** Operations in all, spread over the clients. */
  readonly ops: number;
  /** Concurrent clients. @default 6 */
  readonly clients?: number;
  /** How many of them use the built reader bundle in the Lambda emulation. @default 1 */
  readonly lambdaClients?: number;
  /** Items written (the key space). @default 4 */
  readonly items?: number;
  /** Relative weights of the operations. @default DEFAULT_WEIGHTS of workload.ts */
  readonly weights?: Readonly<Record<OpKind, number>>;
  /** Multiplies the fault probabilities of workload.ts (0: no faults). @default 1 */
  readonly faultRate?: number;
  /** The reader bundle. @default READER_BUNDLE */
  readonly bundle?: string;
  /** Socket timeout of the in-process clients' SDK (ends hung requests). @default 2000 */
  readonly socketTimeoutMs?: number;
  /** Called after every operation. */
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * Keep the table and bucket of a run that found violations, for inspection while the rig
   * runs (a run without violations always drops them). @default true
   */
  readonly keepFailedStore?: boolean;
}

/** What a run did and found. */
export interface RunResult {
  readonly seed: number;
  readonly ops: readonly OpRecord[];
  readonly violations: readonly Violation[];
  /** Operations per kind and answer, e.g. `{ putIf: { 200: 40, 409: 12 } }`. */
  readonly answers: Partial<Record<OpKind, Record<string, number>>>;
  readonly faults: Record<FaultKind, number>;
  readonly streamRecords: number;
  readonly reconcile: ReconcileReport;
  readonly durationMs: number;
  readonly tableName: string;
  readonly bucketName: string;
  /** The table and bucket are still on the servers (see `keepFailedStore`). */
  readonly kept: boolean;
}

interface Client {
  readonly index: number;
  readonly access: StoreAccess;
  readonly ddbProxy: FaultProxy;
  readonly s3Proxy: FaultProxy;
  /** The operation in progress: requests its proxy sees are attributed to it. */
  current?: OpRecord;
  /** Last observation per item: a row, or absent. */
  readonly latest: Map<string, Basis | 'absent'>;
  /** Every row observed per item. */
  readonly seen: Map<string, Basis[]>;
  close(): Promise<void>;
}

/** Runs one seeded consistency run on the rig's servers and checks it. */
export async function runConsistency(rig: ConsistencyRig, options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const { local } = rig;
  const seed = options.seed;
  const clientCount = options.clients ?? 6;
  const lambdaCount = Math.min(options.lambdaClients ?? 1, clientCount);
  const shape: WorkloadShape = { items: Array.from({ length: options.items ?? 4 }, (_, i) => `k${i}`), parts: PARTS, weights: options.weights };
  const plan = await createStoreFromTemplate(local.template, { dynamodb: local.dynamodb, s3: local.s3 }, { namePrefix: `consistency-${seed}` });
  const config = configFromEnv(plan.environment);
  const pk = config.partitionKey.name;
  const streamArn = await enableStream(local.dynamodb, config.tableName);

  let landed = 0;
  const clients: Client[] = [];
  const ops: OpRecord[] = [];
  const byId = new Map<string, OpRecord>();
  try {
    for (let c = 0; c < clientCount; c++) {
      clients.push(await startClient(c, c >= clientCount - lambdaCount));
    }
    let done = 0;
    const perClient = (c: number) => Math.floor(options.ops / clientCount) + (c < options.ops % clientCount ? 1 : 0);
    await Promise.all(clients.map(async (client) => {
      for (let step = 0; step < perClient(client.index); step++) {
        ops.push(await runStep(client, step));
        options.onProgress?.(++done, options.ops);
      }
    }));
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }

  // At rest: no faults from here on, the reconciler sees every event, then the state is read.
  const reconciler = new SplitStoreClient({
    config,
    dynamodb: local.dynamodb,
    s3: local.s3,
    // The reconciler runs once its queue delay has passed: every version is old enough.
    wallClock: () => Date.now() + 3_600_000,
    log: () => undefined,
  });
  const reconcile = await reconcileAll(reconciler, config.bucketName, await listVersions(local.s3, config.bucketName, config.keyPrefix));
  const [rows, versions, stream] = await Promise.all([
    scanTable(local.dynamodb, config.tableName, pk),
    listVersions(local.s3, config.bucketName, config.keyPrefix),
    readStream(rig.streams, streamArn, pk),
  ]);
  if (stream.records < landed) {
    throw new Error(`the table's stream has ${stream.records} changes, but DynamoDB applied ${landed} writes through the proxies: it is incomplete, the checker cannot judge`);
  }
  const violations = checkConsistency({
    ops,
    changes: stream.changes,
    final: { rows, versions },
    objectKey: (item, part) => partKey(config, { [pk]: item }, part),
    items: shape.items,
    parts: shape.parts,
  });
  for (const failure of reconcile.failed) {
    violations.push({ invariant: 'I5', ops: [], message: `the reconciler failed on ${failure.key} version ${failure.versionId} three times: ${failure.error}` });
  }
  const kept = violations.length > 0 && (options.keepFailedStore ?? true);
  if (!kept) await dropStore(local.dynamodb, local.s3, config.tableName, config.bucketName);

  const faults = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  for (const client of clients) {
    for (const kind of FAULT_KINDS) faults[kind] += client.ddbProxy.injected[kind] + client.s3Proxy.injected[kind];
  }
  const answers: Partial<Record<OpKind, Record<string, number>>> = {};
  for (const op of ops) {
    const byStatus = answers[op.kind] ?? {};
    byStatus[String(op.status)] = (byStatus[String(op.status)] ?? 0) + 1;
    answers[op.kind] = byStatus;
  }
  return {
    seed,
    ops,
    violations,
    answers,
    faults,
    streamRecords: stream.records,
    reconcile,
    durationMs: performance.now() - started,
    tableName: config.tableName,
    bucketName: config.bucketName,
    kept,
  };

  async function startClient(index: number, viaLambda: boolean): Promise<Client> {
    const socketTimeoutMs = options.socketTimeoutMs ?? 2_000;
    // The reader bundle's SDK clients have no timeout: it gets no hangs and no late deliveries.
    const rules = faultRules({ rate: options.faultRate, clientTimeoutMs: viaLambda ? undefined : socketTimeoutMs });
    const ddbProxy = await FaultProxy.start({ target: local.ddb.endpoint, service: 'dynamodb', seed: seed * 1000 + index * 2 });
    const s3Proxy = await FaultProxy.start({ target: local.s3server.endpoint, service: 's3', seed: seed * 1000 + index * 2 + 1 });
    rules.dynamodb.forEach((rule) => ddbProxy.addRule(rule));
    rules.s3.forEach((rule) => s3Proxy.addRule(rule));
    const client: Client = {
      index,
      access: undefined as unknown as StoreAccess,
      ddbProxy,
      s3Proxy,
      latest: new Map(),
      seen: new Map(),
      close: async () => undefined,
    };
    ddbProxy.onExchange(({ request, entry }) => {
      if (!MUTATING_DYNAMODB_OPERATIONS.has(request.operation)) return;
      const status = entry.upstreamStatus;
      if (status !== undefined && status >= 200 && status < 300) landed += 1;
      // A request delivered late lands while its client runs a later operation: its tag says whose it is.
      const tag = request.headers[OPERATION_HEADER];
      const op = typeof tag === 'string' ? byId.get(tag) : client.current;
      op?.mutations.push({ operation: request.operation, upstreamStatus: status, status: entry.status, fault: entry.fault });
    });
    const stopProxies = async () => {
      await ddbProxy.stop();
      await s3Proxy.stop();
    };
    if (viaLambda) {
      const runtime = await LambdaRuntime.start({
        bundle: options.bundle ?? READER_BUNDLE,
        environment: plan.environment,
        endpoints: { dynamodb: ddbProxy.endpoint, s3: s3Proxy.endpoint },
        functionName: `consistency-${seed}-${index}`,
      });
      return Object.assign(client, {
        access: new LambdaAccess(runtime),
        close: async () => {
          await runtime.stop();
          await stopProxies();
        },
      });
    }
    const sdk = {
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      // The SDK's default: its automatic retries of a write whose reply was lost are part of the test.
      maxAttempts: 3,
      requestHandler: { socketTimeout: socketTimeoutMs },
    };
    const dynamodb = new DynamoDBClient({ ...sdk, endpoint: ddbProxy.endpoint });
    tagRequests(dynamodb, () => client.current?.id);
    const s3 = new S3Client({ ...sdk, endpoint: s3Proxy.endpoint, forcePathStyle: true });
    const store = new SplitStoreClient({ config, dynamodb, s3, log: () => undefined });
    return Object.assign(client, {
      access: new ClientAccess(store, 5_000),
      close: async () => {
        dynamodb.destroy();
        s3.destroy();
        await stopProxies();
      },
    });
  }

  async function runStep(client: Client, step: number): Promise<OpRecord> {
    const planned = planOp(seed, client.index, step, shape);
    const item = planned.item;
    let kind = planned.kind;
    let basis: Basis | undefined;
    let stale = false;
    if (CONDITIONAL.has(kind)) {
      const latest = client.latest.get(item);
      const older = (client.seen.get(item) ?? []).filter((b) => latest === 'absent' || b.wid !== latest?.wid || b.rev !== latest?.rev);
      if (planned.stale && older.length > 0) {
        basis = older[planned.staleIndex % older.length];
        stale = true;
      } else if (latest !== undefined && latest !== 'absent') {
        basis = latest;
      }
      // Nothing to condition on yet: read the row instead, to learn its revision.
      if (!basis) kind = 'get';
    }
    const id = `s${seed}-c${client.index}-${step}`;
    const key = { [pk]: item };
    const written = kind === 'get' || kind === 'list' || kind === 'delete' || kind === 'deleteIf' ? undefined : planned.parts.map((p) => p.name);
    const removed = kind === 'update' || kind === 'updateIf' ? planned.remove : undefined;
    const requested = kind !== 'get' ? undefined : planned.allParts ? 'all' : CONDITIONAL.has(planned.kind) ? [] : planned.parts.map((p) => p.name);
    const record: OpRecord = {
      id,
      client: client.index,
      seq: step,
      via: client.access.via,
      kind,
      item: kind === 'list' ? undefined : item,
      expectedRevision: basis?.rev,
      basis,
      stale,
      written,
      removed,
      requested,
      startMs: performance.now(),
      mutations: [],
    };
    client.current = record;
    byId.set(id, record);
    const parts: Record<string, PartInput> = {};
    const attributes: Record<string, string> = { [WID_ATTRIBUTE]: id };
    for (const part of planned.parts) {
      const body: PartBody & { pad: string } = { wid: id, item, part: part.name, pad: 'x'.repeat(part.padding) };
      parts[part.name] = { body: JSON.stringify(body), contentType: 'application/json' };
      attributes[`${PART_WID_PREFIX}${part.name}`] = id;
    }
    let outcome: Outcome;
    switch (kind) {
      case 'create':
      case 'put':
      case 'putIf':
        outcome = await client.access.put(item, {
          key,
          attributes,
          parts,
          ...(kind === 'create' ? { create: true } : {}),
          ...(kind === 'putIf' ? { expectedRevision: basis!.rev } : {}),
        });
        break;
      case 'update':
      case 'updateIf':
        outcome = await client.access.updateParts(item, {
          key,
          attributes,
          parts,
          removeParts: [...(removed ?? [])],
          ...(kind === 'updateIf' ? { expectedRevision: basis!.rev } : {}),
        });
        break;
      case 'delete':
      case 'deleteIf':
        outcome = await client.access.delete(item, { key, ...(kind === 'deleteIf' ? { expectedRevision: basis!.rev } : {}) });
        break;
      case 'get':
        outcome = await client.access.get(item, key, requested === 'all' ? undefined : requested);
        break;
      case 'list':
        outcome = await client.access.list();
        break;
    }
    client.current = undefined;
    Object.assign(record, outcome, { endMs: performance.now() });
    observe(client, record);
    return record;
  }
}

/** Header naming the operation that sent a request (the in-process clients' DynamoDB requests). */
const OPERATION_HEADER = 'x-consistency-operation';

/** Adds the id of the operation in progress to every request of an SDK client. */
function tagRequests(client: DynamoDBClient, current: () => string | undefined): void {
  client.middlewareStack.add((next) => async (args) => {
    const id = current();
    const request = args.request as { headers?: Record<string, string> };
    if (id !== undefined && request.headers) request.headers[OPERATION_HEADER] = id;
    return next(args);
  }, { step: 'build', name: 'consistencyOperationTag' });
}

/** What a client learns from an answer: the row it now believes each item has. */
function observe(client: Client, op: OpRecord): void {
  const saw = (item: string, basis: Basis | 'absent') => {
    client.latest.set(item, basis);
    if (basis === 'absent') return;
    const seen = client.seen.get(item) ?? [];
    if (!seen.some((b) => b.rev === basis.rev && b.wid === basis.wid)) seen.push(basis);
    client.seen.set(item, seen);
  };
  const ok = op.status !== undefined && op.status >= 200 && op.status < 300;
  if (op.item !== undefined && ok && (op.kind === 'delete' || op.kind === 'deleteIf')) saw(op.item, 'absent');
  else if (op.item !== undefined && ok && op.row) saw(op.item, { rev: op.row.rev, wid: op.row.wid });
  else if (op.item !== undefined && op.kind === 'get' && op.status === 404) saw(op.item, 'absent');
  for (const row of op.listed ?? []) saw(row.item, { rev: row.rev, wid: row.wid });
}

/** One line per invariant with the number of violations, e.g. `I2: 3, I4: 1`, or `none`. */
export function summarizeViolations(violations: readonly Violation[]): string {
  const counts = countByInvariant(violations);
  const parts = (Object.keys(counts) as Invariant[]).sort().map((i) => `${i}: ${counts[i]}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

/** The violations of a run, each with its item and operations, and how to replay the seed. */
export function formatViolations(result: RunResult, replay: string, max = 25): string {
  const byId = new Map(result.ops.map((op) => [op.id, op]));
  const describeOp = (id: string) => {
    const op = byId.get(id);
    if (!op) return `    ${id}`;
    const condition = op.expectedRevision !== undefined ? ` expectedRevision=${op.expectedRevision}${op.stale ? ' (stale)' : ''}` : '';
    const mutations = op.mutations.map((m) => `${m.operation} ${m.upstreamStatus ?? 'not sent'}${m.fault ? ` (${m.fault}, client got ${m.status ?? 'nothing'})` : ''}`);
    return `    ${id}: ${op.kind} ${op.item ?? ''}${condition} via ${op.via} -> ${op.status} ${op.code ?? ''}${op.row ? ` rev ${op.row.rev}` : ''}`
      + (mutations.length > 0 ? `; DynamoDB writes: ${mutations.join(', ')}` : '');
  };
  const lines = [`seed ${result.seed}: ${result.violations.length} violation(s) (${summarizeViolations(result.violations)})`];
  for (const v of result.violations.slice(0, max)) {
    lines.push(`  ${v.invariant}${v.item ? ` ${v.item}` : ''}: ${v.message}`);
    for (const id of new Set(v.ops)) lines.push(describeOp(id));
  }
  if (result.violations.length > max) lines.push(`  ... and ${result.violations.length - max} more`);
  if (result.kept) lines.push(`  table ${result.tableName} and bucket ${result.bucketName} are kept on the servers until they stop`);
  lines.push(`  replay: ${replay}`);
  lines.push('  (a replay runs the same schedule; the clients\' interleaving, and so the faults each request meets, may differ)');
  return lines.join('\n');
}
