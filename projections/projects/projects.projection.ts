import type { Transaction } from 'kysely';
import type { ProjectEvent } from '../../domains/projects/index.ts';
import { ANALYSIS_CATEGORY, PROJECT_CATEGORY, projectEventTypeNames } from '../../domains/projects/index.ts';
import type { ReadModelTables } from '../db.ts';
import type { Projection } from '../projection.ts';

type Trx = Transaction<ReadModelTables>;

/**
 * The `projects` read model: every project generated from a template and every code analysis, each
 * with who asked for it (the event's actor). Each stream holds one event, so a row is inserted once
 * and never changes: applying an event twice changes nothing.
 */
export const projectsProjection: Projection = {
  name: 'projects',
  version: 1,
  filter: { categories: [PROJECT_CATEGORY, ANALYSIS_CATEGORY], types: projectEventTypeNames },
  tables: ['projects', 'code_analyses'],
  async apply(trx, event, tableNames) {
    const t = trx as Trx;
    const e = { type: event.type, data: event.data } as ProjectEvent;
    switch (e.type) {
      case 'ProjectGenerated': {
        const d = e.data;
        await t
          .insertInto((tableNames.projects ?? 'projects') as 'projects')
          .values({
            project_id: d.projectId,
            template: d.template,
            version: d.version,
            content_hash: d.contentHash,
            destination: d.destination,
            variables: JSON.stringify(d.variables),
            files: JSON.stringify(d.files),
            file_count: d.files.length,
            total_bytes: String(d.files.reduce((sum, f) => sum + f.size, 0)),
            overwrite: d.overwrite,
            duration_ms: d.durationMs,
            generated_at: d.generatedAt,
            actor: event.metadata.actor,
            position: event.position,
            tenant: d.tenant,
            owner: d.owner,
          })
          .onConflict((oc) => oc.column('project_id').doNothing())
          .execute();
        return;
      }
      case 'CodeAnalyzed': {
        const d = e.data;
        await t
          .insertInto((tableNames.code_analyses ?? 'code_analyses') as 'code_analyses')
          .values({
            analysis_id: d.analysisId,
            path: d.path,
            project_id: d.projectId,
            totals: JSON.stringify(d.totals),
            languages: JSON.stringify(d.languages),
            complexity: JSON.stringify(d.complexity),
            skipped: JSON.stringify(d.skipped),
            duration_ms: d.durationMs,
            analyzed_at: d.analyzedAt,
            actor: event.metadata.actor,
            position: event.position,
            tenant: d.tenant,
            owner: d.owner,
          })
          .onConflict((oc) => oc.column('analysis_id').doNothing())
          .execute();
        return;
      }
      default: {
        const _: never = e;
        return;
      }
    }
  },
};
