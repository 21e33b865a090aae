/**
 * Snapshot helpers: a stack's template with everything that changes without the
 * construct changing (asset hashes, CDK-generated version metadata) replaced by a marker.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

/** Marker that replaces an asset hash in snapshots. */
export const HASH_REMOVED = '[HASH REMOVED]';

/** Replaces every 64-hex-digit asset hash (e.g. in `Code.S3Key`) with {@link HASH_REMOVED}. */
export function scrubAssetHashes<T>(template: T): T {
  return JSON.parse(JSON.stringify(template).replace(/[a-f0-9]{64}/g, HASH_REMOVED));
}

/** The stack's synthesized template, asset hashes scrubbed, ready for `toMatchSnapshot()`. */
export function snapshotTemplate(stack: Stack): Record<string, unknown> {
  return scrubAssetHashes(Template.fromStack(stack).toJSON());
}
