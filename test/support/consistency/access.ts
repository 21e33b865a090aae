/**
 * The two ways a consistency client reaches the store, answering in one shape: the protocol
 * runtime in process (`SplitStoreClient`), or the built reader bundle in the Lambda
 * emulation (plain invocations for writes and lists, the streamed Function URL read for gets).
 */
import type { SplitStoreClient } from '../../../src/runtime/store';
import type { PutRequest, UpdatePartsRequest, DeleteRequest, IndexRow } from '../../../src/runtime/types';
import type { LambdaRuntime } from '../lambda-runtime';
import { imageOfRow, PartFailure, RowImage, ServedPart } from './history';

/** What an operation was answered. */
export interface Outcome {
  readonly status: number;
  readonly code?: string;
  readonly message?: string;
  readonly row?: RowImage;
  readonly served?: ServedPart[];
  readonly partErrors?: PartFailure[];
  readonly listed?: RowImage[];
}

/** A store as a consistency client uses it. */
export interface StoreAccess {
  readonly via: 'client' | 'lambda';
  put(item: string, request: PutRequest): Promise<Outcome>;
  updateParts(item: string, request: UpdatePartsRequest): Promise<Outcome>;
  delete(item: string, request: DeleteRequest): Promise<Outcome>;
  /** `parts` undefined: every pinned part; []: the index row only. */
  get(item: string, key: Record<string, string>, parts: readonly string[] | undefined): Promise<Outcome>;
  list(): Promise<Outcome>;
}

const MAX_MESSAGE = 300;

/** The answer of an operation that threw: a store error's status and code, else 0. */
export function failureOutcome(e: unknown): Outcome {
  const error = e as { statusCode?: unknown; code?: unknown; name?: unknown; message?: unknown };
  const status = typeof error?.statusCode === 'number' ? error.statusCode : 0;
  const code = typeof error?.code === 'string' ? error.code : typeof error?.name === 'string' ? error.name : 'Error';
  return { status, code, message: String(error?.message ?? e).slice(0, MAX_MESSAGE) };
}

/** The protocol runtime in this process. */
export class ClientAccess implements StoreAccess {
  public readonly via = 'client';

  constructor(private readonly store: SplitStoreClient, private readonly partTimeoutMs: number) {}

  public async put(item: string, request: PutRequest): Promise<Outcome> {
    return this.attempt(async () => ({ status: 200, row: imageOfRow(item, await this.store.put(request)) }));
  }

  public async updateParts(item: string, request: UpdatePartsRequest): Promise<Outcome> {
    return this.attempt(async () => ({ status: 200, row: imageOfRow(item, await this.store.updateParts(request)) }));
  }

  public async delete(item: string, request: DeleteRequest): Promise<Outcome> {
    return this.attempt(async () => ({ status: 200, row: imageOfRow(item, await this.store.delete(request)) }));
  }

  public async get(item: string, key: Record<string, string>, parts: readonly string[] | undefined): Promise<Outcome> {
    let row: RowImage | undefined;
    const served: ServedPart[] = [];
    const partErrors: PartFailure[] = [];
    try {
      for await (const event of this.store.get({ key, parts: parts === undefined ? undefined : [...parts], partTimeoutMs: this.partTimeoutMs })) {
        if (event.type === 'index') row = imageOfRow(item, event.row);
        else if (event.type === 'part') served.push({ name: event.name, versionId: event.versionId, body: Buffer.from(event.body).toString('utf8') });
        else partErrors.push({ name: event.name, code: event.code, message: event.message.slice(0, MAX_MESSAGE) });
      }
    } catch (e) {
      if (row === undefined) return failureOutcome(e);
      // The row was served, then the read failed: what was served still counts.
      partErrors.push({ name: '*', code: failureOutcome(e).code ?? 'Error', message: failureOutcome(e).message });
    }
    return { status: 200, row, served, partErrors };
  }

  public async list(): Promise<Outcome> {
    return this.attempt(async () => {
      const page = await this.store.list({ limit: 100 });
      return { status: 200, listed: page.items.map((r) => imageOfRow(String(Object.values(r.key)[0]), r)) };
    });
  }

  private async attempt(run: () => Promise<Outcome>): Promise<Outcome> {
    try {
      return await run();
    } catch (e) {
      return failureOutcome(e);
    }
  }
}

/** Part inputs as the reader's JSON takes them: text bodies. */
function jsonParts(parts: PutRequest['parts']): Record<string, { body: string }> | undefined {
  if (parts === undefined) return undefined;
  const out: Record<string, { body: string }> = {};
  for (const [name, part] of Object.entries(parts)) {
    out[name] = { body: typeof part.body === 'string' ? part.body : Buffer.from(part.body).toString('utf8') };
  }
  return out;
}

interface InvocationDocument {
  readonly ok: boolean;
  readonly result?: any;
  readonly error?: { readonly statusCode: number; readonly code: string; readonly message: string };
}

/** The built reader bundle in one emulated Lambda execution environment. */
export class LambdaAccess implements StoreAccess {
  public readonly via = 'lambda';

  constructor(private readonly runtime: LambdaRuntime) {}

  public async put(item: string, request: PutRequest): Promise<Outcome> {
    return this.invoke({ operation: 'put', ...request, parts: jsonParts(request.parts) }, (result) => ({ row: imageOfRow(item, result as IndexRow) }));
  }

  public async updateParts(item: string, request: UpdatePartsRequest): Promise<Outcome> {
    return this.invoke({ operation: 'updateParts', ...request, parts: jsonParts(request.parts) }, (result) => ({ row: imageOfRow(item, result as IndexRow) }));
  }

  public async delete(item: string, request: DeleteRequest): Promise<Outcome> {
    return this.invoke({ operation: 'delete', ...request }, (result) => ({ row: imageOfRow(item, (result as { deleted: IndexRow }).deleted) }));
  }

  public async list(): Promise<Outcome> {
    return this.invoke({ operation: 'list', limit: 100 }, (result) => ({
      listed: (result as { items: IndexRow[] }).items.map((r) => imageOfRow(String(Object.values(r.key)[0]), r)),
    }));
  }

  /** The streamed split read of the Function URL: NDJSON, the row first, then each part. */
  public async get(item: string, _key: Record<string, string>, parts: readonly string[] | undefined): Promise<Outcome> {
    let response;
    try {
      response = await this.runtime.invokeUrl('GET', `/items/${encodeURIComponent(item)}`, parts === undefined ? {} : { query: { parts: parts.join(',') } });
    } catch (e) {
      return failureOutcome(e);
    }
    if (response.statusCode !== 200) {
      let error: { code?: string; message?: string } = {};
      try {
        error = (JSON.parse(response.text) as { error?: typeof error }).error ?? {};
      } catch {
        error = { message: response.text };
      }
      return { status: response.statusCode, code: error.code ?? response.error?.name, message: (error.message ?? response.error?.message ?? '').slice(0, MAX_MESSAGE) };
    }
    let row: RowImage | undefined;
    const served: ServedPart[] = [];
    const partErrors: PartFailure[] = [];
    let ended = false;
    for (const line of response.lines) {
      const event = line.json as Record<string, any> | undefined;
      switch (event?.type) {
        case 'index':
          row = imageOfRow(item, event.row as IndexRow);
          break;
        case 'part':
          served.push({
            name: event.name,
            versionId: event.versionId,
            body: event.encoding === 'base64' ? Buffer.from(String(event.body), 'base64').toString('utf8') : String(event.body),
          });
          break;
        case 'part-error':
          partErrors.push({ name: event.name, code: event.code, message: String(event.message ?? '').slice(0, MAX_MESSAGE) });
          break;
        case 'error':
          partErrors.push({ name: '*', code: event.code, message: String(event.message ?? '').slice(0, MAX_MESSAGE) });
          break;
        case 'end':
          ended = true;
          break;
        default:
          partErrors.push({ name: '*', code: 'BadLine', message: line.text.slice(0, MAX_MESSAGE) });
      }
    }
    if (!ended) partErrors.push({ name: '*', code: 'CutShort', message: 'the stream has no end line' });
    return { status: 200, row, served, partErrors };
  }

  private async invoke(event: object, onSuccess: (result: unknown) => Omit<Outcome, 'status'>): Promise<Outcome> {
    let document: InvocationDocument;
    try {
      document = await this.runtime.invoke(event) as InvocationDocument;
    } catch (e) {
      return failureOutcome(e);
    }
    if (!document?.ok) {
      return { status: document?.error?.statusCode ?? 0, code: document?.error?.code, message: document?.error?.message?.slice(0, MAX_MESSAGE) };
    }
    return { status: 200, ...onSuccess(document.result) };
  }
}
