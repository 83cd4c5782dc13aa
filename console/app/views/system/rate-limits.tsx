import { useEffect, useState } from 'preact/hooks';
import { useSession } from '../../context.ts';
import { type Sample, samplesOf } from '../../metrics.ts';
import { Card, ErrorBox, Table } from '../../ui.tsx';
import { RateLimits } from '../access/rate-limits.tsx';

/** What the limits have refused on this gateway since it started, from its /metrics. */
function Refusals() {
  const { api } = useSession();
  const [state, setState] = useState<{ hits?: Sample[]; auth?: Sample[]; error?: Error }>({});
  useEffect(() => {
    const read = () =>
      api.text('/metrics').then(
        (t) =>
          setState({
            hits: samplesOf(t, 'switchyard_rate_limit_hits_total'),
            auth: samplesOf(t, 'switchyard_auth_failures_total'),
          }),
        (error: Error) => setState({ error }),
      );
    void read();
    const timer = setInterval(read, 5000);
    return () => clearInterval(timer);
  }, [api]);
  if (state.error) return <ErrorBox error={state.error} />;
  const rows = [
    ...(state.hits ?? []).map((s) => [`rate limit, ${s.labels.scope ?? 'all'}`, s.value] as const),
    ...(state.auth ?? []).map(
      (s) => [`failed authentication, ${s.labels.reason ?? 'all'}`, s.value] as const,
    ),
  ];
  return (
    <Table
      caption="Requests refused on this gateway since it started"
      head={['refused by', 'requests']}
      empty="Nothing refused."
    >
      {rows.map(([what, n]) => (
        <tr key={what}>
          <td>{what}</td>
          <td class="num">{n}</td>
        </tr>
      ))}
    </Table>
  );
}

/** Rate limits: the rules in force, and what they (and failed sign-ins) have refused. */
export function RateLimitState() {
  return (
    <>
      <Card title="Refused requests (this gateway)" class="wide">
        <Refusals />
      </Card>
      <RateLimits />
    </>
  );
}
