import { ERASED } from '../../kernel/personal-data.ts';
import type { Permission, Role } from '../../kernel/principal.ts';
import type {
  AccessEvent,
  ApiKeyIssued,
  GrantAdded,
  PolicySet,
  PrincipalCreated,
  RateLimitSet,
  TenantCreated,
} from './events.ts';

/** A principal's name as a fold that could not open it shows it. */
export const SEALED_NAME = '[sealed]';

/**
 * Who may do what, folded from the access streams of the log: what every gateway holds in memory to
 * authenticate and authorize without a query, and what `explain?at=<time>` folds again up to a past
 * instant. `version` is the global position of the last access event applied — the policy version
 * recorded with every decision.
 */
export interface PrincipalRecord {
  id: string;
  tenant: string;
  name: string;
  kind: 'user' | 'service';
  roles: Role[];
  disabled: boolean;
  /** Its personal data was erased (its data keys destroyed); it stays disabled for good. */
  erased?: boolean;
  source: PrincipalCreated['data']['source'];
  createdAt: string;
}

export interface ApiKeyRecord {
  keyId: string;
  principalId: string;
  tenant: string;
  name: string;
  scopes: Permission[] | null;
  hash: string;
  last4: string;
  expiresAt: string | null;
  issuedAt: string;
  revokedAt: string | null;
  rotatedFrom: string | undefined;
  replacedBy: string | undefined;
}

export type TenantRecord = TenantCreated['data'];
export type GrantRecord = GrantAdded['data'];
export type PolicyRecord = PolicySet['data'];
export type RateLimitRecord = RateLimitSet['data'];

export interface AccessState {
  version: bigint;
  tenants: Map<string, TenantRecord>;
  principals: Map<string, PrincipalRecord>;
  /** `<issuer>\n<subject>` → principal id, for tokens of principals provisioned just in time. */
  subjects: Map<string, string>;
  keys: Map<string, ApiKeyRecord>;
  grants: Map<string, GrantRecord>;
  /** `principal:<id>` or `tenant:<id>` → the grants given to that subject. */
  grantsBySubject: Map<string, Set<string>>;
  policies: Map<string, PolicyRecord>;
  rateLimits: Map<string, RateLimitRecord>;
}

export function emptyAccessState(): AccessState {
  return {
    version: 0n,
    tenants: new Map(),
    principals: new Map(),
    subjects: new Map(),
    keys: new Map(),
    grants: new Map(),
    grantsBySubject: new Map(),
    policies: new Map(),
    rateLimits: new Map(),
  };
}

export const subjectKey = (issuer: string, subject: string) => `${issuer}\n${subject}`;
const grantSubjectKey = (g: GrantRecord) => `${g.subject.type}:${g.subject.id}`;

/**
 * Applies one access event. Unlike a decider's evolve this updates the state it is given: the
 * state is owned by its fold (a gateway's cache, or one `explain?at=` evaluation) and copying every
 * map per event would make a large tenant's start-up quadratic. Events of other types are ignored.
 */
export function applyAccessEvent(state: AccessState, event: AccessEvent, position: bigint): void {
  if (position > state.version) state.version = position;
  switch (event.type) {
    case 'TenantCreated':
      state.tenants.set(event.data.tenantId, event.data);
      return;
    case 'PrincipalCreated': {
      const d = event.data;
      state.principals.set(d.principalId, {
        id: d.principalId,
        tenant: d.tenant,
        // Opened by whoever folds the log (the access cache); a fold that cannot open shows it sealed.
        name: typeof d.name === 'string' ? d.name : SEALED_NAME,
        kind: d.kind,
        roles: [...d.roles],
        disabled: false,
        source: d.source,
        createdAt: d.createdAt,
      });
      if (d.source.type === 'oidc')
        state.subjects.set(subjectKey(d.source.issuer, d.source.subject), d.principalId);
      return;
    }
    case 'PrincipalRolesChanged':
      update(state.principals, event.data.principalId, (p) => ({ ...p, roles: [...event.data.roles] }));
      return;
    case 'PrincipalDisabled':
      update(state.principals, event.data.principalId, (p) => ({ ...p, disabled: true }));
      return;
    case 'PrincipalEnabled':
      update(state.principals, event.data.principalId, (p) => ({ ...p, disabled: false }));
      return;
    case 'PrincipalErased':
      update(state.principals, event.data.principalId, (p) => ({
        ...p,
        name: ERASED,
        disabled: true,
        erased: true,
      }));
      return;
    case 'ApiKeyIssued':
      state.keys.set(event.data.keyId, keyRecord(event.data));
      return;
    case 'ApiKeyRevoked':
      update(state.keys, event.data.keyId, (k) => ({
        ...k,
        revokedAt: event.data.revokedAt,
        replacedBy: event.data.replacedBy,
      }));
      return;
    case 'GrantAdded': {
      state.grants.set(event.data.grantId, event.data);
      const key = grantSubjectKey(event.data);
      const set = state.grantsBySubject.get(key) ?? new Set();
      set.add(event.data.grantId);
      state.grantsBySubject.set(key, set);
      return;
    }
    case 'GrantRemoved': {
      const g = state.grants.get(event.data.grantId);
      if (!g) return;
      state.grants.delete(g.grantId);
      state.grantsBySubject.get(grantSubjectKey(g))?.delete(g.grantId);
      return;
    }
    case 'PolicySet':
      state.policies.set(event.data.policyId, event.data);
      return;
    case 'PolicyRemoved':
      state.policies.delete(event.data.policyId);
      return;
    case 'RateLimitSet':
      state.rateLimits.set(event.data.rateLimitId, event.data);
      return;
    case 'RateLimitRemoved':
      state.rateLimits.delete(event.data.rateLimitId);
      return;
    default: {
      const _exhaustive: never = event;
      void _exhaustive;
    }
  }
}

function keyRecord(d: ApiKeyIssued['data']): ApiKeyRecord {
  return {
    keyId: d.keyId,
    principalId: d.principalId,
    tenant: d.tenant,
    name: d.name,
    scopes: d.scopes,
    hash: d.hash,
    last4: d.last4,
    expiresAt: d.expiresAt,
    issuedAt: d.issuedAt,
    revokedAt: null,
    rotatedFrom: d.rotatedFrom,
    replacedBy: undefined,
  };
}

function update<T>(map: Map<string, T>, id: string, f: (v: T) => T): void {
  const v = map.get(id);
  if (v !== undefined) map.set(id, f(v));
}

/** The grants that apply to a principal: its own and its tenant's. */
export function grantsOf(state: AccessState, principalId: string, tenant: string): GrantRecord[] {
  const out: GrantRecord[] = [];
  for (const key of [`principal:${principalId}`, `tenant:${tenant}`]) {
    for (const id of state.grantsBySubject.get(key) ?? []) {
      const g = state.grants.get(id);
      if (g) out.push(g);
    }
  }
  return out;
}
