import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SplitStore } from '../src';
import { BUNDLE_NODE_MAJOR, DEFAULT_NODE_RUNTIME } from '../src/private/bundled-function';

function runtimesOf(stack: Stack): Record<string, unknown> {
  const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function', {
    Properties: { Description: Match.stringLikeRegexp('^cdk-split-store ') },
  });
  return Object.fromEntries(Object.entries(functions).map(([id, resource]) => [id, resource.Properties.Runtime]));
}

describe('the Lambda runtime of the reader and the reconciler', () => {
  test('defaults to Node.js 24 on both functions', () => {
    // GIVEN
    const stack = new Stack(new App(), 'S');
    // WHEN
    const store = new SplitStore(stack, 'Store');
    // THEN
    const runtimes = Object.values(runtimesOf(stack));
    expect(runtimes).toEqual(['nodejs24.x', 'nodejs24.x']);
    expect((store.readerFunction as lambda.Function).runtime.name).toBe('nodejs24.x');
  });

  test('is aws-cdk-lib\'s own Node.js 24 runtime where it has one', () => {
    // aws-cdk-lib 2.179.0 (the floor) has no NODEJS_24_X; newer releases have.
    const own = (lambda.Runtime as unknown as Record<string, lambda.Runtime | undefined>).NODEJS_24_X;
    if (own) {
      expect(DEFAULT_NODE_RUNTIME).toBe(own);
    } else {
      expect(DEFAULT_NODE_RUNTIME.name).toBe('nodejs24.x');
      expect(DEFAULT_NODE_RUNTIME.family).toBe(lambda.RuntimeFamily.NODEJS);
    }
    expect(lambda.Runtime.ALL).toContain(DEFAULT_NODE_RUNTIME);
  });

  test('a newer Node.js runtime is used by both functions', () => {
    // GIVEN
    const stack = new Stack(new App(), 'S');
    const nodejs26 = new lambda.Runtime('nodejs26.x', lambda.RuntimeFamily.NODEJS);
    // WHEN
    new SplitStore(stack, 'Store', { runtime: nodejs26 });
    // THEN
    expect(Object.values(runtimesOf(stack))).toEqual(['nodejs26.x', 'nodejs26.x']);
  });

  test('fails when the runtime is not Node.js', () => {
    const stack = new Stack(new App(), 'S');
    expect(() => new SplitStore(stack, 'Store', { runtime: lambda.Runtime.PYTHON_3_12 }))
      .toThrow(/runtime must be a Node\.js runtime \('nodejsNN\.x'\), got 'python3\.12'.*Fix: remove runtime \(the default is nodejs24\.x\)/);
  });

  test('fails when the Node.js runtime is older than the bundles\' target', () => {
    const stack = new Stack(new App(), 'S');
    expect(() => new SplitStore(stack, 'Store', { runtime: lambda.Runtime.NODEJS_22_X }))
      .toThrow(/runtime 'nodejs22\.x' is older than the Node\.js 24 the store's functions are built and tested for\. Fix:/);
  });

  test('fails when the runtime has no version (the generic nodejs runtime)', () => {
    const stack = new Stack(new App(), 'S');
    const generic = new lambda.Runtime('nodejs', lambda.RuntimeFamily.NODEJS);
    expect(() => new SplitStore(stack, 'Store', { runtime: generic })).toThrow(/got 'nodejs'/);
  });

  test('fails when a runtime is given and no function is deployed', () => {
    const stack = new Stack(new App(), 'S');
    expect(() => new SplitStore(stack, 'Store', { runtime: DEFAULT_NODE_RUNTIME, readerEnabled: false, reconcilerEnabled: false }))
      .toThrow(/runtime \(nodejs24\.x\) was given with readerEnabled: false and reconcilerEnabled: false.*Fix: remove runtime/);
  });

  test('the bundles are built for the Node.js major the construct deploys (the bundle tasks\' esbuild target)', () => {
    // GIVEN: the tasks .projenrc.ts generates
    const tasks = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '.projen', 'tasks.json'), 'utf8')).tasks;
    const bundles = ['reader.lambda', 'reconciler.lambda'];
    for (const bundle of bundles) {
      // WHEN
      const args: string[] = tasks[`bundle:${bundle}`].steps.flatMap((step: { execArgs?: string[] }) => step.execArgs ?? []);
      // THEN
      expect(args).toContain(`--target=node${BUNDLE_NODE_MAJOR}`);
      expect(args).toContain(`--outfile=assets/${bundle}/index.js`);
    }
  });
});
