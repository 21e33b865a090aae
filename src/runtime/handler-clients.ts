/**
 * AWS SDK clients for the Lambda entry points, built once per execution environment (module
 * scope in the entry file) and reused across invocations.
 *
 * Endpoints: the SDK itself honours AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_S3 and
 * AWS_ENDPOINT_URL (checked in @smithy/core's getEndpointUrlConfig). Local S3 servers need
 * path-style addressing, so it is switched on when an S3 endpoint override is set or when
 * AWS_S3_FORCE_PATH_STYLE=1 (or true). In Lambda none of these are set.
 *
 * No CDK import here: this module is bundled into the Lambda assets.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';

/** The clients a store needs. */
export interface SdkClients {
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
}

/** True when S3 must be addressed path-style (local S3 servers). */
export function s3ForcePathStyle(env: Record<string, string | undefined> = process.env): boolean {
  const flag = env.AWS_S3_FORCE_PATH_STYLE?.toLowerCase();
  if (flag === '1' || flag === 'true') return true;
  if (flag === '0' || flag === 'false') return false;
  return Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL);
}

/** Builds the DynamoDB and S3 clients from the environment. */
export function sdkClientsFromEnv(env: Record<string, string | undefined> = process.env): SdkClients {
  return {
    dynamodb: new DynamoDBClient({}),
    s3: new S3Client({ forcePathStyle: s3ForcePathStyle(env) }),
  };
}
