/**
 * `npm run demo`: the invoices example, end to end, on this machine. No AWS account.
 *
 * 1. synthesizes the example app (examples/invoices/app.ts) into a temporary cdk.out;
 * 2. starts DynamoDB Local and the project's versioned S3 test server on free loopback
 *    ports (plus a latency proxy in front of DynamoDB Local);
 * 3. creates the table and the bucket from the synthesized template's own properties;
 * 4. writes a few hundred generated invoices through the BUILT reference reader
 *    (assets/reader.lambda/index.js, in a local emulation of the Lambda streaming runtime);
 * 5. prints the first page of a customer's invoices (the list screen: index rows only);
 * 6. performs a streamed split read of one invoice with simulated network latency and prints
 *    when the index row and each part arrived;
 * 7. stops everything it started and removes its temporary directory, also on error or Ctrl-C.
 *
 * Run it with `npm run demo` (which bundles the Lambda first). It needs Java 17+ on the PATH
 * for DynamoDB Local, and nothing else beyond `npm install`. Options (environment):
 * DEMO_INVOICES (default 300), DEMO_SEED (default 42), DEMO_DYNAMODB_MS (5), DEMO_S3_MS (40).
 * Exit code 0 when the index row arrived before every part, 1 otherwise.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { BY_CUSTOMER_INDEX, generateInvoices, GeneratedInvoice, INVOICE_PARTS, InvoiceRow, partsPayload } from './invoices';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from '../../test/support/dynamodb-local';
import { FaultProxy } from '../../test/support/fault-proxy';
import { createStoreFromTemplate, StorePlan } from '../../test/support/from-template';
import { LambdaRuntime, ResponseLine } from '../../test/support/lambda-runtime';
import { VersionedS3Server } from '../../test/support/versioned-s3-server';

// The project supports Node.js 20; the SDK's notice about its own future Node.js floor
// is not news for someone running a demo.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const ROOT = path.resolve(__dirname, '..', '..');
const EXAMPLE = __dirname;
const STACK = 'InvoicesExample';
const READER_BUNDLE = path.join(ROOT, 'assets', 'reader.lambda', 'index.js');

const settings = {
  invoices: intSetting('DEMO_INVOICES', 300),
  seed: intSetting('DEMO_SEED', 42),
  dynamodbMs: intSetting('DEMO_DYNAMODB_MS', 5),
  s3Ms: intSetting('DEMO_S3_MS', 40),
  /** The reader's per-part S3 timeout (SPLIT_STORE_PART_TIMEOUT_MS); the test raises it out of reach of a loaded machine. */
  partTimeoutMs: intSetting('DEMO_PART_TIMEOUT_MS', 10_000),
  writers: 8,
  pageSize: 12,
};
const WARM_UP_READS = 3;
const REPEATED_READS = 20;

/** Things to undo, newest first: every start registers its stop here before anything else can fail. */
class Cleanup {
  private readonly steps: Array<{ what: () => string; run: () => Promise<void> | void }> = [];
  private running?: Promise<void>;

  public add(what: string | (() => string), run: () => Promise<void> | void): void {
    this.steps.push({ what: typeof what === 'string' ? () => what : what, run });
  }

  /**
   * Registers the stop of something still starting, before awaiting it: a Ctrl-C during a
   * start (DynamoDB Local takes seconds) still stops the child process once it is up.
   */
  public async starting<T>(what: (started?: T) => string, start: Promise<T>, stop: (started: T) => Promise<void>): Promise<T> {
    let started: T | undefined;
    this.add(() => what(started), async () => {
      const value = await start.catch(() => undefined);
      if (value !== undefined) await stop(value);
    });
    started = await start;
    return started;
  }

  /** Runs every step once, even if some fail; safe to call twice (Ctrl-C during cleanup). */
  public run(): Promise<void> {
    this.running ??= (async () => {
      while (this.steps.length > 0) {
        const next = this.steps.pop()!;
        try {
          await next.run();
          say(`  stopped: ${next.what()}`);
        } catch (e) {
          say(`  could not stop ${next.what()}: ${(e as Error).message}`);
        }
      }
    })();
    return this.running;
  }
}

async function main(cleanup: Cleanup): Promise<boolean> {
  const t0 = performance.now();
  heading('cdk-split-store demo: invoices, locally (no AWS account)');

  if (!fs.existsSync(READER_BUNDLE)) {
    throw new Error(`${path.relative(ROOT, READER_BUNDLE)} is missing: run \`npx projen bundle\` (\`npm run demo\` does it for you)`);
  }

  // ---- 1. synthesize the example ----
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'split-store-demo-'));
  cleanup.add(`temporary directory ${tmp} (removed)`, () => fs.rmSync(tmp, { recursive: true, force: true }));
  // Everything that asks for a temporary file from here on (cdk.out, the Lambda runtime's
  // compiled child script) gets it inside this directory, which goes at the end.
  process.env.TMPDIR = tmp;
  const templatePath = synthesize(path.join(tmp, 'cdk.out'));

  // ---- 2. local services ----
  step('Starting DynamoDB Local and the versioned S3 test server (loopback, free ports)');
  const dynamodbLocal = await cleanup.starting(d => `DynamoDB Local${d ? ` (pid ${d.pid})` : ''}`,
    startDynamoDbLocal(), d => d.stop());
  const dynamodbProxy = await cleanup.starting(() => 'DynamoDB latency proxy',
    FaultProxy.start({ target: dynamodbLocal.endpoint }), p => p.stop());
  const s3 = await cleanup.starting(() => 'versioned S3 test server', VersionedS3Server.start(), server => server.stop());
  say(`  DynamoDB Local      ${dynamodbLocal.endpoint} (pid ${dynamodbLocal.pid}), via latency proxy ${dynamodbProxy.endpoint}`);
  say(`  S3 (versioned)      ${s3.endpoint}`);

  // ---- 3. table and bucket from the template ----
  step('Creating the table and the bucket from the synthesized template');
  const clients = {
    dynamodb: new DynamoDBClient({ region: LOCAL_REGION, endpoint: dynamodbLocal.endpoint, credentials: LOCAL_CREDENTIALS }),
    s3: new S3Client({ region: LOCAL_REGION, endpoint: s3.endpoint, credentials: LOCAL_CREDENTIALS, forcePathStyle: true }),
  };
  cleanup.add('AWS SDK clients', () => {
    clients.dynamodb.destroy();
    clients.s3.destroy();
  });
  const plan = await createStoreFromTemplate(templatePath, clients, { namePrefix: 'invoices' });
  describePlan(plan);

  // ---- 4. the built reference reader, then the invoices ----
  step(`Loading the built reference reader (${path.relative(ROOT, READER_BUNDLE)}) in a local Lambda streaming runtime`);
  const reader = await cleanup.starting(r => `local Lambda runtime${r ? ` (pid ${r.pid})` : ''}`, LambdaRuntime.start({
    bundle: READER_BUNDLE,
    environment: { ...plan.environment, SPLIT_STORE_PART_TIMEOUT_MS: String(settings.partTimeoutMs) },
    timeoutMs: settings.partTimeoutMs + 20_000,
    endpoints: { dynamodb: dynamodbProxy.endpoint, s3: s3.endpoint },
    functionName: 'InvoicesExample-Reader',
  }), r => r.stop());
  say(`  cold start: module initialised in ${ms(reader.initMs)} (pid ${reader.pid})`);

  const invoices = generateInvoices(settings.invoices, { seed: settings.seed });
  await writeInvoices(reader, invoices, s3);

  // ---- 5. list screen ----
  const customer = invoices[0].row.customer;
  const page = await listPage(reader, customer, s3);

  // ---- 6. split read with simulated latency (7, the cleanup, runs in the caller) ----
  const shown = page[0] ?? invoices[0].row;
  const others = invoices.map(i => i.row).filter(r => r.id !== shown.id);
  const ok = await splitRead(reader, shown, others, dynamodbProxy, s3);

  heading(`Done in ${seconds(performance.now() - t0)}; stopping everything the demo started`);
  return ok;
}

/** Runs the example app the way `cdk synth` does (CDK_OUTDIR), and returns the template path. */
function synthesize(outdir: string): string {
  step('Synthesizing examples/invoices (the app imports \'cdk-split-store\' by name)');
  const started = performance.now();
  const result = spawnSync(process.execPath, [
    require.resolve('ts-node/dist/bin.js'), '--transpile-only', '--require', './register.js', 'app.ts',
  ], { cwd: EXAMPLE, env: { ...process.env, CDK_OUTDIR: outdir }, encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) {
    throw new Error(`synthesizing the example failed (exit ${result.status ?? result.signal}):\n${result.stderr}`);
  }
  const templatePath = path.join(outdir, `${STACK}.template.json`);
  const template = JSON.parse(fs.readFileSync(templatePath, 'utf8'));
  const types = Object.values<{ Type: string }>(template.Resources).map(r => r.Type);
  say(`  ${STACK}: ${types.length} resources in ${ms(performance.now() - started)} `
    + `(${count(types, 'AWS::DynamoDB::Table') + count(types, 'AWS::DynamoDB::GlobalTable')} table, `
    + `${count(types, 'AWS::S3::Bucket')} bucket, ${count(types, 'AWS::Lambda::Function')} functions)`);
  return templatePath;
}

function describePlan(plan: StorePlan): void {
  const table = plan.createTable;
  const keys = (schema: Array<{ AttributeName?: string; KeyType?: string }> = []) =>
    schema.map(k => `${k.AttributeName} (${k.KeyType === 'HASH' ? 'partition' : 'sort'})`).join(', ');
  say(`  table   ${plan.tableName}: key ${keys(table.KeySchema)}`);
  for (const index of table.GlobalSecondaryIndexes ?? []) {
    say(`          index ${index.IndexName}: ${keys(index.KeySchema)}`);
  }
  const rule = plan.lifecycleRules?.find(r => r.NoncurrentVersionExpiration);
  say(`  bucket  ${plan.bucketName}: versioning ${plan.versioning ?? 'off'}`
    + (rule ? `, noncurrent versions kept ${rule.NoncurrentVersionExpiration!.NoncurrentDays} days` : ''));
}

async function writeInvoices(reader: LambdaRuntime, invoices: GeneratedInvoice[], s3: VersionedS3Server): Promise<void> {
  step(`Writing ${invoices.length} generated invoices (seed ${settings.seed}) through the reader: PUT /items/{id}, ${settings.writers} at a time`);
  const started = performance.now();
  const putsBefore = s3.count('PutObject');
  let next = 0;
  let bytes = 0;
  const writer = async () => {
    while (next < invoices.length) {
      const invoice = invoices[next++];
      const { id, ...attributes } = invoice.row;
      const response = await reader.invokeUrl('PUT', `/items/${encodeURIComponent(id)}`, {
        body: { attributes, parts: partsPayload(invoice), create: true },
      });
      if (response.statusCode !== 201) {
        throw new Error(`PUT /items/${id} answered ${response.statusCode}: ${response.text}`);
      }
      bytes += INVOICE_PARTS.reduce((sum, name) => sum + invoice.parts[name].size, 0);
    }
  };
  await Promise.all(Array.from({ length: settings.writers }, writer));
  const elapsed = performance.now() - started;
  say(`  ${invoices.length} invoices, ${(bytes / 1024 / 1024).toFixed(1)} MiB of parts, in ${seconds(elapsed)} `
    + `(${Math.round(invoices.length / (elapsed / 1000))} items/s; ${s3.count('PutObject') - putsBefore} S3 PutObject)`);
}

async function listPage(reader: LambdaRuntime, customer: string, s3: VersionedS3Server): Promise<InvoiceRow[]> {
  const query = { index: BY_CUSTOMER_INDEX, pk: customer, order: 'desc', limit: String(settings.pageSize) };
  const route = `/items?${new URLSearchParams(query)}`;
  step(`The list screen: ${customer}'s invoices, newest first (GET ${route})`);
  const s3Before = s3.count();
  const response = await reader.invokeUrl('GET', '/items', { query });
  if (response.statusCode !== 200) throw new Error(`GET ${route} answered ${response.statusCode}: ${response.text}`);
  const elapsed = response.totalMs;
  const result = JSON.parse(response.text) as { items: Array<{ attributes: InvoiceRow }>; cursor?: string };
  const rows = result.items.map(item => item.attributes);
  printTable(rows);
  say(`  ${rows.length} rows in ${ms(elapsed)}, ${result.cursor ? 'more pages (cursor returned)' : 'last page'}; `
    + `S3 requests made by the list: ${s3.count() - s3Before} (index rows only)`);
  return rows;
}

function printTable(rows: InvoiceRow[]): void {
  const header = ['number', 'customer', 'issuedAt', 'total', 'status'];
  const cells = rows.map(r => [r.number, r.customer, r.issuedAt.replace('T', ' ').slice(0, 16), r.total.toFixed(2), r.status]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map(c => c[i].length)));
  const line = (values: string[]) => '  | ' + values.map((v, i) => (i === 3 ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join(' | ') + ' |';
  say(line(header));
  say('  |' + widths.map(w => '-'.repeat(w + 2)).join('|') + '|');
  cells.forEach(c => say(line(c)));
}

/** Arrival times of one split read, in ms since the request was sent. */
interface ReadTimeline {
  readonly indexMs?: number;
  readonly partsMs: number[];
  readonly partErrors: number;
}

function timeline(lines: ResponseLine[]): ReadTimeline {
  const index = lines.find(l => l.json?.type === 'index');
  return {
    indexMs: index?.atMs,
    partsMs: lines.filter(l => l.json?.type === 'part').map(l => l.atMs),
    partErrors: lines.filter(l => l.json?.type === 'part-error').length,
  };
}

/** The index row came before every part, and every part came. */
function indexFirst(t: ReadTimeline): boolean {
  return t.indexMs !== undefined && t.partErrors === 0 && t.partsMs.length === INVOICE_PARTS.length
    && t.partsMs.every(at => at >= t.indexMs!);
}

async function read(reader: LambdaRuntime, id: string): Promise<ResponseLine[]> {
  const response = await reader.invokeUrl('GET', `/items/${encodeURIComponent(id)}`);
  if (response.statusCode !== 200) throw new Error(`GET /items/${id} answered ${response.statusCode}: ${response.text}`);
  return response.lines;
}

async function splitRead(reader: LambdaRuntime, row: InvoiceRow, others: InvoiceRow[], proxy: FaultProxy, s3: VersionedS3Server): Promise<boolean> {
  step(`The invoice page: a streamed split read of ${row.number} (GET /items/${row.id}, all parts)`);
  say('  SIMULATED network latency, injected by the local servers (not a measurement of AWS):');
  say(`  DynamoDB ${settings.dynamodbMs} ms and S3 ${settings.s3Ms} ms per request (+/-20% jitter), on top of the emulators' own time`);
  proxy.setLatency({ default: settings.dynamodbMs, jitterMs: settings.dynamodbMs / 5, seed: settings.seed });
  s3.setLatency({ default: settings.s3Ms, jitterMs: settings.s3Ms / 5, seed: settings.seed });
  // A few reads first: the first requests pay for connections and JIT warm-up, which is not
  // what the demo is about.
  for (const other of others.slice(0, WARM_UP_READS)) await read(reader, other.id);

  const lines = await read(reader, row.id);
  say('');
  say('   arrived  line');
  for (const { json, atMs } of lines) {
    const at = `${atMs.toFixed(1).padStart(6)} ms`;
    switch (json?.type) {
      case 'index': {
        const a = json.row.attributes as InvoiceRow;
        say(`  ${at}  index row     ${a.number}  ${a.customer}  ${a.total.toFixed(2)}  ${a.status}  (revision ${json.row.revision})`);
        break;
      }
      case 'part':
        say(`  ${at}  part ${String(json.name).padEnd(12)} ${size(partBytes(json))}  ${json.contentType}`);
        break;
      case 'part-error':
        say(`  ${at}  part ${String(json.name).padEnd(12)} FAILED ${json.code}: ${json.message}`);
        break;
      case 'end':
        say(`  ${at}  end           (the reader's own timings: index ${json.timings.indexMs} ms, total ${json.timings.totalMs} ms)`);
        break;
      default:
        say(`  ${at}  ${lines.length ? JSON.stringify(json) : ''}`);
    }
  }
  say('  (ms since the request was sent, when the client received each NDJSON line)');
  const shown = timeline(lines);

  // The same read over other invoices: one timeline could be luck.
  const repeats: ReadTimeline[] = [];
  for (const other of others.slice(WARM_UP_READS, WARM_UP_READS + REPEATED_READS)) repeats.push(timeline(await read(reader, other.id)));
  const firstCount = repeats.filter(indexFirst).length;
  say('');
  say(`  ${repeats.length} more split reads of other invoices: index row p50 ${ms(median(repeats.map(t => t.indexMs ?? NaN)))}, `
    + `first part p50 ${ms(median(repeats.map(t => Math.min(...t.partsMs))))}, `
    + `last part p50 ${ms(median(repeats.map(t => Math.max(...t.partsMs))))}; index row first in ${firstCount} of ${repeats.length}`);

  const ok = indexFirst(shown) && firstCount === repeats.length;
  say('');
  if (ok) {
    say(`  The index row arrived first, ${ms(Math.min(...shown.partsMs) - shown.indexMs!)} before the first part: `
      + 'the page paints its header while the parts are on their way.');
  } else {
    say(`  UNEXPECTED: in some read the index row did not arrive before all ${INVOICE_PARTS.length} parts (see above).`);
  }
  return ok;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function partBytes(line: { encoding: string; body: string }): number {
  return line.encoding === 'base64' ? Buffer.from(line.body, 'base64').length : Buffer.byteLength(line.body);
}

// ---- output helpers ----

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}
function heading(text: string): void {
  say(`\n${text}\n${'='.repeat(text.length)}`);
}
function step(text: string): void {
  say(`\n> ${text}`);
}
function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}
function seconds(value: number): string {
  return `${(value / 1000).toFixed(1)} s`;
}
function size(bytes: number): string {
  return (bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`).padStart(9);
}
function count<T>(items: T[], item: T): number {
  return items.filter(i => i === item).length;
}
function intSetting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

// ---- entry point ----

if (require.main === module) {
  const cleanup = new Cleanup();
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    say(`\n${signal}: stopping everything the demo started`);
    void cleanup.run().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  main(cleanup)
    .then(async (ok) => {
      await cleanup.run();
      process.exit(ok ? 0 : 1);
    })
    .catch(async (e: Error) => {
      // After Ctrl-C, requests fail because their servers are going away: not worth a stack.
      if (!interrupted) say(`\ndemo failed: ${e.stack ?? e.message}`);
      await cleanup.run();
      process.exit(1);
    });
}
