/**
 * Cold start: for each Lambda asset, its size and its module initialisation time in a
 * fresh Node.js process, for the AWS SDK bundled + minified (the project's default)
 * versus the SDK left external and loaded from node_modules (what the Lambda Node.js
 * runtime offers with its built-in SDK), plus the bundled build without minification.
 *
 *   npx ts-node --transpile-only --project bench/tsconfig.json bench/cold-start.ts [--runs=60]
 *
 * Every run spawns `node -e`, stubs the `awslambda` global the Lambda runtime defines,
 * and records process.hrtime around `require()` of the bundle ("init"), then calls the
 * handler once against a closed loopback port ("first call": the SDK's lazily loaded
 * code — credential chain, HTTP handler, signer — runs on the first request, which on
 * Lambda is still inside the cold start). The reader's first call is a split read of one
 * part (GetObject and GetItem, so both clients run); the reconciler's, one SQS record. Runs of the variants are interleaved so they
 * share the machine's noise. Nothing here is a test assertion.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { BenchArgs } from './lib/args';
import { buildVariant, lambdaBundleTasks, ROOT, VARIANTS } from './lib/bundles';
import { machineHeader } from './lib/machine';
import { bootstrapInterval, median, percentile } from './lib/stats';
import { bytes, ms, renderTable } from './lib/table';

const COMMAND = 'npx ts-node --transpile-only --project bench/tsconfig.json bench/cold-start.ts';

/** The child program: argv[1] = bundle path, argv[2] = asset name. Prints one JSON line. */
const CHILD = String.raw`
const { Writable } = require('node:stream');
globalThis.awslambda = {
  streamifyResponse: (fn) => fn,
  HttpResponseStream: { from: (stream) => stream },
};
const [file, asset] = process.argv.slice(1);
const t0 = process.hrtime.bigint();
const mod = require(file);
const t1 = process.hrtime.bigint();
const sink = () => new Writable({ write(_chunk, _enc, cb) { cb(); } });
const context = { awsRequestId: 'bench', getRemainingTimeInMillis: () => 30000, functionName: asset };
const event = asset.startsWith('reconciler')
  ? { Records: [{ messageId: 'm1', body: JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put',
      s3: { bucket: { name: 'bench-bucket' }, object: { key: 'items/bench-1/summary', versionId: 'v1' } } }] }) }] }
  : { version: '2.0', rawPath: '/items/bench-1', rawQueryString: 'parts=summary', queryStringParameters: { parts: 'summary' },
      headers: {}, isBase64Encoded: false,
      requestContext: { http: { method: 'GET', path: '/items/bench-1' } } };
const done = (ok, error) => {
  const t2 = process.hrtime.bigint();
  process.stdout.write(JSON.stringify({ initMs: Number(t1 - t0) / 1e6, firstCallMs: Number(t2 - t1) / 1e6, ok, error }) + '\n');
  process.exit(0);
};
Promise.resolve()
  .then(() => mod.handler(event, sink(), context))
  .then(() => done(true), (e) => done(false, String(e && e.message || e)));
`;

interface RunResult {
  readonly initMs: number;
  readonly firstCallMs: number;
  readonly ok: boolean;
  readonly error?: string;
}

function runOnce(file: string, asset: string, env: NodeJS.ProcessEnv, cwd: string): RunResult {
  const child = spawnSync(process.execPath, ['-e', CHILD, file, asset], { env, cwd, encoding: 'utf8', timeout: 60_000 });
  const line = child.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as RunResult;
  } catch {
    throw new Error(`cold-start child for ${file} printed no result (exit ${child.status}):\n${child.stderr}`);
  }
}

function main(): void {
  const args = new BenchArgs();
  const runs = args.integer('runs', 60, 1);
  const tasks = lambdaBundleTasks();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'split-store-cold-start-'));
  // A closed loopback port: requests fail at once with ECONNREFUSED, never leave the machine.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    NODE_PATH: path.join(ROOT, 'node_modules'),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_MAX_ATTEMPTS: '1',
    AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9',
    AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
    AWS_S3_FORCE_PATH_STYLE: '1',
    AWS_NODEJS_CONNECTION_REUSE_ENABLED: '1',
    SPLIT_STORE_TABLE_NAME: 'bench-table',
    SPLIT_STORE_BUCKET_NAME: 'bench-bucket',
    SPLIT_STORE_KEY_PREFIX: 'items/',
    SPLIT_STORE_PARTITION_KEY: 'id',
    SPLIT_STORE_PARTITION_KEY_TYPE: 'S',
  };
  try {
    const builds = tasks.flatMap((task) => VARIANTS.map((variant) => {
      const file = buildVariant(task, variant, work);
      const size = fs.statSync(file).size;
      return { task, variant, file, size, deflated: zlib.deflateRawSync(fs.readFileSync(file), { level: 9 }).length };
    }));
    const init = new Map(builds.map((b) => [b.file, [] as number[]]));
    const first = new Map(builds.map((b) => [b.file, [] as number[]]));
    const errors = new Map<string, string>();

    // Warm the file system cache once per build, then interleave: every round runs every
    // build once, in a rotated order, so no build always goes first after a pause.
    for (const b of builds) runOnce(b.file, b.task.name, env, work);
    for (let round = 0; round < runs; round++) {
      for (let i = 0; i < builds.length; i++) {
        const b = builds[(i + round) % builds.length];
        const result = runOnce(b.file, b.task.name, env, work);
        init.get(b.file)!.push(result.initMs);
        first.get(b.file)!.push(result.firstCallMs);
        if (!result.ok && result.error) errors.set(`${b.task.name} (${b.variant.id})`, result.error);
      }
    }

    const rows = builds.map((b) => {
      const initSamples = init.get(b.file)!;
      const firstSamples = first.get(b.file)!;
      const total = initSamples.map((v, i) => v + firstSamples[i]);
      return [
        b.task.name, b.variant.label, bytes(b.size), bytes(b.deflated),
        ms(median(initSamples)), ms(percentile(initSamples, 95)), ms(median(firstSamples)), ms(median(total)),
      ];
    });
    console.log(machineHeader('Cold start: Lambda asset size and module initialisation', COMMAND + (process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : '')));
    console.log(`- ${runs} fresh \`node\` processes per build (after one warm-up each), interleaved; times in ms`);
    console.log('- init = `require()` of the bundle (module-scope code included); first call = the handler\'s first');
    console.log('  invocation against a closed loopback port (the SDK\'s lazily loaded code; the request itself fails at once)');
    console.log('- deflated = size after DEFLATE level 9, close to what the Lambda zip package weighs\n');
    console.log(renderTable([
      'asset', 'build', { header: 'size', align: 'right' }, { header: 'deflated', align: 'right' },
      { header: 'init p50', align: 'right' }, { header: 'init p95', align: 'right' },
      { header: 'first call p50', align: 'right' }, { header: 'init + first call p50', align: 'right' },
    ], rows));

    console.log('\nPaired per round (the two builds ran in the same round), external minus bundled+minified,');
    console.log('init + first call; median with a 95% bootstrap interval (an interval containing 0 = no measurable difference):\n');
    const verdicts: string[][] = [];
    let externalClearlyFaster = true;
    for (const task of tasks) {
      const ofTask = builds.filter((b) => b.task === task);
      const total = (b: typeof builds[number]) => init.get(b.file)!.map((v, i) => v + first.get(b.file)![i]);
      const bundled = total(ofTask.find((b) => b.variant.id === 'bundled-minified')!);
      const external = total(ofTask.find((b) => b.variant.id === 'external-minified')!);
      const diff = bootstrapInterval(external.map((v, i) => v - bundled[i]));
      const verdict = diff.high < 0 ? 'SDK external is faster' : diff.low > 0 ? 'SDK bundled + minified is faster' : 'no measurable difference';
      verdicts.push([task.name, ms(median(bundled)), ms(median(external)), `${ms(diff.estimate)} [${ms(diff.low)}, ${ms(diff.high)}]`, verdict]);
      // Practically faster: the whole interval below -10% of the bundled build's median.
      if (!(diff.high < -0.1 * median(bundled))) externalClearlyFaster = false;
    }
    console.log(renderTable([
      'asset', { header: 'bundled+minified p50', align: 'right' }, { header: 'external p50', align: 'right' },
      { header: 'external − bundled, ms [95% CI]', align: 'right' }, 'verdict',
    ], verdicts));
    console.log(`\nRecommended default: ${externalClearlyFaster
      ? 'SDK external: it is faster by more than 10% for every asset, beyond the noise.'
      : 'SDK bundled + minified: the external SDK is not faster by more than 10% (beyond the noise) for every asset,'
        + ' so the bundle keeps the SDK version the tests ran against.'}`);
    for (const [build, error] of errors) {
      console.log(`- warning: the first call of ${build} threw "${error}": its "first call" time is not a request's`);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main();
