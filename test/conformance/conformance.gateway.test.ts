/**
 * The conformance suite through the gateway: the fixture registered behind Switchyard as a stdio
 * upstream, a Streamable HTTP upstream and an HTTP+SSE upstream, and `--suite all` run against
 * `/servers/<name>/mcp`. Every scenario that passes against the fixture directly must pass here.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  LoggingMessageNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../kernel/logger.ts';
import { type System, startSystem } from '../../runtime/compose.ts';
import { parseConfig } from '../../runtime/config.ts';
import { adminAuth, TEST_ADMIN_KEY } from '../access.ts';
import { tsxLoader } from '../runners.ts';
import { type ModernFixture, startModernFixture } from './fixture-modern.ts';
import { type HttpFixture, startHttpFixture } from './fixture-server.ts';
import {
  BASELINE_2026_FILE,
  type Baseline,
  conformanceTool,
  describeRun,
  NEXT_TOOL_PACKAGE,
  readBaseline,
  requiredServerScenarios,
  runConformanceDetailed,
} from './run-conformance.ts';
import { startBridgeFront } from './stdio-bridge-front.ts';

const fixturePath = fileURLToPath(new URL('./fixture-server.ts', import.meta.url));

describe('conformance suite through /servers/<name>/mcp', () => {
  let system: System;
  let fixture: HttpFixture;
  let modern: ModernFixture;
  let baseline: Baseline;

  const register = async (body: unknown) => {
    const res = await fetch(`${system.url}/api/v1/servers?wait=true`, {
      method: 'POST',
      headers: { ...adminAuth, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(202);
  };

  /** Discovery is asynchronous: wait until the gateway serves the fixture's tools. */
  const discovered = async (name: string) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const res = await fetch(`${system.url}/api/v1/servers/${name}/tools/test_simple_text`, {
        method: 'POST',
        headers: { ...adminAuth, 'content-type': 'application/json' },
        body: '{}',
      });
      if (res.status === 200) return;
      if (Date.now() > deadline)
        throw new Error(`${name} was not discovered: ${res.status} ${await res.text()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  beforeAll(async () => {
    baseline = await readBaseline();
    fixture = await startHttpFixture();
    modern = await startModernFixture();
    system = await startSystem(
      parseConfig({
        SWITCHYARD_DATA_DIR: 'memory://',
        SWITCHYARD_PORT: '0',
        SWITCHYARD_LOG_LEVEL: 'error',
        SWITCHYARD_ADMIN_KEY: TEST_ADMIN_KEY,
      }),
      silentLogger(),
    );
    await register({
      name: 'fixture-stdio',
      transport: {
        type: 'stdio',
        command: process.execPath,
        args: ['--import', tsxLoader, fixturePath, '--stdio'],
      },
    });
    await register({ name: 'fixture-http', transport: { type: 'streamable-http', url: fixture.url } });
    await register({ name: 'fixture-sse', transport: { type: 'sse', url: fixture.sseUrl } });
    // The stdio fixture again, with one process for every caller (by default a caller whose call
    // would share the process with another caller's gets a process of its own).
    await register({
      name: 'fixture-stdio-shared',
      transport: {
        type: 'stdio',
        command: process.execPath,
        args: ['--import', tsxLoader, fixturePath, '--stdio'],
      },
      settings: { clientSessions: 0 },
    });
    await discovered('fixture-stdio');
    await discovered('fixture-http');
    await discovered('fixture-sse');
    // A 2026-07-28 upstream (the SDK's v2 server): the gateway speaks that revision to it.
    await register({ name: 'fixture-modern', transport: { type: 'streamable-http', url: modern.url } });
    await discovered('fixture-stdio-shared');
    await discovered('fixture-modern');
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
    await fixture?.close();
    await modern?.close();
  });

  for (const upstream of ['stdio', 'http', 'sse', 'stdio-shared'] as const) {
    it(`every scenario passing directly passes with a ${upstream} upstream`, {
      timeout: 150_000,
    }, async () => {
      const run = await runConformanceDetailed({
        url: `${system.url}/servers/fixture-${upstream}/mcp`,
        token: TEST_ADMIN_KEY,
      });
      const mustPass = Object.entries(baseline.scenarios)
        .filter(([, r]) => r === 'pass')
        .map(([s]) => s);
      expect(Object.keys(run.results).sort()).toEqual(Object.keys(baseline.scenarios).sort());
      const failing = mustPass.filter((s) => run.results[s] !== 'pass');
      // Printed for docs/conformance.md's gateway columns.
      console.info(`conformance through a ${upstream} upstream: ${JSON.stringify(run.results)}`);
      expect(failing, `scenarios passing directly but not through the gateway:\n${describeRun(run)}`).toEqual(
        [],
      );
    });
  }

  // Over Streamable HTTP an upstream's messages name their request; over HTTP+SSE a client session
  // whose call would share the upstream session with another client's gets one of its own, and
  // over stdio a process of its own (settings.clientSessions, on by default). Either way they reach
  // exactly their caller.
  for (const upstream of ['http', 'sse', 'stdio'] as const)
    it(`every scenario passing directly passes with an ${upstream} upstream while other clients call it at the same time`, {
      timeout: 180_000,
    }, async () => {
      // Three other clients keep calling the same upstream with logging and sampling of their own.
      const stop = new AbortController();
      const loaders = await Promise.all(
        ['x', 'y', 'z'].map((who) => startLoader(who, upstream, stop.signal)),
      );
      try {
        const run = await runConformanceDetailed({
          url: `${system.url}/servers/fixture-${upstream}/mcp`,
          token: TEST_ADMIN_KEY,
        });
        const failing = Object.entries(baseline.scenarios)
          .filter(([s, r]) => r === 'pass' && run.results[s] !== 'pass')
          .map(([s]) => s);
        console.info(
          `conformance through an ${upstream} upstream under load: ${JSON.stringify(run.results)}`,
        );
        expect(failing, `scenarios failing under load:\n${describeRun(run)}`).toEqual([]);
      } finally {
        stop.abort();
      }
      for (const l of await Promise.all(loaders.map((l) => l.done))) {
        expect(l.calls, `${l.who} made calls`).toBeGreaterThan(0);
        // Each of its calls got its own three log messages and its own sampling answer, nobody else's.
        expect(l.logs, l.who).toBe(3 * l.loggingCalls);
        expect(l.foreign, l.who).toEqual([]);
      }
    });

  it("keeps each session's log level its own: one client's level never silences another's logs", async () => {
    const open = async (name: string) => {
      const c = new Client({ name, version: '1.0.0' });
      const logs: string[] = [];
      c.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params.level));
      await c.connect(
        new StreamableHTTPClientTransport(new URL(`${system.url}/servers/fixture-stdio/mcp`), {
          requestInit: { headers: adminAuth },
        }),
      );
      return { c, logs };
    };
    const quiet = await open('quiet');
    const chatty = await open('chatty');
    try {
      await quiet.c.setLoggingLevel('error');
      await quiet.c.callTool({ name: 'test_tool_with_logging', arguments: {} });
      await chatty.c.callTool({ name: 'test_tool_with_logging', arguments: {} });
      expect(quiet.logs).toEqual([]);
      expect(chatty.logs).toEqual(['info', 'info', 'info']);
      await quiet.c.setLoggingLevel('info');
      await quiet.c.callTool({ name: 'test_tool_with_logging', arguments: {} });
      expect(quiet.logs).toEqual(['info', 'info', 'info']);
    } finally {
      await quiet.c.close();
      await chatty.c.close();
    }
  });

  /** A client of /servers/fixture-<upstream>/mcp calling tools that log and sample until `signal` aborts. */
  async function startLoader(who: string, upstream: string, signal: AbortSignal) {
    const c = new Client({ name: `load-${who}`, version: '1.0.0' }, { capabilities: { sampling: {} } });
    const state = { who, calls: 0, loggingCalls: 0, logs: 0, foreign: [] as string[] };
    c.setNotificationHandler(LoggingMessageNotificationSchema, () => {
      state.logs++;
    });
    c.setRequestHandler(CreateMessageRequestSchema, async (request) => {
      const prompt = JSON.stringify(request.params.messages);
      if (!prompt.includes(`from ${who}`)) state.foreign.push(prompt);
      return { model: 'm', role: 'assistant', content: { type: 'text', text: `answer for ${who}` } };
    });
    await c.connect(
      new StreamableHTTPClientTransport(new URL(`${system.url}/servers/fixture-${upstream}/mcp`), {
        requestInit: { headers: adminAuth },
      }),
    );
    const done = (async () => {
      while (!signal.aborted) {
        await c.callTool({ name: 'test_tool_with_logging', arguments: {} });
        state.loggingCalls++;
        const r = await c.callTool({ name: 'test_sampling', arguments: { prompt: `from ${who}` } });
        if (!JSON.stringify(r.content).includes(`answer for ${who}`))
          state.foreign.push(JSON.stringify(r.content));
        state.calls += 2;
      }
      await c.close();
      return state;
    })();
    return { done };
  }

  const FIXTURES = ['fixture-stdio', 'fixture-http', 'fixture-sse', 'fixture-stdio-shared', 'fixture-modern'];

  /**
   * Runs `check` with one fixture the only enabled server (with more enabled every name collides
   * and is qualified, as it should be), once the aggregate lists its names unprefixed.
   */
  async function withOnlyFixture(only: string, check: () => Promise<void>): Promise<void> {
    const others = FIXTURES.filter((name) => name !== only);
    for (const name of others) {
      const disable = await fetch(`${system.url}/api/v1/servers/${name}/disable?wait=true`, {
        method: 'POST',
        headers: adminAuth,
      });
      expect(disable.status).toBe(202);
    }
    try {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const res = await fetch(`${system.url}/mcp?prefix=collisions`, {
          method: 'POST',
          headers: {
            ...adminAuth,
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
          },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
        });
        if ((await res.text()).includes('"name":"test_simple_text"')) break;
        if (Date.now() > deadline) throw new Error('the aggregate never listed test_simple_text unprefixed');
        await new Promise((r) => setTimeout(r, 250));
      }
      await check();
    } finally {
      for (const name of others)
        await fetch(`${system.url}/api/v1/servers/${name}/enable?wait=true`, {
          method: 'POST',
          headers: adminAuth,
        });
    }
  }

  /** Runs the suite at `url`; every scenario passing directly must pass. */
  async function mustPassAsDirectly(
    url: string,
    token: string | undefined,
    where: string,
    timeoutMs?: number,
  ): Promise<void> {
    const run = await runConformanceDetailed({
      url,
      ...(token !== undefined && { token }),
      ...(timeoutMs !== undefined && { timeoutMs }),
    });
    const failing = Object.entries(baseline.scenarios)
      .filter(([s, r]) => r === 'pass' && run.results[s] !== 'pass')
      .map(([s]) => s);
    console.info(`conformance through ${where}: ${JSON.stringify(run.results)}`);
    expect(failing, `scenarios passing directly but not through ${where}:\n${describeRun(run)}`).toEqual([]);
  }

  it('every scenario passing directly passes through /mcp, names unprefixed where they do not collide', {
    timeout: 180_000,
  }, async () => {
    await withOnlyFixture('fixture-stdio', () =>
      mustPassAsDirectly(`${system.url}/mcp?prefix=collisions`, TEST_ADMIN_KEY, '/mcp?prefix=collisions'),
    );
  });

  it('every scenario passing directly passes through the stdio bridge (switchyard mcp --url)', {
    timeout: 300_000,
  }, async () => {
    const front = await startBridgeFront(system.url!, TEST_ADMIN_KEY, ['--prefix', 'collisions']);
    try {
      await withOnlyFixture('fixture-stdio', () =>
        // Each request crosses one more process (the bridge, over stdio): on a loaded 2-core
        // machine the suite took over 110 s here, so it gets most of the test's own time.
        mustPassAsDirectly(front.url, undefined, 'the stdio bridge', 270_000),
      );
    } finally {
      await front.close();
    }
  });

  /**
   * The 2026-07-28 requirements against `url`. server-stateless reads streamed tools/calls with
   * deadlines of its own (600 and 500 ms: its checks sep-2575-http-server-no-independent-requests-
   * on-stream and sep-2575-server-no-log-without-loglevel), which a gateway on a loaded 2-core
   * machine missed in one CI run of four. That scenario alone is run once more before it counts as
   * failing; every other check is as strict as before.
   */
  async function run2026(url: string, where: string, token?: string) {
    const auth = token === undefined ? {} : { token };
    const run = await runConformanceDetailed({ url, ...auth, requirements: '2026-07-28' });
    if (run.results['server-stateless'] === 'fail') {
      const again = await runConformanceDetailed({
        url,
        ...auth,
        requirements: '2026-07-28',
        scenario: 'server-stateless',
      });
      console.info(`2026-07-28 server-stateless at ${where}, run again: ${JSON.stringify(again.results)}`);
      run.results['server-stateless'] = again.results['server-stateless'] ?? 'fail';
    }
    return run;
  }

  /**
   * The 2026-07-28 requirements (the stateless revision), run by the tool's pinned pre-release:
   * a 2026-07-28 client in front of a 2025-11-25 upstream, whose questions become input_required
   * rounds. No scenario that passes in
   * baseline-2026-07-28.json may stop passing; docs/conformance.md says what the others need.
   */
  it('2026-07-28 requirements: every scenario of the baseline passes through /servers/<name>/mcp and /mcp', {
    timeout: 300_000,
  }, async () => {
    const expected = JSON.parse(await readFile(BASELINE_2026_FILE, 'utf8')) as Baseline;
    expect(expected.version).toBe((await conformanceTool(NEXT_TOOL_PACKAGE)).version);
    const mustPass = Object.entries(expected.scenarios)
      .filter(([, r]) => r === 'pass')
      .map(([s]) => s);
    const check = async (url: string, where: string) => {
      const run = await run2026(url, where, TEST_ADMIN_KEY);
      console.info(`2026-07-28 through ${where}: ${JSON.stringify(run.results)}`);
      const failing = mustPass.filter((s) => run.results[s] !== 'pass');
      expect(
        failing,
        `2026-07-28 scenarios no longer passing through ${where}:\n${describeRun(run)}`,
      ).toEqual([]);
    };
    await check(`${system.url}/servers/fixture-http/mcp`, '/servers/fixture-http/mcp');
    await check(`${system.url}/servers/fixture-sse/mcp`, '/servers/fixture-sse/mcp');
    // Over stdio: each 2026-07-28 request runs on the shared process while it carries no other
    // call, and on a process of its own when it does.
    await check(`${system.url}/servers/fixture-stdio/mcp`, '/servers/fixture-stdio/mcp');
    // Over HTTP: the suite leaves several requests unanswered after their first round, and their
    // upstream calls stay open (until their idle time), so on a stdio process shared by every
    // caller a later question could be anyone's and is refused (docs/conformance.md).
    await withOnlyFixture('fixture-http', () =>
      check(`${system.url}/mcp?prefix=collisions`, '/mcp?prefix=collisions'),
    );
  });

  /**
   * The same requirements in front of a 2026-07-28 upstream (fixture-modern.ts: the suite's reference
   * server on the SDK's v2 server, whose questions carry keys of its own): it passes every scenario
   * the revision requires directly, and every scenario that passes against it directly passes
   * through /servers/<name>/mcp and through /mcp?prefix=collisions.
   */
  it('2026-07-28 requirements: every scenario passing directly against a 2026-07-28 upstream passes through /servers/<name>/mcp and /mcp', {
    timeout: 300_000,
  }, async () => {
    const direct = await run2026(modern.url, 'the 2026-07-28 fixture directly');
    console.info(`2026-07-28 against a 2026-07-28 upstream, directly: ${JSON.stringify(direct.results)}`);
    const passing = Object.entries(direct.results)
      .filter(([, r]) => r === 'pass')
      .map(([s]) => s);
    // The upstream is reference-grade: it passes every scenario the revision requires, directly.
    const required = await requiredServerScenarios('2026-07-28');
    expect(required.length).toBeGreaterThanOrEqual(37);
    expect(
      required.filter((s) => !passing.includes(s)),
      `required scenarios the 2026-07-28 fixture fails directly:\n${describeRun(direct)}`,
    ).toEqual([]);

    const check = async (url: string, where: string) => {
      const through = await run2026(url, where, TEST_ADMIN_KEY);
      console.info(
        `2026-07-28 against a 2026-07-28 upstream, through ${where}: ${JSON.stringify(through.results)}`,
      );
      const failing = passing.filter((s) => through.results[s] !== 'pass');
      expect(failing, `passing directly but not through ${where}:\n${describeRun(through)}`).toEqual([]);
    };
    await check(`${system.url}/servers/fixture-modern/mcp`, '/servers/fixture-modern/mcp');
    await withOnlyFixture('fixture-modern', () =>
      check(`${system.url}/mcp?prefix=collisions`, '/mcp?prefix=collisions'),
    );
  });
});
