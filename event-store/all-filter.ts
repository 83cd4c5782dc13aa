import type { AllFilter } from '../kernel/event-store.port.ts';
import { categoryOf } from '../kernel/streams.ts';

/**
 * Whether an event passes a global-log filter. Adapters that cannot filter on the server use this; the
 * Postgres adapter filters in SQL with the same meaning (a present but empty list matches nothing).
 */
export function matchesFilter(
  event: { stream: string; type: string },
  filter: AllFilter | undefined,
): boolean {
  if (!filter) return true;
  if (filter.categories && !filter.categories.includes(categoryOf(event.stream))) return false;
  if (filter.types && !filter.types.includes(event.type)) return false;
  return true;
}
