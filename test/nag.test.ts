import { App, Aspects, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SplitStore, SplitStoreProps } from '../src';

/** Synthesizes a store under cdk-nag's AwsSolutions pack and returns the stack's annotations. */
function nag(props: (stack: Stack) => SplitStoreProps): Annotations {
  const app = new App();
  const stack = new Stack(app, 'NagStack');
  new SplitStore(stack, 'Store', props(stack));
  Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
  app.synth();
  return Annotations.fromStack(stack);
}

function findings(annotations: Annotations) {
  const pattern = Match.stringLikeRegexp('AwsSolutions-.*');
  return {
    errors: annotations.findError('*', pattern).map(m => `${m.id}: ${m.entry.data}`),
    warnings: annotations.findWarning('*', pattern).map(m => `${m.id}: ${m.entry.data}`),
  };
}

describe('cdk-nag AwsSolutions', () => {
  test('a default store has no unsuppressed error or warning', () => {
    // GIVEN / WHEN
    const result = findings(nag(() => ({})));
    // THEN
    expect(result).toEqual({ errors: [], warnings: [] });
  });

  test('a fully configured store has no unsuppressed error or warning', () => {
    // GIVEN / WHEN
    const result = findings(nag((stack) => {
      const logs = new s3.Bucket(stack, 'AccessLogs', {
        enforceSSL: true,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        // AwsSolutions-S1 on the log bucket itself is the application's concern, not the store's.
      });
      const cfnLogs = logs.node.defaultChild as s3.CfnBucket;
      cfnLogs.addMetadata('cdk_nag', { rules_to_suppress: [{ id: 'AwsSolutions-S1', reason: 'This is the access-log destination bucket.' }] });
      return {
        encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }),
        partitionKey: { name: 'customerId', type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'invoiceId', type: dynamodb.AttributeType.STRING },
        globalSecondaryIndexes: [{
          indexName: 'byIssueDate',
          partitionKey: { name: 'issuedOn', type: dynamodb.AttributeType.STRING },
          sortKey: { name: 'total', type: dynamodb.AttributeType.NUMBER },
        }],
        timeToLiveAttribute: 'expiresAt',
        serverAccessLogsBucket: logs,
        serverAccessLogsPrefix: 'store/',
        retention: Duration.days(14),
      };
    }));
    // THEN
    expect(result).toEqual({ errors: [], warnings: [] });
  });

  test('an unsuppressed finding is reported (the check can fail)', () => {
    // GIVEN / WHEN: a bucket outside the store, with no access logs and no suppression
    const result = findings(nag((stack) => {
      new s3.Bucket(stack, 'Unrelated', { enforceSSL: true });
      return {};
    }));
    // THEN
    expect(result.errors.join('\n')).toMatch(/NagStack\/Unrelated\/Resource: AwsSolutions-S1/);
  });

  test('the default bucket suppresses AwsSolutions-S1 with a reason', () => {
    // GIVEN
    const stack = new Stack(new App(), 'S');
    // WHEN
    const store = new SplitStore(stack, 'Store', { readerEnabled: false, reconcilerEnabled: false });
    // THEN
    const cfn = store.bucket.node.defaultChild as s3.CfnBucket;
    expect(cfn.getMetadata('cdk_nag')).toEqual({
      rules_to_suppress: [{ id: 'AwsSolutions-S1', reason: expect.stringMatching(/Server access logs are opt-in/) }],
    });
  });

  test('a bucket with access logs suppresses nothing', () => {
    // GIVEN
    const stack = new Stack(new App(), 'S');
    // WHEN
    const store = new SplitStore(stack, 'Store', {
      serverAccessLogsBucket: new s3.Bucket(stack, 'Logs'),
      readerEnabled: false,
      reconcilerEnabled: false,
    });
    // THEN
    expect((store.bucket.node.defaultChild as s3.CfnBucket).getMetadata('cdk_nag')).toBeUndefined();
  });
});
