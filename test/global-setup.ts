import type { TestProject } from 'vitest/node';

/**
 * Finds the services the integration tests need: from the environment first (DATABASE_URL,
 * NATS_URL, EVENTSTORE_URL), then from testcontainers where a Docker engine answers. On CI a
 * missing PostgreSQL or NATS is a failure; elsewhere the tests that need it skip, loudly.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stops: Array<() => Promise<unknown>> = [];
  let databaseUrl = process.env.DATABASE_URL;
  let natsUrl = process.env.NATS_URL;
  const eventstoreUrl = process.env.EVENTSTORE_URL;

  if ((!databaseUrl || !natsUrl) && (await dockerAvailable())) {
    const { GenericContainer, Wait } = await import('testcontainers');
    if (!databaseUrl) {
      const pg = await new GenericContainer('postgres:16-alpine')
        .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
        .withExposedPorts(5432)
        .withWaitStrategy(Wait.forLogMessage(/ready to accept connections/, 2))
        .start();
      stops.push(() => pg.stop());
      databaseUrl = `postgres://postgres@${pg.getHost()}:${pg.getMappedPort(5432)}/postgres`;
    }
    if (!natsUrl) {
      const nats = await new GenericContainer('nats:2.11-alpine')
        .withCommand(['-js'])
        .withExposedPorts(4222)
        .start();
      stops.push(() => nats.stop());
      natsUrl = `nats://${nats.getHost()}:${nats.getMappedPort(4222)}`;
    }
  }

  const missing = [!databaseUrl && 'PostgreSQL (DATABASE_URL)', !natsUrl && 'NATS (NATS_URL)'].filter(
    Boolean,
  );
  if (missing.length > 0) {
    const line = `integration services missing: ${missing.join(', ')} — set them or run a Docker engine`;
    if (process.env.CI) throw new Error(`${line}; on CI this is a failure`);
    console.warn(`\n!!! ${line}\n!!! tests that need them are SKIPPED\n`);
  }
  project.provide('services', {
    databaseUrl: databaseUrl ?? '',
    natsUrl: natsUrl ?? '',
    eventstoreUrl: eventstoreUrl ?? '',
  });
  return async () => {
    for (const stop of stops) await stop();
  };
}

async function dockerAvailable(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    services: { databaseUrl: string; natsUrl: string; eventstoreUrl: string };
  }
}
