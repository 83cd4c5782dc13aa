import { Counter, Gauge, type Registry } from 'prom-client';
import type { InstanceState, Upstreams } from '../../runners/upstream.port.ts';

const STATES: readonly InstanceState[] = ['starting', 'healthy', 'unhealthy', 'stopped', 'error'];

/**
 * What a runner hosts, read from its pool at each scrape: instances by server and state (every
 * state present, 0 included, so an alert on `unhealthy` sees it go back to 0), calls in flight, and
 * restarts. Server names are the registry's.
 */
export function upstreamMetrics(upstreams: Pick<Upstreams, 'status'>, metrics: Registry): void {
  new Gauge({
    name: 'switchyard_upstream_instances',
    help: 'Upstream server instances hosted by this runner, by server and state',
    labelNames: ['server', 'state'] as const,
    registers: [metrics],
    collect() {
      this.reset();
      for (const s of upstreams.status()) {
        const counts = new Map<InstanceState, number>(STATES.map((state) => [state, 0]));
        for (const i of s.instances) counts.set(i.state, (counts.get(i.state) ?? 0) + 1);
        for (const [state, n] of counts) this.set({ server: s.name, state }, n);
      }
    },
  });
  new Gauge({
    name: 'switchyard_upstream_in_flight',
    help: 'Requests in flight to upstream servers hosted by this runner, by server',
    labelNames: ['server'] as const,
    registers: [metrics],
    collect() {
      this.reset();
      for (const s of upstreams.status())
        this.set(
          { server: s.name },
          s.instances.reduce((n, i) => n + i.inFlight, 0),
        );
    },
  });
  // The pool counts restarts per instance, and forgets them when a server is reconfigured or
  // stopped; the counter adds what each server's count grew by, so it only ever goes up.
  let seen = new Map<string, number>();
  new Counter({
    name: 'switchyard_upstream_restarts_total',
    help: 'Restarts of upstream server instances (a process that exited, a session that was lost), by server',
    labelNames: ['server'] as const,
    registers: [metrics],
    collect() {
      const current = new Map<string, number>();
      for (const s of upstreams.status()) {
        const now = s.instances.reduce((n, i) => n + i.restarts, 0);
        const key = `${s.serverId}\n${s.revision}`;
        const grew = now - (seen.get(key) ?? 0);
        this.inc({ server: s.name }, Math.max(0, grew));
        current.set(key, now);
      }
      // Servers gone from the pool are forgotten: started again, they count from 0 again.
      seen = current;
    },
  });
}
