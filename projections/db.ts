import type { ColumnType, Kysely } from 'kysely';
import type { CodeAnalyzed, ProjectGenerated } from '../domains/projects/index.ts';
import type {
  TemplateFileEntry,
  TemplateIssue,
  TemplateManifest,
  TemplateSourceSynced,
} from '../domains/templates/index.ts';
import type { SecretRef } from '../kernel/secrets.ts';

/**
 * The read-model tables (migrations/read-models), as Kysely sees them. int8 columns arrive as
 * decimal strings on pg and PGlite alike; jsonb arrives parsed and is written as a JSON string.
 */

type Int8 = ColumnType<string, string | bigint, string | bigint>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export interface ProjectionCheckpointsTable {
  name: string;
  /** Version of the projection's code that built the tables; a different version asks for a rebuild. */
  version: number;
  /** Global position of the last event applied. Only ever moved by compare-and-set. */
  position: Int8;
  /** Rebuilds started so far; numbers the fresh tables of the next one (`<table>__rebuild_<n>`). */
  rebuilds: ColumnType<number, number | undefined, number>;
  last_error: string | null;
  failed_event_id: string | null;
  failed_position: ColumnType<string | null, string | bigint | null | undefined, string | bigint | null>;
  updated_at: Timestamp;
}

/** A secret as the read side shows it: hidden, or the reference naming where it lives. */
export type RedactedSecret = '[redacted]' | SecretRef;

export type RedactedTransport =
  | { type: 'stdio'; command: string; args: string[]; env: Record<string, RedactedSecret>; cwd?: string }
  | {
      type: 'streamable-http';
      url: string;
      headers: Record<string, RedactedSecret>;
      query?: Record<string, RedactedSecret>;
    }
  | {
      type: 'sse';
      url: string;
      headers: Record<string, RedactedSecret>;
      query?: Record<string, RedactedSecret>;
    };

export interface ServerSettingsView {
  connectTimeoutMs?: number;
  callTimeoutMs?: number;
  healthIntervalMs?: number;
  replicas?: number;
  extraUrls?: string[];
  loadBalancing?: 'round-robin' | 'least-connections' | 'weighted';
  weights?: number[];
  clientSessions?: number;
  pinTools?: boolean;
  tools?: Record<string, { hidden?: boolean; name?: string; description?: string }>;
}

export interface ServersTable {
  id: string;
  name: string;
  description: string | null;
  transport_type: RedactedTransport['type'];
  /** Secrets redacted: env and header names kept, values never stored here, not even sealed. */
  transport: Json<RedactedTransport>;
  tags: string[];
  enabled: boolean;
  status: 'active' | 'removed';
  settings: Json<ServerSettingsView>;
  /** Revision of the server stream this row reflects. */
  revision: Int8;
  /** Global position of the event this row reflects. */
  position: Int8;
  created_at: Timestamp;
  updated_at: Timestamp;
  removed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** The tenant the server belongs to, and the principal that registered it. */
  tenant: string;
  owner: string;
}

type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type NullableInt8 = ColumnType<string | null, string | bigint | null | undefined, string | bigint | null>;
type NullableJson<T> = ColumnType<T | null, string | null | undefined, string | null>;

/** Owned by the `catalog` projection: one row per server that has had a discovery, failed or not. */
export interface CatalogStateTable {
  server_id: string;
  /** sha256 of the current catalog; null before the first success and after clearing. */
  hash: string | null;
  /** Revision of the server stream the current catalog was discovered at. */
  server_revision: NullableInt8;
  server_info: NullableJson<{ name: string; version: string; [k: string]: unknown }>;
  protocol_version: string | null;
  instructions: string | null;
  capabilities: ColumnType<Record<string, unknown>, string | undefined, string>;
  discovered_at: NullableTimestamp;
  /** Set by DiscoveryFailed, cleared by a later success. */
  last_error: string | null;
  failed_at: NullableTimestamp;
  failed_attempt: number | null;
  will_retry: boolean | null;
  cleared_at: NullableTimestamp;
  /** Revision of the catalog stream this row reflects. */
  revision: Int8;
  position: Int8;
  updated_at: Timestamp;
}

/** Items of a catalog: the columns the gateway filters and shows, and the MCP object whole. */
interface CatalogItemColumns {
  server_id: string;
  /** Place in the server's own list. */
  ordinal: number;
  title: string | null;
  description: string | null;
  definition: Json<Record<string, unknown>>;
}

export interface ServerToolsTable extends CatalogItemColumns {
  name: string;
  input_schema: Json<Record<string, unknown>>;
  output_schema: NullableJson<Record<string, unknown>>;
  annotations: NullableJson<Record<string, unknown>>;
}

export interface ServerResourcesTable extends CatalogItemColumns {
  uri: string;
  name: string;
  mime_type: string | null;
}

export interface ServerResourceTemplatesTable extends CatalogItemColumns {
  uri_template: string;
  name: string;
  mime_type: string | null;
}

export interface ServerPromptsTable extends CatalogItemColumns {
  name: string;
  arguments: Json<Array<Record<string, unknown>>>;
}

/**
 * Owned by the `catalog` projection: per tool of a server, the definition approved for it (pinning)
 * and the last change reported. A row outlives the tool (an approval is kept for when it returns).
 */
export interface ServerToolPinsTable {
  server_id: string;
  tool: string;
  /** Hash of the approved definition; null while only a change (a new tool) was reported. */
  approved_hash: string | null;
  /** The approved definition (what toolDefinitionHash covers), for showing what changed. */
  approved_definition: NullableJson<Record<string, unknown>>;
  approved_at: NullableTimestamp;
  approved_by: string | null;
  /** Hash of the definition the last ToolDefinitionChanged reported, and when. */
  reported_hash: string | null;
  reported_at: NullableTimestamp;
}

export type HealthStatusColumn = 'HEALTHY' | 'UNHEALTHY' | 'STARTING' | 'STOPPED' | 'ERROR';

/** Owned by the `health` projection: the status from the last ServerHealthChanged. */
export interface ServerHealthTable {
  server_id: string;
  status: HealthStatusColumn;
  since: Timestamp;
  latency_ms: number | null;
  error: string | null;
  revision: Int8;
  position: Int8;
}

/** A named set of tools (`toolsets` projection), served at /toolsets/<name>/mcp. */
export interface ToolsetsTable {
  id: string;
  tenant: string;
  name: string;
  description: string | null;
  tools: Json<Array<{ server: string; tool: string }>>;
  revision: Int8;
  position: Int8;
  updated_at: Timestamp;
}

/** One step of a deployment as the read model shows it (the `steps` column of `deployments`). */
export interface DeploymentStepView {
  step: string;
  outcome: 'running' | 'completed' | 'failed';
  startedAt: string;
  /** When the step must have ended (its scheduled timeout). */
  deadline: string;
  endedAt: string | null;
  durationMs: number | null;
  /** The tail of the step's output. */
  log: string;
  /** Why it failed (a failure, a timeout, a stop). */
  reason: string | null;
  /** Tools the new revision listed (start, health). */
  tools?: string[] | undefined;
  /** When what the step did was undone, and how. */
  compensation: { note: string; at: string } | null;
}

export type DeploymentStatusColumn = 'queued' | 'running' | 'compensating' | 'succeeded' | 'rolled-back';

/** Owned by the `deployments` projection: one row per deployment-<id> stream. */
export interface DeploymentsTable {
  id: string;
  tenant: string;
  owner: string;
  server_name: string;
  /** The server the name points at, once the switch step registered or updated it. */
  server_id: string | null;
  source: Json<Record<string, unknown>>;
  replicas: number;
  /** The health gate; smoke-call arguments with secret-looking fields redacted. */
  health: Json<Record<string, unknown>>;
  status: DeploymentStatusColumn;
  current_step: string | null;
  steps: Json<DeploymentStepView[]>;
  stop_reason: string | null;
  /** The server name's revision this deployment put live (succeeded only). */
  live_revision: number | null;
  failed_step: string | null;
  reason: string | null;
  duration_ms: number | null;
  requested_at: Timestamp;
  finished_at: NullableTimestamp;
  stream_revision: Int8;
  position: Int8;
}

/**
 * Not a projection's table: an MCP session any gateway can take over (gateway/mcp/shared-sessions),
 * keyed by a hash of its id. `scope`, `initialize` and `subscriptions` are the gateway's own shapes.
 */
export interface McpSessionsTable {
  id_hash: string;
  principal_id: string;
  tenant: string;
  scope: Json<unknown>;
  initialize: Json<unknown>;
  log_level: string | null;
  subscriptions: Json<Record<string, { serverId: string; uri: string }>>;
  opened_at: Timestamp;
  last_seen: Timestamp;
}

/** Not a projection's table: the last check of each server, written on every check. */
export interface ServerHealthProbesTable {
  server_id: string;
  status: HealthStatusColumn;
  latency_ms: number | null;
  error: string | null;
  checked_at: Timestamp;
}

export type ToolCallStatus = 'running' | 'succeeded' | 'failed' | 'abandoned';

/** Owned by the `tool_calls` projection: one row per call. */
export interface ToolCallsTable {
  id: string;
  server_id: string;
  server_name: string;
  tool: string;
  actor: string;
  via: 'mcp' | 'rest';
  session_id: string | null;
  status: ToolCallStatus;
  is_error: ColumnType<boolean, boolean | undefined, boolean>;
  /** As redacted before the call was recorded. */
  arguments: Json<Record<string, unknown>>;
  started_at: Timestamp;
  finished_at: NullableTimestamp;
  duration_ms: number | null;
  result_bytes: NullableInt8;
  result_hash: string | null;
  error: NullableJson<{ kind: string; code: string; message: string }>;
  abandon_reason: string | null;
  revision: Int8;
  position: Int8;
  /** The tenant the call belongs to (its owner is `actor`). */
  tenant: string;
}

/** Owned by the `templates` projection: one row per template ever published, at its current version. */
export interface TemplatesTable {
  name: string;
  source: string;
  version: string;
  stack: string;
  description: string;
  tags: string[];
  manifest: Json<TemplateManifest>;
  files: Json<TemplateFileEntry[]>;
  content_hash: string;
  commit: string | null;
  published_at: Timestamp;
  /** Set by TemplateRemoved (the row stays, for history); cleared by a later publish. */
  removed_at: NullableTimestamp;
  /** Distinct contents published so far (rows of template_versions). */
  versions: number;
  /** tsvector, written by the projection; arrives as its text form. */
  search: string;
  /** The manifest's variable names in the author's order; null when the event did not say. */
  variable_order: ColumnType<string[] | null, string | null, string | null>;
  revision: Int8;
  position: Int8;
  /** The publishing source's tenant (null: every tenant's) and owner, as of the last publish. */
  tenant: string | null;
  owner: string;
}

/** Owned by the `templates` projection: every content ever published, keyed by (name, content_hash). */
export interface TemplateVersionsTable {
  name: string;
  version: string;
  content_hash: string;
  manifest: Json<TemplateManifest>;
  files: Json<TemplateFileEntry[]>;
  commit: string | null;
  source: string;
  /** The latest publication of this content. */
  published_at: Timestamp;
  /** Revision of the template stream that last published this content. */
  revision: Int8;
  position: Int8;
}

export type TemplateSourceStatus = 'registered' | 'synced' | 'failed' | 'removed';

/** Owned by the `templates` projection: one row per template source ever registered. */
export interface TemplateSourcesTable {
  name: string;
  kind: 'directory' | 'git';
  location: string;
  ref: string | null;
  interval_ms: number | null;
  built_in: boolean;
  registered_at: Timestamp;
  removed_at: NullableTimestamp;
  /** Revision of the source content (git commit, or a hash for directories) at the last sync. */
  last_revision: string | null;
  last_commit: string | null;
  last_synced_at: NullableTimestamp;
  templates: ColumnType<TemplateSourceSynced['data']['templates'], string | undefined, string>;
  rejected: ColumnType<TemplateSourceSynced['data']['rejected'], string | undefined, string>;
  /** Set by TemplateSourceSyncFailed, cleared by a later success. */
  last_error: string | null;
  last_error_code: string | null;
  last_failed_at: NullableTimestamp;
  status: TemplateSourceStatus;
  revision: Int8;
  position: Int8;
  /** Null: a source every tenant reads (the built-in one). */
  tenant: string | null;
  owner: string;
}

/** Owned by the `templates` projection: one row per TemplateValidated. */
export interface TemplateValidationsTable {
  validation_id: string;
  target_kind: 'template' | 'path' | 'sync';
  /** The template's name for kind 'template'; null otherwise. */
  template: string | null;
  version: string | null;
  /** The workspace-relative path (kind 'path') or the directory in the source (kind 'sync'). */
  path: string | null;
  /** The source, for kind 'sync'. */
  source: string | null;
  content_hash: string | null;
  ok: boolean;
  issues: Json<TemplateIssue[]>;
  files: number;
  bytes: Int8;
  validated_at: Timestamp;
  position: Int8;
}

/** Not a projection's table: template file contents, content-addressed by sha256 (hex); see templates/blobs.ts. */
export interface TemplateBlobsTable {
  sha256: string;
  size: number;
  /** Buffer on pg, Uint8Array on PGlite. */
  content: Uint8Array;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** What a check of a template source found: nothing new, something recorded, or an error. */
export type SourceCheckOutcome = 'unchanged' | 'changed' | 'failed';

/** Not a projection's table: the last check of each template source, written on every check. */
export interface TemplateSourceChecksTable {
  source: string;
  checked_at: Timestamp;
  outcome: SourceCheckOutcome;
  detail: string | null;
}

/** Owned by the `projects` projection: one row per ProjectGenerated. */
export interface ProjectsTable {
  project_id: string;
  template: string;
  version: string;
  content_hash: string;
  destination: string;
  /** Secret variables as "[redacted]", as the event holds them. */
  variables: Json<Record<string, unknown>>;
  files: Json<ProjectGenerated['data']['files']>;
  file_count: number;
  total_bytes: Int8;
  overwrite: boolean;
  duration_ms: number;
  generated_at: Timestamp;
  /** Who generated it (the event's metadata). */
  actor: string;
  position: Int8;
  tenant: string;
  /** As the event records it ('unknown' for projects generated before tenancy). */
  owner: string;
}

// Shapes of the analysis columns, as the event defines them (schema and type cannot drift).
export type AnalysisTotals = CodeAnalyzed['data']['totals'];
export type AnalysisLanguage = CodeAnalyzed['data']['languages'][number];
export type AnalysisComplexity = CodeAnalyzed['data']['complexity'];
export type AnalysisSkipped = CodeAnalyzed['data']['skipped'];

/** Owned by the `projects` projection: one row per CodeAnalyzed. */
export interface CodeAnalysesTable {
  analysis_id: string;
  path: string;
  project_id: string | null;
  totals: Json<AnalysisTotals>;
  languages: Json<AnalysisLanguage[]>;
  complexity: Json<AnalysisComplexity>;
  skipped: Json<AnalysisSkipped>;
  duration_ms: number;
  analyzed_at: Timestamp;
  actor: string;
  position: Int8;
  tenant: string;
  owner: string;
}

export interface ReadModelTables {
  projection_checkpoints: ProjectionCheckpointsTable;
  servers: ServersTable;
  catalog_state: CatalogStateTable;
  server_tools: ServerToolsTable;
  server_resources: ServerResourcesTable;
  server_resource_templates: ServerResourceTemplatesTable;
  server_prompts: ServerPromptsTable;
  server_tool_pins: ServerToolPinsTable;
  server_health: ServerHealthTable;
  server_health_probes: ServerHealthProbesTable;
  tool_calls: ToolCallsTable;
  templates: TemplatesTable;
  template_versions: TemplateVersionsTable;
  template_sources: TemplateSourcesTable;
  template_validations: TemplateValidationsTable;
  template_blobs: TemplateBlobsTable;
  template_source_checks: TemplateSourceChecksTable;
  projects: ProjectsTable;
  code_analyses: CodeAnalysesTable;
  toolsets: ToolsetsTable;
  deployments: DeploymentsTable;
  mcp_sessions: McpSessionsTable;
}

export type ReadModelDb = Kysely<ReadModelTables>;
