/**
 * The BUILT reference reader (assets/reader.lambda/index.js, `npx projen bundle`) run
 * through the Lambda runtime emulation against DynamoDB Local and each S3 server with
 * versioning (the versioned S3 test server and moto), with the table and bucket created
 * from the SplitStore construct's own template.
 *
 * Write an item with two parts, read it streamed (index first, then both parts,
 * byte-equal), list, overwrite with a stale revision (409, nothing changed), delete (404
 * after; old versions still listed as noncurrent); a failed commit leaves no new current
 * version behind; a dangling pointer is reported. On the versioned test server only, since
 * they need its instrumentation: a list makes no S3 request, the stale writer's versions
 * were removed by compensation, the index line goes out while the S3 reads are held, an S3
 * error fails one part only.
 */
import * as path from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { AttributeType } from 'aws-cdk-lib/aws-dynamodb';
import { DynamoDbLocal } from '../support/dynamodb-local';
import { StorePlan } from '../support/from-template';
import { LambdaRuntime, UrlResponse } from '../support/lambda-runtime';
import { LOCAL_S3_SERVERS, LocalStore, OUT_OF_REACH_MS, PATIENT_READER_ENVIRONMENT, startLocalStore } from '../support/local-store';
import { MOTO_FIRST_START_TIMEOUT_MS } from '../support/moto';
import { VersionedS3Server } from '../support/versioned-s3-server';

const BUNDLE = path.join(__dirname, '..', '..', 'assets', 'reader.lambda', 'index.js');

/** A JSON part and a text part with non-ASCII content, so byte-equality means something. */
const SUMMARY = JSON.stringify({ number: 'INV-0001', total: 1234.5, currency: 'EUR', note: 'Grüße — ✓' });
const LINES = Array.from({ length: 200 }, (_, i) => `line ${i}: widget × ${i} @ €${(i * 1.1).toFixed(2)}`).join('\n');

interface PinnedRow {
  revision: number;
  parts: Record<string, { versionId: string; etag: string; size: number; contentType: string }>;
  attributes: Record<string, unknown>;
}

describe.each(LOCAL_S3_SERVERS)('reference reader bundle, end to end (S3: %s)', (s3Server) => {
  let local: LocalStore;
  let ddb: DynamoDbLocal;
  let dynamodb: DynamoDBClient;
  let s3: S3Client;
  let plan: StorePlan;
  let reader: LambdaRuntime;
  /** The versioned test server's instrumentation: tests that need it run on that server only. */
  const instrumentedTest = (name: string, fn: (s3server: VersionedS3Server) => Promise<void>) => {
    if (s3Server === 'versioned') test(name, () => fn(local.s3server!));
  };

  beforeAll(async () => {
    local = await startLocalStore({
      storeProps: { globalSecondaryIndexes: [{ indexName: 'byCustomer', partitionKey: { name: 'customer', type: AttributeType.STRING } }] },
      namePrefix: 'reader-e2e',
      s3Server,
    });
    ({ ddb, dynamodb, s3, plan } = local);
    reader = await LambdaRuntime.start({
      bundle: BUNDLE,
      // The time guards out of reach: a slow machine makes these tests slower, not red.
      environment: { ...plan.environment, ...PATIENT_READER_ENVIRONMENT },
      timeoutMs: 2 * OUT_OF_REACH_MS,
      endpoints: { dynamodb: ddb.endpoint, s3: local.s3Endpoint },
      functionName: 'reader',
    });
  }, MOTO_FIRST_START_TIMEOUT_MS);

  afterAll(async () => {
    await reader?.stop();
    await local?.stop();
  });

  afterEach(() => {
    local?.s3server?.hold('GetObject').release();
  });

  const partitionKey = () => plan.environment.SPLIT_STORE_PARTITION_KEY;
  const prefix = () => plan.environment.SPLIT_STORE_KEY_PREFIX;

  async function putItem(id: string, body: object): Promise<UrlResponse> {
    return reader.invokeUrl('PUT', `/items/${encodeURIComponent(id)}`, { body });
  }

  async function rawRow(id: string) {
    return (await dynamodb.send(new GetItemCommand({ TableName: plan.tableName, Key: { [partitionKey()]: { S: id } }, ConsistentRead: true }))).Item;
  }

  async function versions(id: string) {
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: plan.bucketName, Prefix: `${prefix()}${encodeURIComponent(id)}/` }));
    return {
      versions: (listed.Versions ?? []).map((v) => ({ key: v.Key!, versionId: v.VersionId!, isLatest: v.IsLatest! })),
      deleteMarkers: (listed.DeleteMarkers ?? []).map((m) => ({ key: m.Key!, versionId: m.VersionId!, isLatest: m.IsLatest! })),
    };
  }

  /** Part name → the versionId currently the latest in S3 (undefined when a delete marker is latest). */
  async function currentVersions(id: string): Promise<Record<string, string | undefined>> {
    const listed = await versions(id);
    const current: Record<string, string | undefined> = {};
    for (const v of listed.versions) if (v.isLatest) current[v.key.slice(v.key.lastIndexOf('/') + 1)] = v.versionId;
    for (const m of listed.deleteMarkers) if (m.isLatest) current[m.key.slice(m.key.lastIndexOf('/') + 1)] = undefined;
    return current;
  }

  function pins(row: PinnedRow): Record<string, string> {
    return Object.fromEntries(Object.entries(row.parts).map(([name, pin]) => [name, pin.versionId]));
  }

  test('writes an item with two parts, each pinned to the version now current in S3', async () => {
    const response = await putItem('inv-1', {
      attributes: { number: 'INV-0001', total: 1234.5, customer: 'c-1' },
      parts: { summary: { body: SUMMARY }, lines: { body: LINES, contentType: 'text/plain; charset=utf-8' } },
    });
    expect(response.statusCode).toBe(201);
    const row = JSON.parse(response.text) as PinnedRow;
    expect(row.revision).toBe(1);
    expect(Object.keys(row.parts).sort()).toEqual(['lines', 'summary']);
    expect(row.parts.summary.size).toBe(Buffer.byteLength(SUMMARY));
    expect(row.parts.lines.contentType).toBe('text/plain; charset=utf-8');
    expect(await currentVersions('inv-1')).toEqual(pins(row));
  });

  test('reads it streamed: the index line first, then both parts byte-equal, then the trailer', async () => {
    const response = await reader.invokeUrl('GET', '/items/inv-1', { query: { parts: 'summary,lines' } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const types = response.lines.map((l) => l.json?.type);
    expect(types[0]).toBe('index');
    expect(types.slice(1, 3).sort()).toEqual(['part', 'part']);
    expect(types[types.length - 1]).toBe('end');
    expect(types).toHaveLength(4);

    const index = response.lines[0].json;
    expect(index.row.attributes).toMatchObject({ number: 'INV-0001', total: 1234.5 });
    const parts = Object.fromEntries(response.lines.filter((l) => l.json?.type === 'part').map((l) => [l.json.name, l.json]));
    const bytes = (part: any) => Buffer.from(part.body, part.encoding === 'base64' ? 'base64' : 'utf8');
    expect(bytes(parts.summary).equals(Buffer.from(SUMMARY))).toBe(true);
    expect(bytes(parts.lines).equals(Buffer.from(LINES))).toBe(true);
    expect(parts.summary.versionId).toBe(index.row.parts.summary.versionId);
    expect(parts.lines.versionId).toBe(index.row.parts.lines.versionId);
    expect(response.lines[3].json.errors).toEqual([]);
  });

  test('answers a plain invocation with the same item', async () => {
    const result = await reader.invoke({ operation: 'get', key: { [partitionKey()]: 'inv-1' } });
    expect(result.ok).toBe(true);
    const part = result.result.parts.lines;
    expect(Buffer.from(part.body, part.encoding === 'base64' ? 'base64' : 'utf8').toString('utf8')).toBe(LINES);
  });

  const listItems = async () => {
    const response = await reader.invokeUrl('GET', '/items', { query: { limit: '10' } });
    expect(response.statusCode).toBe(200);
    const ids = (JSON.parse(response.text).items as PinnedRow[]).map((row) => row.attributes[partitionKey()]).sort();
    // The template's global secondary index exists locally.
    const byCustomer = await reader.invokeUrl('GET', '/items', { query: { index: 'byCustomer', pk: 'c-2' } });
    expect(byCustomer.statusCode).toBe(200);
    return { ids, byCustomer: (JSON.parse(byCustomer.text).items as PinnedRow[]).map((row) => row.attributes[partitionKey()]) };
  };

  test('lists index rows, by the table and by a global secondary index', async () => {
    await putItem('inv-2', { attributes: { number: 'INV-0002', customer: 'c-2' }, parts: { summary: { json: { total: 2 } } } });
    expect(await listItems()).toEqual({ ids: ['inv-1', 'inv-2'], byCustomer: ['inv-2'] });
  });

  instrumentedTest('a list, by the table or by an index, makes no S3 request', async (s3server) => {
    s3server.resetStats();
    expect(await listItems()).toEqual({ ids: ['inv-1', 'inv-2'], byCustomer: ['inv-2'] });
    expect(s3server.count()).toBe(0);
  });

  test('refuses an overwrite with a stale revision (409) and changes nothing: same row, same current versions, no new versions', async () => {
    const v2 = await putItem('inv-1', {
      expectedRevision: 1,
      attributes: { number: 'INV-0001', total: 2 },
      parts: { summary: { json: { rev: 2 } }, lines: { body: `${LINES}\nrevision 2`, contentType: 'text/plain; charset=utf-8' } },
    });
    expect({ status: v2.statusCode, body: v2.text }).toEqual({ status: 200, body: expect.stringContaining('revision') });
    const row2 = JSON.parse(v2.text) as PinnedRow;
    expect(row2.revision).toBe(2);

    const rowBefore = await rawRow('inv-1');
    const versionsBefore = await versions('inv-1');

    const stale = await putItem('inv-1', {
      expectedRevision: 1,
      attributes: { number: 'STALE' },
      parts: { summary: { json: { stale: true } }, lines: { body: 'stale lines' } },
    });
    expect(stale.statusCode).toBe(409);
    expect(JSON.parse(stale.text).error.code).toBe('Conflict');

    expect(await rawRow('inv-1')).toEqual(rowBefore);
    // No version was added, none removed.
    expect(await versions('inv-1')).toEqual(versionsBefore);
    expect(await currentVersions('inv-1')).toEqual(pins(row2));
  });

  instrumentedTest('a stale revision is refused on the row read first: nothing reaches S3', async (s3server) => {
    const versionsBefore = await versions('inv-1');
    s3server.resetStats();
    const stale = await putItem('inv-1', { expectedRevision: 1, parts: { summary: { json: { stale: true } }, lines: { body: 'stale lines' } } });
    expect(stale.statusCode).toBe(409);
    expect(s3server.count('PutObject')).toBe(0);
    expect(s3server.count('DeleteObject')).toBe(0);
    expect(await versions('inv-1')).toEqual(versionsBefore);
  });

  test('a failed create (item exists) leaves no new current version behind either', async () => {
    const before = await versions('inv-2');
    const response = await putItem('inv-2', { create: true, parts: { summary: { json: { again: true } } } });
    expect(response.statusCode).toBe(409);
    expect(await versions('inv-2')).toEqual(before);
  });

  instrumentedTest('sends the index line while the S3 reads are held, and the parts once they are released', async (s3server) => {
    s3server.resetStats();
    // No GetObject is answered until the index line has arrived: a reader that waited for S3
    // before streaming the row would time its parts out instead of serving them.
    const hold = s3server.hold('GetObject');
    const events: string[] = [];
    const response = await reader.invokeUrl('GET', '/items/inv-1', {
      query: { parts: 'summary,lines' },
      onLine: (line) => {
        events.push(line.json?.type);
        if (line.json?.type === 'index') {
          events.push('release');
          hold.release();
        }
      },
    });
    expect(response.statusCode).toBe(200);
    expect(events).toEqual(['index', 'release', 'part', 'part', 'end']);
    expect(response.lines.filter((l) => l.json.type === 'part').map((l) => l.json.name).sort()).toEqual(['lines', 'summary']);
    expect(s3server.count('GetObject')).toBe(2);
  });

  instrumentedTest('an S3 error on one part fails that part only: the index line and the other part still go out', async (s3server) => {
    await putItem('inv-3', { parts: { summary: { json: { ok: true } }, lines: { body: 'three' } } });
    // Both the read of the current version and the re-fetch by version id are refused.
    s3server.failNext('GetObject', { code: 'AccessDenied', key: `${prefix()}inv-3/lines`, count: 2 });
    const response = await reader.invokeUrl('GET', '/items/inv-3', { query: { parts: 'summary,lines' } });
    expect(response.statusCode).toBe(200);
    const byType = (type: string) => response.lines.filter((l) => l.json?.type === type).map((l) => l.json);
    expect(response.lines[0].json.type).toBe('index');
    expect(byType('part').map((p) => [p.name, p.body])).toEqual([['summary', '{"ok":true}']]);
    expect(byType('part-error').map((p) => [p.name, p.code])).toEqual([['lines', 'S3Error']]);
    expect(byType('end')[0].errors.map((e: { name: string }) => e.name)).toEqual(['lines']);
  });

  test('reports a dangling pointer for a part whose pinned version is gone, and serves the rest', async () => {
    const row = JSON.parse((await putItem('inv-4', { parts: { summary: { json: { n: 4 } }, lines: { body: 'four' } } })).text) as PinnedRow;
    await s3.send(new DeleteObjectCommand({ Bucket: plan.bucketName, Key: `${prefix()}inv-4/lines`, VersionId: row.parts.lines.versionId }));
    const response = await reader.invokeUrl('GET', '/items/inv-4', { query: { parts: 'summary,lines' } });
    expect(response.statusCode).toBe(200);
    const events = response.lines.map((l) => l.json);
    expect(events.find((e) => e.type === 'part')).toMatchObject({ name: 'summary', body: '{"n":4}' });
    expect(events.find((e) => e.type === 'part-error')).toMatchObject({ name: 'lines', code: 'DanglingPointer' });
    // The EMF metric line goes to stdout, a pipe of its own that may trail the response.
    await reader.flushLogs();
    expect(reader.jsonLogs.some((entry) => JSON.stringify(entry).includes('DanglingPointers'))).toBe(true);
  });

  test('deletes the item: a tombstone, 404 afterwards, the old versions still listed as noncurrent behind delete markers', async () => {
    const row = JSON.parse((await reader.invokeUrl('GET', '/items/inv-1', { query: { parts: '' } })).lines[0].text).row as PinnedRow;
    const response = await reader.invokeUrl('DELETE', '/items/inv-1');
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.text).deleted.revision).toBe(row.revision);

    const after = await reader.invokeUrl('GET', '/items/inv-1', { query: { parts: 'summary' } });
    expect(after.statusCode).toBe(404);
    expect(JSON.parse(after.text).error.code).toBe('NotFound');
    // A tombstone replaces the row: the key, the next revision, a token, nothing else.
    expect(await rawRow('inv-1')).toEqual({
      [partitionKey()]: { S: 'inv-1' },
      _rev: { N: String(row.revision + 1) },
      _tok: { S: expect.any(String) },
      _proto: { N: '2' },
      _del: { BOOL: true },
    });

    const listed = await versions('inv-1');
    for (const [name, versionId] of Object.entries(pins(row))) {
      expect(listed.versions).toContainEqual({ key: `${prefix()}inv-1/${name}`, versionId, isLatest: false });
      expect(listed.deleteMarkers).toContainEqual(expect.objectContaining({ key: `${prefix()}inv-1/${name}`, isLatest: true }));
    }
  });
});
