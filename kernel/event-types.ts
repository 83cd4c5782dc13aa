import type { z } from 'zod';
import { AppError } from './errors.ts';

/**
 * A registry of event types: the zod schema of the current version of each type's `data`, and the
 * pure upcasters that lift older versions to it on read. Domains declare their types; adapters and
 * consumers call `upcast` + `parse` when reading.
 */
export interface EventTypeDefinition<S extends z.ZodType = z.ZodType> {
  type: string;
  schemaVersion: number;
  schema: S;
  /** upcasters[v] lifts data of version v to version v + 1. */
  upcasters?: Record<number, (data: unknown) => unknown>;
}

export class EventTypeRegistry {
  private readonly types = new Map<string, EventTypeDefinition>();

  register(...defs: EventTypeDefinition[]): this {
    for (const d of defs) {
      if (this.types.has(d.type)) throw new Error(`event type registered twice: ${d.type}`);
      this.types.set(d.type, d);
    }
    return this;
  }

  get(type: string): EventTypeDefinition | undefined {
    return this.types.get(type);
  }

  has(type: string): boolean {
    return this.types.has(type);
  }

  /** Lifts `data` written at `version` to the current version of `type`, then validates it. */
  upcast(type: string, version: number, data: unknown): unknown {
    const def = this.types.get(type);
    if (!def) return data;
    let v = version;
    let d = data;
    while (v < def.schemaVersion) {
      const up = def.upcasters?.[v];
      if (!up) throw new AppError('internal', 'EVENTS.NO_UPCASTER', `no upcaster for ${type} v${v}`);
      d = up(d);
      v++;
    }
    return def.schema.parse(d);
  }

  /** Validates data about to be appended against the current schema. */
  validate(type: string, data: unknown): unknown {
    const def = this.types.get(type);
    if (!def) throw new AppError('internal', 'EVENTS.UNKNOWN_TYPE', `unknown event type ${type}`);
    return def.schema.parse(data);
  }

  currentVersion(type: string): number {
    return this.types.get(type)?.schemaVersion ?? 1;
  }
}
