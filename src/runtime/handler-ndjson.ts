/**
 * The reader's wire format: how read events become JSON lines (NDJSON over a Function URL)
 * and how a whole split read becomes one JSON document (plain invocation).
 *
 * Part bodies are carried as strings, never re-serialized, so what a client gets is
 * byte-equal to what was written: `encoding: "utf8"` for textual content types whose bytes
 * are valid UTF-8 (JSON parts included: a client runs JSON.parse on `body`), `"base64"` for
 * everything else.
 *
 * No CDK import here: this module is bundled into the Lambda assets.
 */
import type { IndexRow, PartErrorCode, ReadEvent } from './types';

/** One line of the stream. */
export type StreamLine =
  | { readonly type: 'index'; readonly row: IndexRow; readonly atMs: number }
  | ({ readonly type: 'part'; readonly name: string } & EncodedPart & { readonly atMs: number })
  | {
    readonly type: 'part-error';
    readonly name: string;
    readonly code: PartErrorCode;
    readonly message: string;
    readonly requestId?: string;
    readonly atMs: number;
  }
  | { readonly type: 'error'; readonly code: string; readonly message: string; readonly requestId?: string; readonly atMs: number }
  | { readonly type: 'end'; readonly timings: ReadTimings; readonly errors: PartError[]; readonly requestId?: string };

/** A part as sent to a client. */
export interface EncodedPart {
  readonly contentType: string;
  readonly encoding: 'utf8' | 'base64';
  readonly body: string;
  readonly versionId: string;
  readonly refetched: boolean;
}

/** A part that could not be served. */
export interface PartError {
  readonly name: string;
  readonly code: PartErrorCode;
  readonly message: string;
}

/** Timings of a split read, in milliseconds. */
export interface ReadTimings {
  /** When the index row arrived, since the store started the read. */
  readonly indexMs?: number;
  /** When each part (or its error) arrived, since the store started the read. */
  readonly partsMs: Record<string, number>;
  /** The whole request, as the handler measured it. */
  readonly totalMs: number;
}

const TEXT_TYPES = new Set([
  'application/json', 'application/x-ndjson', 'application/xml', 'application/javascript',
  'application/ecmascript', 'application/yaml', 'application/x-yaml', 'application/toml',
  'application/x-www-form-urlencoded', 'application/graphql', 'application/csv',
]);

/** True for media types whose content is text: text/*, JSON, XML, YAML and their +suffix types. */
export function isTextual(contentType: string): boolean {
  const type = contentType.split(';')[0].trim().toLowerCase();
  return type.startsWith('text/') || TEXT_TYPES.has(type) || /\+(json|xml|yaml)$/.test(type);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A part body as a string: UTF-8 text when the type is textual and the bytes decode, else base64. */
export function encodeBody(contentType: string, body: Uint8Array): { encoding: 'utf8' | 'base64'; body: string } {
  if (isTextual(contentType)) {
    try {
      return { encoding: 'utf8', body: utf8.decode(body) };
    } catch {
      // Not valid UTF-8 despite the type: base64 keeps the bytes intact.
    }
  }
  return { encoding: 'base64', body: Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64') };
}

/** Milliseconds rounded to 0.1, enough for timings and short on the wire. */
export function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/**
 * The line a read event becomes. A part error carries the request id (the function log has
 * what failed underneath under that id); its `cause` is never sent.
 */
export function eventToLine(event: ReadEvent, requestId?: string): StreamLine {
  switch (event.type) {
    case 'index':
      return { type: 'index', row: event.row, atMs: roundMs(event.atMs) };
    case 'part':
      return {
        type: 'part',
        name: event.name,
        contentType: event.contentType,
        ...encodeBody(event.contentType, event.body),
        versionId: event.versionId,
        refetched: event.refetched,
        atMs: roundMs(event.atMs),
      };
    case 'part-error':
      return {
        type: 'part-error', name: event.name, code: event.code, message: event.message, ...(requestId ? { requestId } : {}), atMs: roundMs(event.atMs),
      };
  }
}

/**
 * JSON.stringify for rows and lines: DynamoDB sets become arrays, binary attributes base64
 * strings, big integers decimal strings (JSON has no such types).
 */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Set) return [...v];
    if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
    if (typeof v === 'bigint') return v.toString();
    return v;
  });
}

/** Accumulates a split read for the trailer line and for the plain-invocation document. */
export class ReadCollector {
  public row?: IndexRow;
  /** Part name to part (null prototype: part names are the caller's). */
  public readonly parts: Record<string, EncodedPart> = Object.create(null);
  public readonly errors: PartError[] = [];
  /** What failed underneath the part errors (AWS errors), for the log only. */
  public readonly causes: Array<{ readonly name: string; readonly code: PartErrorCode; readonly cause: unknown }> = [];
  private indexMs?: number;
  private readonly partsMs: Record<string, number> = Object.create(null);

  constructor(private readonly requestId?: string) {}

  /** Records an event and returns its line. */
  public add(event: ReadEvent): StreamLine {
    const line = eventToLine(event, this.requestId);
    if (event.type === 'part-error' && event.cause !== undefined) {
      this.causes.push({ name: event.name, code: event.code, cause: event.cause });
    }
    switch (line.type) {
      case 'index':
        this.row = line.row;
        this.indexMs = line.atMs;
        break;
      case 'part': {
        const { type: _type, name, atMs, ...part } = line;
        this.parts[name] = part;
        this.partsMs[name] = atMs;
        break;
      }
      case 'part-error':
        this.errors.push({ name: line.name, code: line.code, message: line.message });
        this.partsMs[line.name] = line.atMs;
        break;
      default:
        break;
    }
    return line;
  }

  /** Number of parts that failed with the given code. */
  public count(code: PartErrorCode): number {
    return this.errors.filter((e) => e.code === code).length;
  }

  public timings(totalMs: number): ReadTimings {
    return { indexMs: this.indexMs, partsMs: Object.assign(Object.create(null), this.partsMs), totalMs: roundMs(totalMs) };
  }
}
