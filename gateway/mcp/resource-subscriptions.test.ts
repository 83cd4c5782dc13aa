import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCallTool } from '../../application/toolcalls/call-tool.ts';
import type { Bus } from '../../bus/bus.port.ts';
import { createInProcessBus } from '../../bus/in-process/in-process.bus.ts';
import { createNatsBus } from '../../bus/nats/nats.bus.ts';
import { systemClock } from '../../kernel/clock.ts';
import { randomIds } from '../../kernel/ids.ts';
import { silentLogger } from '../../kernel/logger.ts';
import { createUpstreamPool, type UpstreamPool } from '../../runners/pool/pool.ts';
import { createRemoteUpstreams } from '../../runners/remote/remote-upstreams.ts';
import { serveUpstreams } from '../../runners/remote/serve-upstreams.ts';
import type { UpstreamSpec, Upstreams } from '../../runners/upstream.port.ts';
import { asPrincipal, noToolLimits, roomyInFlight, testAuthorizer } from '../../test/access.ts';
import { databaseKinds } from '../../test/databases.ts';
import { eventually, fixtureTransport, newMarker, processesWith, spec, textOf } from '../../test/runners.ts';
import { services, uniqueName } from '../../test/services.ts';
import type { CatalogServer } from './catalog-source.ts';
import { mcpRoutes } from './mcp.routes.ts';
import { createPlatformTools } from './platform-tools.ts';
import { sessionStore } from './shared-sessions/session-store.ts';

/** What the gateway reaches its upstreams through, and the runners' pools (one process each). */
interface Upstream {
  upstreams: Upstreams;
  pools: UpstreamPool[];
  stop(): Promise<void>;
}

const natsUrl = services().natsUrl;

function pool(): UpstreamPool {
  return createUpstreamPool({ logger: silentLogger() });
}

/** Runners (a pool and an exec server each) behind remote upstreams, on one bus per process. */
async function runners(buses: { gateway: Bus; runners: Bus[] }, s: UpstreamSpec): Promise<Upstream> {
  const hosted = await Promise.all(
    buses.runners.map(async (bus, i) => {
      const p = pool();
      await p.ensure(s);
      const server = await serveUpstreams({
        bus,
        upstreams: p,
        logger: silentLogger(),
        runnerId: `runner-${i}`,
        serverIds: [s.serverId],
      });
      return { pool: p, server };
    }),
  );
  const remote = await createRemoteUpstreams({ bus: buses.gateway, logger: silentLogger() });
  return {
    upstreams: remote,
    pools: hosted.map((h) => h.pool),
    async stop() {
      await remote.close();
      for (const h of hosted) {
        await h.server.close();
        await h.pool.close();
      }
      const all = new Set([buses.gateway, ...buses.runners]);
      for (const bus of all) await bus.close();
    },
  };
}

const modes: Array<{ name: string; skip: boolean; start: (s: UpstreamSpec) => Promise<Upstream> }> = [
  {
    name: 'the upstream pool in the gateway process',
    skip: false,
    async start(s) {
      const p = pool();
      await p.ensure(s);
      return { upstreams: p, pools: [p], stop: () => p.close() };
    },
  },
  {
    name: 'a runner over the in-process bus',
    skip: false,
    async start(s) {
      const bus = createInProcessBus({ logger: silentLogger() });
      return runners({ gateway: bus, runners: [bus] }, s);
    },
  },
  {
    name: 'two runners over NATS',
    skip: !natsUrl,
    async start(s) {
      const id = uniqueName('subs');
      const names = {
        subjectPrefix: id,
        eventsStream: `${id}_EVENTS`.toUpperCase(),
        deadLetterStream: `${id}_DLQ`.toUpperCase(),
      };
      const bus = () => createNatsBus({ url: natsUrl, names, logger: silentLogger() });
      return runners({ gateway: await bus(), runners: [await bus(), await bus()] }, s);
    },
  },
];

/** The MCP endpoints alone, on a loopback port, over a catalog of one server. */
async function startGateway(upstreams: Upstreams, server: CatalogServer): Promise<FastifyInstance> {
  const logger = silentLogger();
  const authz = testAuthorizer();
  // Where the sessions live: an in-memory database, and a bus of this process.
  const database = await databaseKinds.find((k) => k.label === 'pglite')!.open();
  const bus = createInProcessBus({ logger });
  const endpoints = mcpRoutes(
    {
      catalog: {
        enabledServers: async () => [server],
        serverByName: async (name) => (name === server.name ? server : undefined),
      },
      authz,
      upstreams,
      callTool: makeCallTool({
        upstreams,
        authz,
        limits: noToolLimits,
        inFlight: roomyInFlight,
        journal: { start: async () => ({}) as never, complete: async () => ({}) as never },
        clock: systemClock,
        ids: randomIds,
        logger,
      }),
      platform: createPlatformTools({ authz, listServers: async () => [] }),
      platformPrefix: 'switchyard__',
      naming: { separator: '__', prefix: 'always' },
      logger,
      version: 'test',
    },
    {
      allowedHosts: ['127.0.0.1'],
      allowedOrigins: [],
      sessionIdleMs: 60_000,
      sessionStore: sessionStore(database.db),
      bus,
    },
  );
  const app = Fastify();
  app.addHook('onClose', async () => {
    await bus.close();
    await database.close();
  });
  asPrincipal(app);
  await app.register(endpoints.plugin);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return app;
}

for (const mode of modes) {
  describe.skipIf(mode.skip)(`resource subscriptions on /servers/<name>/mcp through ${mode.name}`, () => {
    const marker = newMarker();
    const s = spec(fixtureTransport('subscribe', marker), { name: 'notes' });
    const clients: Client[] = [];
    let upstream: Upstream;
    let app: FastifyInstance;

    /** A client session that records the updates it is sent. */
    async function session() {
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const transport = new StreamableHTTPClientTransport(
        new URL(`http://127.0.0.1:${port}/servers/notes/mcp`),
      );
      const client = new Client({ name: 'subscriber', version: '1.0.0' });
      const updates: string[] = [];
      client.setNotificationHandler(
        ResourceUpdatedNotificationSchema,
        (n) => void updates.push(n.params.uri),
      );
      await client.connect(transport);
      clients.push(client);
      return {
        client,
        updates,
        /** Ends the session the way a client should: DELETE, then close. */
        async end() {
          await transport.terminateSession();
          await client.close();
        },
      };
    }

    /** The subscribe and unsubscribe requests each upstream process received. */
    async function upstreamSaw(): Promise<string[][]> {
      return Promise.all(
        upstream.pools.map(async (p) => {
          const answer = textOf(await p.callTool(s.serverId, 'subscriptions', {}));
          return (JSON.parse(answer) as { received: string[] }).received;
        }),
      );
    }

    const each = (log: string[]) => JSON.stringify(upstream.pools.map(() => log));

    beforeAll(async () => {
      upstream = await mode.start(s);
      const catalog = await eventually(() => upstream.upstreams.discover(s.serverId).catch(() => undefined));
      expect(catalog.capabilities).toMatchObject({ resources: { subscribe: true } });
      app = await startGateway(upstream.upstreams, {
        serverId: s.serverId,
        name: s.name,
        tenant: 'default',
        owner: 'test-admin',
        capabilities: catalog.capabilities,
        instructions: catalog.instructions,
        tools: catalog.tools,
        resources: catalog.resources,
        resourceTemplates: catalog.resourceTemplates,
        prompts: catalog.prompts,
      });
    });

    afterAll(async () => {
      for (const c of clients) await c.close().catch(() => undefined);
      await app?.close();
      await upstream?.stop();
      expect(await processesWith(marker)).toEqual([]);
    });

    it('sends an update only to the sessions subscribed to it, and subscribes the upstream once', {
      timeout: 60_000,
    }, async () => {
      const a = await session();
      const b = await session();
      const touch = async () => {
        const result = await a.client.callTool({ name: 'touch', arguments: { uri: 'note://a' } });
        expect(result.content).toEqual([{ type: 'text', text: 'notified' }]);
      };

      await a.client.subscribeResource({ uri: 'note://a' });
      // Every runner hosting the server follows the subscription (over the bus, a moment later).
      await eventually(async () => JSON.stringify(await upstreamSaw()) === each(['subscribe note://a']), {
        what: 'every upstream to be subscribed',
      });
      await touch();
      await eventually(() => a.updates.length === 1, { what: 'the update to reach A' });

      await b.client.subscribeResource({ uri: 'note://a' });
      await touch();
      await eventually(() => a.updates.length === 2 && b.updates.length === 1, {
        what: 'the second update to reach A and B',
      });

      await a.client.unsubscribeResource({ uri: 'note://a' });
      await touch();
      await eventually(() => b.updates.length === 2, { what: 'the third update to reach B' });
      // A would have had it by now: both sessions are sent an update at the same moment.
      await new Promise((r) => setTimeout(r, 300));
      expect(a.updates).toEqual(['note://a', 'note://a']);
      expect(b.updates).toEqual(['note://a', 'note://a']);
      // B's subscribe and A's unsubscribe never reached the upstream.
      expect(JSON.stringify(await upstreamSaw())).toBe(each(['subscribe note://a']));

      // The last subscriber's session ends without unsubscribing: the gateway does it for it.
      await b.end();
      await eventually(
        async () =>
          JSON.stringify(await upstreamSaw()) === each(['subscribe note://a', 'unsubscribe note://a']),
        { what: 'the upstreams to be unsubscribed' },
      );
      const quiet = await a.client.callTool({ name: 'touch', arguments: { uri: 'note://a' } });
      expect(quiet.content).toEqual([{ type: 'text', text: 'not subscribed' }]);
    });
  });
}
