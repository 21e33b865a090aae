/**
 * What every end-to-end suite needs, in one call: DynamoDB Local and the versioned S3 test
 * server on loopback ports, SDK clients for them, and a SplitStore's table and bucket
 * created from the construct's own synthesized template (what would be deployed, never a
 * hand-written CreateTable), with the configuration the reader would get.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DynamoDbLocal, LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from './dynamodb-local';
import { CfnTemplate, createStoreFromTemplate, StorePlan } from './from-template';
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
}

/** The running servers, the clients, and the store created on them. */
export interface LocalStore {
  readonly ddb: DynamoDbLocal;
  readonly s3server: VersionedS3Server;
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

/** Starts both servers and creates a SplitStore's table and bucket on them from its template. */
export async function startLocalStore(options: LocalStoreOptions = {}): Promise<LocalStore> {
  const stack = new Stack(new App(), 'LocalStore');
  new SplitStore(stack, 'Store', { removalPolicy: RemovalPolicy.DESTROY, ...options.storeProps });
  const template = Template.fromStack(stack).toJSON();

  const [ddbStart, s3Start] = await Promise.allSettled([startDynamoDbLocal(), VersionedS3Server.start()]);
  if (ddbStart.status === 'rejected' || s3Start.status === 'rejected') {
    // Stop whichever did start, then report the failure.
    await Promise.all([
      ddbStart.status === 'fulfilled' ? ddbStart.value.stop() : undefined,
      s3Start.status === 'fulfilled' ? s3Start.value.stop() : undefined,
    ]);
    throw ddbStart.status === 'rejected' ? ddbStart.reason : (s3Start as PromiseRejectedResult).reason;
  }
  const ddb = ddbStart.value;
  const s3server = s3Start.value;
  const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: options.maxAttempts };
  const dynamodb = new DynamoDBClient({ ...common, endpoint: ddb.endpoint });
  const s3 = new S3Client({ ...common, endpoint: s3server.endpoint, forcePathStyle: true });
  const stop = async () => {
    dynamodb.destroy();
    s3.destroy();
    await Promise.all([ddb.stop(), s3server.stop()]);
  };
  try {
    const plan = await createStoreFromTemplate(template, { dynamodb, s3 }, { namePrefix: options.namePrefix ?? 'local' });
    return { ddb, s3server, dynamodb, s3, plan, template, config: configFromEnv(plan.environment), stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
