/**
 * s3rver (npm), a third-party S3 emulator without versioning, on a free loopback port with
 * a temporary directory. The S3 contract suite runs against it and against the versioned
 * test server, so the latter is held to someone else's reading of the S3 API.
 */
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { LOOPBACK } from './ports';

/** The part of s3rver's API used here (the package ships no types). */
interface S3rverInstance {
  httpServer?: http.Server;
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

/**
 * s3rver checks SigV4 signatures against this one fixed key pair; any other access key is
 * refused with InvalidAccessKeyId. (The versioned test server accepts any credentials.)
 */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** A running s3rver. */
export interface S3rverHandle {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** The temporary directory holding its buckets (removed by stop()). */
  readonly directory: string;
  /** Closes the server and its connections, then removes the directory. */
  stop(): Promise<void>;
}

/** Starts s3rver on 127.0.0.1 with a fresh temporary directory, silent. */
export async function startS3rver(options: { port?: number } = {}): Promise<S3rverHandle> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3rver = require('s3rver') as S3rverConstructor;
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'split-store-s3rver-'));
  const server = new S3rver({
    address: LOOPBACK,
    port: options.port ?? 0,
    silent: true,
    directory,
    // Path-style only: the SDK is told forcePathStyle, so no bucket is in the Host header.
    vhostBuckets: false,
  });
  let address: { port: number };
  try {
    address = await server.run();
  } catch (e) {
    fs.rmSync(directory, { recursive: true, force: true });
    throw e;
  }
  let stopped = false;
  return {
    endpoint: `http://${LOOPBACK}:${address.port}`,
    directory,
    async stop() {
      if (stopped) return;
      stopped = true;
      const closing = server.close();
      server.httpServer?.closeAllConnections();
      await closing;
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}
