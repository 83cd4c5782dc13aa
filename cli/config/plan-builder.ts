import type { CurrentConfiguration } from './current.ts';
import type { ConfigDocument } from './document.ts';

export type ConfigKind =
  | 'tenant'
  | 'server'
  | 'template source'
  | 'toolset'
  | 'grant'
  | 'policy'
  | 'rate limit';

/** One REST call of the gateway's API: apply changes nothing any other way. */
export interface ApiCall {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  body?: unknown;
}

export interface PlanStep {
  op: 'create' | 'change' | 'remove';
  kind: ConfigKind;
  name: string;
  /** For a change: the fields that differ. */
  fields: string[];
  calls: ApiCall[];
}

export interface Plan {
  steps: PlanStep[];
  /** What stops the plan from being applied (nothing is applied while there is one). */
  problems: string[];
  /** What the plan leaves as it is, and why (told, not an error). */
  notes: string[];
}

/** What each part of the planner is given: both sides, and where its steps go. */
export interface PlanBuilder {
  current: CurrentConfiguration;
  /** current.document. */
  have: ConfigDocument;
  desired: ConfigDocument;
  prune: boolean;
  create(kind: ConfigKind, name: string, calls: ApiCall[]): void;
  change(kind: ConfigKind, name: string, fields: string[], calls: ApiCall[]): void;
  /** Recorded only with prune. */
  remove(kind: ConfigKind, name: string, calls: ApiCall[]): void;
  problem(text: string): void;
  note(text: string): void;
}

/** Removals run last, in the reverse of the creation order: dependants before what they name. */
const REMOVAL_ORDER: ConfigKind[] = [
  'rate limit',
  'policy',
  'grant',
  'toolset',
  'template source',
  'server',
  'tenant',
];

export function planBuilder(
  current: CurrentConfiguration,
  desired: ConfigDocument,
  prune: boolean,
): { builder: PlanBuilder; plan(): Plan } {
  const steps: PlanStep[] = [];
  const removals: PlanStep[] = [];
  const problems: string[] = [];
  const notes: string[] = [];
  const builder: PlanBuilder = {
    current,
    have: current.document,
    desired,
    prune,
    create: (kind, name, calls) => steps.push({ op: 'create', kind, name, fields: [], calls }),
    change: (kind, name, fields, calls) => steps.push({ op: 'change', kind, name, fields, calls }),
    remove: (kind, name, calls) => {
      if (prune) removals.push({ op: 'remove', kind, name, fields: [], calls });
    },
    problem: (text) => problems.push(text),
    note: (text) => notes.push(text),
  };
  const order = (a: PlanStep, b: PlanStep) =>
    REMOVAL_ORDER.indexOf(a.kind) - REMOVAL_ORDER.indexOf(b.kind) || (a.name < b.name ? -1 : 1);
  return { builder, plan: () => ({ steps: [...steps, ...removals.sort(order)], problems, notes }) };
}

/** The names of `fields` whose values differ (as configuration: key order aside). */
export function differing<T extends object>(
  now: T,
  wanted: T,
  fields: Array<keyof T & string>,
  same: (a: unknown, b: unknown) => boolean,
): string[] {
  return fields.filter((f) => !same(now[f], wanted[f]));
}
