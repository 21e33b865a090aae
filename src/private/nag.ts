import { CfnResource, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';

// Every cdk-nag finding the store accepts on its own resources, each pinned to the exact
// finding and with its reason, and the one function that records them for both cdk-nag
// majors. cdk-nag is no dependency of the library: both records are plain metadata.

/** One accepted cdk-nag finding. */
export interface NagSuppression {
  /** Rule id, e.g. `AwsSolutions-IAM5`. */
  readonly id: string;
  /** Why the finding is acceptable (at least 10 characters). */
  readonly reason: string;
  /**
   * The exact findings of a granular rule (e.g. `Resource::*`); absent for a rule that
   * reports one finding per resource.
   */
  readonly appliesTo?: string[];
}

/**
 * The construct metadata key of acknowledged rules: aws-cdk-lib's
 * `Validations.ACKNOWLEDGED_RULES_METADATA_KEY`, which `Validations.of(x).acknowledge()`
 * writes and cdk-nag 3 reads. Written by hand because the aws-cdk-lib floor predates the
 * `Validations` API.
 */
export const ACKNOWLEDGED_RULES_METADATA_KEY = 'aws:cdk:acknowledged-rules';

/**
 * The namespace `Validations.acknowledge()` gives a rule id without one. aws-cdk-lib before
 * 2.262.1 wrote it in lower case, later releases capitalize it; cdk-nag 3.0.0 and 3.0.1 strip
 * only the lower-case form, 3.0.2 and later either: the lower-case form is read by every
 * cdk-nag 3 release.
 */
const ACKNOWLEDGEMENT_NAMESPACE = 'annotation';

/**
 * The ids cdk-nag 3 reports for a suppression: `RuleId` for a rule with one finding per
 * resource, `RuleId[Finding]` per finding of a granular rule.
 */
export function acknowledgementIds(rule: NagSuppression): string[] {
  return rule.appliesTo ? rule.appliesTo.map((finding) => `${rule.id}[${finding}]`) : [rule.id];
}

/**
 * Records accepted findings on a resource, both ways, keeping what is already there (added by
 * us or by the user) and never recording one twice:
 * - cdk-nag 2 reads the resource's `cdk_nag` template metadata (`rules_to_suppress`);
 * - cdk-nag 3 (and aws-cdk-lib's `Validations`) read `aws:cdk:acknowledged-rules` construct
 *   metadata, one entry per finding id.
 */
export function addNagSuppressions(resource: CfnResource, rules: NagSuppression[]): void {
  const existing: unknown[] = resource.getMetadata('cdk_nag')?.rules_to_suppress ?? [];
  const seen = new Set(existing.map((rule) => JSON.stringify(rule)));
  const merged = [...existing];
  for (const rule of rules) {
    const v2 = { id: rule.id, reason: rule.reason, ...(rule.appliesTo ? { applies_to: rule.appliesTo } : {}) };
    const text = JSON.stringify(v2);
    if (seen.has(text)) continue;
    seen.add(text);
    merged.push(v2);
  }
  resource.addMetadata('cdk_nag', { ...resource.getMetadata('cdk_nag'), rules_to_suppress: merged });

  const acknowledged = new Set(resource.node.metadata
    .filter((entry) => entry.type === ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((entry) => Object.keys(entry.data ?? {})));
  const acknowledgements: Record<string, string> = {};
  for (const rule of rules) {
    for (const id of acknowledgementIds(rule)) {
      const key = `${ACKNOWLEDGEMENT_NAMESPACE}::${id}`;
      if (!acknowledged.has(key)) acknowledgements[key] = rule.reason;
    }
  }
  if (Object.keys(acknowledgements).length > 0) {
    resource.node.addMetadata(ACKNOWLEDGED_RULES_METADATA_KEY, acknowledgements);
  }
}

/** Records accepted findings on a role's default policy, when it has one. */
export function addPolicySuppressions(role: IConstruct, rules: NagSuppression[]): void {
  const policy = role.node.tryFindChild('DefaultPolicy')?.node.defaultChild;
  if (policy instanceof CfnResource) addNagSuppressions(policy, rules);
}

/**
 * The finding id cdk-nag reports for a wildcard resource (`Resource::<Bucket.Arn>/items/*`):
 * the resolved CloudFormation expression flattened as cdk-nag does it, references as
 * `<LogicalId.Attribute>` / `<LogicalId>`.
 */
export function nagFindingOf(scope: IConstruct, resource: string): string {
  return `Resource::${flattenCfn(Stack.of(scope).resolve(resource))}`;
}

function flattenCfn(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (typeof node === 'object' && node !== null) {
    const obj = node as Record<string, any>;
    if (obj['Fn::Join']) {
      const [delimiter, parts] = obj['Fn::Join'] as [string, unknown[]];
      return parts.map(flattenCfn).join(delimiter);
    }
    if (obj['Fn::Sub']) return flattenCfn(obj['Fn::Sub']);
    if (obj['Fn::GetAtt']) {
      const [logicalId, attribute] = obj['Fn::GetAtt'] as [unknown, unknown];
      return `<${flattenCfn(logicalId)}.${flattenCfn(attribute)}>`;
    }
    if (obj['Fn::ImportValue']) return flattenCfn(obj['Fn::ImportValue']);
    if (obj.Ref) return `<${flattenCfn(obj.Ref)}>`;
  }
  return JSON.stringify(node);
}

// ---------------------------------------------------------------------------
// The findings the store accepts
// ---------------------------------------------------------------------------

/** AwsSolutions-S1 on the parts bucket, when no access-log bucket is given. */
export function accessLogsSuppression(): NagSuppression {
  return {
    id: 'AwsSolutions-S1',
    reason: 'Server access logs are opt-in (serverAccessLogsBucket): every store would otherwise need a second ' +
      'bucket. S3 request metrics are always on for the parts prefix; use CloudTrail data events for an audit trail.',
  };
}

/** AwsSolutions-IAM5 of the `<bucketArn>/<keyPrefix>*` wildcard, on a function of the store. */
export function partsWildcardSuppression(scope: IConstruct, partsArn: string): NagSuppression {
  return {
    id: 'AwsSolutions-IAM5',
    reason:
      'Part keys are derived from item keys at run time; the wildcard is bounded by the store\'s key prefix, ' +
      'so the function reaches the store\'s parts and no other object of the bucket.',
    appliesTo: [nagFindingOf(scope, partsArn)],
  };
}

/** AwsSolutions-IAM5 of the X-Ray write actions, which support no resource-level permission. */
export function xrayWildcardSuppression(): NagSuppression {
  return {
    id: 'AwsSolutions-IAM5',
    reason:
      'xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permission: ' +
      'the X-Ray documentation requires Resource "*". Added by Lambda when tracing is on.',
    appliesTo: ['Resource::*'],
  };
}

/** AwsSolutions-IAM4 of the managed policy aws-cdk-lib's S3 notifications handler attaches to its role. */
export function notificationsHandlerManagedPolicySuppression(): NagSuppression {
  return {
    id: 'AwsSolutions-IAM4',
    reason:
      'CDK\'s S3 notifications handler (added by bucket.addEventNotification) attaches ' +
      'AWSLambdaBasicExecutionRole itself; its role cannot be replaced from outside aws-cdk-lib.',
    appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
  };
}

/** AwsSolutions-IAM5 of the `s3:PutBucketNotification` on "*" that aws-cdk-lib's notifications handler had before it was scoped to the bucket. */
export function notificationsHandlerWildcardSuppression(): NagSuppression {
  return {
    id: 'AwsSolutions-IAM5',
    reason:
      'CDK\'s S3 notifications handler grants itself s3:PutBucketNotification on "*" to configure the ' +
      'bucket\'s notifications at deploy time; the statement is fixed by aws-cdk-lib.',
    appliesTo: ['Resource::*'],
  };
}

/** Whether a policy has a statement on the resource "*" (resolved as it stands). */
export function hasWildcardResource(policy: iam.Policy): boolean {
  const document = Stack.of(policy).resolve(policy.document.toJSON()) as { Statement?: Array<{ Resource?: unknown }> } | undefined;
  return (document?.Statement ?? []).some((statement) => {
    const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
    return resources.includes('*');
  });
}
