import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SplitStore } from '../src';

// How an application finds the reference reader: an opt-in stack output of its Function URL,
// and grantInvokeReaderAndConfigure, which hands the reader's name and URL to a function.

function newStack(): Stack {
  return new Stack(new App(), 'TestStack');
}

function appFunction(stack: Stack): lambda.Function {
  return new lambda.Function(stack, 'App', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {};'),
  });
}

function urlLogicalId(stack: Stack, store: SplitStore): string {
  const url = store.node.findChild('Reader').node.findChild('Function').node.findChild('FunctionUrl').node.defaultChild as lambda.CfnUrl;
  return stack.getLogicalId(url);
}

describe('readerUrlOutput', () => {
  test('adds a stack output with the reader\'s Function URL', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    const store = new SplitStore(stack, 'Store', { readerUrlOutput: true });
    // THEN
    const outputs = Template.fromStack(stack).findOutputs('*');
    expect(Object.values(outputs)).toEqual([{
      Description: 'Function URL of the cdk-split-store reader of TestStack/Store',
      Value: { 'Fn::GetAtt': [urlLogicalId(stack, store), 'FunctionUrl'] },
    }]);
    expect(stack.resolve(store.readerUrl!.url)).toEqual({ 'Fn::GetAtt': [urlLogicalId(stack, store), 'FunctionUrl'] });
  });

  test('is off by default', () => {
    const stack = newStack();
    new SplitStore(stack, 'Store');
    expect(Template.fromStack(stack).findOutputs('*')).toEqual({});
  });

  test('fails when the reader is off', () => {
    expect(() => new SplitStore(newStack(), 'Store', { readerUrlOutput: true, readerEnabled: false }))
      .toThrow(/readerUrlOutput is true but the reader has no Function URL \(readerEnabled is false\)\. Fix: remove readerUrlOutput/);
  });

  test('fails when the reader has no Function URL', () => {
    expect(() => new SplitStore(newStack(), 'Store', { readerUrlOutput: true, reader: { functionUrl: false } }))
      .toThrow(/readerUrlOutput is true but the reader has no Function URL \(reader\.functionUrl is false\)/);
  });
});

describe('grantInvokeReaderAndConfigure', () => {
  test('sets the reader\'s name and URL and grants invoking it', () => {
    // GIVEN
    const stack = newStack();
    const store = new SplitStore(stack, 'Store', { reconcilerEnabled: false });
    const fn = appFunction(stack);
    // WHEN
    store.grantInvokeReaderAndConfigure(fn);
    // THEN
    const template = Template.fromStack(stack);
    const readerId = stack.getLogicalId(store.readerFunction!.node.defaultChild as lambda.CfnFunction);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Environment: {
        Variables: {
          SPLIT_STORE_READER_FUNCTION_NAME: { Ref: readerId },
          SPLIT_STORE_READER_URL: { 'Fn::GetAtt': [urlLogicalId(stack, store), 'FunctionUrl'] },
        },
      },
    });
    const statements = Object.values(template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: stack.getLogicalId(fn.role!.node.defaultChild as iam.CfnRole) }] },
    })).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    // Newer aws-cdk-lib also adds a lambda:InvokeFunction limited to calls through the URL to
    // grantInvokeUrl; the store's own grant is unconditional (JSON invocations need it).
    expect([...new Set(statements.map((st: any) => st.Action))].sort()).toEqual(['lambda:InvokeFunction', 'lambda:InvokeFunctionUrl']);
    expect(statements).toContainEqual({ Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [readerId, 'Arn'] } });
  });

  test('sets only the name when the reader has no Function URL', () => {
    const stack = newStack();
    const store = new SplitStore(stack, 'Store', { reconcilerEnabled: false, reader: { functionUrl: false } });
    const fn = appFunction(stack);
    store.grantInvokeReaderAndConfigure(fn);
    const variables = Template.fromStack(stack).findResources('AWS::Lambda::Function', { Properties: { Runtime: 'nodejs22.x' } });
    expect(Object.keys(Object.values(variables)[0].Properties.Environment.Variables)).toEqual(['SPLIT_STORE_READER_FUNCTION_NAME']);
  });

  test('fails when the store has no reader', () => {
    const stack = newStack();
    const store = new SplitStore(stack, 'Store', { readerEnabled: false, reconcilerEnabled: false });
    expect(() => store.grantInvokeReaderAndConfigure(appFunction(stack))).toThrow(/this store has no reader \(readerEnabled is false\)/);
  });
});
