import { describe, expect, it } from 'vitest';
import { type ChainHead, EMPTY_HEAD } from './chain.ts';
import { mergeReports, planRanges, splitSeqs } from './parallel-verify.ts';
import type { Checkpoint } from './signing.ts';
import type { VerifyReport } from './verify.ts';

const link = (position: bigint, seq: bigint): ChainHead => ({ position, seq, chainHash: `h${seq}` });
const checkpoint = (position: bigint): Checkpoint => ({
  position,
  seq: position,
  chainHash: 'h',
  signedAt: new Date(0),
  keyId: 'k',
  signature: 's',
});
const report = (checked: number, verified: number, lastVerified?: bigint, bad?: bigint): VerifyReport => ({
  ok: bad === undefined,
  checked,
  sealedThrough: 0n,
  checkpoints: { verified, signaturesChecked: true, lastVerified },
  ...(bad !== undefined && { firstBad: { position: bad, code: 'altered', reason: 'r' } }),
});

describe('parallel verify: ranges', () => {
  it('splits a chain into ranges of at least the minimum, four per thread', () => {
    expect(splitSeqs(100n, 2, 10)).toEqual([13n, 26n, 39n, 52n, 65n, 78n, 91n]);
    expect(splitSeqs(30n, 2, 10)).toEqual([10n, 20n]);
    expect(splitSeqs(5n, 2, 10)).toEqual([]);
    expect(splitSeqs(1_000_000n, 2)).toHaveLength(7);
    expect(splitSeqs(120_000n, 2)).toEqual([50_000n, 100_000n]);
    // However long the log, a range holds at most a million events: a thread's memory is bounded.
    const long = splitSeqs(100_000_000n, 2);
    expect(long).toHaveLength(99);
    expect(long[1]! - long[0]!).toBe(1_000_000n);
  });

  it('each range starts at the stored link where the one before ends, and holds its checkpoints', () => {
    const ranges = planRanges([link(40n, 4n), link(80n, 8n)], 120n, [30n, 40n, 50n, 120n].map(checkpoint));
    expect(ranges.map((r) => [r.from, r.through])).toEqual([
      [EMPTY_HEAD, 40n],
      [link(40n, 4n), 80n],
      [link(80n, 8n), 120n],
    ]);
    expect(ranges.map((r) => r.checkpoints.map((c) => c.position))).toEqual([[30n, 40n], [50n], [120n]]);
    expect(ranges.map((r) => r.lastCheckpointBefore)).toEqual([undefined, 40n, 50n]);
  });

  it('ignores links at or past the end', () => {
    expect(planRanges([link(0n, 0n), link(120n, 12n)], 120n, [])).toHaveLength(1);
  });

  it('merges the reports in order up to the first failure, as one walk would report', () => {
    expect(mergeReports([report(40, 4, 40n), report(40, 4, 80n)], 80n)).toEqual({
      ...report(80, 8, 80n),
      sealedThrough: 80n,
    });
    const failed = mergeReports(
      [report(40, 4, 40n), report(12, 0, undefined, 53n), report(40, 4, 120n)],
      120n,
    );
    expect(failed).toMatchObject({ ok: false, checked: 52, firstBad: { position: 53n } });
    expect(failed.checkpoints).toMatchObject({ verified: 4, lastVerified: 40n });
  });
});
