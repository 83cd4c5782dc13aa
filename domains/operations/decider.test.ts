import { describe, expect, it } from 'vitest';
import { spec } from '../../kernel/decider.ts';
import { EventTypeRegistry } from '../../kernel/event-types.ts';
import type { OperationCommand } from './commands.ts';
import { QuarantineProjectionEventInput } from './commands.ts';
import { operationDecider } from './decider.ts';
import type { OperationEvent } from './events.ts';
import { registerOperationEvents } from './events.ts';

const poison = '6f1c2a43-5d7e-4b8f-9a0b-1c2d3e4f5a6b';
const other = '0b7e9a51-2c3d-4e5f-8a9b-0c1d2e3f4a5b';
const at = new Date('2026-03-04T05:06:07.000Z');

const quarantine = (eventId = poison, error: string | null = 'cannot digest'): OperationCommand => ({
  type: 'QuarantineProjectionEvent',
  data: {
    projection: 'servers',
    eventId,
    position: 42n,
    eventType: 'ServerUpdated',
    stream: 'server-1',
    reason: 'a malformed update from the 2026-03 import',
    error,
    at,
  },
});
const quarantined = (eventId = poison, error: string | null = 'cannot digest'): OperationEvent => ({
  type: 'ProjectionEventQuarantined',
  data: {
    projection: 'servers',
    eventId,
    position: '42',
    eventType: 'ServerUpdated',
    stream: 'server-1',
    reason: 'a malformed update from the 2026-03 import',
    error,
    quarantinedAt: at.toISOString(),
  },
});
const release = (eventId = poison): OperationCommand => ({
  type: 'ReleaseProjectionEvent',
  data: { projection: 'servers', eventId, reason: 'the projection handles it now', at },
});
const released = (eventId = poison): OperationEvent => ({
  type: 'ProjectionEventReleased',
  data: {
    projection: 'servers',
    eventId,
    reason: 'the projection handles it now',
    releasedAt: at.toISOString(),
  },
});

const given = spec(operationDecider).given;

describe('QuarantineProjectionEvent', () => {
  it('records the decision with where the event is and what the projection failed with', () => {
    given([]).when(quarantine()).thenEmits([quarantined()]);
  });
  it('an event already quarantined records nothing more', () => {
    given([quarantined()]).when(quarantine(poison, null)).thenEmits([]);
  });
  it('other events are decided on their own', () => {
    given([quarantined()])
      .when(quarantine(other, null))
      .thenEmits([quarantined(other, null)]);
  });
  it('an event released may be quarantined again', () => {
    given([quarantined(), released()]).when(quarantine()).thenEmits([quarantined()]);
  });
});

describe('ReleaseProjectionEvent', () => {
  it('lifts a quarantine', () => {
    given([quarantined()]).when(release()).thenEmits([released()]);
  });
  it('releasing an event that is not quarantined is refused', () => {
    given([]).when(release()).thenThrows('PROJECTION.NOT_QUARANTINED');
    given([quarantined(), released()]).when(release()).thenThrows('PROJECTION.NOT_QUARANTINED');
  });
});

describe('inputs and events', () => {
  it('a reason is required, at most 500 characters, and ids are normalised to lower case', () => {
    const base = {
      projection: 'servers',
      eventId: poison.toUpperCase(),
      position: 1n,
      eventType: 'X',
      stream: 's-1',
    };
    expect(QuarantineProjectionEventInput.safeParse({ ...base, reason: ' ' }).success).toBe(false);
    expect(QuarantineProjectionEventInput.safeParse({ ...base, reason: 'x'.repeat(501) }).success).toBe(
      false,
    );
    const ok = QuarantineProjectionEventInput.parse({ ...base, reason: 'why' });
    expect(ok).toMatchObject({ eventId: poison, error: null });
  });
  it('every event the decider produces passes its schema', () => {
    const registry = registerOperationEvents(new EventTypeRegistry());
    const produced = [
      ...given([]).when(quarantine()).events(),
      ...given([quarantined()]).when(release()).events(),
    ];
    expect(produced).toHaveLength(2);
    for (const e of produced) expect(() => registry.validate(e.type, e.data)).not.toThrow();
  });
});
