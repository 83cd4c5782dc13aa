import pg from 'pg';

/** A node of a PostgreSQL plan, as auto_explain's JSON format gives it. */
export interface Plan {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: Plan[];
}

/** A statement and its plan. */
export interface Explained {
  text: string;
  plan: Plan;
}

/**
 * A pool on which auto_explain hands the plan of every statement — functions' inner statements
 * included — to `onPlan` (as notices, client_min_messages = log). `settings` are more SET commands
 * for every connection (e.g. `SET enable_seqscan = off;`). For the plans tests: never for timings.
 */
export function explainingPool(url: string, onPlan: (e: Explained) => void, settings = ''): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  // The test drops its database (WITH FORCE) as the pool ends: a backend terminated under a client
  // that is still closing is expected then, not an error of the run.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    // One simple-protocol query, queued before the first statement on this client.
    client
      .query(
        `LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on;
         SET auto_explain.log_format = 'json'; SET client_min_messages = 'log'; ${settings}`,
      )
      .catch(() => {});
    client.on('notice', (notice) => {
      const text = notice.message ?? '';
      const at = text.indexOf('{');
      if (!text.includes('plan:') || at < 0) return;
      const parsed = JSON.parse(text.slice(at)) as { 'Query Text': string; Plan: Plan };
      onPlan({ text: parsed['Query Text'], plan: parsed.Plan });
    });
  });
  return pool;
}

/** The tables a plan reads with a sequential scan, one entry per scan. */
export function seqScans(plan: Plan): string[] {
  const here = plan['Node Type'] === 'Seq Scan' && plan['Relation Name'] ? [plan['Relation Name']] : [];
  return [...here, ...(plan.Plans ?? []).flatMap(seqScans)];
}
