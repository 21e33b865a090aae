import { App, Duration, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { SplitStore, SplitStoreProps } from '../src';
import { SplitStoreReaderOptions } from '../src/reader';
import { streamOptionsFromEnv } from '../src/runtime/handler';
import { DEFAULT_MAX_BODY_BYTES } from '../src/runtime/handler-request';
import { MAX_BODY_BYTES, MAX_PART_TIMEOUT_MS, MAX_STREAM_MIN_LINE_BYTES } from '../src/runtime/limits';

function readerEnvironment(reader: SplitStoreReaderOptions, props: SplitStoreProps = {}): Record<string, string> {
  const stack = new Stack(new App(), 'Stack');
  new SplitStore(stack, 'Store', { reconcilerEnabled: false, ...props, reader });
  const found = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function', {
    Properties: { Description: Match.stringLikeRegexp('reference reader') },
  }));
  return (found[0] as any).Properties.Environment.Variables;
}

describe('the reader\'s tuning props', () => {
  test('set the variables the reader reads, and the reader reads them back as given', () => {
    // GIVEN / WHEN
    const env = readerEnvironment({
      partTimeout: Duration.seconds(3),
      maxRequestBodySize: Size.mebibytes(1),
      minStreamLineSize: Size.kibibytes(16),
    });
    // THEN
    expect(env).toMatchObject({
      SPLIT_STORE_PART_TIMEOUT_MS: '3000',
      SPLIT_STORE_MAX_BODY_BYTES: '1048576',
      SPLIT_STORE_STREAM_MIN_LINE_BYTES: '16384',
    });
    expect(streamOptionsFromEnv(env)).toEqual({ partTimeoutMs: 3000, maxBodyBytes: 1_048_576, minLineBytes: 16_384 });
  });

  test('unset, they leave the reader\'s defaults (no variable)', () => {
    const env = readerEnvironment({});
    expect(Object.keys(env).filter((name) => /PART_TIMEOUT|MAX_BODY|MIN_LINE/.test(name))).toEqual([]);
    expect(streamOptionsFromEnv(env)).toEqual({});
  });

  test('the limits they are checked against are the reader\'s own: it refuses a variable one past them', () => {
    const past: Array<[string, number]> = [
      ['SPLIT_STORE_PART_TIMEOUT_MS', MAX_PART_TIMEOUT_MS],
      ['SPLIT_STORE_MAX_BODY_BYTES', MAX_BODY_BYTES],
      ['SPLIT_STORE_STREAM_MIN_LINE_BYTES', MAX_STREAM_MIN_LINE_BYTES],
    ];
    for (const [variable, max] of past) {
      expect(() => streamOptionsFromEnv({ [variable]: String(max) })).not.toThrow();
      expect(() => streamOptionsFromEnv({ [variable]: String(max + 1) })).toThrow(`${variable} must be an integer from`);
    }
    expect(DEFAULT_MAX_BODY_BYTES).toBe(MAX_BODY_BYTES);
  });

  test('the largest values are accepted at their exact bound', () => {
    expect(() => readerEnvironment({ maxRequestBodySize: Size.bytes(MAX_BODY_BYTES), minStreamLineSize: Size.mebibytes(1) })).not.toThrow();
    expect(() => readerEnvironment({ timeout: Duration.minutes(15), partTimeout: Duration.millis(MAX_PART_TIMEOUT_MS - 1) })).not.toThrow();
  });
});

describe('refusals', () => {
  test('fails when partTimeout is not shorter than the reader\'s timeout', () => {
    expect(() => readerEnvironment({ partTimeout: Duration.seconds(30) })).toThrow(
      'reader.partTimeout must be between 1 millisecond and 29 seconds 999 millis (shorter than reader.timeout, at most 15 minutes), got 30 seconds',
    );
  });

  test('fails when partTimeout is 0', () => {
    expect(() => readerEnvironment({ partTimeout: Duration.millis(0) })).toThrow('reader.partTimeout must be between 1 millisecond');
  });

  test('fails when maxRequestBodySize is above the Lambda payload limit', () => {
    expect(() => readerEnvironment({ maxRequestBodySize: Size.mebibytes(7) })).toThrow(
      'reader.maxRequestBodySize must be between 1 and 6291456 bytes, got 7340032 bytes (the Lambda invoke payload limit is 6 MiB: a larger body never reaches the reader)',
    );
  });

  test('fails when maxRequestBodySize is 0', () => {
    expect(() => readerEnvironment({ maxRequestBodySize: Size.bytes(0) })).toThrow('reader.maxRequestBodySize must be between 1 and 6291456 bytes, got 0 bytes');
  });

  test('fails when minStreamLineSize is above 1 MiB', () => {
    expect(() => readerEnvironment({ minStreamLineSize: Size.mebibytes(2) })).toThrow(
      'reader.minStreamLineSize must be between 0 and 1048576 bytes, got 2097152 bytes',
    );
  });
});
