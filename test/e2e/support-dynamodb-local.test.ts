/**
 * DynamoDB Local start/stop, and the latency proxy in front of it.
 */
import { CreateTableCommand, DynamoDBClient, GetItemCommand, ListTablesCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbLocal, LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from '../support/dynamodb-local';
import { FaultProxy } from '../support/fault-proxy';
import { LatencyInjector } from '../support/latency';
import { isRunning } from '../support/server-process';

/** One turn of the event loop's I/O phase (setImmediate is not faked). */
const ioTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

function client(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ region: LOCAL_REGION, endpoint, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
}

describe('DynamoDB Local', () => {
  let ddb: DynamoDbLocal;
  let proxy: FaultProxy;
  let direct: DynamoDBClient;

  beforeAll(async () => {
    ddb = await startDynamoDbLocal();
    proxy = await FaultProxy.start({ target: ddb.endpoint });
    direct = client(ddb.endpoint);
    await direct.send(new CreateTableCommand({
      TableName: 'items',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }));
  });

  afterAll(async () => {
    direct?.destroy();
    await proxy?.stop();
    await ddb?.stop();
  });

  test('answers on a loopback endpoint with the process id it runs under', async () => {
    expect(ddb.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(isRunning(ddb.pid)).toBe(true);
    const tables = await direct.send(new ListTablesCommand({}));
    expect(tables.TableNames).toContain('items');
  });

  test('shares one database across credentials (-sharedDb), as an emulated Lambda needs', async () => {
    const other = new DynamoDBClient({
      region: 'eu-west-1', endpoint: ddb.endpoint, credentials: { accessKeyId: 'OTHER', secretAccessKey: 'other' }, maxAttempts: 1,
    });
    try {
      expect((await other.send(new ListTablesCommand({}))).TableNames).toContain('items');
    } finally {
      other.destroy();
    }
  });

  test('the latency proxy forwards, counts per X-Amz-Target operation and delays', async () => {
    const viaProxy = client(proxy.endpoint);
    try {
      proxy.resetStats();
      proxy.setLatency({ perOp: { GetItem: 150 } });
      await viaProxy.send(new PutItemCommand({ TableName: 'items', Item: { pk: { S: 'a' }, n: { N: '1' } } }));
      // The proxy's delay is a timer: with jest's fake timers the test moves time itself, so
      // "not forwarded before 150 ms" is checked without waiting on the machine's clock.
      jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'hrtime', 'performance', 'Date'] });
      const get = viaProxy.send(new GetItemCommand({ TableName: 'items', Key: { pk: { S: 'a' } } }));
      while (proxy.log.length < 2) await ioTurn();
      await jest.advanceTimersByTimeAsync(149);
      for (let i = 0; i < 5; i++) await ioTurn();
      expect(proxy.log[1]).toMatchObject({ operation: 'GetItem', delayMs: 150 });
      expect(proxy.log[1].status).toBeUndefined();
      await jest.advanceTimersByTimeAsync(1);
      expect((await get).Item).toEqual({ pk: { S: 'a' }, n: { N: '1' } });
      expect(proxy.requests).toEqual({ PutItem: 1, GetItem: 1 });
      expect(proxy.log.map((e) => [e.operation, e.delayMs, e.status])).toEqual([['PutItem', 0, 200], ['GetItem', 150, 200]]);
    } finally {
      jest.useRealTimers();
      proxy.setLatency({});
      viaProxy.destroy();
    }
  });

});

describe('LatencyInjector', () => {
  test('seeded jitter draws the same delays twice and stays within base ± jitter', () => {
    const draw = (seed: number) => {
      const injector = new LatencyInjector();
      injector.set({ default: 20, perOp: { GetItem: 100 }, jitterMs: 10, seed });
      return Array.from({ length: 50 }, () => injector.delayFor('Query'));
    };
    const first = draw(42);
    expect(draw(42)).toEqual(first);
    expect(draw(7)).not.toEqual(first);
    expect(Math.min(...first)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...first)).toBeLessThanOrEqual(30);
    expect(new Set(first).size).toBeGreaterThan(10);
  });

  test('per-operation delays override the default; no settings means no delay', () => {
    const injector = new LatencyInjector();
    expect(injector.delayFor('GetItem')).toBe(0);
    injector.set({ default: 5, perOp: { GetItem: 40 } });
    expect(injector.delayFor('GetItem')).toBe(40);
    expect(injector.delayFor('Query')).toBe(5);
  });

  test('fails on a negative delay', () => {
    expect(() => new LatencyInjector().set({ perOp: { GetObject: -1 } })).toThrow('latency GetObject must be a non-negative number of milliseconds, got -1');
  });
});

describe('DynamoDB Local lifecycle', () => {
  test('stop() ends the process; a second stop() is harmless', async () => {
    const ddb = await startDynamoDbLocal();
    expect(isRunning(ddb.pid)).toBe(true);
    await ddb.stop();
    expect(isRunning(ddb.pid)).toBe(false);
    await ddb.stop();
  });

  test('fails with the install hint when Java is missing', async () => {
    await expect(startDynamoDbLocal({ java: '/nonexistent/bin/java' })).rejects.toThrow(
      'Java 17+ is required for DynamoDB Local: apt-get install openjdk-17-jre-headless');
  });
});
