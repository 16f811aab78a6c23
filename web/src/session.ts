// Who is signed in: GET /api/v1/me, kept for the page's lifetime.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Schemas } from './api/client';

export type Me = Schemas['Me'];

export interface Session {
  me: Me;
  /** The institution id used in /api/v1/institutions/{institution}/… paths. */
  institution: string;
  reload: () => Promise<void>;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in page');
  return s;
}
