import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { GATHER_MS, InputFlow, RetryRefused } from './input-flow.ts';
import { InputRounds } from './input-rounds.ts';

/**
 * A flow against the far end of an in-memory link, which plays the session server: it receives the
 * client's request, asks questions, and answers when the test says so.
 */
async function flowWithPeer(owner = 'ada') {
  const [near, far] = InMemoryTransport.createLinkedPair();
  const seen: JSONRPCMessage[] = [];
  far.onmessage = (m) => void seen.push(m);
  await far.start();
  let closed = false;
  const server = {
    close: async () => {
      closed = true;
    },
  } as unknown as Server;
  const flow = new InputFlow(
    { owner, method: 'tools/call', target: 'deploy', requestId: 7, serverInfo: { name: 's', version: '1' } },
    near,
    server,
  );
  await flow.start({ name: 'deploy', arguments: {} });
  return {
    flow,
    seen,
    closed: () => closed,
    ask: (id: number, method: string, params: Record<string, unknown> = {}) =>
      far.send({
        jsonrpc: '2.0',
        id,
        method,
        params: { ...params, _meta: { related: 'x', ...(params._meta as object | undefined) } },
      }),
    finish: (text: string) =>
      far.send({ jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text }] } }),
  };
}

const confirm = { message: 'Deploy?', requestedSchema: { type: 'object', properties: {} } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('an input flow', () => {
  it('gathers questions asked together into one round, keyed by what they are', async () => {
    const peer = await flowWithPeer();
    await peer.ask(1, 'elicitation/create', confirm);
    await peer.ask(2, 'roots/list');
    await peer.ask(3, 'elicitation/create', confirm);
    expect(await peer.flow.next()).toEqual({ kind: 'input' });
    expect(peer.flow.inputRequests()).toEqual({
      elicitation: { method: 'elicitation/create', params: confirm },
      roots: { method: 'roots/list', params: {} },
      elicitation_2: { method: 'elicitation/create', params: confirm },
    });
  });

  it("keeps a 2026-07-28 upstream's own key for its question, when it is one", async () => {
    const peer = await flowWithPeer();
    const named = (key: string) => ({ ...confirm, _meta: { 'dev.switchyard/inputKey': key } });
    await peer.ask(1, 'elicitation/create', named('user_name'));
    await peer.ask(2, 'elicitation/create', named('user_name'));
    await peer.ask(3, 'roots/list', named('no spaces allowed'));
    await peer.ask(4, 'elicitation/create', named('elicitation'));
    await peer.flow.next();
    expect(Object.keys(peer.flow.inputRequests())).toEqual([
      'user_name',
      'elicitation',
      'roots',
      'elicitation_2',
    ]);
    expect(peer.flow.inputRequests().user_name?.params).toEqual(confirm);
  });

  it('answers a question at once with what the client sent before any round, once', async () => {
    const [near, far] = InMemoryTransport.createLinkedPair();
    const seen: JSONRPCMessage[] = [];
    far.onmessage = (m) => void seen.push(m);
    await far.start();
    const flow = new InputFlow(
      {
        owner: 'ada',
        method: 'tools/call',
        target: 't',
        requestId: 7,
        serverInfo: { name: 's', version: '1' },
      },
      near,
      { close: async () => undefined } as unknown as Server,
    );
    await flow.start(
      {},
      { user_name: { action: 'accept', content: { name: 'Ada' } }, roots: { roots: 'bad' } },
    );
    const named = { ...confirm, _meta: { 'dev.switchyard/inputKey': 'user_name' } };
    await far.send({ jsonrpc: '2.0', id: 1, method: 'elicitation/create', params: named });
    await far.send({ jsonrpc: '2.0', id: 2, method: 'roots/list', params: {} });
    await far.send({ jsonrpc: '2.0', id: 3, method: 'elicitation/create', params: named });
    expect(await flow.next()).toEqual({ kind: 'input' });
    expect(seen.filter((m) => 'result' in m)).toEqual([
      { jsonrpc: '2.0', id: 1, result: { action: 'accept', content: { name: 'Ada' } } },
    ]);
    // The wrong-shaped one is asked; the used one is not used again.
    expect(Object.keys(flow.inputRequests())).toEqual(['roots', 'user_name']);
  });

  it('hands answers to the asker by key, ignores keys it never gave, and refuses a wrong shape whole', async () => {
    const peer = await flowWithPeer();
    await peer.ask(1, 'elicitation/create', confirm);
    await peer.ask(2, 'roots/list');
    await peer.flow.next();
    await expect(
      peer.flow.answer({ elicitation: { action: 'accept' }, roots: { roots: 'none' } }),
    ).rejects.toBeInstanceOf(RetryRefused);
    expect(peer.seen.filter((m) => 'result' in m)).toEqual([]);
    await peer.flow.answer({ elicitation: { action: 'decline' }, nobody: { action: 'accept' } });
    expect(peer.seen.filter((m) => 'result' in m)).toEqual([
      { jsonrpc: '2.0', id: 1, result: { action: 'decline' } },
    ]);
    // The question still open is asked again straight away.
    expect(await peer.flow.next()).toEqual({ kind: 'input' });
    expect(Object.keys(peer.flow.inputRequests())).toEqual(['roots']);
  });

  it('refuses what the revision does not embed, and passes the result on', async () => {
    const peer = await flowWithPeer();
    await peer.ask(1, 'tasks/get');
    await peer.finish('done');
    expect(await peer.flow.next()).toMatchObject({ kind: 'answer', message: { id: 7 } });
    expect(peer.seen).toContainEqual(expect.objectContaining({ id: 1, error: expect.anything() }));
  });

  it('cancels the upstream’s call when closed before its result', async () => {
    const peer = await flowWithPeer();
    await peer.flow.close('gone');
    expect(peer.seen).toContainEqual(
      expect.objectContaining({
        method: 'notifications/cancelled',
        params: { requestId: 7, reason: 'gone' },
      }),
    );
    expect(peer.closed()).toBe(true);
  });
});

describe('the rounds a gateway holds', () => {
  const rounds: InputRounds[] = [];
  afterEach(async () => {
    for (const r of rounds.splice(0)) await r.closeAll();
  });
  const held = (limits = { idleMs: 60_000, max: 10, maxPerOwner: 2 }) => {
    const r = new InputRounds('0123456789abcdef', limits);
    rounds.push(r);
    return r;
  };

  it('continues a flow with its latest state only, for its owner and its request', async () => {
    const r = held();
    const { flow } = await flowWithPeer();
    const first = r.hold(flow);
    expect(r.take(first, 'ada', 'tools/call', 'deploy')).toBe(flow);
    const second = r.hold(flow);
    expect(second).not.toBe(first);
    const refused = (state: string, owner = 'ada', target = 'deploy') => {
      expect(() => r.take(state, owner, 'tools/call', target)).toThrow(RetryRefused);
    };
    refused(first);
    refused(`${second}x`);
    refused(second.replace(/^([^.]+)\.[^.]+/, '$1.AAAAAAAAAAAAAAAAAAAAAA'));
    refused(second.replace(/^[^.]+/, 'fedcba9876543210'));
    expect(InputRounds.holderOf(second)).toBe('0123456789abcdef');
    // Only a gateway's id is taken for one: the holder goes into a bus subject.
    expect(InputRounds.holderOf(second.replace(/^[^.]+/, '>'))).toBeUndefined();
    refused(second, 'mallory');
    refused(second, 'ada', 'rm');
    refused('no-dots');
    expect(r.take(second, 'ada', 'tools/call', 'deploy')).toBe(flow);
    // Taken: a second retry of the same round finds nothing.
    refused(second);
  });

  it('puts a refused retry back at the same round', async () => {
    const r = held();
    const { flow } = await flowWithPeer();
    const state = r.hold(flow);
    r.restore(r.take(state, 'ada', 'tools/call', 'deploy'));
    expect(r.take(state, 'ada', 'tools/call', 'deploy')).toBe(flow);
  });

  it('has room for so many flows per owner', async () => {
    const r = held();
    r.hold((await flowWithPeer('ada')).flow);
    expect(r.hasRoom('ada')).toBe(true);
    r.hold((await flowWithPeer('ada')).flow);
    expect(r.hasRoom('ada')).toBe(false);
    expect(r.hasRoom('bob')).toBe(true);
  });

  it('cancels a flow whose client does not come back in time', async () => {
    const r = held({ idleMs: 20, max: 10, maxPerOwner: 2 });
    const peer = await flowWithPeer();
    r.hold(peer.flow);
    await sleep(GATHER_MS + 40);
    expect(r.size).toBe(0);
    expect(peer.closed()).toBe(true);
    expect(peer.seen).toContainEqual(expect.objectContaining({ method: 'notifications/cancelled' }));
  });
});
