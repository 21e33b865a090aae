/**
 * Operation names of S3 and DynamoDB requests (test/support/aws-operations.ts), shared by the
 * versioned S3 test server and the fault proxy.
 */
import { classifyS3Request, dynamoDbOperation } from '../support/aws-operations';

function s3(method: string, url: string, headers: Record<string, string> = {}) {
  const parsed = new URL(url, 'http://localhost');
  return classifyS3Request(method, parsed.pathname, parsed.searchParams, headers);
}

describe('classifyS3Request', () => {
  test.each([
    ['GET', '/', 'ListBuckets'],
    ['PUT', '/b', 'CreateBucket'],
    ['HEAD', '/b', 'HeadBucket'],
    ['DELETE', '/b', 'DeleteBucket'],
    ['PUT', '/b?versioning', 'PutBucketVersioning'],
    ['GET', '/b?versioning', 'GetBucketVersioning'],
    ['PUT', '/b?lifecycle', 'PutBucketLifecycleConfiguration'],
    ['DELETE', '/b?lifecycle', 'DeleteBucketLifecycle'],
    ['PUT', '/b?notification', 'PutBucketNotificationConfiguration'],
    ['GET', '/b?versions&prefix=items%2F&key-marker=a&version-id-marker=v', 'ListObjectVersions'],
    ['GET', '/b?list-type=2&prefix=items%2F&continuation-token=x', 'ListObjectsV2'],
    ['GET', '/b?prefix=items%2F', 'ListObjects'],
    ['POST', '/b?delete', 'DeleteObjects'],
    ['PUT', '/b/k?x-id=PutObject', 'PutObject'],
    ['GET', '/b/k?versionId=v1&x-id=GetObject', 'GetObject'],
    ['GET', '/b/k?response-content-type=text%2Fplain', 'GetObject'],
    ['GET', '/b/k?versionId=v1&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=c&X-Amz-Date=d&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=s', 'GetObject'],
    ['PUT', '/b?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=s', 'CreateBucket'],
    ['HEAD', '/b/k', 'HeadObject'],
    ['DELETE', '/b/k?versionId=v1', 'DeleteObject'],
    ['POST', '/b/k?uploads', 'CreateMultipartUpload'],
    ['PUT', '/b/k?partNumber=1&uploadId=u', 'UploadPart'],
    ['POST', '/b/k?uploadId=u', 'CompleteMultipartUpload'],
    ['PUT', '/b/k?tagging', 'PutObjectTagging'],
    ['PUT', '/b/k?no-such-thing', 'Unknown'],
    ['PUT', '/b?no-such-thing', 'Unknown'],
    ['POST', '/b/k', 'Unknown'],
    ['GET', '/b?constructor', 'ListObjects'],
  ])('%s %s is %s', (method, url, operation) => {
    expect(s3(method, url).operation).toBe(operation);
  });

  test('a PUT with x-amz-copy-source is CopyObject', () => {
    expect(s3('PUT', '/b/k', { 'x-amz-copy-source': '/b/other' }).operation).toBe('CopyObject');
  });

  test('path-style bucket and key are percent-decoded; the key keeps its slashes', () => {
    expect(s3('GET', '/my-bucket/items/acme%252Feu/Z%C3%BCrich%20part?versionId=abc')).toEqual({
      operation: 'GetObject',
      bucket: 'my-bucket',
      key: 'items/acme%2Feu/Zürich part',
      versionId: 'abc',
    });
  });

  test('a trailing slash after the bucket is a bucket request', () => {
    expect(s3('GET', '/b/?list-type=2')).toEqual({ operation: 'ListObjectsV2', bucket: 'b', key: undefined, versionId: undefined });
  });
});

describe('dynamoDbOperation', () => {
  test('takes the operation from X-Amz-Target', () => {
    expect(dynamoDbOperation('DynamoDB_20120810.TransactWriteItems')).toBe('TransactWriteItems');
    expect(dynamoDbOperation('DynamoDBStreams_20120810.GetRecords')).toBe('GetRecords');
  });

  test('is undefined without the header', () => {
    expect(dynamoDbOperation(undefined)).toBeUndefined();
    expect(dynamoDbOperation('')).toBeUndefined();
  });
});
