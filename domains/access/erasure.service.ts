import type { CommandMeta } from '../../kernel/decider.ts';
import type { Principal } from '../../kernel/principal.ts';
import {
  type AccessServiceDeps,
  type AccessWriteResult,
  invalid,
  visiblePrincipal,
  written,
} from './service-deps.ts';

export interface ErasureDeps extends AccessServiceDeps {
  /** Destroys the principal's data keys (PersonalDataVault.erase); answers how many there were. */
  destroyKeys(principalId: string): Promise<number>;
}

export interface ErasureResult extends AccessWriteResult {
  keysDestroyed: number;
}

/**
 * The right to erasure, without rewriting history: a principal's personal data in the log is sealed
 * with its data keys (kernel/personal-data.ts), so destroying the keys erases it. The log keeps the
 * ciphertext (and its hash chain verifies as before); read models show it as erased once rebuilt.
 */
export function makeErasureService(deps: ErasureDeps) {
  return {
    /**
     * Destroys the principal's data keys, then records PrincipalErased (who asked, when, how many
     * keys went), which also disables the principal for good. Keys first: a request that fails after
     * them has still erased, and asking again records it (destroying nothing more).
     */
    async erasePrincipal(caller: Principal, id: string, meta: CommandMeta): Promise<ErasureResult> {
      const p = visiblePrincipal(deps, caller, id);
      deps.authz.require(caller, 'principal.erase', { kind: 'tenant', tenant: p.tenant });
      if (p.id === caller.id) throw invalid('a principal cannot erase itself');
      const keysDestroyed = await deps.destroyKeys(id);
      const r = await deps.commands.principal(
        {
          type: 'ErasePrincipal',
          data: { principalId: id, keysDestroyed, at: deps.clock.now().toISOString() },
        },
        meta,
      );
      return { ...(await written(deps, id, r)), keysDestroyed };
    },
  };
}

export type ErasureService = ReturnType<typeof makeErasureService>;
