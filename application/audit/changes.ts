import { ACCESS_CATEGORY_LIST } from '../../domains/access/index.ts';
import { CATALOG_CATEGORY } from '../../domains/catalog/index.ts';
import { DEPLOYMENT_CATEGORY } from '../../domains/deployments/index.ts';
import { PROJECTION_CATEGORY } from '../../domains/operations/index.ts';
import { SERVER_CATEGORY } from '../../domains/servers/index.ts';
import { TEMPLATE_SOURCE_CATEGORY } from '../../domains/templates/index.ts';
import { TOOLSET_CATEGORY } from '../../domains/toolsets/index.ts';
import type { RecordedEvent } from '../../kernel/envelope.ts';
import { categoryOf, idOf } from '../../kernel/streams.ts';
import type { OpenSealed } from './calls.ts';
import { inWindow, type LogQuery, type TimeWindow } from './log-scan.ts';
import { redactChangeData } from './redact-change.ts';

/**
 * The streams whose events change what the platform does: servers and their catalogs (tool
 * approvals; discoveries when system actors are asked for), toolsets, identity and access (tenants,
 * principals, keys, grants, policies, rate limits), template sources, deployments, projection
 * quarantines. Not changes: tool calls (`audit calls`), health observations (`audit server`), denials,
 * name reservations (the server's own events say the same), saga inboxes.
 */
export const CHANGE_CATEGORIES: readonly string[] = [
  SERVER_CATEGORY,
  CATALOG_CATEGORY,
  TOOLSET_CATEGORY,
  ...ACCESS_CATEGORY_LIST,
  TEMPLATE_SOURCE_CATEGORY,
  DEPLOYMENT_CATEGORY,
  PROJECTION_CATEGORY,
];

export interface ChangesQuery extends TimeWindow {
  /** Only this tenant's changes (caused by its principals, or about its things); undefined: all. */
  tenant?: string | undefined;
  actor?: string | undefined;
  /** Narrow to some of CHANGE_CATEGORIES. */
  categories?: readonly string[] | undefined;
  /** One stream, e.g. `server-<id>`. */
  stream?: string | undefined;
  /** Include what Switchyard did on its own (`system:*` actors: discoveries, syncs); default no. */
  includeSystem?: boolean | undefined;
}

/** One change: who (actor, tenant, credential), what (stream, event type, redacted data), when. */
export interface ChangeRecord {
  position: string;
  recordedAt: string;
  actor: string;
  tenant: string | null;
  credential: string | null;
  stream: string;
  category: string;
  /** The id part of the stream: a server id, a principal id, a toolset name… */
  subject: string;
  /** A server's, toolset's, principal's… name when the event carries one. */
  name: string | null;
  type: string;
  revision: string;
  data: unknown;
  correlationId: string;
}

/** With `open`, sealed personal data (a principal's name) is answered in clear, or as erased. */
export function changesQuery(q: ChangesQuery, open?: OpenSealed): LogQuery<ChangeRecord> {
  const categories = q.categories
    ? CHANGE_CATEGORIES.filter((c) => q.categories!.includes(c))
    : CHANGE_CATEGORIES;
  return {
    filter: { categories },
    matches(e) {
      const actor = e.metadata.actor;
      return (
        inWindow(e, q) &&
        (q.includeSystem === true || !actor.startsWith('system:')) &&
        (q.actor === undefined || actor === q.actor) &&
        (q.stream === undefined || e.stream === q.stream) &&
        (q.tenant === undefined || e.metadata.tenant === q.tenant || dataTenant(e) === q.tenant)
      );
    },
    row: async (e) => changeRecord(open ? { ...e, data: await open(e.data) } : e),
  };
}

function dataTenant(e: RecordedEvent): unknown {
  return e.data !== null && typeof e.data === 'object' ? (e.data as { tenant?: unknown }).tenant : undefined;
}

function changeRecord(e: RecordedEvent): ChangeRecord {
  const name = (e.data as { name?: unknown } | null)?.name;
  return {
    position: e.position.toString(),
    recordedAt: e.recordedAt.toISOString(),
    actor: e.metadata.actor,
    tenant: e.metadata.tenant ?? null,
    credential: e.metadata.credential ?? null,
    stream: e.stream,
    category: categoryOf(e.stream),
    subject: idOf(e.stream),
    name: typeof name === 'string' ? name : null,
    type: e.type,
    revision: e.revision.toString(),
    data: redactChangeData(e.data),
    correlationId: e.metadata.correlationId,
  };
}
