/**
 * Names the AWS operation an HTTP request carries, as the API references name them: DynamoDB's
 * JSON protocol from `X-Amz-Target`, S3's REST protocol from the method, the path (path-style:
 * `/<bucket>/<key>`) and the query's sub-resource. Shared by the versioned S3 test server and
 * the fault proxy, so both count and match requests under the same names.
 */

/** An S3 request, classified. */
export interface S3Request {
  /** `PutObject`, `ListObjectVersions`, ...; `Unknown` for a sub-resource not listed here. */
  readonly operation: string;
  readonly bucket?: string;
  /** The object key, percent-decoded; undefined for bucket and service requests. */
  readonly key?: string;
  /** `?versionId=` of the request, if any. */
  readonly versionId?: string;
}

/** `DynamoDB_20120810.GetItem` → `GetItem`; undefined when the header is absent. */
export function dynamoDbOperation(target: string | string[] | undefined): string | undefined {
  if (typeof target !== 'string' || target.length === 0) return undefined;
  return target.slice(target.lastIndexOf('.') + 1);
}

type ByMethod = Readonly<Partial<Record<string, string>>>;

/** Object sub-resources (`/<bucket>/<key>?<name>`) and the operation per method. */
const OBJECT_SUBRESOURCES = new Map<string, ByMethod>(Object.entries({
  'uploadId': { PUT: 'UploadPart', POST: 'CompleteMultipartUpload', DELETE: 'AbortMultipartUpload', GET: 'ListParts' },
  'uploads': { POST: 'CreateMultipartUpload' },
  'tagging': { PUT: 'PutObjectTagging', GET: 'GetObjectTagging', DELETE: 'DeleteObjectTagging' },
  'acl': { PUT: 'PutObjectAcl', GET: 'GetObjectAcl' },
  'attributes': { GET: 'GetObjectAttributes' },
  'retention': { PUT: 'PutObjectRetention', GET: 'GetObjectRetention' },
  'legal-hold': { PUT: 'PutObjectLegalHold', GET: 'GetObjectLegalHold' },
  'restore': { POST: 'RestoreObject' },
  'select': { POST: 'SelectObjectContent' },
}));

/** Bucket sub-resources (`/<bucket>?<name>`) and the operation per method. */
const BUCKET_SUBRESOURCES = new Map<string, ByMethod>(Object.entries({
  'versioning': { PUT: 'PutBucketVersioning', GET: 'GetBucketVersioning' },
  'lifecycle': { PUT: 'PutBucketLifecycleConfiguration', GET: 'GetBucketLifecycleConfiguration', DELETE: 'DeleteBucketLifecycle' },
  'notification': { PUT: 'PutBucketNotificationConfiguration', GET: 'GetBucketNotificationConfiguration' },
  'policy': { PUT: 'PutBucketPolicy', GET: 'GetBucketPolicy', DELETE: 'DeleteBucketPolicy' },
  'tagging': { PUT: 'PutBucketTagging', GET: 'GetBucketTagging', DELETE: 'DeleteBucketTagging' },
  'cors': { PUT: 'PutBucketCors', GET: 'GetBucketCors', DELETE: 'DeleteBucketCors' },
  'encryption': { PUT: 'PutBucketEncryption', GET: 'GetBucketEncryption', DELETE: 'DeleteBucketEncryption' },
  'ownershipControls': { PUT: 'PutBucketOwnershipControls', GET: 'GetBucketOwnershipControls', DELETE: 'DeleteBucketOwnershipControls' },
  'publicAccessBlock': { PUT: 'PutPublicAccessBlock', GET: 'GetPublicAccessBlock', DELETE: 'DeletePublicAccessBlock' },
  'metrics': { PUT: 'PutBucketMetricsConfiguration', GET: 'GetBucketMetricsConfiguration', DELETE: 'DeleteBucketMetricsConfiguration' },
  'logging': { PUT: 'PutBucketLogging', GET: 'GetBucketLogging' },
  'object-lock': { PUT: 'PutObjectLockConfiguration', GET: 'GetObjectLockConfiguration' },
  'acl': { PUT: 'PutBucketAcl', GET: 'GetBucketAcl' },
  'location': { GET: 'GetBucketLocation' },
  'uploads': { GET: 'ListMultipartUploads' },
  'versions': { GET: 'ListObjectVersions' },
  'delete': { POST: 'DeleteObjects' },
}));

/**
 * Query parameters that qualify a request without naming another operation: the SDK's
 * `x-id`, `versionId`, `partNumber`, `response-*` overrides, and the SigV4 query
 * authentication of a presigned URL (`X-Amz-Algorithm`, `X-Amz-Signature`, ...).
 */
function isQualifier(name: string): boolean {
  return name === 'versionId' || name === 'x-id' || name === 'partNumber' || name.startsWith('response-') || name.toLowerCase().startsWith('x-amz-');
}

/**
 * Classifies a path-style S3 request. `path` is the request path without the query
 * (`/bucket/some/key`); its segments are percent-decoded.
 */
export function classifyS3Request(method: string, path: string, query: URLSearchParams, headers: Readonly<Record<string, unknown>> = {}): S3Request {
  const segments = path.split('/');
  const bucket = segments[1] ? decodeURIComponent(segments[1]) : undefined;
  const key = segments.length > 2 ? decodeURIComponent(segments.slice(2).join('/')) || undefined : undefined;
  const versionId = query.get('versionId') ?? undefined;
  const sub = [...query.keys()].filter((name) => !isQualifier(name));
  const named = (operation: string): S3Request => ({ operation, bucket, key, versionId });
  if (!bucket) return named(method === 'GET' ? 'ListBuckets' : 'Unknown');

  if (key) {
    if (sub.length === 0) {
      switch (method) {
        case 'PUT': return named(headers['x-amz-copy-source'] ? 'CopyObject' : 'PutObject');
        case 'GET': return named('GetObject');
        case 'HEAD': return named('HeadObject');
        case 'DELETE': return named('DeleteObject');
        default: return named('Unknown');
      }
    }
    // uploadId wins over the other parameters of a multipart request.
    const resource = sub.includes('uploadId') ? 'uploadId' : sub.length === 1 ? sub[0] : undefined;
    return named((resource === undefined ? undefined : OBJECT_SUBRESOURCES.get(resource)?.[method]) ?? 'Unknown');
  }

  // Bucket requests: a sub-resource names the operation; list parameters (prefix, marker...) do not.
  const resource = sub.find((name) => BUCKET_SUBRESOURCES.has(name));
  if (resource !== undefined) return named(BUCKET_SUBRESOURCES.get(resource)?.[method] ?? 'Unknown');
  if (method === 'GET') return named(query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects');
  if (sub.length > 0) return named('Unknown');
  switch (method) {
    case 'PUT': return named('CreateBucket');
    case 'HEAD': return named('HeadBucket');
    case 'DELETE': return named('DeleteBucket');
    default: return named('Unknown');
  }
}
