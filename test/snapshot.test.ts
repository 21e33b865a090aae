import { App, Stack } from 'aws-cdk-lib';
import { SplitStore } from '../src';
import { HASH_REMOVED, snapshotTemplate } from './setup/template';

// The one snapshot: a default store. It catches unintended changes to anything synthesized
// (asset hashes scrubbed, so a handler rebuild alone does not change it). Update it on
// purpose with `npx projen test:update` and review the diff.
test('default store snapshot', () => {
  // GIVEN
  const stack = new Stack(new App(), 'SnapshotStack');
  // WHEN
  new SplitStore(stack, 'Store');
  // THEN
  const template = snapshotTemplate(stack);
  expect(JSON.stringify(template)).toContain(HASH_REMOVED);
  expect(template).toMatchSnapshot();
});
