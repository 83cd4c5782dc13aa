export type { Action, ActionDef } from './actions.ts';
export { ACTIONS, isAction, policyActionMatches } from './actions.ts';
export type { Authorizer, AuthorizerDeps } from './authorize.ts';
export { makeAuthorizer } from './authorize.ts';
export {
  AddGrantInput,
  CreatePrincipalInput,
  CreateTenantInput,
  ExplainInput,
  IssueApiKeyInput,
  SetPolicyInput,
  SetRateLimitInput,
  UpdatePrincipalInput,
} from './commands.ts';
export type { CompiledCondition, ConditionContext } from './conditions.ts';
export { compileCondition } from './conditions.ts';
export type { AccessResource, Decision, DecisionContext } from './decide.ts';
export { decide } from './decide.ts';
export type { ErasureDeps, ErasureResult, ErasureService } from './erasure.service.ts';
export { makeErasureService } from './erasure.service.ts';
export {
  AccessErrorCode,
  accessStale,
  authenticationRequired,
  denied,
  insufficientScope,
  invalidCredential,
  rateLimited,
} from './errors.ts';
export type {
  AccessEvent,
  AuthorizationDenied,
  GrantResource,
  GrantSubject,
  PolicyTarget,
} from './events.ts';
export { ACCESS_CATEGORIES, ACCESS_CATEGORY_LIST, DENIAL_CATEGORY, registerAccessEvents } from './events.ts';
export type { AccessCommands } from './handlers.ts';
export { makeAccessCommands } from './handlers.ts';
export type { ApiKeyView, IdentityService, IssuedKey } from './identity.service.ts';
export { apiKeyView, makeIdentityService } from './identity.service.ts';
export { implies, matchesPattern, ROLE_PERMISSIONS, scopesFrom } from './permissions.ts';
export type { OidcIdentity } from './provisioning.ts';
export {
  BOOTSTRAP_ADMIN_ID,
  ensureBootstrapAdmin,
  oidcPrincipalId,
  provisionOidcPrincipal,
} from './provisioning.ts';
export type { RulesService } from './rules.service.ts';
export { makeRulesService } from './rules.service.ts';
export type { AccessServiceDeps, AccessWriteResult } from './service-deps.ts';
export type {
  AccessState,
  ApiKeyRecord,
  GrantRecord,
  PolicyRecord,
  PrincipalRecord,
  RateLimitRecord,
} from './state.ts';
export { applyAccessEvent, emptyAccessState, grantsOf, subjectKey } from './state.ts';
