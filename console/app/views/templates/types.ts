/** What the template and project routes answer (gateway/routes/templates.schemas.ts), as the console reads it. */

export interface TemplateSummary {
  name: string;
  version: string;
  stack: string;
  description: string;
  tags: string[];
  source: string;
  publishedAt: string;
  removedAt: string | null;
  variables: string[];
  rank: number | null;
}

export interface TemplateVariable {
  name: string;
  type: 'string' | 'number' | 'integer' | 'boolean';
  description?: string;
  default?: string | number | boolean;
  pattern?: string;
  enum?: Array<string | number>;
  minimum?: number;
  maximum?: number;
  required?: boolean;
  secret?: boolean;
}

export interface TemplateFile {
  path: string;
  size: number;
  sha256: string;
  binary: boolean;
  render: boolean;
}

export interface ValidationIssue {
  code: string;
  severity: 'error' | 'warning';
  message: string;
  file?: string;
}

export interface TemplateDetail {
  name: string;
  version: string;
  stack: string;
  description: string;
  tags: string[];
  source: string;
  contentHash: string;
  commit: string | null;
  publishedAt: string;
  removedAt: string | null;
  variables: TemplateVariable[];
  files: TemplateFile[];
  versions: Array<{ version: string; publishedAt: string; current: boolean }>;
  latestValidation: { ok: boolean; issues: ValidationIssue[]; validatedAt: string } | null;
}

export interface GeneratedFile {
  path: string;
  size: number;
  sha256: string;
}

export interface ProjectView {
  projectId: string;
  template: string;
  version: string;
  destination: string;
  variables: Record<string, unknown>;
  fileCount: number;
  totalBytes: number;
  overwrite: boolean;
  durationMs: number;
  generatedAt: string;
  actor: string;
}

export interface ProjectDetail extends ProjectView {
  files: GeneratedFile[];
}

/** POST /projects (201): the project as written, with its absolute path on the gateway host. */
export interface GeneratedProject {
  projectId: string;
  template: string;
  version: string;
  destination: string;
  path: string;
  files: GeneratedFile[];
  durationMs: number;
  replaced?: { projectId: string; generatedAt: string } | null;
}

/** POST /projects/preview (200): what generating would write; nothing is written. */
export interface ProjectPreview {
  destination: string;
  destinationInUse: boolean;
  destinationDecision: {
    action: 'write' | 'replace' | 'refuse';
    refusal: { code: string; message: string } | null;
  };
  files: GeneratedFile[];
}

export interface GenerateBody {
  template: string;
  destination: string;
  variables: Record<string, string | number | boolean>;
  overwrite?: boolean;
}

export interface TemplateSource {
  name: string;
  tenant: string | null;
  kind: 'directory' | 'git';
  location: string;
  ref: string | null;
  intervalMs: number | null;
  builtIn: boolean;
  status: 'registered' | 'synced' | 'failed' | 'removed';
  lastSyncedAt: string | null;
  lastCommit: string | null;
  templates: Array<{ name: string; version: string }>;
  rejected: Array<{ dir: string; name?: string; issues: ValidationIssue[] }>;
  lastError: string | null;
  lastErrorCode: string | null;
  lastCheck: { checkedAt: string; outcome: 'unchanged' | 'changed' | 'failed'; detail: string | null } | null;
}

export interface SyncReport {
  source: string;
  ok: boolean;
  changed: boolean;
  templates: number;
  published: string[];
  removed: string[];
  rejected: Array<{ dir: string; name?: string; issues: ValidationIssue[] }>;
  error?: { code: string; message: string };
  durationMs: number;
}

/** Bytes in words a reader takes in at a glance. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** What a variable allows, in words: its enum, range or pattern. */
export function constraintsOf(v: TemplateVariable): string {
  const parts: string[] = [];
  if (v.enum) parts.push(`one of ${v.enum.join(', ')}`);
  if (v.minimum !== undefined) parts.push(`≥ ${v.minimum}`);
  if (v.maximum !== undefined) parts.push(`≤ ${v.maximum}`);
  if (v.pattern) parts.push(`matches /${v.pattern}/`);
  if (v.secret) parts.push('secret (never recorded)');
  return parts.join('; ');
}
