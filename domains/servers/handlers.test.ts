import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../kernel/clock.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import { toJson } from '../../kernel/envelope.ts';
import { EventTypeRegistry } from '../../kernel/event-types.ts';
import { uuidV5 } from '../../kernel/ids.ts';
import { createSecretBox, type SealedSecret } from '../../kernel/secrets.ts';
import { databaseKinds, type TestDatabase, warnIfSkipped } from '../../test/databases.ts';
import { serverCommandsAtTheEdge } from '../../test/server-commands.ts';
import { registerServerEvents, type StoredTransport } from './events.ts';
import { serverNameStream, serverStream } from './handlers.ts';

for (const kind of databaseKinds) {
  warnIfSkipped(kind, 'server commands');
  describe.skipIf(!kind.available())(`server commands [${kind.label}]`, () => {
    let t: TestDatabase;
    const clock = fixedClock('2026-03-01T10:00:00.000Z');
    const registry = registerServerEvents(new EventTypeRegistry());
    const key = randomBytes(32);
    const secrets = createSecretBox(key);
    let servers: ReturnType<typeof serverCommandsAtTheEdge>;
    const run = randomBytes(3).toString('hex');
    let seq = 0;
    const meta = (over: Partial<CommandMeta> = {}): CommandMeta => ({
      commandId: `cmd-${run}-${++seq}`,
      actor: 'user:test',
      correlationId: `corr-${seq}`,
      issuedAt: clock.now(),
      ...over,
    });
    const name = (base: string) => `${base}-${run}`;

    beforeAll(async () => {
      t = await kind.open();
      servers = serverCommandsAtTheEdge({ store: t.store, registry, secrets, clock });
    });
    afterAll(async () => {
      await t?.close();
    });

    async function transportOf(serverId: string): Promise<StoredTransport> {
      const events = await t.store.readStream(serverStream(serverId));
      let transport: StoredTransport | undefined;
      for (const e of events) {
        const d = e.data as { transport?: StoredTransport };
        if (d.transport) transport = d.transport;
      }
      return transport!;
    }

    it("records the server as the actor's, in the actor's tenant (the default one when none)", async () => {
      const a = await servers.register(
        { name: name('owned'), transport: { type: 'stdio', command: 'x' } },
        meta({ actor: 'user-a', tenant: 'team-a' }),
      );
      const plain = await servers.register(
        { name: name('plain'), transport: { type: 'stdio', command: 'x' } },
        meta(),
      );
      const [registeredA] = await t.store.readStream(serverStream(a.serverId));
      const [registeredPlain] = await t.store.readStream(serverStream(plain.serverId));
      expect(registeredA?.data).toMatchObject({ tenant: 'team-a', owner: 'user-a' });
      expect(registeredA?.metadata).toMatchObject({ actor: 'user-a', tenant: 'team-a' });
      expect(registeredPlain?.data).toMatchObject({ tenant: 'default', owner: 'user:test' });
    });

    it('never writes a secret in clear text, and the key opens it again', async () => {
      const r = await servers.register(
        {
          name: name('secretive'),
          transport: {
            type: 'stdio',
            command: 'npx',
            args: ['-y', 'some-server'],
            env: { TOKEN: 'abc123', HOME_DIR: { secretRef: 'env:HOME' } },
          },
        },
        meta(),
      );
      const updated = await servers.update(
        r.serverId,
        {
          transport: {
            type: 'streamable-http',
            url: 'https://mcp.test/mcp',
            headers: { Authorization: 'Bearer abc123' },
          },
        },
        meta(),
      );
      // The global log shows an append a moment after it returns (older transactions must end first).
      while ((await t.store.headPosition()) < updated.position!) await new Promise((r) => setTimeout(r, 10));
      const all = await t.store.readAll({ maxCount: 10_000 });
      const json = JSON.stringify(all.map(toJson));
      expect(json).not.toContain('abc123');
      expect(all.length).toBeGreaterThan(0);

      const [registered] = await t.store.readStream(serverStream(r.serverId));
      const env = (registered!.data as { transport: { env: Record<string, unknown> } }).transport.env;
      expect(env.HOME_DIR).toEqual({ secretRef: 'env:HOME' });
      expect(secrets.decrypt(env.TOKEN as SealedSecret)).toBe('abc123');
      const headers = ((await transportOf(r.serverId)) as { headers: Record<string, SealedSecret> }).headers;
      expect(secrets.decrypt(headers.Authorization!)).toBe('Bearer abc123');

      const wrongKey = createSecretBox(randomBytes(32), secrets.keyId);
      expect(() => wrongKey.decrypt(env.TOKEN as SealedSecret)).toThrow(/could not be decrypted/);
    });

    it('a retried register (same command id) returns the first result and appends nothing', async () => {
      const m = meta();
      const input = { name: name('retry'), transport: { type: 'sse' as const, url: 'https://x.test/sse' } };
      const first = await servers.register(input, m);
      const again = await servers.register(input, m);
      expect(first.duplicate).toBe(false);
      expect(again).toEqual({ ...first, duplicate: true });
      expect(await t.store.readStream(serverStream(first.serverId))).toHaveLength(1);

      // Retried after the server changed: still the first answer, not the stream's revision now.
      const update = meta();
      const updated = await servers.update(first.serverId, { description: 'changed' }, update);
      await servers.disable(first.serverId, meta());
      expect(await servers.register(input, m)).toEqual({ ...first, duplicate: true });
      expect(await servers.update(first.serverId, { description: 'changed' }, update)).toEqual({
        ...updated,
        duplicate: true,
      });
    });

    it('refuses a taken name, frees it on remove, and lets a rename take and release names', async () => {
      const transport = { type: 'stdio' as const, command: 'srv' };
      const a = await servers.register({ name: name('alpha'), transport }, meta());
      await expect(servers.register({ name: name('alpha'), transport }, meta())).rejects.toMatchObject({
        code: 'SERVER.NAME_TAKEN',
        kind: 'conflict',
      });

      await servers.update(a.serverId, { name: name('beta') }, meta());
      // The old name is free at once, the new one is taken.
      const b = await servers.register({ name: name('alpha'), transport }, meta());
      await expect(servers.register({ name: name('beta'), transport }, meta())).rejects.toMatchObject({
        code: 'SERVER.NAME_TAKEN',
      });

      await servers.remove(a.serverId, meta());
      const c = await servers.register({ name: name('beta'), transport }, meta());
      expect(new Set([a.serverId, b.serverId, c.serverId]).size).toBe(3);
    });

    it('writes a server and its names in one transaction: register, rename and remove', async () => {
      const transport = { type: 'stdio' as const, command: 'srv' };
      const [first, second] = [name('one'), name('two')];
      const txOf = async (stream: string) => (await t.store.readStream(stream)).at(-1)!.position >> 20n;
      const a = await servers.register({ name: first, transport }, meta());
      expect(await txOf(serverNameStream(first))).toBe(await txOf(a.stream));
      await servers.update(a.serverId, { name: second }, meta());
      const renamed = await txOf(a.stream);
      expect(await txOf(serverNameStream(second))).toBe(renamed);
      expect((await t.store.readStream(serverNameStream(first))).at(-1)!.type).toBe('ServerNameReleased');
      expect(await txOf(serverNameStream(first))).toBe(renamed);
      const removed = await servers.remove(a.serverId, meta());
      expect(await txOf(serverNameStream(second))).toBe(removed.position! >> 20n);
      // The command's position is its own stream's last event: what a read-your-writes wait needs.
      expect((await t.store.readStream(a.stream)).at(-1)!.position).toBe(removed.position);
    });

    it('only one of two concurrent registrations of a name wins', async () => {
      const transport = { type: 'stdio' as const, command: 'srv' };
      const results = await Promise.allSettled(
        Array.from({ length: 4 }, () => servers.register({ name: name('race'), transport }, meta())),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'SERVER.NAME_TAKEN' });
      }
    });

    it('a reservation left by a crash blocks the name for the grace period only', async () => {
      const n = name('orphan');
      const ghost = randomUUID();
      // What a crash between the reservation and the server stream leaves behind.
      await t.store.append(
        serverNameStream(n),
        [
          {
            id: uuidV5(`ghost/${n}`),
            type: 'ServerNameReserved',
            data: { name: n, serverId: ghost, reservedAt: clock.now().toISOString() },
            metadata: { correlationId: 'c', causationId: 'ghost', actor: 'test', schemaVersion: 1 },
          },
        ],
        'no-stream',
      );
      const transport = { type: 'stdio' as const, command: 'srv' };
      await expect(servers.register({ name: n, transport }, meta())).rejects.toMatchObject({
        code: 'SERVER.NAME_TAKEN',
      });
      clock.advance(61_000);
      const r = await servers.register({ name: n, transport }, meta());
      expect(r.duplicate).toBe(false);
    });

    it('keeps a secret given back as "[redacted]", and an unchanged secret is not an update', async () => {
      const r = await servers.register(
        {
          name: name('keeper'),
          transport: { type: 'streamable-http', url: 'https://k.test/mcp', headers: { 'X-Key': 'k-1' } },
        },
        meta(),
      );
      const before = await transportOf(r.serverId);
      const same = await servers.update(
        r.serverId,
        { transport: { type: 'streamable-http', url: 'https://k.test/mcp', headers: { 'X-Key': 'k-1' } } },
        meta(),
      );
      expect(same.position).toBeUndefined();
      const moved = await servers.update(
        r.serverId,
        {
          transport: {
            type: 'streamable-http',
            url: 'https://k2.test/mcp',
            headers: { 'X-Key': '[redacted]' },
          },
        },
        meta(),
      );
      expect(moved.position).toBeDefined();
      const after = await transportOf(r.serverId);
      expect(after).toEqual({ ...before, url: 'https://k2.test/mcp' });

      await expect(
        servers.update(
          r.serverId,
          {
            transport: {
              type: 'streamable-http',
              url: 'https://k.test/mcp',
              headers: { Other: '[redacted]' },
            },
          },
          meta(),
        ),
      ).rejects.toMatchObject({ code: 'SERVER.INVALID_SECRET', kind: 'validation' });
    });

    it('enable/disable are idempotent, and commands on unknown or removed servers fail clearly', async () => {
      const r = await servers.register(
        { name: name('toggle'), transport: { type: 'stdio', command: 'srv' }, enabled: false },
        meta(),
      );
      const enabled = await servers.enable(r.serverId, meta());
      expect(enabled.revision).toBe(1n);
      const again = await servers.enable(r.serverId, meta());
      expect(again).toMatchObject({ revision: 1n, position: undefined, duplicate: false });
      await servers.disable(r.serverId, meta(), { reason: 'maintenance' });
      await servers.remove(r.serverId, meta());
      const removedTwice = await servers.remove(r.serverId, meta());
      expect(removedTwice.position).toBeUndefined();

      await expect(servers.enable(r.serverId, meta())).rejects.toMatchObject({ code: 'SERVER.REMOVED' });
      await expect(servers.enable(randomUUID(), meta())).rejects.toMatchObject({ code: 'SERVER.NOT_FOUND' });
      await expect(servers.remove('../etc/passwd', meta())).rejects.toMatchObject({
        code: 'SERVER.NOT_FOUND',
      });
    });

    it('refresh records a request for an enabled server, and refuses a disabled one', async () => {
      const r = await servers.register(
        {
          name: name('refreshable'),
          transport: { type: 'stdio', command: 'srv' },
          settings: { replicas: 2 },
        },
        meta(),
      );
      const refreshed = await servers.refresh(r.serverId, meta());
      expect(refreshed).toMatchObject({ revision: 1n, duplicate: false });
      const [last] = await t.store.readStream(serverStream(r.serverId), {
        direction: 'backwards',
        maxCount: 1,
      });
      expect(last).toMatchObject({ type: 'ServerRefreshRequested', data: { serverId: r.serverId } });

      await servers.disable(r.serverId, meta());
      await expect(servers.refresh(r.serverId, meta())).rejects.toMatchObject({
        code: 'SERVER.DISABLED',
        kind: 'conflict',
      });
      expect(await t.store.readStream(serverStream(r.serverId))).toHaveLength(3);
      await expect(servers.refresh(randomUUID(), meta())).rejects.toMatchObject({ code: 'SERVER.NOT_FOUND' });
    });

    it('an update of the settings alone is checked against the stored transport', async () => {
      const r = await servers.register(
        { name: name('weighted'), transport: { type: 'streamable-http', url: 'https://w.test/mcp' } },
        meta(),
      );
      await expect(servers.update(r.serverId, { settings: { replicas: 2 } }, meta())).rejects.toMatchObject({
        code: 'SERVER.INVALID_INPUT',
        message: /settings\.replicas/,
      });
      const ok = await servers.update(
        r.serverId,
        { settings: { extraUrls: ['https://w2.test/mcp'], loadBalancing: 'weighted', weights: [2, 1] } },
        meta(),
      );
      expect(ok.revision).toBe(1n);
      // The next test compares the log's head before and after: let this append become visible first.
      while ((await t.store.headPosition()) < ok.position!) await new Promise((r) => setTimeout(r, 10));
    });

    it('bad input is a validation error naming the field, and appends nothing', async () => {
      const head = await t.store.headPosition();
      await expect(
        servers.register({ name: 'Bad Name', transport: { type: 'stdio', command: 'x' } }, meta()),
      ).rejects.toMatchObject({ code: 'SERVER.INVALID_INPUT', kind: 'validation', message: /^name: / });
      await expect(
        servers.register(
          { name: name('ok'), transport: { type: 'stdio', command: 'x' }, extra: 1 } as never,
          meta(),
        ),
      ).rejects.toMatchObject({ code: 'SERVER.INVALID_INPUT', message: /extra/ });
      await expect(
        servers.register(
          {
            name: name('ok'),
            transport: { type: 'sse', url: 'https://x.test', headers: { A: '[redacted]' } },
          },
          meta(),
        ),
      ).rejects.toMatchObject({ code: 'SERVER.INVALID_SECRET' });
      expect(await t.store.headPosition()).toBe(head);
    });
  });
}
