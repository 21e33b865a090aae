/**
 * The invoice data model of the example, and a deterministic generator of invoices.
 *
 * An invoice is split in two, the way a split store keeps it:
 * - the index row: the few attributes the invoice list screen shows (and sorts on);
 * - three parts in S3, fetched by the invoice page: `summary` (what the page paints first),
 *   `lines` (the line items) and `attachments` (large: the scanned PDF of the paper invoice).
 *
 * No AWS or CDK import here: the demo and the tests use it, and so could a seeding script.
 */

/** Name of the global secondary index that lists a customer's invoices by date. */
export const BY_CUSTOMER_INDEX = 'byCustomer';

/** The parts every invoice has, in the order the invoice page wants them. */
export const INVOICE_PARTS = ['summary', 'lines', 'attachments'] as const;

/** Name of an invoice part. */
export type InvoicePart = (typeof INVOICE_PARTS)[number];

/** Status of an invoice. */
export type InvoiceStatus = 'draft' | 'sent' | 'paid' | 'overdue' | 'void';

/** The index row: exactly what the list screen needs. */
export interface InvoiceRow {
  /** Partition key of the table. */
  readonly id: string;
  /** Human-facing invoice number, e.g. INV-2026-00042. */
  readonly number: string;
  /** Customer id: partition key of the `byCustomer` index. */
  readonly customer: string;
  /** ISO 8601 timestamp: sort key of the `byCustomer` index (sorts as a date). */
  readonly issuedAt: string;
  /** Amount due, in the invoice's currency, two decimals. */
  readonly total: number;
  readonly status: InvoiceStatus;
}

/** One line item. */
export interface InvoiceLine {
  readonly sku: string;
  readonly description: string;
  readonly quantity: number;
  readonly unitPrice: number;
  readonly amount: number;
}

/** The `summary` part: the top of the invoice page. */
export interface InvoiceSummary {
  readonly number: string;
  readonly customer: { readonly id: string; readonly name: string; readonly address: string };
  readonly issuedAt: string;
  readonly dueAt: string;
  readonly currency: string;
  readonly lineCount: number;
  readonly subtotal: number;
  readonly tax: number;
  readonly total: number;
  readonly status: InvoiceStatus;
}

/** A generated part: its content type, its size, and its body as text or base64. */
export interface GeneratedPart {
  readonly contentType: string;
  /** The body as text (JSON parts). */
  readonly body?: string;
  /** The body as base64 (binary parts). */
  readonly base64?: string;
  /** Size of the body in bytes. */
  readonly size: number;
}

/** A part as the reference reader's put takes it (HTTP PUT body or plain invocation). */
export interface PartPayload {
  readonly contentType: string;
  readonly body?: string;
  readonly base64?: string;
}

/** A generated invoice: its index row and its parts. */
export interface GeneratedInvoice {
  readonly row: InvoiceRow;
  readonly parts: Record<InvoicePart, GeneratedPart>;
}

/** Options of {@link generateInvoices}. */
export interface GenerateOptions {
  /** Same seed, same invoices. @default 42 */
  readonly seed?: number;
  /** Size of each `attachments` part in bytes. @default 48 KiB */
  readonly attachmentBytes?: number;
  /** The newest invoice is issued on this day; the others go back from there. @default 2026-11-23T09:00:00Z */
  readonly newest?: Date;
}

const CUSTOMERS: ReadonlyArray<{ id: string; name: string; address: string }> = [
  { id: 'C-ACME', name: 'Acme Anvils Ltd', address: '1 Canyon Road, Phoenix AZ' },
  { id: 'C-GLOBEX', name: 'Globex Corporation', address: '12 Cypress Creek, Springfield' },
  { id: 'C-INITECH', name: 'Initech', address: '4120 Freidrich Lane, Austin TX' },
  { id: 'C-UMBRELLA', name: 'Umbrella Health', address: '545 S Birdneck Rd, Raccoon City' },
  { id: 'C-STARK', name: 'Stark Industries', address: '10880 Malibu Point, Malibu CA' },
  { id: 'C-WAYNE', name: 'Wayne Enterprises', address: '1007 Mountain Drive, Gotham' },
  { id: 'C-HOOLI', name: 'Hooli', address: '1401 N Shoreline Blvd, Mountain View CA' },
  { id: 'C-VANDELAY', name: 'Vandelay Industries', address: '129 W 81st St, New York NY' },
];

const PRODUCTS: ReadonlyArray<{ sku: string; description: string; price: number }> = [
  { sku: 'SUP-BASIC', description: 'Support plan, basic, monthly', price: 49 },
  { sku: 'SUP-PRO', description: 'Support plan, pro, monthly', price: 299 },
  { sku: 'LIC-SEAT', description: 'User licence, one seat', price: 12.5 },
  { sku: 'STO-TB', description: 'Storage, per TB-month', price: 23 },
  { sku: 'CON-HOUR', description: 'Consulting, per hour', price: 165 },
  { sku: 'TRN-DAY', description: 'Training, on site, per day', price: 1450 },
  { sku: 'HW-ROUTER', description: 'Edge router, refurbished', price: 389.99 },
  { sku: 'SHIP-STD', description: 'Shipping, standard', price: 14.95 },
];

const STATUSES: readonly InvoiceStatus[] = ['paid', 'paid', 'paid', 'sent', 'sent', 'overdue', 'draft', 'void'];

const TAX_RATE = 0.2;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * mulberry32: a tiny deterministic PRNG (floats in [0, 1)), so the same seed always
 * gives the same invoices on every machine.
 */
export function seededRandom(seed: number): () => number {
  /* eslint-disable no-bitwise -- a PRNG is 32-bit integer arithmetic */
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  /* eslint-enable no-bitwise */
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * Generates `count` invoices, newest first: invoice `i` is issued a few hours before
 * invoice `i - 1`. Deterministic for a given seed.
 */
export function generateInvoices(count: number, options: GenerateOptions = {}): GeneratedInvoice[] {
  if (!Number.isInteger(count) || count < 0) {
    throw new Error(`count must be a non-negative integer, got ${count}`);
  }
  const random = seededRandom(options.seed ?? 42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const attachmentBytes = options.attachmentBytes ?? 48 * 1024;
  let issued = (options.newest ?? new Date('2026-11-23T09:00:00Z')).getTime();

  const invoices: GeneratedInvoice[] = [];
  for (let i = 0; i < count; i++) {
    const serial = count - i;
    const customer = pick(CUSTOMERS);
    const lineCount = 1 + Math.floor(random() * 24);
    const lines: InvoiceLine[] = [];
    for (let l = 0; l < lineCount; l++) {
      const product = pick(PRODUCTS);
      const quantity = 1 + Math.floor(random() * 10);
      const amount = round2(quantity * product.price);
      lines.push({ sku: product.sku, description: product.description, quantity, unitPrice: product.price, amount });
    }
    const subtotal = round2(lines.reduce((sum, line) => sum + line.amount, 0));
    const tax = round2(subtotal * TAX_RATE);
    const total = round2(subtotal + tax);
    const issuedAt = new Date(issued).toISOString();
    const number = `INV-${issuedAt.slice(0, 4)}-${String(serial).padStart(5, '0')}`;
    const status = pick(STATUSES);
    const row: InvoiceRow = {
      id: `inv-${String(serial).padStart(5, '0')}`,
      number,
      customer: customer.id,
      issuedAt,
      total,
      status,
    };
    const summary: InvoiceSummary = {
      number,
      customer,
      issuedAt,
      dueAt: new Date(issued + 30 * DAY_MS).toISOString(),
      currency: 'EUR',
      lineCount,
      subtotal,
      tax,
      total,
      status,
    };
    invoices.push({
      row,
      parts: {
        summary: jsonPart(summary),
        lines: jsonPart({ number, lines }),
        attachments: pdfPart(number, attachmentBytes, random),
      },
    });
    issued -= Math.floor((2 + random() * 20) * 60 * 60 * 1000);
  }
  return invoices;
}

/**
 * The `parts` of a put request for an invoice, in the reference reader's wire format:
 * `{ body, contentType }` for text, `{ base64, contentType }` for bytes.
 */
export function partsPayload(invoice: GeneratedInvoice): Record<InvoicePart, PartPayload> {
  const payload = {} as Record<InvoicePart, PartPayload>;
  for (const name of INVOICE_PARTS) {
    const { size: _size, ...part } = invoice.parts[name];
    payload[name] = part;
  }
  return payload;
}

function jsonPart(value: unknown): GeneratedPart {
  const body = JSON.stringify(value);
  return { contentType: 'application/json', body, size: Buffer.byteLength(body) };
}

/** A stand-in for a scanned PDF: a PDF header, then deterministic bytes up to `size`. */
function pdfPart(number: string, size: number, random: () => number): GeneratedPart {
  const bytes = Buffer.alloc(size);
  const header = Buffer.from(`%PDF-1.7\n% ${number} (generated stand-in, not a real PDF)\n`);
  header.copy(bytes, 0, 0, Math.min(header.length, size));
  // Four bytes per draw; the last 0-3 bytes stay zero.
  for (let i = header.length; i + 4 <= size; i += 4) {
    bytes.writeUInt32LE(Math.floor(random() * 0x100000000), i);
  }
  return { contentType: 'application/pdf', base64: bytes.toString('base64'), size };
}
