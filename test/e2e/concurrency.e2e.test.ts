/**
 * Concurrent writers and readers on a few shared items, against DynamoDB Local and each S3
 * server with versioning, the versioned S3 test server and moto (table and bucket from the
 * SplitStore template).
 *
 * Writers go through the store client (src/runtime/store.ts), conditional on the revision
 * they read; readers go through the BUILT reader bundle's streamed split read, in two
 * emulated execution environments. Every write tags its row and its part bodies with its own
 * id (`{"tag": "<writer>-<op>"}`), so a reader can tell a torn read: a part whose tag is not
 * the tag of the row served with it. (Not the revision: an item created again after a delete
 * continues from its tombstone's revision, which the writer does not know before it commits.)
 * A write may answer 503 when a request is slow (each attempt has a timeout): the store is
 * then consistent either way, and the reconciler finishes its work. At the end, after the
 * reconciler has handled every S3 event of the run, every row's pinned versions must be the
 * current versions in S3.
 */
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { partKey } from '../../src/runtime/keys';
import { SplitStoreClient } from '../../src/runtime/store';
import { ConflictError, IndexRow, NotFoundError, StoreError } from '../../src/runtime/types';
import { DynamoDbLocal } from '../support/dynamodb-local';
import { StorePlan } from '../support/from-template';
import { LambdaRuntime } from '../support/lambda-runtime';
import { mulberry32 } from '../support/latency';
import { LOCAL_S3_SERVERS, LocalStore, OUT_OF_REACH_MS, PATIENT_READER_ENVIRONMENT, startLocalStore } from '../support/local-store';
import { MOTO_FIRST_START_TIMEOUT_MS } from '../support/moto';
import { runReconciler } from '../support/protocol-invariants';

const BUNDLE = path.join(__dirname, '..', '..', 'assets', 'reader.lambda', 'index.js');
const WRITERS = 8;
const READERS = 8;
const OPS_PER_WORKER = 35; // 16 workers × 35 = 560 operations
const ITEMS = ['item-0', 'item-1', 'item-2'];
/** Padding makes part b large enough that S3 reads and writes overlap for real. */
const PADDING = 'x'.repeat(8 * 1024);
/**
 * 560 operations take about a minute on an idle 2-core machine and several on a loaded one;
 * the verdict is about torn reads and pins, never speed, so only a hang may end the test.
 */
const HANG_GUARD_MS = 20 * 60_000;

interface Stats {
  writes: number;
  creates: number;
  deletes: number;
  conflicts: number;
  /** Deletes that found the item already deleted by another writer (404): a race, like a conflict. */
  vanished: number;
  /** Writes answered 503 (a slow or failed request; the outcome may be unknown): retryable, not an error. */
  unavailable: number;
  writeErrors: string[];
  reads: number;
  notFound: number;
  tornReads: string[];
  partErrors: string[];
  readErrors: string[];
}

describe.each(LOCAL_S3_SERVERS)('concurrent writers and readers (S3: %s)', (s3Server) => {
  let local: LocalStore;
  let ddb: DynamoDbLocal;
  let dynamodb: DynamoDBClient;
  let s3: S3Client;
  let plan: StorePlan;
  let readers: LambdaRuntime[];
  let store: SplitStoreClient;

  beforeAll(async () => {
    local = await startLocalStore({ namePrefix: 'concurrency', s3Server });
    ({ ddb, dynamodb, s3, plan } = local);
    // The time guards out of reach: a slow machine makes this test slower, not red.
    store = new SplitStoreClient({ config: { ...local.config, writerDeadlineMs: OUT_OF_REACH_MS }, dynamodb, s3, log: () => undefined });
    readers = await Promise.all([0, 1].map((i) => LambdaRuntime.start({
      bundle: BUNDLE,
      environment: { ...plan.environment, ...PATIENT_READER_ENVIRONMENT },
      timeoutMs: 2 * OUT_OF_REACH_MS,
      endpoints: { dynamodb: ddb.endpoint, s3: local.s3Endpoint },
      functionName: `reader-${i}`,
    })));
  }, MOTO_FIRST_START_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all((readers ?? []).map((r) => r.stop()));
    await local?.stop();
  });

  test(`${WRITERS} writers and ${READERS} readers, ${(WRITERS + READERS) * OPS_PER_WORKER} operations: zero torn reads, pins current at the end`, async () => {
    const stats: Stats = {
      writes: 0,
      creates: 0,
      deletes: 0,
      conflicts: 0,
      vanished: 0,
      unavailable: 0,
      writeErrors: [],
      reads: 0,
      notFound: 0,
      tornReads: [],
      partErrors: [],
      readErrors: [],
    };
    const pk = plan.environment.SPLIT_STORE_PARTITION_KEY;

    async function writer(w: number): Promise<void> {
      const random = mulberry32(1000 + w);
      for (let i = 0; i < OPS_PER_WORKER; i++) {
        const id = ITEMS[Math.floor(random() * ITEMS.length)];
        const key = { [pk]: id };
        let current: IndexRow | undefined;
        try {
          current = await store.getIndex(key);
        } catch (e) {
          if (!(e instanceof NotFoundError)) throw e;
        }
        const tag = `${w}-${i}`;
        const body = (part: string) => JSON.stringify({ tag, part, ...(part === 'b' ? { padding: PADDING } : {}) });
        const parts = { a: { body: body('a'), contentType: 'application/json' }, b: { body: body('b'), contentType: 'application/json' } };
        try {
          if (!current) {
            const row = await store.put({ key, attributes: { tag }, parts, create: true });
            expect(row.created).toBe(true);
            stats.creates += 1;
          } else if (random() < 0.06) {
            await store.delete({ key, expectedRevision: current.revision });
            stats.deletes += 1;
          } else {
            const row = await store.put({ key, attributes: { tag }, parts, expectedRevision: current.revision });
            expect(row.revision).toBe(current.revision + 1);
            stats.writes += 1;
          }
        } catch (e) {
          if (e instanceof ConflictError) {
            stats.conflicts += 1;
          } else if (e instanceof StoreError && e.statusCode === 503) {
            stats.unavailable += 1;
          } else if (e instanceof NotFoundError && current) {
            // Another writer deleted the item between this writer's read and its delete:
            // the delete answers 404, the same race as a conflict, nothing written.
            stats.vanished += 1;
          } else {
            stats.writeErrors.push(`${(e as Error).name}: ${(e as Error).message}`);
          }
        }
      }
    }

    async function reader(r: number): Promise<void> {
      const random = mulberry32(2000 + r);
      const runtime = readers[r % readers.length];
      for (let i = 0; i < OPS_PER_WORKER; i++) {
        const id = ITEMS[Math.floor(random() * ITEMS.length)];
        const response = await runtime.invokeUrl('GET', `/items/${id}`, { query: { parts: 'a,b' } });
        if (response.statusCode === 404) {
          stats.notFound += 1;
          continue;
        }
        if (response.statusCode !== 200 || response.lines[0]?.json?.type !== 'index') {
          stats.readErrors.push(`${response.statusCode} ${response.text.slice(0, 200)}`);
          continue;
        }
        stats.reads += 1;
        const row = response.lines[0].json.row as IndexRow;
        for (const line of response.lines.slice(1)) {
          const event = line.json;
          if (event?.type === 'part') {
            const served = JSON.parse(event.body) as { tag: string; part: string };
            if (served.tag !== row.attributes.tag || served.part !== event.name || event.versionId !== row.parts[event.name]?.versionId) {
              stats.tornReads.push(`${id}: row revision ${row.revision} of write ${String(row.attributes.tag)}, part ${event.name} of write ${served.tag}`);
            }
          } else if (event?.type === 'part-error') {
            stats.partErrors.push(`${id} ${event.name}: ${event.code} ${event.message}`);
          } else if (event?.type === 'error') {
            stats.readErrors.push(`${id}: ${event.code} ${event.message}`);
          }
        }
        const served = response.lines.filter((l) => l.json?.type === 'part').length;
        if (served + response.lines.filter((l) => l.json?.type === 'part-error').length !== 2) {
          stats.readErrors.push(`${id}: ${served} parts in ${response.text.slice(0, 200)}`);
        }
      }
    }

    await Promise.all([
      ...Array.from({ length: WRITERS }, (_, w) => writer(w)),
      ...Array.from({ length: READERS }, (_, r) => reader(r)),
    ]);

    // The reconciler handles every S3 event of the run (its queue's delay has passed).
    await runReconciler(local, ITEMS.map(id => ({ [pk]: id })), ['a', 'b']);

    // Every remaining row's pins are the current versions in S3.
    const unpinnedCurrent: string[] = [];
    let rows = 0;
    const config = local.config;
    for (const id of ITEMS) {
      let row: IndexRow;
      try {
        row = await store.getIndex({ [pk]: id });
      } catch (e) {
        if (e instanceof NotFoundError) continue;
        throw e;
      }
      rows += 1;
      for (const [name, pin] of Object.entries(row.parts)) {
        const head = await s3.send(new HeadObjectCommand({ Bucket: plan.bucketName, Key: partKey(config, { [pk]: id }, name) }));
        if (head.VersionId !== pin.versionId) unpinnedCurrent.push(`${id}/${name}: pinned ${pin.versionId}, current ${head.VersionId}`);
      }
    }

    const summary = {
      operations: (WRITERS + READERS) * OPS_PER_WORKER,
      writes: stats.writes,
      creates: stats.creates,
      deletes: stats.deletes,
      conflicts: stats.conflicts,
      vanished: stats.vanished,
      unavailable: stats.unavailable,
      reads: stats.reads,
      notFound: stats.notFound,
      tornReads: stats.tornReads.length,
      partErrors: stats.partErrors.length,
      writeErrors: stats.writeErrors.length,
      readErrors: stats.readErrors.length,
      rowsAtEnd: rows,
      unpinnedCurrent: unpinnedCurrent.length,
    };
    // The report the issue asks for: torn reads as a count.
    // eslint-disable-next-line no-console
    console.log(`concurrency e2e (S3: ${s3Server}): ${JSON.stringify(summary)}`);

    expect(stats.tornReads).toEqual([]);
    expect(stats.partErrors).toEqual([]);
    expect(stats.writeErrors).toEqual([]);
    expect(stats.readErrors).toEqual([]);
    expect(unpinnedCurrent).toEqual([]);
    // The run must have exercised what it claims: commits, contention, and reads of rows.
    expect(stats.writes + stats.creates).toBeGreaterThan(50);
    expect(stats.conflicts).toBeGreaterThan(0);
    expect(stats.reads).toBeGreaterThan(100);
    expect(rows).toBeGreaterThan(0);
  }, HANG_GUARD_MS);
});
