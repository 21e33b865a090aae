import { App, Duration, Stack, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SplitStore, SplitStoreProps } from '../src';

function synth(props: SplitStoreProps): Template {
  const stack = new Stack(new App(), 'TestStack');
  new SplitStore(stack, 'Store', { readerEnabled: false, reconcilerEnabled: false, ...props });
  return Template.fromStack(stack);
}

function expectWindow(template: Template, days: number): void {
  template.hasResourceProperties('AWS::DynamoDB::Table', {
    PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: days },
  });
  template.hasResourceProperties('AWS::S3::Bucket', {
    LifecycleConfiguration: {
      Rules: [{
        Id: 'SplitStoreRetention',
        Status: 'Enabled',
        NoncurrentVersionExpiration: { NoncurrentDays: days },
        ExpiredObjectDeleteMarker: true,
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      }],
    },
  });
}

describe('retention', () => {
  test('defaults to 7 days in both places', () => {
    // GIVEN / WHEN
    const template = synth({});
    // THEN
    expectWindow(template, 7);
  });

  test('Duration.days(14) sets 14 in both places', () => {
    // GIVEN / WHEN
    const template = synth({ retention: Duration.days(14) });
    // THEN
    expectWindow(template, 14);
  });

  test('accepts the lower bound, 1 day', () => {
    expectWindow(synth({ retention: Duration.days(1) }), 1);
  });

  test('accepts the upper bound, 35 days', () => {
    expectWindow(synth({ retention: Duration.days(35) }), 35);
  });

  test('accepts whole days given in another unit (Duration.hours(48))', () => {
    expectWindow(synth({ retention: Duration.hours(48) }), 2);
  });

  test('fails when retention is 36 days, saying why and how to fix it', () => {
    expect(() => synth({ retention: Duration.days(36) })).toThrow(
      /retention must be between 1 and 35 days, got 36 days\. The retention window sets both the DynamoDB point-in-time recovery period and how long S3 keeps noncurrent part versions.*Fix: use Duration\.days\(n\) with n between 1 and 35/,
    );
  });

  test('fails when retention is 12 hours, saying why and how to fix it', () => {
    expect(() => synth({ retention: Duration.hours(12) })).toThrow(
      /retention must be a whole number of days, got 12 hours\. .*restored to any point inside the window only holds rows whose pinned S3 versions still exist.*Fix: use Duration\.days\(n\)/,
    );
  });

  test('fails when retention is 0 days', () => {
    expect(() => synth({ retention: Duration.days(0) })).toThrow(/retention must be between 1 and 35 days, got 0 days/);
  });

  test('fails when retention is 36 hours (not a whole number of days)', () => {
    expect(() => synth({ retention: Duration.hours(36) })).toThrow(/retention must be a whole number of days, got 1 day 12 hours/);
  });

  test('skips validation for an unresolved token and uses it in both places', () => {
    // GIVEN
    const days = Token.asNumber({ Ref: 'RetentionDays' });
    // WHEN
    const template = synth({ retention: Duration.days(days) });
    // THEN
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: { Ref: 'RetentionDays' } },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [{ Id: 'SplitStoreRetention', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: { Ref: 'RetentionDays' } }, ExpiredObjectDeleteMarker: true, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }] },
    });
  });
});
