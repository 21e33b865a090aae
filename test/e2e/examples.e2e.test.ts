/**
 * The invoices example end to end on this machine: `npm run demo` itself, and the integ
 * tests' reader assertions replayed against the built reader on the local servers.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { Match, Matcher } from 'aws-cdk-lib/assertions';
import { INVOICE_PARTS } from '../../examples/invoices/invoices';
import { DynamoDbLocal, LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from '../support/dynamodb-local';
import { createStoreFromTemplate } from '../support/from-template';
import { LambdaRuntime } from '../support/lambda-runtime';
import { OUT_OF_REACH_MS } from '../support/local-store';
import { isRunning } from '../support/server-process';
import { VersionedS3Server } from '../support/versioned-s3-server';

const ROOT = path.resolve(__dirname, '..', '..');
const EXAMPLE = path.join(ROOT, 'examples', 'invoices');
const READER_BUNDLE = path.join(ROOT, 'assets', 'reader.lambda', 'index.js');
const TS_NODE = require.resolve('ts-node/dist/bin.js');

describe('examples/invoices: npm run demo', () => {
  test('writes the invoices, prints a list page and a split read with the index row first, and leaves nothing behind', () => {
    // WHEN: the demo script itself (the `demo` task bundles first; jest runs after the bundle)
    const result = spawnSync(process.execPath, [TS_NODE, '--transpile-only', path.join(EXAMPLE, 'demo.ts')], {
      cwd: ROOT,
      // The reader's part timeout out of reach: on a loaded machine the demo gets slower, it
      // must not turn slowness into part errors (and so into exit 1).
      env: { ...process.env, DEMO_INVOICES: '40', DEMO_SEED: '7', DEMO_PART_TIMEOUT_MS: String(OUT_OF_REACH_MS) },
      encoding: 'utf8',
    });

    // THEN
    const out = result.stdout;
    expect(result.stderr).not.toMatch(/error|failed/i);
    expect(result.status).toBe(0);
    expect(out).toMatch(/40 invoices, .* \(.*120 S3 PutObject\)/);
    expect(out).toMatch(/\| number +\| customer +\| issuedAt +\| +total \| status +\|/);
    expect(out).toContain('S3 requests made by the list: 0 (index rows only)');
    expect(out).toMatch(/index row +INV-/);
    for (const part of INVOICE_PARTS) expect(out).toMatch(new RegExp(`part ${part} `));
    expect(out).toMatch(/index row first in 20 of 20/);
    expect(out).toContain('The index row arrived first');
    // everything it started is gone
    const tmp = /temporary directory (\S+) \(removed\)/.exec(out)?.[1];
    expect(tmp).toBeDefined();
    expect(fs.existsSync(tmp!)).toBe(false);
    const pids = [...out.matchAll(/stopped: .*\(pid (\d+)\)/g)].map(m => Number(m[1]));
    expect(pids.length).toBe(2); // DynamoDB Local and the Lambda runtime
    for (const pid of pids) expect(isRunning(pid)).toBe(false);
  });
});

/**
 * The integ tests can only run their assertions in an AWS account. Their reader assertions
 * are replayed here, in order, against the built reader on the local emulators, with
 * integ-tests-alpha's own encoded expectations, so a wrong expectation fails in CI and not
 * first in a maintainer's account.
 */
describe.each(['integ.default-store.ts', 'integ.invoices.ts'])('test/%s: reader assertions replayed locally', (file) => {
  let outdir: string;
  let dynamodb: DynamoDbLocal;
  let s3: VersionedS3Server;
  let reader: LambdaRuntime;
  let clients: { dynamodb: DynamoDBClient; s3: S3Client };

  beforeAll(async () => {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'integ-replay-'));
    const result = spawnSync(process.execPath, [
      '-r', 'ts-node/register/transpile-only', '-r', './examples/invoices/register.js', path.join('test', file),
    ], { cwd: ROOT, env: { ...process.env, CDK_OUTDIR: outdir }, encoding: 'utf8', timeout: 120_000 });
    if (result.status !== 0) throw new Error(`synthesizing ${file} failed:\n${result.stderr}`);
    [dynamodb, s3] = await Promise.all([startDynamoDbLocal(), VersionedS3Server.start()]);
    clients = {
      dynamodb: new DynamoDBClient({ region: LOCAL_REGION, endpoint: dynamodb.endpoint, credentials: LOCAL_CREDENTIALS }),
      s3: new S3Client({ region: LOCAL_REGION, endpoint: s3.endpoint, credentials: LOCAL_CREDENTIALS, forcePathStyle: true }),
    };
    const plan = await createStoreFromTemplate(path.join(outdir, `${testStackName()}.template.json`), clients);
    reader = await LambdaRuntime.start({
      bundle: READER_BUNDLE,
      environment: plan.environment,
      endpoints: { dynamodb: dynamodb.endpoint, s3: s3.endpoint },
    });
  });

  afterAll(async () => {
    await reader?.stop();
    clients?.dynamodb.destroy();
    clients?.s3.destroy();
    await s3?.stop();
    await dynamodb?.stop();
    fs.rmSync(outdir, { recursive: true, force: true });
  });

  function testStackName(): string {
    const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'integ.json'), 'utf8'));
    const [testCase] = Object.values<{ stacks: string[] }>(manifest.testCases);
    return testCase.stacks[0];
  }

  test('every invokeFunction assertion, in its next() order, gets the payload it expects', async () => {
    // GIVEN: the assertion stack's Lambda invocations, ordered by their DependsOn chain
    const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'integ.json'), 'utf8'));
    const [testCase] = Object.values<{ assertionStackName: string }>(manifest.testCases);
    const template = JSON.parse(fs.readFileSync(path.join(outdir, `${testCase.assertionStackName}.template.json`), 'utf8'));
    const invocations = inDependencyOrder(Object.entries<any>(template.Resources)
      .filter(([, r]) => r.Type === 'Custom::DeployAssert@SdkCallLambdainvoke'));
    expect(invocations.length).toBeGreaterThanOrEqual(5);

    for (const [id, resource] of invocations) {
      // WHEN: the payload the custom resource sends (parameters are JSON-encoded once more)
      const event = JSON.parse(JSON.parse(resource.Properties.parameters.Payload));
      const raw = await reader.invokeRaw(event);
      expect(raw.error).toBeUndefined();
      const payload = Buffer.concat(raw.chunks.map(c => c.data)).toString('utf8');

      // THEN: the expectation integ-runner would check in the account
      const matcher = decodeExpectation(JSON.parse(resource.Properties.expected));
      const match = matcher.test({ StatusCode: 200, Payload: payload });
      if (match.hasFailed()) {
        throw new Error(`${id} (${event.operation}) does not match its expectation:\n${match.renderMismatch()}\npayload: ${payload.slice(0, 600)}`);
      }
    }
  });
});

/** integ-tests-alpha's encoded matchers ($ObjectLike, ...) as aws-cdk-lib/assertions matchers. */
function decodeExpectation(encoded: unknown): Matcher {
  const decoded = JSON.parse(JSON.stringify(encoded), (_key, value) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    const [kind] = Object.keys(value);
    switch (kind) {
      case '$ObjectLike': return Match.objectLike(value[kind]);
      case '$ArrayWith': return Match.arrayWith(value[kind]);
      case '$StringLike': return Match.stringLikeRegexp(value[kind]);
      case '$SerializedJson': return Match.serializedJson(value[kind]);
      default: return value;
    }
  });
  return Matcher.isMatcher(decoded) ? decoded : Match.exact(decoded);
}

/** Orders resources so that each comes after the resources it DependsOn. */
function inDependencyOrder(resources: Array<[string, any]>): Array<[string, any]> {
  const ids = new Set(resources.map(([id]) => id));
  const done = new Set<string>();
  const ordered: Array<[string, any]> = [];
  while (ordered.length < resources.length) {
    const ready = resources.filter(([id, r]) => !done.has(id)
      && ((r.DependsOn ?? []) as string[]).every(dep => !ids.has(dep) || done.has(dep)));
    if (ready.length === 0) throw new Error('the invocations depend on each other in a cycle');
    for (const [id, r] of ready) {
      done.add(id);
      ordered.push([id, r]);
    }
  }
  return ordered;
}
