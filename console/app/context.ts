import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Api } from './api.ts';

/** The signed-in principal as /api/v1/me answers. */
export interface Me {
  id: string;
  name: string;
  kind: string;
  tenant: string;
  roles: string[];
  scopes: string[] | null;
  permissions: string[];
}

export interface Session {
  api: Api;
  me: Me;
  signOut: () => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in console');
  return session;
}

/** Whether the principal holds a permission (what the UI offers; the API decides). */
export const holds = (me: Me, permission: string) => me.permissions.includes(permission);
