import { type Kysely, sql } from 'kysely';
import type { ReadModelTables, SourceCheckOutcome } from '../db.ts';

type Db = Kysely<ReadModelTables>;

export interface SourceCheck {
  source: string;
  checkedAt: Date | string;
  outcome: SourceCheckOutcome;
  detail?: string | null | undefined;
}

/**
 * Records that a source was checked (`template_source_checks`, one row per source, the latest
 * check). A check that finds nothing new appends no event, so without this row nobody could tell
 * when a source was last looked at. Not rebuilt; an older report than the stored one is ignored, so
 * two checkers racing cannot move it backwards.
 */
export async function recordSourceCheck(db: Db, check: SourceCheck): Promise<void> {
  const checkedAt = new Date(check.checkedAt).toISOString();
  const columns = { checked_at: checkedAt, outcome: check.outcome, detail: check.detail ?? null };
  await db
    .insertInto('template_source_checks')
    .values({ source: check.source, ...columns })
    .onConflict((oc) =>
      oc
        .column('source')
        .doUpdateSet(columns)
        .where(sql<boolean>`template_source_checks.checked_at <= ${checkedAt}::timestamptz`),
    )
    .execute();
}
