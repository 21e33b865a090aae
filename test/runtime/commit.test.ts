/**
 * The commit protocol's pure parts, branch by branch (docs/PROTOCOL.md section 5): how one
 * attempt's answer is classified, how the outcome of a commit is judged from it, the
 * condition "the row is still S" for each kind of state, and the proof that one attempt is
 * exactly one HTTP request (the SDK's retries are off for the store's requests).
 */
import { Readable } from 'stream';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  InternalServerError,
  ProvisionedThroughputExceededException,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { encodeRow, encodeTombstone, Item, RowState } from '../../src/runtime/codec';
import {
  AttemptResult,
  classifyCommitError,
  CommitView,
  judgeAttempt,
  judgeObservation,
  newCommitToken,
  nextRevision,
  stateCondition,
} from '../../src/runtime/commit';
import { StoreConfig } from '../../src/runtime/config';
import { RequestAbortedError, RequestTimeoutError, send, withoutSdkRetries } from '../../src/runtime/send';

const config: StoreConfig = {
  tableName: 'Items',
  bucketName: 'parts-bucket',
  keyPrefix: 'items/',
  partitionKey: { name: 'id', type: 'S' },
  indexes: [],
  writerDeadlineMs: 20_000,
};

/** A commit conditioned on a state at revision 4, with token "mine". */
const view: CommitView = { token: 'mine', baseRevision: 4 };

function row(revision: number, token?: string): Item {
  return encodeRow(config, { key: { id: 'a' }, attributes: { id: 'a' }, revision, parts: {} }, token);
}

describe('judgeObservation: is the row we see ours, someone else\'s successor, or unknown?', () => {
  test.each<[string, Item | undefined, boolean, string]>([
    ['our token: landed (an earlier attempt applied)', row(5, 'mine'), true, 'landed'],
    ['our token, even without any ambiguity', row(5, 'mine'), false, 'landed'],
    ['not ours and no attempt was ambiguous: not landed', row(7, 'other'), false, 'not-landed'],
    ['no row and no attempt ambiguous: not landed', undefined, false, 'not-landed'],
    ['not ours, at base + 1: the one successor of our state is someone else\'s', row(5, 'other'), true, 'not-landed'],
    ['a v1 row at base + 1 (a v1 writer came first)', row(5), true, 'not-landed'],
    ['not ours, two states past: ours may have landed and been replaced', row(6, 'other'), true, 'unknown'],
    ['still the state we conditioned on: an attempt may still be on its way', row(4, 'before'), true, 'unknown'],
    ['the row vanished', undefined, true, 'unknown'],
  ])('%s', (_name, item, anyAmbiguous, expected) => {
    const observed = item && { revision: Number(item._rev.N), token: item._tok?.S };
    expect(judgeObservation(view, observed, anyAmbiguous)).toBe(expected);
  });
});

describe('judgeAttempt', () => {
  const ambiguous: AttemptResult = { kind: 'ambiguous', error: new Error('reset') };
  const throttled: AttemptResult = { kind: 'refused', retryable: true, error: new Error('throttled') };
  const invalid: AttemptResult = { kind: 'refused', retryable: false, error: new Error('too big') };

  test('success: landed, with the committed item', () => {
    expect(judgeAttempt(view, { kind: 'applied', item: row(5, 'mine') }, true, true)).toEqual({ kind: 'landed', item: row(5, 'mine') });
  });

  test('condition failed on our own row (the lost reply of an earlier attempt): landed, with that row', () => {
    expect(judgeAttempt(view, { kind: 'condition-failed', current: row(5, 'mine') }, true, true))
      .toEqual({ kind: 'landed', item: row(5, 'mine') });
  });

  test('condition failed, no earlier attempt ambiguous: not landed (conflict), whatever the row', () => {
    expect(judgeAttempt(view, { kind: 'condition-failed', current: row(9, 'other') }, false, true))
      .toEqual({ kind: 'not-landed', cause: 'conflict' });
  });

  test('condition failed after an ambiguous attempt, row at base + 1 and not ours: not landed', () => {
    expect(judgeAttempt(view, { kind: 'condition-failed', current: row(5, 'other') }, true, true))
      .toEqual({ kind: 'not-landed', cause: 'conflict' });
  });

  test('condition failed after an ambiguous attempt, row further along: unknown', () => {
    expect(judgeAttempt(view, { kind: 'condition-failed', current: row(6, 'other') }, true, true)).toEqual({ kind: 'unknown' });
  });

  test('condition failed after an ambiguous attempt, no row returned: unknown', () => {
    expect(judgeAttempt(view, { kind: 'condition-failed' }, true, true)).toEqual({ kind: 'unknown' });
  });

  test('throttled while attempts remain: resend the same commit', () => {
    expect(judgeAttempt(view, throttled, false, true)).toEqual({ kind: 'resend' });
    expect(judgeAttempt(view, throttled, true, true)).toEqual({ kind: 'resend' });
  });

  test('refused, nothing ambiguous before: not landed (refused), with the error', () => {
    expect(judgeAttempt(view, invalid, false, true)).toEqual({ kind: 'not-landed', cause: 'refused', error: invalid.error });
    expect(judgeAttempt(view, throttled, false, false)).toEqual({ kind: 'not-landed', cause: 'refused', error: throttled.error });
  });

  test('refused after an ambiguous attempt, no resend possible: verify by reading the row', () => {
    expect(judgeAttempt(view, invalid, true, true)).toEqual({ kind: 'verify' });
    expect(judgeAttempt(view, throttled, true, false)).toEqual({ kind: 'verify' });
  });

  test('ambiguous: resend while allowed, then verify', () => {
    expect(judgeAttempt(view, ambiguous, false, true)).toEqual({ kind: 'resend' });
    expect(judgeAttempt(view, ambiguous, true, false)).toEqual({ kind: 'verify' });
    expect(judgeAttempt(view, ambiguous, false, false)).toEqual({ kind: 'verify' });
  });
});

describe('classifyCommitError', () => {
  const status = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });

  test('ConditionalCheckFailed carries the row DynamoDB returned (ALL_OLD)', () => {
    const e = new ConditionalCheckFailedException({ message: 'failed', ...status(400), Item: row(5, 'x') });
    expect(classifyCommitError(e)).toEqual({ kind: 'condition-failed', current: row(5, 'x') });
  });

  test('ConditionalCheckFailed without a row: no row', () => {
    const e = new ConditionalCheckFailedException({ message: 'failed', ...status(400) });
    expect(classifyCommitError(e)).toEqual({ kind: 'condition-failed', current: undefined });
  });

  test('throttling is a definite refusal that may be sent again', () => {
    const e = new ProvisionedThroughputExceededException({ message: 'slow down', ...status(400) });
    expect(classifyCommitError(e)).toEqual({ kind: 'refused', retryable: true, error: e });
  });

  test('a validation error is a definite refusal not worth resending', () => {
    const e = Object.assign(new Error('Item size has exceeded the maximum allowed size'), { name: 'ValidationException', ...status(400) });
    expect(classifyCommitError(e)).toEqual({ kind: 'refused', retryable: false, error: e });
  });

  test.each<[string, unknown]>([
    ['a 5xx', new InternalServerError({ message: 'boom', ...status(500) })],
    ['a timeout of ours', new RequestTimeoutError('PutItem', 100)],
    ['the caller\'s abort', new RequestAbortedError('PutItem')],
    ['a connection reset (no HTTP answer)', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['a 4xx DynamoDB does not send for a refusal (from a proxy, say)', Object.assign(new Error('teapot'), { name: 'Teapot', ...status(418) })],
    ['a ConditionalCheckFailed that came with a 5xx', Object.assign(new Error('odd'), { name: 'ConditionalCheckFailedException', ...status(500) })],
  ])('%s is ambiguous: it may have been applied', (_name, e) => {
    expect(classifyCommitError(e)).toEqual({ kind: 'ambiguous', error: e });
  });
});

describe('stateCondition: "the row is still S"', () => {
  const live = (token?: string): RowState => ({
    kind: 'live', revision: 3, token, item: row(3, token), row: { key: { id: 'a' }, attributes: { id: 'a' }, revision: 3, parts: {} },
  });

  test.each<[string, RowState, string, Record<string, string>, Record<string, unknown>]>([
    ['no row', { kind: 'none' }, 'attribute_not_exists(#pk)', { '#pk': 'id' }, {}],
    ['a v2 row: its token', live('t-3'), '#tok = :state_tok', { '#tok': '_tok' }, { ':state_tok': { S: 't-3' } }],
    ['a tombstone: its token', { kind: 'tombstone', revision: 8, token: 't-8' }, '#tok = :state_tok', { '#tok': '_tok' }, { ':state_tok': { S: 't-8' } }],
    ['a v1 row: its revision, and no token or protocol version', live(undefined),
      '#rev = :state_rev AND attribute_not_exists(#tok) AND attribute_not_exists(#proto)',
      { '#tok': '_tok', '#rev': '_rev', '#proto': '_proto' }, { ':state_rev': { N: '3' } }],
  ])('%s', (_name, state, expression, names, values) => {
    const n: Record<string, string> = {};
    const v: Record<string, Item[string]> = {};
    expect(stateCondition(config, state, n, v)).toBe(expression);
    expect(n).toEqual(names);
    expect(v).toEqual(values);
  });

  test('revisions continue across a tombstone, and start at 1 for a key never written', () => {
    expect(nextRevision({ kind: 'none' })).toBe(1);
    expect(nextRevision({ kind: 'tombstone', revision: 8, token: 't' })).toBe(9);
    expect(nextRevision(live('t'))).toBe(4);
  });

  test('a tombstone holds the key, the revision, the token and the version, nothing else', () => {
    expect(encodeTombstone(config, { id: 'a' }, 9, 'tok')).toEqual({
      id: { S: 'a' }, _rev: { N: '9' }, _tok: { S: 'tok' }, _proto: { N: '2' }, _del: { BOOL: true },
    });
  });

  test('commit tokens are 16 random bytes, base64url, and do not repeat', () => {
    const tokens = new Set(Array.from({ length: 1000 }, newCommitToken));
    expect(tokens.size).toBe(1000);
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

describe('one attempt is one HTTP request', () => {
  /** A DynamoDB client whose HTTP handler answers 500 to everything and counts the requests. */
  function failingClient(): { client: DynamoDBClient; requests: () => number } {
    let requests = 0;
    const client = new DynamoDBClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      requestHandler: {
        handle: async () => {
          requests++;
          return {
            response: {
              statusCode: 500,
              headers: { 'content-type': 'application/x-amz-json-1.0' },
              body: Readable.from([Buffer.from('{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"boom"}')]),
            },
          };
        },
      } as never,
    });
    return { client, requests: () => requests };
  }
  const input = { TableName: 'Items', Item: { id: { S: 'a' } } };

  test('control: a plain send of the SDK makes several requests (its default retries; 4 for DynamoDB in this SDK)', async () => {
    const { client, requests } = failingClient();
    await expect(client.send(new PutItemCommand(input))).rejects.toThrow('boom');
    expect(requests()).toBeGreaterThan(1);
  });

  test('a command without the SDK retry middleware makes exactly 1 request', async () => {
    const { client, requests } = failingClient();
    await expect(client.send(withoutSdkRetries(new PutItemCommand(input)))).rejects.toThrow('boom');
    expect(requests()).toBe(1);
  });

  test('send(): one request per attempt, and attempts only when asked for', async () => {
    const { client, requests } = failingClient();
    await expect(send(client, 'PutItem', () => new PutItemCommand(input), { timeoutMs: 5_000 })).rejects.toThrow('boom');
    expect(requests()).toBe(1);
    await expect(send(client, 'PutItem', () => new PutItemCommand(input), { timeoutMs: 5_000, attempts: 2, retryDelayMs: 1 }))
      .rejects.toThrow('boom');
    expect(requests()).toBe(3);
  });

  test('send(): an attempt that does not answer in time is abandoned with RequestTimeoutError', async () => {
    let aborted = false;
    const hanging = {
      send: (_command: unknown, options?: { abortSignal?: AbortSignal }) => new Promise((_, reject) => {
        options?.abortSignal?.addEventListener('abort', () => {
          aborted = true;
          reject(new Error('aborted by the signal'));
        });
      }),
    };
    await expect(send(hanging, 'GetItem', () => new PutItemCommand(input), { timeoutMs: 5 })).rejects.toBeInstanceOf(RequestTimeoutError);
    expect(aborted).toBe(true);
  });

  test('send(): the caller\'s signal ends the attempt with RequestAbortedError and stops retrying', async () => {
    const controller = new AbortController();
    let calls = 0;
    const hanging = {
      send: () => {
        calls++;
        setImmediate(() => controller.abort());
        return new Promise(() => undefined);
      },
    };
    await expect(send(hanging, 'GetItem', () => new PutItemCommand(input), { timeoutMs: 60_000, attempts: 3, signal: controller.signal }))
      .rejects.toBeInstanceOf(RequestAbortedError);
    expect(calls).toBe(1);
  });
});
