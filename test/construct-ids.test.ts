import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SplitStore } from '../src';

// Construct IDs are public API: a changed ID gives the table or the bucket a new logical
// ID, and CloudFormation replaces a resource that holds user data. These tests pin them.
describe('construct IDs', () => {
  let stack: Stack;
  let store: SplitStore;
  beforeAll(() => {
    // GIVEN
    stack = new Stack(new App(), 'TestStack');
    // WHEN
    store = new SplitStore(stack, 'Store');
  });

  test('children are Table, Bucket, Reader and Reconciler', () => {
    // THEN
    expect(store.node.findChild('Table').node.defaultChild?.node.id).toBe('Resource');
    expect(store.node.findChild('Bucket').node.defaultChild?.node.id).toBe('Resource');
    expect(store.node.tryFindChild('Reader')).toBeDefined();
    expect(store.node.tryFindChild('Reconciler')).toBeDefined();
  });

  test('the table keeps its logical ID', () => {
    // THEN
    expect(Object.keys(Template.fromStack(stack).findResources('AWS::DynamoDB::Table'))).toEqual(['StoreTable0CCFA19B']);
  });

  test('the bucket keeps its logical ID', () => {
    // THEN
    const buckets = Template.fromStack(stack).findResources('AWS::S3::Bucket');
    expect(Object.keys(buckets)).toEqual(['StoreBucket4FBDE984']);
  });
});
