/**
 * The prices the cost model uses: AWS us-east-1 (N. Virginia), on-demand, USD, list
 * prices without free tier, Savings Plans or volume discounts.
 *
 * This is the one place prices live. Every figure names where it was read and when.
 * There is no browser on the machine that built this table: the pages were read through
 * stored copies returned by a search tool on 2026-11-24 (`readOn`), and each copy's own
 * date is given where the page states one. `confidence` says how sure the figure is:
 *
 * - `aws`: the number itself appears on an AWS page we read.
 * - `corroborated`: AWS's own page was read but the stored copy did not show the number;
 *   two or more independent secondary pages agree on it (and, for DynamoDB throughput,
 *   it is exactly half the pre-2024-11-01 list price, matching AWS's announced 50 % cut).
 * - `secondary`: only one secondary page was found. Check it before relying on it.
 * - `unverified`: no page we could read showed the figure; the note says why no result of
 *   the model depends on it.
 *
 * Check every figure against https://aws.amazon.com/dynamodb/pricing/on-demand/ and
 * https://aws.amazon.com/s3/pricing/ before quoting the model's output as a bill.
 */

/** How sure a price figure is; see the module comment. */
export type PriceConfidence = 'aws' | 'corroborated' | 'secondary' | 'unverified';

/** One price, with its unit and provenance. */
export interface Price {
  /** USD per `unit`. */
  readonly usd: number;
  /** What one `usd` buys, e.g. 'per million write request units'. */
  readonly unit: string;
  /** The pages the figure was read from (AWS page first). */
  readonly sources: readonly string[];
  /** When we read it (YYYY-MM-DD). */
  readonly readOn: string;
  readonly confidence: PriceConfidence;
  /** Anything a reader must know about the figure. */
  readonly note?: string;
}

/** The price table the model takes. Tests pass their own round numbers. */
export interface PriceTable {
  readonly region: string;
  /** DynamoDB on-demand write request unit (WRU). */
  readonly dynamoWriteRequestUnit: Price;
  /** DynamoDB on-demand read request unit (RRU). */
  readonly dynamoReadRequestUnit: Price;
  /** DynamoDB Standard table class storage. */
  readonly dynamoStorageGbMonth: Price;
  /** DynamoDB point-in-time recovery (continuous backups), charged on table size. */
  readonly dynamoPitrGbMonth: Price;
  /** S3 Standard storage, first 50 TB per month. */
  readonly s3StorageGbMonth: Price;
  /** S3 Standard PUT, COPY, POST, LIST requests. */
  readonly s3PutCopyPostListPer1000: Price;
  /** S3 Standard GET, SELECT and all other requests. */
  readonly s3GetPer1000: Price;
  /** S3 DELETE requests and lifecycle expiration. */
  readonly s3DeletePer1000: Price;
  /** Data transfer between DynamoDB, S3 and Lambda inside one region. */
  readonly dataTransferInRegionGb: Price;
  /** Lambda requests (invocations). */
  readonly lambdaRequestPerMillion: Price;
  /** Lambda duration on x86_64 (the store's functions set no architecture), first pricing tier. */
  readonly lambdaGbSecondX86: Price;
  /** Lambda response streaming: bytes streamed beyond the first 6 MB of a response. */
  readonly lambdaStreamedGb: Price;
  /** CloudWatch custom metric, first 10,000 metrics; S3 request metrics are billed at this rate. */
  readonly cloudWatchMetricMonth: Price;
}

const READ_ON = '2026-11-24';

/** us-east-1 on-demand prices as read on {@link READ_ON}. */
export const US_EAST_1: PriceTable = {
  region: 'us-east-1',
  dynamoWriteRequestUnit: {
    usd: 0.625,
    unit: 'per million write request units',
    sources: [
      'AWS, "Amazon DynamoDB pricing for on-demand capacity" (aws.amazon.com/dynamodb/pricing/on-demand/): defines the WRU (1 KB per standard write); the stored copy did not show the figure',
      'Airbyte, "Amazon DynamoDB Pricing: On-Demand & Provisioned Plans" (2025-07-21): $0.625 per million WRU, us-east-1, after the 50 % reduction of late 2024',
      'JusDB, "DynamoDB Cost Optimization" (2025-08-19): on-demand throughput reduced by 50 % effective 2024-11-01',
      'Pre-cut list price $1.25 per million WRU (public gist, 2019) x 0.5 = $0.625',
    ],
    readOn: READ_ON,
    confidence: 'corroborated',
  },
  dynamoReadRequestUnit: {
    usd: 0.125,
    unit: 'per million read request units',
    sources: [
      'AWS, "Amazon DynamoDB pricing for on-demand capacity" (aws.amazon.com/dynamodb/pricing/on-demand/): defines the RRU (one strongly consistent read of up to 4 KB, or two eventually consistent); the stored copy did not show the figure',
      'Airbyte, "Amazon DynamoDB Pricing: On-Demand & Provisioned Plans" (2025-07-21): $0.125 per million RRU, us-east-1',
      'Pre-cut list price $0.25 per million RRU (public gist, 2019) x 0.5 = $0.125',
    ],
    readOn: READ_ON,
    confidence: 'corroborated',
    note: 'One page found (infratally.com, 2026) still quotes $0.25 per million RRU, the pre-2024-11-01 price; we use the post-cut figure.',
  },
  dynamoStorageGbMonth: {
    usd: 0.25,
    unit: 'per GB-month (Standard table class)',
    sources: [
      'AWS, "Amazon DynamoDB pricing" overview (aws.amazon.com/dynamodb/pricing/): "The first 25 GB consumed per month is free, and prices start from $0.25 per GB-month thereafter"',
    ],
    readOn: READ_ON,
    confidence: 'aws',
    note: 'The 25 GB free tier is ignored. Each item is billed 100 bytes of indexing overhead on top of its size (AWS developer guide, "DynamoDB item sizes and formats").',
  },
  dynamoPitrGbMonth: {
    usd: 0.20,
    unit: 'per GB-month of table size (continuous backups)',
    sources: [
      'AWS developer guide, "Enable point-in-time recovery in DynamoDB": PITR is charged on table size, and shortening the recovery period does not reduce the charge',
      'finops.com.py, "DynamoDB backup strategy": $0.20 per GB-month',
      'Public gist by Allen Helton (serverless cost sheet): "DDB Backup (PITR) $.20 / GB / month"',
    ],
    readOn: READ_ON,
    confidence: 'corroborated',
    note: 'No AWS page we could read showed the figure itself. The charge does not depend on the recovery window.',
  },
  s3StorageGbMonth: {
    usd: 0.023,
    unit: 'per GB-month (S3 Standard, first 50 TB)',
    sources: [
      'AWS, "Amazon S3 pricing" (aws.amazon.com/s3/pricing/): the stored copy showed the page structure but not the table',
      'CloudBurn, "Amazon S3 Pricing Explained" (2026-03-13, us-east-1): S3 Standard $0.023/GB-month',
      'CloudToggle, "Amazon S3 cost": 1 TB in S3 Standard about $23 per month',
    ],
    readOn: READ_ON,
    confidence: 'corroborated',
    note: 'Noncurrent versions are billed at the same rate as current ones.',
  },
  s3PutCopyPostListPer1000: {
    usd: 0.005,
    unit: 'per 1,000 requests (PUT, COPY, POST, LIST; S3 Standard)',
    sources: [
      'c3x.dev, "S3 request fees explained": Tier 1 (PUT, COPY, POST, LIST) $0.005 per 1,000 at Standard',
      'CloudKaramchari, "Understanding per 1000 PUT, COPY, POST or LIST requests in Amazon S3 pricing": $0.005 per 1,000',
    ],
    readOn: READ_ON,
    confidence: 'corroborated',
  },
  s3GetPer1000: {
    usd: 0.0004,
    unit: 'per 1,000 requests (GET, SELECT and all other; S3 Standard)',
    sources: [
      'c3x.dev, "S3 request fees explained": Tier 2 (GET, HEAD, SELECT) $0.0004 per 1,000 at Standard',
    ],
    readOn: READ_ON,
    confidence: 'secondary',
    note: 'A GET by VersionId is billed like any GET.',
  },
  s3DeletePer1000: {
    usd: 0,
    unit: 'per 1,000 requests (DELETE, lifecycle expiration)',
    sources: [
      'AWS, "Amazon S3 FAQs" (aws.amazon.com/s3/faqs/): "As with standard delete requests, Amazon S3 doesn\'t charge you for removing objects using Object Expiration"',
    ],
    readOn: READ_ON,
    confidence: 'aws',
  },
  dataTransferInRegionGb: {
    usd: 0,
    unit: 'per GB (same region: DynamoDB, S3, Lambda)',
    sources: [
      'AWS, "Amazon S3 FAQs": no data transfer charge between Amazon EC2 (and so Lambda) and Amazon S3 within the same Region',
    ],
    readOn: READ_ON,
    confidence: 'aws',
    note: 'Data transfer out to the internet is not free and is left out of the model (the same bytes leave in every layout).',
  },
  lambdaRequestPerMillion: {
    usd: 0.20,
    unit: 'per million requests',
    sources: [
      'AWS whitepaper, "How AWS Pricing Works", Lambda: "$0.20 per 1 million requests thereafter, or $0.0000002 per request"',
      'AWS, "AWS Lambda pricing" (aws.amazon.com/lambda/pricing/), example 1: "The monthly request price is $0.20 per 1 million requests"',
    ],
    readOn: READ_ON,
    confidence: 'aws',
    note: 'The free tier (1 million requests per month) is ignored.',
  },
  lambdaGbSecondX86: {
    usd: 0.0000166667,
    unit: 'per GB-second (x86_64, first 6 billion GB-seconds per month)',
    sources: [
      'AWS, "AWS Lambda pricing" (aws.amazon.com/lambda/pricing/), example 1: "$0.00001667 per GB-s" (rounded), US East (N. Virginia); duration rounded up to the nearest 1 ms',
      'Cloudchipr, "AWS Lambda Pricing Breakdown" (2024): x86, first 6 billion GB-seconds per month, $0.0000166667 per GB-second',
      'adhdecode, "Lambda cost calculation breakdown": us-east-1 $0.0000166667 per GB-second',
    ],
    readOn: READ_ON,
    confidence: 'corroborated',
    note: 'Arm (Graviton) is about 20 % cheaper; the store\'s functions use the default x86_64. The free tier (400,000 GB-seconds) is ignored.',
  },
  lambdaStreamedGb: {
    usd: 0.008,
    unit: 'per GB streamed beyond the first 6 MB of each response',
    sources: [
      'AWS developer guide, "Response streaming for Lambda functions": "Streaming responses incurs a cost", and the first 6 MB of a response are streamed at uncapped bandwidth; the rate is on the pricing page, whose stored copies did not show it',
      'Cloudchipr, "AWS Lambda Pricing Breakdown" (2024): the free tier includes 100 GiB of response streaming, "with the first 6MB per request free"',
    ],
    readOn: READ_ON,
    confidence: 'unverified',
    note: 'The rate itself was on no page we could read. It multiplies zero in every table of docs/COST.md: a store\'s items are far below 6 MB, so no response has billable streamed bytes.',
  },
  cloudWatchMetricMonth: {
    usd: 0.30,
    unit: 'per metric-month (first 10,000 metrics)',
    sources: [
      'AWS, Amazon S3 user guide, "Monitoring metrics with Amazon CloudWatch": request metrics "are billed at the same rate as the Amazon CloudWatch custom metrics"',
      'cal53.calculator.city, "AWS CloudWatch Custom Metrics Cost Calculator": "$0.30 per metric per month for the first 10,000 metrics"',
    ],
    readOn: READ_ON,
    confidence: 'secondary',
    note: 'CloudWatch prorates a metric by the hours it is published. S3 publishes an operation\'s request metric only in periods with requests of that type (S3 user guide, "CloudWatch metrics configurations").',
  },
};
