/**
 * Creates a store's table and bucket on the local emulators from a synthesized
 * CloudFormation template's own properties, so e2e tests exercise what is deployed (key
 * schema, indexes, TTL, versioning, lifecycle), not a hand-written copy of it.
 *
 * Also resolves the environment the construct gives its Lambda functions (`Ref` and
 * `Fn::GetAtt` of the table and bucket become the local names), so an emulated Lambda gets
 * exactly the variables the template sets.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import {
  AttributeDefinition,
  CreateTableCommand,
  CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
  GlobalSecondaryIndex,
  KeySchemaElement,
  LocalSecondaryIndex,
  Projection,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  BucketVersioningStatus,
  CreateBucketCommand,
  LifecycleRule,
  LifecycleRuleFilter,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { waitFor } from './ports';

/** A CloudFormation template as JSON (`Template.fromStack(stack).toJSON()`, or a cdk.out file). */
export interface CfnTemplate {
  readonly Resources?: Record<string, CfnResource>;
}

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, any>;
}

/** The account id local ARNs are built with. */
export const LOCAL_ACCOUNT = '000000000000';

/** What to create, read from the template; no side effects (see {@link planStoreFromTemplate}). */
export interface StorePlan {
  readonly tableLogicalId: string;
  readonly bucketLogicalId: string;
  /** The function whose environment is returned (the reader), when the template has one. */
  readonly functionLogicalId?: string;
  readonly tableName: string;
  readonly bucketName: string;
  readonly createTable: CreateTableCommandInput;
  /** TTL attribute, when the template enables TTL. */
  readonly timeToLiveAttribute?: string;
  /** Versioning status from the template's VersioningConfiguration. */
  readonly versioning?: BucketVersioningStatus;
  /** Lifecycle rules translated from the template's LifecycleConfiguration. */
  readonly lifecycleRules?: LifecycleRule[];
  /** Environment of the chosen function, with the table's and bucket's local names. */
  readonly environment: Record<string, string>;
  /** Environment of every function that references the table or the bucket, by logical id. */
  readonly environments: Record<string, Record<string, string>>;
}

/** Options of {@link planStoreFromTemplate} and {@link createStoreFromTemplate}. */
export interface FromTemplateOptions {
  /** Which table when the template has several. @default the one the functions reference, else the only one */
  readonly tableLogicalId?: string;
  /** Which bucket when the template has several. @default the one the functions reference, else the only versioned one */
  readonly bucketLogicalId?: string;
  /** Whose environment to return. @default the function referencing the table whose logical id contains 'Reader', else the first */
  readonly functionLogicalId?: string;
  /** Prefix of the generated names (lowercase letters, digits, dashes). @default 'split-store' */
  readonly namePrefix?: string;
  /** Region used in resolved ARNs and AWS::Region. @default 'us-east-1' */
  readonly region?: string;
}

/** Clients pointed at the local emulators. */
export interface LocalClients {
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
}

/** Reads a template from a path (cdk.out/*.template.json) or returns the object given. */
export function loadTemplate(source: string | CfnTemplate): CfnTemplate {
  return typeof source === 'string' ? JSON.parse(fs.readFileSync(source, 'utf8')) as CfnTemplate : source;
}

/** Works out what {@link createStoreFromTemplate} will create, without creating anything. */
export function planStoreFromTemplate(source: string | CfnTemplate, options: FromTemplateOptions = {}): StorePlan {
  const template = loadTemplate(source);
  const resources = template.Resources ?? {};
  const region = options.region ?? 'us-east-1';
  const functions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
  const variablesOf = (fn: CfnResource): Record<string, unknown> => fn.Properties?.Environment?.Variables ?? {};
  const referencedBy = (id: string) => functions.filter(([, fn]) => Object.values(variablesOf(fn)).some((v) => mentions(v, id)));

  const tableId = pick('table', resources, ['AWS::DynamoDB::GlobalTable', 'AWS::DynamoDB::Table'], options.tableLogicalId,
    () => true, (id) => referencedBy(id).length > 0);
  const bucketId = pick('bucket', resources, ['AWS::S3::Bucket'], options.bucketLogicalId,
    (r) => r.Properties?.VersioningConfiguration !== undefined, (id) => referencedBy(id).length > 0);

  const suffix = crypto.randomBytes(4).toString('hex');
  const prefix = (options.namePrefix ?? 'split-store').toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 30);
  const tableName = `${prefix}-table-${suffix}`;
  const bucketName = `${prefix}-bucket-${suffix}`;

  const table = resources[tableId].Properties ?? {};
  const bucket = resources[bucketId].Properties ?? {};

  const names: Record<string, { ref: string; attributes: Record<string, string> }> = {
    [tableId]: { ref: tableName, attributes: { Arn: `arn:aws:dynamodb:${region}:${LOCAL_ACCOUNT}:table/${tableName}` } },
    [bucketId]: {
      ref: bucketName,
      attributes: {
        Arn: `arn:aws:s3:::${bucketName}`,
        DomainName: `${bucketName}.s3.amazonaws.com`,
        RegionalDomainName: `${bucketName}.s3.${region}.amazonaws.com`,
      },
    },
  };
  const environments: Record<string, Record<string, string>> = {};
  for (const [id, fn] of functions) {
    const variables: Record<string, unknown> = fn.Properties?.Environment?.Variables ?? {};
    if (!Object.values(variables).some((v) => mentions(v, tableId) || mentions(v, bucketId))) continue;
    environments[id] = Object.fromEntries(Object.entries(variables).map(([name, value]) =>
      [name, resolve(value, names, region, `${id}.Environment.Variables.${name}`)]));
  }
  let functionLogicalId = options.functionLogicalId;
  if (functionLogicalId !== undefined && !environments[functionLogicalId]) {
    throw new Error(`functionLogicalId ${functionLogicalId} is not a function referencing ${tableId} or ${bucketId}; `
      + `candidates: ${Object.keys(environments).join(', ') || 'none'}`);
  }
  functionLogicalId ??= Object.keys(environments).find((id) => /reader/i.test(id)) ?? Object.keys(environments)[0];

  const ttl = table.TimeToLiveSpecification;
  return {
    tableLogicalId: tableId,
    bucketLogicalId: bucketId,
    functionLogicalId,
    tableName,
    bucketName,
    createTable: createTableInput(tableName, resources[tableId].Type, table),
    timeToLiveAttribute: ttl?.Enabled === true || ttl?.Enabled === 'true' ? ttl.AttributeName : undefined,
    versioning: bucket.VersioningConfiguration?.Status,
    lifecycleRules: bucket.LifecycleConfiguration?.Rules?.map(lifecycleRule),
    environment: functionLogicalId ? environments[functionLogicalId] : {},
    environments,
  };
}

/**
 * Creates the template's table on DynamoDB Local and its bucket on the S3 server, from
 * their properties: CreateTable (key schema, attribute definitions, indexes, on-demand),
 * UpdateTimeToLive, CreateBucket, PutBucketVersioning, PutBucketLifecycleConfiguration.
 * Returns the plan with the generated names and the resolved Lambda environment.
 */
export async function createStoreFromTemplate(
  source: string | CfnTemplate,
  clients: LocalClients,
  options: FromTemplateOptions = {},
): Promise<StorePlan> {
  const plan = planStoreFromTemplate(source, options);
  await clients.dynamodb.send(new CreateTableCommand(plan.createTable));
  await waitFor(async () => {
    const described = await clients.dynamodb.send(new DescribeTableCommand({ TableName: plan.tableName }));
    return described.Table?.TableStatus === 'ACTIVE';
  }, { timeoutMs: 30_000, what: `table ${plan.tableName}` });
  if (plan.timeToLiveAttribute) {
    await clients.dynamodb.send(new UpdateTimeToLiveCommand({
      TableName: plan.tableName,
      TimeToLiveSpecification: { AttributeName: plan.timeToLiveAttribute, Enabled: true },
    }));
  }
  await clients.s3.send(new CreateBucketCommand({ Bucket: plan.bucketName }));
  if (plan.versioning) {
    await clients.s3.send(new PutBucketVersioningCommand({ Bucket: plan.bucketName, VersioningConfiguration: { Status: plan.versioning } }));
  }
  if (plan.lifecycleRules && plan.lifecycleRules.length > 0) {
    await clients.s3.send(new PutBucketLifecycleConfigurationCommand({
      Bucket: plan.bucketName,
      LifecycleConfiguration: { Rules: plan.lifecycleRules },
    }));
  }
  return plan;
}

function pick(
  what: string,
  resources: Record<string, CfnResource>,
  types: string[],
  explicit: string | undefined,
  eligible: (r: CfnResource) => boolean,
  preferred: (id: string) => boolean,
): string {
  if (explicit !== undefined) {
    const resource = resources[explicit];
    if (!resource || !types.includes(resource.Type)) {
      throw new Error(`${what}LogicalId ${explicit} is not a ${types.join(' or ')} in the template`);
    }
    return explicit;
  }
  const candidates = Object.keys(resources).filter((id) => types.includes(resources[id].Type) && eligible(resources[id]));
  const referenced = candidates.filter(preferred);
  const chosen = referenced.length > 0 ? referenced : candidates;
  if (chosen.length !== 1) {
    const kind = what === 'bucket' ? 'versioned AWS::S3::Bucket' : types.join(' or ');
    throw new Error(`expected one ${kind} in the template, found ${chosen.length}`
      + `${chosen.length ? ` (${chosen.join(', ')})` : ''}: pass ${what}LogicalId`);
  }
  return chosen[0];
}

function createTableInput(tableName: string, type: string, table: Record<string, any>): CreateTableCommandInput {
  const keySchema = (schema: any[]): KeySchemaElement[] => schema.map((k) => ({ AttributeName: k.AttributeName, KeyType: k.KeyType }));
  const projection = (p: any): Projection => ({
    ProjectionType: p?.ProjectionType ?? 'ALL',
    ...(p?.NonKeyAttributes ? { NonKeyAttributes: p.NonKeyAttributes } : {}),
  });
  const gsis: GlobalSecondaryIndex[] | undefined = table.GlobalSecondaryIndexes?.map((index: any) => ({
    IndexName: index.IndexName,
    KeySchema: keySchema(index.KeySchema),
    Projection: projection(index.Projection),
  }));
  const lsis: LocalSecondaryIndex[] | undefined = table.LocalSecondaryIndexes?.map((index: any) => ({
    IndexName: index.IndexName,
    KeySchema: keySchema(index.KeySchema),
    Projection: projection(index.Projection),
  }));
  const stream = table.StreamSpecification;
  // Table: { StreamViewType, ... } (StreamEnabled implied); GlobalTable: { StreamViewType }.
  const streamViewType = stream?.StreamViewType as string | undefined;
  if (!Array.isArray(table.KeySchema) || !Array.isArray(table.AttributeDefinitions)) {
    throw new Error(`the ${type} has no literal KeySchema/AttributeDefinitions to create it from`);
  }
  return {
    TableName: tableName,
    KeySchema: keySchema(table.KeySchema),
    AttributeDefinitions: table.AttributeDefinitions.map((a: any): AttributeDefinition => ({
      AttributeName: a.AttributeName,
      AttributeType: a.AttributeType,
    })),
    BillingMode: 'PAY_PER_REQUEST',
    ...(gsis?.length ? { GlobalSecondaryIndexes: gsis } : {}),
    ...(lsis?.length ? { LocalSecondaryIndexes: lsis } : {}),
    ...(streamViewType ? { StreamSpecification: { StreamEnabled: true, StreamViewType: streamViewType as any } } : {}),
  };
}

/** CloudFormation's AWS::S3::Bucket Rule → the S3 API's LifecycleRule. */
function lifecycleRule(rule: Record<string, any>): LifecycleRule {
  const tags = rule.TagFilters?.map((t: any) => ({ Key: t.Key, Value: t.Value })) ?? [];
  const sizeGt = rule.ObjectSizeGreaterThan !== undefined ? Number(rule.ObjectSizeGreaterThan) : undefined;
  const sizeLt = rule.ObjectSizeLessThan !== undefined ? Number(rule.ObjectSizeLessThan) : undefined;
  const conditions = tags.length + (sizeGt !== undefined ? 1 : 0) + (sizeLt !== undefined ? 1 : 0) + (rule.Prefix ? 1 : 0);
  let filter: LifecycleRuleFilter;
  if (conditions > 1) {
    filter = { And: { Prefix: rule.Prefix, Tags: tags.length ? tags : undefined, ObjectSizeGreaterThan: sizeGt, ObjectSizeLessThan: sizeLt } };
  } else if (tags.length === 1) {
    filter = { Tag: tags[0] };
  } else if (sizeGt !== undefined) {
    filter = { ObjectSizeGreaterThan: sizeGt };
  } else if (sizeLt !== undefined) {
    filter = { ObjectSizeLessThan: sizeLt };
  } else {
    filter = { Prefix: rule.Prefix ?? '' };
  }
  const noncurrentExpiration = rule.NoncurrentVersionExpiration
    ?? (rule.NoncurrentVersionExpirationInDays !== undefined ? { NoncurrentDays: rule.NoncurrentVersionExpirationInDays } : undefined);
  const transitions = [...(rule.Transitions ?? []), ...(rule.Transition ? [rule.Transition] : [])];
  const noncurrentTransitions = [
    ...(rule.NoncurrentVersionTransitions ?? []),
    ...(rule.NoncurrentVersionTransition ? [rule.NoncurrentVersionTransition] : []),
  ];
  const expiration = rule.ExpirationInDays !== undefined || rule.ExpirationDate !== undefined || rule.ExpiredObjectDeleteMarker !== undefined
    ? {
      ...(rule.ExpirationInDays !== undefined ? { Days: Number(rule.ExpirationInDays) } : {}),
      ...(rule.ExpirationDate !== undefined ? { Date: new Date(rule.ExpirationDate) } : {}),
      ...(rule.ExpiredObjectDeleteMarker !== undefined
        ? { ExpiredObjectDeleteMarker: rule.ExpiredObjectDeleteMarker === true || rule.ExpiredObjectDeleteMarker === 'true' }
        : {}),
    }
    : undefined;
  return {
    ID: rule.Id,
    Status: rule.Status,
    Filter: filter,
    ...(expiration ? { Expiration: expiration } : {}),
    ...(noncurrentExpiration ? {
      NoncurrentVersionExpiration: {
        NoncurrentDays: Number(noncurrentExpiration.NoncurrentDays),
        ...(noncurrentExpiration.NewerNoncurrentVersions !== undefined
          ? { NewerNoncurrentVersions: Number(noncurrentExpiration.NewerNoncurrentVersions) }
          : {}),
      },
    } : {}),
    ...(transitions.length ? {
      Transitions: transitions.map((t: any) => ({
        StorageClass: t.StorageClass,
        ...(t.TransitionInDays !== undefined ? { Days: Number(t.TransitionInDays) } : {}),
        ...(t.TransitionDate !== undefined ? { Date: new Date(t.TransitionDate) } : {}),
      })),
    } : {}),
    ...(noncurrentTransitions.length ? {
      NoncurrentVersionTransitions: noncurrentTransitions.map((t: any) => ({
        StorageClass: t.StorageClass,
        NoncurrentDays: Number(t.TransitionInDays),
        ...(t.NewerNoncurrentVersions !== undefined ? { NewerNoncurrentVersions: Number(t.NewerNoncurrentVersions) } : {}),
      })),
    } : {}),
    ...(rule.AbortIncompleteMultipartUpload ? {
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: Number(rule.AbortIncompleteMultipartUpload.DaysAfterInitiation) },
    } : {}),
  };
}

/** True when a CloudFormation value refers to the logical id (Ref, GetAtt, inside Join/Sub). */
function mentions(value: unknown, logicalId: string): boolean {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  if (v.Ref === logicalId) return true;
  const getAtt = v['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt[0] === logicalId) return true;
  if (typeof getAtt === 'string' && getAtt.split('.')[0] === logicalId) return true;
  return Object.values(v).some((child) => Array.isArray(child) ? child.some((c) => mentions(c, logicalId)) : mentions(child, logicalId));
}

function resolve(
  value: unknown,
  names: Record<string, { ref: string; attributes: Record<string, string> }>,
  region: string,
  where: string,
): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const fail = (): never => {
    throw new Error(`cannot resolve ${where} = ${JSON.stringify(value)} locally: only Ref / Fn::GetAtt of the store's table and bucket, `
      + 'pseudo parameters and Fn::Join are supported');
  };
  if (value === null || typeof value !== 'object') return fail();
  const v = value as Record<string, any>;
  if (typeof v.Ref === 'string') {
    const pseudo: Record<string, string> = {
      'AWS::Region': region, 'AWS::AccountId': LOCAL_ACCOUNT, 'AWS::Partition': 'aws', 'AWS::URLSuffix': 'amazonaws.com',
    };
    return names[v.Ref]?.ref ?? pseudo[v.Ref] ?? fail();
  }
  if (v['Fn::GetAtt'] !== undefined) {
    const [id, attribute] = Array.isArray(v['Fn::GetAtt']) ? v['Fn::GetAtt'] : String(v['Fn::GetAtt']).split('.');
    return names[id]?.attributes[attribute] ?? fail();
  }
  if (Array.isArray(v['Fn::Join'])) {
    const [separator, parts] = v['Fn::Join'];
    return (parts as unknown[]).map((part, i) => resolve(part, names, region, `${where}[${i}]`)).join(separator);
  }
  return fail();
}
