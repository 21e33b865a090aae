import * as path from 'path';
import { Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

// The store's Lambda functions run the esbuild bundles in assets/<bundle>/ (built from
// src/<bundle>.ts by the `bundle:*` tasks that .projenrc.ts defines).

/**
 * The Node.js major the bundles are built for (esbuild `--target=node24` in .projenrc.ts) and
 * tested on: the oldest Node.js runtime a store's functions may use.
 */
export const BUNDLE_NODE_MAJOR = 24;

/**
 * Lambda's Node.js 24 runtime. aws-cdk-lib has `Runtime.NODEJS_24_X` from 2.2xx on, the
 * library's floor (2.179.0) has not: use aws-cdk-lib's own where it exists, so that code
 * which compares runtimes (cdk-nag's AwsSolutions-L1 reads `Runtime.ALL`) sees the same
 * object, and define the same runtime where it does not.
 */
export const DEFAULT_NODE_RUNTIME: lambda.Runtime =
  (lambda.Runtime as unknown as Record<string, lambda.Runtime | undefined>).NODEJS_24_X
  ?? new lambda.Runtime(`nodejs${BUNDLE_NODE_MAJOR}.x`, lambda.RuntimeFamily.NODEJS, { supportsInlineCode: true });

/** The bundles in assets/. */
export type Bundle = 'reader.lambda' | 'reconciler.lambda' | 'doctor.lambda';

/** Options of a store function: everything but its code and handler. */
export interface BundledFunctionProps extends lambda.FunctionOptions {
  /** The Lambda runtime, checked with `checkRuntime`. */
  readonly runtime: lambda.Runtime;
}

/** A Lambda function that runs one of the library's bundles. */
export function bundledFunction(scope: Construct, id: string, bundle: Bundle, props: BundledFunctionProps): lambda.Function {
  const fn = new lambda.Function(scope, id, {
    ...props,
    handler: 'index.handler',
    code: lambda.Code.fromAsset(path.join(__dirname, '..', '..', 'assets', bundle)),
  });
  fn.addEnvironment('AWS_NODEJS_CONNECTION_REUSE_ENABLED', '1', { removeInEdge: true });
  return fn;
}

/**
 * Refuses a runtime the bundles cannot run on: another family than Node.js, or a Node.js
 * older than the bundles' target.
 */
export function checkRuntime(prop: string, runtime: lambda.Runtime): void {
  if (Token.isUnresolved(runtime.name)) return;
  const major = /^nodejs(\d+)\.x$/.exec(runtime.name)?.[1];
  const fix = `Fix: remove ${prop} (the default is ${DEFAULT_NODE_RUNTIME.name}) or pass a Node.js runtime of ` +
    `version ${BUNDLE_NODE_MAJOR} or later, e.g. new lambda.Runtime('nodejs${BUNDLE_NODE_MAJOR}.x', lambda.RuntimeFamily.NODEJS).`;
  if (runtime.family !== lambda.RuntimeFamily.NODEJS || major === undefined) {
    throw new Error(
      `SplitStore: ${prop} must be a Node.js runtime ('nodejsNN.x'), got '${runtime.name}': the store's functions ` +
      `are JavaScript bundles. ${fix}`,
    );
  }
  if (Number(major) < BUNDLE_NODE_MAJOR) {
    throw new Error(
      `SplitStore: ${prop} '${runtime.name}' is older than the Node.js ${BUNDLE_NODE_MAJOR} the store's functions are ` +
      `built and tested for. ${fix}`,
    );
  }
}
