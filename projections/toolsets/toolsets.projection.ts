import type { Transaction } from 'kysely';
import { TOOLSET_CATEGORY, type ToolsetEvent, toolsetEventTypeNames } from '../../domains/toolsets/index.ts';
import type { ReadModelTables } from '../db.ts';
import type { Projection } from '../projection.ts';

type Trx = Transaction<ReadModelTables>;

/** The `toolsets` read model: each tenant's toolsets by name, from ToolsetDefined / ToolsetRemoved. */
export const toolsetsProjection: Projection = {
  name: 'toolsets',
  version: 1,
  filter: { categories: [TOOLSET_CATEGORY], types: toolsetEventTypeNames },
  tables: ['toolsets'],
  async apply(trx, event, tableNames) {
    const table = (tableNames.toolsets ?? 'toolsets') as 'toolsets';
    const e = { type: event.type, data: event.data } as ToolsetEvent;
    switch (e.type) {
      case 'ToolsetDefined': {
        const d = e.data;
        const columns = {
          tenant: d.tenant,
          name: d.name,
          description: d.description ?? null,
          tools: JSON.stringify(d.tools),
          revision: event.revision,
          position: event.position,
          updated_at: d.definedAt,
        };
        await (trx as Trx)
          .insertInto(table)
          .values({ id: d.toolsetId, ...columns })
          .onConflict((oc) => oc.column('id').doUpdateSet(columns))
          .execute();
        return;
      }
      case 'ToolsetRemoved':
        await (trx as Trx).deleteFrom(table).where('id', '=', e.data.toolsetId).execute();
        return;
      default: {
        const _: never = e;
        return;
      }
    }
  },
};
