import { describe, expect, it } from 'vitest';
import { StderrLog } from './stderr-log.ts';

const line = (seq: number) => ({
  seq,
  at: new Date(seq * 1000).toISOString(),
  instance: 0,
  pid: 1,
  line: `l${seq}`,
});

describe('StderrLog', () => {
  it('keeps the last `capacity` lines, oldest first, whatever was written', () => {
    const log = new StderrLog(3);
    for (let i = 1; i <= 7; i++) log.push(line(i));
    expect(log.read().map((l) => l.line)).toEqual(['l5', 'l6', 'l7']);
  });

  it('reads after a sequence number, and the last `limit` of those', () => {
    const log = new StderrLog(10);
    for (let i = 1; i <= 6; i++) log.push(line(i));
    expect(log.read(4).map((l) => l.seq)).toEqual([5, 6]);
    expect(log.read(0, 2).map((l) => l.seq)).toEqual([5, 6]);
    expect(log.read(6)).toEqual([]);
  });
});
