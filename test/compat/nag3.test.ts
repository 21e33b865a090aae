import * as aws from 'aws-cdk-lib';
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import { SplitStore } from '../../src';
import { readWriteRole, STORES, StoreProps, storeInApp } from '../setup/stores';

// cdk-nag 3: a validation plugin on aws-cdk-lib's `Validations` API, which reads acknowledgements
// (`Validations.of(x).acknowledge()`) instead of `cdk_nag` metadata. `Validations` is newer than
// the library's aws-cdk-lib floor, so this file runs only in the newest leg of the compatibility
// matrix (npx projen test:compat), where `cdk-nag-v3` is cdk-nag 3 installed in .tools/compat.

interface Violation {
  readonly ruleName: string;
  readonly violatingResources: Array<{ readonly constructPath?: string }>;
}
interface NagPack3 {
  validateScope(scope: IConstruct): { success: boolean; violations: Violation[] };
}
interface Nag3 {
  AwsSolutionsChecks: new (scope?: IConstruct, props?: { verbose?: boolean }) => NagPack3;
}
interface ValidationsApi {
  of(scope: IConstruct): { addPlugins(...plugins: unknown[]): void; acknowledge(...rules: Array<{ id: string; reason: string }>): void };
}

// Neither exists in the project's own node_modules (aws-cdk-lib at the floor, cdk-nag 2): typed here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nag3: Nag3 = require('cdk-nag-v3');
const Validations = (aws as unknown as { Validations: ValidationsApi }).Validations;

/**
 * Synthesizes a store with cdk-nag 3's AwsSolutions pack registered as users do
 * (`Validations.of(app).addPlugins`): synthesis fails on any unacknowledged error. Returns the
 * violations the pack reports, as `ruleName @ constructPath`.
 */
function nag(props: StoreProps, extra?: (stack: Stack, store: SplitStore) => void): { synth: () => void; violations: string[] } {
  const { app, stack, store } = storeInApp(props);
  extra?.(stack, store);
  const pack = new nag3.AwsSolutionsChecks(app, { verbose: true });
  Validations.of(app).addPlugins(pack);
  const report = pack.validateScope(app);
  return {
    synth: () => app.synth(),
    violations: report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} @ ${r.constructPath}`)),
  };
}


test('runs cdk-nag 3', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const version: string = require('cdk-nag-v3/package.json').version;
  console.info(`cdk-nag-v3 resolves to cdk-nag ${version}`);
  expect(version).toMatch(/^3\./);
});

describe.each(STORES)('cdk-nag 3 AwsSolutions, %s', (_name, props) => {
  test('reports no violation and synthesis passes', () => {
    // GIVEN / WHEN
    const result = nag(props);
    // THEN
    expect(result.violations).toEqual([]);
    expect(result.synth).not.toThrow();
  });
});

test('an unacknowledged finding is reported and fails synthesis (the check can fail)', () => {
  // GIVEN / WHEN: a bucket outside the store, with no access logs and no acknowledgement
  const result = nag(() => ({}), (stack) => {
    new s3.Bucket(stack, 'Unrelated', { enforceSSL: true });
  });
  // THEN
  expect(result.violations).toEqual(['AwsSolutions-S1 @ NagStack/Unrelated/Resource']);
  expect(result.synth).toThrow(/AwsSolutions-S1/);
});

describe('what a grantee gets (documented in the README)', () => {
  test('grantReadWrite: one AwsSolutions-IAM5 finding, the parts wildcard', () => {
    // GIVEN / WHEN
    let finding = '';
    const result = nag(() => ({}), (stack, store) => {
      finding = readWriteRole(stack, store).finding;
    });
    // THEN
    expect(result.violations).toEqual([`AwsSolutions-IAM5[${finding}] @ NagStack/App/DefaultPolicy/Resource`]);
  });

  test('grantReadWrite: the documented Validations acknowledgement clears exactly that finding', () => {
    // GIVEN / WHEN
    const result = nag(() => ({}), (stack, store) => {
      const { role, finding } = readWriteRole(stack, store);
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[${finding}]`,
        reason: 'Part keys are derived from item keys: the store\'s grants are bounded by its key prefix.',
      });
    });
    // THEN
    expect(result.violations).toEqual([]);
    expect(result.synth).not.toThrow();
  });

  test('grantInvokeReader: no finding', () => {
    // GIVEN / WHEN
    const result = nag(() => ({}), (stack, store) => {
      store.grantInvokeReader(new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() }));
    });
    // THEN
    expect(result.violations).toEqual([]);
  });
});
