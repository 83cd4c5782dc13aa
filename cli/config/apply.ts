import { CliError, formatError } from '../errors.ts';
import { apiUrl, authorizedFetch, fetchGateway, type Gateway, readJson } from '../http-client.ts';
import type { ApiCall, Plan, PlanStep } from './plan.ts';

/** One REST call of a plan step, as the authenticated caller (it is the actor of what it appends). */
async function send(gateway: Gateway, call: ApiCall): Promise<void> {
  const init: RequestInit = {
    method: call.method,
    headers: {
      accept: 'application/json',
      ...(call.body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(call.body !== undefined && { body: JSON.stringify(call.body) }),
  };
  await readJson(await fetchGateway(authorizedFetch(gateway), apiUrl(gateway.url, call.path), init));
}

/**
 * Applies a plan, step by step, in its order. A refused step stops the run: the error names it and
 * what went before stays applied — applying the file again plans only what is left.
 */
export async function applyPlan(
  gateway: Gateway,
  plan: Plan,
  onStep: (step: PlanStep) => void = () => undefined,
): Promise<PlanStep[]> {
  if (plan.problems.length > 0) {
    throw new CliError(`the plan cannot be applied:\n${plan.problems.map((p) => `  ${p}`).join('\n')}`);
  }
  const done: PlanStep[] = [];
  for (const step of plan.steps) {
    try {
      for (const call of step.calls) await send(gateway, call);
    } catch (e) {
      if (!(e instanceof CliError)) throw e;
      // The gateway's own words, with the fields it named: the step is what the user must fix.
      const why = formatError(e)
        .replace(/^error: /, '')
        .trimEnd();
      throw new CliError(
        `${step.op} ${step.kind} ${step.name} was refused after ${done.length} of ${plan.steps.length} steps: ${why}`,
      );
    }
    done.push(step);
    onStep(step);
  }
  return done;
}
