import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';

// Metrics of the store's own functions and queues, shared by SplitStore's metric methods and
// SplitStoreMonitoring (which also watches stores it only knows as ISplitStore).

/**
 * A metric of the reader's Function URL (`AWS/Lambda`, dimension `FunctionName`): `UrlRequestCount`,
 * `Url4xxCount`, `Url5xxCount` (Sum) or `UrlRequestLatency`.
 */
export function functionUrlMetric(fn: lambda.IFunction, metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
  return fn.metric(metricName, { statistic: cloudwatch.Stats.SUM, ...props });
}

/**
 * The share of the reader's answers that were server errors, in percent. With a Function URL:
 * `Url5xxCount / UrlRequestCount` (the reader's own 5xx answers and the function's crashes,
 * which Lambda answers with 502); without one: `Errors / Invocations` (a JSON invocation
 * answers its errors in the payload, so only crashes count). No requests: no data point.
 */
export function readerErrorRate(fn: lambda.IFunction, url: boolean, props: cloudwatch.MetricOptions = {}): cloudwatch.MathExpression {
  const options = { period: props.period, statistic: cloudwatch.Stats.SUM };
  const [errors, requests] = url
    ? [functionUrlMetric(fn, 'Url5xxCount', options), functionUrlMetric(fn, 'UrlRequestCount', options)]
    : [fn.metricErrors(options), fn.metricInvocations(options)];
  return new cloudwatch.MathExpression({
    expression: '100 * FILL(errors, 0) / requests',
    usingMetrics: { errors, requests },
    label: props.label ?? `Reader ${url ? '5xx answers' : 'errors'} (% of ${url ? 'URL requests' : 'invocations'})`,
    period: props.period,
    color: props.color,
  });
}

/** Messages waiting in a queue (`ApproximateNumberOfMessagesVisible`, Maximum). */
export function queueDepth(queue: sqs.IQueue, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
  return queue.metricApproximateNumberOfMessagesVisible({ statistic: cloudwatch.Stats.MAXIMUM, ...props });
}
