/**
 * Split read latency, SIMULATED: local emulators with injected per-request latency.
 *
 *   npx ts-node --transpile-only --project bench/tsconfig.json bench/read.ts \
 *     [--reads=200] [--items=50] [--parts=2] [--part-kb=16] [--ddb-ms=5] [--ddb-jitter-ms=2] \
 *     [--s3-ms=40] [--s3-jitter-ms=15] [--seed=1] [--warmup=20]
 *
 * Compares, on the same items and interleaved so they share the machine's noise:
 *   (a) sequential: GetItem for the index row, then GetObject for its parts (in parallel,
 *       pinned to the row's versions), written plainly with the SDK clients, as the usual
 *       samples do;
 *   (b) the store's split read through the BUILT reference Lambda (assets/reader.lambda) in
 *       the Lambda streaming emulation: `GET /items/{id}?parts=...` streamed as NDJSON; the
 *       time to the index line and the time to the last part line, as the caller sees them.
 * The services' own latency is measured in the same run, per read, from the DynamoDB
 * proxy's and the S3 server's request logs, for (b)'s overhead ratios. Nothing here is a
 * test assertion.
 */
import { performance } from 'node:perf_hooks';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { BenchArgs } from './lib/args';
import { machineHeader } from './lib/machine';
import { jsonBody, latencyFromArgs, Rig, startReader, startRig } from './lib/rig';
import { pairedRatios, summarize } from './lib/stats';
import { ms, renderTable, times } from './lib/table';
import { decodeRow, marshallKey } from '../src/runtime/codec';
import { partKey } from '../src/runtime/keys';

const COMMAND = 'npx ts-node --transpile-only --project bench/tsconfig.json bench/read.ts';

/** What one read measured, in ms from its start. */
interface ReadSample {
  readonly indexMs: number;
  readonly allPartsMs: number;
  /** DynamoDB GetItem durations this read caused, as the proxy saw them. */
  readonly ddbMs: number;
  /** The slowest GetObject of this read, as the S3 server saw it. */
  readonly slowestS3Ms: number;
  /** The sum of this read's DynamoDB and S3 requests' durations (what a fully sequential read would cost). */
  readonly serviceSumMs: number;
  /** (b) only: the same two times as the function itself measured them (the NDJSON lines' atMs). */
  readonly inFunction?: { readonly indexMs: number; readonly allPartsMs: number };
}

function serviceTimes(rig: Rig, ddbFrom: number, s3From: number): { ddbMs: number; slowestS3Ms: number; s3Count: number } {
  const ddb = rig.ddbProxy.log.slice(ddbFrom).filter((e) => e.operation === 'GetItem');
  const s3 = rig.s3Server.log.slice(s3From).filter((e) => e.operation === 'GetObject');
  const duration = (e: { startMs: number; endMs?: number }) => {
    if (e.endMs === undefined) throw new Error('a request of this read had not finished when the read ended');
    return e.endMs - e.startMs;
  };
  if (ddb.length !== 1) throw new Error(`expected 1 GetItem per read, saw ${ddb.length}`);
  if (s3.length === 0) throw new Error('a read made no GetObject request');
  return { ddbMs: duration(ddb[0]), slowestS3Ms: Math.max(...s3.map(duration)), s3Count: s3.length };
}

async function main(): Promise<void> {
  const args = new BenchArgs();
  const reads = args.integer('reads', 200, 1);
  const itemCount = args.integer('items', 50, 1);
  const partCount = args.integer('parts', 2, 1);
  const partKb = args.number('part-kb', 16, 0);
  const warmup = args.integer('warmup', 20, 0);
  const latency = latencyFromArgs(args);
  const partNames = ['summary', 'lines', 'notes', 'attachments'].slice(0, partCount);
  while (partNames.length < partCount) partNames.push(`part${partNames.length}`);

  process.stderr.write('read bench: starting DynamoDB Local, the S3 server and the reader bundle...\n');
  const rig = await startRig();
  let lambda: Awaited<ReturnType<typeof startReader>> | undefined;
  try {
    lambda = await startReader(rig);
    const reader = lambda;
    // Seed (not measured, no injected latency): a small summary part, then bulky parts.
    const keys = Array.from({ length: itemCount }, (_, i) => ({ id: `invoice-${String(i).padStart(5, '0')}` }));
    for (const [i, key] of keys.entries()) {
      await rig.store.put({
        key,
        attributes: { number: `INV-${i}`, issuedAt: new Date(Date.UTC(2026, 0, 1 + (i % 28))).toISOString(), total: i * 10 },
        parts: Object.fromEntries(partNames.map((name, p) => [name, { body: jsonBody(i, p === 0 ? 512 : partKb * 1024) }])),
      });
    }
    rig.setLatency(latency);

    const sequential = async (key: { id: string }): Promise<ReadSample> => {
      const ddbFrom = rig.ddbProxy.log.length;
      const s3From = rig.s3Server.log.length;
      const t0 = performance.now();
      const out = await rig.dynamodb.send(new GetItemCommand({
        TableName: rig.config.tableName,
        Key: marshallKey(rig.config, key),
        ConsistentRead: true,
      }));
      const indexMs = performance.now() - t0;
      const row = decodeRow(rig.config, out.Item!);
      await Promise.all(partNames.map(async (name) => {
        const part = await rig.s3.send(new GetObjectCommand({
          Bucket: rig.config.bucketName,
          Key: partKey(rig.config, key, name),
          VersionId: row.parts[name].versionId,
        }));
        await part.Body!.transformToByteArray();
      }));
      const allPartsMs = performance.now() - t0;
      const services = serviceTimes(rig, ddbFrom, s3From);
      return { indexMs, allPartsMs, ...services, serviceSumMs: services.ddbMs + services.slowestS3Ms };
    };

    const split = async (key: { id: string }): Promise<ReadSample> => {
      const ddbFrom = rig.ddbProxy.log.length;
      const s3From = rig.s3Server.log.length;
      const response = await reader.invokeUrl('GET', `/items/${encodeURIComponent(key.id)}`, { query: { parts: partNames.join(',') } });
      if (response.statusCode !== 200) throw new Error(`split read of ${key.id} answered ${response.statusCode}`);
      const index = response.lines.find((l) => (l.json as { type: string }).type === 'index');
      const parts = response.lines.filter((l) => (l.json as { type: string }).type === 'part');
      const errors = response.lines.filter((l) => (l.json as { type: string }).type === 'part-error');
      if (!index || parts.length !== partNames.length || errors.length > 0) {
        const got = JSON.stringify(response.lines.map((l) => l.json));
        throw new Error(`split read of ${key.id} did not return the index row and ${partNames.length} parts: ${got}`);
      }
      const services = serviceTimes(rig, ddbFrom, s3From);
      if (services.s3Count !== partNames.length) {
        throw new Error(`split read of ${key.id} made ${services.s3Count} GetObject requests for ${partNames.length} parts (a refetch?)`);
      }
      const allPartsMs = Math.max(...parts.map((p) => p.atMs));
      const inFunction = { indexMs: index.json.atMs as number, allPartsMs: Math.max(...parts.map((p) => p.json.atMs as number)) };
      return { indexMs: index.atMs, allPartsMs, ...services, serviceSumMs: services.ddbMs + services.slowestS3Ms, inFunction };
    };

    // Warm up both paths (connections, JIT, the bundle's lazy code), not recorded.
    for (let i = 0; i < warmup; i++) {
      await sequential(keys[i % keys.length]);
      await split(keys[i % keys.length]);
    }
    rig.ddbProxy.resetStats();
    rig.s3Server.resetStats();

    // Interleaved, same item for both, alternating which goes first.
    const a: ReadSample[] = [];
    const b: ReadSample[] = [];
    for (let i = 0; i < reads; i++) {
      const key = keys[i % keys.length];
      if (i % 2 === 0) {
        a.push(await sequential(key));
        b.push(await split(key));
      } else {
        b.push(await split(key));
        a.push(await sequential(key));
      }
    }

    const ddb = summarize([...a, ...b].map((s) => s.ddbMs));
    const s3 = summarize([...a, ...b].map((s) => s.slowestS3Ms));
    const row = (label: string, samples: ReadSample[]) => {
      const index = summarize(samples.map((s) => s.indexMs));
      const all = summarize(samples.map((s) => s.allPartsMs));
      return [label, String(samples.length), ms(index.p50), ms(index.p95), ms(all.p50), ms(all.p95)];
    };
    const num = (header: string) => ({ header, align: 'right' as const });
    const commandLine = COMMAND + (process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : '');

    console.log(machineHeader('Split read latency (SIMULATED: local emulators, injected latency)', commandLine));
    console.log(`- SIMULATION: DynamoDB Local behind a proxy adding ${latency.dynamodb.baseMs} ± ${latency.dynamodb.jitterMs} ms per request,`);
    console.log(`  the versioned S3 test server adding ${latency.s3.baseMs} ± ${latency.s3.jitterMs} ms per request (uniform jitter, seed ${latency.seed});`);
    console.log('  real AWS latencies have other distributions and longer tails');
    console.log(`- ${itemCount} items, each an index row + ${partCount} parts (${partNames.join(', ')}: 0.5 KiB, then ${partKb} KiB of JSON each);`);
    console.log(`  ${reads} reads per path after ${warmup} warm-up reads each, interleaved, same items; times in ms from the start of the read\n`);
    const fn = b.map((s) => s.inFunction!);
    console.log(renderTable(['read path', num('reads'), num('index row p50'), num('index row p95'), num('all parts p50'), num('all parts p95')], [
      row('(a) sequential: GetItem, then GetObject ×' + partCount, a),
      row('(b) split read through the reference Lambda (NDJSON)', b),
      row('(b) the same reads, as timed inside the function', fn.map((t) => ({ ...t, ddbMs: 0, slowestS3Ms: 0, serviceSumMs: 0 }))),
    ]));
    console.log('\n(a) is timed by the benchmark around its SDK calls; (b) from sending the Function URL event to each line\'s');
    console.log('arrival at the caller (emulated runtime: a child process, chunks over IPC); "inside the function" = the');
    console.log('atMs the reader writes on each line, from the start of its read to the event.');
    console.log('\nThe services\' own latency in the same run (server-side, per request, both paths):\n');
    console.log(renderTable(['service request', num('n'), num('p50'), num('p95')], [
      ['DynamoDB GetItem (proxy + DynamoDB Local)', String(ddb.n), ms(ddb.p50), ms(ddb.p95)],
      ['S3 GetObject, slowest part of each read', String(s3.n), ms(s3.p50), ms(s3.p95)],
    ]));

    const idxRatio = summarize(pairedRatios(b.map((s) => s.indexMs), b.map((s) => s.ddbMs)));
    const allRatio = summarize(pairedRatios(b.map((s) => s.allPartsMs), b.map((s) => s.slowestS3Ms)));
    const sumRatio = summarize(pairedRatios(b.map((s) => s.allPartsMs), b.map((s) => s.serviceSumMs)));
    const seqRatio = summarize(pairedRatios(a.map((s) => s.allPartsMs), a.map((s) => s.serviceSumMs)));
    const fnIdxRatio = summarize(pairedRatios(fn.map((t) => t.indexMs), b.map((s) => s.ddbMs)));
    const fnAllRatio = summarize(pairedRatios(fn.map((t) => t.allPartsMs), b.map((s) => s.slowestS3Ms)));
    const beyondS3 = summarize(b.map((s) => s.allPartsMs - s.slowestS3Ms));
    const ownDdb = summarize(b.map((s) => s.ddbMs));
    console.log('\nOverhead of each path over the services\' own latency, per read (1.00× = no overhead):\n');
    console.log(renderTable(['ratio', num('p50'), num('p95')], [
      ['(b) time to index row ÷ its DynamoDB GetItem', times(idxRatio.p50), times(idxRatio.p95)],
      ['(b) time to all parts ÷ its slowest S3 GetObject', times(allRatio.p50), times(allRatio.p95)],
      ['(b) time to all parts ÷ (its GetItem + its slowest GetObject)', times(sumRatio.p50), times(sumRatio.p95)],
      ['(a) total ÷ (its GetItem + its slowest GetObject)', times(seqRatio.p50), times(seqRatio.p95)],
      ['(b) inside the function: time to index row ÷ its GetItem', times(fnIdxRatio.p50), times(fnIdxRatio.p95)],
      ['(b) inside the function: time to all parts ÷ its slowest GetObject', times(fnAllRatio.p50), times(fnAllRatio.p95)],
    ]));
    console.log(`\n(b) time to all parts minus its slowest GetObject: p50 ${ms(beyondS3.p50)} ms, p95 ${ms(beyondS3.p95)} ms;`);
    console.log(`its GetItem took p50 ${ms(ownDdb.p50)} ms, p95 ${ms(ownDdb.p95)} ms (a read that waited for the row before S3 could not beat that).`);

    const aAll = summarize(a.map((s) => s.allPartsMs));
    const bIndex = summarize(b.map((s) => s.indexMs));
    const bAll = summarize(b.map((s) => s.allPartsMs));
    console.log('\nReading the numbers (p50):');
    console.log(`- the split read shows the index row after ${ms(bIndex.p50)} ms, ${Math.round((bIndex.p50 / aAll.p50) * 100)}% of the sequential read's total (${ms(aAll.p50)} ms)`);
    console.log(`- the split read has all parts after ${ms(bAll.p50)} ms: the slowest S3 request takes ${ms(s3.p50)} ms, DynamoDB + S3 in sequence ${ms(ddb.p50 + s3.p50)} ms`);
    console.log(`- S3 requests during the measured reads: ${rig.s3Server.count()} (GetObject ${rig.s3Server.count('GetObject')}), DynamoDB requests: ${rig.ddbProxy.count()}`);
  } finally {
    await lambda?.stop();
    await rig.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
