import { describe, it } from 'vitest';
import {
  type ContractSubject,
  describeEventStoreContract,
} from '../../test/contracts/event-store.contract.ts';
import { services } from '../../test/services.ts';
import { createEventStoreDbStore } from './eventstoredb.event-store.ts';

/**
 * EventStoreDB from EVENTSTORE_URL, else a throw-away KurrentDB container where a Docker engine
 * answers, else the suite is skipped (loudly). No test hooks: EventStoreDB has no transaction we
 * could hold open, so the gap-safety test runs its concurrent writers without slow or failed appends.
 */
const configuredUrl = services().eventstoreUrl;
const docker = configuredUrl === '' && (await dockerAvailable());

if (configuredUrl !== '' || docker) {
  describeEventStoreContract('EventStoreDB', async (): Promise<ContractSubject> => {
    const server =
      configuredUrl !== '' ? { url: configuredUrl, stop: async () => {} } : await startKurrentDb();
    const store = createEventStoreDbStore({ connectionString: server.url });
    return {
      store,
      appendManyIsAtomic: false,
      async teardown() {
        await store.close();
        await server.stop();
      },
    };
  });
} else {
  console.warn('\n!!! EVENTSTORE_URL not set and no Docker engine: the EventStoreDB contract is SKIPPED\n');
  describe.skip('EventStore contract: EventStoreDB — needs EVENTSTORE_URL or Docker', () => {
    it('runs against EventStoreDB', () => {});
  });
}

async function startKurrentDb(): Promise<{ url: string; stop(): Promise<void> }> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer('docker.kurrent.io/kurrent-latest/kurrentdb:latest')
    .withCommand(['--insecure', '--mem-db', '--run-projections=None'])
    .withExposedPorts(2113)
    .withWaitStrategy(Wait.forHttp('/health/live', 2113).forStatusCode(204))
    .withStartupTimeout(120_000)
    .start();
  return {
    url: `esdb://${container.getHost()}:${container.getMappedPort(2113)}?tls=false`,
    stop: async () => {
      await container.stop();
    },
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
