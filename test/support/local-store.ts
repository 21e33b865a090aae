/**
 * What every end-to-end suite needs, in one call: DynamoDB Local and an S3 server with
 * versioning (the project's versioned S3 test server, or moto) on loopback ports, SDK
 * clients for them, and a SplitStore's table and bucket created from the construct's own
 * synthesized template (what would be deployed, never a hand-written CreateTable), with the
 * configuration the reader would get.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DynamoDbLocal, LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from './dynamodb-local';
import { CfnTemplate, createStoreFromTemplate, StorePlan } from './from-template';
import { startMoto } from './moto';
import { VersionedS3Server } from './versioned-s3-server';
import { SplitStore, SplitStoreProps } from '../../src';
import { configFromEnv, StoreConfig } from '../../src/runtime/config';

/** Options of {@link startLocalStore}. */
export interface LocalStoreOptions {
  /** Props of the synthesized SplitStore (its removal policy is DESTROY). @default a default store */
  readonly storeProps?: SplitStoreProps;
  /** Prefix of the generated table and bucket names. @default 'local' */
  readonly namePrefix?: string;
  /** SDK attempts per request (1 = no retries, so injected faults surface at once). @default the SDK's default */
  readonly maxAttempts?: number;
  /**
   * The S3 server: 'versioned' is the project's versioned S3 test server (in process, with
   * latency, held requests, injected failures and a request log); 'moto' is moto in server
   * mode (a third party's S3, no instrumentation). @default 'versioned'
   */
  readonly s3Server?: LocalS3Server;
}

/**
 * The product's wall-clock guards (a split read's per-part timeout, a writer's deadline, the
 * function timeout) set out of reach, for suites about correctness: on a loaded machine a
 * slow answer must make such a test slower, never turn into a part error or a 503. (Tests
 * of the guards themselves set their own values, with fake timers.)
 */
export const OUT_OF_REACH_MS = 600_000;

/** {@link OUT_OF_REACH_MS} as the reader's environment sets it. */
export const PATIENT_READER_ENVIRONMENT: Readonly<Record<string, string>> = {
  SPLIT_STORE_PART_TIMEOUT_MS: String(OUT_OF_REACH_MS),
  SPLIT_STORE_WRITER_DEADLINE_MS: String(OUT_OF_REACH_MS),
};

/** The S3 servers a local store can run on. */
export type LocalS3Server = 'versioned' | 'moto';

/** Both, for suites that run against each: `describe.each(LOCAL_S3_SERVERS)`. */
export const LOCAL_S3_SERVERS: readonly LocalS3Server[] = ['versioned', 'moto'];

/** The running servers, the clients, and the store created on them. */
export interface LocalStore {
  readonly ddb: DynamoDbLocal;
  /** The versioned S3 test server and its instrumentation; undefined on moto. */
  readonly s3server?: VersionedS3Server;
  /** The S3 endpoint, `http://127.0.0.1:<port>`. */
  readonly s3Endpoint: string;
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  /** Table, bucket and reader environment, with the local names. */
  readonly plan: StorePlan;
  /** The synthesized template, to create more stores on the same servers (`createStoreFromTemplate`). */
  readonly template: CfnTemplate;
  /** The reader's environment, parsed: what SplitStoreClient needs. */
  readonly config: StoreConfig;
  /** Destroys the clients and stops both servers. */
  stop(): Promise<void>;
}

/** A local store on the versioned S3 test server: its instrumentation is there. */
export type VersionedLocalStore = LocalStore & { readonly s3server: VersionedS3Server };

/** Starts both servers and creates a SplitStore's table and bucket on them from its template. */
export async function startLocalStore(options?: LocalStoreOptions & { readonly s3Server?: 'versioned' }): Promise<VersionedLocalStore>;
export async function startLocalStore(options: LocalStoreOptions): Promise<LocalStore>;
export async function startLocalStore(options: LocalStoreOptions = {}): Promise<LocalStore> {
  const stack = new Stack(new App(), 'LocalStore');
  new SplitStore(stack, 'Store', { removalPolicy: RemovalPolicy.DESTROY, ...options.storeProps });
  const template = Template.fromStack(stack).toJSON();

  const startS3 = options.s3Server === 'moto' ? startMoto : () => VersionedS3Server.start();
  const [ddbStart, s3Start] = await Promise.allSettled([startDynamoDbLocal(), startS3()]);
  if (ddbStart.status === 'rejected' || s3Start.status === 'rejected') {
    // Stop whichever did start, then report the failure.
    await Promise.all([
      ddbStart.status === 'fulfilled' ? ddbStart.value.stop() : undefined,
      s3Start.status === 'fulfilled' ? s3Start.value.stop() : undefined,
    ]);
    throw ddbStart.status === 'rejected' ? ddbStart.reason : (s3Start as PromiseRejectedResult).reason;
  }
  const ddb = ddbStart.value;
  const s3Running = s3Start.value;
  const s3server = s3Running instanceof VersionedS3Server ? s3Running : undefined;
  const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: options.maxAttempts };
  const dynamodb = new DynamoDBClient({ ...common, endpoint: ddb.endpoint });
  const s3 = new S3Client({ ...common, endpoint: s3Running.endpoint, forcePathStyle: true });
  const stop = async () => {
    dynamodb.destroy();
    s3.destroy();
    await Promise.all([ddb.stop(), s3Running.stop()]);
  };
  try {
    const plan = await createStoreFromTemplate(template, { dynamodb, s3 }, { namePrefix: options.namePrefix ?? 'local' });
    return { ddb, s3server, s3Endpoint: s3Running.endpoint, dynamodb, s3, plan, template, config: configFromEnv(plan.environment), stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
