/**
 * The doctor's scan against DynamoDB Local and a versioned S3 server (the project's and
 * moto): items written through SplitStoreClient, then each kind of drift injected by hand,
 * the way a lost event, a destroyed version or a foreign writer would leave it.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { encodeRow } from '../../src/runtime/codec';
import { runDoctor } from '../../src/runtime/doctor';
import { partKey } from '../../src/runtime/keys';
import { SplitStoreClient } from '../../src/runtime/store';
import { LOCAL_S3_SERVERS, LocalStore, PATIENT_READER_ENVIRONMENT, startLocalStore } from '../support/local-store';
import { MOTO_FIRST_START_TIMEOUT_MS } from '../support/moto';

/** The doctor's clock, an hour ahead: every version written here counts as old. */
const LATER = () => Date.now() + 3_600_000;

describe.each(LOCAL_S3_SERVERS)('the doctor, against local emulators (S3: %s)', (s3Server) => {
  let local: LocalStore;
  let store: SplitStoreClient;

  beforeAll(async () => {
    local = await startLocalStore({ s3Server });
    const config = { ...local.config, writerDeadlineMs: Number(PATIENT_READER_ENVIRONMENT.SPLIT_STORE_WRITER_DEADLINE_MS) };
    store = new SplitStoreClient({ config, dynamodb: local.dynamodb, s3: local.s3, log: () => undefined });
  }, MOTO_FIRST_START_TIMEOUT_MS);

  afterAll(async () => {
    await local?.stop();
  });

  const scan = () => runDoctor({ config: local.config, dynamodb: local.dynamodb, s3: local.s3, repair: false, wallClock: LATER });
  const key = (id: string, part: string) => partKey(local.config, { id }, part);

  test('a store written only through the protocol is healthy', async () => {
    // GIVEN
    for (const id of ['a', 'b', 'c', 'd']) {
      await store.put({ key: { id }, create: true, parts: { summary: { body: `{"id":"${id}"}` }, lines: { body: '[]' } } });
    }
    await store.updateParts({ key: { id: 'd' }, parts: { summary: { body: '{"id":"d","v":2}' } }, removeParts: ['lines'] });
    await store.put({ key: { id: 'e' }, create: true, parts: { summary: { body: '{}' } } });
    await store.delete({ key: { id: 'e' } });
    // WHEN
    const report = await scan();
    // THEN
    expect(report).toMatchObject({
      rowsScanned: 5,
      liveRows: 4,
      tombstones: 1,
      healthy: true,
      counts: { 'dangling-pin': 0, 'pinned-noncurrent': 0, 'unpinned-current': 0, 'unknown-protocol': 0 },
    });
  });

  test('each kind of drift, injected by hand, is reported where it is, and nothing else', async () => {
    // GIVEN
    const bucket = local.config.bucketName;
    const a = await store.getIndex({ id: 'a' });
    // a destroyed pinned version: a/summary dangles
    await local.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key('a', 'summary'), VersionId: a.parts.summary.versionId }));
    // a delete marker over b's pinned summary, a foreign version over c's
    await local.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key('b', 'summary') }));
    const foreign = await local.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key('c', 'summary'), Body: 'not committed' }));
    // an orphan: a part of an item that has no row
    const orphan = await local.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key('zz', 'summary'), Body: 'orphan' }));
    // a row of a later protocol version
    const later = encodeRow(local.config, { key: { id: 'f' }, attributes: { id: 'f' }, revision: 1, parts: {} }, 'tok');
    await local.dynamodb.send(new PutItemCommand({ TableName: local.config.tableName, Item: { ...later, _proto: { N: '3' } } }));
    // WHEN
    const report = await scan();
    // THEN
    const found = report.findings.map((f) => [f.kind, f.objectKey ?? JSON.stringify(f.key), f.versionId]).sort();
    expect(found).toEqual([
      ['dangling-pin', key('a', 'summary'), a.parts.summary.versionId],
      ['pinned-noncurrent', key('b', 'summary'), (await pinOf('b')).versionId],
      ['pinned-noncurrent', key('c', 'summary'), (await pinOf('c')).versionId],
      ['unknown-protocol', '{"id":"f"}', undefined],
      ['unpinned-current', key('c', 'summary'), foreign.VersionId],
      ['unpinned-current', key('zz', 'summary'), orphan.VersionId],
    ].sort());
    expect(report.healthy).toBe(false);
  });

  async function pinOf(id: string) {
    return (await store.getIndex({ id })).parts.summary;
  }
});
