/**
 * Limits of the reference reader's tuning settings, each written once with the reason for its
 * value: the construct refuses reader props outside them (src/reader.ts), and
 * test/reader-tuning.test.ts holds the reader's own defaults equal to them.
 *
 * No CDK import here: this module is bundled into the Lambda assets.
 */

// ---- request bodies

/** Largest request body, as received (before base64 decoding): Lambda's own invoke payload limit. */
export const MAX_BODY_BYTES = 6 * 1024 * 1024;

// ---- reads

/** Per-part S3 timeout of a split read when the caller gives none. */
export const DEFAULT_PART_TIMEOUT_MS = 10_000;

/** Longest per-part timeout a read may ask for: Lambda's own longest timeout (15 minutes). */
export const MAX_PART_TIMEOUT_MS = 900_000;

// ---- the split-read stream

/**
 * Largest size the reader pads each stream line to: Lambda holds back small streamed writes
 * below a few KB, so padding far beyond that only spends bandwidth.
 */
export const MAX_STREAM_MIN_LINE_BYTES = 1024 * 1024;
