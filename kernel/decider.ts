/**
 * The Decider pattern (Chassaing): a domain is `decide(command, state) -> events` and
 * `evolve(state, event) -> state`, both pure. Time and ids arrive inside the command.
 */
export interface DomainEvent<T extends string = string, D = unknown> {
  type: T;
  data: D;
}

export interface Decider<C, E extends DomainEvent, S> {
  initialState: S;
  /** Throws an AppError when the command is not allowed in this state. */
  decide(command: C, state: S): E[];
  /** Never validates; ignores events it does not care about. */
  evolve(state: S, event: E): S;
}

/** Who, why and when: travels with every command and becomes event metadata. */
export interface CommandMeta {
  /** Unique per command; a retried command reuses it, and so appends nothing new. */
  commandId: string;
  /** The authenticated principal's id (or `system:<component>`); never taken from a header. */
  actor: string;
  /** The actor's tenant; what the command creates belongs to it. */
  tenant?: string | undefined;
  /** How the actor authenticated (`api-key:<keyId>`, `oidc:<issuer>#<token id>`): an id, never a secret. */
  credential?: string | undefined;
  correlationId: string;
  traceparent?: string | undefined;
  issuedAt: Date;
  /**
   * The stream revision the caller last saw (HTTP If-Match): the command is refused with
   * COMMAND.PRECONDITION_FAILED if the stream is at any other revision (-1n: it must not exist).
   */
  ifRevision?: bigint | undefined;
}

export function fold<C, E extends DomainEvent, S>(decider: Decider<C, E, S>, events: readonly E[]): S {
  return events.reduce((s, e) => decider.evolve(s, e), decider.initialState);
}

/**
 * given / when / then for decider specs:
 * `spec(decider).given([e1]).when(cmd).thenEmits([e2])` or `.thenThrows('SERVER.NAME_TAKEN')`.
 */
export function spec<C, E extends DomainEvent, S>(decider: Decider<C, E, S>) {
  return {
    given(events: readonly E[]) {
      return {
        when(command: C) {
          const run = () => decider.decide(command, fold(decider, events));
          return {
            thenEmits(expected: readonly E[]): void {
              const actual = run();
              assertDeepEqual(actual, expected);
            },
            thenThrows(code: string): void {
              let thrown: unknown;
              try {
                run();
              } catch (e) {
                thrown = e;
              }
              const actualCode = (thrown as { code?: string } | undefined)?.code;
              if (actualCode !== code) {
                throw new Error(
                  `expected error ${code}, got ${thrown ? String(actualCode ?? thrown) : 'no error'}`,
                );
              }
            },
            events: run,
          };
        },
      };
    },
  };
}

function assertDeepEqual(actual: unknown, expected: unknown): void {
  const a = JSON.stringify(actual);
  const b = JSON.stringify(expected);
  if (a !== b) throw new Error(`events differ\n  expected: ${b}\n  actual:   ${a}`);
}
