import { CfnResource, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** One cdk-nag suppression, in the `cdk_nag` metadata format (cdk-nag is no dependency). */
export interface NagSuppression {
  /** Rule id, e.g. `AwsSolutions-IAM5`. */
  readonly id: string;
  /** Why the finding is acceptable (at least 10 characters). */
  readonly reason: string;
  /** The exact findings suppressed (e.g. `Resource::*`); all findings of the rule when absent. */
  readonly applies_to?: string[];
}

/**
 * Adds cdk-nag suppressions to a resource's `cdk_nag` metadata, keeping those already
 * there (added by us or by the user) and never adding the same one twice.
 */
export function addNagSuppressions(resource: CfnResource, rules: NagSuppression[]): void {
  const existing: unknown[] = resource.getMetadata('cdk_nag')?.rules_to_suppress ?? [];
  const seen = new Set(existing.map((rule) => JSON.stringify(rule)));
  const merged = [...existing];
  for (const rule of rules) {
    const text = JSON.stringify(rule);
    if (seen.has(text)) continue;
    seen.add(text);
    merged.push(rule);
  }
  resource.addMetadata('cdk_nag', { ...resource.getMetadata('cdk_nag'), rules_to_suppress: merged });
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
