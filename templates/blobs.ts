import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ReadModelTables } from '../projections/db.ts';

/**
 * Template file contents, content-addressed by sha256 in `template_blobs`. Events name files by
 * hash only (a template can be megabytes; events stay small and NATS-sized); the bytes live here,
 * written before the event that refers to them, and never change or go away — so any published
 * version can be generated again later, whatever happened to its source since.
 */
export interface BlobStore {
  put(files: ReadonlyArray<{ sha256: string; content: Buffer }>): Promise<void>;
  /** The contents of these hashes; a missing one is an error (the catalog refers to it). */
  get(hashes: readonly string[]): Promise<Map<string, Buffer>>;
}

const CHUNK = 200;

export function templateBlobStore(db: Kysely<ReadModelTables>): BlobStore {
  return {
    async put(files) {
      const unique = [...new Map(files.map((f) => [f.sha256, f])).values()];
      for (let i = 0; i < unique.length; i += CHUNK) {
        const rows = unique.slice(i, i + CHUNK).map((f) => {
          const actual = createHash('sha256').update(f.content).digest('hex');
          if (actual !== f.sha256) throw new Error(`blob content does not match its hash ${f.sha256}`);
          return { sha256: f.sha256, size: f.content.length, content: f.content, created_at: new Date() };
        });
        await db
          .insertInto('template_blobs')
          .values(rows)
          .onConflict((oc) => oc.column('sha256').doNothing())
          .execute();
      }
    },
    async get(hashes) {
      const out = new Map<string, Buffer>();
      const wanted = [...new Set(hashes)];
      for (let i = 0; i < wanted.length; i += CHUNK) {
        const rows = await db
          .selectFrom('template_blobs')
          .select(['sha256', 'content'])
          .where('sha256', 'in', wanted.slice(i, i + CHUNK))
          .execute();
        for (const r of rows) out.set(r.sha256, Buffer.from(r.content));
      }
      const missing = wanted.filter((h) => !out.has(h));
      if (missing.length > 0)
        throw new Error(`template file contents missing for ${missing.length} hash(es), e.g. ${missing[0]}`);
      return out;
    },
  };
}
