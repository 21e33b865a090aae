import { App, Aspects, CfnResource, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks, NagSuppressions } from 'cdk-nag';
import { SplitStore } from '../src';
import { partsFinding, readWriteRole, STORES, StoreProps, storeInApp } from './setup/stores';
import { ACKNOWLEDGED_RULES_METADATA_KEY } from '../src/private/nag';

// cdk-nag 2 (the `Aspects` API, `cdk_nag` metadata). The compatibility matrix runs this file
// at the aws-cdk-lib floor with the repository's cdk-nag 2 and at the newest aws-cdk-lib with
// the newest cdk-nag 2; test/compat/nag3.test.ts does the same for cdk-nag 3.

/** Synthesizes a store under cdk-nag's AwsSolutions pack and returns its findings. */
function nag(props: StoreProps, extra?: (stack: Stack, store: SplitStore) => void) {
  const { app, stack, store } = storeInApp(props);
  extra?.(stack, store);
  Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
  app.synth();
  const annotations = Annotations.fromStack(stack);
  const pattern = Match.stringLikeRegexp('AwsSolutions-.*');
  return {
    errors: annotations.findError('*', pattern).map(m => `${m.id}: ${m.entry.data}`),
    warnings: annotations.findWarning('*', pattern).map(m => `${m.id}: ${m.entry.data}`),
  };
}


function acknowledgementsOf(resource: CfnResource): Record<string, string> {
  return Object.assign({}, ...resource.node.metadata
    .filter((entry) => entry.type === ACKNOWLEDGED_RULES_METADATA_KEY)
    .map((entry) => entry.data));
}

describe.each(STORES)('cdk-nag 2 AwsSolutions, %s', (_name, props) => {
  test('has no unsuppressed error or warning', () => {
    // GIVEN / WHEN
    const result = nag(props);
    // THEN
    expect(result).toEqual({ errors: [], warnings: [] });
  });
});

test('an unsuppressed finding is reported (the check can fail)', () => {
  // GIVEN / WHEN: a bucket outside the store, with no access logs and no suppression
  const result = nag(() => ({}), (stack) => {
    new s3.Bucket(stack, 'Unrelated', { enforceSSL: true });
  });
  // THEN
  expect(result.errors.join('\n')).toMatch(/NagStack\/Unrelated\/Resource: AwsSolutions-S1/);
});

describe('what a grantee gets (documented in the README)', () => {
  test('grantReadWrite: one AwsSolutions-IAM5 finding, the parts wildcard', () => {
    // GIVEN / WHEN
    let finding = '';
    const result = nag(() => ({}), (stack, store) => {
      finding = readWriteRole(stack, store).finding;
    });
    // THEN
    expect(result.warnings).toEqual([]);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toContain(`/NagStack/App/DefaultPolicy/Resource: AwsSolutions-IAM5[${finding}]`);
  });

  test('grantReadWrite: the documented NagSuppressions call acknowledges exactly that finding', () => {
    // GIVEN / WHEN
    const result = nag(() => ({}), (stack, store) => {
      const { role, finding } = readWriteRole(stack, store);
      NagSuppressions.addResourceSuppressions(role, [{
        id: 'AwsSolutions-IAM5',
        reason: 'Part keys are derived from item keys: the store\'s grants are bounded by its key prefix.',
        appliesTo: [finding],
      }], true);
    });
    // THEN
    expect(result).toEqual({ errors: [], warnings: [] });
  });

  test('grantInvokeReader: no finding', () => {
    // GIVEN / WHEN
    const result = nag(() => ({}), (stack, store) => {
      store.grantInvokeReader(new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() }));
    });
    // THEN
    expect(result).toEqual({ errors: [], warnings: [] });
  });
});

describe('suppressions are recorded for both cdk-nag majors', () => {
  test('the default bucket accepts AwsSolutions-S1, with a reason, both ways', () => {
    // GIVEN
    const stack = new Stack(new App(), 'S');
    // WHEN
    const store = new SplitStore(stack, 'Store', { readerEnabled: false, reconcilerEnabled: false });
    // THEN
    const cfn = store.bucket.node.defaultChild as s3.CfnBucket;
    const reason = expect.stringMatching(/Server access logs are opt-in/);
    expect(cfn.getMetadata('cdk_nag')).toEqual({ rules_to_suppress: [{ id: 'AwsSolutions-S1', reason }] });
    expect(acknowledgementsOf(cfn)).toEqual({ 'annotation::AwsSolutions-S1': reason });
  });

  test('a bucket with access logs suppresses nothing', () => {
    // GIVEN
    const stack = new Stack(new App(), 'S');
    // WHEN
    const store = new SplitStore(stack, 'Store', {
      serverAccessLogsBucket: new s3.Bucket(stack, 'Logs'),
      readerEnabled: false,
      reconcilerEnabled: false,
    });
    // THEN
    const cfn = store.bucket.node.defaultChild as s3.CfnBucket;
    expect(cfn.getMetadata('cdk_nag')).toBeUndefined();
    expect(acknowledgementsOf(cfn)).toEqual({});
  });

  test('a granular finding is acknowledged as RuleId[Finding], one entry per finding', () => {
    // GIVEN
    const stack = new Stack(new App(), 'S');
    // WHEN
    const store = new SplitStore(stack, 'Store', { reconcilerEnabled: false });
    // THEN
    const policy = store.node.findChild('Reader').node.findChild('ServiceRole').node.findChild('DefaultPolicy').node.defaultChild as CfnResource;
    const finding = partsFinding(stack, store);
    expect(policy.getMetadata('cdk_nag').rules_to_suppress).toEqual([
      { id: 'AwsSolutions-IAM5', reason: expect.any(String), applies_to: [finding] },
    ]);
    expect(Object.keys(acknowledgementsOf(policy))).toEqual([`annotation::AwsSolutions-IAM5[${finding}]`]);
  });
});
