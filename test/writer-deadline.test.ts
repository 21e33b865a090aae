import { App, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SplitStore, SplitStoreProps } from '../src';

function storeIn(props: SplitStoreProps): { stack: Stack; store: SplitStore } {
  const stack = new Stack(new App(), 'Stack');
  return { stack, store: new SplitStore(stack, 'Store', props) };
}

/** SPLIT_STORE_WRITER_DEADLINE_MS of every function wired to the store, by function description. */
function deadlines(stack: Stack): Record<string, unknown> {
  const functions = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))
    .filter((fn: any) => fn.Properties.Environment?.Variables?.SPLIT_STORE_TABLE_NAME !== undefined);
  return Object.fromEntries(functions.map((fn: any) => [
    fn.Properties.Description ?? fn.Properties.Handler,
    fn.Properties.Environment?.Variables?.SPLIT_STORE_WRITER_DEADLINE_MS,
  ]));
}

function appFunction(stack: Stack): lambda.Function {
  return new lambda.Function(stack, 'App', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'app.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {};'),
  });
}

describe('writerDeadline on the store', () => {
  test('reaches every writer: the reader, the reconciler, the doctor and grantAndConfigure\'d functions', () => {
    // GIVEN
    const { stack, store } = storeIn({ writerDeadline: Duration.seconds(40), doctorEnabled: true });
    // WHEN
    store.grantAndConfigure(appFunction(stack));
    // THEN
    const found = deadlines(stack);
    expect(Object.values(found)).toEqual(['40000', '40000', '40000', '40000']);
    expect(store.writerDeadline.toSeconds()).toBe(40);
  });

  test('the reader\'s default timeout follows a long deadline (deadline plus 10 seconds)', () => {
    const { stack } = storeIn({ writerDeadline: Duration.seconds(40) });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('reference reader'),
      Timeout: 50,
    });
  });

  test('a store without the reader can set it', () => {
    // GIVEN
    const { stack, store } = storeIn({ readerEnabled: false, writerDeadline: Duration.seconds(10) });
    // WHEN
    store.grantAndConfigure(appFunction(stack));
    // THEN
    expect(deadlines(stack)['app.handler']).toBe('10000');
  });

  test('the default is 20 seconds', () => {
    const { stack, store } = storeIn({});
    store.grantAndConfigure(appFunction(stack));
    expect(new Set(Object.values(deadlines(stack)))).toEqual(new Set(['20000']));
  });

  test('fails when it is not whole seconds', () => {
    expect(() => storeIn({ writerDeadline: Duration.millis(1500) })).toThrow(
      'writerDeadline must be a whole number of seconds, at least 1, got 1 second 500 millis. Use Duration.seconds(n).',
    );
  });

  test('fails when the reconciler\'s delay does not exceed it by 30 seconds, naming the prop', () => {
    expect(() => storeIn({ writerDeadline: Duration.minutes(5) })).toThrow(
      'reconciler.delay (5 minutes) must exceed writerDeadline (5 minutes) by at least 30 seconds',
    );
  });

  test('fails when the reader\'s timeout leaves no time to compensate, naming the prop', () => {
    expect(() => storeIn({ writerDeadline: Duration.seconds(30), reader: { timeout: Duration.seconds(30) } })).toThrow(
      'reader.timeout (30 seconds) must exceed writerDeadline (30 seconds) by at least 5 seconds',
    );
  });

  test('a token in milliseconds is left to deploy time; one in seconds is refused', () => {
    const { stack } = storeIn({ reconcilerEnabled: false, readerEnabled: false });
    const ms = new CfnParameter(stack, 'DeadlineMs', { type: 'Number' }).valueAsNumber;
    expect(() => new SplitStore(stack, 'Tokens', { writerDeadline: Duration.millis(ms), reconcilerEnabled: false, readerEnabled: false })).not.toThrow();
    const seconds = new CfnParameter(stack, 'DeadlineS', { type: 'Number' }).valueAsNumber;
    expect(() => new SplitStore(stack, 'Seconds', { writerDeadline: Duration.seconds(seconds), reconcilerEnabled: false, readerEnabled: false })).toThrow(
      'writerDeadline comes from a token in seconds, which cannot be converted to milliseconds before deployment',
    );
  });
});

describe('the deprecated reader.writerDeadline', () => {
  test('is still honoured, store-wide, with a warning', () => {
    // GIVEN
    const { stack, store } = storeIn({ reader: { writerDeadline: Duration.seconds(15) } });
    // WHEN
    store.grantAndConfigure(appFunction(stack));
    // THEN
    expect(new Set(Object.values(deadlines(stack)))).toEqual(new Set(['15000']));
    const warnings = Annotations.fromStack(stack).findWarning('/Stack/Store', Match.stringLikeRegexp('reader.writerDeadline is deprecated'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0].entry.data).toContain('[ack: cdk-split-store:readerWriterDeadline]');
  });

  test('the same value in both places is accepted', () => {
    expect(() => storeIn({ writerDeadline: Duration.seconds(15), reader: { writerDeadline: Duration.seconds(15) } })).not.toThrow();
  });

  test('fails when both are set and differ', () => {
    expect(() => storeIn({ writerDeadline: Duration.seconds(15), reader: { writerDeadline: Duration.seconds(10) } })).toThrow(
      'SplitStore: writerDeadline (15 seconds) and reader.writerDeadline (10 seconds) differ. The deadline is store-wide: ' +
      'the reader, every function wired with grantAndConfigure and the reconciler\'s delay use one. ' +
      'Fix: remove reader.writerDeadline (deprecated) and keep writerDeadline.',
    );
  });

  test('errors name the prop it was set with', () => {
    expect(() => storeIn({ reader: { writerDeadline: Duration.millis(2500) } })).toThrow(
      'reader.writerDeadline must be a whole number of seconds, at least 1',
    );
    expect(() => storeIn({ reader: { writerDeadline: Duration.minutes(5) } })).toThrow(
      'must exceed reader.writerDeadline (5 minutes)',
    );
  });
});
