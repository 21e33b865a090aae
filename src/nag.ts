/**
 * cdk-nag suppressions written as plain CloudFormation metadata, so that cdk-nag stays a
 * test-only devDependency. Internal: not exported from index.ts.
 */
import { CfnResource } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** One suppressed cdk-nag rule (the shape cdk-nag reads from the `cdk_nag` metadata). */
export interface NagSuppression {
  /** Rule id, e.g. 'AwsSolutions-S1'. */
  readonly id: string;
  /** Why the finding is acceptable here (cdk-nag requires at least 10 characters). */
  readonly reason: string;
  /** Finding ids the suppression is limited to (e.g. 'Resource::<Bucket.Arn>/items/*'). */
  readonly appliesTo?: string[];
}

/**
 * Adds suppressions to the `cdk_nag` metadata of a construct's CfnResource (the construct
 * itself or its default child), merged with any suppressions already there.
 */
export function suppressNag(construct: IConstruct, suppressions: NagSuppression[]): void {
  const cfn = CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild;
  if (!cfn || !CfnResource.isCfnResource(cfn)) {
    return;
  }
  const existing = cfn.getMetadata('cdk_nag') as { rules_to_suppress?: unknown[] } | undefined;
  const rules = [...(existing?.rules_to_suppress ?? [])];
  for (const s of suppressions) {
    rules.push({ id: s.id, reason: s.reason, ...(s.appliesTo ? { applies_to: s.appliesTo } : {}) });
  }
  cfn.addMetadata('cdk_nag', { ...(existing ?? {}), rules_to_suppress: rules });
}
