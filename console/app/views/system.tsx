import './system.css';
import { PageHeader } from '../ui.tsx';
import { Bus } from './system/bus.tsx';
import { SystemInfo } from './system/info.tsx';
import { Projections } from './system/projections.tsx';

/** The platform: read models (projections), the bus (NATS JetStream), version and configuration. */
export function System() {
  return (
    <>
      <PageHeader title="System" />
      <div class="grid">
        <Projections />
        <Bus />
        <SystemInfo />
      </div>
    </>
  );
}
