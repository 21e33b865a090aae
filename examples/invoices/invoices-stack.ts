import { CfnOutput, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
// The package imports itself by name, as your app would. Inside this repository the name
// is mapped to src/index.ts (jest: moduleNameMapper; ts-node: ./register.js; tsc: `paths`
// in test/tsconfig.json); eslint's import resolver does not read those mappings.
// eslint-disable-next-line import/no-unresolved
import { SplitStore } from 'cdk-split-store';
import { Construct } from 'constructs';
import { BY_CUSTOMER_INDEX } from './invoices';

/** Properties of the invoices example stack. */
export interface InvoicesStackProps extends StackProps {
  /**
   * How long deleted or overwritten invoices stay restorable: the table's point-in-time
   * recovery period and the noncurrent-version retention of the parts.
   *
   * @default Duration.days(14)
   */
  readonly retention?: Duration;

  /**
   * Make the stack fully destroyable (integration tests, throwaway environments): the
   * table and bucket are deleted with the stack, deletion protection is off and the
   * bucket is emptied (every object version) before it is deleted.
   *
   * Never set this for real invoices.
   *
   * @default false - table and bucket are retained and the table is deletion-protected
   */
  readonly ephemeral?: boolean;
}

/**
 * The seed's example: an invoice list screen and an invoice page, served by one split store.
 *
 * - Index rows (id, number, customer, issuedAt, total, status) in DynamoDB: the list
 *   screen pages through them, and the `byCustomer` index lists one customer's invoices
 *   newest first, all without touching S3.
 * - Parts in S3: `summary` (painted first), `lines` and `attachments` (large), fetched by
 *   the invoice page through the reference reader's streamed split read.
 */
export class InvoicesStack extends Stack {
  /** The invoice store. */
  public readonly store: SplitStore;

  constructor(scope: Construct, id: string, props: InvoicesStackProps = {}) {
    super(scope, id, props);

    const ephemeral = props.ephemeral ?? false;

    this.store = new SplitStore(this, 'Invoices', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      globalSecondaryIndexes: [{
        indexName: BY_CUSTOMER_INDEX,
        partitionKey: { name: 'customer', type: dynamodb.AttributeType.STRING },
        // ISO 8601 timestamps sort as dates; the list asks for descending order.
        sortKey: { name: 'issuedAt', type: dynamodb.AttributeType.STRING },
      }],
      retention: props.retention ?? Duration.days(14),
      ...(ephemeral
        ? {
          removalPolicy: RemovalPolicy.DESTROY,
          deletionProtection: false,
          bucketProps: { autoDeleteObjects: true },
        }
        : {}),
    });

    new CfnOutput(this, 'TableName', { value: this.store.table.tableName });
    new CfnOutput(this, 'BucketName', { value: this.store.bucket.bucketName });
    if (this.store.readerFunction) {
      new CfnOutput(this, 'ReaderFunctionName', { value: this.store.readerFunction.functionName });
    }
    if (this.store.readerUrl) {
      // IAM auth: sign requests with SigV4 (service 'lambda'), e.g. `awscurl --service lambda`.
      new CfnOutput(this, 'ReaderUrl', { value: this.store.readerUrl.url });
    }
  }
}
