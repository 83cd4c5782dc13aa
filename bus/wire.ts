import { z } from 'zod';
import { fromJson, type RecordedEvent, type RecordedEventJson, toJson } from '../kernel/envelope.ts';
import { AppError, type ErrorKind } from '../kernel/errors.ts';

/**
 * What travels on the bus, validated on the way in: events (JSON of `toJson(event)`), command
 * replies and parked messages. Both adapters go through these codecs so that the in-process bus
 * behaves like the wire (an AppError keeps its kind and code, anything else becomes 'internal').
 */

const ERROR_KINDS = [
  'validation',
  'not_found',
  'conflict',
  'concurrency',
  'rate_limited',
  'payload_too_large',
  'unavailable',
  'upstream',
  'timeout',
  'internal',
] as const satisfies readonly ErrorKind[];

const decimal = z.string().regex(/^\d+$/);

const eventJsonSchema = z.object({
  id: z.string().min(1),
  type: z.string().min(1),
  stream: z.string().min(1),
  revision: decimal,
  position: decimal,
  data: z.unknown(),
  // Loose: metadata fields added later must survive a trip through the bus.
  metadata: z.looseObject({
    correlationId: z.string(),
    causationId: z.string(),
    actor: z.string(),
    traceparent: z.string().optional(),
    schemaVersion: z.number().int(),
  }),
  recordedAt: z.iso.datetime({ offset: true }),
});

const wireErrorSchema = z.object({
  kind: z.string(),
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});

const replySchema = z.union([
  // A handler that returns nothing replies without `result`.
  z.object({ ok: z.literal(true), result: z.unknown().optional() }),
  z.object({ ok: z.literal(false), error: wireErrorSchema }),
]);

const deadLetterSchema = z.object({
  consumer: z.string(),
  event: eventJsonSchema,
  error: z.string(),
  deliveryCount: z.number().int().optional(),
  parkedAt: z.string().optional(),
});

export type WireError = z.infer<typeof wireErrorSchema>;

/** A parked message as stored on the dead-letter stream. */
export interface DeadLetterJson {
  consumer: string;
  event: RecordedEventJson;
  error: string;
  deliveryCount: number;
  parkedAt: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value === undefined ? null : value));
}

function parseJson(bytes: Uint8Array | string, what: string): unknown {
  try {
    return JSON.parse(typeof bytes === 'string' ? bytes : decoder.decode(bytes));
  } catch (e) {
    throw new AppError('validation', 'BUS.BAD_MESSAGE', `${what} is not valid JSON: ${(e as Error).message}`);
  }
}

export function encodeEvent(event: RecordedEvent): Uint8Array {
  return encodeJson(toJson(event));
}

/** Throws AppError('validation', 'BUS.BAD_MESSAGE') on anything that is not an event envelope. */
export function decodeEvent(bytes: Uint8Array | string): RecordedEvent {
  const parsed = eventJsonSchema.safeParse(parseJson(bytes, 'event'));
  if (!parsed.success) {
    throw new AppError('validation', 'BUS.BAD_MESSAGE', `not an event envelope: ${parsed.error.message}`);
  }
  return fromJson(parsed.data as RecordedEventJson);
}

/** Decodes a command payload; an empty body reads as null. */
export function decodeCommandPayload(bytes: Uint8Array): unknown {
  return bytes.length === 0 ? null : parseJson(bytes, 'command payload');
}

export function errorToWire(e: unknown): WireError {
  if (e instanceof AppError) {
    return { kind: e.kind, code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { kind: 'internal', code: 'INTERNAL', message };
}

export function wireToError(w: WireError): AppError {
  const kind = (ERROR_KINDS as readonly string[]).includes(w.kind) ? (w.kind as ErrorKind) : 'internal';
  return new AppError(kind, w.code, w.message, w.details);
}

export function encodeReply(
  reply: { ok: true; result: unknown } | { ok: false; error: WireError },
): Uint8Array {
  return encodeJson(reply);
}

/** Returns the result of a command reply, or throws the AppError it carries. */
export function decodeReply(bytes: Uint8Array): unknown {
  const parsed = replySchema.safeParse(parseJson(bytes, 'command reply'));
  if (!parsed.success) {
    throw new AppError('internal', 'BUS.BAD_REPLY', `malformed command reply: ${parsed.error.message}`);
  }
  if (!parsed.data.ok) throw wireToError(parsed.data.error);
  return parsed.data.result;
}

export function encodeDeadLetter(d: DeadLetterJson): Uint8Array {
  return encodeJson(d);
}

export function decodeDeadLetter(bytes: Uint8Array): {
  consumer: string;
  event: RecordedEvent;
  error: string;
} {
  const parsed = deadLetterSchema.safeParse(parseJson(bytes, 'dead letter'));
  if (!parsed.success) {
    throw new AppError('validation', 'BUS.BAD_MESSAGE', `malformed dead letter: ${parsed.error.message}`);
  }
  const { consumer, event, error } = parsed.data;
  return { consumer, event: fromJson(event as RecordedEventJson), error };
}

export function errorText(e: unknown): string {
  if (e instanceof AppError) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}
