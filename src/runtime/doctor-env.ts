/**
 * The doctor function's own environment variables (the store's are in config.ts), apart from
 * its handler so that the construct reads the names without loading the AWS SDK.
 *
 * No CDK import here: this module is bundled into the Lambda assets.
 */

/** Environment variables of the doctor's function. */
export const DOCTOR_ENV = {
  /** Age (ms) from which an unpinned current version counts as drift: the reconciler's delay. */
  minAgeMs: 'SPLIT_STORE_DOCTOR_MIN_AGE_MS',
} as const;
