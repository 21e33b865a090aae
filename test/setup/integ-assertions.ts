import { ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { SplitStore } from '../../src';

/**
 * The backup checks every integ test makes after deploying, through AWS's own APIs:
 * DynamoDB reports point-in-time recovery ENABLED with the store's recovery period, and S3
 * reports versioning Enabled on the parts bucket.
 */
export function expectBackups(integ: IntegTest, store: SplitStore, recoveryPeriodInDays: number): void {
  integ.assertions
    .awsApiCall('DynamoDB', 'describeContinuousBackups', { TableName: store.table.tableName })
    .expect(ExpectedResult.objectLike({
      ContinuousBackupsDescription: {
        ContinuousBackupsStatus: 'ENABLED',
        PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'ENABLED', RecoveryPeriodInDays: recoveryPeriodInDays },
      },
    }));

  integ.assertions
    .awsApiCall('S3', 'getBucketVersioning', { Bucket: store.bucket.bucketName })
    .expect(ExpectedResult.objectLike({ Status: 'Enabled' }));
}
