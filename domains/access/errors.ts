import { AppError } from '../../kernel/errors.ts';

/** Stable codes of identity and access; clients may switch on them. */
export const AccessErrorCode = {
  InvalidInput: 'ACCESS.INVALID_INPUT',
  TenantExists: 'TENANT.EXISTS',
  TenantNotFound: 'TENANT.NOT_FOUND',
  PrincipalExists: 'PRINCIPAL.EXISTS',
  PrincipalNotFound: 'PRINCIPAL.NOT_FOUND',
  PrincipalErased: 'PRINCIPAL.ERASED',
  ApiKeyNotFound: 'APIKEY.NOT_FOUND',
  ApiKeyRevoked: 'APIKEY.REVOKED',
  ApiKeyExists: 'APIKEY.EXISTS',
  GrantNotFound: 'GRANT.NOT_FOUND',
  PolicyNotFound: 'POLICY.NOT_FOUND',
  PolicyInvalidCondition: 'POLICY.INVALID_CONDITION',
  RateLimitNotFound: 'RATELIMIT.NOT_FOUND',
  Denied: 'AUTHZ.DENIED',
  AuthenticationRequired: 'AUTH.REQUIRED',
  InvalidCredential: 'AUTH.INVALID_CREDENTIAL',
  InsufficientScope: 'AUTH.INSUFFICIENT_SCOPE',
  Stale: 'AUTH.STALE',
  RateLimited: 'RATE_LIMITED',
} as const;

export function invalidAccessInput(
  message: string,
  issues: Array<{ path: string; message: string }>,
): AppError {
  return new AppError('validation', AccessErrorCode.InvalidInput, message, { issues });
}

export const tenantExists = (id: string) =>
  new AppError('conflict', AccessErrorCode.TenantExists, `tenant ${id} already exists`, { tenant: id });
export const tenantNotFound = (id: string) =>
  new AppError('not_found', AccessErrorCode.TenantNotFound, `no tenant ${id}`, { tenant: id });
export const principalExists = (id: string) =>
  new AppError('conflict', AccessErrorCode.PrincipalExists, `principal ${id} already exists`, {
    principalId: id,
  });
export const principalNotFound = (id: string) =>
  new AppError('not_found', AccessErrorCode.PrincipalNotFound, `no principal ${id}`, { principalId: id });
export const principalErased = (id: string) =>
  new AppError(
    'conflict',
    AccessErrorCode.PrincipalErased,
    `principal ${id} was erased; it cannot be enabled`,
    {
      principalId: id,
    },
  );
export const apiKeyNotFound = (id: string) =>
  new AppError('not_found', AccessErrorCode.ApiKeyNotFound, `no API key ${id}`, { keyId: id });
export const apiKeyExists = (id: string) =>
  new AppError('conflict', AccessErrorCode.ApiKeyExists, `API key ${id} already exists`, { keyId: id });
export const apiKeyRevoked = (id: string) =>
  new AppError('conflict', AccessErrorCode.ApiKeyRevoked, `API key ${id} is revoked`, { keyId: id });
export const grantNotFound = (id: string) =>
  new AppError('not_found', AccessErrorCode.GrantNotFound, `no grant ${id}`, { grantId: id });
export const policyNotFound = (id: string) =>
  new AppError('not_found', AccessErrorCode.PolicyNotFound, `no policy ${id}`, { policyId: id });
export const rateLimitNotFound = (id: string) =>
  new AppError('not_found', AccessErrorCode.RateLimitNotFound, `no rate limit ${id}`, { rateLimitId: id });
export const invalidCondition = (message: string) =>
  new AppError(
    'validation',
    AccessErrorCode.PolicyInvalidCondition,
    `the condition is not valid CEL: ${message}`,
  );

/** Authenticated but not allowed; `reasons` say why (they never name what the caller may not see). */
export function denied(action: string, reasons: readonly string[], policyVersion: string): AppError {
  return new AppError('forbidden', AccessErrorCode.Denied, `not allowed to ${action}`, {
    action,
    reasons: [...reasons],
    policyVersion,
  });
}

/** The credential's scopes are too narrow: the caller may step up to a token with `required`. */
export function insufficientScope(action: string, required: readonly string[]): AppError {
  return new AppError(
    'forbidden',
    AccessErrorCode.InsufficientScope,
    `the credential's scopes do not allow ${action}; it needs ${required.join(' ')}`,
    { action, requiredScopes: [...required] },
  );
}

export const authenticationRequired = () =>
  new AppError(
    'unauthenticated',
    AccessErrorCode.AuthenticationRequired,
    'authentication required: send Authorization: Bearer <API key or access token>',
  );

/** One message for every bad credential, so a caller cannot tell which part was wrong. */
export const invalidCredential = () =>
  new AppError('unauthenticated', AccessErrorCode.InvalidCredential, 'the credential is not valid');

export const accessStale = (ageMs: number) =>
  new AppError(
    'unavailable',
    AccessErrorCode.Stale,
    'access rules could not be refreshed recently; refusing rather than trusting stale rules',
    { ageMs },
  );

export function rateLimited(
  policy: string,
  retryAfterSeconds: number,
  headers: Record<string, string>,
): AppError {
  return new AppError(
    'rate_limited',
    AccessErrorCode.RateLimited,
    `rate limit ${policy} exceeded; retry in ${retryAfterSeconds} s`,
    {
      policy,
      retryAfterSeconds,
      headers,
    },
  );
}
