/**
 * The local rig of the read and list benchmarks: DynamoDB Local behind a latency proxy,
 * the versioned S3 test server, a default SplitStore's table and bucket created from its
 * synthesized template, and the BUILT reference reader bundle (assets/reader.lambda)
 * running in the Lambda streaming emulation, with the environment the template gives it.
 *
 * Everything listens on 127.0.0.1; `stop()` ends every server and process it started.
 * The servers come from test/support/ (the e2e tests use the same ones).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { BenchArgs } from './args';
import { ROOT } from './bundles';
import { SplitStore } from '../../src';
import { configFromEnv, StoreConfig } from '../../src/runtime/config';
import { SplitStoreClient } from '../../src/runtime/store';
import { startDynamoDbLocal, LOCAL_CREDENTIALS, LOCAL_REGION, DynamoDbLocal } from '../../test/support/dynamodb-local';
import { FaultProxy } from '../../test/support/fault-proxy';
import { createStoreFromTemplate } from '../../test/support/from-template';
import { LambdaRuntime } from '../../test/support/lambda-runtime';
import { VersionedS3Server } from '../../test/support/versioned-s3-server';

/** Injected latency of one service: a base and a uniform jitter (± jitterMs), in ms. */
export interface ServiceLatency {
  readonly baseMs: number;
  readonly jitterMs: number;
}

/** The injected latencies of a run. */
export interface RigLatency {
  readonly dynamodb: ServiceLatency;
  readonly s3: ServiceLatency;
  /** PRNG seed of the jitter. */
  readonly seed: number;
}

/**
 * The injected latency from the command line (or BENCH_* variables): the defaults the
 * issue names, DynamoDB about 5 ms and S3 about 40 ms, with jitter.
 */
export function latencyFromArgs(args: BenchArgs): RigLatency {
  return {
    dynamodb: { baseMs: args.number('ddb-ms', 5), jitterMs: args.number('ddb-jitter-ms', 2) },
    s3: { baseMs: args.number('s3-ms', 40), jitterMs: args.number('s3-jitter-ms', 15) },
    seed: args.integer('seed', 1, 0),
  };
}

/** A running rig. */
export interface Rig {
  readonly s3Server: VersionedS3Server;
  readonly ddbProxy: FaultProxy;
  /** Clients of the benchmark process itself, through the proxy (DynamoDB) and to the S3 server. */
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  /** The store's configuration, from the environment the template gives the reader. */
  readonly config: StoreConfig;
  /** The environment of the reader Lambda (template's variables + local endpoints). */
  readonly lambdaEnvironment: Record<string, string>;
  /** A store client for seeding (not measured). */
  readonly store: SplitStoreClient;
  /** Applies the injected latencies to both services (0 = none). */
  setLatency(latency: RigLatency | undefined): void;
  /** Stops everything the rig started. */
  stop(): Promise<void>;
}

/** Starts the rig; on failure, stops whatever had started. */
export async function startRig(): Promise<Rig> {
  for (const asset of ['reader.lambda']) {
    if (!fs.existsSync(path.join(ROOT, 'assets', asset, 'index.js'))) {
      throw new Error(`assets/${asset}/index.js is missing: run \`npx projen bundle\` first`);
    }
  }
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    const ddbLocal: DynamoDbLocal = await startDynamoDbLocal();
    stops.push(() => ddbLocal.stop());
    const ddbProxy = await FaultProxy.start({ target: ddbLocal.endpoint });
    stops.push(() => ddbProxy.stop());
    const s3Server = await VersionedS3Server.start();
    stops.push(() => s3Server.stop());

    const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
    const dynamodb = new DynamoDBClient({ ...common, endpoint: ddbProxy.endpoint });
    const s3 = new S3Client({ ...common, endpoint: s3Server.endpoint, forcePathStyle: true });
    stops.push(async () => {
      dynamodb.destroy();
      s3.destroy();
    });

    // A default store, as users get it, synthesized; its table and bucket created from the template.
    const app = new App();
    const stack = new Stack(app, 'Bench', { env: { account: '111111111111', region: LOCAL_REGION } });
    new SplitStore(stack, 'Store');
    const plan = await createStoreFromTemplate(Template.fromStack(stack).toJSON(), { dynamodb, s3 }, { namePrefix: 'bench' });

    const lambdaEnvironment: Record<string, string> = {
      ...plan.environment,
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: ddbProxy.endpoint,
      AWS_ENDPOINT_URL_S3: s3Server.endpoint,
      AWS_S3_FORCE_PATH_STYLE: '1',
    };
    const config = configFromEnv(lambdaEnvironment);
    const store = new SplitStoreClient({ config, dynamodb, s3, log: () => undefined });

    return {
      s3Server,
      ddbProxy,
      dynamodb,
      s3,
      config,
      lambdaEnvironment,
      store,
      setLatency(latency) {
        ddbProxy.setLatency(latency ? { default: latency.dynamodb.baseMs, jitterMs: latency.dynamodb.jitterMs, seed: latency.seed } : {});
        s3Server.setLatency(latency ? { default: latency.s3.baseMs, jitterMs: latency.s3.jitterMs, seed: latency.seed + 1 } : {});
      },
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/**
 * Starts the BUILT reader bundle (assets/reader.lambda/index.js) in the Lambda streaming
 * emulation (its own Node.js process), with the environment the template gives it and the
 * rig's endpoints. Its JSON logs are kept in `logs`, not printed.
 */
export async function startReader(rig: Rig): Promise<LambdaRuntime> {
  return LambdaRuntime.start({
    bundle: path.join(ROOT, 'assets', 'reader.lambda'),
    environment: rig.lambdaEnvironment,
    endpoints: { dynamodb: rig.ddbProxy.endpoint, s3: rig.s3Server.endpoint },
    functionName: 'bench-reader',
  });
}

/** A deterministic JSON document of about `bytes` bytes (an invoice's lines), for part bodies. */
export function jsonBody(itemIndex: number, bytes: number): string {
  const lines: object[] = [];
  let size = 20;
  for (let i = 0; size < bytes; i++) {
    const line = { sku: `SKU-${itemIndex}-${i}`, description: `item ${i} of invoice ${itemIndex}`, quantity: (i % 7) + 1, unitPrice: ((i * 37) % 1000) / 10 };
    size += JSON.stringify(line).length + 1;
    lines.push(line);
  }
  return JSON.stringify({ invoice: itemIndex, lines });
}
