import type { Principal } from '../../kernel/principal.ts';
import type { Action } from './actions.ts';
import { type AccessResource, type Decision, type DecisionContext, decide } from './decide.ts';
import { denied, insufficientScope } from './errors.ts';
import type { AccessState } from './state.ts';

export interface AuthorizerDeps {
  /** The current access state; throws (fails closed) when it cannot be trusted to be current. */
  state: () => AccessState;
  /** Told of every denial of an authenticated principal (recorded, capped, counted). */
  onDenied?: (principal: Principal, action: Action, resource: AccessResource, decision: Decision) => void;
}

export interface Authorizer {
  /** The decision, without acting on it (lists filter with it; explain shows it). */
  decide(principal: Principal, action: Action, resource: AccessResource, context?: DecisionContext): Decision;
  /**
   * The decision, or the error a denied caller gets: 403 (AUTHZ.DENIED, or AUTH.INSUFFICIENT_SCOPE
   * naming the scopes to step up to) when it may see the resource, else `hidden()` — the very error
   * an unknown resource gets, so a caller cannot probe for what it may not see.
   */
  require(
    principal: Principal,
    action: Action,
    resource: AccessResource,
    /** `conceal`: answer `hidden()` for any denial, not only when nothing is visible (unlisted tools). */
    options?: DecisionContext & { hidden?: () => Error; conceal?: boolean },
  ): Decision;
  state(): AccessState;
}

/** Use cases authorize through this: the one decision function, the one way to refuse. */
export function makeAuthorizer(deps: AuthorizerDeps): Authorizer {
  return {
    decide: (principal, action, resource, context) =>
      decide(deps.state(), principal, action, resource, context),
    require(principal, action, resource, options = {}) {
      const d = decide(deps.state(), principal, action, resource, options);
      if (d.effect === 'allow') return d;
      deps.onDenied?.(principal, action, resource, d);
      if ((!d.visible || options.conceal) && options.hidden) throw options.hidden();
      if (d.missingScopes) throw insufficientScope(action, d.missingScopes);
      throw denied(action, d.reasons, d.policyVersion);
    },
    state: deps.state,
  };
}
