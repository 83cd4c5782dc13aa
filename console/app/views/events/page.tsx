import { useRoute } from '../../router.ts';
import { PageHeader } from '../../ui.tsx';
import { AuditVerification } from './audit.tsx';
import { EventFilters } from './filters.tsx';
import { StreamHistory } from './history.tsx';
import { LiveLog } from './live-log.tsx';
import { filterOf, filterProblem, filterQuery } from './model.ts';

/** The event log live, a stream's history on demand, and the audit chain's verification. */
export function Events() {
  const { query } = useRoute();
  const filter = filterOf(query);
  const key = filterQuery(filter).toString();
  const problem = filterProblem(filter);
  const history = query.get('history');
  return (
    <>
      <PageHeader title="Events" />
      <EventFilters key={key} filter={filter} />
      {history && <StreamHistory stream={history} query={query} />}
      {problem ? (
        <p class="error" role="alert">
          {problem}
        </p>
      ) : (
        <LiveLog key={key} filter={filter} query={query} />
      )}
      <AuditVerification />
    </>
  );
}
