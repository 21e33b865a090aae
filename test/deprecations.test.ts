import { Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { STORES, storeInApp } from './setup/stores';

// Strict teams set JSII_DEPRECATED=fail: aws-cdk-lib then throws on every deprecated API a
// construct uses, including a deprecated prop passed as undefined. The store must use none,
// at the aws-cdk-lib floor and at the newest release (the compatibility matrix runs this file
// against both).

let previous: string | undefined;
beforeAll(() => {
  previous = process.env.JSII_DEPRECATED;
  process.env.JSII_DEPRECATED = 'fail';
});
afterAll(() => {
  if (previous === undefined) delete process.env.JSII_DEPRECATED;
  else process.env.JSII_DEPRECATED = previous;
});

describe.each(STORES)('with JSII_DEPRECATED=fail, %s', (_name, props) => {
  test('synthesizes with no deprecated API and no deprecation warning', () => {
    // GIVEN / WHEN
    const { app, stack } = storeInApp(props);
    app.synth();
    // THEN
    const deprecations = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('[Dd]eprecat'));
    expect(deprecations.map((m) => `${m.id}: ${m.entry.data}`)).toEqual([]);
  });
});

test('the check can fail: a deprecated prop throws under JSII_DEPRECATED=fail', () => {
  // GIVEN: pointInTimeRecovery, deprecated for pointInTimeRecoverySpecification at the floor and since
  const stack = new Stack();
  // WHEN / THEN
  expect(() => new dynamodb.Table(stack, 'Table', {
    partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
    pointInTimeRecovery: true,
  })).toThrow(/pointInTimeRecovery is deprecated/);
});
