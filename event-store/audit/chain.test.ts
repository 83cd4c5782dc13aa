import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type RecordedEvent, toJson } from '../../kernel/envelope.ts';
import { canonicalJson } from './canonical.ts';
import { type ChainHead, type ChainLink, EMPTY_HEAD, eventHash, nextLink, sha256Hex } from './chain.ts';
import {
  type Checkpoint,
  checkpointSignatureValid,
  createCheckpointSigner,
  generateSigningKeyPem,
  parseSigningKey,
} from './signing.ts';
import { verifyChain } from './verify.ts';

const metadata = { correlationId: 'c', causationId: 'k', actor: 'alice', schemaVersion: 1 };
const at = new Date('2026-12-07T04:00:00.123Z');
const ev = (
  position: number,
  stream: string,
  revision: number,
  data: unknown = { n: position },
): RecordedEvent => ({
  id: `00000000-0000-4000-8000-${position.toString().padStart(12, '0')}`,
  type: 'Thing',
  stream,
  revision: BigInt(revision),
  position: BigInt(position),
  data,
  metadata,
  recordedAt: at,
});

/** Seals events as the sealer does: links in order, a checkpoint at the given positions. */
function seal(events: RecordedEvent[], signAt: number[] = []) {
  const signer = createCheckpointSigner(parseSigningKey(generateSigningKeyPem()));
  const links: ChainLink[] = [];
  const checkpoints: Checkpoint[] = [];
  const streams = new Map<string, { streamHash: string }>();
  let head: ChainHead = EMPTY_HEAD;
  for (const e of events) {
    const link = nextLink(head, e, streams.get(e.stream));
    streams.set(e.stream, link);
    links.push(link);
    head = { position: link.position, seq: link.seq, chainHash: link.chainHash };
    if (signAt.includes(Number(e.position)))
      checkpoints.push(
        signer.sign({ position: head.position, seq: head.seq, chainHash: head.chainHash, signedAt: at }),
      );
  }
  return { links, checkpoints, signer, head };
}

/** The items in pages of two: the walk crosses page boundaries. */
async function* each<T>(items: readonly T[]): AsyncGenerator<T[]> {
  for (let i = 0; i < items.length; i += 2) yield items.slice(i, i + 2);
}

const log = () => [ev(10, 'a-1', 0), ev(20, 'b-1', 0), ev(30, 'a-1', 1), ev(40, 'b-1', 1), ev(50, 'a-1', 2)];

async function verify(
  events: RecordedEvent[],
  sealed: ReturnType<typeof seal>,
  opts: { links?: ChainLink[] | false; checkpoints?: Checkpoint[]; through?: bigint } = {},
) {
  return verifyChain({
    events: each(events),
    ...(opts.links !== false && { links: each(opts.links ?? sealed.links) }),
    checkpoints: opts.checkpoints ?? sealed.checkpoints,
    publicKeyPem: sealed.signer.publicKeyPem,
    through: opts.through ?? sealed.head.position,
  });
}

describe('the hash of an event', () => {
  const fixed = {
    id: '0f8fad5b-d9cb-469f-a165-70867728950e',
    type: 'ToolCallSucceeded',
    stream: 'toolcall-7',
    revision: 3n,
    position: 4294967296007n,
    data: {
      tool: 'echo',
      callId: 'c-1',
      result: { content: [{ type: 'text', text: 'héllo "q" \u2028 😀' }], isError: false },
      durationMs: 1.5,
      n: null,
      list: [1, 'b', { z: 1, a: 2 }],
    },
    metadata: { actor: 'principal-1', correlationId: 'x', schemaVersion: 1 },
    recordedAt: new Date('2026-12-08T01:02:03.456Z'),
  };

  it('is what it was when logs were first sealed (a fixed vector: those logs keep verifying)', () => {
    expect(eventHash(fixed)).toBe('767b0bb39ddf0e0e9d120dd6333e135d3fdd1f25f28bbe3938b54ad538728ee4');
    const link = nextLink(EMPTY_HEAD, fixed, undefined);
    expect(link.streamHash).toBe('061203a663bbeaef96fe8b3d93ca5d133d1bc86f529aabacbf6698663930c31e');
    expect(link.chainHash).toBe('314cfb0bc5fd371cf9799e61912562c723d608a1df14f1d812afc2fa4436da07');
  });

  it('is the SHA-256 of the canonical JSON of its envelope, whatever the data (as docs/audit.md defines it)', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.jsonValue(),
        fc.string(),
        fc.bigInt({ min: 0n }),
        (data, metadata, stream, n) => {
          const e = { ...fixed, data, metadata, stream, revision: n, position: n + 1n };
          // The envelope as the API writes an event: what docs/audit.md says is hashed.
          // (metadata: any JSON here, not only what the store writes)
          const envelope = toJson({ ...e, metadata: e.metadata as unknown as RecordedEvent['metadata'] });
          expect(eventHash(e)).toBe(sha256Hex(`sy-event/1\n${canonicalJson(envelope)}`));
        },
      ),
    );
  });
});

describe('canonical JSON', () => {
  it('sorts keys at every depth, writes bigints and dates as strings and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: [{ y: 2n, x: at }], c: undefined, é: 'é' })).toBe(
      '{"a":[{"x":"2026-12-07T04:00:00.123Z","y":"2"}],"b":1,"é":"é"}',
    );
  });

  it('refuses what JSON cannot hold', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/NaN/);
  });

  it('is the plain recursive sort-and-join for any JSON value', () => {
    // The reference: slow and obviously right. The fast path skips sorting keys that come sorted
    // and keeps encoded keys; neither may change a byte. (Built as a string: an object's integer
    // keys would come first in any object the reference rebuilt.)
    const reference = (v: unknown): string =>
      Array.isArray(v)
        ? `[${v.map(reference).join(',')}]`
        : v !== null && typeof v === 'object'
          ? `{${Object.keys(v)
              .sort()
              .map((k) => `${JSON.stringify(k)}:${reference((v as Record<string, unknown>)[k])}`)
              .join(',')}}`
          : JSON.stringify(v);
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(canonicalJson(v)).toBe(reference(v));
      }),
      { numRuns: 500 },
    );
  });
});

describe('event hash', () => {
  it('is the same for the event as the store reads it and as the API writes it, keys in any order', () => {
    const e = ev(10, 'a-1', 0, { z: 1, a: { d: [1, 2], c: 'x' } });
    const reordered = { ...e, data: { a: { c: 'x', d: [1, 2] }, z: 1 } };
    expect(eventHash(toJson(e))).toBe(eventHash(e));
    expect(eventHash(reordered)).toBe(eventHash(e));
  });

  it('changes with any field', () => {
    const e = ev(10, 'a-1', 0);
    const h = eventHash(e);
    expect(eventHash({ ...e, data: { n: 11 } })).not.toBe(h);
    expect(eventHash({ ...e, position: 11n })).not.toBe(h);
    expect(eventHash({ ...e, revision: 1n })).not.toBe(h);
    expect(eventHash({ ...e, metadata: { ...metadata, actor: 'mallory' } })).not.toBe(h);
    expect(eventHash({ ...e, recordedAt: new Date(at.getTime() + 1) })).not.toBe(h);
  });
});

describe('checkpoint signatures', () => {
  it('verify with the signer’s public key only, and not once a field changed', () => {
    const { checkpoints, signer } = seal(log(), [30]);
    const c = checkpoints[0]!;
    expect(checkpointSignatureValid(c, signer.publicKeyPem)).toBe(true);
    expect(checkpointSignatureValid({ ...c, chainHash: '1'.repeat(64) }, signer.publicKeyPem)).toBe(false);
    const other = createCheckpointSigner(parseSigningKey(generateSigningKeyPem()));
    expect(checkpointSignatureValid(c, other.publicKeyPem)).toBe(false);
  });

  it('reads a key from PKCS#8 PEM or from the base64 of its seed, the same key either way', () => {
    const seed = Buffer.alloc(32, 7).toString('base64');
    const fromSeed = createCheckpointSigner(parseSigningKey(seed));
    const pem = parseSigningKey(seed).export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(createCheckpointSigner(parseSigningKey(pem)).keyId).toBe(fromSeed.keyId);
    expect(() => parseSigningKey('not a key')).toThrow(/PKCS#8 PEM, or base64/);
  });
});

describe('verifyChain', () => {
  it('passes an untouched log and says how far it is sealed and proven', async () => {
    const events = log();
    const sealed = seal(events, [30, 50]);
    const r = await verify(events, sealed);
    expect(r).toMatchObject({ ok: true, checked: 5, sealedThrough: 50n });
    expect(r.checkpoints).toEqual({ verified: 2, signaturesChecked: true, lastVerified: 50n });
  });

  it('finds an altered event at its position', async () => {
    const events = log();
    const sealed = seal(events);
    events[2] = { ...events[2]!, data: { n: 999 } };
    expect((await verify(events, sealed)).firstBad).toMatchObject({ position: 30n, code: 'altered' });
  });

  it('finds a removed event at its position', async () => {
    const events = log();
    const sealed = seal(events);
    events.splice(1, 1);
    expect((await verify(events, sealed)).firstBad).toMatchObject({ position: 20n, code: 'removed' });
  });

  it('finds an inserted event below the sealed head', async () => {
    const events = log();
    const sealed = seal(events);
    events.splice(2, 0, ev(25, 'c-1', 0));
    expect((await verify(events, sealed)).firstBad).toMatchObject({ position: 25n, code: 'inserted' });
  });

  it('finds an event removed with its link where the chain skips', async () => {
    const events = log();
    const sealed = seal(events);
    events.splice(1, 1);
    const links = sealed.links.filter((l) => l.position !== 20n);
    expect((await verify(events, sealed, { links })).firstBad).toMatchObject({
      position: 30n,
      code: 'link-missing',
    });
  });

  it('finds a rewritten link', async () => {
    const events = log();
    const sealed = seal(events);
    const links = sealed.links.map((l) => (l.position === 40n ? { ...l, chainHash: '2'.repeat(64) } : l));
    expect((await verify(events, sealed, { links })).firstBad).toMatchObject({
      position: 40n,
      code: 'link-altered',
    });
  });

  it('catches a log and chain rewritten together at the next signed checkpoint, with the range', async () => {
    const events = log();
    const sealed = seal(events, [20, 50]);
    events[2] = { ...events[2]!, data: { n: 999 } };
    const forged = seal(events); // the attacker recomputes the chain, but cannot sign
    const r = await verify(events, sealed, { links: forged.links });
    expect(r.firstBad).toMatchObject({ position: 50n, after: 20n, code: 'checkpoint-mismatch' });
    // Without the chain table (a third party with exported checkpoints): the same answer.
    expect((await verify(events, sealed, { links: false })).firstBad).toMatchObject({
      position: 50n,
      after: 20n,
      code: 'checkpoint-mismatch',
    });
  });

  it('catches a log cut short below a signed checkpoint', async () => {
    const events = log();
    const sealed = seal(events, [50]);
    const r = await verify(events.slice(0, 3), sealed, { links: sealed.links.slice(0, 3), through: 50n });
    expect(r.firstBad).toMatchObject({ position: 50n, code: 'checkpoint-mismatch' });
  });

  it('catches a forged signature', async () => {
    const events = log();
    const sealed = seal(events, [30]);
    const checkpoints = [{ ...sealed.checkpoints[0]!, signature: Buffer.alloc(64).toString('base64') }];
    expect((await verify(events, sealed, { checkpoints })).firstBad).toMatchObject({
      position: 30n,
      code: 'checkpoint-signature',
    });
  });

  it('finds a gap in a stream’s revisions', async () => {
    const events = [ev(10, 'a-1', 0), ev(20, 'a-1', 2)];
    const r = await verify(events, seal([]), { links: false, checkpoints: [], through: 20n });
    expect(r.firstBad).toMatchObject({ position: 20n, code: 'revision-gap' });
  });
});
