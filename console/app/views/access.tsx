import './access.css';
import { holds, useSession } from '../context.ts';
import { href, useRoute } from '../router.ts';
import { PageHeader, Tabs } from '../ui.tsx';
import { Explain } from './access/explain.tsx';
import { Grants } from './access/grants.tsx';
import { ApiKeys } from './access/keys.tsx';
import { Policies } from './access/policies.tsx';
import { Principals } from './access/principals.tsx';
import { RateLimits } from './access/rate-limits.tsx';

const TABS: Array<[string, string]> = [
  ['principals', 'Principals'],
  ['keys', 'API keys'],
  ['grants', 'Grants'],
  ['policies', 'Policies'],
  ['rate-limits', 'Rate limits'],
  ['explain', 'Explain'],
];

/** Identity and access of the tenant, one tab each (`#/access?tab=keys`). */
export function Access() {
  const { me } = useSession();
  const { query } = useRoute();
  const asked = query.get('tab');
  const tab = TABS.some(([key]) => key === asked) ? asked! : holds(me, 'mcp:manage') ? 'principals' : 'keys';
  return (
    <>
      <PageHeader title="Access" />
      <Tabs tabs={TABS} current={tab} hrefOf={(t) => `${href('access')}?tab=${t}`} />
      {tab === 'principals' && <Principals />}
      {tab === 'keys' && <ApiKeys principal={query.get('principal') ?? undefined} />}
      {tab === 'grants' && <Grants />}
      {tab === 'policies' && <Policies />}
      {tab === 'rate-limits' && <RateLimits />}
      {tab === 'explain' && <Explain query={query} />}
    </>
  );
}
