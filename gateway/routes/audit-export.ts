import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** How an audit answer is written: one JSON page, or every answer streamed as NDJSON or CSV. */
export type AuditFormat = 'json' | 'ndjson' | 'csv';

const MEDIA: Record<Exclude<AuditFormat, 'json'>, string> = {
  ndjson: 'application/x-ndjson',
  csv: 'text/csv',
};

/** `?format=` wins; else the first of NDJSON or CSV the Accept header asks for (q > 0); else JSON. */
export function auditFormatOf(request: FastifyRequest, format: AuditFormat | undefined): AuditFormat {
  if (format) return format;
  const accept = request.headers.accept ?? '';
  for (const part of accept.split(',')) {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) continue;
    if (type === MEDIA.ndjson) return 'ndjson';
    if (type === MEDIA.csv) return 'csv';
  }
  return 'json';
}

/** A CSV column: its header and how a row's cell is taken. */
export interface CsvColumn<T> {
  header: string;
  cell(row: T): unknown;
}

// A spreadsheet runs a cell that begins with one of these as a formula (OWASP "CSV injection"),
// whatever the quoting: such a cell is written with a leading apostrophe, which shows as text.
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV cell (RFC 4180): objects as JSON, null as empty; quoted when needed; never a formula. */
export function csvCell(value: unknown): string {
  let text =
    value === null || value === undefined
      ? ''
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(cells: readonly unknown[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/**
 * Streams rows as NDJSON or CSV: each row is written as it is read from the log, so the answer is
 * never held whole; the stream's backpressure paces the reading, and a client that goes away stops
 * it (Fastify destroys the stream, which ends the generator and its reading of the log).
 */
export function sendRows<T>(
  reply: FastifyReply,
  format: Exclude<AuditFormat, 'json'>,
  name: string,
  rows: AsyncIterable<T>,
  columns: readonly CsvColumn<T>[],
): FastifyReply {
  async function* lines(): AsyncGenerator<string> {
    if (format === 'csv') yield csvLine(columns.map((c) => c.header));
    for await (const row of rows) {
      yield format === 'csv' ? csvLine(columns.map((c) => c.cell(row))) : `${JSON.stringify(row)}\n`;
    }
  }
  return reply
    .type(format === 'csv' ? 'text/csv; charset=utf-8' : `${MEDIA.ndjson}; charset=utf-8`)
    .header('content-disposition', `attachment; filename="${name}.${format}"`)
    .send(Readable.from(lines()));
}
