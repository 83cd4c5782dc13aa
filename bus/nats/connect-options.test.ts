import { describe, expect, it } from 'vitest';
import { connectOptionsFor } from './nats.bus.ts';

describe('connectOptionsFor', () => {
  it('takes the credentials out of the URL, and gives a user its own reply subjects', () => {
    expect(connectOptionsFor('nats://runner:p4ss%2Fw@nats:4222')).toEqual({
      servers: ['nats://nats:4222'],
      user: 'runner',
      pass: 'p4ss/w',
      inboxPrefix: '_INBOX_runner',
    });
    expect(connectOptionsFor('nats://127.0.0.1:4222')).toEqual({ servers: ['nats://127.0.0.1:4222'] });
    expect(connectOptionsFor('nats://s3cr3t@a:4222, b:4223')).toEqual({
      servers: ['nats://a:4222', 'nats://b:4223'],
      token: 's3cr3t',
    });
  });
});
