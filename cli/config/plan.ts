import type { CurrentConfiguration } from './current.ts';
import type { ConfigDocument } from './document.ts';
import { planGrants, planPolicies, planRateLimits } from './plan-access.ts';
import { type Plan, type PlanStep, planBuilder } from './plan-builder.ts';
import { planServers, planTemplateSources, planTenants, planToolsets } from './plan-registry.ts';

export type { ApiCall, ConfigKind, Plan, PlanStep } from './plan-builder.ts';

/**
 * What applying `desired` to `current` would do: per item, create, change or (with `prune`)
 * remove, each as the REST calls that do it — the same calls, validation, authorization and audit
 * actor as any client's. Pure: the same inputs give the same plan, and a document applied to the
 * configuration it describes plans nothing.
 *
 * Order: what others refer to first (tenants, servers before the toolsets naming their tools),
 * removals last and in reverse (a toolset goes before the server it names).
 */
export function planConfiguration(
  current: CurrentConfiguration,
  desired: ConfigDocument,
  options: { prune: boolean },
): Plan {
  const { builder, plan } = planBuilder(current, desired, options.prune);
  for (const part of [
    planTenants,
    planServers,
    planTemplateSources,
    planToolsets,
    planGrants,
    planPolicies,
    planRateLimits,
  ]) {
    part(builder);
  }
  return plan();
}

/** The plan as a person reads it: one line per step, `+` create, `~` change (with what), `-` remove. */
export function formatPlan(plan: Plan): string {
  const sign = { create: '+', change: '~', remove: '-' } as const;
  const count = (op: PlanStep['op']) => plan.steps.filter((s) => s.op === op).length;
  const lines: string[] = [];
  for (const s of plan.steps) {
    lines.push(`  ${sign[s.op]} ${s.kind} ${s.name}${s.fields.length > 0 ? `: ${s.fields.join(', ')}` : ''}`);
  }
  for (const n of plan.notes) lines.push(`  = ${n}`);
  for (const p of plan.problems) lines.push(`  ! ${p}`);
  const head =
    plan.steps.length === 0
      ? 'No changes: the gateway already has this configuration.'
      : `Plan: ${count('create')} to create, ${count('change')} to change, ${count('remove')} to remove.`;
  return `${head}\n${lines.join('\n')}${lines.length > 0 ? '\n' : ''}`;
}
