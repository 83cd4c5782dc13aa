import './system.css';
import { PageHeader } from '../ui.tsx';
import { Bus } from './system/bus.tsx';
import { SystemInfo } from './system/info.tsx';
import { Projections } from './system/projections.tsx';
import { RateLimitState } from './system/rate-limits.tsx';

/** The platform: read models (projections), the bus (NATS JetStream), rate limits, version and configuration. */
export function System() {
  return (
    <>
      <PageHeader title="System" />
      <div class="grid">
        <Projections />
        <Bus />
        <RateLimitState />
        <SystemInfo />
      </div>
    </>
  );
}
