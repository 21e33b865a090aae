/**
 * List latency, SIMULATED: 50-row pages of index rows through the BUILT reference Lambda
 * (`GET /items?limit=50&cursor=...`), against DynamoDB Local behind a latency proxy, and
 * the number of S3 requests the whole run made (the S3 server's own counters: a list of
 * index rows must never touch S3, so this must be 0).
 *
 *   npx ts-node --transpile-only --project bench/tsconfig.json bench/list.ts \
 *     [--pages=200] [--items=250] [--limit=50] [--ddb-ms=5] [--ddb-jitter-ms=2] [--s3-ms=40] [--s3-jitter-ms=15] [--seed=1]
 *
 * Every item has two parts in S3, so a list that fetched any part would show up in the
 * count. Nothing here is a test assertion.
 */
import { performance } from 'node:perf_hooks';
import { BenchArgs } from './lib/args';
import { machineHeader } from './lib/machine';
import { jsonBody, latencyFromArgs, startReader, startRig } from './lib/rig';
import { summarize } from './lib/stats';
import { ms, renderTable } from './lib/table';

const COMMAND = 'npx ts-node --transpile-only --project bench/tsconfig.json bench/list.ts';

async function main(): Promise<void> {
  const args = new BenchArgs();
  const pages = args.integer('pages', 200, 1);
  const itemCount = args.integer('items', 250, 1);
  const limit = args.integer('limit', 50, 1);
  const warmup = args.integer('warmup', 10, 0);
  const latency = latencyFromArgs(args);

  process.stderr.write('list bench: starting DynamoDB Local, the S3 server and the reader bundle...\n');
  const rig = await startRig();
  let lambda: Awaited<ReturnType<typeof startReader>> | undefined;
  try {
    lambda = await startReader(rig);
    const reader = lambda;
    for (let i = 0; i < itemCount; i++) {
      await rig.store.put({
        key: { id: `invoice-${String(i).padStart(5, '0')}` },
        attributes: { number: `INV-${i}`, customer: `customer-${i % 17}`, issuedAt: new Date(Date.UTC(2026, 0, 1 + (i % 28))).toISOString(), total: i * 10 },
        parts: { summary: { body: jsonBody(i, 512) }, lines: { body: jsonBody(i, 4096) } },
      });
    }
    rig.setLatency(latency);
    // Everything from here on counts: warm-up pages too.
    rig.s3Server.resetStats();
    rig.ddbProxy.resetStats();

    let cursor: string | undefined;
    let rows = 0;
    const page = async (): Promise<number> => {
      const t0 = performance.now();
      const response = await reader.invokeUrl('GET', '/items', { query: { limit: String(limit), ...(cursor ? { cursor } : {}) } });
      const elapsed = performance.now() - t0;
      if (response.statusCode !== 200) throw new Error(`list answered ${response.statusCode}: ${response.text}`);
      const result = JSON.parse(response.text) as { items: unknown[]; cursor?: string };
      rows += result.items.length;
      cursor = result.cursor;
      return elapsed;
    };

    for (let i = 0; i < warmup; i++) await page();
    const fullPages: number[] = [];
    const shortPages: number[] = [];
    const ddbBefore = rig.ddbProxy.count();
    const logFrom = rig.ddbProxy.log.length;
    rows = 0;
    while (fullPages.length < pages) {
      const before = rows;
      const elapsed = await page();
      // The last page of a sweep may hold fewer rows (or none: DynamoDB may return a
      // cursor before the end): kept apart so the table is about 50-row pages.
      (rows - before === limit ? fullPages : shortPages).push(elapsed);
    }
    const ddbRequests = rig.ddbProxy.count() - ddbBefore;
    const operations = Object.entries(rig.ddbProxy.requests).map(([op, n]) => `${op} ${n}`).join(', ');

    const stats = summarize(fullPages);
    const scans = summarize(rig.ddbProxy.log.slice(logFrom).filter((e) => e.operation === 'Scan' && e.endMs !== undefined).map((e) => e.endMs! - e.startMs));
    const num = (header: string) => ({ header, align: 'right' as const });
    const commandLine = COMMAND + (process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : '');
    console.log(machineHeader('List latency (SIMULATED: local emulators, injected latency)', commandLine));
    console.log(`- SIMULATION: DynamoDB Local behind a proxy adding ${latency.dynamodb.baseMs} ± ${latency.dynamodb.jitterMs} ms per request;`);
    console.log(`  the S3 server adds ${latency.s3.baseMs} ± ${latency.s3.jitterMs} ms to any request it gets (it should get none)`);
    console.log(`- ${itemCount} items (index row + 2 parts each), paged ${limit} rows at a time through the reference Lambda`);
    console.log(`  (\`GET /items?limit=${limit}&cursor=...\`, a Scan); ${warmup} warm-up pages, then ${pages} full pages timed, in ms\n`);
    console.log(renderTable([
      'list', num(`${limit}-row pages`), num('p50'), num('p95'),
      num('its Scan p50 (service)'), num('DynamoDB requests'), num('S3 requests (whole run)'),
    ], [[
      `${limit}-row page through the reference Lambda`, String(stats.n), ms(stats.p50), ms(stats.p95),
      ms(scans.p50), String(ddbRequests), String(rig.s3Server.count()),
    ]]));
    console.log(`\n- DynamoDB requests: of the timed loop (short pages included); by operation, warm-up included: ${operations || 'none'}`);
    console.log('- its Scan (service) = the Scan requests\' own duration at the DynamoDB proxy (injected latency + DynamoDB Local)');
    console.log(`- short pages (end of a sweep), not in the table: ${shortPages.length}`);
    console.log(`- S3 requests by operation during the run: ${JSON.stringify(rig.s3Server.requests)} (must be {})`);
  } finally {
    await lambda?.stop();
    await rig.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
