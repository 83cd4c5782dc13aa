import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { GATEWAY_ID } from '../shared-sessions/session-transport.ts';
import { type InputFlow, RetryRefused } from './input-flow.ts';

/**
 * The 2026-07-28 requests this gateway holds between their rounds (input-flow.ts says what a round
 * is), and the state a client echoes to continue one.
 */

/** Limits of the flows one gateway holds between rounds. */
export interface RoundLimits {
  /** A flow whose client does not come back within this is cancelled. */
  idleMs: number;
  max: number;
  maxPerOwner: number;
}

export const DEFAULT_ROUND_LIMITS: RoundLimits = { idleMs: 5 * 60_000, max: 1024, maxPerOwner: 64 };

/**
 * The flows this gateway holds while their clients answer, by the state it gave them. A state is
 * `<gateway id>.<flow id>.<round>.<seal>`: the gateway holding the flow (where another gateway
 * sends the retry), and only the latest round's state continues a flow.
 */
export class InputRounds {
  private readonly key = randomBytes(32);
  private readonly flows = new Map<string, { flow: InputFlow; idle: NodeJS.Timeout }>();

  constructor(
    readonly gatewayId: string = randomBytes(8).toString('hex'),
    private readonly limits: RoundLimits = DEFAULT_ROUND_LIMITS,
  ) {}

  /** How long a flow may wait for its client (also how long a question to the client may wait). */
  get idleMs(): number {
    return this.limits.idleMs;
  }

  /** The gateway a state says holds its flow (unverified: only that gateway can check the seal). */
  static holderOf(state: string): string | undefined {
    const parts = state.split('.');
    // A gateway's id as newGatewayId makes it: it goes into a bus subject, so nothing else does.
    return parts.length === 4 && GATEWAY_ID.test(parts[0] as string) ? parts[0] : undefined;
  }

  /** Whether another flow of this owner may wait for its client. */
  hasRoom(owner: string): boolean {
    if (this.flows.size >= this.limits.max) return false;
    let mine = 0;
    for (const { flow } of this.flows.values()) if (flow.owner === owner) mine += 1;
    return mine < this.limits.maxPerOwner;
  }

  /** Holds a flow until its client's next round (or its idle time), and gives the state for it. */
  hold(flow: InputFlow): string {
    flow.round += 1;
    const idle = setTimeout(() => {
      this.flows.delete(flow.id);
      void flow.close('the client did not answer in time');
    }, this.limits.idleMs);
    idle.unref();
    this.flows.set(flow.id, { flow, idle });
    const body = `${this.gatewayId}.${flow.id}.${flow.round}`;
    return `${body}.${this.seal(body)}`;
  }

  /**
   * The flow a retry continues, taken out of waiting: its state must carry this gateway's seal and
   * the flow's latest round, and the retry must come from the flow's owner about the same thing.
   */
  take(state: string, owner: string, method: string, target: string): InputFlow {
    const [gateway, id, round, mac, ...rest] = state.split('.');
    if (rest.length > 0 || mac === undefined || !this.sealed(`${gateway}.${id}.${round}`, mac))
      throw new RetryRefused('requestState failed its integrity check');
    const held = this.flows.get(id as string);
    // Taken out while a retry is served, so a second retry at the same time finds nothing either.
    if (!held)
      throw new RetryRefused(
        'requestState continues no request waiting for answers (it finished, was not answered in time, is being continued, or its gateway restarted): send the request again without it',
      );
    const { flow } = held;
    if (String(flow.round) !== round) throw new RetryRefused('requestState is of an earlier round');
    if (flow.owner !== owner || flow.method !== method || flow.target !== target)
      throw new RetryRefused('requestState belongs to another request');
    clearTimeout(held.idle);
    this.flows.delete(flow.id);
    return flow;
  }

  /** Puts back a flow whose retry was refused, at the same round: the client may send it again. */
  restore(flow: InputFlow): void {
    flow.round -= 1;
    this.hold(flow);
  }

  get size(): number {
    return this.flows.size;
  }

  /** Cancels every waiting flow (the gateway is stopping). */
  async closeAll(): Promise<void> {
    const all = [...this.flows.values()];
    this.flows.clear();
    await Promise.all(
      all.map(({ flow, idle }) => {
        clearTimeout(idle);
        return flow.close('the gateway is stopping');
      }),
    );
  }

  private seal(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }

  private sealed(body: string, mac: string): boolean {
    const want = Buffer.from(this.seal(body));
    const got = Buffer.from(mac);
    return got.length === want.length && timingSafeEqual(got, want);
  }
}
